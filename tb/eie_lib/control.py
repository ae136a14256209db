"""eie_top's control side: the start-up of every engine test (clock, inputs at rest, reset,
stream protocol and X monitors), the load port (models/engine_map.py's writes), the start
pulse, the counters, and one whole run (start, stream in, results out)."""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer

from models import engine_map as em
from tb.eie_lib import clocking, protocol
from tb.eie_lib.axis import collect_results, send_acts


def top_idle_inputs(dut) -> None:
    """Every eie_top input except clk and rst at 0."""
    for name in ("start", "ld_valid", "ld_sel", "ld_pe", "ld_addr", "ld_data",
                 "s_axis_act_tvalid", "s_axis_act_tdata", "s_axis_act_tlast",
                 "m_axis_res_tready", "cnt_sel", "cnt_pe"):
        getattr(dut, name).value = 0


async def start_engine(dut, strict: bool = True) -> protocol.Monitors | None:
    """The start-up of every eie_top test: clock, inputs at rest, reset, then the stream
    protocol and X monitors (tb/eie_lib/protocol.py; a violation fails the test, or with
    ``strict`` False is collected). EIE_MONITORS=0 leaves the monitors off, only to measure
    what they cost."""
    clocking.clock(dut)
    top_idle_inputs(dut)
    await clocking.reset(dut)
    if os.environ.get("EIE_MONITORS", "1") == "0":
        return None
    return protocol.start_monitors(dut, strict)


async def load_words(dut, writes: list[em.Write]) -> None:
    """Load-port writes (sel, pe, addr, data), one a cycle (the engine must be idle). Only the
    fields that change from one word to the next are written (images run to thousands of
    words, and each handle write costs a VPI call)."""
    if not writes:
        return
    await FallingEdge(dut.clk)
    assert int(dut.ld_ready.value), "load port not ready"
    fields = (dut.ld_sel, dut.ld_pe, dut.ld_addr, dut.ld_data)
    last = [None] * len(fields)
    dut.ld_valid.value = 1
    for w in writes:
        for k, (handle, v) in enumerate(zip(fields, w)):
            v = int(v) & ((1 << 64) - 1)
            if v != last[k]:
                handle.value = v
                last[k] = v
        await FallingEdge(dut.clk)      # taken at the rising edge in between
    dut.ld_valid.value = 0


async def load_image(dut, img: em.Image, selects=em.LOAD_SELECTS) -> None:
    """Front-door load of the memories of ``img`` named by ``selects`` (all by default)."""
    await load_words(dut, em.image_writes(img, selects))


async def start_pulse(dut) -> None:
    """One-cycle start (from a falling edge to the next)."""
    await FallingEdge(dut.clk)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0


async def read_counter(dut, name: str, pe: int = 0) -> int:
    """One counter (models.engine_map.COUNTERS), of PE ``pe`` for the per-PE ones; the
    counters hold from done to the next start."""
    dut.cnt_sel.value = em.COUNTERS[name]
    dut.cnt_pe.value = pe
    await Timer(50, unit="ps")
    return int(dut.cnt_data.value)


async def read_counters(dut, n_pe: int) -> dict:
    """Every counter by name, the per-PE ones as lists over the ``n_pe`` PEs."""
    return {name: ([await read_counter(dut, name, k) for k in range(n_pe)]
                   if name in em.PE_COUNTERS else await read_counter(dut, name))
            for name in em.COUNTERS}


async def run_network(dut, words: list[int], g: np.random.Generator | None = None,
                      idle: float = 0.0, ready: float = 1.0):
    """start, stream the input ``words`` in (16-bit: the activations of a linear network, the
    packed log values of a log x log one, model.input_words), collect the results until done.
    Returns (values, slots, lasts); values are the 16-bit result words read as signed."""
    await start_pulse(dut)
    sender = cocotb.start_soon(send_acts(dut, words, g, idle))
    res = await collect_results(dut, g, ready)
    await sender
    return res
