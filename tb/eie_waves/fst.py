"""Signal names of an FST dump (GTKWave's Fast Signal Trace format), in pure Python.

No FST reader can be installed from PyPI here (pylibfst/pyfst are not in requirements.txt) and
gtkwave's ``fst2vcd`` only comes with ``scripts/bootstrap.sh gtkwave``; the names need only the
hierarchy block, which is small to decode: block type 4 (gzip, Icarus), 6 (LZ4, Verilator) or
7 (LZ4 twice, for hierarchies over 4 MB). The block layout and the hierarchy tags follow
gtkwave's fstapi.c.

    python -m tb.eie_waves.fst <file.fst>     # prints one full signal name a line
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

BL_HIER, BL_HIER_LZ4, BL_HIER_LZ4DUO, BL_SKIP = 4, 6, 7, 255
ST_SCOPE, ST_UPSCOPE, ST_ATTRBEGIN, ST_ATTREND = 254, 255, 252, 253
VT_MAX = 29


def lz4_block(src: bytes, out_len: int) -> bytes:
    """Decode one raw LZ4 block (no frame)."""
    dst = bytearray()
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        dst += src[i: i + lit]
        i += lit
        if i >= n:
            break
        off = src[i] | (src[i + 1] << 8)
        i += 2
        ml = token & 15
        if ml == 15:
            while True:
                b = src[i]
                i += 1
                ml += b
                if b != 255:
                    break
        ml += 4
        start = len(dst) - off
        if off <= 0 or start < 0:
            raise ValueError("corrupt LZ4 block")
        if off >= ml:
            dst += dst[start: start + ml]
        else:
            for j in range(ml):
                dst.append(dst[start + j])
    if len(dst) != out_len:
        raise ValueError(f"LZ4 block: {len(dst)} bytes, expected {out_len}")
    return bytes(dst)


def _varint(b: bytes, i: int) -> tuple[int, int]:
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def _cstr(b: bytes, i: int) -> tuple[str, int]:
    j = b.index(0, i)
    return b[i:j].decode("latin-1"), j + 1


def hierarchy_bytes(path: str | Path) -> bytes:
    data = Path(path).read_bytes()
    pos = 0
    while pos + 9 <= len(data):
        typ = data[pos]
        seclen = struct.unpack(">Q", data[pos + 1: pos + 9])[0]
        body = data[pos + 9: pos + 1 + seclen]
        if typ in (BL_HIER, BL_HIER_LZ4, BL_HIER_LZ4DUO):
            ulen = struct.unpack(">Q", body[:8])[0]
            if typ == BL_HIER:
                return zlib.decompress(body[8:], 16 + zlib.MAX_WBITS)
            if typ == BL_HIER_LZ4:
                return lz4_block(body[8:], ulen)
            mid, i = _varint(body, 8)
            return lz4_block(lz4_block(body[i:], mid), ulen)
        if seclen == 0:
            break
        pos += 1 + seclen
    raise ValueError(f"{path}: no hierarchy block (is the dump complete?)")


def signals(path: str | Path) -> dict[str, int]:
    """Every variable of the dump: full dotted name (scopes joined with '.', as GTKWave shows
    them) -> width in bits."""
    h = hierarchy_bytes(path)
    scopes: list[str] = []
    out: dict[str, int] = {}
    i = 0
    while i < len(h):
        tag = h[i]
        i += 1
        if tag == ST_SCOPE:
            i += 1                                  # scope type
            name, i = _cstr(h, i)
            _, i = _cstr(h, i)                      # component
            scopes.append(name)
        elif tag == ST_UPSCOPE:
            scopes.pop()
        elif tag == ST_ATTRBEGIN:
            i += 2
            _, i = _cstr(h, i)
            _, i = _varint(h, i)
        elif tag == ST_ATTREND:
            pass
        elif tag <= VT_MAX:
            i += 1                                  # direction
            name, i = _cstr(h, i)
            length, i = _varint(h, i)
            _, i = _varint(h, i)                    # alias
            out[".".join(scopes + [name.replace(" ", "")])] = length
        else:
            raise ValueError(f"{path}: unknown hierarchy tag {tag} at byte {i - 1}")
    return out


def base_name(name: str) -> str:
    """A signal name without a trailing bit range: ``a.b[15:0]`` -> ``a.b``."""
    if name.endswith("]") and "[" in name:
        head, rng = name.rsplit("[", 1)
        if ":" in rng:
            return head
    return name


if __name__ == "__main__":
    for n, w in signals(sys.argv[1]).items():
        print(n if w == 1 else f"{n} ({w} bits)")
