"""The simulator-free parts of tb/eie_lib: the idle-gap and back-pressure schedules of the
transaction-level stream models (axis), random networks (stimulus; linear and log activations)
and what the golden model predicts (model: counters, stream words, log conversions, products)."""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from models import csc, golden
from models import engine_map as em
from models import fixedpoint as fp
from tb.eie_lib import axis, model, stimulus


@pytest.mark.parametrize("idle", [0.1, 0.3, 0.6])
def test_idle_gaps_match_per_cycle_draws(rng, idle):
    """Idle cycles before each beat, drawn as geometric runs, have the statistics of one
    Bernoulli(idle) draw per cycle: a fraction ``idle`` of all cycles is idle."""
    gaps = axis.idle_gaps(rng, 20000, idle)
    assert gaps.min() == 0 and gaps.dtype.kind == "i"
    frac = gaps.sum() / (gaps.sum() + len(gaps))
    assert abs(frac - idle) < 0.02, f"idle fraction {frac:.3f}, wanted {idle}"


def test_idle_gaps_none_and_bad(rng):
    assert axis.idle_gaps(None, 5, 0.5) is None
    assert axis.idle_gaps(rng, 5, 0.0) is None
    with pytest.raises(ValueError, match="below 1"):
        axis.idle_gaps(rng, 5, 1.0)


@pytest.mark.parametrize("ready", [0.2, 0.5, 0.8])
def test_ready_runs_duty_cycle(rng, ready):
    runs = list(itertools.islice(axis.ready_runs(rng, ready), 5000))
    on = sum(r[0] for r in runs)
    off = sum(r[1] for r in runs)
    assert all(a >= 1 and b >= 1 for a, b in runs)
    assert abs(on / (on + off) - ready) < 0.02


def test_ready_runs_always_on_and_bad(rng):
    for g, ready in ((None, 0.3), (rng, 1.0)):
        on, off = next(axis.ready_runs(g, ready))
        assert off == 0 and on >= 1 << 30
    with pytest.raises(ValueError, match="above 0"):
        next(axis.ready_runs(rng, 0.0))


def test_random_network_chains_slots(rng):
    layers, x = stimulus.random_network(rng, 4, 40, [30, 12], "log")
    assert len(x) == 40 and [l.n_slots_in for l in layers] == [40, 32]
    assert [l.relu for l in layers] == [True, False]
    assert len(model.expected_slots(layers, x)) == layers[-1].csc.n_slots


def test_padding_entries_count_active_columns_only():
    """SPEC's column [0,0,1,2,0 x 18,3] on one PE: v = [1,2,0,3], one padding entry, counted
    only while the column's input is non-zero."""
    codes = np.array([[0, 0, 1, 2] + [0] * 18 + [3]]).T
    pe = csc.encode(codes, 1).pes[0]
    assert pe.v.tolist() == [1, 2, 0, 3]
    assert model.padding_entries(pe, np.array([5])) == 1
    assert model.padding_entries(pe, np.array([0])) == 0


def test_expected_counters_sum_the_layers(rng):
    layers, x = stimulus.random_network(rng, 4, 40, [30, 12], "linear")
    c = model.expected_counters(layers, x)
    cyc = [golden.layer_cycles(l.csc, a) for l, a in zip(layers, model.layer_inputs(layers, x))]
    assert c["bcast"] == sum(y["active_columns"] for y in cyc) and c["layers"] == 2
    assert c["busy"] == [a + b for a, b in zip(cyc[0]["work"], cyc[1]["work"])]
    assert sum(c["pad"]) == sum(y["padding"] for y in cyc)


@pytest.mark.parametrize("ea", [3, 4, 5])
def test_random_log_network(rng, ea):
    """Log x log networks: log inputs with exponents over the whole range, the bias input
    2^frac_in, weights within the accumulator bound (golden checks it with 2^(2^EA-1)), the
    largest accumulator of each layer on the largest exponent, words of the stream format."""
    layers, x = stimulus.random_network(rng, 4, 300, [200, 20], "log", density=0.3,
                                        act_density=0.9, act_mode="log", act_exp_w=ea)
    emax = (1 << ea) - 1
    _, _, exp = fp.log_encode(x, ea)
    assert em.mul_of(layers) == 2 and set(exp[x != 0]) == set(range(emax + 1))
    assert all(l.bias_act == 1 << l.frac_in and 0 <= l.frac_in <= emax for l in layers)
    for lay, r in zip(layers, golden.network_forward(layers, x)):
        peak = int(np.abs(r["acc"]).max())
        assert lay.shift == 0 or peak.bit_length() - 1 - lay.shift == emax
    words = model.input_words(layers, x)
    assert max(words) < 1 << (ea + 2) and words.count(1 << ea) == int((x == 0).sum())
    want = model.expected_words(layers, x)
    assert em.stream_values(np.array(want), "log", ea).tolist() == \
        model.expected_slots(layers, x).tolist()
    formats = stimulus.formats({"MUL": 2, "EA": ea})
    assert formats == {"mode": "log", "act_mode": "log", "act_exp_w": ea}


def test_weight_exponents_keep_the_accumulator_bound():
    assert stimulus.weight_exp_max(1025, "log", 5) == 46 - 31 - 11
    assert stimulus.weight_exp_max(64, "log", 4) == stimulus.WEIGHT_EXP_MAX
    assert stimulus.weight_exp_max(1 << 20, "linear") == stimulus.WEIGHT_EXP_MAX


def test_log_conversions_and_products():
    """One layer, one PE, by hand: codebook [0, 1, -2^3], EA = 3, shift 2, ReLU off."""
    codes = np.array([[1, 0], [2, 2], [0, 1], [2, 1]])      # rows x (input, bias column)
    lay = golden.QLayer(csc=csc.encode(codes, 1), codebook=np.array([0, 1, -8] + [0] * 13),
                        shift=2, relu=False, has_bias=True, bias_act=1, n_in=1, n_slots_in=1,
                        mode="log", act_mode="log", act_exp_w=3)
    x = np.array([128])                                      # 2^7
    # acc = [128, -1032, 1, -1023]: 128/4 = 2^5; -1032/4 -> -2^8 saturates; 1/4 underflows;
    # -1023/4 = -255.75 -> -2^8 saturates (guard bit set)
    assert golden.network_forward([lay], x)[0]["acc"][0].tolist() == [128, -1032, 1, -1023]
    assert model.log_conversions([lay], x) == {"saturation +": 0, "saturation -": 2,
                                               "underflow": 1, "ReLU zero": 0}
    relu = replace(lay, relu=True)
    assert model.log_conversions([relu], x)["ReLU zero"] == 2
    assert model.saturation([lay], x) == (0, 2)
    p = model.log_products([lay], x)
    # products: col 0 rows 0, 1, 3 (7+0, 7+3, 7+3); bias col rows 1, 2, 3 (0+3, 0+0, 0+0)
    assert sorted(p["exp_sum"].tolist()) == [0, 0, 3, 7, 10, 10]
    assert not p["act_zero"].any() and not p["weight_zero"].any()
    p0 = model.log_products([lay], np.array([0]))
    assert p0["act_zero"].tolist() == [True] and sorted(p0["exp_sum"].tolist()) == [0, 0, 3]
