"""Canonical Huffman coding of symbol streams (the v and z streams, alphabet 0..15), with a
self-describing stream format, an exact bit count and a validating decoder.

Our own code, not dahuffman: it adds an end-of-file symbol to the tree (other code lengths and
sizes), builds non-canonical codes and decodes truncated or corrupt streams without an error.

Stream format (bytes): ``b"HUF1"``, alphabet size A (1 byte), A code lengths (1 byte each),
symbol count (uint32 LE), payload bit count (uint32 LE), payload (MSB first, zero-padded to a
byte). The size accounted for a stream is the payload bits plus 4 bits per code length (the
table), as code lengths of a 16-symbol alphabet are at most 15.
"""

from __future__ import annotations

import heapq
import struct

import numpy as np

MAGIC = b"HUF1"
TABLE_BITS_PER_SYMBOL = 4


class HuffmanError(ValueError):
    """A truncated or corrupt stream; the message names the stream."""


def code_lengths(freqs: np.ndarray) -> np.ndarray:
    """Huffman code length of every symbol (0 for symbols that never occur; 1 for a lone one).
    Ties are broken by symbol so the result is deterministic."""
    freqs = np.asarray(freqs, dtype=np.int64)
    used = np.nonzero(freqs)[0]
    lengths = np.zeros(len(freqs), dtype=np.int64)
    if len(used) == 1:
        lengths[used] = 1
    if len(used) <= 1:
        return lengths
    heap = [(int(freqs[s]), int(s), [int(s)]) for s in used]
    heapq.heapify(heap)
    while len(heap) > 1:
        fa, ka, sa = heapq.heappop(heap)
        fb, kb, sb = heapq.heappop(heap)
        lengths[sa + sb] += 1
        heapq.heappush(heap, (fa + fb, min(ka, kb), sa + sb))
    return lengths


def canonical_codes(lengths: np.ndarray) -> dict[int, tuple[int, int]]:
    """symbol -> (code, length) of the canonical code: by length, then by symbol."""
    codes, code, prev = {}, 0, 0
    for length, sym in sorted((int(l), s) for s, l in enumerate(lengths) if l > 0):
        code <<= length - prev
        codes[sym] = (code, length)
        code += 1
        prev = length
    return codes


def encode(symbols: np.ndarray, lengths: np.ndarray) -> tuple[bytes, int]:
    """(payload, bit count) of ``symbols`` under the canonical code of ``lengths``."""
    codes = canonical_codes(lengths)
    try:
        bits = "".join(f"{codes[int(s)][0]:0{codes[int(s)][1]}b}" for s in symbols)
    except KeyError as e:
        raise ValueError(f"symbol {e.args[0]} has no code") from None
    n = len(bits)
    padded = bits + "0" * (-n % 8)
    return (int(padded, 2).to_bytes(len(padded) // 8, "big") if n else b""), n


def decode(payload: bytes, n_bits: int, n_symbols: int, lengths: np.ndarray,
           name: str = "stream") -> np.ndarray:
    """Inverse of :func:`encode`; HuffmanError naming ``name`` when the bits run out, a code is
    invalid, or bits are left over."""
    if n_bits > 8 * len(payload):
        raise HuffmanError(f"{name}: truncated: {n_bits} bits announced, {8 * len(payload)} present")
    table = {(length, code): sym for sym, (code, length) in canonical_codes(lengths).items()}
    max_len = max((l for l, _ in table), default=0)
    bits = bin(int.from_bytes(payload, "big"))[2:].zfill(8 * len(payload))[:n_bits] if payload else ""
    out = np.empty(n_symbols, dtype=np.int64)
    pos = 0
    for i in range(n_symbols):
        code, length = 0, 0
        while (length, code) not in table:
            if length >= max_len:
                raise HuffmanError(f"{name}: corrupt: no code matches at bit {pos - length}")
            if pos >= n_bits:
                raise HuffmanError(f"{name}: truncated: bits run out at symbol {i} of {n_symbols}")
            code = (code << 1) | (bits[pos] == "1")
            length += 1
            pos += 1
        out[i] = table[(length, code)]
    if pos != n_bits:
        raise HuffmanError(f"{name}: corrupt: {n_bits - pos} bits left after {n_symbols} symbols")
    return out


def stream_bits(symbols: np.ndarray, alphabet: int = 16) -> int:
    """Exact bits of a stream as accounted: payload plus the code-length table."""
    lengths = code_lengths(np.bincount(np.asarray(symbols, dtype=np.int64), minlength=alphabet))
    return int((lengths * np.bincount(np.asarray(symbols, dtype=np.int64), minlength=alphabet)).sum()) \
        + TABLE_BITS_PER_SYMBOL * alphabet


def pack(symbols: np.ndarray, alphabet: int = 16) -> bytes:
    """A self-describing stream of ``symbols`` (values in 0..alphabet-1)."""
    symbols = np.asarray(symbols, dtype=np.int64)
    if len(symbols) and (symbols.min() < 0 or symbols.max() >= alphabet):
        raise ValueError(f"symbols must be in 0..{alphabet - 1}")
    lengths = code_lengths(np.bincount(symbols, minlength=alphabet))
    payload, n_bits = encode(symbols, lengths)
    return MAGIC + bytes([alphabet]) + bytes(lengths.tolist()) \
        + struct.pack("<II", len(symbols), n_bits) + payload


def unpack(data: bytes, name: str = "stream") -> np.ndarray:
    """Inverse of :func:`pack`; HuffmanError naming ``name`` on a truncated or corrupt stream."""
    if len(data) < 5 or data[:4] != MAGIC:
        raise HuffmanError(f"{name}: not a Huffman stream (bad magic)")
    a = data[4]
    head = 5 + a + 8
    if len(data) < head:
        raise HuffmanError(f"{name}: truncated header ({len(data)} of {head} bytes)")
    lengths = np.frombuffer(data[5:5 + a], dtype=np.uint8).astype(np.int64)
    kraft = sum(2.0 ** -int(l) for l in lengths if l)
    if lengths.max(initial=0) > 32 or kraft > 1.0:
        raise HuffmanError(f"{name}: corrupt code-length table")
    n_sym, n_bits = struct.unpack("<II", data[5 + a: head])
    payload = data[head:]
    if len(payload) != -(-n_bits // 8):
        raise HuffmanError(f"{name}: truncated or padded payload: {len(payload)} bytes for "
                           f"{n_bits} bits")
    return decode(payload, n_bits, n_sym, lengths, name)
