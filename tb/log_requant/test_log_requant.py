"""log_requant: the log output stage against models.fixedpoint.log_requantize (the one rule):
every accumulator value x every shift x ReLU at a reduced ACC_W, random values at full width
(every leading-one position equally likely, shifts around it), and the corners (0, +-1, every
power of two and its neighbours, the linear midpoints 1.5 * 2**k (ties) and their neighbours, both
ends of the accumulator) at the shifts around their leading one. Each set must reach both
saturations, underflow to zero, the ties (not the random set) and ReLU zeroing."""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import Timer

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import EXHAUSTIVE_LIMIT, cross, env_int, params, rng

DEFAULTS = {"ACC_W": 48, "EA": 4}
SHIFTS = range(64)
UNSATURATED = 6   # exponent bits no accumulator of up to 64 bits saturates (2**6 - 1 > 63)
N_RANDOM = 20_000  # random vectors at full width (the corners add every 2**k and tie)


def golden(acc: np.ndarray, shift: np.ndarray, relu: np.ndarray, ea: int) -> np.ndarray:
    """Packed {sign, zero, exp} of every vector (log_requantize takes one shift and relu)."""
    out = np.zeros(len(acc), dtype=np.int64)
    for s in np.unique(shift):
        for r in (0, 1):
            sel = (shift == s) & (relu == r)
            if sel.any():
                out[sel] = fp.pack_log(*fp.log_requantize(acc[sel], int(s), ea, bool(r)), ea)
    return out


def reached(acc, shift, relu, ea) -> dict[str, int]:
    """How many vectors hit each case of the rule."""
    emax = (1 << ea) - 1
    sign, zero, exp = fp.unpack_log(golden(acc, shift, relu, UNSATURATED), UNSATURATED)
    mag = np.abs(acc)
    p = np.frexp(mag.astype(np.float64))[1] - 1       # leading one (exact below 2**53); 0: -1
    return {
        "saturation +": int(((exp > emax) & (sign == 0) & (zero == 0)).sum()),
        "saturation -": int(((exp > emax) & (sign == 1)).sum()),
        "underflow to zero": int(((acc != 0) & (p < shift - 1) & ~((acc < 0) & (relu == 1))).sum()),
        "ReLU zero": int(((acc < 0) & (relu == 1)).sum()),
        "ties (1.5 * 2**k)": int(((p >= 1) & (p >= shift)
                                  & (mag == np.left_shift(3, np.maximum(p - 1, 0)))).sum()),
    }


async def check(dut, acc, shift, relu, what, ties=True):
    """Drive every vector, compare q with the golden packed value; fail listing mismatches or
    when a case of the rule (ties only when ``ties``) is never reached."""
    ea = params(DEFAULTS)["EA"]
    acc_w = params(DEFAULTS)["ACC_W"]
    want = golden(acc, shift, relu, ea)
    hit = reached(acc, shift, relu, ea)
    missing = [k for k, v in hit.items() if v == 0 and (ties or not k.startswith("ties"))]
    assert not missing, f"{what}: the stimulus never reaches {missing}"
    bad = []
    for a, s, r, w in zip(acc.tolist(), shift.tolist(), relu.tolist(), want.tolist()):
        dut.acc.value = a & ((1 << acc_w) - 1)
        dut.shift.value = s
        dut.relu.value = r
        await Timer(1, unit="ns")
        got = int(dut.q.value)
        if got != w:
            bad.append(f"acc={a} shift={s} relu={r}: rtl (sign, zero, exp) "
                       f"{fp.unpack_log(got, ea)}, golden {fp.unpack_log(w, ea)}")
            if len(bad) >= 10:
                break
    assert not bad, f"{what}: mismatches\n  " + "\n  ".join(bad)
    dut._log.info("%s: %d vectors match fixedpoint.log_requantize (%s)", what, len(want),
                  ", ".join(f"{k} {v}" for k, v in hit.items()))


@cocotb.test()
async def every_value_or_random(dut):
    """Every (acc, shift, relu) when there are at most EXHAUSTIVE_LIMIT, else N_RANDOM random
    ones: leading-one position uniform over -1 (zero) .. ACC_W-2 (random bits below it, random
    sign), the shift uniform half of the time, else within a few exponents of the leading one."""
    p = params(DEFAULTS)
    acc_w, emax = p["ACC_W"], (1 << p["EA"]) - 1
    total = (1 << acc_w) * len(SHIFTS) * 2
    if total <= EXHAUSTIVE_LIMIT:
        v = cross({"acc": range(fp.smin(acc_w), fp.smax(acc_w) + 1), "shift": SHIFTS,
                   "relu": (0, 1)})
        await check(dut, v["acc"], v["shift"], v["relu"], f"all {total}")
        return
    g, n = rng(dut), env_int("N_RANDOM", N_RANDOM)
    pos = g.integers(-1, acc_w - 1, n)
    low = np.right_shift(g.integers(0, 1 << 62, n), 62 - np.maximum(pos, 0))
    mag = np.where(pos < 0, 0, np.left_shift(1, np.maximum(pos, 0)) | low)
    acc = np.where(g.random(n) < 0.5, -mag, mag)
    near = np.clip(pos - g.integers(-3, emax + 4, n), 0, 63)
    shift = np.where(g.random(n) < 0.5, g.integers(0, 64, n), near)
    await check(dut, acc, shift, g.integers(0, 2, n), f"{n} random", ties=False)


@cocotb.test()
async def corners(dut):
    """0, +-1, +-2**k and their neighbours, +-1.5 * 2**k (ties) and their neighbours, both ends
    of the accumulator, with and without ReLU, at every shift that puts the leading one from
    2 above to EA + 2 below the output's range (every case of the rule) and at shifts 0 and 63
    (every shift of every value: the exhaustive run at a reduced ACC_W)."""
    p = params(DEFAULTS)
    acc_w, emax = p["ACC_W"], (1 << p["EA"]) - 1
    mags = {0, 1}
    for k in range(acc_w - 1):
        mags |= {(1 << k) - 1, 1 << k, (1 << k) + 1}
        if k:
            mags |= {3 << (k - 1), (3 << (k - 1)) - 1, (3 << (k - 1)) + 1}
    vals = sorted({s * m for m in mags for s in (1, -1) if m <= fp.smax(acc_w)}
                  | {fp.smin(acc_w), fp.smax(acc_w)})
    rows = []
    for a in vals:
        lead = abs(a).bit_length() - 1
        shifts = {0, 63} | set(range(max(0, lead - emax - 2), min(63, lead + 2) + 1))
        rows += [(a, sh, r) for sh in sorted(shifts) for r in (0, 1)]
    acc, shift, relu = (np.array(c, dtype=np.int64) for c in zip(*rows))
    await check(dut, acc, shift, relu, f"{len(rows)} corners")


@pytest.mark.parametrize("acc_w,ea", [(9, 3), (48, 4)])
def test_log_requant(sim, acc_w, ea):
    """Every value at ACC_W = 9 (EA = 3: both saturations reachable), the engine's width and
    EA = 4 (EA = 5: tb/eie_act_rw's MUL = 2 case)."""
    tbsim.run(sim, "log_requant", __name__, [tbsim.RTL / "log_requant.v"],
              {"ACC_W": acc_w, "EA": ea})
