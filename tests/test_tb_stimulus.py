"""The simulator-free parts of tb/eie_lib: the idle-gap and back-pressure schedules of the
transaction-level stream models (axis), random networks (stimulus) and the counters the golden
model predicts (model)."""

import itertools

import numpy as np
import pytest

from models import csc, golden
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
