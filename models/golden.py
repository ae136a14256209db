"""The golden integer model: what the engine computes, bit for bit, and its cycle estimate.

Everything is computed from the CSC encoding (v, z, ptr per PE), so an encoding bug shows up
here too. Sums are exact integers (order-independent): the accumulator bound of
docs/FORMATS.md guarantees |acc| < 2^(ACC_W-1) <= 2^47, so float64 matrix products are exact
and used for speed. Activations are integers in both modes: signed 16-bit (linear) or the values
0 and +-2^e of log activations (sign, zero, exp with EA exponent bits), so a layer is the same
integer matrix product; only its output stage differs (``requantize`` or ``log_requantize``).
A conv layer (models/conv.py) is the same layer applied to the patch of every output position,
then 2x2 max pooling of the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models import conv, fixedpoint as fp
from models.csc import CSCLayer, entry_positions

ACT_W = 16
ACC_W = 48
EXP_W = 4
ACT_EXP_W = 4  # EA, the exponent bits of a log activation, by default
ACT_EXP_WIDTHS = (3, 4, 5)
ACT_MODES = ("linear", "log")


def max_activation(act_mode: str, act_exp_w: int = ACT_EXP_W) -> int:
    """Largest activation magnitude of a mode: 2^(ACT_W-1) (linear) or 2^(2^EA-1) (log)."""
    check_act_mode(act_mode, act_exp_w)
    return 1 << (ACT_W - 1 if act_mode == "linear" else (1 << act_exp_w) - 1)


def check_act_mode(act_mode: str, act_exp_w: int) -> None:
    """ValueError unless ``act_mode`` is linear or log and, for log, EA is in 3..5."""
    if act_mode not in ACT_MODES:
        raise ValueError(f"activation mode must be 'linear' or 'log', got {act_mode!r}")
    if act_mode == "log" and act_exp_w not in ACT_EXP_WIDTHS:
        raise ValueError(f"log activations need EA (exponent bits) in 3..5, got {act_exp_w}")


def weights(layer: CSCLayer, codebook: np.ndarray) -> np.ndarray:
    """(n_rows, n_cols) integer weights decoded from the CSC: ``codebook[v]``; padding adds 0."""
    cb = np.asarray(codebook, dtype=np.int64)
    if cb.shape != (16,):
        raise ValueError(f"codebook must have 16 entries, got shape {cb.shape}")
    if cb[0] != 0:
        raise ValueError(f"codebook entry 0 must be 0 (padding), got {cb[0]}")
    w = np.zeros((layer.n_rows, layer.n_cols), dtype=np.int64)
    for pe in layer.pes:
        cols, rows = entry_positions(pe, layer.n_cols)
        np.add.at(w, (pe.rows[rows], cols), cb[pe.v.astype(np.int64)])
    return w


def check_acc_bound(w: np.ndarray, acc_w: int = ACC_W, act_max: int = 1 << (ACT_W - 1)) -> int:
    """``max_r sum_c |w[r,c]| * act_max`` (the largest activation magnitude of the mode, a power
    of two: :func:`max_activation`); ValueError unless below ``2^(acc_w-1)``."""
    worst = int(np.abs(w).sum(axis=1).max(initial=0)) * act_max
    if worst >= 1 << (acc_w - 1):
        raise ValueError(f"accumulator bound broken: max_r sum_c |w| * 2^{act_max.bit_length() - 1}"
                         f" = {worst} >= 2^{acc_w - 1}")
    return worst


def _exact_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x @ w.T`` exactly, given that every partial sum stays below 2^53 in magnitude."""
    return np.rint(x.astype(np.float64) @ w.T.astype(np.float64)).astype(np.int64)


