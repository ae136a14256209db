"""Golden arithmetic: the one definition of every number format, rounding and saturation rule.

Every function here works on Python ints and, element-wise, on numpy integer arrays (int64;
all widths used by the project stay below 63 bits). The RTL, the exporter, the golden network
model and the scoreboards all use these functions; the RTL must match them bit for bit.

Formats
-------
* Linear value of width W: two's complement, range [-2**(W-1), 2**(W-1) - 1].
* Log value with exponent width E: a triple (sign, zero, exp) with exp in [0, 2**E - 1]; it
  stands for 0 when ``zero`` is set, else (-1)**sign * 2**exp. Packed into E + 2 bits as
  ``sign << (E + 1) | zero << E | exp`` (:func:`pack_log` / :func:`unpack_log`).
  The binary point is a per-layer convention (see docs/FORMATS.md), so that a log weight and a
  linear weight with the same fractional bits have the same integer value.

Rounding: :func:`round_shift` divides by 2**s and rounds to nearest, ties away from zero.
Saturation: :func:`saturate` clips to the signed range of the target width.
Linear to log: :func:`log_round` is the one rule (a leading-one detector and one guard bit);
:func:`log_quantize` (floats) and :func:`log_requantize` (integer accumulators) both use it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Int = Any  # a Python int or a numpy integer array


# ---------------------------------------------------------------------------------------------
# Ranges, saturation, rounding
# ---------------------------------------------------------------------------------------------
def smin(width: int) -> int:
    """Most negative value of a signed ``width``-bit number."""
    return -(1 << (width - 1))


def smax(width: int) -> int:
    """Most positive value of a signed ``width``-bit number."""
    return (1 << (width - 1)) - 1


def saturate(x: Int, width: int) -> Int:
    """Clip ``x`` to the signed range of ``width`` bits."""
    if isinstance(x, np.ndarray):
        return np.clip(x, smin(width), smax(width))
    return max(smin(width), min(smax(width), int(x)))


def is_saturated(x: Int, width: int) -> Int:
    """True where ``x`` lies outside the signed range of ``width`` bits."""
    return (x < smin(width)) | (x > smax(width)) if isinstance(x, np.ndarray) else not (
        smin(width) <= x <= smax(width))


def round_shift(x: Int, shift: int) -> Int:
    """``x / 2**shift`` rounded to nearest, ties away from zero (exact for ``shift == 0``).

    Hardware: add ``2**(shift-1) - (x < 0)`` in one extra bit, then shift right arithmetically.
    """
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return x
    neg = (x < 0).astype(np.int64) if isinstance(x, np.ndarray) else int(x < 0)
    return (x + (1 << (shift - 1)) - neg) >> shift


def requantize(acc: Int, shift: int, out_w: int, relu: bool = False) -> Int:
    """The output stage: range shift with rounding, saturation to ``out_w`` bits, optional ReLU."""
    y = saturate(round_shift(acc, shift), out_w)
    if relu:
        y = np.maximum(y, 0) if isinstance(y, np.ndarray) else max(0, y)
    return y


def quantize(x: Any, frac: int, width: int) -> Int:
    """Float(s) to signed ``width``-bit fixed point with ``frac`` fractional bits:
    ``saturate(round_half_away(x * 2**frac), width)`` (as an int64 array for array input)."""
    scaled = np.asarray(x, dtype=np.float64) * (2.0 ** frac)
    q = np.clip(np.sign(scaled) * np.floor(np.abs(scaled) + 0.5), smin(width), smax(width))
    return q.astype(np.int64) if q.ndim else int(q)


def dequantize(q: Int, frac: int) -> Any:
    """Fixed point back to float: ``q / 2**frac``."""
    return np.asarray(q, dtype=np.float64) / (2.0 ** frac)


# ---------------------------------------------------------------------------------------------
# Log format
# ---------------------------------------------------------------------------------------------
def pack_log(sign: Int, zero: Int, exp: Int, exp_w: int) -> Int:
    """Pack (sign, zero, exp) into ``exp_w + 2`` bits: {sign, zero, exp}."""
    return (sign << (exp_w + 1)) | (zero << exp_w) | exp


def unpack_log(code: Int, exp_w: int) -> tuple[Int, Int, Int]:
    """Inverse of :func:`pack_log`."""
    return (code >> (exp_w + 1)) & 1, (code >> exp_w) & 1, code & ((1 << exp_w) - 1)


def log_round(p: Int, guard: Int, exp_w: int) -> tuple[Int, Int]:
    """The rule from a linear magnitude x > 0 to the log domain, given ``p`` = floor(log2 x) (the
    position of x's leading one relative to the output LSB, may be negative) and ``guard`` (the
    bit below it, i.e. x >= 1.5 * 2**p): returns (zero, exp).

    zero when x < 0.5 (p < -1); exp 0 when 0.5 <= x < 1 (p == -1); else exp = p + guard (the
    linear midpoint 1.5 * 2**p rounds up), saturating at 2**exp_w - 1. This is the nearest
    power of two in linear distance; an exact tie goes to the larger magnitude.
    """
    emax = (1 << exp_w) - 1
    if isinstance(p, np.ndarray) or isinstance(guard, np.ndarray):
        p, guard = np.asarray(p, dtype=np.int64), np.asarray(guard, dtype=np.int64)
        zero = (p < -1).astype(np.int64)
        return zero, np.where(p < 0, 0, np.minimum(p + guard, emax))
    return int(p < -1), 0 if p < 0 else min(int(p) + int(guard), emax)


def _msb_guard_int(mag: Int) -> tuple[Int, Int]:
    """Leading-one position p and the bit below it (0 when p < 1) of integers 0 <= mag < 2**62;
    0 gives p = -1."""
    if isinstance(mag, np.ndarray):
        mag = np.asarray(mag, dtype=np.int64)
        p = np.frexp(mag.astype(np.float64))[1].astype(np.int64) - 1
        p -= (mag > 0) & (np.left_shift(np.int64(1), np.maximum(p, 0)) > mag)  # rounded up
        return p, np.where(p >= 1, np.right_shift(mag, np.maximum(p - 1, 0)) & 1, 0)
    p = int(mag).bit_length() - 1
    return p, (int(mag) >> (p - 1)) & 1 if p >= 1 else 0


def _msb_guard_float(mag: Any) -> tuple[np.ndarray, np.ndarray]:
    """floor(log2 mag) and whether mag >= 1.5 * 2**floor(log2 mag), exactly, from the float's
    exponent and mantissa (mag = m * 2**e with 0.5 <= m < 1)."""
    m, e = np.frexp(np.asarray(mag, dtype=np.float64))
    return e.astype(np.int64) - 1, (m >= 0.75).astype(np.int64)


def log_requantize(acc: Int, shift: int, exp_w: int, relu: bool = False) -> tuple[Int, Int, Int]:
    """The log output stage of an integer accumulator: (sign, zero, exp) of ``acc / 2**shift`` by
    :func:`log_round`, with p = (position of |acc|'s leading one) - shift and the guard bit
    |acc|[p + shift - 1] (no sticky bit); zero for acc == 0, and for acc < 0 when ``relu``."""
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if isinstance(acc, np.ndarray):
        acc = np.asarray(acc, dtype=np.int64)
        if (np.abs(acc) >= 1 << 62).any():
            raise ValueError("log_requantize: |acc| must be below 2^62")
        p, guard = _msb_guard_int(np.abs(acc))
        zero, exp = log_round(p - shift, guard, exp_w)
        zero = np.where((acc == 0) | ((acc < 0) & relu), 1, zero)
        return ((acc < 0) & (zero == 0)).astype(np.int64), zero, np.where(zero == 1, 0, exp)
    acc = int(acc)
    if acc == 0 or (relu and acc < 0):
        return 0, 1, 0
    p, guard = _msb_guard_int(abs(acc))
    zero, exp = log_round(p - shift, guard, exp_w)
    return (0, 1, 0) if zero else (int(acc < 0), 0, exp)


def log_quantize(x: Any, frac: int, exp_w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float(s) to the log value (sign, zero, exp) with ``frac`` fractional bits by
    :func:`log_round`: the nearest of {0, +-2**e * 2**-frac : 0 <= e < 2**exp_w} in linear
    distance (ties toward the larger magnitude), i.e. zero below 0.5, exponent e up to
    1.5 * 2**e, saturating at the largest exponent."""
    x = np.asarray(x, dtype=np.float64)
    mag = np.abs(x) * (2.0 ** frac)
    zero, exp = log_round(*_msb_guard_float(mag), exp_w)
    zero = np.where(mag == 0, 1, zero)
    return ((x < 0) & (zero == 0)).astype(np.int64), zero, np.where(zero == 1, 0, exp)


def log_rounded(x: Any, frac: int, exp_w: int) -> np.ndarray:
    """Float(s) rounded to the log format by :func:`log_quantize` and back to floats: the real
    value 0 or +-2**(exp - frac) the integer model computes with."""
    return log_value(*log_quantize(x, frac, exp_w)) * 2.0 ** -frac


def log_exponent(x: float) -> int:
    """The exponent of the power of two nearest to ``x > 0`` by the same rule, without range
    limits: floor(log2 x), plus one when x >= 1.5 * 2**floor(log2 x)."""
    if not x > 0:
        raise ValueError(f"log_exponent needs x > 0, got {x}")
    p, guard = _msb_guard_float(x)
    return int(p + guard)


def log_encode(v: Int, exp_w: int) -> tuple[Int, Int, Int]:
    """(sign, zero, exp) of integer values that are log values (0 or +-2**e, 0 <= e < 2**exp_w);
    ValueError naming the first value that is not."""
    v = np.asarray(v, dtype=np.int64)
    mag = np.abs(v)
    p, _ = _msb_guard_int(mag)
    bad = (mag != 0) & ((np.left_shift(np.int64(1), np.maximum(p, 0)) != mag)
                        | (p > (1 << exp_w) - 1) | (v == np.iinfo(np.int64).min))
    if bad.any():
        raise ValueError(f"{int(v[bad].flat[0])} is not a log value (0 or +-2^e, e in "
                         f"0..{(1 << exp_w) - 1})")
    zero = (mag == 0).astype(np.int64)
    return (v < 0).astype(np.int64), zero, np.where(zero == 1, 0, p)


def log_value(sign: Int, zero: Int, exp: Int) -> Int:
    """Integer value of a log number: 0 if zero else (-1)**sign * 2**exp."""
    if isinstance(exp, np.ndarray) or isinstance(sign, np.ndarray):
        mag = np.left_shift(np.int64(1), np.asarray(exp, dtype=np.int64))
        return np.where(np.asarray(zero) != 0, 0, np.where(np.asarray(sign) != 0, -mag, mag))
    return 0 if zero else (-(1 << exp) if sign else (1 << exp))


# ---------------------------------------------------------------------------------------------
# Multipliers
# ---------------------------------------------------------------------------------------------
def lin_log_width(act_w: int, exp_w: int) -> int:
    """Width of the lin x log product: holds every product, including -(-2**(A-1)) * 2**emax."""
    return act_w + (1 << exp_w)


def log_log_width(exp_w: int) -> int:
    """Width of the log x log product: +-2**(2*emax) with emax = 2**exp_w - 1, signed."""
    return 1 << (exp_w + 1)


def lin_lin_width(act_w: int, wgt_w: int) -> int:
    """Width of the conventional signed product."""
    return act_w + wgt_w


def mul_lin_log(act: Int, sign: Int, zero: Int, exp: Int) -> Int:
    """Linear activation times log weight: ``act << exp``, negated when ``sign``, 0 when ``zero``.

    Exact (no rounding): the result needs :func:`lin_log_width` bits.
    """
    if isinstance(act, np.ndarray) or isinstance(exp, np.ndarray):
        act = np.asarray(act, dtype=np.int64)
        p = np.left_shift(act, np.asarray(exp, dtype=np.int64))
        return np.where(np.asarray(zero) != 0, 0, np.where(np.asarray(sign) != 0, -p, p))
    if zero:
        return 0
    p = int(act) << int(exp)
    return -p if sign else p


def mul_log_log(a_sign: Int, a_zero: Int, a_exp: Int, w_sign: Int, w_zero: Int, w_exp: Int) -> Int:
    """Log activation times log weight: the signed power of two of the exponent sum."""
    return log_value(a_sign ^ w_sign, a_zero | w_zero, a_exp + w_exp)


def mul_lin(a: Int, b: Int) -> Int:
    """Conventional signed product (the reference the shift multipliers are measured against)."""
    return a * b


# ---------------------------------------------------------------------------------------------
# Multiply-accumulate unit (rtl/shift_mac.v)
# ---------------------------------------------------------------------------------------------
def mac_step(acc: int, prod: int, clr: bool, en: bool, acc_w: int) -> tuple[int, bool]:
    """One clock of the saturating accumulator.

    ``acc' = saturate((0 if clr else acc) + (prod if en else 0), acc_w)``. Returns the new
    accumulator and whether this step saturated.
    """
    total = (0 if clr else acc) + (prod if en else 0)
    return saturate(total, acc_w), is_saturated(total, acc_w)
