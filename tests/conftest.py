"""Shared fixtures of the model tests (no simulator)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def data_dir(env: str, name: str) -> Path:
    """A shared data folder: ``$env`` or ``<repo>/../shared/data/<name>``; skips when absent."""
    path = Path(os.environ.get(env, REPO.parent / "shared" / "data" / name))
    if not path.is_dir():
        pytest.skip(f"{name} data not found at {path} (set {env})")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def random_codes(rng: np.random.Generator, n_rows: int, n_cols: int, density: float) -> np.ndarray:
    """A random (n_rows, n_cols) code matrix with roughly ``density`` non-zeros, codes 1..15."""
    mask = rng.random((n_rows, n_cols)) < density
    return np.where(mask, rng.integers(1, 16, (n_rows, n_cols)), 0)


def random_network(rng: np.random.Generator, sizes: list[int], n_pes: int, mode: str = "linear",
                   permute: bool = False) -> list:
    """A random quantized network (list of golden.QLayer) with bias columns, ReLU on hidden
    layers, slot-ordered columns, and small codebooks so the accumulator bound holds."""
    from models import csc, golden

    layers, prev, perm_rng = [], None, np.random.default_rng(99)
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        codes = random_codes(rng, n_out, n_in + 1, 0.3)
        codes = np.concatenate([golden.slot_columns(codes[:, :-1], prev), codes[:, -1:]], axis=1)
        pe = perm_rng.permutation(np.arange(n_out) % n_pes) if permute else None
        lay = csc.encode(codes, n_pes, pe_of_row=pe)
        if mode == "log":
            cb = np.concatenate([[0], rng.choice([-1, 1], 15) * (1 << rng.integers(0, 9, 15))])
        else:
            cb = np.concatenate([[0], rng.integers(-3000, 3000, 15)])
        layers.append(golden.QLayer(csc=lay, codebook=cb, shift=8, relu=i < len(sizes) - 2,
                                    has_bias=True, bias_act=1 << 8, n_in=n_in,
                                    n_slots_in=n_in if prev is None else prev.n_slots,
                                    mode=mode, frac_in=8, frac_w=8, name=f"fc{i + 1}"))
        prev = lay
    return layers
