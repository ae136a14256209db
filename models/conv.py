"""Convolutional networks as the engine runs them: the accepted layers, the geometry of a conv
layer, the patch column order and the feature-map layout (docs/FORMATS.md, "Convolution").

A conv layer is the matrix ``[W | b]`` of out_channels x (in_channels * kh * kw) (+ the bias
column), pruned, shared, converted and encoded exactly as a fully connected layer: rows are
output channels (assigned to PEs like FC rows), columns are patch elements. For every output
position the engine multiplies that matrix by the position's patch, then requantizes (and ReLU)
as a FC layer and, with pooling, keeps the maximum of each 2x2 window.

Defined once here:

* patch column of (input channel slot ``cs``, ky, kx): ``cs * kh * kw + ky * kw + kx`` (torch's
  ``weight.reshape(out, -1)`` order, with the input channels renumbered to their slots);
* where activation (channel, y, x) of a map lives (:class:`FeatureMap`): the network input in
  stream order (slot ``c*H*W + y*W + x``, torch's Flatten order), a layer's output in its
  channels' PEs: channel slot ``cs = local * N + pe`` (the FC slot of the row), slot
  ``((cs div N) * H*W + y*W + x) * N + (cs mod N)``, i.e. PE ``pe`` at address
  ``local * H*W + y*W + x``. A FC output is the 1x1 case (slot ``cs``), so flattening a map into a
  FC layer is a matter of column numbering.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

POOL = 2  # the one pooling: 2x2 max, stride 2
STRIDES = (1, 2)


@dataclass(frozen=True)
class ConvGeom:
    """Geometry of one conv layer: input map, kernel, stride, zero padding and the optional
    2x2 max pooling of its (ReLU'd) output."""

    in_ch: int
    in_h: int
    in_w: int
    out_ch: int
    kh: int
    kw: int
    sy: int = 1
    sx: int = 1
    py: int = 0
    px: int = 0
    pool: bool = False

    @property
    def out_h(self) -> int:
        """Output rows of the convolution (before pooling)."""
        return (self.in_h + 2 * self.py - self.kh) // self.sy + 1

    @property
    def out_w(self) -> int:
        return (self.in_w + 2 * self.px - self.kw) // self.sx + 1

    @property
    def map_h(self) -> int:
        """Rows of the stored output map (after pooling, floor as torch)."""
        return self.out_h // POOL if self.pool else self.out_h

    @property
    def map_w(self) -> int:
        return self.out_w // POOL if self.pool else self.out_w

    @property
    def calc_h(self) -> int:
        """Output rows computed: with pooling only those inside a pooling window."""
        return self.map_h * POOL if self.pool else self.out_h

    @property
    def calc_w(self) -> int:
        return self.map_w * POOL if self.pool else self.out_w

    @property
    def positions(self) -> int:
        """Output positions computed (one matrix-times-patch each)."""
        return self.calc_h * self.calc_w

    @property
    def patch(self) -> int:
        """Patch elements (weights of a row): in_ch * kh * kw."""
        return self.in_ch * self.kh * self.kw


@dataclass(frozen=True, eq=False)
class FeatureMap:
    """Where a map of ``channels`` x h x w activations lives: channel c in channel slot
    ``channel_slot[c]`` (of ``n_channel_slots``), on ``n_pes`` PEs (None: the network input, in
    stream order)."""

    channel_slot: np.ndarray
    n_channel_slots: int
    h: int
    w: int
    n_pes: int | None = None

    @property
    def channels(self) -> int:
        return len(self.channel_slot)

    @property
    def n_slots(self) -> int:
        return self.n_channel_slots * self.h * self.w

    def slot(self, cs: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Slot of (channel slot, y, x) (module docstring)."""
        pos = np.asarray(y) * self.w + np.asarray(x)
        cs = np.asarray(cs)
        if self.n_pes is None:
            return cs * (self.h * self.w) + pos
        return ((cs // self.n_pes) * (self.h * self.w) + pos) * self.n_pes + cs % self.n_pes

    def slots(self) -> np.ndarray:
        """(channels, h, w) slot of every activation."""
        cs, y, x = np.meshgrid(self.channel_slot, np.arange(self.h), np.arange(self.w),
                               indexing="ij")
        return self.slot(cs, y, x)


def input_map(shape: tuple[int, ...]) -> FeatureMap:
    """The network input, (C, H, W) or (n,) (a vector is n channels of 1x1), in stream order."""
    c, h, w = shape if len(shape) == 3 else (shape[0], 1, 1)
    return FeatureMap(np.arange(c), c, h, w)


def output_map(slot_of_row: np.ndarray, n_slots: int, n_pes: int, geom: ConvGeom | None
               ) -> FeatureMap:
    """The output of a layer whose rows have FC slots ``slot_of_row`` (``n_slots`` of them,
    csc.CSCLayer): its map (1x1 for a FC layer) in its channels' PEs."""
    h, w = (geom.map_h, geom.map_w) if geom is not None else (1, 1)
    return FeatureMap(np.asarray(slot_of_row), n_slots, h, w, n_pes)


def fc_columns(w: np.ndarray, in_map: FeatureMap) -> np.ndarray:
    """A FC matrix (rows, channels*h*w) over its inputs in torch's Flatten order, renumbered to
    the input slots (rows, n_slots); empty slots get zero columns."""
    if w.shape[1] != in_map.channels * in_map.h * in_map.w:
        raise ValueError(f"{w.shape[1]} columns for a map of {in_map.channels}x{in_map.h}x"
                         f"{in_map.w} activations")
    out = np.zeros((w.shape[0], in_map.n_slots), dtype=w.dtype)
    out[:, in_map.slots().ravel()] = w
    return out


def conv_columns(w: np.ndarray, geom: ConvGeom, in_map: FeatureMap) -> np.ndarray:
    """A conv matrix (out_ch, in_ch*kh*kw) with its input channels renumbered to their channel
    slots: (out_ch, n_channel_slots*kh*kw), empty channel slots zero."""
    k = geom.kh * geom.kw
    if w.shape[1] != geom.patch or in_map.channels != geom.in_ch:
        raise ValueError(f"{w.shape[1]} columns and {in_map.channels} input channels for a "
                         f"{geom.in_ch}x{geom.kh}x{geom.kw} patch")
    out = np.zeros((w.shape[0], in_map.n_channel_slots, k), dtype=w.dtype)
    out[:, in_map.channel_slot, :] = w.reshape(w.shape[0], geom.in_ch, k)
    return out.reshape(w.shape[0], -1)


def patch_index(geom: ConvGeom, in_map: FeatureMap) -> np.ndarray:
    """(positions, n_channel_slots*kh*kw): the input slot of every patch column at every computed
    output position (row-major), ``in_map.n_slots`` where the patch reads zero padding."""
    if (in_map.h, in_map.w) != (geom.in_h, geom.in_w) or in_map.channels != geom.in_ch:
        raise ValueError(f"a {in_map.channels}x{in_map.h}x{in_map.w} map into a layer taking "
                         f"{geom.in_ch}x{geom.in_h}x{geom.in_w}")
    cs, ky, kx = (a.ravel() for a in np.meshgrid(np.arange(in_map.n_channel_slots),
                                                  np.arange(geom.kh), np.arange(geom.kw),
                                                  indexing="ij"))
    oy, ox = (a.ravel() for a in np.meshgrid(np.arange(geom.calc_h) * geom.sy - geom.py,
                                             np.arange(geom.calc_w) * geom.sx - geom.px,
                                             indexing="ij"))
    iy, ix = oy[:, None] + ky[None, :], ox[:, None] + kx[None, :]
    inside = (iy >= 0) & (iy < geom.in_h) & (ix >= 0) & (ix < geom.in_w)
    slot = in_map.slot(np.broadcast_to(cs, iy.shape), np.where(inside, iy, 0),
                       np.where(inside, ix, 0))
    return np.where(inside, slot, in_map.n_slots)


def patches(a: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(batch, positions, columns) patches of slot-ordered activations ``a`` (batch, n_slots) by
    :func:`patch_index` (padding reads 0)."""
    a = np.asarray(a)
    return np.concatenate([a, np.zeros((len(a), 1), dtype=a.dtype)], axis=1)[:, index]


def max_pool(y: np.ndarray) -> np.ndarray:
    """2x2 max pooling, stride 2, of (..., H, W) (a last odd row or column is dropped, as torch)."""
    h, w = y.shape[-2] // POOL, y.shape[-1] // POOL
    y = y[..., :h * POOL, :w * POOL]
    return y.reshape(*y.shape[:-2], h, POOL, w, POOL).max(axis=(-3, -1))


# ---------------------------------------------------------------------------------------------
# Networks: the accepted nn.Sequential and the float forward pass of one layer
# ---------------------------------------------------------------------------------------------
@dataclass
class Layer:
    """A weighted layer of a network: its module (Linear or Conv2d), whether ReLU follows, its
    geometry (None for Linear) and its name (conv1.., fc1..)."""

    module: nn.Module
    relu: bool
    geom: ConvGeom | None
    name: str


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _conv_geom(i: int, m: nn.Conv2d, shape: tuple[int, ...]) -> ConvGeom:
    """The geometry of Conv2d ``m`` (layer ``i``) on a (C, H, W) input; ValueError naming the
    layer for anything the engine does not run."""
    where = f"layer {i} ({m})"
    if len(shape) != 3:
        raise ValueError(f"{where}: a Conv2d needs a (C, H, W) input, got {shape} (give the "
                         f"network an nn.Unflatten(1, (C, H, W)) first, or a conv net a dataset "
                         f"of images)")
    if m.in_channels != shape[0]:
        raise ValueError(f"{where}: {m.in_channels} input channels, the input has {shape[0]}")
    if m.groups != 1:
        raise ValueError(f"{where}: groups must be 1, got {m.groups}")
    if _pair(m.dilation) != (1, 1):
        raise ValueError(f"{where}: dilation must be 1, got {m.dilation}")
    if m.padding_mode != "zeros":
        raise ValueError(f"{where}: padding must be zeros, got padding_mode {m.padding_mode!r}")
    kh, kw = _pair(m.kernel_size)
    sy, sx = _pair(m.stride)
    if sy not in STRIDES or sx not in STRIDES:
        raise ValueError(f"{where}: stride must be 1 or 2, got {m.stride}")
    pad = m.padding
    if pad == "valid":
        pad = (0, 0)
    elif pad == "same":
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"{where}: padding 'same' needs an odd kernel (symmetric padding)")
        pad = (kh // 2, kw // 2)
    g = ConvGeom(shape[0], shape[1], shape[2], m.out_channels, kh, kw, sy, sx, *_pair(pad))
    if g.out_h < 1 or g.out_w < 1:
        raise ValueError(f"{where}: a {kh}x{kw} kernel with padding {pad} does not fit a "
                         f"{shape[1]}x{shape[2]} input")
    return g


def parse(model: nn.Sequential) -> list[Layer]:
    """The weighted layers of an ``nn.Sequential`` of Linear, ReLU and, for a conv net, a first
    ``nn.Unflatten(1, (C, H, W))`` (the input shape), Conv2d (any kernel, stride 1 or 2, zero
    padding, bias or not), MaxPool2d (2x2, stride 2, after a conv, before or after its ReLU) and
    Flatten (before the first Linear after convs). The last weighted layer is a Linear (the class
    scores). ValueError naming the layer for anything else."""
    layers: list[Layer] = []
    shape: tuple[int, ...] | None = None  # None: a flat input of any length
    for i, m in enumerate(model):
        where = f"layer {i} ({m})"
        last = layers[-1] if layers else None
        if isinstance(m, nn.Unflatten):
            if i != 0 or m.dim not in (1, -3) or len(tuple(m.unflattened_size)) != 3:
                raise ValueError(f"{where}: only a first nn.Unflatten(1, (C, H, W)) (the input "
                                 f"shape) is accepted")
            shape = tuple(int(s) for s in m.unflattened_size)
        elif isinstance(m, nn.Conv2d):
            g = _conv_geom(i, m, shape if shape is not None else ())
            layers.append(Layer(m, False, g, ""))
            shape = (g.out_ch, g.out_h, g.out_w)
        elif isinstance(m, nn.MaxPool2d):
            if last is None or last.geom is None or last.geom.pool or len(shape) != 3:
                raise ValueError(f"{where}: a MaxPool2d must follow a Conv2d (or its ReLU), once")
            k, s = _pair(m.kernel_size), _pair(m.stride if m.stride is not None else m.kernel_size)
            if k != (POOL, POOL) or s != (POOL, POOL) or _pair(m.padding) != (0, 0) \
                    or _pair(m.dilation) != (1, 1) or m.ceil_mode or m.return_indices:
                raise ValueError(f"{where}: only 2x2 max pooling with stride 2 (no padding, "
                                 f"dilation or ceil_mode) is supported")
            last.geom = replace(last.geom, pool=True)
            shape = (last.geom.out_ch, last.geom.map_h, last.geom.map_w)
        elif isinstance(m, nn.ReLU):
            if last is None or last.relu or not isinstance(
                    model[i - 1], (nn.Linear, nn.Conv2d, nn.MaxPool2d)):
                raise ValueError(f"{where}: a ReLU must follow a Linear, a Conv2d or its "
                                 f"MaxPool2d, once")
            last.relu = True
        elif isinstance(m, nn.Flatten):
            if shape is None or len(shape) != 3 or m.start_dim != 1 or m.end_dim != -1:
                raise ValueError(f"{where}: only Flatten(1, -1) of a (C, H, W) map is accepted")
            shape = (int(np.prod(shape)),)
        elif isinstance(m, nn.Linear):
            if shape is not None and len(shape) != 1:
                raise ValueError(f"{where}: a Linear after a conv needs a Flatten first")
            if shape is not None and m.in_features != shape[0]:
                raise ValueError(f"{where}: {m.in_features} inputs, the previous layer gives "
                                 f"{shape[0]}")
            layers.append(Layer(m, False, None, ""))
            shape = (m.out_features,)
        else:
            raise ValueError(f"{where}: unsupported layer (accepted: Linear, Conv2d, MaxPool2d, "
                             f"ReLU, Flatten and a first Unflatten)")
    if not layers:
        raise ValueError("the model has no Linear or Conv2d layer")
    for lay, name in zip(layers, layer_names([lay.geom for lay in layers])):
        lay.name = name
    if layers[-1].geom is not None:
        raise ValueError(f"the last weighted layer ({layers[-1].name}) must be a Linear (the class "
                         f"scores)")
    return layers


def layer_names(geoms: list[ConvGeom | None]) -> list[str]:
    """conv1, conv2, .. and fc1, fc2, .. in network order (a FC net: fc1 .. fcL)."""
    counts = {True: 0, False: 0}
    out = []
    for g in geoms:
        counts[g is not None] += 1
        out.append(f"{'conv' if g is not None else 'fc'}{counts[g is not None]}")
    return out


def float_layer(x: torch.Tensor, wb: torch.Tensor, relu: bool, geom: ConvGeom | None
                ) -> torch.Tensor:
    """One layer in float on flat inputs (batch, features) -> flat outputs (torch's Flatten
    order): ``x @ W.T + b`` (FC) or conv2d, then ReLU, then the pooling."""
    if geom is None:
        x = x @ wb[:, :-1].T + wb[:, -1]
    else:
        x = nn.functional.conv2d(x.reshape(-1, geom.in_ch, geom.in_h, geom.in_w),
                                 wb[:, :-1].reshape(geom.out_ch, geom.in_ch, geom.kh, geom.kw),
                                 wb[:, -1], (geom.sy, geom.sx), (geom.py, geom.px))
    if relu:
        x = torch.relu(x)
    if geom is not None and geom.pool:
        x = nn.functional.max_pool2d(x, POOL)
    return x.flatten(1)


def float_layer_np(a: np.ndarray, wb: np.ndarray, relu: bool, geom: ConvGeom | None,
                   batch: int = 500) -> np.ndarray:
    """:func:`float_layer` in float64 numpy (calibration), a conv ``batch`` images at a time."""
    if geom is None:
        a = a @ wb[:, :-1].T + wb[:, -1]
        return np.maximum(a, 0) if relu else a
    w = torch.from_numpy(np.asarray(wb, dtype=np.float64))
    a = np.asarray(a, dtype=np.float64)
    with torch.no_grad():
        return np.concatenate([float_layer(torch.from_numpy(a[i:i + batch]), w, relu, geom).numpy()
                               for i in range(0, len(a), batch)])
