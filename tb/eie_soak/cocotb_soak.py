"""The soak's cocotb side: the networks of one build (tb/eie_soak/plan.py) in ONE simulation,
one JSON line each (scripts/soak.py sums them up). Not a pytest module.

Environment: ``SOAK_SEED``, ``SOAK_BUILD`` (a plan.BUILDS name), ``SOAK_BUILDS`` (the builds the
soak spreads networks over, comma-separated), ``SOAK_INDICES`` (the networks of this build, a
file of comma-separated indices), ``SOAK_RATES`` (``bad,reset``), ``SOAK_OUT`` (the JSON lines
file, appended to), ``SOAK_HANG`` (the hang limit: this many times the run's cycle estimate,
plus 2,000 cycles).

Per network: the image through the load port, then by kind (plan.Network) the clean run, the
run with the fault and then the restored clean run, or the run cut by a reset and then the
clean run. A clean run must give the golden words in slot order with tlast on the last, no
error, and the counters the golden model and the test's own clock give (total = cycles from
the start edge to the done edge, broadcasts, busy and padding per PE, layers, starved = compute
- busy, compute >= the deep-queue bound). A run that brings no done within the hang limit is a
hang: recorded, the engine reset, the soak goes on. The stream protocol and X monitors
(tb/eie_lib/protocol.py) collect violations, recorded with the network they fall in.
"""

from __future__ import annotations

import json
import os
import time
import traceback

import cocotb
from cocotb.triggers import Event, FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time

from models import engine_map as em
from tb.common import params
from tb.eie_lib import axis, clocking, control, model, protocol
from tb.eie_soak import plan

P = clocking.PERIOD_NS


def now_cycles() -> float:
    return get_sim_time("ns") / P


class Run:
    """One start .. done of the engine: the beats, status and the test's own cycle count."""

    def __init__(self):
        self.res: axis.RunResult | None = None
        self.total = 0
        self.hang = False


async def one_run(dut, words: list[int], g_idle, g_ready, idle: float, ready: float,
                  limit: int, tlast_at: int | None = None, stop_after: int | None = None) -> Run:
    """start, the input words (idle cycles), the results (back-pressure) until done, at most
    ``limit`` cycles (else a hang) or, with ``stop_after``, that many cycles (the caller then
    resets the engine). Every task it starts is ended before it returns."""
    run, got, done = Run(), [], Event()

    def publish(res: axis.RunResult) -> None:
        got.append(res)
        done.set()

    watcher = cocotb.start_soon(axis.watch_results(dut, publish, dut.rst))
    toggler = axis.ReadyToggler(dut.m_axis_res_tready, dut.clk, g_ready)
    toggler.set_ready(ready)
    done_at = cocotb.start_soon(clocking.time_of(RisingEdge(dut.done)))
    sender = None
    try:
        await FallingEdge(dut.clk)
        dut.start.value = 1
        t0 = await clocking.time_of(RisingEdge(dut.clk))
        await FallingEdge(dut.clk)
        dut.start.value = 0
        sender = cocotb.start_soon(axis.send_acts(dut, words, g_idle, idle, tlast_at))
        cycles = limit if stop_after is None else stop_after
        timeout = Timer(cycles * P, unit="ns")
        fired = await First(done.wait(), timeout)
        if got:
            run.res = got[0]
            run.total = round((await done_at - t0) / P)
        run.hang = fired is timeout and stop_after is None
    finally:
        for task in (watcher, done_at, sender):
            if task is not None and not task.done():
                task.cancel()
        toggler.stop()
        control.top_idle_inputs(dut)
    return run


async def reset_engine(dut, cycles: int) -> None:
    control.top_idle_inputs(dut)
    await clocking.reset(dut, cycles)
    await FallingEdge(dut.clk)


def counters_ok(c: dict, want: dict) -> list[str]:
    return [f"{k} {c[k]} != {v}" for k, v in want.items() if c[k] != v]


async def check_clean(dut, hw, net: plan.Network, run: Run, rec: dict, what: str) -> None:
    """Outputs and counters of a clean run (into ``rec``: outputs, mismatches, failures)."""
    fails = rec["failures"]
    if run.hang:
        rec["hang"] = True
        fails.append(f"{what}: no done within the hang limit")
        return
    r = run.res
    if r.error:
        fails.append(f"{what}: error cause {r.cause} (PE {r.err_pe})")
        return
    want = model.expected_words(net.layers, net.x)
    got = [v & 0xFFFF for v in r.values]
    diff = [(k, hex(a), hex(b)) for k, (a, b) in enumerate(zip(got, want)) if a != b]
    bad = len(diff) + abs(len(got) - len(want))
    rec["outputs"] += len(want)
    rec["mismatches"] += bad
    if bad:
        fails.append(f"{what}: {bad} of {len(want)} outputs differ ({len(got)} received; "
                     f"slot, rtl, golden: {diff[:4]})")
    if r.slots != list(range(len(r.slots))) or r.lasts != [0] * (len(r.lasts) - 1) + [1]:
        fails.append(f"{what}: slots or tlast misplaced")
    c = await control.read_counters(dut, hw["N_PE"])
    gold = model.expected_counters(net.layers, net.x)
    wrong = counters_ok(c, {"total": run.total, "bcast": gold["bcast"], "busy": gold["busy"],
                            "pad": gold["pad"], "layers": len(net.layers),
                            "starved": [c["run"] - b for b in gold["busy"]]})
    if c["run"] < gold["bound"]:
        wrong.append(f"run {c['run']} < the deep-queue bound {gold['bound']}")
    if wrong:
        rec["counter_errors"] += 1
        fails.append(f"{what}: counters " + "; ".join(wrong))


