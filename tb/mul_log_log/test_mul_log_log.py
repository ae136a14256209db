"""mul_log_log: log activation x log weight, against models.fixedpoint.mul_log_log."""

import cocotb
import pytest

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import check_comb, every_or_random, params

DEFAULTS = {"EXP_W": 3}


@cocotb.test()
async def every_pair(dut):
    """Every pair of log operands (sign, zero, exponent): 2**(2*EXP_W+4) of them."""
    e_w = params(DEFAULTS)["EXP_W"]
    emax = (1 << e_w) - 1
    ranges = {f"{o}_{f}": r for o in "aw" for f, r in
              (("sign", (0, 1)), ("zero", (0, 1)), ("exp", (0, emax)))}
    v, what = every_or_random(dut, ranges, zero_flags=("a_zero", "w_zero"))
    want = fp.mul_log_log(v["a_sign"], v["a_zero"], v["a_exp"],
                          v["w_sign"], v["w_zero"], v["w_exp"])
    # Both extremes of the result range are reached and fit the port exactly.
    assert want.max() == 1 << (2 * emax) and want.min() == -(1 << (2 * emax))
    assert len(dut.prod) == fp.log_log_width(e_w)
    await check_comb(dut, v, "prod", want, f"{what} pairs")


@pytest.mark.parametrize("exp_w", [2, 3, 4])
def test_mul_log_log(sim, exp_w):
    tbsim.run(sim, "mul_log_log", __name__, [tbsim.RTL / "mul_log_log.v"], {"EXP_W": exp_w})
