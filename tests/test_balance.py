"""models.balance: the balanced row assignment and the finite-queue cycle model."""

import numpy as np
import pytest

from models import balance, csc, golden


def skewed_layer(rng, n_rows=96, n_cols=80):
    """Codes whose heavy rows are all in the rows that interleaving gives to PE 0."""
    density = np.where(np.arange(n_rows) % 4 == 0, 0.6, 0.1)[:, None]
    return np.where(rng.random((n_rows, n_cols)) < density,
                    rng.integers(1, 16, (n_rows, n_cols)), 0)


@pytest.mark.parametrize("n_pes", [1, 4, 7])
def test_assignment_is_a_permutation_that_lowers_the_bound(rng, n_pes):
    codes = skewed_layer(rng)
    x = np.where(rng.random(codes.shape[1]) < 0.5, 1, 0)
    pe, local = balance.balanced_assignment(codes, n_pes, x, refine_iter=500)
    cap = -(-codes.shape[0] // n_pes)
    assert pe.min() >= 0 and pe.max() < n_pes and np.bincount(pe, minlength=n_pes).max() <= cap
    slots = local * n_pes + pe  # every row gets its own slot
    assert len(np.unique(slots)) == codes.shape[0]
    bal = csc.encode(codes, n_pes, pe, local)
    inter = csc.encode(codes, n_pes)
    assert np.array_equal(csc.decode(bal), codes)  # same matrix, rows just placed elsewhere
    b_bal = golden.layer_cycles(bal, x)["bound"]
    b_int = golden.layer_cycles(inter, x)["bound"]
    assert b_bal <= b_int and (n_pes == 1 or b_bal < b_int)


def test_outputs_follow_the_rows_through_the_assignment(rng):
    codes = skewed_layer(rng, 40, 30)
    cb = np.concatenate([[0], rng.integers(-300, 300, 15)])
    x = rng.integers(-1000, 1000, 30)
    bal = balance.encode_balanced(codes, 4, x, refine_iter=200)
    _, y_bal = golden.layer_forward(bal, cb, x, 4, relu=False)
    _, y_int = golden.layer_forward(csc.encode(codes, 4), cb, x, 4, relu=False)
    assert np.array_equal(y_bal, y_int)  # row-indexed results are identical
    assert np.array_equal(golden.from_slots(golden.to_slots(y_bal, bal), bal), y_bal)


def test_queue_cycles_limits():
    work = np.array([[3, 1, 1, 4], [1, 2, 2, 1]])
    deep = balance.queue_cycles(work, depth=64)
    shallow = balance.queue_cycles(work, depth=1)
    # Deep queues: the busiest PE's total plus the fixed fill; shallow queues can only be slower.
    assert deep - work.sum(axis=1).max() == balance.queue_cycles(np.ones((1, 1)), 64) - 1
    assert shallow >= deep
    assert balance.queue_cycles(np.zeros((2, 0)), 4) == 0
    with pytest.raises(ValueError, match="queue depth must be >= 1"):
        balance.queue_cycles(work, 0)
