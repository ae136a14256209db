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


# ---------------------------------------------------------------------------------------------
# Log activations
# ---------------------------------------------------------------------------------------------
def _log_network(rng, sizes_, exp_w, frac=6):
    """A random network with power-of-two weights (frac_w = frac) and log activations (every
    layer's frac_in = frac, shift = frac so that frac_out = frac)."""
    layers, prev = [], None
    for i, (n_in, n_out) in enumerate(zip(sizes_[:-1], sizes_[1:])):
        codes = random_codes(rng, n_out, n_in + 1, 0.4)
        codes = np.concatenate([golden.slot_columns(codes[:, :-1], prev), codes[:, -1:]], axis=1)
        lay = csc.encode(codes, 3)
        cb = np.concatenate([[0], rng.choice([-1, 1], 15) * (1 << rng.integers(2, 8, 15))])
        layers.append(golden.QLayer(csc=lay, codebook=cb, shift=frac, relu=i < len(sizes_) - 2,
                                    has_bias=True, bias_act=1 << frac, n_in=n_in,
                                    n_slots_in=n_in if prev is None else prev.n_slots,
                                    mode="log", frac_in=frac, frac_w=frac, name=f"fc{i + 1}",
                                    act_mode="log", act_exp_w=exp_w))
        prev = lay
    return layers


@pytest.mark.parametrize("exp_w", [3, 4, 5])
def test_network_log_activations_against_float(rng, exp_w):
    """The integer model in log mode against a float computation from the real values: every
    layer output is the log rounding (fixedpoint.log_rounded) of the exact real sum."""
    net = _log_network(rng, [12, 20, 9, 5], exp_w)
    x_real = rng.normal(scale=0.5, size=(40, 12))
    x_q = fp.log_value(*fp.log_quantize(x_real, 6, exp_w))
    res = golden.network_forward(net, x_q)
    a = x_q / 2.0 ** 6
    for lay, r in zip(net, res):
        w = golden.weights(lay.csc, lay.codebook) / 2.0 ** lay.frac_w
        z = np.c_[a, np.ones(len(a))] @ w.T
        if lay.relu:
            z = np.maximum(z, 0)
        y = golden.to_slots(fp.log_value(*fp.log_quantize(z, lay.frac_out, exp_w)), lay.csc)
        assert np.array_equal(r["y_slots"], y)
        a = y / 2.0 ** lay.frac_out  # the next layer's inputs, slot-ordered
        fp.log_encode(r["y"], exp_w)  # every output is a log value
        assert np.array_equal(fp.log_value(*fp.log_requantize(r["acc"], lay.shift, exp_w, lay.relu)), r["y"])
    ys = np.concatenate([np.abs(r["y"]).ravel() for r in res])
    top = 1 << ((1 << exp_w) - 1)
    assert (ys == 0).any() and ((ys > 0) & (ys < top)).mean() > 0.3
    assert (ys == top).any() == (exp_w == 3)  # only EA = 3 saturates here
    # the cycle estimate counts non-zero activations, whatever their format
    assert golden.layer_cycles(net[1].csc, res[1]["input"][0])["active_columns"] == \
        int(np.count_nonzero(res[1]["input"][0]))


def test_log_mode_accumulator_bound_and_inputs():
    """The bound uses the largest log activation, 2^(2^EA - 1): a row of |w| summing to 2^16
    passes at EA = 4 (2^31 < 2^47) and is refused at EA = 5 (2^47)."""
    codes = np.ones((1, 2), dtype=int)
    cb = np.concatenate([[0], np.full(15, 1 << 15)])
    layer = csc.encode(codes, 1)
    x = np.array([1 << 15, 0])
    acc, y = golden.layer_forward(layer, cb, x, 0, False, act_mode="log", act_exp_w=4)
    assert acc.tolist() == [1 << 30] and y.tolist() == [1 << 15]  # saturates at 2^15
    with pytest.raises(ValueError, match=r"accumulator bound broken: max_r sum_c \|w\| \* 2\^31 = "
                                         r"140737488355328 >= 2\^47"):
        golden.layer_forward(layer, cb, x, 0, False, act_mode="log", act_exp_w=5)
    assert golden.check_acc_bound(np.array([[1 << 15]]), act_max=1 << 31) == 1 << 46
    with pytest.raises(ValueError, match="activations must be log values: 3 is not a log value"):
        golden.layer_forward(layer, cb, np.array([3, 0]), 0, False, act_mode="log", act_exp_w=4)
    with pytest.raises(ValueError, match="65536 is not a log value"):
        golden.layer_forward(layer, cb, np.array([1 << 16, 0]), 0, False, act_mode="log")
    with pytest.raises(ValueError, match="EA \\(exponent bits\\) in 3..5, got 6"):
        golden.layer_forward(layer, cb, x, 0, False, act_mode="log", act_exp_w=6)
    with pytest.raises(ValueError, match="activation mode must be 'linear' or 'log', got 'lin'"):
        golden.layer_forward(layer, cb, x, 0, False, act_mode="lin")
    assert golden.max_activation("linear") == 1 << 15 and golden.max_activation("log", 3) == 1 << 7


@pytest.mark.parametrize("kw,msg", [
    (dict(act_exp_w=2), "EA \\(exponent bits\\) in 3..5, got 2"),
    (dict(frac_in=8, bias_act=1 << 8), "0 <= frac_in <= 7 and bias_act = 2\\^frac_in"),
    (dict(frac_in=-1, bias_act=0), "got frac_in -1"),
    (dict(frac_in=4, bias_act=17), "got frac_in 4, bias_act 17"),
    (dict(act_mode="float"), "activation mode must be 'linear' or 'log'")])
def test_qlayer_log_mode_checks(kw, msg):
    args = dict(csc=csc.encode(np.ones((2, 3), dtype=int), 1), codebook=np.arange(16), shift=0,
                relu=False, has_bias=True, bias_act=1 << 4, n_in=2, n_slots_in=2,
                frac_in=4, act_mode="log", act_exp_w=3, name="fc9")
    golden.QLayer(**args)  # the base case is valid
    with pytest.raises(ValueError, match=msg):
        golden.QLayer(**{**args, **kw})
