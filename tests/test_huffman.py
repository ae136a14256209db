"""Canonical Huffman: round trips, optimality, exact sizes, truncated and corrupt streams."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from models import huffman


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 15), max_size=400))
def test_round_trip_property(symbols):
    s = np.array(symbols, dtype=np.int64)
    back = huffman.unpack(huffman.pack(s), "s")
    assert back.tolist() == symbols
    lengths = huffman.code_lengths(np.bincount(s, minlength=16))
    assert sum(2.0 ** -int(l) for l in lengths if l) <= 1.0  # prefix code (Kraft)
    _, n_bits = huffman.encode(s, lengths)
    assert huffman.stream_bits(s) == n_bits + 64


def test_known_lengths_and_canonical_codes():
    lengths = huffman.code_lengths(np.array([45, 13, 12, 16, 9, 5]))  # CLRS example
    assert lengths.tolist() == [1, 3, 3, 3, 4, 4]
    codes = huffman.canonical_codes(lengths)
    assert codes[0] == (0b0, 1) and codes[1] == (0b100, 3) and codes[4] == (0b1110, 4) and codes[5] == (0b1111, 4)
    assert huffman.code_lengths(np.array([0, 7, 0])).tolist() == [0, 1, 0]


def test_ties_broken_by_symbol_and_format_stable():
    """Equal frequencies are ordered by symbol, so a stream always packs to the same bytes:
    lengths 1, 3, 3, 2 give the canonical codes 0, 110, 111, 10."""
    assert huffman.code_lengths(np.array([1, 1, 1])).tolist() == [2, 2, 1]
    s = np.array([0, 0, 0, 1, 2, 3, 3])
    assert huffman.pack(s) == b"HUF1" + bytes([16, 1, 3, 3, 2] + [0] * 12) \
        + struct.pack("<II", 7, 13) + bytes([0b0001_1011, 0b1101_0000])


def test_entropy_bound(rng):
    s = rng.choice(16, 5000, p=np.r_[0.4, np.full(15, 0.04)])
    p = np.bincount(s, minlength=16) / len(s)
    h = -(p[p > 0] * np.log2(p[p > 0])).sum()
    lengths = huffman.code_lengths(np.bincount(s, minlength=16))
    avg = (lengths * np.bincount(s, minlength=16)).sum() / len(s)
    assert h <= avg < h + 1


@pytest.mark.parametrize("cut,match", [(3, r"not a Huffman stream \(bad magic\)"), (10, "truncated header"),
                                       (-1, "truncated or padded payload")])
def test_truncated(cut, match):
    data = huffman.pack(np.arange(16).repeat(5))
    with pytest.raises(huffman.HuffmanError, match=f"v.huf: {match}"):
        huffman.unpack(data[:cut], "v.huf")


def test_corrupt():
    s = np.array([0, 0, 0, 1, 2])  # lengths 1, 2, 2: every bit pattern decodes
    data = bytearray(huffman.pack(s))
    data[-1] ^= 0x01  # a padding bit: decodes, but not with the announced bit count
    assert huffman.unpack(bytes(data), "x").tolist() == s.tolist()
    bad_len = bytearray(huffman.pack(s))
    bad_len[5:8] = bytes([1, 1, 1])  # three codes of length 1: not a prefix code
    with pytest.raises(huffman.HuffmanError, match="z.huf: corrupt code-length table"):
        huffman.unpack(bytes(bad_len), "z.huf")
    incomplete = np.array([3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])  # codes 000, 001 only
    payload = bytes([0b11100000])
    with pytest.raises(huffman.HuffmanError, match="corrupt: no code matches"):
        huffman.decode(payload, 3, 1, incomplete, "x")
    with pytest.raises(huffman.HuffmanError, match="bits run out"):
        huffman.decode(bytes([0]), 6, 3, incomplete, "x")
    with pytest.raises(huffman.HuffmanError, match="bits left"):
        huffman.decode(bytes([0]), 8, 2, incomplete, "x")
