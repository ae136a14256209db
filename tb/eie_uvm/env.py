"""pyuvm environment of eie_top: sequence item, driver, scoreboard, coverage, env.

    sequence --NetworkItem--> sequencer --> EieDriver --(load port, AxisSource, ReadyToggler)--> DUT
    DUT --> ResultMonitor --RunResult--> Scoreboard.res_fifo
    EieDriver --RunRecord (item, vector, counters, bypass count)--> Scoreboard.rec_fifo
    Scoreboard --(RunRecord, RunResult)--> Coverage (cocotb-coverage CoverPoints)

A :class:`NetworkItem` is one network (golden.QLayer list, loaded through the load port unless
``load`` is False) plus its input vectors and knobs: idle / ready probabilities, load-port
``patches`` applied before the runs (bad configurations) and ``restore`` writes after them, the
expected error cause, a ``tlast_at`` override, a ``bad_word`` (index, word) that replaces one
input word (a malformed stream), ``reset_after`` (reset the engine that many cycles after start,
in the middle of a layer; no result is expected from that run). Input vectors and expected
outputs are values of the network's activation format; the streams carry their 16-bit words
(models.engine_map.stream_words: packed log values for MUL = 2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, First, Timer
from pyuvm import (ConfigDB, uvm_analysis_port, uvm_component, uvm_driver, uvm_env,
                   uvm_sequence_item, uvm_sequencer, uvm_subscriber, uvm_tlm_analysis_fifo)

from models import engine_map as em
from models import golden
from tb.eie_lib import axis, clocking, control, model
from tb.eie_uvm import bfm, coverage

HANG_CYCLES = 400_000


class NetworkItem(uvm_sequence_item):
    """A network for the engine and the input vectors to run through it."""

    def __init__(self, name: str, layers: list[golden.QLayer], vectors: list[np.ndarray],
                 tags: tuple[str, ...] = (), idle: float = 0.0, ready: float = 1.0,
                 load: bool = True, patches: list[em.Write] | None = None,
                 restore: list[em.Write] | None = None,
                 expect_error: int | None = None, expect_pe: int | None = None,
                 tlast_at: int | None = None, bad_word: tuple[int, int] | None = None,
                 reset_after: int | None = None):
        super().__init__(name)
        self.layers = layers
        self.vectors = [np.asarray(v, dtype=np.int64) for v in vectors]
        self.tags = tuple(tags)
        self.idle, self.ready, self.load = idle, ready, load
        self.patches, self.restore = list(patches or []), list(restore or [])
        self.expect_error, self.expect_pe = expect_error, expect_pe
        self.tlast_at, self.bad_word, self.reset_after = tlast_at, bad_word, reset_after

    def image(self) -> em.Image:
        return em.build_image(self.layers)

    def words(self, x: np.ndarray) -> list[int]:
        """The s_axis_act words of input vector ``x`` (with the bad word, if any)."""
        words = model.input_words(self.layers, x)
        if self.bad_word is not None:
            j, w = self.bad_word
            words[j] = w
        return words

    def shape(self) -> str:
        return f"{self.layers[0].n_slots_in} -> {[l.n_out for l in self.layers]}"

    def __str__(self):
        return f"{self.get_name()} [{','.join(self.tags)}] {self.shape()} x{len(self.vectors)}"


@dataclass
class RunRecord:
    """One run as the driver did it (published after done)."""

    item: NetworkItem
    index: int                      # vector index in the item
    x: np.ndarray
    counters: dict = field(default_factory=dict)
    bypass: int = 0
    hung: bool = False


BACKDOOR_WORDS = int(os.environ.get("EIE_UVM_BACKDOOR_WORDS", "1500"))


async def backdoor_load(dut, img: em.Image) -> None:
    """Sparse-matrix and pointer words written straight into the PEs' memories through the
    simulator (no clock cycles); codebook and descriptors still through the load port."""
    for k, (spm, ptr) in enumerate(zip(img.spm, img.ptr)):
        pe = dut.g_pe[k].u_pe
        mem, even, odd = pe.u_spm.mem, pe.u_ptr.bank_even, pe.u_ptr.bank_odd
        last = int(np.nonzero(spm)[0].max(initial=-1))
        for a in range(last + 1):
            mem[a].value = int(spm[a])
        for a, w in enumerate(ptr):
            (even if a % 2 == 0 else odd)[a // 2].value = int(w)
    await Timer(1, unit="ns")
    await control.load_image(dut, img, (em.LD_CB, em.LD_DESC))


class EieDriver(uvm_driver):
    """Loads each item through the load port, applies its patches, then runs its vectors: start,
    s_axis_act through the AxisSource, results drained under the ReadyToggler's back-pressure, wait
    for done (a hang is an error), counters, RunRecord to the scoreboard."""

    def build_phase(self):
        self.ap = uvm_analysis_port("ap", self)

    def start_of_simulation_phase(self):
        self.dut = cocotb.top
        self.rng: np.random.Generator = ConfigDB().get(self, "", "RNG")
        self.hw: dict = ConfigDB().get(self, "", "HW")
        self.monitor: bfm.ResultMonitor = ConfigDB().get(self, "", "MONITOR")

    async def run_phase(self):
        dut = self.dut
        self.src = bfm.AxisSource(dut, "s_axis_act", dut.clk, dut.busy)
        self.ready = axis.ReadyToggler(dut.m_axis_res_tready, dut.clk, self.rng)
        self.bypass, _ = bfm.start_bypass_probe(dut)
        while True:
            item = await self.seq_item_port.get_next_item()
            try:
                await self.drive(item)
            finally:
                self.seq_item_port.item_done()

    async def drive(self, item: NetworkItem):
        dut = self.dut
        if item.load:
            img = item.image()
            writes = em.image_writes(img)
            if len(writes) > BACKDOOR_WORDS:
                self.logger.info("%s: %d load words: memories through the backdoor", item,
                                 len(writes))
                await backdoor_load(dut, img)
            else:
                await control.load_words(dut, writes)
        await control.load_words(dut, item.patches)
        self.ready.set_ready(item.ready)
        for i, x in enumerate(item.vectors):
            if item.reset_after is not None:
                await self.run_with_reset(item, x)
                continue
            rec = await self.run_one(item, i, x)
            self.logger.info("%s: vector %d (%d non-zero): %d cycles, %d stalls, %d bypasses",
                             item, i, int(np.count_nonzero(x)), rec.counters["total"],
                             rec.counters["stall"], rec.bypass)
            self.ap.write(rec)
            if rec.hung:
                raise AssertionError(f"{item}: vector {i}: no done within {HANG_CYCLES} cycles")
        await control.load_words(dut, item.restore)

    async def run_one(self, item: NetworkItem, i: int, x: np.ndarray) -> RunRecord:
        dut = self.dut
        tlast = len(x) - 1 if item.tlast_at is None else item.tlast_at
        b0 = self.bypass[0]
        self.monitor.done_event.clear()
        await control.start_pulse(dut)
        send = cocotb.start_soon(self.src.send(bfm.ActBurst(item.words(x), tlast, item.idle,
                                                            self.rng)))
        timeout = Timer(HANG_CYCLES * clocking.PERIOD_NS, unit="ns")   # one trigger, not a count
        fired = await First(self.monitor.done_event.wait(), timeout)
        hung = fired is timeout
        if not send.done():
            await First(send, Timer(4 * clocking.PERIOD_NS, unit="ns"))
            send.cancel()
        await FallingEdge(dut.clk)
        counters = await control.read_counters(dut, self.hw["N_PE"])
        return RunRecord(item, i, x, counters, self.bypass[0] - b0, hung)

    async def run_with_reset(self, item: NetworkItem, x: np.ndarray):
        """start, stream, reset ``reset_after`` cycles later (mid-layer), check the engine is idle
        and error-free afterwards."""
        dut = self.dut
        await control.start_pulse(dut)
        send = cocotb.start_soon(self.src.send(bfm.ActBurst(item.words(x), len(x) - 1,
                                                            item.idle, self.rng)))
        await clocking.cycles_from(dut.clk, item.reset_after)
        busy = int(dut.busy.value)
        send.cancel()
        self.src.bus.tvalid.value = 0
        self.src.bus.tlast.value = 0
        await clocking.reset(dut, 2)
        await FallingEdge(dut.clk)
        assert not int(dut.busy.value) and not int(dut.error.value), \
            f"{item}: engine busy or in error after a reset"
        self.logger.info("%s: reset %d cycles after start (engine %s), idle again", item,
                         item.reset_after, "busy" if busy else "already idle")
        self.ap.write(RunRecord(item, -1, x, {"reset_busy": busy}))


class Scoreboard(uvm_component):
    """Pairs each RunRecord (what was driven) with the RunResult of the same run (what the
    monitor saw) and checks: every output word and its slot against models.golden, tlast on the
    last beat, no error; or, for a bad configuration, the error flag with its cause (and PE) and
    no result beat; and the counters: broadcasts = active columns, padding entries and busy
    cycles per PE = the golden model's (summed over the layers). Reset runs have no result."""

    def build_phase(self):
        self.rec_fifo = uvm_tlm_analysis_fifo("rec_fifo", self)
        self.res_fifo = uvm_tlm_analysis_fifo("res_fifo", self)
        self.ap = uvm_analysis_port("ap", self)
        self.errors: list[str] = []
        self.runs = self.values = self.error_runs = self.resets = 0

    def fail(self, msg: str):
        self.errors.append(msg)
        self.logger.error(msg)

    async def run_phase(self):
        while True:
            rec: RunRecord = await self.rec_fifo.get()
            if rec.index < 0:
                self.resets += 1
                self.ap.write((rec, None))
                continue
            res: axis.RunResult = await self.res_fifo.get()
            self.check(rec, res)
            self.ap.write((rec, res))

    def check(self, rec: RunRecord, res: axis.RunResult):
        it = rec.item
        what = f"{it} vector {rec.index}"
        self.runs += 1
        if it.expect_error is not None:
            self.error_runs += 1
            if not res.error or res.cause != it.expect_error:
                self.fail(f"{what}: error {res.error} cause {res.cause}, expected cause "
                          f"{it.expect_error}")
            if it.expect_pe is not None and res.err_pe != it.expect_pe:
                self.fail(f"{what}: err_pe {res.err_pe}, expected {it.expect_pe}")
            if res.values:
                self.fail(f"{what}: {len(res.values)} result beats despite the error")
            return
        if res.error:
            self.fail(f"{what}: error cause {res.cause} (PE {res.err_pe})")
            return
        want = model.expected_words(it.layers, rec.x)
        if res.slots != list(range(len(want))):
            self.fail(f"{what}: slots {res.slots[:12]}... expected 0..{len(want) - 1}")
        if res.lasts != [0] * (len(want) - 1) + [1]:
            self.fail(f"{what}: tlast not on the last beat only")
        bad = [(s, hex(v & 0xFFFF), hex(w)) for s, v, w in zip(res.slots, res.values, want)
               if v & 0xFFFF != w]
        if bad:
            self.fail(f"{what}: {len(bad)} of {len(want)} words differ (slot, rtl, golden): "
                      f"{bad[:8]}")
        self.values += len(res.values)
        c, g = rec.counters, model.expected_counters(it.layers, rec.x)
        if c["bcast"] != g["bcast"]:
            self.fail(f"{what}: {c['bcast']} broadcasts, golden active columns {g['bcast']}")
        if c["pad"] != g["pad"]:
            self.fail(f"{what}: padding counters {c['pad']}, golden {g['pad']}")
        if c["busy"] != g["busy"]:
            self.fail(f"{what}: busy counters {c['busy']}, golden work {g['busy']}")
        if c["layers"] != g["layers"]:
            self.fail(f"{what}: {c['layers']} layers completed, expected {g['layers']}")

    def check_phase(self):
        ok, extra = self.res_fifo.try_get()
        if ok:
            self.fail(f"a result nobody asked for: {extra}")
        self.logger.info("scoreboard: %d runs (%d with an expected error, %d resets), %d output "
                         "values checked, %d errors", self.runs, self.error_runs, self.resets,
                         self.values, len(self.errors))
        assert not self.errors, f"{len(self.errors)} scoreboard errors, first: {self.errors[0]}"


