"""eie_ccu: the central control unit against the golden broadcast order. The testbench plays
the PEs' source register files (synchronous read) and their queues (random stall) and idles;
checked: every non-zero activation of slots < n_in and then the bias column broadcast once, in
slot order, one a cycle while not stalled, and done only after the PEs report idle."""

import cocotb
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, sources, stimulus


async def run_layer(dut, n, slots, n_in, has_bias, bias_act, g, stall_p, idle_delay):
    """One layer; returns (broadcasts, cycles from start to done)."""
    groups = len(slots) // n
    rd_data = 0
    out = []
    await FallingEdge(dut.clk)
    dut.n_in.value = n_in
    dut.has_bias.value = has_bias
    dut.bias_act.value = bias_act
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
            out.append((int(dut.bcast_col.value), dut.bcast_act.value.to_signed()))
            last_bcast = cyc
        done = int(dut.done.value)
        if int(dut.rd_en.value):
            a = int(dut.rd_addr.value)
            assert a < groups, f"read of group {a} past the {groups} groups"
            rd_data = sum((int(slots[a * n + k]) & 0xFFFF) << (16 * k) for k in range(n))
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
    p = params({"N": 4, "ACT_AW": 4})
    n = p["N"]
    depth = 1 << p["ACT_AW"]
    g = rng(dut)
    await clocking.start(dut, ("start", "halt", "stall", "pe_idle", "has_bias", "bias_act", "n_in", "rd_data"))
    for trial in range(30):
        slots = stimulus.random_acts(g, n * depth, float(g.choice([0.0, 0.05, 0.3, 0.7, 1.0])))
        n_in = int(g.integers(0, n * depth + 1))
        has_bias = int(g.random() < 0.7)
        bias_act = int(g.choice([0, 256, -5]))
        stall_p = 0.0 if trial % 3 == 0 else 0.3
        out, cycles = await run_layer(dut, n, slots, n_in, has_bias, bias_act, g, stall_p,
                                      int(g.integers(0, 5)))
        want = [(j, int(slots[j])) for j in range(n_in) if slots[j] != 0]
        if has_bias and bias_act != 0:
            want.append((n_in, bias_act))
        assert out == want, f"trial {trial}: broadcasts {out[:8]}... != golden {want[:8]}..."
        if stall_p == 0.0 and n_in:
            dense = all(slots[:n_in] != 0)
            # start, read, load: 3 cycles before the first broadcast; then one a cycle
            if dense:
                assert cycles <= len(want) + 8, f"dense layer: {cycles} cycles for {len(want)} broadcasts"
        dut._log.info("trial %d: n_in %d, %d broadcasts, %d cycles (stall p %.1f)",
                      trial, n_in, len(out), cycles, stall_p)


@pytest.mark.parametrize("n", [1, 4, 5, 16])
def test_eie_ccu(sim, n):
    tbsim.run(sim, "eie_ccu", __name__, sources("eie_ccu", "eie_lnzd_tree", "eie_lnzd_node"),
              {"N": n, "ACT_AW": 4 if n < 16 else 2})
