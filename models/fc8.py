"""Reader of the EIE authors' AlexNet FC8 layer (``../shared/data/eie-alexnet-fc8``, format in its
README.md) into a :class:`models.csc.CSCLayer`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.csc import CSCLayer, PECSC, assignment, entry_positions

N_ROWS, N_IN, N_PES = 1000, 4096, 64
ENV = "EIE_FC8_DIR"


@dataclass
class FC8:
    """The layer (bias as the last column), its float codebook and the float input activations."""

    layer: CSCLayer
    codebook: np.ndarray  # 16 float32, entry 0 = 0
    act: np.ndarray  # 4096 float32 (the bias column's activation 1.0 not included)


def default_dir() -> Path:
    """``$EIE_FC8_DIR`` or ``<repo>/../shared/data/eie-alexnet-fc8``."""
    return Path(os.environ.get(ENV, Path(__file__).resolve().parents[2] / "shared" / "data"
                               / "eie-alexnet-fc8"))


def _read(path: Path, count: int | None = None, dtype: str = "<u4") -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (EIE AlexNet FC8 data; set {ENV})")
    a = np.fromfile(path, dtype=dtype)
    if count is not None and len(a) != count:
        raise ValueError(f"{path}: {len(a)} values, expected {count}")
    return a


def load(data_dir: str | os.PathLike | None = None) -> FC8:
    """Read the 64-PE CSC of FC8; ValueError naming the file on any inconsistency."""
    d = Path(data_dir) if data_dir is not None else default_dir()
    if not d.is_dir():
        raise FileNotFoundError(f"{d}: EIE AlexNet FC8 folder not found (set {ENV})")
    n_cols = N_IN + 1
    pe_of_row, local = assignment(N_ROWS, N_PES)
    pes = []
    for k in range(N_PES):
        ptr = _read(d / "ptr" / f"ptr{k}.dat", n_cols + 1).astype(np.int64)
        spm_path = d / "spm" / f"spm{k}.dat"
        spm = _read(spm_path)
        if len(spm) % 2:
            raise ValueError(f"{spm_path}: odd number of words, expected (code, z) pairs")
        spm = spm.reshape(-1, 2)
        if spm.size and spm.max() > 15:
            raise ValueError(f"{spm_path}: code or z beyond 4 bits (max {spm.max()})")
        pe = PECSC(v=spm[:, 0].astype(np.uint8), z=spm[:, 1].astype(np.uint8), ptr=ptr,
                   rows=np.nonzero(pe_of_row == k)[0])
        try:
            entry_positions(pe, n_cols)
        except ValueError as e:
            raise ValueError(f"{d / 'ptr' / f'ptr{k}.dat'}: {e}") from None
        pes.append(pe)
    layer = CSCLayer(N_ROWS, n_cols, N_PES, pe_of_row, local, pes)
    return FC8(layer, _read(d / "arithm.dat", 16, "<f4"), _read(d / "act.dat", N_IN, "<f4"))
