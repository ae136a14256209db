"""cocotb module of the AlexNet FC8 runs (the regression test tb/eie_fc8 and scripts/bench_*).

The toplevel is tb/eie_fc8/eie_fc8_tb.v: eie_top with an input-stream player and a result
recorder. The memory images are loaded by the backdoor (+EIE_INIT_DIR); only the layer
descriptor goes through the load port. Environment: FC8_IMG_DIR (folder written by
tb.eie_fc8.fc8.export: images, case.json, x.npy, want_slots.npy), FC8_RESULT (JSON written here:
outputs, counters, timing), FC8_MONITORS (0: no stream protocol and X monitors on eie_top's
ports; the speed benchmarks).

Two runs of the same layer, both checked against the golden outputs beat by beat:

* ``fc8_run_player``  the image written into the harness's player by VPI before the run, the
  results read from its recorder after it: no Python between the start pulse and done, so the
  run goes at the simulator's own speed (the regression test and the benchmarks);
* ``fc8_run``  the transaction-level drivers of tb/eie_lib (Python once per stream beat, not at
  all while the engine computes).

scripts/harness/per_clock.py repeats the run with a naive per-clock driver, the baseline of
scripts/bench_simspeed.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time

from models import engine_map as em
from tb.common import params
from tb.eie_lib import clocking, control, protocol
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
                      wall, cyc / wall if wall else 0.0, dut.busy.value, dut.u_top.state.value)


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
    dut.player_on.value = 0
    dut.play_n.value = 0
    await clocking.reset(dut)
    if os.environ.get("FC8_MONITORS", "1") != "0":
        protocol.start_monitors(dut.u_top)   # the engine's own streams, behind the player
    await control.load_words(dut, em.desc_writes(case["desc"]))
    return p, case, x, want


def load_player(dut, x: np.ndarray) -> None:
    """The image into the player's memory through VPI (no clock cycles) and the player on;
    ValueError when it does not fit."""
    mem = dut.play_mem
    if len(x) > len(mem):
        raise ValueError(f"{len(x)} input words, the player holds {len(mem)}")
    for i, v in enumerate(x):
        mem[i].value = int(v) & 0xFFFF
    dut.play_n.value = len(x)
    dut.player_on.value = 1


async def player_run(dut, limit: int = 1_000_000) -> None:
    """start, then wait for done (one trigger); AssertionError without done within ``limit``
    cycles."""
    await control.start_pulse(dut)
    timeout = Timer(limit * PERIOD_NS, unit="ns")
    if await First(RisingEdge(dut.done), timeout) is timeout:
        raise AssertionError(f"no done within {limit} cycles")
    await FallingEdge(dut.clk)


def read_recorder(dut) -> tuple[list[int], list[int], list[int]]:
    """The recorded result beats: (values, slots, tlast flags)."""
    assert not int(dut.rec_overflow.value), "more result beats than the recorder holds"
    words = [int(dut.rec_mem[i].value) for i in range(int(dut.rec_n.value))]
    vals = [(w & 0xFFFF) - ((w & 0x8000) << 1) for w in words]
    return vals, [(w >> 16) & 0xFFFF for w in words], [w >> 32 for w in words]


async def check_and_report(dut, p, case, want, vals, slots, lasts, drivers: str,
                           marks: dict) -> None:
    """Counters, result JSON (FC8_RESULT) and the checks of one run: no error, every slot in
    order, tlast on the last beat only, every value equal to golden. ``marks``: wall-clock and
    simulated times of the test start, the run window and the end of the readback."""
    err = int(dut.error.value)
    cause = int(dut.err_cause.value)
    cnt = await control.read_counters(dut, p["N_PE"])
    mism = [(s, v, int(w)) for s, v, w in zip(slots, vals, want) if v != w]
    result = {
        "name": case["name"], "params": p, "drivers": drivers, "error": err, "err_cause": cause,
        "outputs": vals, "slots": slots, "counters": cnt,
        "mismatches": len(mism) + abs(len(vals) - len(want)),
        "run_sim_cycles": int(round((marks["t_sim1"] - marks["t_sim0"]) / PERIOD_NS)),
        "run_wall_s": marks["wall2"] - marks["wall1"],
        "test_sim_cycles": int(round(marks["t_sim1"] / PERIOD_NS)),
        "test_wall_s": marks["wall3"] - marks["wall0"],
        "outside_run_wall_s": marks["wall3"] - marks["wall2"] + marks["wall1"]
        - marks["wall0"],
    }
    out = os.environ.get("FC8_RESULT")
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result))
    dut._log.info("FC8 %s (%s): compute %d cycles, total %d, %d mismatches, %.2f s wall for %d "
                  "cycles", case["name"], drivers, cnt["run"], cnt["total"],
                  result["mismatches"], result["run_wall_s"], result["run_sim_cycles"])
    assert not err, f"engine error cause {cause}"
    assert slots == list(range(len(want))), f"slots {slots[:10]}... expected 0..{len(want) - 1}"
    assert lasts == [0] * (len(want) - 1) + [1], "tlast misplaced"
    assert not mism, f"{len(mism)} mismatches (slot, rtl, golden): {mism[:10]}"


@cocotb.test()
async def fc8_run_player(dut):
    """The FC8 layer through the harness's player and recorder: descriptor load, image into
    the player, start, done, results from the recorder, compared with golden."""
    marks = {"wall0": time.perf_counter()}
    p, case, x, want = await setup(dut)
    load_player(dut, x)
    await FallingEdge(dut.clk)
    marks.update(t_sim0=get_sim_time("ns"), wall1=time.perf_counter())
    await player_run(dut)
    marks.update(wall2=time.perf_counter(), t_sim1=get_sim_time("ns"))
    vals, slots, lasts = read_recorder(dut)
    marks["wall3"] = time.perf_counter()
    await check_and_report(dut, p, case, want, vals, slots, lasts, "player", marks)


@cocotb.test()
async def fc8_run(dut):
    """The FC8 layer with the transaction-level drivers: descriptor load, start, stream in,
    results out, compared with golden."""
    marks = {"wall0": time.perf_counter()}
    p, case, x, want = await setup(dut)
    await FallingEdge(dut.clk)
    marks.update(t_sim0=get_sim_time("ns"), wall1=time.perf_counter())
    vals, slots, lasts = await control.run_network(dut, x)
    marks.update(wall2=time.perf_counter(), t_sim1=get_sim_time("ns"))
    marks["wall3"] = marks["wall2"]
    await check_and_report(dut, p, case, want, vals, slots, lasts, "transaction drivers", marks)
