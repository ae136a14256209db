"""Conv nets (models/conv.py): geometry, patch order and feature-map layout, the integer conv,
pooling and flatten against torch (exact on integer-valued tensors), cycles, accepted layers and
a small CNN through the whole pipeline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from conftest import random_codes
from models import compress, conv, csc, fixedpoint as fp, golden, memimage, train

F = nn.functional


def _qlayer(rng, geom, in_map, n_pes, density, shift, relu, n_out=None):
    """A random conv layer (``geom``) or FC layer (``n_out`` rows, geom None) reading
    ``in_map``, with integer weights -8..8 and a bias column; (QLayer, weights W, bias b) in
    torch's shapes."""
    n_in = geom.patch if geom is not None else in_map.channels * in_map.h * in_map.w
    rows = geom.out_ch if geom is not None else n_out
    codes = random_codes(rng, rows, n_in + 1, density)
    cb = np.r_[0, rng.integers(-8, 9, 15)]
    cols = (conv.conv_columns(codes[:, :-1], geom, in_map) if geom is not None
            else conv.fc_columns(codes[:, :-1], in_map))
    lay = golden.QLayer(csc=csc.encode(np.c_[cols, codes[:, -1]], n_pes), codebook=cb,
                        shift=shift, relu=relu, has_bias=True, bias_act=1,
                        n_in=in_map.channels * in_map.h * in_map.w, n_slots_in=in_map.n_slots,
                        geom=geom, in_map=in_map if geom is not None else None)
    w = cb[codes[:, :-1]]
    if geom is not None:
        w = w.reshape(geom.out_ch, geom.in_ch, geom.kh, geom.kw)
    return lay, torch.from_numpy(w.astype(np.float64)), torch.from_numpy(cb[codes[:, -1]] * 1.0)


def _ref_conv(x, w, b, g):
    """torch's conv2d of integer-valued float64 tensors (exact), only the computed positions."""
    y = F.conv2d(x, w, b, (g.sy, g.sx), (g.py, g.px))
    return y[:, :, :g.calc_h, :g.calc_w].round().long().numpy()


def _requant_pool(acc, lay):
    y = fp.requantize(acc, lay.shift, 16, lay.relu)
    return conv.max_pool(y) if lay.geom.pool else y


def test_feature_map_layout_and_patch_order():
    owned = conv.FeatureMap(np.array([0, 4, 1]), 8, 2, 3, n_pes=4)
    # Channel slot 5 on 4 PEs: PE 1, local channel 1; (y, x) = (1, 2) is address 1*6 + 5 = 11.
    assert int(owned.slot(5, 1, 2)) == 11 * 4 + 1
    assert owned.n_slots == 48 and owned.slots()[1, 0, 0] == (1 * 6) * 4 + 0
    flat = conv.input_map((2, 4, 4))
    assert flat.slots().ravel().tolist() == list(range(32))  # stream order = torch's Flatten
    g = conv.ConvGeom(2, 4, 4, 3, 3, 3, py=1, px=1)
    idx = conv.patch_index(g, flat)
    assert idx.shape == (16, 18)
    # Position (0, 0): column cs*9 + ky*3 + kx; ky = 0 or kx = 0 reads the zero padding.
    assert idx[0, 1 * 9 + 1 * 3 + 1] == 16 and idx[0, 0 * 9 + 2 * 3 + 2] == 5
    assert idx[0, 0] == idx[0, 9 + 3] == flat.n_slots
    # Position (1, 2) (row-major) of a stride-2 layer reads input (2 - 1 + ky, 4 - 1 + kx).
    g2 = conv.ConvGeom(1, 5, 7, 1, 3, 3, sy=2, sx=2, py=1, px=1)
    idx2 = conv.patch_index(g2, conv.input_map((1, 5, 7)))
    assert (g2.out_h, g2.out_w) == (3, 4) and idx2[1 * 4 + 2, 0] == 1 * 7 + 3


@pytest.mark.parametrize("k,s,p,h,w", [(1, 1, 0, 5, 6), (3, 1, 1, 7, 7), (5, 2, 2, 9, 8),
                                       ((2, 3), (2, 1), (0, 1), 6, 5), (4, 2, 0, 8, 11)])
