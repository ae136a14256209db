"""cocotb module of the AlexNet FC8 runs (the regression test tb/eie_fc8 and scripts/bench_*).

The memory images are loaded by the backdoor (+EIE_INIT_DIR); only the layer descriptor goes
through the load port. Environment: FC8_IMG_DIR (folder written by tb.eie_fc8.fc8.export:
images, case.json, x.npy, want_slots.npy), FC8_RESULT (JSON written here: outputs, counters,
timing).

Transaction-level drivers: Python runs once per stream beat (input activations, results) and
not at all while the engine computes (a trigger on the first result's tvalid), unlike the
per-clock drivers of tb/eie_common.py, which await two clock edges every cycle of the run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from tb import eie_common as ec
from tb.common import params

PERIOD_NS = 10


async def send_stream(dut, x: np.ndarray) -> None:
    """Drive s_axis_act with ``x``, one beat a cycle: tready is high throughout the engine's
    input state, so once it rises every falling edge presents the next beat."""
    vals = [int(v) & 0xFFFF for v in x]
    n = len(vals)
    dut.s_axis_act_tdata.value = vals[0]
    dut.s_axis_act_tlast.value = int(n == 1)
    dut.s_axis_act_tvalid.value = 1
    if not int(dut.s_axis_act_tready.value):
        await RisingEdge(dut.s_axis_act_tready)
    await FallingEdge(dut.clk)          # beat 0 is taken at the next rising edge
    for i in range(1, n):
        await FallingEdge(dut.clk)
        dut.s_axis_act_tdata.value = vals[i]
        if i == n - 1:
            dut.s_axis_act_tlast.value = 1
    await FallingEdge(dut.clk)
    dut.s_axis_act_tvalid.value = 0
    dut.s_axis_act_tlast.value = 0


async def collect_stream(dut) -> tuple[list[int], list[int], list[int]]:
    """Results with tready held high: nothing to do until the first tvalid; then the beat shown
    at each falling edge is the one the next rising edge transfers."""
    dut.m_axis_res_tready.value = 1
    vals, slots, lasts = [], [], []
    if not int(dut.m_axis_res_tvalid.value):
        await RisingEdge(dut.m_axis_res_tvalid)
    while True:
        await FallingEdge(dut.clk)
        if int(dut.error.value) or not int(dut.busy.value):
            break
        if int(dut.m_axis_res_tvalid.value):
            vals.append(dut.m_axis_res_tdata.value.to_signed())
            slots.append(int(dut.m_axis_res_tuser.value))
            last = int(dut.m_axis_res_tlast.value)
            lasts.append(last)
            if last:
                break
    return vals, slots, lasts


async def setup(dut) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """Clock, reset and the layer descriptors through the load port (the memories come from the
    +EIE_INIT_DIR backdoor); returns (parameters, case, input, golden outputs in slot order)."""
    p = params({"N_PE": 64})
    img = Path(os.environ["FC8_IMG_DIR"])
    case = json.loads((img / "case.json").read_text())
    x = np.load(img / "x.npy")
    want = np.load(img / "want_slots.npy")
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    ec.top_idle_inputs(dut)
    await ec.reset(dut)
    for i, (a, b) in enumerate(case["desc"]):
        await ec.load(dut, ec.LD_DESC, 0, 2 * i, a)
        await ec.load(dut, ec.LD_DESC, 0, 2 * i + 1, b)
    return p, case, x, want


@cocotb.test()
async def fc8_run(dut):
    """The FC8 layer: descriptor load, start, stream in, results out, compared with golden."""
    wall0 = time.perf_counter()
    p, case, x, want = await setup(dut)
    await FallingEdge(dut.clk)
    t_sim0 = get_sim_time("ns")
    wall1 = time.perf_counter()
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0
    sender = cocotb.start_soon(send_stream(dut, x))
    vals, slots, lasts = await collect_stream(dut)
    await sender
    while int(dut.busy.value):
        await RisingEdge(dut.done)
    await FallingEdge(dut.clk)
    wall2 = time.perf_counter()
    t_sim1 = get_sim_time("ns")
    err = int(dut.error.value)
    cause = int(dut.err_cause.value)
    n = p["N_PE"]
    cnt = {
        "total_cycles": await ec.read_counter(dut, ec.CNT_TOTAL),
        "compute_cycles": await ec.read_counter(dut, ec.CNT_RUN),
        "broadcasts": await ec.read_counter(dut, ec.CNT_BCAST),
        "stall_cycles": await ec.read_counter(dut, ec.CNT_STALL),
        "layers": await ec.read_counter(dut, ec.CNT_LAYERS),
        "busy": [await ec.read_counter(dut, ec.CNT_BUSY, k) for k in range(n)],
        "starved": [await ec.read_counter(dut, ec.CNT_STARVED, k) for k in range(n)],
        "padding": [await ec.read_counter(dut, ec.CNT_PAD, k) for k in range(n)],
    }
    mism = [(s, v, int(w)) for s, v, w in zip(slots, vals, want) if v != w]
    result = {
        "name": case["name"], "params": p, "error": err, "err_cause": cause,
        "outputs": vals, "slots": slots, "counters": cnt,
        "mismatches": len(mism) + abs(len(vals) - len(want)),
        "run_sim_cycles": int(round((t_sim1 - t_sim0) / PERIOD_NS)),
        "run_wall_s": wall2 - wall1,
        "test_sim_cycles": int(round(t_sim1 / PERIOD_NS)),
        "test_wall_s": wall2 - wall0,
    }
    out = os.environ.get("FC8_RESULT")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result))
    dut._log.info("FC8 %s: compute %d cycles, total %d, %d mismatches, %.2f s wall for %d cycles",
                  case["name"], cnt["compute_cycles"], cnt["total_cycles"], result["mismatches"],
                  result["run_wall_s"], result["run_sim_cycles"])
    assert not err, f"engine error cause {cause}"
    assert slots == list(range(len(want))), f"slots {slots[:10]}... expected 0..{len(want) - 1}"
    assert lasts == [0] * (len(want) - 1) + [1], "tlast misplaced"
    assert not mism, f"{len(mism)} mismatches (slot, rtl, golden): {mism[:10]}"


@cocotb.test(skip=os.environ.get("FC8_COMMON_DRIVERS", "0") == "0")
async def fc8_run_common_drivers(dut):
    """The same run with the per-clock drivers of tb/eie_common.py (run_network), for the
    simulation-speed comparison (scripts/bench_simspeed.py); FC8_COMMON_DRIVERS=1 enables it."""
    p, case, x, want = await setup(dut)
    t_sim0 = get_sim_time("ns")
    wall1 = time.perf_counter()
    vals, slots, _ = await ec.run_network(dut, x)
    wall2 = time.perf_counter()
    t_sim1 = get_sim_time("ns")
    mism = sum(int(v != w) for v, w in zip(vals, want)) + abs(len(vals) - len(want))
    out = os.environ.get("FC8_RESULT")
    if out:
        Path(out).write_text(json.dumps({
            "name": case["name"], "params": p, "drivers": "tb/eie_common.py",
            "mismatches": mism, "run_sim_cycles": int(round((t_sim1 - t_sim0) / PERIOD_NS)),
            "run_wall_s": wall2 - wall1, "error": int(dut.error.value)}))
    assert mism == 0, f"{mism} mismatches"
