"""Compressed sparse column per PE, exactly as EIE stores it (docs/FORMATS.md).

A layer's matrix of 4-bit codebook indices (0 = zero weight) is split over N PEs by rows; each PE
keeps, per column, its non-zero entries as (v, z): v the codebook index, z the number of zero
local rows skipped since the previous entry of the column (or since local row 0). A gap of more
than 15 inserts a padding entry (v = 0, z = 15) standing on the 16th zero row. ``ptr`` holds the
column pointers (``ptr[0] = 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_PES = 64
V_BITS = 4
Z_MAX = (1 << V_BITS) - 1  # 15
ENTRIES_PER_WORD = 8


def interleaved(n_rows: int, n_pes: int) -> np.ndarray:
    """The default row assignment: row r goes to PE ``r % n_pes``."""
    _check_pes(n_pes)
    return np.arange(n_rows, dtype=np.int64) % n_pes


def _check_pes(n_pes: int) -> None:
    if not 1 <= int(n_pes) <= MAX_PES:
        raise ValueError(f"n_pes must be in 1..{MAX_PES}, got {n_pes}")


@dataclass
class PECSC:
    """The CSC of one PE: entries (v, z), column pointers, and its rows in local order."""

    v: np.ndarray  # uint8 codebook index per entry, 0 = padding
    z: np.ndarray  # uint8 zero rows skipped before the entry
    ptr: np.ndarray  # int64, n_cols + 1, ptr[0] = 0
    rows: np.ndarray  # int64 global row index of each local row

    @property
    def n_entries(self) -> int:
        """Entries including padding."""
        return int(len(self.v))

    @property
    def n_padding(self) -> int:
        """Padding entries (v = 0)."""
        return int(np.count_nonzero(self.v == 0))

    def col_counts(self) -> np.ndarray:
        """Entries (padding included) of every column."""
        return np.diff(self.ptr)


@dataclass
class CSCLayer:
    """A layer's index matrix split over ``n_pes`` PEs."""

    n_rows: int
    n_cols: int
    n_pes: int
    pe_of_row: np.ndarray
    local_of_row: np.ndarray
    pes: list[PECSC]

    @property
    def n_entries(self) -> int:
        """Entries of all PEs, padding included."""
        return sum(p.n_entries for p in self.pes)

    @property
    def n_padding(self) -> int:
        """Padding entries of all PEs."""
        return sum(p.n_padding for p in self.pes)

    @property
    def n_nonzero(self) -> int:
        """Real (non-padding) entries: the non-zero weights."""
        return self.n_entries - self.n_padding

    @property
    def rows_per_pe(self) -> list[int]:
        """Number of local rows of every PE."""
        return [len(p.rows) for p in self.pes]

    @property
    def n_slots(self) -> int:
        """Activation slots of this layer's output: ``N * max_k rows of PE k``."""
        return self.n_pes * max(self.rows_per_pe, default=0)

    def slot_of_row(self) -> np.ndarray:
        """Slot of every output row: ``local * N + pe``."""
        return self.local_of_row * self.n_pes + self.pe_of_row

    def col_counts(self) -> np.ndarray:
        """(n_pes, n_cols) entries per PE and column, padding included."""
        return np.stack([p.col_counts() for p in self.pes])


