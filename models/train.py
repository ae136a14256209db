"""Training and the float compression stages: magnitude pruning with retraining, k-means weight
sharing with centroid fine-tuning, INQ-style power-of-two weights, and retraining with log
activations (straight-through estimator).

Every layer is handled as its augmented matrix ``[W | b]`` (the bias as the last column, as the
engine stores it), so pruning masks, codes and codebooks cover the bias too. Biases are never
pruned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import nn
from tqdm import tqdm

from models import conv, fixedpoint as fp
from models.data import Dataset
from models.golden import ACT_EXP_W

N_CODES = 16  # 4-bit index; code 0 is the value 0


def lenet(n_in: int, hidden: tuple[int, ...] = (300, 100), n_out: int = 10) -> nn.Sequential:
    """LeNet-300-100 (fully connected, ReLU between layers)."""
    sizes = [n_in, *hidden, n_out]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def lenet5(n_out: int = 10) -> nn.Sequential:
    """LeNet-5 as Deep Compression used it (Caffe's LeNet: conv 20@5x5, pool, conv 50@5x5, pool,
    fc 500, fc 10; 431K weights) on 28x28 images, with a ReLU after every hidden layer."""
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)),
                         nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, n_out))


def small_cnn(shape: tuple[int, int, int] = (1, 8, 8), n_out: int = 10) -> nn.Sequential:
    """The small CNN of the 8x8 digits: conv 16@3x3 (pad 1), pool, conv 32@3x3 (pad 1), pool,
    fc 32, fc 10 (9,258 parameters). On 8x8 images and 4 PEs its maps take 16 (input), 64
    (16x4x4) and 32 (32x2x2) slots a PE: the largest fills the 64 slots a PE of eie_top's
    default ACT_DEPTH."""
    c, h, w = shape
    return nn.Sequential(nn.Unflatten(1, shape),
                         nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * (h // 4) * (w // 4), 32), nn.ReLU(), nn.Linear(32, n_out))


def linear_layers(model: nn.Sequential) -> list[tuple[nn.Module, bool]]:
    """(weighted layer, followed by ReLU) of a network :func:`conv.parse` accepts (Linear and
    ReLU layers, or a conv net); ValueError naming the layer else."""
    return [(lay.module, lay.relu) for lay in conv.parse(model)]


def geometries(model: nn.Sequential) -> list[conv.ConvGeom | None]:
    """The conv geometry of every weighted layer (None for Linear)."""
    return [lay.geom for lay in conv.parse(model)]


def augmented(lin: nn.Module) -> np.ndarray:
    """``[W | b]`` of a Linear or Conv2d layer as float64 (a conv's weights flattened to
    out_channels x in_channels*kh*kw, the patch order; a zero column when it has no bias)."""
    w = lin.weight.detach().double().reshape(lin.weight.shape[0], -1).numpy()
    b = lin.bias.detach().double().numpy() if lin.bias is not None else np.zeros(w.shape[0])
    return np.concatenate([w, b[:, None]], axis=1)


def set_augmented(lin: nn.Module, wb: np.ndarray) -> None:
    """Write ``[W | b]`` back into a Linear or Conv2d layer."""
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(wb[:, :-1]).reshape(lin.weight.shape))
        if lin.bias is not None:
            lin.bias.copy_(torch.from_numpy(wb[:, -1]))


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy in percent."""
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean() * 100)


def shifted(x: torch.Tensor, shape: tuple[int, int, int], shift: int,
            gen: torch.Generator) -> torch.Tensor:
    """Flat images ``x`` (batch, C*H*W), each moved by a random whole number of pixels in
    -shift..shift along y and x (zero fill): the augmentation of conv nets."""
    c, h, w = shape
    xp = nn.functional.pad(x.reshape(-1, c, h, w), (shift,) * 4)
    dy, dx = torch.randint(0, 2 * shift + 1, (2, len(x)), generator=gen)
    iy = (dy[:, None] + torch.arange(h))[:, None, :, None]
    ix = (dx[:, None] + torch.arange(w))[:, None, None, :]
    return xp[torch.arange(len(x))[:, None, None, None], torch.arange(c)[None, :, None, None],
              iy, ix].reshape(len(x), -1)


