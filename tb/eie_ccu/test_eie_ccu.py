"""eie_ccu: the central control unit against the golden broadcast order. The testbench plays
the PEs' source register files (synchronous read) and their queues (random stall) and idles;
checked: every non-zero activation of slots < n_in and then the bias column broadcast once, in
slot order, one a cycle while not stalled, and done only after the PEs report idle. With
LOG_ACT (MUL = 2) the activations are packed log words and non-zero means the zero flag clear:
words with the flag set are skipped whatever their other bits, +2**0 (all bits 0) is sent."""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, sources, stimulus


async def run_layer(dut, n, w, slots, n_in, has_bias, bias_act, g, stall_p, idle_delay):
    """One layer of ``w``-bit activation words; returns (broadcasts, cycles from start to
    done)."""
    groups = len(slots) // n
    rd_data = 0
    out = []
    await FallingEdge(dut.clk)
    dut.n_in.value = n_in
    dut.has_bias.value = has_bias
    dut.bias_act.value = bias_act & ((1 << w) - 1)
    dut.start.value = 1
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.start.value = 0
    last_bcast = 0
    for cyc in range(1, 100000):
        stall = int(g.random() < stall_p)
        dut.stall.value = stall
        # PEs idle idle_delay cycles after the last broadcast
        dut.pe_idle.value = int(cyc - last_bcast > idle_delay)
        await RisingEdge(dut.clk)   # values of the edge
        if int(dut.bcast.value):
            assert not stall, "broadcast while stalled"
            act = dut.bcast_act.value
            out.append((int(dut.bcast_col.value), act.to_signed() if w == 16 else int(act)))
            last_bcast = cyc
        done = int(dut.done.value)
        if int(dut.rd_en.value):
            a = int(dut.rd_addr.value)
            assert a < groups, f"read of group {a} past the {groups} groups"
            rd_data = sum((int(slots[a * n + k]) & ((1 << w) - 1)) << (w * k) for k in range(n))
        await FallingEdge(dut.clk)
        dut.rd_data.value = rd_data
        if done:
            assert cyc - last_bcast > idle_delay, "done while the PEs were busy"
            return out, cyc
    raise AssertionError("CCU never done")


@cocotb.test()
async def broadcast_order(dut):
    """Random layers (activation density 0..1, n_in not a multiple of N, with and without bias)
    with random stalls; without stalls the broadcasts of dense groups come one a cycle."""
    p = params({"N": 4, "ACT_AW": 4, "LOG_ACT": 0, "ACT_W": 16})
    n, w, log = p["N"], p["ACT_W"], p["LOG_ACT"]
    depth = 1 << p["ACT_AW"]
    zero_flag = 1 << (w - 2)

    def nonzero(v):
        return not v & zero_flag if log else v != 0

    g = rng(dut)
    await clocking.start(dut, ("start", "halt", "stall", "pe_idle", "has_bias", "bias_act", "n_in", "rd_data"))
    for trial in range(30):
        density = float(g.choice([0.0, 0.05, 0.3, 0.7, 1.0]))
        if log:   # any word: the zero flag set with probability 1 - density
            slots = g.integers(0, 1 << w, n * depth) & ~zero_flag
            slots = np.where(g.random(n * depth) < density, slots, slots | zero_flag)
            bias_act = int(g.choice([0, 5, zero_flag, zero_flag | 3, (1 << w) - 1]))
        else:
            slots = stimulus.random_acts(g, n * depth, density)
            bias_act = int(g.choice([0, 256, -5]))
        n_in = int(g.integers(0, n * depth + 1))
        has_bias = int(g.random() < 0.7)
        stall_p = 0.0 if trial % 3 == 0 else 0.3
        out, cycles = await run_layer(dut, n, w, slots, n_in, has_bias, bias_act, g, stall_p,
                                      int(g.integers(0, 5)))
        want = [(j, int(slots[j])) for j in range(n_in) if nonzero(slots[j])]
        if has_bias and nonzero(bias_act):
            want.append((n_in, bias_act))
        assert out == want, f"trial {trial}: broadcasts {out[:8]}... != golden {want[:8]}..."
        if stall_p == 0.0 and n_in:
            dense = all(nonzero(v) for v in slots[:n_in])
            # start, read, load: 3 cycles before the first broadcast; then one a cycle
            if dense:
                assert cycles <= len(want) + 8, f"dense layer: {cycles} cycles for {len(want)} broadcasts"
        dut._log.info("trial %d: n_in %d, %d broadcasts, %d cycles (stall p %.1f)",
                      trial, n_in, len(out), cycles, stall_p)


@pytest.mark.parametrize("n,log", [(1, 0), (4, 0), (5, 0), (16, 0), (5, 1)])
def test_eie_ccu(sim, n, log):
    log_params = {"LOG_ACT": 1, "ACT_W": 6} if log else {}   # MUL = 2, EA = 4
    tbsim.run(sim, "eie_ccu", __name__, sources("eie_ccu", "eie_lnzd_tree", "eie_lnzd_node"),
              {"N": n, "ACT_AW": 4 if n < 16 else 2, **log_params})