class Coverage(uvm_subscriber):
    """Functional coverage (cocotb-coverage) of every (RunRecord, RunResult) pair; reported in
    report_phase and exported to ``coverage.yml`` in the build folder (the pytest entry merges
    the builds into build/reports/eie_uvm_coverage.yml)."""

    def build_phase(self):
        self.hw = ConfigDB().get(self, "", "HW")
        coverage.sample_build(self.hw)

    def write(self, pair):
        rec, res = pair
        coverage.sample_run(self.hw, rec, res)

    def report_phase(self):
        coverage.report(self.logger.info)
        path = Path(os.environ.get("EIE_UVM_COVERAGE", "coverage.yml"))
        coverage.export(path)
        self.logger.info("coverage exported to %s", path.resolve())


class EieEnv(uvm_env):
    def build_phase(self):
        self.seqr = uvm_sequencer("seqr", self)
        ConfigDB().set(None, "*", "SEQR", self.seqr)
        self.driver = EieDriver("driver", self)
        self.scoreboard = Scoreboard("scoreboard", self)
        self.coverage = Coverage("coverage", self)

    def connect_phase(self):
        dut = cocotb.top
        self.monitor = bfm.ResultMonitor(dut, dut.clk, dut.rst,
                                         callback=self.scoreboard.res_fifo.analysis_export.write)
        ConfigDB().set(None, "*", "MONITOR", self.monitor)
        self.driver.seq_item_port.connect(self.seqr.seq_item_export)
        self.driver.ap.connect(self.scoreboard.rec_fifo.analysis_export)
        self.scoreboard.ap.connect(self.coverage.analysis_export)
