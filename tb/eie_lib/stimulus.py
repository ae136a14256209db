"""Random stimulus of the engine tests: codebooks, code matrices, activations and whole
networks (golden.QLayer lists built with models.csc), sized by the caller. No simulator.

Activations come in the format of a layer (golden.QLayer.act_mode): signed 16-bit integers
(linear) or log values 0, +-2^e with e < 2^EA (log); :func:`formats` gives those of a build."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from models import csc as mcsc
from models import engine_map as em
from models import golden

WEIGHT_EXP_MAX = 11   # random log weights: +-2^0 .. +-2^11


def formats(hw: Mapping[str, int]) -> dict:
    """The layer formats an eie_top build with parameters ``hw`` runs (MUL, EA for MUL = 2):
    the keyword arguments ``mode``, ``act_mode``, ``act_exp_w`` of :func:`random_network`."""
    mode, act_mode = em.MULS[hw["MUL"]]
    return {"mode": mode, "act_mode": act_mode, "act_exp_w": hw.get("EA", golden.ACT_EXP_W)}


def weight_exp_max(n_cols: int, act_mode: str, act_exp_w: int = golden.ACT_EXP_W) -> int:
    """The largest log weight exponent (at most WEIGHT_EXP_MAX) that keeps any layer of
    ``n_cols`` columns within the accumulator bound: n_cols * 2^e * max activation < 2^47."""
    act_bits = golden.max_activation(act_mode, act_exp_w).bit_length() - 1
    return max(0, min(WEIGHT_EXP_MAX, golden.ACC_W - 2 - act_bits - (n_cols - 1).bit_length()))


def random_codebook(g: np.random.Generator, mode: str, n_codes: int = 16,
                    exp_max: int = WEIGHT_EXP_MAX) -> np.ndarray:
    """16 integer codebook values, entry 0 = 0, entries >= n_codes = 0 too; log values
    +-2^(0..exp_max) in log mode."""
    if mode == "linear":
        cb = g.integers(-3000, 3001, 16)
    else:
        cb = np.where(g.random(16) < 0.5, -1, 1) * (1 << g.integers(0, exp_max + 1, 16))
    cb[0] = 0
    cb[n_codes:] = 0
    return cb.astype(np.int64)


def random_codes(g: np.random.Generator, n_rows: int, n_cols: int, density: float,
                 n_codes: int = 16) -> np.ndarray:
    """An (n_rows, n_cols) code matrix: each entry non-zero with probability ``density``;
    a few long zero runs so that padding entries occur."""
    codes = np.where(g.random((n_rows, n_cols)) < density, g.integers(1, n_codes, (n_rows, n_cols)), 0)
    return codes.astype(np.int64)


def random_acts(g: np.random.Generator, n: int, density: float, amp: int = 20000,
                act_mode: str = "linear", act_exp_w: int = golden.ACT_EXP_W) -> np.ndarray:
    """``n`` activations, each non-zero with probability ``density``: in [-amp, amp] (linear)
    or +-2^e with e uniform over 0 .. 2^EA - 1 (log)."""
    on = g.random(n) < density
    if act_mode == "log":
        nz = np.where(g.random(n) < 0.5, -1, 1) << g.integers(0, 1 << act_exp_w, n)
    else:
        nz = g.integers(-amp, amp + 1, n)
    return np.where(on, nz, 0).astype(np.int64)


def pick_shift(layer: mcsc.CSCLayer, cb: np.ndarray, x: np.ndarray, act_mode: str = "linear",
               act_exp_w: int = golden.ACT_EXP_W) -> int:
    """A shift that keeps most outputs in range: the largest accumulator lands near 2^12 of the
    16-bit range (linear; a few may saturate) or on the largest exponent 2^EA - 1 (log; it
    saturates when its guard bit is set, small accumulators underflow to zero)."""
    acc, _ = golden.layer_forward(layer, cb, x, 0, False, act_mode=act_mode, act_exp_w=act_exp_w)
    peak = int(np.abs(acc).max(initial=1))
    if act_mode == "log":
        return max(0, peak.bit_length() - (1 << act_exp_w))
    return max(0, peak.bit_length() - 13)


def random_network(g: np.random.Generator, n_pes: int, n_in: int, outs: list[int], mode: str,
                   density: float = 0.3, act_density: float = 0.6, bias: bool = True,
                   x: np.ndarray | None = None, act_mode: str = "linear",
                   act_exp_w: int = golden.ACT_EXP_W) -> tuple[list[golden.QLayer], np.ndarray]:
    """A random network (interleaved rows) and an input vector for it; shifts chosen from the
    golden accumulators so outputs are neither all zero nor all saturated. Log activations
    (``act_mode``): log inputs with exponents spread over the range, a random frac_in per layer
    (the bias input 1.0 is 2^frac_in) and log weights small enough for the accumulator bound."""
    fmt = {"act_mode": act_mode, "act_exp_w": act_exp_w}
    x0 = random_acts(g, n_in, act_density, **fmt) if x is None else np.asarray(x, dtype=np.int64)
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
        cb = random_codebook(g, mode, exp_max=weight_exp_max(n_cols, **fmt))
        frac_in = int(g.integers(0, 1 << act_exp_w)) if act_mode == "log" else 0
        bias_act = 1 << (frac_in if act_mode == "log" else 8)
        xin = np.concatenate([a, [bias_act]]) if bias else a
        shift = pick_shift(lay, cb, xin, **fmt)
        relu = i < len(outs) - 1
        q = golden.QLayer(csc=lay, codebook=cb, shift=shift, relu=relu, has_bias=bias,
                          bias_act=bias_act, n_in=n_slots_in, n_slots_in=n_slots_in, mode=mode,
                          frac_in=frac_in, **fmt)
        layers.append(q)
        _, y = golden.layer_forward(lay, cb, xin, shift, relu, **fmt)
        a = golden.to_slots(y, lay)
        n_slots_in = lay.n_slots
    return layers, x0