async def soak_network(dut, hw, seed: int, net: plan.Network, hang: float, rec: dict) -> None:
    """One network of any kind (plan.Network), results into ``rec``."""
    n_pe, fails = hw["N_PE"], rec["failures"]
    g_idle, g_ready = plan.rng(seed, net.index, 2), plan.rng(seed, net.index, 3)
    limit = int(hang * plan.cycle_estimate(net.layers, net.x)) + 2000
    img = em.build_image(net.layers)
    await control.load_words(dut, em.image_writes(img))
    words = model.input_words(net.layers, net.x)
    if net.kind == "error":
        bad = net.bad
        rec["cause"] = bad.cause
        rec["fault"] = bad.what
        await control.load_words(dut, bad.patch)
        run = await one_run(dut, bad.words or words, g_idle, g_ready, net.idle, net.ready, limit,
                            bad.tlast_at)
        if run.hang:
            rec["hang"] = True
            fails.append(f"{bad.what}: no done within the hang limit")
            await reset_engine(dut, 3)
        else:
            r = run.res
            ok = r.error == 1 and r.cause == bad.cause and not r.values
            if bad.pes is not None and r.err_pe not in bad.pes:
                ok = False
            rec["error_flagged"] = ok
            if not ok:
                fails.append(f"{bad.what}: error {r.error} cause {r.cause} PE {r.err_pe} with "
                             f"{len(r.values)} results, expected cause {bad.cause}"
                             + (f" from PE {sorted(bad.pes)}" if bad.pes is not None else ""))
            c = await control.read_counters(dut, n_pe)
            wrong = counters_ok(c, {"total": run.total, "layers": bad.layers_done,
                                    "starved": [c["run"] - b for b in c["busy"]]})
            if wrong:
                rec["counter_errors"] += 1
                fails.append(f"{bad.what}: counters " + "; ".join(wrong))
        await control.load_words(dut, bad.restore)
    elif net.kind == "reset":
        await one_run(dut, words, g_idle, g_ready, net.idle, net.ready, limit,
                      stop_after=net.reset_after)
        await reset_engine(dut, net.reset_cycles)
        c = await control.read_counters(dut, n_pe)
        left = {k: v for k, v in c.items() if (any(v) if isinstance(v, list) else v)}
        if int(dut.busy.value) or int(dut.error.value) or left:
            fails.append(f"reset {net.reset_after} cycles after start: busy "
                         f"{int(dut.busy.value)}, error {int(dut.error.value)}, counters {left}")
    run = await one_run(dut, words, g_idle, g_ready, net.idle, net.ready, limit)
    await check_clean(dut, hw, net, run, rec, "clean run" if net.kind == "clean"
                      else f"clean run after the {net.kind}")
    if run.hang:
        await reset_engine(dut, 3)


@cocotb.test()
async def soak(dut):
    """Every network of SOAK_INDICES on this build, one JSON line each in SOAK_OUT."""
    hw = params({})
    seed = int(os.environ["SOAK_SEED"])
    name = os.environ["SOAK_BUILD"]
    builds = os.environ["SOAK_BUILDS"].split(",")
    bad_rate, reset_rate = (float(v) for v in os.environ["SOAK_RATES"].split(","))
    hang = float(os.environ.get("SOAK_HANG", "20"))
    with open(os.environ["SOAK_INDICES"]) as f:
        indices = [int(v) for v in f.read().split(",") if v.strip()]
    clocking.clock(dut)
    control.top_idle_inputs(dut)
    await clocking.reset(dut)
    mon = protocol.start_monitors(dut, strict=False)
    with open(os.environ["SOAK_OUT"], "a") as out:
        for i in indices:
            t0, c0, v0 = time.time(), now_cycles(), len(mon.violations)
            rec = {"i": i, "build": name, "kind": None, "shape": None, "outputs": 0,
                   "mismatches": 0, "counter_errors": 0, "hang": False, "failures": []}
            try:
                net = plan.network(seed, i, builds, bad_rate, reset_rate)
                assert net.build == name, f"network {i} belongs to build {net.build}"
                rec["kind"], rec["shape"] = net.kind, net.shape
                await soak_network(dut, hw, seed, net, hang, rec)
            except Exception as e:   # a testbench error: record it, reset, go on
                where = traceback.format_exc(limit=-2).strip().splitlines()[-3:]
                rec["failures"].append(f"testbench: {type(e).__name__}: {e} ({where})")
                await reset_engine(dut, 3)
            rec["protocol"] = mon.violations[v0:]
            rec["failures"] += [f"protocol: {v}" for v in rec["protocol"]]
            rec["cycles"] = round(now_cycles() - c0)
            rec["wall"] = round(time.time() - t0, 4)
            out.write(json.dumps(rec) + "\n")
            out.flush()
    mon.stop()
    dut._log.info("%d networks on %s", len(indices), name)
