"""``python -m models.compress``: train, prune, share (k-means or powers of two), optionally retrain
with log activations, convert to fixed point, encode for N PEs, export memory images, test
vectors and a report. Networks: LeNet-300-100 (default), LeNet-5 (``--net lenet5``, MNIST), the
small digits CNN (``--net cnn``) or any accepted nn.Sequential (``--model``, models/conv.py).

Trained stages are cached under ``$MODEL_CACHE/<key>.pt`` (default ``build/model-cache``; the
key hashes every setting that changes training), shared by every output folder, so a second run
with the same settings takes seconds. A log-activation run reuses the cached power-of-two stages
of the same settings and caches its retraining on top.
"""

from __future__ import annotations

import argparse
import copy
import fcntl
import hashlib
import importlib
import io
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from models import atomic, data as datasets, engine_map as em, huffman, memimage
from models import conv, golden, quantize, sizes, train
from models.csc import encode
from models.golden import ACT_EXP_W, ACT_EXP_WIDTHS, network_forward
from models.memimage import hex_text

CACHE_VERSION = 2  # 2: k-means by scikit-learn
ACT_FIELDS = ("acts", "act_bits", "act_epochs", "act_lr")
NETS = ("lenet300", "lenet5", "cnn")
# Settings added after CACHE_VERSION 2, in the key only when not at these defaults (so the key
# of a LeNet-300-100 configuration, and its cached training, stay what they were).
LATER_FIELDS = {"net": "lenet300", "augment": 0}


@dataclass
class Config:
    """Every setting that changes training (part of the cache key)."""

    dataset: str = "digits"
    net: str = "lenet300"
    weights: str = "kmeans"
    seed: int = 0
    hidden: tuple[int, ...] = (300, 100)
    densities: tuple[float, ...] = (0.08, 0.09, 0.26)
    epochs: int = 30
    lr: float = 1e-3
    prune_steps: int = 4
    prune_epochs: int = 8
    share_epochs: int = 8
    share_lr: float = 1e-4
    inq_fractions: tuple[float, ...] = (0.5, 0.75, 0.875, 1.0)
    inq_epochs: int = 6
    inq_lr: float = 3e-4
    acts: str = "linear"
    act_bits: int = ACT_EXP_W
    act_epochs: int = 8
    act_lr: float = 1e-3
    augment: int = 0  # random shifts of training images, up to this many pixels

    def __post_init__(self) -> None:
        if self.net not in NETS:
            raise ValueError(f"net must be one of {NETS}, got {self.net!r}")
        if self.weights not in ("kmeans", "log"):
            raise ValueError(f"weights must be 'kmeans' or 'log', got {self.weights!r}")
        if self.acts not in ("linear", "log"):
            raise ValueError(f"activations must be 'linear' or 'log', got {self.acts!r}")
        if self.acts == "log" and self.weights != "log":
            raise ValueError("--acts log needs --weights log: a log activation times a log weight "
                             "is an exponent add, k-means weights are linear")
        if self.act_bits not in ACT_EXP_WIDTHS:
            raise ValueError(f"--act-bits (EA, exponent bits of a log activation) must be in "
                             f"3..5, got {self.act_bits}")


DEFAULTS = {
    "digits": dict(densities=(0.08, 0.04, 0.3), epochs=60, prune_epochs=20, share_epochs=20,
                   inq_epochs=15, act_epochs=30),
    "mnist": dict(densities=(0.06, 0.08, 0.25), epochs=25, prune_epochs=8, share_epochs=8),
}
# Log activations keep 1.25x the weights of the first layer and 1.5x those of the second: with a
# 1-bit mantissa a unit needs more inputs to average its rounding errors (digits, seeds 0..9:
# +0.8 points at 41x instead of 49x; the compression bar is 40x).
LOG_ACT_DENSITIES = {"digits": (0.1, 0.06, 0.3), "mnist": (0.075, 0.12, 0.25)}