def test_output_sizes_match_torch(k, s, p, h, w):
    m = nn.Conv2d(2, 3, k, stride=s, padding=p)
    g = conv.parse(nn.Sequential(nn.Unflatten(1, (2, h, w)), m, nn.Flatten(),
                                 nn.Linear(3 * ((h + 2 * m.padding[0] - m.kernel_size[0])
                                                // m.stride[0] + 1)
                                           * ((w + 2 * m.padding[1] - m.kernel_size[1])
                                              // m.stride[1] + 1), 4)))[0].geom
    out = m(torch.zeros(1, 2, h, w))
    assert (g.out_h, g.out_w) == out.shape[2:]
    assert g.patch == 2 * m.kernel_size[0] * m.kernel_size[1]


@pytest.mark.parametrize("n_pes,k,s,p,density", [(1, 3, 1, 1, 0.5), (3, 5, 2, 2, 0.2),
                                                 (4, 1, 1, 0, 1.0), (4, 2, 2, 0, 0.0),
                                                 (5, 3, 2, 1, 0.05)])
def test_integer_conv_chain_matches_torch(rng, n_pes, k, s, p, density):
    """conv (pool) -> conv -> flatten -> fc through the slot layouts, against torch: the
    accumulators exactly, the outputs by the same requantize rule; max pooling of odd maps."""
    x = rng.integers(-40, 41, (3, 2, 11, 9))
    g1 = conv.ConvGeom(2, 11, 9, 7, k, k, s, s, p, p, pool=True)
    l1, w1, b1 = _qlayer(rng, g1, conv.input_map((2, 11, 9)), n_pes, density, 2, True)
    g2 = conv.ConvGeom(7, g1.map_h, g1.map_w, 6, 3, 2, 1, 1, 1, 1)
    l2, w2, b2 = _qlayer(rng, g2, l1.out_map, n_pes, density, 3, False)
    l3, w3, b3 = _qlayer(rng, None, l2.out_map, n_pes, 0.5, 4, False, n_out=5)
    res = golden.network_forward([l1, l2, l3], x.reshape(3, -1))

    acc1 = _ref_conv(torch.from_numpy(x * 1.0), w1, b1, g1)
    y1 = _requant_pool(acc1, l1)
    assert np.array_equal(res[0]["acc"], acc1) and np.array_equal(res[0]["y"], y1)
    unpooled = dataclasses.replace(g1, pool=False)
    y1_all = fp.requantize(_ref_conv(torch.from_numpy(x * 1.0), w1, b1, unpooled), 2, 16, True)
    # pooling as torch's, odd sizes included
    assert np.array_equal(y1, F.max_pool2d(torch.from_numpy(y1_all * 1.0), 2).long().numpy())
    acc2 = _ref_conv(torch.from_numpy(y1 * 1.0), w2, b2, g2)
    y2 = _requant_pool(acc2, l2)
    assert np.array_equal(res[1]["acc"], acc2) and np.array_equal(res[1]["y"], y2)
    flat = nn.Flatten()(torch.from_numpy(y2 * 1.0))
    acc3 = (flat @ w3.T + b3).round().long().numpy()
    assert np.array_equal(res[2]["acc"], acc3)
    assert np.array_equal(res[2]["y"], fp.requantize(acc3, 4, 16))
    # Every map in its slots: from_slots of the layout gives the row-order maps back.
    for r, lay in zip(res[:2], (l1, l2)):
        assert np.array_equal(r["y_slots"][:, lay.out_map.slots()], r["y"])
        assert r["y_slots"].shape[1] == lay.csc.n_slots * lay.geom.map_h * lay.geom.map_w


def test_conv_cycles_sum_layer_cycles(rng):
    g = conv.ConvGeom(3, 6, 6, 9, 3, 3, py=1, px=1)
    lay, _, _ = _qlayer(rng, g, conv.input_map((3, 6, 6)), 4, 0.3, 0, True)
    x = np.where(rng.random(108) < 0.6, rng.integers(1, 50, 108), 0)
    c = golden.cycles(lay, x)
    patches = np.c_[conv.patches(x[None], lay.patch_index())[0], np.ones(36, dtype=np.int64)]
    per = [golden.layer_cycles(lay.csc, pt) for pt in patches]
    for key in ("active_columns", "entries", "useful_macs", "padding", "bound"):
        assert c[key] == sum(q[key] for q in per), key
    assert c["work"] == [sum(q["work"][k] for q in per) for k in range(4)]
    assert c["positions"] == 36 and c["dense_cycles"] == 36 * 3 * 28
    assert c["speedup"] == c["dense_cycles"] / c["bound"]


def _net(*mods, shape=(1, 8, 8)):
    return nn.Sequential(nn.Unflatten(1, shape), *mods)


@pytest.mark.parametrize("model,msg", [
    (_net(nn.Conv2d(1, 4, 3, stride=3), nn.Flatten(), nn.Linear(16, 2)),
     r"layer 1 \(Conv2d.*stride must be 1 or 2"),
    (_net(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(3), nn.Flatten(), nn.Linear(16, 2)),
     r"layer 3 \(MaxPool2d.*only 2x2 max pooling with stride 2"),
    (_net(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2, stride=1), nn.Flatten(), nn.Linear(100, 2)),
     r"layer 2 \(MaxPool2d.*only 2x2"),
    (_net(nn.Conv2d(1, 4, 3, dilation=2), nn.Flatten(), nn.Linear(64, 2)),
     r"layer 1 \(Conv2d.*dilation must be 1"),
    (_net(nn.Conv2d(2, 4, 3, groups=2), nn.Flatten(), nn.Linear(144, 2), shape=(2, 8, 8)),
     r"layer 1 \(Conv2d.*groups must be 1"),
    (_net(nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect"), nn.Flatten(),
          nn.Linear(256, 2)), r"layer 1 \(Conv2d.*padding must be zeros"),
    (_net(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(144, 2)),
     r"layer 2 \(BatchNorm2d.*unsupported layer"),
    (_net(nn.Conv2d(1, 4, 3), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(36, 2)),
     r"layer 2 \(AvgPool2d.*unsupported layer"),
    (_net(nn.Conv2d(1, 4, 9), nn.Flatten(), nn.Linear(4, 2)), r"layer 1 .*does not fit a 8x8"),
    (_net(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(144, 2)),
     r"layer 1 .*3 input channels, the input has 1"),
    (nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(144, 2)),
     r"layer 0 .*needs a \(C, H, W\) input"),
    (_net(nn.Conv2d(1, 4, 3), nn.Linear(6, 2)), r"layer 2 .*needs a Flatten first"),
    (_net(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(100, 2)),
     r"layer 3 .*100 inputs, the previous layer gives 144"),
    (nn.Sequential(nn.Linear(4, 4), nn.MaxPool2d(2)), r"layer 1 .*must follow a Conv2d"),
    (_net(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.ReLU()), r"layer 3 \(ReLU.*once"),
    (_net(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.ReLU(), nn.Linear(144, 2)),
     r"layer 3 \(ReLU.*must follow"),
    (_net(nn.Conv2d(1, 4, 3)), r"last weighted layer \(conv1\) must be a Linear"),
    (nn.Sequential(nn.Linear(4, 4), nn.Unflatten(1, (1, 2, 2))), r"layer 1 .*first nn.Unflatten"),
])
def test_unsupported_layers(model, msg):
    with pytest.raises(ValueError, match=msg):
        conv.parse(model)


def test_networks_parse():
    layers = conv.parse(train.lenet5())
    assert [l.name for l in layers] == ["conv1", "conv2", "fc1", "fc2"]
    assert [l.relu for l in layers] == [True, True, True, False]
    g1, g2 = layers[0].geom, layers[1].geom
    assert (g1.map_h, g2.in_h, g2.map_h, g2.out_ch * g2.map_h * g2.map_w) == (12, 12, 4, 800)
    assert sum(p.numel() for p in train.lenet5().parameters()) == 431_080  # Deep Compression's
    # ReLU and pooling in either order; no bias.
    alt = conv.parse(_net(nn.Conv2d(1, 4, 3, padding="same", bias=False), nn.MaxPool2d(2),
                          nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)))
    assert alt[0].relu and alt[0].geom.pool and (alt[0].geom.py, alt[0].geom.map_h) == (1, 4)
    wb = train.augmented(alt[0].module)
    assert wb.shape == (4, 10) and not wb[:, -1].any()


def test_shifted_moves_whole_images():
    x = torch.arange(2 * 16, dtype=torch.float32).reshape(2, 16) + 1
    gen = torch.Generator().manual_seed(3)
    out = train.shifted(x, (1, 4, 4), 1, gen).reshape(2, 4, 4)
    for img, src in zip(out, x.reshape(2, 4, 4)):
        nz = img[img != 0]
        # every kept pixel keeps its neighbours' order: a whole-pixel translation, zero filled
        assert len(nz) >= 9 and all(torch.isin(nz, src.ravel()))
        r, c = np.argwhere(img.numpy() == nz[0].item())[0]
        sr, sc = np.argwhere(src.numpy() == nz[0].item())[0]
        assert abs(r - sr) <= 1 and abs(c - sc) <= 1
        assert torch.equal(img, torch.roll(F.pad(src, (1,) * 4), (int(r - sr), int(c - sc)),
                                           (0, 1))[1:5, 1:5])


def user_cnn(n_in: int) -> nn.Sequential:
    """A user conv net for --model (no Unflatten: the pipeline adds the dataset's shape)."""
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(64, 10))


TINY_CNN = dict(densities=(0.8, 0.5, 0.3, 0.6), epochs=25, lr=3e-3, prune_steps=1, prune_epochs=4,
                share_epochs=3, inq_fractions=(0.5, 1.0), inq_epochs=2, augment=1)


@pytest.mark.parametrize("weights", ["kmeans", "log"])
def test_cnn_pipeline(tmp_path, weights):
    """The digits CNN pruned, shared, fixed point, encoded: the golden accuracy within a point of
    the float shared network; the test vectors are the golden model's."""
    torch.set_num_threads(1)
    cfg = compress.Config(net="cnn", weights=weights, **TINY_CNN)
    rep = compress.run(cfg, tmp_path, 4, n_vectors=4, cache_dir=tmp_path / "cache")
    acc = rep["accuracy"]
    assert acc["float"] > 85 and abs(acc["fixed"] - acc["shared"]) <= 1.0, acc
    assert rep["layer_names"] == ["conv1", "conv2", "fc1", "fc2"] and not rep["images_written"]
    assert [l["slots_per_pe"] for l in rep["layers"][:2]] == [64, 64]
    md = (tmp_path / "report.md").read_text()
    assert "| conv1 16@1x3x3 p1 pool |" in md and "## Feature maps" in md
    npz = np.load(tmp_path / "vectors" / "vectors.npz")
    words = memimage.read_hex(tmp_path / "vectors" / "layer1_out.hex", 4).reshape(4, -1)
    assert np.array_equal(npz["y_slots1"] & 0xFFFF, words) and words.shape[1] == 128
    assert compress.cache_key(cfg) != compress.cache_key(compress.Config(weights=weights,
                                                                         **TINY_CNN))


def test_user_cnn_model(tmp_path):
    torch.set_num_threads(1)
    cfg = compress.Config(**{**TINY_CNN, "densities": (0.8, 0.5)})
    rep = compress.run(cfg, tmp_path, 2, n_vectors=2, model="test_conv:user_cnn",
                       cache_dir=tmp_path / "cache")
    assert rep["net"] == "model" and rep["layers"][0]["out_map"] == [4, 4, 4]
    assert rep["accuracy"]["fixed"] > 70
    with pytest.raises(ValueError, match="test_conv:user_cnn.*needs images"):
        compress.load_model("test_conv:user_cnn", 64)


def test_fc_cache_keys_unchanged():
    """The conv settings stay out of a LeNet-300-100 key: its cached training still hits."""
    assert compress.cache_key(compress.Config(**compress.defaults("digits"))) == "48660b84710c7477"
    log = compress.Config(dataset="mnist", weights="log", acts="log",
                          **compress.defaults("mnist", "log"))
    assert compress.cache_key(log) == "1148945b8932406e"
    with pytest.raises(ValueError, match="--net lenet5 does not fit --dataset digits"):
        compress.defaults("digits", net="lenet5")
