"""mac: the multiply-accumulate unit around each multiplier, checked cycle by cycle against a
model built from the golden functions of models.fixedpoint (mac_step, requantize)."""

from __future__ import annotations

import cocotb
import numpy as np
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import cross, env_int, every_or_random, params, rng

LINLIN, LINLOG, LOGLOG = 0, 1, 2
DEFAULTS = {"MUL": LINLOG, "ACT_W": 16, "EXP_W": 3, "WGT_W": 8, "ACC_W": 32, "OUT_W": 16,
            "SHIFT_W": 5}


class MacTb:
    """Drives the MAC at falling edges and checks every output against the golden model."""

    def __init__(self, dut):
        self.dut = dut
        self.p = p = params(DEFAULTS)
        self.mode, self.e_w = p["MUL"], p["EXP_W"]
        self.emax = (1 << self.e_w) - 1
        self.acc = 0
        self.ovf = False
        self.shift = 0
        self.cycles = 0
        self.known = False  # outputs are X until the first reset has been clocked in
        self.seen = {"acc_sat_pos": 0, "acc_sat_neg": 0, "y_sat_pos": 0, "y_sat_neg": 0}
        Clock(dut.clk, 10, unit="ns").start()

    # -- operands: (a, w) as the port values, and the golden product -------------------------
    def act_range(self) -> tuple[int, int]:
        return fp.smin(self.p["ACT_W"]), fp.smax(self.p["ACT_W"])

    def log(self, sign: int, zero: int, exp: int) -> int:
        return fp.pack_log(sign, zero, exp, self.e_w)

    def product(self, a: int, w: int) -> int:
        if self.mode == LINLIN:
            return fp.mul_lin(a, w)
        if self.mode == LINLOG:
            return fp.mul_lin_log(a, *fp.unpack_log(w, self.e_w))
        return fp.mul_log_log(*fp.unpack_log(a, self.e_w), *fp.unpack_log(w, self.e_w))

    def operand_ranges(self) -> dict[str, tuple[int, int]]:
        """Port value ranges; log operands as packed codes."""
        code = (0, (1 << (self.e_w + 2)) - 1)
        a = code if self.mode == LOGLOG else self.act_range()
        w = (fp.smin(self.p["WGT_W"]), fp.smax(self.p["WGT_W"])) if self.mode == LINLIN else code
        return {"a": a, "w": w}

    def largest_step(self, rem: int) -> tuple[int, int]:
        """Operands whose product takes ``rem`` toward zero by as much as one product can."""
        sign = -1 if rem < 0 else 1
        lo, hi = self.act_range()
        if self.mode == LINLIN:
            w = fp.smax(self.p["WGT_W"]) if abs(rem) > hi else 1
            return max(lo, min(hi, sign * (abs(rem) // w))), w
        if self.mode == LINLOG:
            e = max(0, min(self.emax, abs(rem).bit_length() - self.p["ACT_W"] + 1))
            a = max(lo, min(hi, sign * (abs(rem) >> e)))
            return a, self.log(0, 0, e)
        k = min(abs(rem).bit_length() - 1, 2 * self.emax)
        ea = min(k, self.emax)
        return self.log(int(rem < 0), 0, ea), self.log(0, 0, k - ea)

    def plan_load(self, target: int, max_steps: int = 64) -> list[tuple[int, int]] | None:
        """Operand pairs whose products sum to ``target`` (None if it takes too many)."""
        steps, rem = [], target
        while rem and len(steps) < max_steps:
            a, w = self.largest_step(rem)
            steps.append((a, w))
            rem -= self.product(a, w)
        return None if rem else steps

    # -- one clock ----------------------------------------------------------------------------
    def check(self) -> None:
        d, p = self.dut, self.p
        where = f"cycle {self.cycles}"
        assert d.acc.value.to_signed() == self.acc, \
            f"{where}: acc {d.acc.value.to_signed()}, golden {self.acc}"
        assert int(d.acc_ovf.value) == self.ovf, f"{where}: acc_ovf {d.acc_ovf.value}"
        rounded = fp.round_shift(self.acc, self.shift)
        want_y = fp.requantize(self.acc, self.shift, p["OUT_W"])
        want_sat = fp.is_saturated(rounded, p["OUT_W"])
        assert d.y.value.to_signed() == want_y, \
            f"{where}: y {d.y.value.to_signed()}, golden {want_y} (acc {self.acc}, shift {self.shift})"
        assert int(d.y_sat.value) == want_sat, f"{where}: y_sat {d.y_sat.value} (acc {self.acc})"
        if want_sat:
            self.seen["y_sat_pos" if rounded > 0 else "y_sat_neg"] += 1

    async def cycle(self, clr: int = 0, en: int = 0, a: int = 0, w: int = 0,
                    shift: int | None = None, rst: int = 0) -> None:
        await FallingEdge(self.dut.clk)
        if self.known:
            self.check()
        d = self.dut
        shift = self.shift if shift is None else shift
        d.rst.value, d.clr.value, d.en.value = rst, clr, en
        d.a.value, d.w.value, d.shift.value = a, w, shift
        if rst:
            self.acc, self.ovf, self.known = 0, False, True
        else:
            self.acc, sat = fp.mac_step(self.acc, self.product(a, w), bool(clr), bool(en),
                                        self.p["ACC_W"])
            self.ovf = (self.ovf and not clr) or sat
            if sat:
                self.seen["acc_sat_pos" if self.acc > 0 else "acc_sat_neg"] += 1
        self.shift = shift
        self.cycles += 1

    async def reset(self) -> None:
        await self.cycle(rst=1)
        await self.cycle()

    async def load(self, target: int) -> bool:
        """Bring the accumulator to ``target`` (clear, then add products); False if too far."""
        steps = self.plan_load(target)
        if steps is None:
            return False
        await self.cycle(clr=1)
        for a, w in steps:
            await self.cycle(en=1, a=a, w=w)
        assert self.acc == target
        return True


@cocotb.test()
async def random_sequences(dut):
    """N_CYCLES (20,000) random cycles: clear, enable, operands (extremes favoured), shift."""
    tb = MacTb(dut)
    await tb.reset()
    g = rng(dut)
    ranges = tb.operand_ranges()
    n = env_int("N_CYCLES", 20_000)
    ops = {k: g.integers(lo, hi + 1, n) for k, (lo, hi) in ranges.items()}
    for k, (lo, hi) in ranges.items():  # one operand in eight at an extreme
        pick = g.random(n) < 0.125
        ops[k][pick] = np.where(g.random(pick.sum()) < 0.5, lo, hi)
    shift_hi = (1 << tb.p["SHIFT_W"]) - 1
    clr, en, rst = g.random(n) < 0.02, g.random(n) < 0.9, g.random(n) < 0.001
    shifts = g.integers(0, shift_hi + 1, n)
    for i in range(n):
        await tb.cycle(int(clr[i]), int(en[i]), int(ops["a"][i]), int(ops["w"][i]),
                       int(shifts[i]), int(rst[i]))
    await tb.cycle()
    dut._log.info("%d cycles match; saturation events %s", n, tb.seen)


@cocotb.test()
async def every_product(dut):
    """Every operand pair (random ones at full width) through the MAC: acc = product."""
    tb = MacTb(dut)
    await tb.reset()
    v, what = every_or_random(dut, tb.operand_ranges())
    for a, w in zip(v["a"].tolist(), v["w"].tolist()):
        await tb.cycle(clr=1, en=1, a=a, w=w)
    await tb.cycle()
    dut._log.info("%s operand pairs match", what)


@cocotb.test()
async def accumulator_saturation(dut):
    """Overflow both ways: the accumulator sticks at each limit, the flag stays until clear,
    and accumulation continues from the limit."""
    tb = MacTb(dut)
    await tb.reset()
    acc_w = tb.p["ACC_W"]
    for limit in (fp.smax(acc_w), fp.smin(acc_w)):
        big = limit  # the largest product of the limit's sign
        a, w = tb.largest_step(big)
        while tb.acc != limit:
            await tb.cycle(en=1, a=a, w=w)
            assert tb.cycles < 1 << 20, "accumulator never saturated"
        for _ in range(3):  # stays at the limit, flag sticky
            await tb.cycle(en=1, a=a, w=w)
        back = tb.largest_step(-limit)  # one product the other way leaves the limit
        await tb.cycle(en=1, a=back[0], w=back[1])
        await tb.cycle()
        assert tb.ovf and tb.acc != limit
        await tb.cycle(clr=1)  # clear drops acc and flag
        assert not tb.ovf and tb.acc == 0
    await tb.cycle()
    assert tb.seen["acc_sat_pos"] and tb.seen["acc_sat_neg"]


@cocotb.test()
async def operand_corners(dut):
    """Most negative / positive activation, zero flags, smallest and largest exponents."""
    tb = MacTb(dut)
    await tb.reset()
    lo, hi = tb.act_range()
    emax = tb.emax
    if tb.mode == LINLIN:
        wr = (fp.smin(tb.p["WGT_W"]), fp.smax(tb.p["WGT_W"]))
        v = cross({"a": (lo, lo + 1, -1, 0, 1, hi), "w": (wr[0], -1, 0, 1, wr[1])})
    else:
        logs = [tb.log(s, z, e) for s in (0, 1) for z in (0, 1) for e in (0, 1, emax - 1, emax)]
        acts = logs if tb.mode == LOGLOG else (lo, lo + 1, -1, 0, 1, hi)
        v = cross({"a": acts, "w": logs})
    for a, w in zip(v["a"].tolist(), v["w"].tolist()):
        await tb.cycle(clr=1, en=1, a=a, w=w)
        await tb.cycle(en=1, a=a, w=w)  # and twice: accumulation of the corner product
    await tb.cycle()


@cocotb.test()
async def output_stage(dut):
    """Range shift, rounding ties both signs, and output saturation at both limits, for every
    shift amount (including amounts past the accumulator width when SHIFT_W allows them)."""
    tb = MacTb(dut)
    await tb.reset()
    acc_w, out_w = tb.p["ACC_W"], tb.p["OUT_W"]
    targets = {fp.smax(acc_w), fp.smin(acc_w), 0, 1, -1}
    for s in range(1, acc_w + 1):
        half = 1 << (s - 1)
        for k in (1, 3):
            targets |= {k * half, -k * half, k * half - 1, -k * half + 1}  # ties and neighbours
        for lim in (fp.smax(out_w), fp.smin(out_w)):  # just inside / outside the output range
            edge = lim << s
            targets |= {edge, edge - half, edge + half, edge - half - 1, edge + half + 1}
    targets = sorted(t for t in targets if fp.smin(acc_w) <= t <= fp.smax(acc_w))
    loaded = 0
    for t in targets:
        if not await tb.load(t):
            continue
        loaded += 1
        for s in range(1 << tb.p["SHIFT_W"]):
            await tb.cycle(shift=s)
    await tb.cycle()
    assert loaded >= len(targets) // 2, f"only {loaded} of {len(targets)} targets reachable"
    assert tb.seen["y_sat_pos"] and tb.seen["y_sat_neg"], tb.seen
    dut._log.info("%d accumulator values x %d shifts match", loaded, 1 << tb.p["SHIFT_W"])


MAC_CASES = {
    "linlog-small": {"MUL": LINLOG, "ACT_W": 8, "EXP_W": 3, "ACC_W": 16, "OUT_W": 8,
                     "SHIFT_W": 4},
    "linlog-full": {"MUL": LINLOG, "ACT_W": 16, "EXP_W": 3, "ACC_W": 32, "OUT_W": 16,
                    "SHIFT_W": 5},
    "loglog": {"MUL": LOGLOG, "EXP_W": 3, "ACC_W": 20, "OUT_W": 8, "SHIFT_W": 5},
    "linlin-small": {"MUL": LINLIN, "ACT_W": 6, "WGT_W": 4, "ACC_W": 10, "OUT_W": 6,
                     "SHIFT_W": 4},
    "linlin-full": {"MUL": LINLIN, "ACT_W": 16, "WGT_W": 8, "ACC_W": 32, "OUT_W": 16,
                    "SHIFT_W": 5},
}


@pytest.mark.parametrize("case", MAC_CASES)
def test_mac(sim, case):
    tbsim.run(sim, "mac", __name__,
              [tbsim.RTL / f for f in ("mac.v", "mul_lin_log.v", "mul_log_log.v", "mul_lin.v")],
              MAC_CASES[case])
