"""Random stimulus of the engine tests: codebooks, code matrices, activations and whole
networks (golden.QLayer lists built with models.csc), sized by the caller. No simulator."""

from __future__ import annotations

import numpy as np

from models import csc as mcsc
from models import golden


def random_codebook(g: np.random.Generator, mode: str, n_codes: int = 16) -> np.ndarray:
    """16 integer codebook values, entry 0 = 0, entries >= n_codes = 0 too."""
    if mode == "linear":
        cb = g.integers(-3000, 3001, 16)
    else:
        cb = np.where(g.random(16) < 0.5, -1, 1) * (1 << g.integers(0, 12, 16))
    cb[0] = 0
    cb[n_codes:] = 0
    return cb.astype(np.int64)


def random_codes(g: np.random.Generator, n_rows: int, n_cols: int, density: float,
                 n_codes: int = 16) -> np.ndarray:
    """An (n_rows, n_cols) code matrix: each entry non-zero with probability ``density``;
    a few long zero runs so that padding entries occur."""
    codes = np.where(g.random((n_rows, n_cols)) < density, g.integers(1, n_codes, (n_rows, n_cols)), 0)
    return codes.astype(np.int64)


def random_acts(g: np.random.Generator, n: int, density: float, amp: int = 20000) -> np.ndarray:
    """``n`` activations in [-amp, amp], each non-zero with probability ``density``."""
    a = np.where(g.random(n) < density, g.integers(-amp, amp + 1, n), 0)
    return a.astype(np.int64)


def pick_shift(layer: mcsc.CSCLayer, cb: np.ndarray, x: np.ndarray) -> int:
    """A shift that keeps most outputs in range (a few may saturate)."""
    acc, _ = golden.layer_forward(layer, cb, x, 0, False)
    peak = int(np.abs(acc).max(initial=1))
    return max(0, peak.bit_length() - 13)


def random_network(g: np.random.Generator, n_pes: int, n_in: int, outs: list[int], mode: str,
                   density: float = 0.3, act_density: float = 0.6, bias: bool = True,
                   x: np.ndarray | None = None) -> tuple[list[golden.QLayer], np.ndarray]:
    """A random network (interleaved rows) and an input vector for it; shifts chosen from the
    golden accumulators so outputs are neither all zero nor all saturated."""
    x0 = random_acts(g, n_in, act_density) if x is None else np.asarray(x, dtype=np.int64)
    layers: list[golden.QLayer] = []
    a = x0
    n_slots_in = n_in
    for i, n_out in enumerate(outs):
        n_cols = n_slots_in + int(bias)
        codes = random_codes(g, n_out, n_cols, density)
        if layers:  # columns of empty slots of the previous layer carry no weights
            prev = layers[-1].csc
            empty = np.ones(n_slots_in, dtype=bool)
            empty[prev.slot_of_row()] = False
            codes[:, :n_slots_in][:, empty] = 0
        lay = mcsc.encode(codes, n_pes)
        cb = random_codebook(g, mode)
        bias_act = 1 << 8
        xin = np.concatenate([a, [bias_act]]) if bias else a
        shift = pick_shift(lay, cb, xin)
        relu = i < len(outs) - 1
        q = golden.QLayer(csc=lay, codebook=cb, shift=shift, relu=relu, has_bias=bias,
                          bias_act=bias_act, n_in=n_slots_in, n_slots_in=n_slots_in, mode=mode)
        layers.append(q)
        _, y = golden.layer_forward(lay, cb, xin, shift, relu)
        a = golden.to_slots(y, lay)
        n_slots_in = lay.n_slots
    return layers, x0