def layer_forward(layer: CSCLayer, codebook: np.ndarray, x: np.ndarray, shift: int, relu: bool,
                  acc_w: int = ACC_W, act_mode: str = "linear", act_exp_w: int = ACT_EXP_W
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Accumulators and outputs of one layer, indexed by global row.

    ``x`` is (n_cols,) or (batch, n_cols) of activations (bias column included): signed 16-bit
    (linear) or log values 0, +-2^e with e < 2^act_exp_w (log). Returns ``(acc, y)`` with
    ``y = requantize(acc, shift, 16, relu)`` (linear) or the value of
    ``log_requantize(acc, shift, act_exp_w, relu)`` (log).
    """
    check_act_mode(act_mode, act_exp_w)
    x = np.asarray(x, dtype=np.int64)
    if x.shape[-1] != layer.n_cols:
        raise ValueError(f"x has {x.shape[-1]} columns, the layer {layer.n_cols}")
    if act_mode == "linear" and fp.is_saturated(x, ACT_W).any():
        raise ValueError(f"activations must be signed {ACT_W}-bit")
    if act_mode == "log":
        try:
            fp.log_encode(x, act_exp_w)
        except ValueError as e:
            raise ValueError(f"activations must be log values: {e}") from None
    w = weights(layer, codebook)
    check_acc_bound(w, acc_w, max_activation(act_mode, act_exp_w))
    acc = _exact_matmul(x, w)
    if act_mode == "log":
        return acc, fp.log_value(*fp.log_requantize(acc, shift, act_exp_w, relu))
    return acc, fp.requantize(acc, shift, ACT_W, relu)


def layer_cycles(layer: CSCLayer, x: np.ndarray) -> dict:
    """Cycle estimate of one layer for one input vector ``x`` (n_cols, bias column included).

    ``work[k] = sum over active columns of max(1, entries of PE k)``; ideal = entries in active
    columns / N; deep-queue bound = max work. Padding counts as entries.
    """
    x = np.asarray(x).reshape(-1)
    if len(x) != layer.n_cols:
        raise ValueError(f"x has {len(x)} columns, the layer {layer.n_cols}")
    active = x != 0
    counts = layer.col_counts()[:, active]
    work = np.maximum(counts, 1).sum(axis=1)
    entries = int(counts.sum())
    real = sum(int(np.count_nonzero(pe.v[np.repeat(active, pe.col_counts())]))
               for pe in layer.pes)
    return {
        "n_pes": layer.n_pes,
        "active_columns": int(active.sum()),
        "work": [int(w) for w in work],
        "entries": entries,
        "useful_macs": real,
        "padding": entries - real,
        "ideal": entries / layer.n_pes,
        "bound": int(work.max(initial=0)),
        "load_balance": (entries / layer.n_pes) / max(1, int(work.max(initial=0))),
    }


def conv_cycles(layer: CSCLayer, patch_x: np.ndarray) -> dict:
    """Cycle estimate of a conv layer for one image: :func:`layer_cycles` of every output
    position's patch ``patch_x`` (positions, n_cols; bias column included), summed (the PEs
    finish a position before its write-back: ``bound`` is the sum of the positions' bounds)."""
    patch_x = np.asarray(patch_x)
    if patch_x.ndim != 2 or patch_x.shape[1] != layer.n_cols:
        raise ValueError(f"patches have shape {patch_x.shape}, the layer {layer.n_cols} columns")
    active = (patch_x != 0).astype(np.int64)
    counts = layer.col_counts()
    real = np.stack([np.bincount(np.repeat(np.arange(layer.n_cols), pe.col_counts())[pe.v != 0],
                                 minlength=layer.n_cols) for pe in layer.pes])
    work = active @ np.maximum(counts, 1).T  # (positions, n_pes)
    entries = int((active @ counts.T).sum())
    useful = int((active @ real.T).sum())
    bound = int(work.max(axis=1, initial=0).sum())
    return {
        "n_pes": layer.n_pes,
        "positions": len(patch_x),
        "active_columns": int(active.sum()),
        "work": [int(w) for w in work.sum(axis=0)],
        "entries": entries,
        "useful_macs": useful,
        "padding": entries - useful,
        "ideal": entries / layer.n_pes,
        "bound": bound,
        "load_balance": (entries / layer.n_pes) / max(1, bound),
    }


def dense_cycles(lay: QLayer) -> dict:
    """A dense engine of the same N PEs doing every MAC of the layer (every weight, the bias
    included, at every output position), rows interleaved, one MAC a PE a cycle:
    ``positions * ceil(n_out / N) * (n_in + has_bias)``, n_in the inputs of one row (the patch
    size of a conv). The reference of the speed-up."""
    g = lay.geom
    n_in, positions = (lay.n_in, 1) if g is None else (g.patch, g.positions)
    n = lay.csc.n_pes
    macs = positions * lay.n_out * (n_in + int(lay.has_bias))
    return {"dense_macs": macs,
            "dense_cycles": positions * -(-lay.n_out // n) * (n_in + int(lay.has_bias))}


# ---------------------------------------------------------------------------------------------
# Network level, over the exported formats
# ---------------------------------------------------------------------------------------------
@dataclass
class QLayer:
    """One exported layer: CSC over slot-ordered columns (+ bias column last) and its formats.

    Columns ``0 .. n_slots_in-1`` read activation slots, column ``n_slots_in`` (when
    ``has_bias``) reads the constant ``bias_act``. ``codebook`` holds integer values; in log
    (weight) ``mode`` every entry is 0 or +-2^e with e in 0..15. ``act_mode`` is the format of
    the activations the layer reads and writes: signed 16-bit (linear) or log values with
    ``act_exp_w`` (EA) exponent bits, where the bias activation 1.0 is the log value 2^frac_in,
    so 0 <= frac_in <= 2^EA - 1 (ValueError otherwise). A conv layer has its ``geom`` and the
    layout of its input map ``in_map`` (models/conv.py); its columns are patch columns and
    ``n_in`` counts its input activations (C*H*W).
    """

    csc: CSCLayer
    codebook: np.ndarray
    shift: int
    relu: bool
    has_bias: bool
    bias_act: int
    n_in: int
    n_slots_in: int
    mode: str = "linear"  # or "log"
    frac_in: int = 0
    frac_w: int = 0
    name: str = ""
    extra: dict = field(default_factory=dict)
    act_mode: str = "linear"  # or "log"
    act_exp_w: int = ACT_EXP_W
    geom: conv.ConvGeom | None = None
    in_map: conv.FeatureMap | None = None

    def __post_init__(self) -> None:
        check_act_mode(self.act_mode, self.act_exp_w)
        if (self.geom is None) != (self.in_map is None):
            raise ValueError(f"layer {self.name}: a conv layer needs both geom and in_map")
        emax = (1 << self.act_exp_w) - 1
        if self.act_mode == "log" and self.has_bias and not (
                0 <= self.frac_in <= emax and self.bias_act == 1 << self.frac_in):
            raise ValueError(f"layer {self.name}: log activations with EA = {self.act_exp_w} need "
                             f"0 <= frac_in <= {emax} and bias_act = 2^frac_in (the bias "
                             f"activation 1.0 as a log value), got frac_in {self.frac_in}, "
                             f"bias_act {self.bias_act}")

    @property
    def act_max(self) -> int:
        """Largest activation magnitude the layer can read (the accumulator bound's factor)."""
        return max_activation(self.act_mode, self.act_exp_w)

    @property
    def n_out(self) -> int:
        return self.csc.n_rows

    @property
    def n_slots_out(self) -> int:
        return self.out_map.n_slots

    @property
    def out_map(self) -> conv.FeatureMap:
        """Where the layer's outputs live (a 1x1 map of its rows for a FC layer)."""
        return conv.output_map(self.csc.slot_of_row(), self.csc.n_slots, self.csc.n_pes, self.geom)

    def patch_index(self) -> np.ndarray:
        """(positions, patch columns) input slot of every patch column of a conv layer
        (conv.patch_index; ``n_slots_in`` for zero padding)."""
        return conv.patch_index(self.geom, self.in_map)

    @property
    def frac_out(self) -> int:
        return self.frac_in + self.frac_w - self.shift


def to_slots(y: np.ndarray, layer: CSCLayer) -> np.ndarray:
    """Row-indexed outputs (batch, n_rows) to slot order (batch, n_slots); empty slots are 0."""
    out = np.zeros(y.shape[:-1] + (layer.n_slots,), dtype=np.int64)
    out[..., layer.slot_of_row()] = y
    return out


def from_slots(y_slots: np.ndarray, layer: CSCLayer) -> np.ndarray:
    """Slot-ordered outputs back to row order."""
    return np.asarray(y_slots)[..., layer.slot_of_row()]


def slot_columns(w: np.ndarray, prev: CSCLayer | None) -> np.ndarray:
    """Renumber the input columns of ``w`` (n_rows, n_in) into the slot order of the previous
    layer's outputs (identity when there is no previous layer); empty slots get zero columns."""
    if prev is None:
        return w
    out = np.zeros((w.shape[0], prev.n_slots), dtype=w.dtype)
    out[:, prev.slot_of_row()] = w
    return out


def cycles(lay: QLayer, x: np.ndarray) -> dict:
    """Cycle estimate of one layer for one vector ``x``, its ``input`` in :func:`network_forward`
    (:func:`layer_cycles` or, for a conv layer, :func:`conv_cycles` of its patches), with the
    dense engine's count (:func:`dense_cycles`) and the speed-up ``dense_cycles / bound``."""
    if lay.geom is None:
        c = layer_cycles(lay.csc, x)
    else:
        p = conv.patches(np.asarray(x).reshape(1, -1), lay.patch_index())[0]
        if lay.has_bias:
            p = np.concatenate([p, np.full((len(p), 1), lay.bias_act, dtype=p.dtype)], axis=1)
        c = conv_cycles(lay.csc, p)
    c.update(dense_cycles(lay))
    c["speedup"] = c["dense_cycles"] / max(1, c["bound"])
    return c


CONV_CHUNK = 1 << 22  # patch elements a conv step handles at once (memory)


def conv_forward(lay: QLayer, a: np.ndarray, acc_w: int = ACC_W
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A conv layer on slot-ordered inputs ``a`` (batch, n_slots_in): :func:`layer_forward` of
    every computed position's patch (bias column ``bias_act``), then 2x2 max pooling when the
    layer pools. Returns ``acc`` (batch, out_ch, calc_h, calc_w), ``y`` (batch, out_ch, map_h,
    map_w) and ``y_slots`` (batch, n_slots_out)."""
    g, idx = lay.geom, lay.patch_index()
    accs, ys = [], []
    step = max(1, CONV_CHUNK // (idx.size + 1))
    for lo in range(0, len(a), step):
        p = conv.patches(a[lo:lo + step], idx)
        if lay.has_bias:
            bias = np.full(p.shape[:2] + (1,), lay.bias_act, dtype=np.int64)
            p = np.concatenate([p, bias], axis=2)
        acc, y = layer_forward(lay.csc, lay.codebook, p.reshape(-1, p.shape[2]), lay.shift,
                               lay.relu, acc_w, lay.act_mode, lay.act_exp_w)
        shape = (len(p), g.calc_h, g.calc_w, g.out_ch)
        accs.append(acc.reshape(shape).transpose(0, 3, 1, 2))
        ys.append(y.reshape(shape).transpose(0, 3, 1, 2))
    acc, y = np.concatenate(accs), np.concatenate(ys)
    if g.pool:
        y = conv.max_pool(y)
    y_slots = np.zeros((len(a), lay.n_slots_out), dtype=np.int64)
    y_slots[:, lay.out_map.slots().ravel()] = y.reshape(len(a), -1)
    return acc, y, y_slots


def network_forward(layers: list[QLayer], x_q: np.ndarray, acc_w: int = ACC_W
                    ) -> list[dict[str, np.ndarray]]:
    """Run quantized inputs (batch, n_in) through every layer, each in its activation mode.
    Returns, per layer, ``input`` (slot order; FC: the bias column included), ``acc`` and ``y``
    (row order; conv: (batch, channels, y, x), ``acc`` before pooling) and ``y_slots``."""
    a = np.atleast_2d(np.asarray(x_q, dtype=np.int64))
    out = []
    for i, lay in enumerate(layers):
        if a.shape[1] != lay.n_slots_in:
            raise ValueError(f"layer {i} expects {lay.n_slots_in} input slots, got {a.shape[1]}")
        if lay.geom is not None:
            acc, y, y_slots = conv_forward(lay, a, acc_w)
            out.append({"input": a, "acc": acc, "y": y, "y_slots": y_slots})
            a = y_slots
            continue
        if lay.has_bias:
            a = np.concatenate([a, np.full((a.shape[0], 1), lay.bias_act, dtype=np.int64)], axis=1)
        acc, y = layer_forward(lay.csc, lay.codebook, a, lay.shift, lay.relu, acc_w,
                               lay.act_mode, lay.act_exp_w)
        y_slots = to_slots(y, lay.csc)
        out.append({"input": a, "acc": acc, "y": y, "y_slots": y_slots})
        a = y_slots
    return out