# Conv nets. LeNet-5 on MNIST: Deep Compression's densities (conv1 66 %, conv2 12 %, fc2 19 %)
# but fc1 7 % instead of 8 % (a 4-bit z pads fc1's 500-row columns: 25 % of its entries are
# padding; 8 % gave 38.1x, 7 % 41.3x at the same accuracy), shifts of up to 2 pixels (only
# 8,000 training images; the dense net reaches 99.15 %, seed 0). The digits CNN: 4 PEs hold its
# maps in eie_top's default 64 slots a PE (train.small_cnn).
NET_DEFAULTS = {
    ("lenet5", "mnist"): dict(densities=(0.66, 0.12, 0.07, 0.19), epochs=20, prune_epochs=6,
                              share_epochs=8, inq_epochs=4, act_epochs=8, augment=2),
    ("cnn", "digits"): dict(densities=(0.6, 0.2, 0.1, 0.3), epochs=100, lr=3e-3,
                            prune_epochs=20, share_epochs=20, inq_epochs=15, act_epochs=30,
                            augment=1),
}


def defaults(dataset: str, acts: str = "linear", net: str = "lenet300") -> dict:
    """The training settings of ``net`` on ``dataset`` (DEFAULTS, NET_DEFAULTS for conv nets),
    with the densities of LOG_ACT_DENSITIES when activations are log (LeNet-300-100)."""
    if net == "lenet300":
        kw = dict(DEFAULTS[dataset])
        if acts == "log":
            kw["densities"] = LOG_ACT_DENSITIES[dataset]
        return kw
    if (net, dataset) not in NET_DEFAULTS:
        raise ValueError(f"--net {net} does not fit --dataset {dataset} "
                         f"(known: {', '.join('/'.join(k) for k in NET_DEFAULTS)})")
    return dict(NET_DEFAULTS[(net, dataset)])


def network(cfg: Config, data: datasets.Dataset) -> torch.nn.Sequential:
    """A fresh (untrained) network of ``cfg.net`` for ``data``."""
    if cfg.net == "lenet300":
        return train.lenet(data.n_in, cfg.hidden)
    if data.image_shape is None:
        raise ValueError(f"--net {cfg.net} needs images, {data.name} has none")
    if cfg.net == "lenet5":
        if data.image_shape != (1, 28, 28):
            raise ValueError(f"LeNet-5 takes 1x28x28 images, {data.name} has {data.image_shape}")
        return train.lenet5()
    return train.small_cnn(data.image_shape)


@dataclass
class Stages:
    """The trained stages: state dicts, masks, shared weights, the network retrained with log
    activations (log-activation runs) and float accuracies."""

    dense: dict
    pruned: dict
    shared: train.Shared
    masks: list
    accuracy: dict = field(default_factory=dict)
    log_acts: train.Shared | None = None

    @property
    def exported(self) -> train.Shared:
        """The network the fixed-point model and the images are made of."""
        return self.log_acts if self.log_acts is not None else self.shared


def cache_key(cfg: Config, model: torch.nn.Sequential | None = None) -> str:
    """Hash of every training setting and, for a user-given network, its architecture (the
    log-activation settings only when activations are log)."""
    arch = repr(model) if model is not None else None
    settings = {k: v for k, v in asdict(cfg).items()
                if (cfg.acts == "log" or k not in ACT_FIELDS)
                and not (k in LATER_FIELDS and v == LATER_FIELDS[k])}
    blob = json.dumps({"v": CACHE_VERSION, **settings, "model": arch}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    """Where trained stages are cached: ``$MODEL_CACHE``, default ``<repo>/build/model-cache``."""
    return Path(os.environ.get("MODEL_CACHE",
                               Path(__file__).resolve().parents[1] / "build" / "model-cache"))


def load_model(spec: str, n_in: int, image_shape: tuple[int, int, int] | None = None
               ) -> torch.nn.Sequential:
    """A user network from ``MODULE:ATTR``: an ``nn.Sequential`` models/conv.py accepts (Linear
    and ReLU layers, or a conv net), or a callable taking the number of inputs and returning
    one. A conv net starting with its Conv2d gets an ``nn.Unflatten`` to ``image_shape`` (the
    dataset's) in front."""
    mod_name, sep, attr = spec.partition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"--model {spec!r}: expected MODULE:ATTR, e.g. mynets:small_mlp")
    try:
        obj = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"--model {spec!r}: {e}") from e
    try:
        model = obj if isinstance(obj, torch.nn.Module) else obj(n_in)
    except TypeError as e:
        raise ValueError(f"--model {spec!r}: calling it with the input count failed: {e}") from e
    if not isinstance(model, torch.nn.Sequential):
        raise ValueError(f"--model {spec!r}: expected an nn.Sequential, got {type(model).__name__}")
    if len(model) and isinstance(model[0], torch.nn.Conv2d):
        if image_shape is None:
            raise ValueError(f"--model {spec!r}: a conv net needs images, the dataset has none")
        model = torch.nn.Sequential(torch.nn.Unflatten(1, image_shape), *model)
    try:
        layers = conv.parse(model)
    except ValueError as e:
        raise ValueError(f"--model {spec!r}: {e}") from None
    first = layers[0]
    if first.geom is None and first.module.in_features != n_in:
        raise ValueError(f"--model {spec!r}: first layer takes {first.module.in_features} inputs, "
                         f"the dataset has {n_in}")
    if first.geom is not None and (first.geom.in_ch, first.geom.in_h, first.geom.in_w) != \
            image_shape:
        raise ValueError(f"--model {spec!r}: takes {first.geom.in_ch}x{first.geom.in_h}x"
                         f"{first.geom.in_w} images, the dataset has {image_shape}")
    return model


