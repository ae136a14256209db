"""Bus functional models of eie_top's streams, built on cocotb-bus 0.3.0.

cocotb-bus 0.3.0 runs under cocotb 2.1 as it is (its ``_compat`` module replaces BinaryValue with
LogicArray); the only cocotb-2 issue met here is ``Task.kill()``, deprecated in favour of
``cancel()``: the classes below override ``kill``. Timing convention (tb/eie_common.py): inputs
change at the falling edge (tready just after the rising edge), monitors sample at the falling
edge; every model here is transaction level (Python per beat, per idle or back-pressure run and
per awaited signal edge, none per clock cycle while the engine computes).

* :class:`AxisSource`  (``BusDriver``) drives ``s_axis_act`` with random idle cycles.
* :class:`ReadyToggler` drives ``m_axis_res_tready`` with random back-pressure.
* :class:`ResultMonitor` (``BusMonitor``) watches ``m_axis_res`` and the status outputs and
  publishes one :class:`RunResult` per ``done`` pulse (result beats of the run, error flag, cause,
  PE); beats seen in reset are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, First, RisingEdge
from cocotb_bus.drivers import BusDriver
from cocotb_bus.monitors import BusMonitor

from tb import eie_common as ec


def _hi(sig) -> bool:
    """A 1-bit signal is 1 (X/Z count as 0: before the first reset)."""
    return str(sig.value) == "1"


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
    idle (an aborted run). ``sent`` is the number of words taken by the last burst. The beats
    are driven by tb.eie_common.drive_stream (Python once per beat or idle run)."""

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
        self.sent = await ec.drive_stream(self.clock, self.bus, self.busy, b.words, b.tlast_at,
                                          ec.idle_gaps(b.rng, len(b.words), b.idle))


class ReadyToggler:
    """m_axis_res_tready: on/off runs (tb.eie_common.ready_runs) so that tready is high a
    fraction ``ready`` of the cycles (always high for ready >= 1). It changes just after rising
    edges, so a monitor sampling at the falling edge sees the value the next rising edge uses;
    one timer per run, not one trigger per cycle."""

    def __init__(self, signal, clk, rng: np.random.Generator):
        self.signal, self.clk, self.rng = signal, clk, rng
        self._task = None

    async def _drive(self, runs) -> None:
        await RisingEdge(self.clk)
        for on, off in runs:
            for level, n in ((1, on), (0, off)):
                if n:
                    self.signal.value = level
                    await ec.cycles_from(self.clk, n, rising=True)

    def set_ready(self, ready: float) -> None:
        self.stop()
        self._task = cocotb.start_soon(self._drive(ec.ready_runs(self.rng, ready)))

    def stop(self):
        _cancel(self._task)
        self._task = None
@dataclass
class RunResult:
    """What the engine did in one run (start .. done)."""

    values: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    lasts: list[int] = field(default_factory=list)
    error: int = 0
    cause: int = 0
    err_pe: int = 0
    time_ns: float = 0.0


class ResultMonitor(BusMonitor):
    """m_axis_res plus done/error/err_cause/err_pe: one RunResult per done pulse; ``done_event``
    is set at every done (the driver waits on it)."""

    _signals = ["tdata", "tvalid", "tready", "tlast", "tuser"]

    def __init__(self, dut, clock, reset, callback=None):
        self.dut = dut
        self.done_event = Event()
        self.last: RunResult | None = None
        super().__init__(dut, "m_axis_res", clock, reset=reset, callback=callback)

    def kill(self):
        _cancel(self._thread)
        self._thread = None

    async def _monitor_recv(self):
        """Samples at falling edges (every stream and status signal holds still from a rising
        edge to the next); sleeps on tvalid / tready / done / rst edges in between beats."""
        from cocotb.utils import get_sim_time
        bus, dut, clk, rst = self.bus, self.dut, self.clock, self._reset
        cur = RunResult()
        await FallingEdge(clk)
        while True:
            if str(rst.value) != "0":     # in reset (or before the first one)
                cur = RunResult()
                await FallingEdge(clk)
                continue
            valid, done = _hi(bus.tvalid), _hi(dut.done)
            if valid and _hi(bus.tready):  # taken at the next rising edge
                cur.values.append(bus.tdata.value.to_signed())
                cur.slots.append(int(bus.tuser.value))
                cur.lasts.append(int(bus.tlast.value))
            if done:                       # error / cause / PE are registered with done
                cur.error = int(dut.error.value)
                cur.cause = int(dut.err_cause.value)
                cur.err_pe = int(dut.err_pe.value)
                cur.time_ns = get_sim_time("ns")
                self.last = cur
                self._recv(cur)
                self.done_event.set()
                cur = RunResult()
            elif not valid:
                await First(RisingEdge(bus.tvalid), RisingEdge(dut.done), RisingEdge(rst))
            elif not _hi(bus.tready):
                await First(RisingEdge(bus.tready), RisingEdge(rst))
            await FallingEdge(clk)


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
        if _hi(byp) and _hi(a2v):
            counts[0] += 1
        elif not _hi(byp):
            await RisingEdge(byp)
        else:
            await RisingEdge(a2v)
        await FallingEdge(clk)


def start_bypass_probe(dut, pe: int = 0):
    counts = [0]
    task = cocotb.start_soon(bypass_probe(dut, counts, pe))
    return counts, task