def fit(model: nn.Module, data: Dataset, epochs: int, lr: float, seed: int, desc: str,
        after_step=None, params=None, batch: int = 64, augment: int = 0) -> None:
    """Adam on cross-entropy; ``after_step()`` runs after every optimizer step (masks);
    ``augment`` > 0 shifts every training image by up to that many pixels (:func:`shifted`)."""
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    if augment and data.image_shape is None:
        raise ValueError(f"augmentation by shifts needs images, {data.name} has no image shape")
    opt = torch.optim.Adam(params if params is not None else model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs))
    for _ in tqdm(range(epochs), desc=desc, leave=False, unit="epoch"):
        for idx in torch.randperm(len(x), generator=gen).split(batch):
            xb = shifted(x[idx], data.image_shape, augment, gen) if augment else x[idx]
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), y[idx]).backward()
            opt.step()
            if after_step is not None:
                after_step()
        sched.step()


# ---------------------------------------------------------------------------------------------
# Pruning
# ---------------------------------------------------------------------------------------------
def magnitude_mask(wb: np.ndarray, density: float) -> np.ndarray:
    """Keep the ``density`` fraction of weights (not the bias column) of largest magnitude."""
    w = np.abs(wb[:, :-1])
    keep = max(1, int(round(density * w.size)))
    thr = np.partition(w.ravel(), w.size - keep)[w.size - keep]
    mask = np.ones_like(wb, dtype=bool)
    mask[:, :-1] = w >= thr
    return mask


def apply_masks(layers: list[tuple[nn.Linear, bool]], masks: list[np.ndarray]) -> None:
    """Zero the pruned weights."""
    for (lin, _), m in zip(layers, masks):
        set_augmented(lin, augmented(lin) * m)


def prune(model: nn.Sequential, data: Dataset, densities: list[float], steps: int, epochs: int,
          lr: float, seed: int, augment: int = 0) -> list[np.ndarray]:
    """Iterative magnitude pruning to per-layer ``densities`` in ``steps`` geometric steps, with
    ``epochs`` of retraining after each; returns the masks of ``[W | b]``."""
    layers = linear_layers(model)
    if len(densities) != len(layers):
        raise ValueError(f"{len(densities)} densities for {len(layers)} layers")
    masks: list[np.ndarray] = []
    for step in range(1, steps + 1):
        masks = [magnitude_mask(augmented(lin), d ** (step / steps))
                 for (lin, _), d in zip(layers, densities)]
        apply_masks(layers, masks)
        t = [torch.from_numpy(m) for m in masks]

        def reapply() -> None:
            with torch.no_grad():
                for (lin, _), m in zip(layers, t):
                    lin.weight.mul_(m[:, :-1].reshape(lin.weight.shape))
        fit(model, data, epochs, lr, seed + step, f"prune {step}/{steps}", reapply,
            augment=augment)
    return masks


# ---------------------------------------------------------------------------------------------
# Weight sharing
# ---------------------------------------------------------------------------------------------
@dataclass
class Shared:
    """Per layer: codes (n_out, n_in + 1) in 0..15 (0 = zero) and a float codebook of 16 values
    (entry 0 = 0), plus the ReLU flags; the activation mode, and for log activations their
    exponent bits (EA) and offsets (fractional bits of every layer's input, then of the last
    output) the network was trained with; the conv geometry of every layer (None: all FC)."""

    codes: list[np.ndarray]
    codebooks: list[np.ndarray]
    relu: list[bool]
    mode: str = "kmeans"
    act_mode: str = "linear"
    act_exp_w: int = ACT_EXP_W
    act_fracs: list[int] | None = None
    geoms: list[conv.ConvGeom | None] | None = None

    def layer_geoms(self) -> list[conv.ConvGeom | None]:
        """The conv geometry of every layer, None for a FC layer."""
        return list(self.geoms) if self.geoms is not None else [None] * len(self.codes)

    def matrices(self) -> list[np.ndarray]:
        """The float ``[W | b]`` of every layer."""
        return [cb[c] for cb, c in zip(self.codebooks, self.codes)]


