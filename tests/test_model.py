"""Compression stages, fixed-point conversion against float, datasets, and the pipeline."""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json

import numpy as np
import pytest
import torch
from torch import nn

from conftest import REPO, data_dir
from models import compress, data, fixedpoint as fp, golden, huffman, memimage, quantize, sizes, train


def test_linear_layers():
    assert [r for _, r in train.linear_layers(train.lenet(8, (5, 4), 3))] == [True, True, False]
    for bad in (nn.Sequential(nn.Linear(2, 2), nn.Tanh()), nn.Sequential(nn.ReLU()),
                nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.ReLU())):
        with pytest.raises(ValueError):
            train.linear_layers(bad)


def test_magnitude_mask_and_kmeans(rng):
    wb = rng.normal(size=(50, 41))
    m = train.magnitude_mask(wb, 0.1)
    assert m[:, -1].all() and m[:, :-1].sum() == 200
    assert np.abs(wb[:, :-1][m[:, :-1]]).min() >= np.abs(wb[:, :-1][~m[:, :-1]]).max()
    centers = np.linspace(-1, 1, 15)
    vals = np.repeat(centers, 40) + rng.normal(scale=0.01, size=600)
    assert np.allclose(train.kmeans_1d(vals, 15), centers, atol=0.01)
    few = np.array([0.5, -0.25, 0.5, 0.125])  # fewer distinct values than centroids
    assert train.kmeans_1d(few, 15).tolist() == [-0.25, 0.125] + [0.5] * 13
    cb = np.concatenate([[0.0], centers])
    codes = train.nearest_codes(np.array([[-0.99, 0.02, 0.5]]), np.array([[True, False, True]]), cb)
    assert codes.tolist() == [[1, 0, 12]]


def test_log_levels():
    vals = np.array([0.3, -0.02, 0.011, -0.7, 0.05, 0.001])
    lev = train.log_levels(vals)
    assert len(lev) == 15 and np.allclose(np.log2(np.abs(lev)), np.round(np.log2(np.abs(lev))))
    assert lev.max() == 0.25 and lev.min() == -0.5  # INQ: 2^floor(log2(4/3 max))
    q = train.nearest_level(np.array([0.3, 0.37, 0.0, -0.7]), lev)
    assert q.tolist() == [0.25, 0.25, 0.0, -0.5]


def _random_shared(rng, sizes_, mode="kmeans") -> train.Shared:
    codes, books, relu = [], [], []
    for i, (a, b) in enumerate(zip(sizes_[:-1], sizes_[1:])):
        codes.append(np.where(rng.random((b, a + 1)) < 0.4, rng.integers(1, 16, (b, a + 1)), 0))
        if mode == "log":
            books.append(np.r_[0.0, rng.choice([-1, 1], 15) * 2.0 ** -rng.integers(1, 8, 15)])
        else:
            books.append(np.r_[0.0, rng.normal(scale=0.3, size=15)])
        relu.append(i < len(sizes_) - 2)
    return train.Shared(codes, books, relu, mode)


@pytest.mark.parametrize("mode,n_pes", [("kmeans", 1), ("kmeans", 5), ("log", 3)])
def test_fixed_point_within_quantization_bound(rng, mode, n_pes):
    """Golden integer outputs against the float network, within a propagated error bound."""
    sh = _random_shared(rng, [30, 20, 12, 6], mode)
    x = rng.random((200, 30))
    layers = quantize.to_qlayers(sh, x, n_pes)
    res = golden.network_forward(layers, quantize.quantize_input(layers, x))
    a, err = x, 2.0 ** -(layers[0].frac_in + 1)  # input rounding
    for lay, codes, wb, r in zip(layers, sh.codes, sh.matrices(), res):
        wq = fp.dequantize(lay.codebook, lay.frac_w)[codes]
        dw = np.abs(wq - wb).max()
        a_aug = np.c_[a, np.ones(len(a))]
        err = (np.abs(wb[:, :-1]).sum(1).max() * err + dw * (np.abs(a_aug).sum(1).max() + err * wb.shape[1])
               + 2.0 ** -(lay.frac_out + 1))
        a = a_aug @ wb.T
        if lay.relu:
            a = np.maximum(a, 0)
        got = fp.dequantize(r["y"], lay.frac_out)
        assert not fp.is_saturated(r["acc"] >> lay.shift, 16).any()
        assert np.abs(got - a).max() <= err
        assert np.abs(got - a).max() < 0.05 * np.abs(a).max()
    assert (quantize.predict(layers, x) == a.argmax(1)).mean() > 0.9


