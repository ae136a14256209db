"""Fixed-point conversion: integer codebooks, per-layer fractional bits and shifts chosen by
calibration on training data, and the encoding into golden.QLayer for N PEs."""

from __future__ import annotations

import numpy as np

from models import fixedpoint as fp
from models.csc import encode
from models.golden import ACT_W, EXP_W, QLayer, from_slots, network_forward, slot_columns
from models.train import Shared

WEIGHT_MODE = {"kmeans": "linear", "log": "log"}


def frac_for(max_abs: float, width: int = ACT_W) -> int:
    """Most fractional bits that still hold ``max_abs`` in a signed ``width``-bit value, at most
    ``width - 2`` so that the constant 1.0 (``bias_act``) is representable."""
    if max_abs <= 0:
        return width - 2
    return min(width - 2, int(np.floor(np.log2(fp.smax(width) / max_abs))))


def int_codebook(cb: np.ndarray, mode: str) -> tuple[np.ndarray, int]:
    """(integer codebook, frac_w) of a float codebook: 16-bit with the most fractional bits that
    hold the largest entry (linear), or exact powers of two with exponents 0..15 (log)."""
    nz = np.abs(cb[cb != 0])
    if mode == "linear":
        frac_w = int(np.floor(np.log2(fp.smax(ACT_W) / nz.max()))) if len(nz) else 0
        return fp.quantize(cb, frac_w, ACT_W), frac_w
    exps = np.log2(nz)
    if not np.allclose(exps, np.round(exps)):
        raise ValueError("log codebook entries must be powers of two")
    lo, hi = int(np.round(exps.min())), int(np.round(exps.max()))
    if hi - lo > (1 << EXP_W) - 1:
        raise ValueError(f"log codebook exponents {lo}..{hi} span more than {1 << EXP_W}")
    frac_w = -lo
    return np.round(cb * 2.0 ** frac_w).astype(np.int64), frac_w


def calibrate(shared: Shared, x: np.ndarray) -> list[float]:
    """Largest magnitude of every layer's output on ``x`` (positive part for ReLU layers),
    the network input first."""
    out = [float(np.abs(x).max())]
    a = x.astype(np.float64)
    for wb, relu in zip(shared.matrices(), shared.relu):
        a = a @ wb[:, :-1].T + wb[:, -1]
        out.append(float(a.max() if relu else np.abs(a).max()))
        if relu:
            a = np.maximum(a, 0)
    return out


def to_qlayers(shared: Shared, x_calib: np.ndarray, n_pes: int,
               pe_of_rows: list[np.ndarray | None] | None = None) -> list[QLayer]:
    """The integer network of ``shared`` for ``n_pes`` PEs (slot-renumbered columns, bias column
    last with ``bias_act = 1 << frac_in``)."""
    mode = WEIGHT_MODE[shared.mode]
    ranges = calibrate(shared, x_calib)
    frac_in = frac_for(ranges[0])
    layers: list[QLayer] = []
    prev = None
    for i, (codes, cb, relu) in enumerate(zip(shared.codes, shared.codebooks, shared.relu)):
        cb_int, frac_w = int_codebook(cb, mode)
        frac_out = min(frac_in + frac_w, frac_for(ranges[i + 1]))
        has_bias = bool(codes[:, -1].any())
        cols = slot_columns(codes[:, :-1], prev)
        if has_bias:
            cols = np.concatenate([cols, codes[:, -1:]], axis=1)
        pe = pe_of_rows[i] if pe_of_rows else None
        csc = encode(cols, n_pes, pe_of_row=pe)
        layers.append(QLayer(csc=csc, codebook=cb_int, shift=frac_in + frac_w - frac_out,
                             relu=relu, has_bias=has_bias, bias_act=1 << frac_in,
                             n_in=codes.shape[1] - 1,
                             n_slots_in=codes.shape[1] - 1 if prev is None else prev.n_slots,
                             mode=mode, frac_in=frac_in, frac_w=frac_w, name=f"fc{i + 1}"))
        prev, frac_in = csc, frac_out
    return layers


def quantize_input(layers: list[QLayer], x: np.ndarray) -> np.ndarray:
    """Float network inputs to the first layer's 16-bit format."""
    return fp.quantize(x, layers[0].frac_in, ACT_W)


def predict(layers: list[QLayer], x: np.ndarray) -> np.ndarray:
    """Labels computed by the golden integer model (what the engine outputs)."""
    y = network_forward(layers, quantize_input(layers, x))[-1]["y"]
    return y.argmax(axis=1)


def output_float(layers: list[QLayer], y_slots: np.ndarray) -> np.ndarray:
    """The last layer's slot-ordered integer outputs as floats in row order."""
    return fp.dequantize(from_slots(y_slots, layers[-1].csc), layers[-1].frac_out)
