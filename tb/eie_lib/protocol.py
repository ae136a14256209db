"""Protocol and X monitors of eie_top's two streams and its status outputs, event driven.

Rules (the AXI4-Stream handshake, and what rtl/eie_top.v's header documents):

* m_axis_res, the engine is the master: once tvalid is high, tvalid stays high and tdata, tuser
  and tlast stay unchanged until a rising clock edge with tready high (a reset excepted);
  tvalid only while busy.
* s_axis_act, the engine is the slave: tready only while busy (an idle engine would lose the
  word); the engine takes layer 0's n_cols_in activations of a run and no more, so after the
  beat with tlast is taken tready stays low until the run ends (done) or a reset.
* X or Z: tdata, tuser and tlast while tvalid is high (looked at when tvalid rises, at each
  new beat, i.e. each change of tuser, and at every change during a stall); busy, done, error,
  ld_ready and both streams' tvalid / tready at any time; err_cause and err_pe while error or
  done is high. Icarus is 4-state, so that is where X shows; Verilator is 2-state.

Python runs only when a watched signal changes: one task per signal waits on its value-change
trigger and wakes one checker, which runs the checks that signal takes part in on the settled
values of that time step (ReadOnly). m_axis_res_tready and tuser are followed while tvalid is
high (each beat of eie_top has its own slot index in tuser), tdata and tlast while a beat
stalls, s_axis_act's tvalid while its tlast is high. That is a few times per run and about
once per result beat, never once per clock cycle. (No ``First`` over the signals: in cocotb 2.1
it starts a task per trigger at every wait.) Start the monitors after the first reset
(:func:`start_monitors`).

A violation raises :class:`ProtocolError` in the monitor's task; cocotb 2.1 ends the running
test with it (an exception in a task started with ``cocotb.start_soon`` that nobody awaits
fails the test). With ``strict=False`` the violations are only collected in
:attr:`Monitors.violations` (the soak records them per network).
"""

from __future__ import annotations

import cocotb
from cocotb.triggers import Event, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

STATUS = ("busy", "done", "error", "ld_ready", "s_axis_act_tready")
RESULT = ("m_axis_res_tdata", "m_axis_res_tuser", "m_axis_res_tlast")
CHECKS = ("status", "master", "slave")
# the checks a change of each always-watched signal wakes (m_axis_res_tvalid, which changes at
# every beat of eie_top's 1-PE builds, only the master check: it does that signal's X and idle
# checks itself)
WATCH = {"busy": ("status", "master"), "done": ("status", "slave"), "error": ("status",),
         "ld_ready": ("status",), "s_axis_act_tready": ("status", "slave"),
         "m_axis_res_tvalid": ("master",), "rst": ("master", "slave"),
         "s_axis_act_tlast": ("slave",)}


class ProtocolError(AssertionError):
    """A stream protocol or X/Z violation on eie_top's outputs."""


def _resolved(bits: str) -> bool:
    """A value's bit string holds only 0 and 1."""
    return not bits.strip("01")


