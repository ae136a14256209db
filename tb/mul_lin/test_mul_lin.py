"""mul_lin: the conventional signed multiplier, against models.fixedpoint.mul_lin."""

import cocotb
import pytest

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import check_comb, cross, every_or_random, params

DEFAULTS = {"ACT_W": 16, "WGT_W": 8}


def _ranges():
    p = params(DEFAULTS)
    return {"act": (fp.smin(p["ACT_W"]), fp.smax(p["ACT_W"])),
            "wgt": (fp.smin(p["WGT_W"]), fp.smax(p["WGT_W"]))}


@cocotb.test()
async def every_pair_or_random(dut):
    """Every operand pair at reduced widths, 100,000 random pairs at full width."""
    v, what = every_or_random(dut, _ranges())
    await check_comb(dut, v, "prod", fp.mul_lin(v["act"], v["wgt"]), f"{what} pairs")


@cocotb.test()
async def corners(dut):
    """Both extremes of both operands, around zero, and most negative x most negative."""
    v = cross({n: (lo, lo + 1, -1, 0, 1, hi) for n, (lo, hi) in _ranges().items()})
    await check_comb(dut, v, "prod", fp.mul_lin(v["act"], v["wgt"]), "corners")


@pytest.mark.parametrize("act_w,wgt_w", [(8, 5), (16, 8), (16, 16)])
def test_mul_lin(sim, act_w, wgt_w):
    tbsim.run(sim, "mul_lin", __name__, [tbsim.RTL / "mul_lin.v"],
              {"ACT_W": act_w, "WGT_W": wgt_w})