def kmeans_1d(values: np.ndarray, k: int) -> np.ndarray:
    """k-means in 1-D (scikit-learn's Lloyd, one run) from Deep Compression's linear
    initialisation over [min, max]; sorted centroids. With fewer distinct values than ``k``,
    they are the centroids and the largest repeats."""
    n = min(k, len(np.unique(values)))
    init = np.linspace(values.min(), values.max(), n)[:, None]
    km = KMeans(n_clusters=n, init=init, n_init=1, random_state=0).fit(values[:, None])
    return np.pad(np.sort(km.cluster_centers_[:, 0]), (0, k - n), mode="edge")


def nearest_codes(wb: np.ndarray, mask: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Code (1..15) of the nearest non-zero entry for every kept weight, 0 elsewhere."""
    nz = codebook[1:]
    order = np.argsort(nz)
    edges = (nz[order][1:] + nz[order][:-1]) / 2
    codes = order[np.searchsorted(edges, wb)] + 1
    return np.where(mask, codes, 0)


def kmeans_share(model: nn.Sequential, masks: list[np.ndarray]) -> Shared:
    """Per-layer k-means over the kept weights: 15 centroids (code 0 stays 0)."""
    layers = linear_layers(model)
    codes, books = [], []
    for (lin, _), m in zip(layers, masks):
        wb = augmented(lin)
        cb = np.concatenate([[0.0], kmeans_1d(wb[m], N_CODES - 1)])
        codes.append(nearest_codes(wb, m, cb))
        books.append(cb)
    return Shared(codes, books, [r for _, r in layers], "kmeans", geoms=geometries(model))


class SharedNet(nn.Module):
    """Forward pass with shared weights ``[0, centroids][codes]``: the gradient of a centroid is
    the sum of the gradients of its weights."""

    def __init__(self, shared: Shared):
        super().__init__()
        self.shared = shared
        self.centroids = nn.ParameterList(
            [nn.Parameter(torch.from_numpy(cb[1:].astype(np.float32))) for cb in shared.codebooks])
        self.codes = [torch.from_numpy(c) for c in shared.codes]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for cent, codes, relu, geom in zip(self.centroids, self.codes, self.shared.relu,
                                           self.shared.layer_geoms()):
            wb = torch.cat([cent.new_zeros(1), cent])[codes]
            x = conv.float_layer(x, wb, relu, geom)
        return x

    def export(self) -> Shared:
        books = [np.concatenate([[0.0], c.detach().double().numpy()]) for c in self.centroids]
        return Shared(self.shared.codes, books, self.shared.relu, self.shared.mode,
                      geoms=self.shared.geoms)


def finetune_centroids(shared: Shared, data: Dataset, epochs: int, lr: float, seed: int,
                       augment: int = 0) -> Shared:
    """Train the centroids only (codes fixed)."""
    net = SharedNet(shared)
    fit(net, data, epochs, lr, seed, "centroids", augment=augment)
    return net.export()


def load_shared(model: nn.Sequential, shared: Shared) -> nn.Sequential:
    """Write the shared weights into ``model`` (in place) and return it."""
    for (lin, _), wb in zip(linear_layers(model), shared.matrices()):
        set_augmented(lin, wb)
    return model


# ---------------------------------------------------------------------------------------------
# Power-of-two weights (INQ)
# ---------------------------------------------------------------------------------------------
def log_levels(values: np.ndarray, n: int = N_CODES - 1) -> np.ndarray:
    """``n`` signed powers of two for a layer's kept weights: for each sign a window of
    consecutive exponents ending at that sign's largest rounded exponent (INQ's n1), the
    windows sized by the share of weights of each sign; sorted."""
    out = []
    n_pos = int(np.clip(round(n * np.mean(values > 0)), 1, n - 1))
    for sign, count in ((1.0, n_pos), (-1.0, n - n_pos)):
        mags = np.abs(values[np.sign(values) == sign])
        top = mags.max() if len(mags) else np.abs(values).max()
        e_max = int(np.floor(np.log2(top * 4 / 3)))
        out += [sign * 2.0 ** (e_max - i) for i in range(count)]
    return np.sort(np.array(out))


def nearest_level(w: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Nearest value among ``levels`` and 0 (a weight smaller than half the smallest level of its
    sign becomes 0, as in INQ)."""
    cand = np.concatenate([[0.0], levels])
    order = np.argsort(cand)
    edges = (cand[order][1:] + cand[order][:-1]) / 2
    return cand[order][np.searchsorted(edges, w)]


