"""The AlexNet FC8 run of tb/eie_fc8/cocotb_fc8.py with a naive per-clock driver: the baseline
of scripts/bench_simspeed.py (cocotb module ``harness.per_clock``, imported with scripts/ on the
path; the benchmark's only user). Python awaits both clock edges in every cycle of the run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from tb.eie_fc8.cocotb_fc8 import setup
from tb.eie_lib import control
from tb.eie_lib.clocking import PERIOD_NS


async def per_clock_run(dut, x: np.ndarray) -> tuple[list[int], list[int]]:
    """start, stream and collect with Python awaiting both clock edges in every cycle."""
    await control.start_pulse(dut)
    dut.m_axis_res_tready.value = 1
    words = [int(v) & 0xFFFF for v in x]
    sent, vals, slots = 0, [], []
    while True:
        dut.s_axis_act_tvalid.value = int(sent < len(words))
        dut.s_axis_act_tdata.value = words[min(sent, len(words) - 1)]
        dut.s_axis_act_tlast.value = int(sent == len(words) - 1)
        await RisingEdge(dut.clk)       # values read here are those of the edge
        sent += int(sent < len(words) and int(dut.s_axis_act_tready.value))
        if int(dut.m_axis_res_tvalid.value):
            vals.append(dut.m_axis_res_tdata.value.to_signed())
            slots.append(int(dut.m_axis_res_tuser.value))
        done = int(dut.done.value)
        await FallingEdge(dut.clk)
        if done:
            return vals, slots


@cocotb.test()
async def fc8_run_per_clock(dut):
    """The FC8 run with the per-clock driver; FC8_RESULT gets the timing and the mismatches."""
    p, case, x, want = await setup(dut)
    t_sim0 = get_sim_time("ns")
    wall1 = time.perf_counter()
    vals, slots = await per_clock_run(dut, x)
    wall2 = time.perf_counter()
    t_sim1 = get_sim_time("ns")
    mism = sum(int(v != w) for v, w in zip(vals, want)) + abs(len(vals) - len(want))
    Path(os.environ["FC8_RESULT"]).write_text(json.dumps({
        "name": case["name"], "params": p, "drivers": "per-clock baseline",
        "mismatches": mism, "run_sim_cycles": int(round((t_sim1 - t_sim0) / PERIOD_NS)),
        "run_wall_s": wall2 - wall1, "error": int(dut.error.value)}))
    assert mism == 0, f"{mism} mismatches"