def train_stages(cfg: Config, data: datasets.Dataset, model: torch.nn.Sequential | None = None
                 ) -> Stages:
    """Dense training, iterative pruning, then weight sharing (k-means + centroid fine-tuning)
    or INQ power-of-two weights."""
    torch.manual_seed(cfg.seed)
    model = model if model is not None else network(cfg, data)
    train.fit(model, data, cfg.epochs, cfg.lr, cfg.seed, "dense", augment=cfg.augment)
    acc = {"float": train.accuracy(model, data.x_test, data.y_test)}
    dense = copy.deepcopy(model.state_dict())
    masks = train.prune(model, data, list(cfg.densities), cfg.prune_steps, cfg.prune_epochs,
                        cfg.lr, cfg.seed, cfg.augment)
    acc["pruned"] = train.accuracy(model, data.x_test, data.y_test)
    pruned = copy.deepcopy(model.state_dict())
    if cfg.weights == "kmeans":
        shared = train.finetune_centroids(train.kmeans_share(model, masks), data,
                                          cfg.share_epochs, cfg.share_lr, cfg.seed, cfg.augment)
    else:
        shared = train.inq(model, masks, data, cfg.inq_fractions, cfg.inq_epochs, cfg.inq_lr,
                           cfg.seed, cfg.augment)
    acc["shared"] = train.accuracy(train.load_shared(model, shared), data.x_test, data.y_test)
    return Stages(dense, pruned, shared, masks, acc)


def train_log_acts(cfg: Config, data: datasets.Dataset, base: Stages,
                   model: torch.nn.Sequential | None = None) -> Stages:
    """``base`` (power-of-two stages) retrained with log activations: the pruned weights rounded
    to the INQ levels, offsets calibrated on the training set, then ``act_epochs`` of
    straight-through retraining (train.LogActNet)."""
    model = model if model is not None else network(cfg, data)
    model.load_state_dict(base.pruned)
    latent = [train.augmented(lin) for lin, _ in train.linear_layers(model)]
    start = train.round_to_levels(latent, base.masks, base.shared)
    fracs = quantize.log_act_fracs(start, data.x_train, cfg.act_bits)
    shared, acc = train.finetune_log_acts(start, latent, base.masks, data, fracs, cfg.act_bits,
                                          cfg.act_epochs, cfg.act_lr, cfg.seed, cfg.augment)
    return replace(base, log_acts=shared, accuracy={**base.accuracy, "log_acts": acc})


