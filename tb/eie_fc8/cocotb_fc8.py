"""cocotb module of the AlexNet FC8 runs (the regression test tb/eie_fc8 and scripts/bench_*).

The memory images are loaded by the backdoor (+EIE_INIT_DIR); only the layer descriptor goes
through the load port. Environment: FC8_IMG_DIR (folder written by tb.eie_fc8.fc8.export:
images, case.json, x.npy, want_slots.npy), FC8_RESULT (JSON written here: outputs, counters,
timing).

The run uses the transaction-level drivers of tb/eie_lib (Python once per stream beat, not at
all while the engine computes); scripts/harness/per_clock.py repeats it with a naive per-clock
driver, the baseline of scripts/bench_simspeed.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, Timer
from cocotb.utils import get_sim_time

from models import engine_map as em
from tb.common import params
from tb.eie_lib import clocking, control
from tb.eie_lib.clocking import PERIOD_NS


async def progress(dut, every: int) -> None:
    """Log simulated cycles and wall time every ``every`` cycles (FC8_PROGRESS=<cycles>): one
    timer trigger per report, no per-cycle work; shows whether a slow simulator is moving."""
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
    clocking.clock(dut)
    every = int(os.environ.get("FC8_PROGRESS", "0"))
    if every > 0:
        cocotb.start_soon(progress(dut, every))
    control.top_idle_inputs(dut)
    await clocking.reset(dut)
    await control.load_words(dut, em.desc_writes(case["desc"]))
    return p, case, x, want


@cocotb.test()
async def fc8_run(dut):
    """The FC8 layer: descriptor load, start, stream in, results out, compared with golden."""
    wall0 = time.perf_counter()
    p, case, x, want = await setup(dut)
    await FallingEdge(dut.clk)
    t_sim0 = get_sim_time("ns")
    wall1 = time.perf_counter()
    vals, slots, lasts = await control.run_network(dut, x)
    wall2 = time.perf_counter()
    t_sim1 = get_sim_time("ns")
    err = int(dut.error.value)
    cause = int(dut.err_cause.value)
    cnt = await control.read_counters(dut, p["N_PE"])
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
                  case["name"], cnt["run"], cnt["total"], result["mismatches"],
                  result["run_wall_s"], result["run_sim_cycles"])
    assert not err, f"engine error cause {cause}"
    assert slots == list(range(len(want))), f"slots {slots[:10]}... expected 0..{len(want) - 1}"
    assert lasts == [0] * (len(want) - 1) + [1], "tlast misplaced"
    assert not mism, f"{len(mism)} mismatches (slot, rtl, golden): {mism[:10]}"
