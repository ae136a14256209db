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