class Monitors:
    """The protocol and X monitors of one DUT with eie_top's port names."""

    def __init__(self, dut, strict: bool = True):
        self.dut, self.strict = dut, strict
        self.violations: list[str] = []
        self._sig = {n: getattr(dut, n) for n in (*WATCH, *RESULT, "m_axis_res_tready",
                                                  "s_axis_act_tvalid", "err_cause", "err_pe")}
        self._wake = Event()
        self._due: set[str] = set()  # the checks woken since the last time step checked
        self._valid_on = Event()     # m_axis_res_tvalid is high: follow tready and tuser
        self._stall_on = Event()     # a result beat stalls: follow tdata and tlast too
        self._last_on = Event()      # s_axis_act_tlast is high: follow s_axis_act_tvalid
        self._stalled = None         # the payload while the last settled state was a stall
        self._took_last = False      # the tlast beat was taken in this run
        self._last_beat = False      # tvalid, tlast and tready high (no reset): taken at the edge
        self._edge_pending = False
        self._bad = {c: set() for c in CHECKS}   # the X/Z and idle conditions present
        self._tasks = [cocotb.start_soon(self._follow(self._sig[n], g)) for n, g in WATCH.items()]
        for n, on in (("m_axis_res_tready", self._valid_on), ("m_axis_res_tuser", self._valid_on),
                      ("m_axis_res_tdata", self._stall_on), ("m_axis_res_tlast", self._stall_on)):
            self._tasks.append(cocotb.start_soon(self._follow(self._sig[n], ("master",), on)))
        self._tasks.append(cocotb.start_soon(
            self._follow(self._sig["s_axis_act_tvalid"], ("slave",), self._last_on)))
        self._tasks.append(cocotb.start_soon(self._checker()))

    def stop(self) -> None:
        for t in self._tasks:
            if not t.done():
                t.cancel()

    def _fail(self, rule: str, what: str) -> None:
        msg = f"{get_sim_time('ns'):.0f} ns: {rule}: {what}"
        self.violations.append(msg)
        if self.strict:
            raise ProtocolError(msg)

    def _report(self, check: str, now: dict) -> None:
        """Fail on the conditions of ``now`` (key: (rule, what)) that were not present at the
        last run of ``check``: a lasting X or idle violation is reported once."""
        started = [k for k in now if k not in self._bad[check]]
        self._bad[check] = set(now)
        for k in started:
            self._fail(*now[k])

    def _bits(self, name: str) -> str:
        return str(self._sig[name].value)

    async def _follow(self, sig, checks: tuple[str, ...], on: Event | None = None) -> None:
        """Wake the checker for ``checks`` at every change of ``sig`` (while ``on`` is set)."""
        while True:
            if on is not None and not on.is_set():
                await on.wait()
            await sig.value_change
            self._due.update(checks)
            self._wake.set()

    async def _checker(self) -> None:
        await ReadOnly()
        due = set(CHECKS)
        while True:
            if "status" in due:
                self._status()
            if "master" in due:
                self._master()
            if "slave" in due:
                self._slave()
            self._wake.clear()
            await self._wake.wait()
            await ReadOnly()
            due, self._due = self._due, set()

    def _status(self) -> None:
        """X/Z on the status outputs and on err_cause / err_pe with error or done; the streams
        only while busy."""
        st = {n: self._bits(n) for n in STATUS}
        now = {}
        for n, v in st.items():
            if v not in ("0", "1"):
                now[n] = ("X/Z on a status output", f"{n}={v}")
        if "1" in (st["error"], st["done"]):
            for n in ("err_cause", "err_pe"):
                v = self._bits(n)
                if not _resolved(v):
                    now[n] = ("X/Z on an error output", f"{n}={v} with error/done high")
        if st["busy"] == "0" and st["s_axis_act_tready"] == "1":
            now["tready"] = ("stream active while idle", "s_axis_act_tready high while busy is low")
        self._report("status", now)

    def _master(self) -> None:
        """m_axis_res: tvalid never X/Z and high only while busy, held and the payload unchanged
        from a stall to the handshake; no X/Z in the payload while tvalid."""
        v = self._bits("m_axis_res_tvalid")
        data = tuple(self._bits(n) for n in RESULT) if v == "1" else None
        now = {}
        if v not in ("0", "1"):
            now["tvalid"] = ("X/Z on a status output", f"m_axis_res_tvalid={v}")
        elif v == "1" and self._bits("busy") == "0":
            now["idle"] = ("stream active while idle", "m_axis_res_tvalid high while busy is low")
        if self._stalled is not None:
            if data is None:
                self._fail("m_axis_res", f"tvalid dropped to {v} before the handshake")
            else:
                changed = [f"{n} {a} -> {b}" for n, a, b in zip(RESULT, self._stalled, data)
                           if a != b]
                if changed:
                    self._fail("m_axis_res", "payload changed while tvalid && !tready: "
                               + ", ".join(changed))
        if data is not None:
            for n, x in zip(RESULT, data):
                if not _resolved(x):
                    now[n] = ("X/Z on m_axis_res while tvalid", f"{n}={x}")
        self._report("master", now)
        stall = (data is not None and self._bits("m_axis_res_tready") != "1"
                 and self._bits("rst") == "0")
        self._stalled = data if stall else None
        for on, cond in ((self._valid_on, data is not None), (self._stall_on, stall)):
            if cond:
                on.set()
            else:
                on.clear()

    def _slave(self) -> None:
        """s_axis_act: after the tlast beat is taken, tready stays low until done or reset."""
        ready = self._bits("s_axis_act_tready") == "1"
        last = self._bits("s_axis_act_tlast") == "1"
        in_reset = self._bits("rst") != "0"
        self._last_beat = (ready and last and not in_reset
                           and self._bits("s_axis_act_tvalid") == "1")
        if in_reset or self._bits("done") == "1":
            self._took_last = False
        elif ready and self._took_last:
            self._fail("s_axis_act", "tready high after the tlast beat, before done")
            self._took_last = False
        elif self._last_beat and not self._edge_pending:
            self._edge_pending = True
            self._tasks.append(cocotb.start_soon(self._tlast_taken()))
        if last:
            self._last_on.set()
        else:
            self._last_on.clear()

    async def _tlast_taken(self) -> None:
        """The tlast beat is taken at the next rising edge, if it is still there just before
        (the last check, of the time step before the edge; the testbench may withdraw it for a
        reset): tready must be low after it."""
        await RisingEdge(self.dut.clk)
        self._edge_pending = False
        if not self._last_beat:
            return
        await ReadOnly()
        self._took_last = True
        if self._bits("s_axis_act_tready") == "1":
            self._fail("s_axis_act", "tready high after the tlast beat, before done")
            self._took_last = False


def start_monitors(dut, strict: bool = True) -> Monitors:
    """Start the protocol and X monitors on ``dut`` (eie_top or anything with its port names);
    call once after the first reset. A violation fails the running test (``strict``) or is
    collected in the returned object's ``violations``."""
    dut._log.info("stream protocol and X monitors on (%s)", "strict" if strict else "collecting")
    return Monitors(dut, strict)
