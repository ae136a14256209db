"""cocotb module of the AlexNet FC8 runs (the regression test tb/eie_fc8 and scripts/bench_*).

The memory images are loaded by the backdoor (+EIE_INIT_DIR); only the layer descriptor goes
through the load port. Environment: FC8_IMG_DIR (folder written by tb.eie_fc8.fc8.export:
images, case.json, x.npy, want_slots.npy), FC8_RESULT (JSON written here: outputs, counters,
timing).

The run uses the transaction-level drivers of tb/eie_common.py (Python once per stream beat,
not at all while the engine computes); ``fc8_run_per_clock`` repeats it with a naive driver that
awaits both clock edges in every cycle, the baseline of scripts/bench_simspeed.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from tb import eie_common as ec
from tb.common import params

PERIOD_NS = ec.PERIOD_NS


async def per_clock_run(dut, x: np.ndarray) -> tuple[list[int], list[int]]:
    """The naive driver style, kept only as the baseline of scripts/bench_simspeed.py: start,
    stream and collect with Python awaiting both clock edges in every cycle of the run."""
    await ec.start_pulse(dut)
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


async def progress(dut, every: int) -> None:
    """Log simulated cycles and wall time every ``every`` cycles (FC8_PROGRESS=<cycles>): one
    timer trigger per report, no per-cycle work; shows whether a slow simulator is moving."""
    from cocotb.triggers import Timer
    t0 = time.perf_counter()
    while True:
        await Timer(every * PERIOD_NS, unit="ns")
        wall = time.perf_counter() - t0
        cyc = int(get_sim_time("ns") // PERIOD_NS)
        dut._log.info("progress: %d cycles, %.1f s wall, %.0f cycles/s, busy=%s state=%s", cyc,
                      wall, cyc / wall if wall else 0.0, dut.busy.value, dut.state.value)


async def setup(dut) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """Clock, reset and the layer descriptors through the load port (the memories come from the
    +EIE_INIT_DIR backdoor); returns (parameters, case, input, golden outputs in slot order)."""
    p = params({"N_PE": 64})
    img = Path(os.environ["FC8_IMG_DIR"])
    case = json.loads((img / "case.json").read_text())
    x = np.load(img / "x.npy")
    want = np.load(img / "want_slots.npy")
    ec.clock(dut)
    every = int(os.environ.get("FC8_PROGRESS", "0"))
    if every > 0:
        cocotb.start_soon(progress(dut, every))
    ec.top_idle_inputs(dut)
    await ec.reset(dut)
    await ec.load_words(dut, ec.desc_writes(case["desc"]))
    return p, case, x, want


@cocotb.test()
async def fc8_run(dut):
    """The FC8 layer: descriptor load, start, stream in, results out, compared with golden."""
    wall0 = time.perf_counter()
    p, case, x, want = await setup(dut)
    await FallingEdge(dut.clk)
    t_sim0 = get_sim_time("ns")
    wall1 = time.perf_counter()
    vals, slots, lasts = await ec.run_network(dut, x)
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


@cocotb.test(skip=os.environ.get("FC8_PER_CLOCK", "0") == "0")
async def fc8_run_per_clock(dut):
    """The same run with the per-clock baseline driver, for the simulation-speed comparison
    (scripts/bench_simspeed.py); FC8_PER_CLOCK=1 enables it."""
    p, case, x, want = await setup(dut)
    t_sim0 = get_sim_time("ns")
    wall1 = time.perf_counter()
    vals, slots = await per_clock_run(dut, x)
    wall2 = time.perf_counter()
    t_sim1 = get_sim_time("ns")
    mism = sum(int(v != w) for v, w in zip(vals, want)) + abs(len(vals) - len(want))
    out = os.environ.get("FC8_RESULT")
    if out:
        Path(out).write_text(json.dumps({
            "name": case["name"], "params": p, "drivers": "per-clock baseline",
            "mismatches": mism, "run_sim_cycles": int(round((t_sim1 - t_sim0) / PERIOD_NS)),
            "run_wall_s": wall2 - wall1, "error": int(dut.error.value)}))
    assert mism == 0, f"{mism} mismatches"