def inq(model: nn.Sequential, masks: list[np.ndarray], data: Dataset,
        fractions: tuple[float, ...], epochs: int, lr: float, seed: int, augment: int = 0
        ) -> Shared:
    """Incremental network quantization: at each step the largest remaining weights (cumulative
    ``fractions`` of the kept weights) are fixed to powers of two, the others retrained."""
    layers = linear_layers(model)
    levels = [log_levels(augmented(lin)[m]) for (lin, _), m in zip(layers, masks)]
    frozen = [np.zeros_like(m) for m in masks]
    for step, frac in enumerate(fractions, 1):
        for i, ((lin, _), m) in enumerate(zip(layers, masks)):
            wb = augmented(lin)
            mag = np.where(m, np.abs(wb), -1.0)
            keep = int(round(frac * m.sum()))
            thr = np.sort(mag[m])[::-1][keep - 1] if keep else np.inf
            frozen[i] = m & (mag >= thr)
            set_augmented(lin, np.where(frozen[i], nearest_level(wb, levels[i]), wb * m))
        if frac >= 1.0:
            break
        fixed = [(torch.from_numpy(augmented(lin)), torch.from_numpy(f | ~m))
                 for (lin, _), f, m in zip(layers, frozen, masks)]

        def restore() -> None:
            with torch.no_grad():
                for (lin, _), (val, fz) in zip(layers, fixed):
                    shape = lin.weight.shape
                    lin.weight.copy_(torch.where(fz[:, :-1].reshape(shape),
                                                 val[:, :-1].float().reshape(shape), lin.weight))
                    if lin.bias is not None:
                        lin.bias.copy_(torch.where(fz[:, -1], val[:, -1].float(), lin.bias))
        fit(model, data, epochs, lr, seed + 100 + step, f"inq {step}/{len(fractions)}", restore,
            augment=augment)
    codes, books = [], []
    for (lin, _), m, lev in zip(layers, masks, levels):
        wb = augmented(lin)
        cb = np.concatenate([[0.0], lev])
        codes.append(nearest_codes(wb, m & (wb != 0), cb))
        books.append(cb)
    return Shared(codes, books, [r for _, r in layers], "log", geoms=geometries(model))


# ---------------------------------------------------------------------------------------------
# Log activations (LogNet): retraining with a straight-through estimator
# ---------------------------------------------------------------------------------------------
def round_to_levels(wbs: list[np.ndarray], masks: list[np.ndarray], like: Shared) -> Shared:
    """Float ``[W | b]`` matrices on the power-of-two levels of ``like`` (its codebooks): every
    kept weight gets the code of its nearest level, 0 where 0 is nearer (as INQ)."""
    codes = [nearest_codes(wb, m & (nearest_level(wb, cb[1:]) != 0), cb)
             for wb, m, cb in zip(wbs, masks, like.codebooks)]
    return Shared(codes, like.codebooks, like.relu, like.mode, geoms=like.geoms)


