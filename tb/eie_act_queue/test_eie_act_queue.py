"""eie_act_queue: the activation FIFO against a Python deque under random push/pop (full and
empty corners, simultaneous push and pop, flush)."""

from collections import deque

import cocotb
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, sources


@cocotb.test()
async def random_traffic(dut):
    """4000 cycles of random push/pop with phases biased to fill and to drain, a flush now and
    then; head, count, full and empty checked every cycle."""
    p = params({"DATA_W": 32, "DEPTH": 8})
    depth = p["DEPTH"]
    g = rng(dut)
    clocking.clock(dut)
    dut.push.value = dut.pop.value = dut.flush.value = 0
    dut.din.value = 0
    await clocking.reset(dut)
    model = deque()
    pushed = popped = 0
    for cyc in range(4000):
        await FallingEdge(dut.clk)
        assert int(dut.count.value) == len(model), f"cycle {cyc}: count {int(dut.count.value)} != {len(model)}"
        assert int(dut.empty.value) == (len(model) == 0) and int(dut.full.value) == (len(model) == depth)
        if model:
            assert int(dut.dout.value) == model[0], f"cycle {cyc}: head {int(dut.dout.value):#x} != {model[0]:#x}"
        bias = 0.75 if (cyc // 200) % 2 == 0 else 0.25
        push, pop = int(g.random() < bias), int(g.random() < 1 - bias)
        flush = int(g.random() < 0.005)
        data = int(g.integers(0, 1 << 32))
        dut.push.value, dut.pop.value, dut.flush.value, dut.din.value = push, pop, flush, data
        await RisingEdge(dut.clk)
        if flush:
            model.clear()
            continue
        do_pop = pop and model
        do_push = push and len(model) < depth
        if do_pop:
            model.popleft()
            popped += 1
        if do_push:
            model.append(data)
            pushed += 1
    dut._log.info("depth %d: %d pushes, %d pops checked", depth, pushed, popped)
    assert pushed > 500 and popped > 500, "too little traffic to mean anything"


@pytest.mark.parametrize("depth", [1, 3, 8, 16])
def test_eie_act_queue(sim, depth):
    tbsim.run(sim, "eie_act_queue", __name__, sources("eie_act_queue"), {"DEPTH": depth})
