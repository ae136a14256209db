"""mul_log_log: log activation x log weight, against models.fixedpoint.mul_log_log, with equal
and unequal exponent widths (the engine's MUL = 2: 4-bit weight exponents, EA = 3..5 activation
exponents)."""

import cocotb
import pytest

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import check_comb, every_or_random, params

DEFAULTS = {"EXP_W": 3, "A_EXP_W": 3}


@cocotb.test()
async def every_pair(dut):
    """Every pair of log operands (sign, zero, exponent): 2**(A_EXP_W+EXP_W+4) of them."""
    p = params(DEFAULTS)
    a_emax, w_emax = (1 << p["A_EXP_W"]) - 1, (1 << p["EXP_W"]) - 1
    ranges = {f"{o}_{f}": r for o, emax in (("a", a_emax), ("w", w_emax)) for f, r in
              (("sign", (0, 1)), ("zero", (0, 1)), ("exp", (0, emax)))}
    v, what = every_or_random(dut, ranges, zero_flags=("a_zero", "w_zero"))
    want = fp.mul_log_log(v["a_sign"], v["a_zero"], v["a_exp"],
                          v["w_sign"], v["w_zero"], v["w_exp"])
    # Both extremes of the result range are reached and fit the port exactly.
    top = 1 << (a_emax + w_emax)
    assert want.max() == top and want.min() == -top
    assert len(dut.prod) == (a_emax + 1) + (w_emax + 1)
    if p["A_EXP_W"] == p["EXP_W"]:
        assert len(dut.prod) == fp.log_log_width(p["EXP_W"])
    await check_comb(dut, v, "prod", want, f"{what} pairs")


@pytest.mark.parametrize("exp_w,a_exp_w", [(2, 2), (3, 3), (4, 4), (4, 3), (4, 5)])
def test_mul_log_log(sim, exp_w, a_exp_w):
    tbsim.run(sim, "mul_log_log", __name__, [tbsim.RTL / "mul_log_log.v"],
              {"EXP_W": exp_w, "A_EXP_W": a_exp_w})