def load_or_train(cfg: Config, data: datasets.Dataset, cache_dir: Path, use_cache: bool = True,
                  model: torch.nn.Sequential | None = None) -> tuple[Stages, bool]:
    """The cached stages of ``cfg`` (and ``model``, LeNet when None) or freshly trained ones
    (then cached); (stages, from cache)."""
    path = cache_dir / f"{cache_key(cfg, model)}.pt"
    if use_cache and path.is_file():
        return torch.load(path, weights_only=False), True
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        # one trainer per configuration: parallel processes (test workers) wait for its result
        fcntl.flock(lock, fcntl.LOCK_EX)
        if use_cache and path.is_file():
            return torch.load(path, weights_only=False), True
        if cfg.acts == "log":
            base, _ = load_or_train(replace(cfg, acts="linear"), data, cache_dir, use_cache,
                                    model)
            stages = train_log_acts(cfg, data, base, model)
        else:
            stages = train_stages(cfg, data, model)
        buf = io.BytesIO()
        torch.save(stages, buf)
        atomic.write_bytes(path, buf.getvalue())
    return stages, False


def write_vectors(out: Path, layers, data: datasets.Dataset, n: int) -> dict:
    """Inputs and golden outputs of every layer for the first ``n`` test images: hex files (one
    16-bit word a line, vector after vector, slot order; packed log values in log-activation
    mode) and an npz with the integer values and accumulators too."""
    x = data.x_test[:n]
    xq = quantize.quantize_input(layers, x)
    res = network_forward(layers, xq)
    vdir = out / "vectors"
    atomic.write_text(vdir / "input.hex", hex_text(em.stream_words(xq, layers[0].act_mode, layers[0].act_exp_w), 4))
    outs = []
    for i, (r, lay) in enumerate(zip(res, layers)):
        outs.append(f"vectors/layer{i}_out.hex")
        atomic.write_text(out / outs[-1], hex_text(em.stream_words(r["y_slots"], lay.act_mode, lay.act_exp_w), 4))
    arrays = {"x": x, "x_q": xq, "labels": data.y_test[:n]}
    for i, r in enumerate(res):
        arrays.update({f"acc{i}": r["acc"], f"y{i}": r["y"], f"y_slots{i}": r["y_slots"]})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic.write_bytes(vdir / "vectors.npz", buf.getvalue())
    return {"count": int(len(x)), "input": "vectors/input.hex", "outputs": outs,
            "npz": "vectors/vectors.npz", "labels": data.y_test[:n].tolist()}


def write_huffman(out: Path, names: list[str], codes: list[np.ndarray]) -> dict:
    """Huffman streams of v and z (one PE, as accounted in the report) per layer, checked by
    decoding them back; returns {file: bytes}."""
    files = {}
    for name, c in zip(names, codes):
        pe = encode(c, 1).pes[0]
        for stream, sym in (("v", pe.v), ("z", pe.z)):
            rel = f"huffman/{name}_{stream}.huf"
            blob = huffman.pack(sym)
            if not np.array_equal(huffman.unpack(blob, rel), sym):
                raise AssertionError(f"{rel}: Huffman round trip failed")
            atomic.write_bytes(out / rel, blob)
            files[rel] = len(blob)
    return files


def _state_bytes(state: dict) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


ACCURACY_STAGES = {
    "float": "float", "pruned": "pruned", "shared": "shared",
    "log_acts": "log activations (float)", "fixed": "fixed point",
    "fixed_linear_out": "fixed point, linear last layer",
}


