"""Fixed-point conversion: integer codebooks, per-layer fractional bits and shifts chosen by
calibration on training data, and the encoding into golden.QLayer for N PEs (conv layers too:
their columns are patch columns, models/conv.py)."""

from __future__ import annotations

import numpy as np

from models import conv, fixedpoint as fp
from models.csc import encode
from models.golden import (ACT_W, EXP_W, QLayer, check_acc_bound, from_slots, network_forward,
                           weights)
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
    """Largest magnitude of every layer's output on ``x`` (positive part for ReLU layers; after
    pooling, which keeps the largest), the network input first."""
    out = [float(np.abs(x).max())]
    a = x.astype(np.float64)
    for wb, relu, geom in zip(shared.matrices(), shared.relu, shared.layer_geoms()):
        a = conv.float_layer_np(a, wb, relu, geom)
        out.append(float(a.max() if relu else np.abs(a).max()))
    return out


def linear_fracs(shared: Shared, x: np.ndarray, frac_ws: list[int]) -> list[int]:
    """Fractional bits of 16-bit activations (every layer's input, then the last output): the
    most that hold the calibrated range, at most ``frac_in + frac_w`` (shift >= 0)."""
    ranges = calibrate(shared, x)
    fracs = [frac_for(ranges[0])]
    for frac_w, r in zip(frac_ws, ranges[1:]):
        fracs.append(min(fracs[-1] + frac_w, frac_for(r)))
    return fracs


def log_act_fracs(shared: Shared, x: np.ndarray, exp_w: int) -> list[int]:
    """Exponent offsets of log activations (the fractional bits of every layer's input, then of
    the last output), calibrated layer by layer on ``x`` with the earlier activations already in
    the log format: the largest magnitude (positive part after ReLU) rounds to the top exponent
    2^EA - 1. Clamped to ``frac_in + frac_w`` (shift >= 0) and, for a layer input, to
    0..min(2^EA - 1, 14): the bias activation 1.0 is the log value 2^frac_in, and the engine's
    layer descriptor holds it as a signed 16-bit integer, as in linear mode."""
    emax = (1 << exp_w) - 1
    in_max = min(emax, ACT_W - 2)

    def offset(a: np.ndarray) -> int:
        top = float(np.abs(a).max())
        return emax - fp.log_exponent(top) if top > 0 else emax

    fracs = [int(np.clip(offset(x), 0, in_max))]
    a = fp.log_rounded(x, fracs[0], exp_w)
    for i, (wb, cb, relu, geom) in enumerate(zip(shared.matrices(), shared.codebooks,
                                                 shared.relu, shared.layer_geoms())):
        z = conv.float_layer_np(a, wb, relu, geom)  # rounding to log commutes with pooling
        hi = fracs[-1] + int_codebook(cb, "log")[1]
        if i < len(shared.relu) - 1:
            hi = min(hi, in_max)
        fracs.append(int(np.clip(offset(z), 0, hi)))
        a = fp.log_rounded(z, fracs[-1], exp_w)
    return fracs


