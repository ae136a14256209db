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


def log_quantize(x: Any, frac: int, exp_w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float(s) to the nearest log value (sign, zero, exp) with ``frac`` fractional bits:
    the nearest of {0, +-2**e * 2**-frac : 0 <= e < 2**exp_w} in linear distance (ties toward
    the larger magnitude), i.e. zero below 0.5, exponent e up to 1.5 * 2**e, saturating at the
    largest exponent."""
    mag = np.abs(np.asarray(x, dtype=np.float64)) * (2.0 ** frac)
    emax = (1 << exp_w) - 1
    # 2**e is nearest for 0.75 * 2**e <= mag < 1.5 * 2**e  <=>  e = floor(log2(mag / 0.75))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.maximum(mag, 1e-300) / 0.75))
    exp = np.clip(e, 0, emax).astype(np.int64)
    zero = (mag < 0.5).astype(np.int64)
    sign = (np.asarray(x) < 0).astype(np.int64) & (1 - zero)
    return sign, zero, np.where(zero == 1, 0, exp)


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