def assignment(n_rows: int, n_pes: int, pe_of_row: np.ndarray | None = None,
               local_of_row: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate (pe, local) of every row; defaults: interleaved PEs, local rows of a PE in
    increasing global row order. Raises ValueError on a bad assignment."""
    _check_pes(n_pes)
    pe = interleaved(n_rows, n_pes) if pe_of_row is None else np.asarray(pe_of_row, dtype=np.int64)
    if pe.shape != (n_rows,):
        raise ValueError(f"pe_of_row has shape {pe.shape}, expected ({n_rows},)")
    if n_rows and (pe.min() < 0 or pe.max() >= n_pes):
        raise ValueError(f"pe_of_row has values outside 0..{n_pes - 1}")
    if local_of_row is None:
        order = np.lexsort((np.arange(n_rows), pe))  # by PE, then by global row
        counts = np.bincount(pe, minlength=n_pes)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        local = np.empty(n_rows, dtype=np.int64)
        local[order] = np.arange(n_rows) - np.repeat(starts, counts)
        return pe, local
    local = np.asarray(local_of_row, dtype=np.int64)
    if local.shape != (n_rows,):
        raise ValueError(f"local_of_row has shape {local.shape}, expected ({n_rows},)")
    for k in range(n_pes):
        got = np.sort(local[pe == k])
        if not np.array_equal(got, np.arange(len(got))):
            raise ValueError(f"local_of_row of PE {k} is not a permutation of 0..{len(got) - 1}")
    return pe, local


def _encode_pe(sub: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(v, z, ptr) of a (local rows, cols) index matrix."""
    n_cols = sub.shape[1]
    cols, rows = np.nonzero(sub.T)  # column-major: by column, then local row
    vals = sub[rows, cols]
    first = np.ones(len(cols), dtype=bool)
    first[1:] = cols[1:] != cols[:-1]
    prev = np.where(first, -1, np.concatenate([[-1], rows[:-1]]))
    gap = rows - prev - 1
    n_pad = gap // (Z_MAX + 1)
    per_entry = n_pad + 1
    total = int(per_entry.sum())
    pos = np.cumsum(per_entry) - 1
    v = np.zeros(total, dtype=np.uint8)
    z = np.full(total, Z_MAX, dtype=np.uint8)
    v[pos] = vals
    z[pos] = gap % (Z_MAX + 1)
    counts = np.bincount(cols, weights=per_entry, minlength=n_cols).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return v, z, ptr


def encode(codes: np.ndarray, n_pes: int, pe_of_row: np.ndarray | None = None,
           local_of_row: np.ndarray | None = None) -> CSCLayer:
    """Encode an (n_rows, n_cols) matrix of codes 0..15 (0 = zero weight) for ``n_pes`` PEs."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be 2-D, got shape {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() > Z_MAX):
        raise ValueError(f"codes must be in 0..{Z_MAX}, got {codes.min()}..{codes.max()}")
    n_rows, n_cols = codes.shape
    pe, local = assignment(n_rows, n_pes, pe_of_row, local_of_row)
    pes = []
    for k in range(n_pes):
        mine = np.nonzero(pe == k)[0]
        rows = mine[np.argsort(local[mine])]
        v, z, ptr = _encode_pe(codes[rows].astype(np.int64))
        pes.append(PECSC(v=v, z=z, ptr=ptr, rows=rows.astype(np.int64)))
    return CSCLayer(n_rows, n_cols, int(n_pes), pe, local, pes)


def entry_positions(pe: PECSC, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(column, local row) of every entry of a PE, padding included; ValueError when the
    pointers decrease or do not span the entries, or a row falls past the PE's rows."""
    ptr = np.asarray(pe.ptr, dtype=np.int64)
    if ptr.shape != (n_cols + 1,):
        raise ValueError(f"ptr has {len(ptr)} pointers, expected n_cols + 1 = {n_cols + 1}")
    if ptr[0] != 0 or ptr[-1] != len(pe.v) or len(pe.z) != len(pe.v):
        raise ValueError(f"ptr spans {ptr[0]}..{ptr[-1]} but there are {len(pe.v)} entries "
                         f"({len(pe.z)} z)")
    counts = np.diff(ptr)
    if (counts < 0).any():
        c = int(np.argmax(counts < 0))
        raise ValueError(f"pointers decrease at column {c}: ptr[{c}]={ptr[c]} > ptr[{c + 1}]={ptr[c + 1]}")
    cols = np.repeat(np.arange(n_cols), counts)
    step = np.asarray(pe.z, dtype=np.int64) + 1
    csum = np.cumsum(step)
    before = np.concatenate([[0], csum])[ptr[:-1]]  # running sum at each column start
    rows = csum - np.repeat(before, counts) - 1
    if len(rows) and rows.max() >= len(pe.rows):
        raise ValueError(f"an entry falls on local row {rows.max()}, past the PE's {len(pe.rows)} rows")
    return cols, rows


def decode(layer: CSCLayer) -> np.ndarray:
    """The (n_rows, n_cols) code matrix back from the CSC (padding entries are dropped)."""
    out = np.zeros((layer.n_rows, layer.n_cols), dtype=np.int64)
    for pe in layer.pes:
        cols, rows = entry_positions(pe, layer.n_cols)
        real = np.asarray(pe.v) != 0
        out[pe.rows[rows[real]], cols[real]] = pe.v[real]
    return out


def spm_words(v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Pack entries eight to a 64-bit word: entry e in word e >> 3, byte e & 7, byte {v, z}.
    The last word is padded with zero bytes."""
    v = np.asarray(v, dtype=np.uint64)
    z = np.asarray(z, dtype=np.uint64)
    if v.shape != z.shape or v.ndim != 1:
        raise ValueError(f"v and z must be 1-D of one length, got {v.shape} and {z.shape}")
    if len(v) and (v.max() > Z_MAX or z.max() > Z_MAX):
        raise ValueError("v and z must fit in 4 bits")
    n_words = -(-len(v) // ENTRIES_PER_WORD)
    b = np.zeros(n_words * ENTRIES_PER_WORD, dtype=np.uint64)
    b[: len(v)] = (v << np.uint64(4)) | z
    shifts = np.arange(ENTRIES_PER_WORD, dtype=np.uint64) * np.uint64(8)
    return np.bitwise_or.reduce(b.reshape(n_words, ENTRIES_PER_WORD) << shifts, axis=1) if n_words \
        else np.zeros(0, dtype=np.uint64)


def spm_entries(words: np.ndarray, n_entries: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`spm_words`: the first ``n_entries`` (v, z) of the words."""
    words = np.asarray(words, dtype=np.uint64)
    if n_entries > len(words) * ENTRIES_PER_WORD:
        raise ValueError(f"{n_entries} entries need {-(-n_entries // 8)} words, got {len(words)}")
    shifts = np.arange(ENTRIES_PER_WORD, dtype=np.uint64) * np.uint64(8)
    b = ((words[:, None] >> shifts) & np.uint64(0xFF)).reshape(-1)[:n_entries].astype(np.uint8)
    return b >> 4, b & 0xF