def test_int_codebook():
    cb, frac = quantize.int_codebook(np.r_[0.0, 0.5, -0.25, 2.0 ** -10, np.zeros(12)], "log")
    assert frac == 10 and cb[:4].tolist() == [0, 512, -256, 1]
    cb, frac = quantize.int_codebook(np.r_[0.0, 0.9, -0.3, np.zeros(13)], "linear")
    assert frac == 15 and cb[1] == round(0.9 * 2 ** 15)
    with pytest.raises(ValueError, match="span"):
        quantize.int_codebook(np.r_[0.0, 1.0, 2.0 ** -16, np.zeros(13)], "log")


def test_sizes_account_exactly(rng):
    codes = np.where(rng.random((40, 31)) < 0.1, rng.integers(1, 16, (40, 31)), 0)
    s = sizes.layer_sizes(codes)
    assert s["entries"] == s["nonzero"] + s["padding"] and s["params"] == 40 * 31
    assert s["shared_bits"] == 8 * s["entries"] + s["pointer_bits"] + 256
    assert s["pointer_bits"] == 32 * s["entries"].bit_length()
    assert s["huffman_bits"] < s["shared_bits"] + 128


def test_mnist_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="nowhere: MNIST folder not found"):
        data.mnist(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        data.mnist(tmp_path)
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + (2).to_bytes(4, "big") * 3 + b"\x00" * 7))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (2).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="images-idx3-ubyte.gz: 7 data bytes, header says 8"):
        data.mnist(tmp_path)
    bad.write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="images-idx3-ubyte.gz: cannot read"):
        data.mnist(tmp_path)
    assert compress.main(["--dataset", "mnist", "--data-dir", str(tmp_path / "x"),
                          "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_mnist_split():
    d = data.mnist(data_dir("MNIST_DIR", "mnist-t10k"))
    assert d.x_train.shape == (8000, 784) and d.x_test.shape == (2000, 784)
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1


TINY = dict(hidden=(16, 8), densities=(0.5, 0.5, 0.8), epochs=10, lr=1e-2, prune_steps=2, prune_epochs=2,
            share_epochs=1, inq_fractions=(0.5, 1.0), inq_epochs=1)


@pytest.mark.parametrize("weights,n_pes", [("kmeans", 3), ("log", 1)])
def test_pipeline(tmp_path, weights, n_pes):
    torch.set_num_threads(1)
    cfg = compress.Config(weights=weights, **TINY)
    rep = compress.run(cfg, tmp_path, n_pes, n_vectors=5, cache_dir=tmp_path / "cache")
    assert not rep["cached"] and set(rep["accuracy"]) == {"float", "pruned", "shared", "fixed"}
    assert rep["accuracy"]["fixed"] > 50
    m, layers = memimage.read_images(tmp_path)
    assert m["weights"] == weights and len(layers) == 3 and m["n_pes"] == n_pes
    assert all(l.mode == ("log" if weights == "log" else "linear") for l in layers)
    xq = memimage.read_hex(tmp_path / "vectors" / "input.hex", 4).astype(np.int64).reshape(5, -1)
    xq = np.where(xq >= 1 << 15, xq - (1 << 16), xq)
    res = golden.network_forward(layers, xq)
    for i, r in enumerate(res):
        want = memimage.read_hex(tmp_path / m["vectors"]["outputs"][i], 4).reshape(5, -1)
        assert np.array_equal(r["y_slots"] & 0xFFFF, want)
    again = compress.run(cfg, tmp_path, n_pes, n_vectors=5, cache_dir=tmp_path / "cache")
    assert again["cached"] and again["accuracy"] == rep["accuracy"]
    assert json.loads((tmp_path / "report.json").read_text())["cached"]
    assert "| fc1 64x16 |" in (tmp_path / "report.md").read_text()
    assert "## Cycle estimate" in (tmp_path / "report.md").read_text()
    for name, c in zip(("fc1", "fc2", "fc3"), rep["sizes_1pe"]["layers"]):
        v = huffman.unpack((tmp_path / "huffman" / f"{name}_v.huf").read_bytes(), name)
        assert len(v) == c["entries"] and (v == 0).sum() == c["padding"]
    for f in ("dense.pt", "pruned.pt", "shared.pt"):
        assert (tmp_path / f).is_file()


def custom_mlp(n_in: int) -> nn.Sequential:
    """A user network for --model: two Linear layers, not LeNet."""
    return nn.Sequential(nn.Linear(n_in, 24), nn.ReLU(), nn.Linear(24, 10))


FIXED_NET = nn.Sequential(nn.Linear(64, 10))


def test_custom_sequential(tmp_path):
    torch.set_num_threads(1)
    cfg = compress.Config(**{**TINY, "hidden": (24,), "densities": (0.5, 0.8)})
    rep = compress.run(cfg, tmp_path, 2, n_vectors=3, model="test_model:custom_mlp",
                       cache_dir=tmp_path / "cache")
    m, layers = memimage.read_images(tmp_path)
    assert [(l.n_in, l.n_out) for l in layers] == [(64, 24), (24, 10)]
    assert rep["accuracy"]["fixed"] > 50
    # The architecture is part of the cache key: LeNet with the same settings is not a hit.
    assert compress.cache_key(cfg, custom_mlp(64)) != compress.cache_key(cfg)
    assert compress.run(cfg, tmp_path, 2, n_vectors=3, model=custom_mlp(64),
                        cache_dir=tmp_path / "cache")["cached"]


@pytest.mark.parametrize("spec,msg", [
    ("nocolon", "expected MODULE:ATTR"), ("test_model:missing", "has no attribute"),
    ("torch.nn:Tanh", "calling it with the input count failed"),
    ("torch.nn:Identity", "expected an nn.Sequential, got Identity"),
    ("test_model:FIXED_NET", "first layer takes 64 inputs, the dataset has 10")])
def test_custom_model_errors(spec, msg):
    with pytest.raises(ValueError, match=msg):
        compress.load_model(spec, 10)


def test_custom_model_must_be_sequential():
    with pytest.raises(ValueError, match="expected an nn.Sequential, got Linear"):
        compress.load_model("test_model:make_linear", 64)


def make_linear(n_in: int) -> nn.Linear:
    return nn.Linear(n_in, 10)


# ---------------------------------------------------------------------------------------------
# Log activations
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("exp_w", [3, 4, 5])
def test_log_activation_network_matches_float(rng, exp_w):
    """Calibrated offsets in range, and the golden integer model equal to the float network
    computed with log-rounded activations (fixedpoint.log_rounded), bit for bit."""
    sh = _random_shared(rng, [30, 20, 12, 6], "log")
    x = rng.random((100, 30))
    fracs = quantize.log_act_fracs(sh, x, exp_w)
    in_max = min((1 << exp_w) - 1, 14)
    assert all(0 <= f <= in_max for f in fracs[:-1]) and fracs[0] == in_max  # inputs up to 1.0
    sh = train.Shared(sh.codes, sh.codebooks, sh.relu, "log", "log", exp_w, fracs)
    layers = quantize.to_qlayers(sh, x, 3)
    assert [l.frac_out for l in layers] == fracs[1:] and all(l.act_mode == "log" for l in layers)
    res = golden.network_forward(layers, quantize.quantize_input(layers, x))
    a = fp.log_rounded(x, fracs[0], exp_w)
    for lay, wb, r, f in zip(layers, sh.matrices(), res, fracs[1:]):
        z = a @ wb[:, :-1].T + wb[:, -1]
        a = fp.log_rounded(np.maximum(z, 0) if lay.relu else z, f, exp_w)
        assert np.array_equal(fp.dequantize(r["y"], f), a)
    assert np.array_equal(quantize.predict(layers, x), a.argmax(1))


def test_log_activation_export_errors(rng):
    sh = _random_shared(rng, [6, 5, 3], "log")
    frac_w = [quantize.int_codebook(cb, "log")[1] for cb in sh.codebooks]
    with pytest.raises(ValueError, match="calibrated offsets of every layer"):
        quantize.to_qlayers(train.Shared(sh.codes, sh.codebooks, sh.relu, "log", "log", 4), None, 1)
    bad = train.Shared(sh.codes, sh.codebooks, sh.relu, "log", "log", 3, [8, 3, 3])
    with pytest.raises(ValueError, match="layer fc1: log activations with EA = 3 need 0 <= frac_in <= 7"):
        quantize.to_qlayers(bad, None, 1)
    bad = train.Shared(sh.codes, sh.codebooks, sh.relu, "log", "log", 4, [2, 3 + frac_w[0], 3])
    with pytest.raises(ValueError, match=f"fc1: frac_out {3 + frac_w[0]} > frac_in \\+ frac_w"):
        quantize.to_qlayers(bad, None, 1)
    # two weights 2^15 (frac_w 8) times the largest EA = 5 activation 2^31 reach 2^47
    big = train.Shared([np.array([[15, 15, 0]])], [np.r_[0.0, 2.0 ** -8, np.full(14, 2.0 ** 7)]],
                       [False], "log", "log", 5, [0, 0])
    with pytest.raises(ValueError, match="fc1 \\(log activations, EA = 5\\): accumulator bound"):
        quantize.to_qlayers(big, None, 1)
    big.act_exp_w = 4  # 2^16 * 2^15 fits
    assert quantize.to_qlayers(big, None, 1)[0].act_max == 1 << 15
    with pytest.raises(ValueError, match="log activations need power-of-two"):
        train.finetune_log_acts(_random_shared(rng, [6, 5, 3]), [], [], None, [0, 0, 0], 4, 1,
                                1e-3, 0)


@pytest.mark.parametrize("kw,msg", [
    (dict(acts="log"), "--acts log needs --weights log"),
    (dict(weights="log", acts="log", act_bits=2), "--act-bits .* must be in 3..5, got 2"),
    (dict(weights="log", act_bits=6), "must be in 3..5, got 6"),
    (dict(acts="float"), "activations must be 'linear' or 'log'"),
    (dict(weights="ternary"), "weights must be 'kmeans' or 'log'")])
def test_config_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        compress.Config(**kw)


def test_cli_rejects_log_acts_with_kmeans(tmp_path, capsys):
    assert compress.main(["--acts", "log", "--out", str(tmp_path / "o")]) == 2
    assert "--acts log needs --weights log" in capsys.readouterr().err
    assert compress.main(["--weights", "log", "--acts", "log", "--act-bits", "6",
                          "--out", str(tmp_path / "o")]) == 2
    assert "got 6" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_cache_key_covers_activation_settings():
    base = compress.Config(weights="log")
    assert compress.cache_key(compress.Config(weights="log", act_bits=3)) == compress.cache_key(base)
    keys = {compress.cache_key(compress.Config(weights="log", acts="log", **kw))
            for kw in ({}, {"act_bits": 3}, {"act_epochs": 1}, {"act_lr": 0.1})}
    assert len(keys) == 4 and compress.cache_key(base) not in keys


@pytest.mark.parametrize("exp_w", [3, 5])
def test_pipeline_log_activations(tmp_path, exp_w):
    """--weights log --acts log end to end on digits (few epochs): every stage reported,
    packed log test vectors equal to the golden model, the power-of-two stages reused from the
    cache of the plain log-weight run."""
    torch.set_num_threads(1)
    cfg = compress.Config(weights="log", acts="log", act_bits=exp_w, act_epochs=2, **TINY)
    cache = tmp_path / "cache"
    rep = compress.run(cfg, tmp_path, 2, n_vectors=4, cache_dir=cache)
    assert set(rep["accuracy"]) == {"float", "pruned", "shared", "log_acts", "fixed",
                                    "fixed_linear_out"}
    assert rep["accuracy"]["fixed"] > 50 and rep["acts"] == "log" and rep["act_exp_w"] == exp_w
    assert (cache / f"{compress.cache_key(compress.Config(weights='log', **TINY))}.pt").is_file()
    m, layers = memimage.read_images(tmp_path)
    assert m["act_mode"] == "log" and m["act_exp_w"] == exp_w
    fracs = [l["frac_in"] for l in rep["fixed_point"]]
    assert all(0 <= f <= min((1 << exp_w) - 1, 14) for f in fracs)
    for lay in layers:
        lay.act_mode, lay.act_exp_w = "log", exp_w
    words = memimage.read_hex(tmp_path / "vectors" / "input.hex", 4).astype(np.int64)
    assert (words >> (exp_w + 2) == 0).all()  # {sign, zero, exp}, zero-extended
    xq = fp.log_value(*fp.unpack_log(words, exp_w)).reshape(4, -1)
    res = golden.network_forward(layers, xq)
    for i, r in enumerate(res):
        got = memimage.read_hex(tmp_path / m["vectors"]["outputs"][i], 4).astype(np.int64)
        assert np.array_equal(fp.log_value(*fp.unpack_log(got, exp_w)).reshape(4, -1),
                              r["y_slots"])
    assert f"log activations (EA = {exp_w})" in (tmp_path / "report.md").read_text()
    again = compress.run(cfg, tmp_path, 2, n_vectors=4, cache_dir=cache)
    assert again["cached"] and again["accuracy"] == rep["accuracy"]


@pytest.mark.parametrize("dataset", ["digits", "mnist"])
def test_log_activations_keep_more_weights(dataset):
    """--acts log trains at LOG_ACT_DENSITIES (no layer sparser than with linear activations);
    every other setting, and --densities given by the user, as for linear activations."""
    lin, log = compress.defaults(dataset), compress.defaults(dataset, "log")
    assert log["densities"] == compress.LOG_ACT_DENSITIES[dataset] != lin["densities"]
    assert all(a >= b for a, b in zip(log["densities"], lin["densities"]))
    assert {k: v for k, v in log.items() if k != "densities"} == {
        k: v for k, v in lin.items() if k != "densities"}
    args = dict(dataset=dataset, net="lenet300", weights="log", seed=0, hidden=None,
                densities=None, epochs=None)
    cfg = compress.config_from_args(argparse.Namespace(**args, acts="log", act_bits=4))
    assert cfg.densities == compress.LOG_ACT_DENSITIES[dataset]
    lin_cfg = compress.config_from_args(argparse.Namespace(**args, acts="linear", act_bits=4))
    assert lin_cfg.densities == lin["densities"]
    mine = compress.config_from_args(argparse.Namespace(**{**args, "densities": "0.5,0.5,0.5"},
                                                        acts="log", act_bits=4))
    assert mine.densities == (0.5, 0.5, 0.5)


def _bench_model():
    spec = importlib.util.spec_from_file_location("bench_model", REPO / "scripts" / "bench_model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_model_seed_stats_and_bars():
    """Mean, sample standard deviation and gap to lin x log's mean per dataset and variant; a
    run the exporter refused is listed, left out of the mean, and fails its bar."""
    bench = _bench_model()

    def row(ds, v, seed, fixed=None):
        if fixed is None:
            return {"dataset": ds, "variant": v, "seed": seed, "error": "bound broken"}
        return {"dataset": ds, "variant": v, "seed": seed,
                "accuracy": {"float": 97.5, "fixed": fixed}}
    rows = [row("digits", "lin-log", 0, 97.0), row("digits", "log-log4", 0, 96.0),
            row("digits", "lin-log", 1, 96.0), row("digits", "log-log4", 1, 95.0),
            row("digits", "log-log4", 2), row("mnist", "log-log4", 0, 96.5),
            row("mnist", "log-log5", 0)]
    st = {(s["dataset"], s["variant"]): s for s in bench.seed_stats(rows)}
    assert st["digits", "log-log4"]["seeds"] == [0, 1] and st["digits", "log-log4"]["refused"] == [2]
    assert st["digits", "log-log4"]["mean"] == 95.5
    assert st["digits", "log-log4"]["sd"] == pytest.approx(0.5 ** 0.5)
    assert st["digits", "log-log4"]["gap_to_lin_log"] == 1.0
    assert st["digits", "lin-log"]["gap_to_lin_log"] == 0.0
    assert st["mnist", "log-log4"]["sd"] == 0.0 and st["mnist", "log-log4"]["gap_to_lin_log"] is None
    assert st["mnist", "log-log5"]["mean"] is None and st["mnist", "log-log5"]["refused"] == [0]
    first = rows[:2]
    assert bench.bar_check(rows[1], first) == ("lin x log fixed - fixed <= 0.5", False)
    assert bench.bar_check(row("digits", "log-log4", 0, 96.5), first)[1]
    assert bench.bar_check(rows[0], first) == ("float - fixed <= 1.0", True)
    assert bench.bar_check(rows[4], first) == ("refused: bound broken", False)


@pytest.mark.parametrize("argv,msg", [(["--seeds", "0,x"], "--seeds must be integers"),
                                      (["--seeds", "1,1"], "--seeds repeats a seed"),
                                      (["--variants", "log-log6"], "unknown variants")])
def test_bench_model_rejects_bad_arguments(tmp_path, capsys, argv, msg):
    with pytest.raises(SystemExit) as e:
        _bench_model().main([*argv, "--out", str(tmp_path / "b")])
    assert e.value.code == 2 and msg in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_parallel_callers_train_once(tmp_path, monkeypatch):
    """Two workers asking for the same untrained configuration: one trains, the other waits for
    the cache (the regression's simulators ask for the same real networks at the same time)."""
    import threading
    import time
    calls = []

    def train(cfg, data, model=None):
        calls.append(cfg)
        time.sleep(0.5)
        return {"trained": len(calls)}
    monkeypatch.setattr(compress, "train_stages", train)
    got = []
    workers = [threading.Thread(target=lambda: got.append(
        compress.load_or_train(compress.Config(), None, tmp_path))) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(calls) == 1
    assert sorted(cached for _, cached in got) == [False, True]
    assert all(stages == {"trained": 1} for stages, _ in got)