def to_qlayers(shared: Shared, x_calib: np.ndarray, n_pes: int,
               pe_of_rows: list[np.ndarray | None] | None = None,
               in_shape: tuple[int, int, int] | None = None) -> list[QLayer]:
    """The integer network of ``shared`` for ``n_pes`` PEs (slot-renumbered columns, bias column
    last with ``bias_act = 1 << frac_in``), in its activation mode: 16-bit activations with
    fractional bits calibrated on ``x_calib``, or log activations with the offsets the training
    used (``shared.act_fracs``). Conv layers read the map of the layer before (the first one
    the network input of shape ``in_shape``, (C, H, W)); their columns are patch columns over
    the input channel slots (conv.conv_columns). ValueError when a layer could overflow the
    accumulator."""
    mode = WEIGHT_MODE[shared.mode]
    books = [int_codebook(cb, mode) for cb in shared.codebooks]
    if shared.act_mode == "log":
        if shared.act_fracs is None or len(shared.act_fracs) != len(books) + 1:
            raise ValueError("log activations need the calibrated offsets of every layer "
                             "(shared.act_fracs)")
        fracs = list(shared.act_fracs)
    else:
        fracs = linear_fracs(shared, x_calib, [fw for _, fw in books])
    geoms = shared.layer_geoms()
    if geoms[0] is not None:
        if in_shape is None or tuple(in_shape) != (geoms[0].in_ch, geoms[0].in_h, geoms[0].in_w):
            raise ValueError(f"a conv net's first layer takes {geoms[0].in_ch}x{geoms[0].in_h}x"
                             f"{geoms[0].in_w} inputs, the data has shape {in_shape}")
        in_map = conv.input_map(in_shape)
    else:
        in_map = conv.input_map((shared.codes[0].shape[1] - 1,))
    names = conv.layer_names(geoms)
    layers: list[QLayer] = []
    for i, (codes, (cb_int, frac_w), relu, geom) in enumerate(zip(shared.codes, books, shared.relu,
                                                                  geoms)):
        frac_in, name = fracs[i], names[i]
        shift = frac_in + frac_w - fracs[i + 1]
        if shift < 0:
            raise ValueError(f"{name}: frac_out {fracs[i + 1]} > frac_in + frac_w = "
                             f"{frac_in + frac_w} (shift must be >= 0)")
        has_bias = bool(codes[:, -1].any())
        if geom is None:
            cols = conv.fc_columns(codes[:, :-1], in_map)
        else:
            cols = conv.conv_columns(codes[:, :-1], geom, in_map)
        if has_bias:
            cols = np.concatenate([cols, codes[:, -1:]], axis=1)
        pe = pe_of_rows[i] if pe_of_rows else None
        csc = encode(cols, n_pes, pe_of_row=pe)
        lay = QLayer(csc=csc, codebook=cb_int, shift=shift, relu=relu, has_bias=has_bias,
                     bias_act=1 << frac_in, n_in=in_map.channels * in_map.h * in_map.w,
                     n_slots_in=in_map.n_slots, mode=mode, frac_in=frac_in, frac_w=frac_w,
                     name=name, act_mode=shared.act_mode, act_exp_w=shared.act_exp_w, geom=geom,
                     in_map=in_map if geom is not None else None)
        try:
            check_acc_bound(weights(csc, cb_int), act_max=lay.act_max)
        except ValueError as e:
            raise ValueError(f"{name} ({shared.act_mode} activations"
                             f"{f', EA = {shared.act_exp_w}' if shared.act_mode == 'log' else ''}"
                             f"): {e}") from None
        layers.append(lay)
        in_map = lay.out_map
    return layers



def quantize_input(layers: list[QLayer], x: np.ndarray) -> np.ndarray:
    """Float network inputs to the first layer's format: 16-bit, or log values (integers 0 and
    +-2^e) by the one rounding rule."""
    first = layers[0]
    if first.act_mode == "log":
        return fp.log_value(*fp.log_quantize(x, first.frac_in, first.act_exp_w))
    return fp.quantize(x, first.frac_in, ACT_W)


def predict(layers: list[QLayer], x: np.ndarray) -> np.ndarray:
    """Labels computed by the golden integer model (what the engine outputs): the first of the
    largest outputs (log outputs can tie)."""
    y = network_forward(layers, quantize_input(layers, x))[-1]["y"]
    return y.argmax(axis=1)


def predict_linear_last(layers: list[QLayer], x: np.ndarray, x_calib: np.ndarray) -> np.ndarray:
    """Labels when the last layer of a log-activation network writes linear 16-bit values
    instead of log ones (its accumulators requantized with the most fractional bits that hold
    its largest output on ``x_calib``, as in linear mode): the alternative to the log outputs,
    measured to decide the engine's output stage."""
    last = layers[-1]
    frac_acc = last.frac_in + last.frac_w
    calib = network_forward(layers, quantize_input(layers, x_calib))[-1]["acc"]
    frac = min(frac_acc, frac_for(float(np.abs(calib).max()) / 2.0 ** frac_acc))
    acc = network_forward(layers, quantize_input(layers, x))[-1]["acc"]
    return fp.requantize(acc, frac_acc - frac, ACT_W).argmax(axis=1)


def output_float(layers: list[QLayer], y_slots: np.ndarray) -> np.ndarray:
    """The last layer's slot-ordered integer outputs as floats in row order."""
    return fp.dequantize(from_slots(y_slots, layers[-1].csc), layers[-1].frac_out)
