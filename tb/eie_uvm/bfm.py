"""Bus functional models of eie_top's streams for the pyuvm environment: cocotb-bus 0.3.0
classes around the transaction-level stream models of tb/eie_lib/axis.py.

cocotb-bus 0.3.0 runs under cocotb 2.1 as it is (its ``_compat`` module replaces BinaryValue with
LogicArray); the only cocotb-2 issue met here is ``Task.kill()``, deprecated in favour of
``cancel()``: the classes below override ``kill``.

* :class:`AxisSource`  (``BusDriver``) drives ``s_axis_act`` with random idle cycles.
* :class:`ResultMonitor` (``BusMonitor``) publishes one :class:`~tb.eie_lib.axis.RunResult` per
  ``done`` pulse; beats seen in reset are dropped.
* :func:`bypass_probe` counts the cycles a PE's accumulator bypass is used.

m_axis_res_tready is driven by tb.eie_lib.axis.ReadyToggler.
"""

from __future__ import annotations

from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, RisingEdge
from cocotb_bus.drivers import BusDriver
from cocotb_bus.monitors import BusMonitor

from tb.eie_lib import axis


def _cancel(task) -> None:
    if task is not None and not task.done():
        task.cancel()


@dataclass
class ActBurst:
    """One input vector for s_axis_act: 16-bit words, tlast position, idle probability."""

    words: list[int]
    tlast_at: int
    idle: float = 0.0
    rng: np.random.Generator | None = None


class AxisSource(BusDriver):
    """s_axis_act master: valid/ready with random idle cycles; stops early when the engine goes
    idle (an aborted run). ``sent`` is the number of words taken by the last burst."""

    _signals = ["tdata", "tvalid", "tready", "tlast"]

    def __init__(self, entity, name, clock, busy, **kwargs):
        super().__init__(entity, name, clock, **kwargs)
        self.busy = busy
        self.sent = 0
        self.bus.tvalid.value = 0
        self.bus.tlast.value = 0
        self.bus.tdata.value = 0

    def kill(self):
        _cancel(self._thread)
        self._thread = None

    async def _driver_send(self, transaction: ActBurst, sync: bool = True, **kwargs) -> None:
        b = transaction
        self.sent = await axis.drive_stream(self.clock, self.bus, self.busy, b.words, b.tlast_at,
                                            axis.idle_gaps(b.rng, len(b.words), b.idle))


class ResultMonitor(BusMonitor):
    """m_axis_res plus done/error/err_cause/err_pe (tb.eie_lib.axis.watch_results): one
    RunResult per done pulse; ``done_event`` is set at every done (the driver waits on it)."""

    _signals = ["tdata", "tvalid", "tready", "tlast", "tuser"]

    def __init__(self, dut, clock, reset, callback=None):
        self.dut = dut
        self.done_event = Event()
        super().__init__(dut, "m_axis_res", clock, reset=reset, callback=callback)

    def kill(self):
        _cancel(self._thread)
        self._thread = None

    def _publish(self, res: axis.RunResult) -> None:
        self._recv(res)
        self.done_event.set()

    async def _monitor_recv(self):
        await axis.watch_results(self.dut, self._publish, self._reset)


async def bypass_probe(dut, counts: list[int], pe: int = 0) -> None:
    """Counts cycles in which PE ``pe``'s accumulator bypass (back-to-back update of the same
    row, rtl/eie_arith.v) is used; ``counts[0]`` accumulates. Returns at once when the
    simulator does not expose the internal signals."""
    try:
        arith = dut.g_pe[pe].u_pe.u_arith
        byp, a2v = arith.bypass, arith.a2_valid
    except (AttributeError, IndexError, KeyError) as e:
        dut._log.warning("bypass probe disabled: %s", e)
        counts.append(-1)
        return
    clk = dut.clk
    await FallingEdge(clk)
    while True:                     # sampled at falling edges; sleeps while either is low
        if axis.high(byp) and axis.high(a2v):
            counts[0] += 1
        elif not axis.high(byp):
            await RisingEdge(byp)
        else:
            await RisingEdge(a2v)
        await FallingEdge(clk)


def start_bypass_probe(dut, pe: int = 0):
    counts = [0]
    task = cocotb.start_soon(bypass_probe(dut, counts, pe))
    return counts, task