def layer_info(lay: golden.QLayer) -> dict:
    """What a layer is, for the report: FC ``n_in x n_out``; conv ``out@in x kh x kw`` with its
    stride, padding, pooling and map sizes."""
    g = lay.geom
    if g is None:
        return {"kind": "fc", "desc": f"{lay.n_in}x{lay.n_out}"}
    desc = (f"{g.out_ch}@{g.in_ch}x{g.kh}x{g.kw}" + (f" s{g.sy}" if (g.sy, g.sx) != (1, 1) else "")
            + (f" p{g.py}" if (g.py, g.px) != (0, 0) else "") + (" pool" if g.pool else ""))
    return {"kind": "conv", "desc": desc, "geom": asdict(g), "in_map": [g.in_ch, g.in_h, g.in_w],
            "out_map": [g.out_ch, g.map_h, g.map_w], "positions": g.positions,
            "slots_in": lay.n_slots_in, "slots_out": lay.n_slots_out,
            "slots_per_pe": max(lay.n_slots_in, lay.n_slots_out) // lay.csc.n_pes}


def report_md(rep: dict) -> str:
    """The Markdown report (Deep Compression's Table 2 per layer, stages, accuracies)."""
    acc, st = rep["accuracy"], rep["sizes_1pe"]["total"]
    stages = [s for s in ACCURACY_STAGES if s in acc]
    acts = (f"log activations (EA = {rep['act_exp_w']})" if rep["acts"] == "log"
            else "16-bit activations")
    net = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5", "cnn": "digits CNN",
           "model": "user network"}[rep["net"]]
    lines = [f"# Compression report: {net}, {rep['dataset']}, {rep['weights']} weights, {acts}, "
             f"seed {rep['seed']}", "", "## Accuracy (test set, %)", "",
             "| " + " | ".join(ACCURACY_STAGES[s] for s in stages) + " |",
             "|" + "---|" * len(stages), "| " + " | ".join(f"{acc[s]:.2f}" for s in stages) + " |",
             "", "## Per layer (storage on one PE, as Deep Compression)", "",
             "| layer | weights | density | entries (padding) | v bits | z bits | v bits Huffman "
             "| z bits Huffman | pointer bits | ratio |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, info, l in zip(rep["layer_names"], rep["layers"], rep["sizes_1pe"]["layers"]):
        lines.append(f"| {name} {info['desc']} | {l['weights']:,} | "
                     f"{100 * l['density']:.1f} % | {l['entries']:,} ({l['padding']:,}) | 4 | 4 | "
                     f"{l['v_bits_per_entry']:.2f} | {l['z_bits_per_entry']:.2f} | "
                     f"{l['pointer_bits']:,} | {l['ratio']:.1f}x |")
    lines.append(f"| total | {st['weights']:,} | {100 * st['density']:.1f} % | {st['entries']:,} "
                 f"({st['padding']:,}) | | | | | {st['pointer_bits']:,} | {st['huffman_ratio']:.1f}x |")
    lines += ["", "## Size after each stage (bytes; dense = 32-bit weights and biases)", "",
              "| stage | 1 PE | ratio | " + f"{rep['n_pes']} PEs | ratio |", "|---|---|---|---|---|"]
    sn = rep["sizes_npe"]["total"]
    for stage in ("dense", "pruned", "shared", "huffman"):
        b1, bn = st[f"{stage}_bits"], sn[f"{stage}_bits"]
        lines.append(f"| {stage} | {b1 / 8:,.0f} | {st['dense_bits'] / b1:.1f}x | {bn / 8:,.0f} | "
                     f"{sn['dense_bits'] / bn:.1f}x |")
    lines += ["", "## Fixed point", "",
              "| layer | activations | frac_in | frac_w | shift | frac_out | relu |",
              "|---|---|---|---|---|---|---|"]
    for l in rep["fixed_point"]:
        lines.append(f"| {l['name']} | {l['act_mode']} | {l['frac_in']} | {l['frac_w']} | "
                     f"{l['shift']} | {l['frac_out']} | {l['relu']} |")
    convs = [(n, i) for n, i in zip(rep["layer_names"], rep["layers"]) if i["kind"] == "conv"]
    if convs:
        lines += ["", f"## Feature maps ({rep['n_pes']} PEs; slots a PE, input or output, "
                      "whichever is larger)", "",
                  "| layer | input | output map | positions | slots in | slots out | slots a PE |",
                  "|---|---|---|---|---|---|---|"]
        for name, i in convs:
            lines.append(f"| {name} | {'x'.join(map(str, i['in_map']))} | "
                         f"{'x'.join(map(str, i['out_map']))} | {i['positions']} | "
                         f"{i['slots_in']:,} | {i['slots_out']:,} | {i['slots_per_pe']:,} |")
    lines += ["", f"## Cycle estimate, first test vector, {rep['n_pes']} PEs", "",
              "(conv: summed over the output positions; dense engine: every MAC, one a PE a cycle)",
              "", "| layer | positions | active columns | entries | ideal | deep-queue bound | "
              "load balance | dense engine | speed-up |", "|---|---|---|---|---|---|---|---|---|"]
    for name, c in zip(rep["layer_names"], rep["cycles_first_vector"]):
        lines.append(f"| {name} | {c.get('positions', 1):,} | {c['active_columns']:,} | "
                     f"{c['entries']:,} | {c['ideal']:,.1f} | {c['bound']:,} | "
                     f"{100 * c['load_balance']:.1f} % | {c['dense_cycles']:,} | "
                     f"{c['speedup']:.1f}x |")
    t = rep["cycles_total"]
    lines.append(f"| total | | | | | {t['bound']:,} | | {t['dense_cycles']:,} | "
                 f"{t['dense_cycles'] / max(1, t['bound']):.1f}x |")
    if not rep["images_written"]:
        lines += ["", "Memory images and the manifest are not written for conv nets yet (the "
                      "engine's layer descriptors carry no conv geometry); the test vectors are."]
    return "\n".join(lines) + "\n"


def run(cfg: Config, out: Path, n_pes: int, data_dir: str | None = None, use_cache: bool = True,
        n_vectors: int = 16, ptr_w: int = memimage.PTR_W, model: str | torch.nn.Sequential | None = None,
        cache_dir: Path | None = None) -> dict:
    """The whole pipeline; returns the report (also written to ``out``)."""
    t0 = time.time()
    data = datasets.load(cfg.dataset, data_dir)
    if isinstance(model, str):
        model = load_model(model, data.n_in, data.image_shape)
    template = copy.deepcopy(model) if model is not None else network(cfg, data)
    cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
    stages, cached = load_or_train(cfg, data, cache_dir, use_cache, model)
    net = stages.exported
    layers = quantize.to_qlayers(net, data.x_train, n_pes, in_shape=data.image_shape)
    is_conv = any(lay.geom is not None for lay in layers)
    acc = dict(stages.accuracy)
    acc["fixed"] = float((quantize.predict(layers, data.x_test) == data.y_test).mean() * 100)
    if cfg.acts == "log":
        pred = quantize.predict_linear_last(layers, data.x_test, data.x_train)
        acc["fixed_linear_out"] = float((pred == data.y_test).mean() * 100)
    vectors = write_vectors(out, layers, data, n_vectors)
    exp_w = cfg.act_bits if cfg.acts == "log" else None
    extra = {"dataset": cfg.dataset, "weights": cfg.weights, "act_mode": cfg.acts,
             "act_exp_w": exp_w, "vectors": vectors,
             "input": {"n_in": layers[0].n_in, "frac": layers[0].frac_in},
             "output": {"n_out": layers[-1].n_out, "n_slots": layers[-1].n_slots_out,
                        "frac": layers[-1].frac_out}}
    if not is_conv:  # the engine's layer descriptors do not carry conv geometry yet
        memimage.write_images(out, layers, ptr_w, extra)
    huf = write_huffman(out, [l.name for l in layers], net.codes)
    res1 = network_forward(layers, quantize.quantize_input(layers, data.x_test[:1]))
    cycles = [golden.cycles(l, r["input"][0]) for l, r in zip(layers, res1)]
    for name in ("dense", "pruned"):
        atomic.write_bytes(out / f"{name}.pt", _state_bytes(getattr(stages, name)))
    template.load_state_dict(stages.pruned)
    atomic.write_bytes(out / "shared.pt",
                       _state_bytes(train.load_shared(template, net).state_dict()))
    rep = {"dataset": cfg.dataset, "net": cfg.net if model is None else "model",
           "weights": cfg.weights, "acts": cfg.acts, "act_exp_w": exp_w,
           "seed": cfg.seed, "n_pes": n_pes, "config": asdict(cfg), "cached": cached,
           "accuracy": acc, "layer_names": [l.name for l in layers],
           "layers": [layer_info(l) for l in layers], "images_written": not is_conv,
           "sizes_1pe": sizes.network_sizes(net.codes, 1),
           "sizes_npe": sizes.network_sizes(net.codes, n_pes),
           "fixed_point": [{"name": l.name, "act_mode": l.act_mode, "act_exp_w": exp_w,
                            "frac_in": l.frac_in, "frac_w": l.frac_w, "shift": l.shift,
                            "frac_out": l.frac_out, "relu": l.relu,
                            "codebook": l.codebook.tolist()} for l in layers],
           "huffman_files": huf, "cycles_first_vector": cycles,
           "cycles_total": {k: sum(c[k] for c in cycles) for k in ("bound", "dense_cycles")},
           "seconds": round(time.time() - t0, 2)}
    rep["compression_ratio"] = rep["sizes_1pe"]["total"]["huffman_ratio"]
    atomic.write_json(out / "report.json", rep)
    atomic.write_text(out / "report.md", report_md(rep))
    return rep


def config_from_args(args: argparse.Namespace) -> Config:
    """The Config of parsed arguments."""
    kw = {"dataset": args.dataset, "net": args.net, "weights": args.weights, "seed": args.seed,
          "acts": args.acts, "act_bits": args.act_bits,
          **defaults(args.dataset, args.acts, args.net)}
    if args.hidden:
        kw["hidden"] = tuple(int(h) for h in args.hidden.split(","))
    if args.densities:
        kw["densities"] = tuple(float(d) for d in args.densities.split(","))
    if args.epochs:
        kw["epochs"] = args.epochs
    return Config(**kw)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.compress", description=__doc__)
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits")
    p.add_argument("--net", choices=NETS, default="lenet300",
                   help="LeNet-300-100 (default), LeNet-5 (MNIST) or the small CNN (digits); "
                        "--model overrides it")
    p.add_argument("--data-dir", help=f"MNIST folder (default ${datasets.MNIST_ENV} or "
                                      "../shared/data/mnist-t10k)")
    p.add_argument("--weights", choices=["kmeans", "log"], default="kmeans")
    p.add_argument("--acts", choices=["linear", "log"], default="linear",
                   help="activations: 16-bit linear, or log (sign, zero, exponent; needs --weights "
                        "log: the pruned network retrained on the INQ levels with log activations)")
    p.add_argument("--act-bits", type=int, default=ACT_EXP_W,
                   help=f"EA, exponent bits of a log activation, 3..5 (default {ACT_EXP_W})")
    p.add_argument("--pes", type=int, default=4, help="number of PEs, 1..64 (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("build/model"))
    p.add_argument("--hidden", help="hidden sizes, e.g. 300,100")
    p.add_argument("--model", help="MODULE:ATTR, an nn.Sequential of Linear and ReLU layers or a "
                                   "conv net (Conv2d, MaxPool2d 2x2, ReLU, Flatten, Linear), or a "
                                   "function of the input count returning one, instead of --net")
    p.add_argument("--densities", help="per-layer densities after pruning, e.g. 0.08,0.09,0.26 "
                                       "(default per dataset, denser with --acts log)")
    p.add_argument("--epochs", type=int, help="dense training epochs")
    p.add_argument("--vectors", type=int, default=16, help="test vectors to export")
    p.add_argument("--ptr-w", type=int, default=memimage.PTR_W, help="pointer width in bits")
    p.add_argument("--no-cache", action="store_true", help="retrain even when cached")
    p.add_argument("--cache-dir", type=Path, help="training cache (default $MODEL_CACHE or "
                                                   "build/model-cache)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        if not 1 <= args.pes <= 64:
            raise ValueError(f"--pes must be in 1..64, got {args.pes}")
        if args.model and args.net != "lenet300":
            raise ValueError("--model and --net both name the network: give one")
        rep = run(config_from_args(args), args.out, args.pes, args.data_dir, not args.no_cache,
                  args.vectors, args.ptr_w, args.model, args.cache_dir)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    a = rep["accuracy"]
    acts = f" weights, log activations (EA = {rep['act_exp_w']})" if rep["acts"] == "log" else ""
    print(f"{rep['dataset']} {rep['weights']}{acts}: "
          + ", ".join(f"{ACCURACY_STAGES[s]} {a[s]:.2f} %" for s in ACCURACY_STAGES if s in a)
          + f", compression {rep['compression_ratio']:.1f}x ({'cached, ' if rep['cached'] else ''}"
          f"{rep['seconds']} s) -> {args.out}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, so that the cached training stages pickle as
    # models.compress.Stages (loadable by any importer), not as __main__.Stages.
    from models.compress import main as _main

    sys.exit(_main())
