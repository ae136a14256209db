"""The golden arithmetic against exact rational arithmetic (fractions), scalar and vectorised."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import fixedpoint as fp


def exact_round_half_away(q: Fraction) -> int:
    mag = abs(q)
    r = int(mag) + (1 if mag - int(mag) >= Fraction(1, 2) else 0)
    return r if q >= 0 else -r


@given(st.integers(-(1 << 50), 1 << 50), st.integers(0, 60))
def test_round_shift_is_round_half_away(x, s):
    assert fp.round_shift(x, s) == exact_round_half_away(Fraction(x, 1 << s))


@given(st.lists(st.integers(-(1 << 40), 1 << 40), min_size=1, max_size=50), st.integers(0, 45))
def test_vectorised_matches_scalar(xs, s):
    arr = np.array(xs, dtype=np.int64)
    assert fp.requantize(arr, s, 16, relu=True).tolist() == \
        [fp.requantize(x, s, 16, relu=True) for x in xs]
    assert fp.saturate(arr, 20).tolist() == [fp.saturate(x, 20) for x in xs]


def test_round_shift_ties_and_rejects_negative_shift():
    assert [fp.round_shift(x, 1) for x in (-3, -1, 1, 3)] == [-2, -1, 1, 2]
    with pytest.raises(ValueError, match="shift must be >= 0"):
        fp.round_shift(5, -1)


@given(st.integers(-(1 << 40), 1 << 40), st.integers(2, 40))
def test_saturate_clips_to_signed_range(x, w):
    y = fp.saturate(x, w)
    assert -(1 << (w - 1)) <= y <= (1 << (w - 1)) - 1
    assert (y == x) == (not fp.is_saturated(x, w))


@given(st.integers(-(1 << 15), (1 << 15) - 1), st.booleans(), st.booleans(), st.integers(0, 15))
def test_mul_lin_log_is_the_product_with_the_log_value(act, sign, zero, exp):
    p = fp.mul_lin_log(act, int(sign), int(zero), exp)
    assert p == act * fp.log_value(int(sign), int(zero), exp)
    assert not fp.is_saturated(p, fp.lin_log_width(16, 4))


def test_mul_log_log_and_packing_round_trip():
    for code in range(1 << 6):
        s, z, e = fp.unpack_log(code, 4)
        assert fp.pack_log(s, z, e, 4) == code
    assert fp.mul_log_log(1, 0, 7, 0, 0, 7) == -(1 << 14)
    assert fp.mul_log_log(0, 1, 7, 0, 0, 7) == 0


@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(-4, 8))
def test_log_quantize_is_nearest_representable(x, frac):
    s, z, e = fp.log_quantize(np.array([x]), frac, 3)
    got = fp.log_value(s, z, e)[0] / 2.0 ** frac
    candidates = [0.0] + [sg * 2.0 ** (k - frac) for sg in (1, -1) for k in range(8)]
    best = min(abs(x - c) for c in candidates)
    assert abs(x - got) <= best + 1e-12


@given(st.floats(-1e5, 1e5, allow_nan=False), st.integers(0, 12))
def test_quantize_round_trips_within_half_lsb(x, frac):
    q = fp.quantize(x, frac, 32)  # |x| * 2**frac < 2**31: never saturates here
    assert abs(fp.dequantize(q, frac) - x) <= 0.5 / 2 ** frac + 1e-9


def test_quantize_saturates_and_ties_away():
    assert fp.quantize([1e9, -1e9, 0.5, -0.5, 2.5], 0, 16).tolist() == [32767, -32768, 1, -1, 3]


# ---------------------------------------------------------------------------------------------
# The rule from linear to log (activations): nearest power of two, linear midpoint, no sticky
# ---------------------------------------------------------------------------------------------
def nearest_log(q: Fraction, exp_w: int) -> tuple[int, int, int]:
    """Reference: the nearest of {0, +-2^e : 0 <= e < 2^exp_w} to q in linear distance, a tie to
    the larger magnitude (written from the definition, not from the leading-one rule)."""
    mag = abs(q)
    best = (mag, 1, 0)  # (distance, zero, exp): 0 first
    for e in range((1 << exp_w)):
        d = abs(mag - (1 << e))
        if d <= best[0]:  # later candidates are larger: <= sends a tie up
            best = (d, 0, e)
    _, zero, exp = best
    return (int(q < 0) if not zero else 0), zero, exp


@pytest.mark.parametrize("exp_w", [3, 4, 5])
def test_log_requantize_exhaustive_small_width(exp_w):
    """Every 12-bit accumulator at every shift 0..13: the integer and the float entry points
    agree with each other, with the scalar path and with the reference."""
    acc = np.arange(-(1 << 11), 1 << 11)
    for s in range(14):
        got = np.stack(fp.log_requantize(acc, s, exp_w), axis=1)
        flt = np.stack(fp.log_quantize(acc / 2.0 ** s, 0, exp_w), axis=1)
        assert np.array_equal(got, flt)
        for a in acc[::13]:
            assert tuple(got[a + (1 << 11)]) == fp.log_requantize(int(a), s, exp_w) \
                == nearest_log(Fraction(int(a), 1 << s), exp_w)


@given(st.integers(-(1 << 47), 1 << 47), st.integers(0, 50), st.sampled_from([3, 4, 5]))
def test_log_requantize_random_full_width(acc, s, exp_w):
    """48-bit accumulators: integer (scalar and vector) and float entry points and the
    reference agree; the float division by 2^s is exact."""
    ref = nearest_log(Fraction(acc, 1 << s), exp_w)
    assert fp.log_requantize(acc, s, exp_w) == ref
    vec = fp.log_requantize(np.array([acc, -acc]), s, exp_w)
    assert tuple(int(v[0]) for v in vec) == ref
    assert tuple(int(v[0]) for v in fp.log_quantize(np.array([acc / 2.0 ** s]), 0, exp_w)) == ref


def test_log_requantize_corners():
    E, emax = 4, 15
    rq = fp.log_requantize
    assert rq(0, 0, E) == (0, 1, 0) and rq(1, 0, E) == (0, 0, 0) and rq(-1, 0, E) == (1, 0, 0)
    for k in range(emax + 1):  # every power of two and its neighbours, shift 0
        p = 1 << k
        assert rq(p, 0, E) == (0, 0, k) and rq(-p, 0, E) == (1, 0, k)
        if k >= 2:  # its neighbours 2^k - 1 and 2^k + 1 round to it
            assert rq(p - 1, 0, E) == rq(p + 1, 0, E) == (0, 0, k)
        if k >= 1:  # the exact tie 1.5 * 2^k (integer for k >= 1) rounds to the larger magnitude
            assert rq(3 << (k - 1), 0, E) == (0, 0, k + 1 if k < emax else emax)
            assert rq((3 << (k - 1)) - 1, 0, E) == (0, 0, k)
    # saturation at 2^emax both ways, and far above
    assert rq(1 << 16, 0, E) == (0, 0, emax) and rq(-(1 << 40), 0, E) == (1, 0, emax)
    assert rq(3 << 14, 0, E) == (0, 0, emax)  # the tie above 2^15 saturates
    # x = acc / 2^s: just below 0.5 is zero, 0.5 is exponent 0, so is anything below 1
    s = 10
    assert rq((1 << (s - 1)) - 1, s, E) == (0, 1, 0) and rq(-((1 << (s - 1)) - 1), s, E) == (0, 1, 0)
    assert rq(1 << (s - 1), s, E) == (0, 0, 0) and rq((1 << s) - 1, s, E) == (0, 0, 0)
    assert rq(3 << (s - 1), s, E) == (0, 0, 1)  # 1.5, the tie
    assert rq((3 << (s - 1)) - 1, s, E) == (0, 0, 0)  # just below it: bits below the guard ignored
    # ReLU: negative and zero give zero, positive unchanged
    assert rq(-5, 0, E, relu=True) == (0, 1, 0) and rq(5, 0, E, relu=True) == (0, 0, 2)
    assert fp.log_requantize(np.array([-5, 0, 5]), 0, E, relu=True)[1].tolist() == [1, 1, 0]
    with pytest.raises(ValueError, match="shift must be >= 0"):
        rq(5, -1, E)


def test_log_quantize_float_corners():
    s, z, e = fp.log_quantize(np.array([0.0, 0.4999, 0.5, 0.7499, 0.75, 1.4999, 1.5, -3.0, 1e9]), 0, 3)
    assert z.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert e.tolist() == [0, 0, 0, 0, 0, 0, 1, 2, 7] and s.tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert fp.log_rounded(np.array([0.3, -0.3]), 3, 3).tolist() == [0.25, -0.25]
    assert [fp.log_exponent(v) for v in (1.0, 1.4999, 1.5, 0.25, 0.374, 0.375, 40.0)] == \
        [0, 0, 1, -2, -2, -1, 5]
    with pytest.raises(ValueError, match="x > 0"):
        fp.log_exponent(0.0)


def test_log_encode_round_trips_and_rejects():
    vals = np.array([0, 1, -1, 2, -(1 << 15), 1 << 7])
    s, z, e = fp.log_encode(vals, 4)
    assert fp.log_value(s, z, e).tolist() == vals.tolist()
    assert fp.pack_log(s, z, e, 4)[0] == 1 << 4  # the value 0 packs to the zero flag alone
    for bad, exp_w in ((3, 4), (1 << 16, 4), (1 << 8, 3), (-6, 5)):
        with pytest.raises(ValueError, match=f"{bad} is not a log value"):
            fp.log_encode(np.array([0, bad]), exp_w)
