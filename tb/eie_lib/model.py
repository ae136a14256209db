"""What the engine must produce for a network and an input, from models.golden: the result
stream (values in slot order, and as the 16-bit words of the stream), each layer's input, the
counters, the outputs that saturate, the cases of the log conversion and the products of log x
log layers."""

from __future__ import annotations

import numpy as np

from models import engine_map as em
from models import fixedpoint as fp
from models import golden
from models.csc import PECSC

UNSATURATED = 6   # log exponent bits no 48-bit accumulator saturates (2^6 - 1 > 48)


def expected_slots(layers: list[golden.QLayer], x: np.ndarray) -> np.ndarray:
    """The last layer's outputs in slot order (the values the engine streams out)."""
    return golden.network_forward(layers, x)[-1]["y_slots"][0]


def input_words(layers: list[golden.QLayer], x: np.ndarray) -> list[int]:
    """The s_axis_act words of input ``x`` (models.engine_map.stream_words of the first
    layer's activation format)."""
    return em.stream_words(x, layers[0].act_mode, layers[0].act_exp_w).tolist()


def expected_words(layers: list[golden.QLayer], x: np.ndarray) -> list[int]:
    """The m_axis_res words (16-bit, unsigned) the engine must stream out for input ``x``."""
    last = layers[-1]
    return em.stream_words(expected_slots(layers, x), last.act_mode, last.act_exp_w).tolist()


def layer_inputs(layers: list[golden.QLayer], x: np.ndarray) -> list[np.ndarray]:
    """Each layer's input vector, bias column included (for golden.layer_cycles)."""
    return [o["input"][0] for o in golden.network_forward(layers, x)]


def padding_entries(pe: PECSC, a: np.ndarray) -> int:
    """Padding entries (v = 0) of one PE in the columns whose input ``a`` is non-zero: what the
    PE's padding counter counts."""
    return int(np.count_nonzero(pe.v[np.repeat(np.asarray(a) != 0, pe.col_counts())] == 0))


def expected_counters(layers: list[golden.QLayer], x: np.ndarray) -> dict:
    """The run's counters (models.engine_map.COUNTERS names) that models.golden predicts,
    summed over the layers: broadcasts (active columns), busy cycles (work) and padding entries
    per PE, layers completed; plus ``bound``, the deep-queue bound of the compute cycles."""
    inputs = layer_inputs(layers, x)
    cyc = [golden.layer_cycles(lay.csc, a) for lay, a in zip(layers, inputs)]
    n = layers[0].csc.n_pes
    return {
        "bcast": sum(c["active_columns"] for c in cyc),
        "busy": [sum(c["work"][k] for c in cyc) for k in range(n)],
        "pad": [sum(padding_entries(lay.csc.pes[k], a) for lay, a in zip(layers, inputs))
                for k in range(n)],
        "layers": len(layers),
        "bound": sum(c["bound"] for c in cyc),
    }


def log_conversions(layers: list[golden.QLayer], x: np.ndarray) -> dict[str, int]:
    """Outputs of the log-activation layers for input ``x`` by case of the conversion
    (fixedpoint.log_requantize, rtl/log_requant.v): saturated high (positive, negative: the
    exponent the rule gives without saturation is past 2^EA - 1), underflow to zero (a non-zero
    accumulator below half an output LSB), zeroed by ReLU (a negative accumulator)."""
    out = dict.fromkeys(("saturation +", "saturation -", "underflow", "ReLU zero"), 0)
    for lay, r in zip(layers, golden.network_forward(layers, x)):
        if lay.act_mode != "log":
            continue
        acc = r["acc"][0]
        sign, zero, exp = fp.log_requantize(acc, lay.shift, UNSATURATED)
        sat = (zero == 0) & (exp > (1 << lay.act_exp_w) - 1)
        relu_zero = (acc < 0) & lay.relu
        out["saturation +"] += int((sat & (sign == 0)).sum())
        out["saturation -"] += int((sat & (sign == 1) & ~relu_zero).sum())
        out["underflow"] += int(((acc != 0) & (zero == 1) & ~relu_zero).sum())
        out["ReLU zero"] += int(relu_zero.sum())
    return out


def saturation(layers: list[golden.QLayer], x: np.ndarray) -> tuple[int, int]:
    """(outputs clipped high, clipped low) over every layer for input ``x``: beyond the 16-bit
    range (linear activations) or the largest exponent (log activations)."""
    hi = lo = 0
    for lay, r in zip(layers, golden.network_forward(layers, x)):
        if lay.act_mode == "log":
            continue
        v = fp.round_shift(r["acc"][0], lay.shift)
        hi += int((v > fp.smax(16)).sum())
        lo += int((v < -fp.smax(16) - 1).sum()) if not lay.relu else 0
    log = log_conversions(layers, x)
    return hi + log["saturation +"], lo + log["saturation -"]


def log_products(layers: list[golden.QLayer], x: np.ndarray) -> dict[str, np.ndarray]:
    """The multiplies of the log x log layers for input ``x`` (every entry of an active column,
    padding included, the bias column too): ``exp_sum`` = activation exponent + weight
    exponent of the products of two non-zero operands, ``act_zero`` = the zero flags of the
    activations the CCU reads (input slots, bias excluded), ``weight_zero`` = entries whose
    weight is zero (padding) multiplied by a non-zero activation."""
    sums, a_zero, w_zero = [], [], []
    for lay, a in zip(layers, layer_inputs(layers, x)):
        if lay.act_mode != "log":
            continue
        a_zero.append(a[: lay.n_slots_in] == 0)
        _, _, a_exp = fp.log_encode(a, lay.act_exp_w)
        _, _, cb_exp = fp.log_encode(lay.codebook, golden.EXP_W)
        for pe in lay.csc.pes:
            cols = np.repeat(np.arange(lay.csc.n_cols), pe.col_counts())
            w = lay.codebook[pe.v]
            active = a[cols] != 0
            sums.append((a_exp[cols] + cb_exp[pe.v])[active & (w != 0)])
            w_zero.append(active & (w == 0))
    return {"exp_sum": _concat(sums, np.int64), "act_zero": _concat(a_zero, bool),
            "weight_zero": _concat(w_zero, bool)}


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)