def _ste(x: torch.Tensor, q: np.ndarray, limit: float | None = None) -> torch.Tensor:
    """Forward ``q``, backward the identity (zero where |x| > ``limit`` when given)."""
    xc = x if limit is None else x.clamp(-limit, limit)
    return xc + (torch.from_numpy(q).to(x.dtype) - xc).detach()


class LogActNet(nn.Module):
    """Power-of-two weights and log activations in the forward pass, float weights trained
    through straight-through estimators: every kept weight rounds to the nearest of its layer's
    levels (``like.codebooks``) or 0, pruned weights stay 0; the network input and every layer's
    output round to the log format with EA = ``exp_w`` at the offsets ``fracs`` by
    ``fixedpoint.log_rounded`` (the golden model's rule), the gradient cut where a hidden
    activation saturates.

    The output is the signed exponent ``sign(y) * log2(1 + |y| * 2^frac_out)`` of each log
    output y (a log value 2^(e - frac_out) gives about e): monotonic in y, so its argmax is the
    engine's (ties included), and the cross-entropy of these scores asks for classes a power of
    two apart, which is what log outputs can tell apart (the cross-entropy of y itself leaves
    ties between classes that round to the same power of two).
    """

    def __init__(self, like: Shared, latent: list[np.ndarray], masks: list[np.ndarray],
                 fracs: list[int], exp_w: int):
        super().__init__()
        if len(fracs) != len(like.codes) + 1:
            raise ValueError(f"{len(fracs)} activation offsets for {len(like.codes)} layers")
        self.like, self.fracs, self.exp_w = like, list(fracs), exp_w
        self.masks = [np.asarray(m, dtype=bool) for m in masks]
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.from_numpy((wb * m).astype(np.float32)))
             for wb, m in zip(latent, self.masks)])

    def latent(self) -> list[np.ndarray]:
        """The float ``[W | b]`` being trained."""
        return [w.detach().double().numpy() for w in self.weights]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.from_numpy(fp.log_rounded(x.numpy(), self.fracs[0], self.exp_w)).float()
        emax, last = (1 << self.exp_w) - 1, len(self.weights) - 1
        rounded = round_to_levels(self.latent(), self.masks, self.like).matrices()
        for i, (w, wq, relu, geom) in enumerate(zip(self.weights, rounded, self.like.relu,
                                                   self.like.layer_geoms())):
            x = conv.float_layer(x, _ste(w, wq), relu, geom)
            f = self.fracs[i + 1]
            x = _ste(x, fp.log_rounded(x.detach().double().numpy(), f, self.exp_w),
                     None if i == last else 2.0 ** (emax - f))
        return torch.sign(x) * torch.log2(1 + x.abs() * 2.0 ** self.fracs[-1])

    def export(self) -> Shared:
        """The trained network with its activation format."""
        sh = round_to_levels(self.latent(), self.masks, self.like)
        return Shared(sh.codes, sh.codebooks, sh.relu, sh.mode, "log", self.exp_w,
                      list(self.fracs), sh.geoms)


def finetune_log_acts(like: Shared, latent: list[np.ndarray], masks: list[np.ndarray],
                      data: Dataset, fracs: list[int], exp_w: int, epochs: int, lr: float,
                      seed: int, augment: int = 0) -> tuple[Shared, float]:
    """Retrain the float weights ``latent`` on the power-of-two levels of ``like`` with log
    activations (EA = ``exp_w``, offsets ``fracs``) in the forward pass (:class:`LogActNet`);
    (the log-activation network, its float test accuracy)."""
    if like.mode != "log":
        raise ValueError("log activations need power-of-two (log) weights")
    net = LogActNet(like, latent, masks, fracs, exp_w)
    fit(net, data, epochs, lr, seed + 200, "log acts", augment=augment)
    return net.export(), accuracy(net, data.x_test, data.y_test)
