"""Golden integer model: exact sums from the CSC, rounding, the accumulator bound, slots, cycles."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import data_dir, random_codes, random_network
from models import csc, fc8, fixedpoint as fp, golden


def _reference(codes: np.ndarray, cb: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Exact sums with Python ints, straight from the dense code matrix."""
    w = [[int(cb[c]) for c in row] for row in codes]
    return np.array([[sum(wi * int(xi) for wi, xi in zip(row, xv)) for row in w] for xv in x])


@pytest.mark.parametrize("n_pes", [1, 3, 8, 64])
def test_layer_forward_exact(rng, n_pes):
    codes = random_codes(rng, 40, 30, 0.4)
    cb = np.concatenate([[0], rng.integers(-32768, 32768, 15)])
    x = rng.integers(-32768, 32768, (5, 30))
    layer = csc.encode(codes, n_pes, pe_of_row=rng.permutation(np.arange(40) % n_pes))
    acc, y = golden.layer_forward(layer, cb, x, shift=13, relu=True)
    assert np.array_equal(acc, _reference(codes, cb, x))
    assert np.array_equal(y, fp.requantize(acc, 13, 16, True))
    acc1, _ = golden.layer_forward(layer, cb, x[0], shift=13, relu=True)
    assert np.array_equal(acc1, acc[0])


def test_padding_contributes_nothing():
    col = np.array([0, 0, 1, 2] + [0] * 18 + [3]).reshape(-1, 1)
    layer = csc.encode(col, 1)
    cb = np.arange(16) * 10
    acc, _ = golden.layer_forward(layer, cb, np.array([7]), 0, False)
    assert acc.tolist() == (col[:, 0] * 10 * 7).tolist()


def test_rounding_within_half_lsb(rng):
    codes = random_codes(rng, 50, 20, 0.5)
    cb = np.concatenate([[0], rng.integers(-500, 500, 15)])
    x = rng.integers(-1000, 1000, (8, 20))
    acc, y = golden.layer_forward(csc.encode(codes, 4), cb, x, shift=6, relu=False)
    exact = (x.astype(float) @ cb[codes].T.astype(float)) / 64
    ok = ~fp.is_saturated(np.rint(exact).astype(np.int64), 16)
    assert ok.mean() > 0.9
    assert np.abs(y[ok] - exact[ok]).max() <= 0.5


def test_accumulator_bound():
    codes = np.ones((1, 2 ** 18), dtype=int)  # 2^18 * 32767 * 2^15 > 2^47
    cb = np.concatenate([[0], np.full(15, 32767)])
    with pytest.raises(ValueError, match="accumulator bound"):
        golden.layer_forward(csc.encode(codes, 1), cb, np.zeros(2 ** 18, dtype=int), 0, False)
    with pytest.raises(ValueError, match="entry 0"):
        golden.layer_forward(csc.encode(codes[:, :4], 1), np.arange(1, 17), np.zeros(4), 0, False)
    with pytest.raises(ValueError, match="16-bit"):
        golden.layer_forward(csc.encode(codes[:, :4], 1), np.arange(16), np.full(4, 1 << 15), 0, False)


def test_layer_cycles_small():
    codes = np.zeros((4, 3), dtype=int)
    codes[[0, 2], 0] = 1  # PE 0 (rows 0, 2): two entries in column 0
    codes[1, 1] = 2  # PE 1: one entry in column 1
    codes[0, 2] = 3
    layer = csc.encode(codes, 2)
    c = golden.layer_cycles(layer, np.array([5, 0, 1]))
    assert c["work"] == [3, 2]  # PE 0: 2 + 1; PE 1: max(1, 0) twice
    assert c["entries"] == 3 and c["ideal"] == 1.5 and c["bound"] == 3
    assert c["active_columns"] == 2


def test_network_slots_any_assignment(rng):
    """An interleaved and a permuted encoding of the same network give the same row outputs."""
    net_a = random_network(np.random.default_rng(5), [20, 30, 11, 7], 4)
    net_b = random_network(np.random.default_rng(5), [20, 30, 11, 7], 4, permute=True)
    x = rng.integers(-300, 300, (6, 20))
    ya, yb = golden.network_forward(net_a, x), golden.network_forward(net_b, x)
    for la, lb in zip(ya, yb):
        assert np.array_equal(la["acc"], lb["acc"])
    assert ya[0]["y_slots"].shape[1] == 32 and ya[1]["input"].shape[1] == 33
    last = net_b[-1].csc
    assert np.array_equal(golden.from_slots(yb[-1]["y_slots"], last), yb[-1]["y"])


def test_network_input_width(rng):
    net = random_network(rng, [5, 6, 3], 2)
    with pytest.raises(ValueError, match="input slots"):
        golden.network_forward(net, np.zeros((1, 6), dtype=int))


def test_fc8_cycles():
    d = data_dir("EIE_FC8_DIR", "eie-alexnet-fc8")
    f = fc8.load(d)
    assert f.layer.n_nonzero == 1_051_991 and f.codebook[0] == 0
    c = golden.layer_cycles(f.layer, np.append(f.act, 1.0))
    assert c["useful_macs"] == 453_748 and c["padding"] == 0
    assert int(np.ceil(c["ideal"])) == 7_090 and c["bound"] == 7_786
    again = csc.encode(csc.decode(f.layer), 64)
    for a, b in zip(f.layer.pes, again.pes):
        assert np.array_equal(a.v, b.v) and np.array_equal(a.z, b.z) and np.array_equal(a.ptr, b.ptr)


def test_fc8_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="EIE_FC8_DIR"):
        fc8.load(tmp_path / "nowhere")
