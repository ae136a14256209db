"""Clock, reset and timed waits of the engine tests.

Timing convention of every tb/eie_* driver: inputs change at the falling edge; what a rising
edge does is decided by the values shown at the falling edge before it. eie_top's stream
outputs (s_axis_act_tready, m_axis_res_t*) and status (busy, done, error) are registered or
decoded from its state register, so they hold still from one rising edge to the next.
"""

from __future__ import annotations

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, Timer
from cocotb.utils import get_sim_time

PERIOD_NS = 10


def clock(dut) -> None:
    """The engine's clock: PERIOD_NS."""
    Clock(dut.clk, PERIOD_NS, unit="ns").start()


async def cycles_from(clk, n: int, rising: bool = False) -> None:
    """From a falling (``rising``: rising) clock edge, wait until the same edge ``n`` cycles
    later with two triggers (a timer that ends inside the last cycle, then the edge), whatever
    ``n``."""
    if n <= 0:
        return
    await Timer(n * PERIOD_NS - PERIOD_NS // 4, unit="ns")
    await (RisingEdge(clk) if rising else FallingEdge(clk))


async def reset(dut, cycles: int = 3) -> None:
    """rst high for ``cycles`` rising edges."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0


async def start(dut, inputs) -> None:
    """Start a unit test: the clock, every input named in ``inputs`` at 0, then reset."""
    clock(dut)
    for name in inputs:
        getattr(dut, name).value = 0
    await reset(dut)


async def time_of(trigger) -> float:
    """The simulation time (ns) at which ``trigger`` fires (start it with cocotb.start_soon to
    timestamp an event while doing something else)."""
    await trigger
    return get_sim_time("ns")
