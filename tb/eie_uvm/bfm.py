"""Bus functional models of eie_top's streams, built on cocotb-bus 0.3.0.

cocotb-bus 0.3.0 runs under cocotb 2.1 as it is (its ``_compat`` module replaces BinaryValue with
LogicArray); the only cocotb-2 issue met here is ``Task.kill()``, deprecated in favour of
``cancel()``: the classes below override ``kill``. Timing convention of every tb/eie_* driver:
inputs change on the falling edge, signals are sampled at the rising edge (values of that edge).

* :class:`AxisSource`  (``BusDriver``) drives ``s_axis_act`` with random idle cycles.
* :class:`ReadyToggler` (``BitDriver``) drives ``m_axis_res_tready`` with random back-pressure.
* :class:`ResultMonitor` (``BusMonitor``) watches ``m_axis_res`` and the status outputs and
  publishes one :class:`RunResult` per ``done`` pulse (result beats of the run, error flag, cause,
  PE); beats seen in reset are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, RisingEdge
from cocotb_bus.drivers import BitDriver, BusDriver
from cocotb_bus.monitors import BusMonitor


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
        n, sent = len(b.words), 0
        await FallingEdge(self.clock)
        while sent < n:
            if b.rng is not None and b.idle > 0 and b.rng.random() < b.idle:
                self.bus.tvalid.value = 0
                await RisingEdge(self.clock)
                await FallingEdge(self.clock)
                continue
            self.bus.tvalid.value = 1
            self.bus.tdata.value = int(b.words[sent]) & 0xFFFF
            self.bus.tlast.value = int(sent == b.tlast_at)
            await RisingEdge(self.clock)
            fired = int(self.bus.tready.value)
            busy = int(self.busy.value)
            await FallingEdge(self.clock)
            if fired:
                sent += 1
            elif not busy:
                break
        self.bus.tvalid.value = 0
        self.bus.tlast.value = 0
        self.sent = sent


class ReadyToggler(BitDriver):
    """m_axis_res_tready: on/off runs drawn so that tready is high a fraction ``ready`` of the
    cycles (always high for ready >= 1)."""

    def __init__(self, signal, clk, rng: np.random.Generator):
        super().__init__(signal, clk)
        self.rng = rng
        self.ready = 1.0

    def _runs(self):
        while True:
            if self.ready >= 1.0:
                yield 1000, 0
            else:
                on = int(self.rng.geometric(1.0 - self.ready * 0.5))
                off = int(self.rng.geometric(max(0.05, self.ready)))
                yield on, off

    def set_ready(self, ready: float) -> None:
        self.ready = ready
        self.stop()
        self.start(self._runs())

    def stop(self):
        _cancel(self._cr)
        self._cr = None


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
        from cocotb.utils import get_sim_time
        cur = RunResult()
        while True:
            await RisingEdge(self.clock)
            if str(self._reset.value) != "0":     # in reset (or before the first one)
                cur = RunResult()
                continue
            if _hi(self.bus.tvalid) and _hi(self.bus.tready):
                cur.values.append(self.bus.tdata.value.to_signed())
                cur.slots.append(int(self.bus.tuser.value))
                cur.lasts.append(int(self.bus.tlast.value))
            if _hi(self.dut.done):
                await FallingEdge(self.clock)   # error / cause are registered with done
                cur.error = int(self.dut.error.value)
                cur.cause = int(self.dut.err_cause.value)
                cur.err_pe = int(self.dut.err_pe.value)
                cur.time_ns = get_sim_time("ns")
                self.last = cur
                self._recv(cur)
                self.done_event.set()
                cur = RunResult()


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
    while True:
        await RisingEdge(clk)
        if _hi(byp) and _hi(a2v):
            counts[0] += 1


def start_bypass_probe(dut, pe: int = 0):
    counts = [0]
    task = cocotb.start_soon(bypass_probe(dut, counts, pe))
    return counts, task
