"""mul_lin_log: linear activation x log weight, against models.fixedpoint.mul_lin_log."""

import cocotb
import pytest

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import check_comb, cross, every_or_random, params

DEFAULTS = {"ACT_W": 16, "EXP_W": 3}


def _golden(v):
    return fp.mul_lin_log(v["act"], v["w_sign"], v["w_zero"], v["w_exp"])


@cocotb.test()
async def every_pair_or_random(dut):
    """Every operand pair at reduced widths, 100,000 random pairs at full width."""
    p = params(DEFAULTS)
    a_w, e_w = p["ACT_W"], p["EXP_W"]
    v, what = every_or_random(dut, {"act": (fp.smin(a_w), fp.smax(a_w)), "w_sign": (0, 1),
                                    "w_zero": (0, 1), "w_exp": (0, (1 << e_w) - 1)},
                              zero_flags=("w_zero",))
    await check_comb(dut, v, "prod", _golden(v), f"{what} pairs")


@cocotb.test()
async def corners(dut):
    """Most negative/positive and small activations x smallest/largest exponents, signs, zero."""
    p = params(DEFAULTS)
    a_w, e_w = p["ACT_W"], p["EXP_W"]
    emax = (1 << e_w) - 1
    v = cross({"act": (fp.smin(a_w), fp.smin(a_w) + 1, -1, 0, 1, fp.smax(a_w)),
               "w_sign": (0, 1), "w_zero": (0, 1), "w_exp": (0, 1, emax - 1, emax)})
    want = _golden(v)
    # The widest result, +2**(ACT_W-1+emax) from the most negative act, must fit the port.
    assert want.max() == 1 << (a_w - 1 + emax)
    assert len(dut.prod) == fp.lin_log_width(a_w, e_w)
    await check_comb(dut, v, "prod", want, "corners")


@pytest.mark.parametrize("act_w,exp_w", [(6, 2), (8, 3), (16, 3), (16, 4)])
def test_mul_lin_log(sim, act_w, exp_w):
    tbsim.run(sim, "mul_lin_log", __name__, [tbsim.RTL / "mul_lin_log.v"],
              {"ACT_W": act_w, "EXP_W": exp_w})
