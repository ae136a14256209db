"""eie_act_rw: source/destination register files and the output stage. Accumulators (random,
near rounding ties, extremes of ACC_W) are written back with random shifts and ReLU and must
read back, after the swap, as models.fixedpoint.requantize gives (linear activations) or
models.fixedpoint.log_requantize packed (MUL = 2, log activations: near powers of two and the
midpoints 1.5 * 2**k around the shift); input writes land in the source file; the roles swap on
every swap."""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge

from models import fixedpoint as fp
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, sources

DEFAULTS = {"ACT_DEPTH": 32, "ACT_AW": 5}   # + MUL, EA, ACT_W for log activations


async def read(dut, addr, signed):
    await FallingEdge(dut.clk)
    dut.rd_en.value, dut.rd_addr.value = 1, addr
    await FallingEdge(dut.clk)
    dut.rd_en.value = 0
    return dut.rd_data.value.to_signed() if signed else int(dut.rd_data.value)


@cocotb.test()
async def requantize_and_swap(dut):
    p = params({**DEFAULTS, "MUL": 1, "EA": 4})
    depth, log, ea = p["ACT_DEPTH"], p["MUL"] == 2, p["EA"]
    emax = (1 << ea) - 1
    g = rng(dut)
    await clocking.start(dut, ("swap", "in_we", "in_addr", "in_data", "rd_en", "rd_addr", "wb_valid", "wb_addr",
                         "wb_acc", "shift", "relu"))

    def output(accs, shift, relu):
        if log:
            sign, zero, exp = fp.log_requantize(np.array(accs), shift, ea, bool(relu))
            return fp.pack_log(sign, zero, exp, ea).tolist()
        return [int(fp.requantize(a, shift, 16, bool(relu))) for a in accs]

    checked = 0
    if log:   # any packed word
        src_vals = [int(v) for v in g.integers(0, 1 << (ea + 2), depth)]
    else:
        src_vals = [int(v) for v in g.integers(-32768, 32768, depth)]
    for a, v in enumerate(src_vals):
        await FallingEdge(dut.clk)
        dut.in_we.value, dut.in_addr.value, dut.in_data.value = 1, a, v & 0xFFFF
    await FallingEdge(dut.clk)
    dut.in_we.value = 0
    for layer in range(12):
        shift = int(g.choice([0, 1, 2, 7, 15, 16, 30, 46, 47, 48, 49, 63])) if layer else 0
        relu = int(g.random() < 0.5)
        kind = layer % 3
        if kind == 0:
            accs = g.integers(-(1 << 40), 1 << 40, depth)
        elif kind == 1 and log:   # powers of two and midpoints 1.5 * 2**k around the shift
            j = np.clip(shift + g.integers(-2, emax + 3, depth), 1, 46)
            mag = np.where(g.random(depth) < 0.5, 1 << j, 3 << (j - 1)) + g.integers(-1, 2, depth)
            accs = np.where(g.random(depth) < 0.5, -mag, mag)
        elif kind == 1:   # rounding ties and their neighbours
            accs = (g.integers(-40000, 40000, depth) << max(shift, 1) >> 1) + g.integers(-1, 2, depth)
        else:             # extremes of the 48-bit accumulator
            accs = g.choice([fp.smin(48), fp.smax(48), -1, 0, 1, fp.smin(48) + 1], depth)
        accs = [int(a) for a in fp.saturate(np.asarray(accs, dtype=np.int64), 48)]
        for a, acc in enumerate(accs):
            await FallingEdge(dut.clk)
            dut.wb_valid.value, dut.wb_addr.value = 1, a
            dut.wb_acc.value = acc & ((1 << 48) - 1)
            dut.shift.value, dut.relu.value = shift, relu
        await FallingEdge(dut.clk)
        dut.wb_valid.value = 0
        # the source file is untouched by the write-back
        for a in g.integers(0, depth, 4):
            assert await read(dut, int(a), not log) == src_vals[int(a)], \
                "write-back touched the source file"
        dut.swap.value = 1
        await FallingEdge(dut.clk)
        dut.swap.value = 0
        want = output(accs, shift, relu)
        got = [await read(dut, a, not log) for a in range(depth)]
        bad = [(a, acc, gv, w) for a, acc, gv, w in zip(range(depth), accs, got, want) if gv != w]
        assert not bad, f"shift {shift} relu {relu}: (row, acc, rtl, golden) {bad[:5]}"
        checked += depth
        src_vals = want
    dut._log.info("%d write-backs match fixedpoint.%s", checked,
                  "log_requantize" if log else "requantize")


@pytest.mark.parametrize("case", [{}, {"MUL": 2, "EA": 5, "ACT_W": 7}],
                         ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()) or "linear")
def test_eie_act_rw(sim, case):
    tbsim.run(sim, "eie_act_rw", __name__, sources("eie_act_rw"), {**DEFAULTS, **case})
