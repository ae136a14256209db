"""eie_top's performance counters (rtl/eie_top.v header, cnt_sel 0..7), each against a count
this test makes itself from what it observes, not from the signal that enables the counter:

=========  ============================================================================
total      rising edges from the one that takes start to the one that raises done
           (the test's own timestamps)
run        per layer, the cycles from the CCU's start pulse to its done pulse, or to the
           cycle before the abort halts it
busy       the golden work per PE (models.golden.layer_cycles), summed over the layers
starved    observed compute cycles - golden work; in an aborted run, observed compute
           cycles - busy
pad        the golden padding entries per PE (tb.eie_lib.model.padding_entries)
bcast      the broadcasts seen on the CCU's bcast / bcast_col / bcast_act, which must be
           the non-zero input columns of every layer, in order, with their activations
stall      the cycles the CCU holds a layer (after its start pulse, up to its done pulse or
           the cycle it is halted) with some PE's activation queue full (each queue's flag)
layers     the descriptors up to the one with the last bit; in an aborted run, the CCU's
           done pulses, which must be the index of the layer that raised the error
=========  ============================================================================

A reset in mid-run clears every counter. Internal signals read (each build must make them
visible to VPI): ``u_ccu.start``, ``u_ccu.done``, ``u_ccu.halt``, ``u_ccu.bcast``,
``u_ccu.bcast_col``, ``u_ccu.bcast_act`` and ``g_pe[k].u_pe.u_queue.full`` of every PE. The
sampler runs Python at every falling edge of a run, which only this test does; the stream
protocol monitors (tb/eie_lib/protocol.py) run throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from models import engine_map as em
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import all_sources, axis, clocking, control, model, stimulus

# 32 rows per PE, so that sparse columns need padding entries (a run of more than 15 zero
# rows); MAX_LAYERS 3 gives these builds folders of their own (pytest -n runs cases in parallel)
DEFAULTS = {"N_PE": 4, "QDEPTH": 8, "MUL": 1, "ACT_DEPTH": 32, "SPM_DEPTH": 512,
            "PTR_DEPTH": 256, "MAX_LAYERS": 3}


@dataclass
class Observed:
    """What the sampler saw in one run."""

    total: int = 0
    run: int = 0
    stall: int = 0
    bcasts: list[list[tuple[int, int]]] = field(default_factory=list)   # per layer (col, act)
    ccu_starts: int = 0
    ccu_dones: int = 0


async def sample(dut, n_pe: int, obs: Observed) -> None:
    """At every falling edge (internal signals settle after the rising edge; none depends on
    the inputs the testbench changes at the falling edge): the CCU's start / done / halt and
    broadcast, every queue's full flag."""
    ccu = dut.u_ccu
    fulls = [dut.g_pe[k].u_pe.u_queue.full for k in range(n_pe)]
    in_run = holds = False       # in S_RUN (compute cycles); the CCU holds a layer (active)
    while True:
        await FallingEdge(dut.clk)
        if int(ccu.start.value):
            obs.ccu_starts += 1
            obs.bcasts.append([])
            in_run = True
        if int(ccu.halt.value):
            in_run = False
        obs.run += in_run
        if holds and any(int(f.value) for f in fulls):
            obs.stall += 1
        if int(ccu.bcast.value):
            obs.bcasts[-1].append((int(ccu.bcast_col.value), int(ccu.bcast_act.value)))
        if int(ccu.done.value):
            obs.ccu_dones += 1
            in_run = False
            holds = False
        elif int(ccu.halt.value):
            holds = False
        elif int(ccu.start.value):
            holds = True


async def observed_run(dut, p, words, g, idle=0.0, ready=1.0):
    """One run (start, stream the input words in, results out until done) with the sampler
    on: returns ((values, slots, lasts), Observed), Observed.total from the test's own
    timestamps."""
    obs = Observed()
    sampler = cocotb.start_soon(sample(dut, p["N_PE"], obs))
    done_at = cocotb.start_soon(clocking.time_of(RisingEdge(dut.done)))
    await FallingEdge(dut.clk)
    dut.start.value = 1
    t0 = await clocking.time_of(RisingEdge(dut.clk))        # the edge that takes start
    await FallingEdge(dut.clk)
    dut.start.value = 0
    sender = cocotb.start_soon(axis.send_acts(dut, words, g, idle))
    res = await axis.collect_results(dut, g, ready)
    await sender
    obs.total = round((await done_at - t0) / clocking.PERIOD_NS)
    sampler.cancel()
    return res, obs


def golden_bcasts(layers, x) -> list[list[tuple[int, int]]]:
    """Per layer, the non-zero input columns (bias column included) and their activation
    words (models.engine_map.stream_words: 16-bit linear, packed log)."""
    out = []
    for lay, a in zip(layers, model.layer_inputs(layers, x)):
        words = em.stream_words(a, lay.act_mode, lay.act_exp_w)
        out.append([(int(j), int(words[j])) for j in np.flatnonzero(a)])
    return out


def layers_in_table(desc: list[tuple[int, ...]]) -> int:
    """Layers a run goes through: the descriptors up to the first with the last bit."""
    lasts = [em.decode_desc(d)["last"] for d in desc]
    return lasts.index(1) + 1


def compare(c: dict, want: dict, what: str) -> None:
    """Every counter named in ``want`` equals it (per-PE counters as lists)."""
    bad = [f"{k} {c[k]} != {v}" for k, v in want.items() if c[k] != v]
    assert not bad, f"{what}: counters differ from the independent counts: " + "; ".join(bad)


async def check_clean_run(dut, p, layers, x, g, idle, ready, what):
    (vals, _, _), obs = await observed_run(dut, p, model.input_words(layers, x), g, idle,
                                               ready)
    assert not int(dut.error.value), f"{what}: error cause {int(dut.err_cause.value)}"
    assert [v & 0xFFFF for v in vals] == model.expected_words(layers, x), f"{what}: wrong results"
    c = await control.read_counters(dut, p["N_PE"])
    gold = model.expected_counters(layers, x)
    bc = golden_bcasts(layers, x)
    assert obs.bcasts == bc, f"{what}: broadcasts seen differ from the non-zero columns"
    n_layers = layers_in_table(em.build_image(layers).desc)
    assert obs.ccu_starts == obs.ccu_dones == n_layers, \
        f"{what}: CCU started {obs.ccu_starts}, done {obs.ccu_dones}, {n_layers} layers"
    compare(c, {"total": obs.total, "run": obs.run, "busy": gold["busy"],
                "starved": [obs.run - b for b in gold["busy"]], "pad": gold["pad"],
                "bcast": sum(len(b) for b in bc), "stall": obs.stall, "layers": n_layers}, what)
    dut._log.info("%s: every counter checked: total %d, run %d, stall %d, bcast %d, layers %d",
                  what, c["total"], c["run"], c["stall"], c["bcast"], c["layers"])
    return c


async def setup(dut):
    p = params(DEFAULTS)
    await control.start_engine(dut)
    return p


def random_fit(p, g, n_layers: tuple[int, int], sparse: bool = False):
    """A random network of n_layers[0]..n_layers[1] layers that fits the build, and its input;
    ``sparse``: 1-4 % dense layers of full height, retried until the input reaches a padding
    entry."""
    n, fmt = p["N_PE"], stimulus.formats(p)
    cap = n * p["ACT_DEPTH"]
    for _ in range(200):
        outs = [cap if sparse else int(g.integers(max(1, cap // 4), cap + 1))
                for _ in range(int(g.integers(n_layers[0], n_layers[1] + 1)))]
        density = g.uniform(0.01, 0.04) if sparse else g.uniform(0.05, 0.6)
        layers, x = stimulus.random_network(g, n, int(g.integers(max(1, cap // 4), cap + 1)),
                                            outs, density=float(density),
                                            act_density=float(g.uniform(0.2, 1.0)), **fmt)
        if em.fits(layers, p) and (not sparse or sum(model.expected_counters(layers, x)["pad"])):
            return layers, x
    raise AssertionError("no random network fits the buffers of this build")


@cocotb.test()
async def clean_runs(dut):
    """Random 1-3 layer networks with input idle cycles and result back-pressure, the first
    one very sparse (padding entries): all eight counters against the independent counts, after
    every run (cleared at each start)."""
    p = await setup(dut)
    g = rng(dut)
    stalls = pads = 0
    for i in range(4):
        layers, x = random_fit(p, g, (1, min(3, p["MAX_LAYERS"])), sparse=i == 0)
        await control.load_image(dut, em.build_image(layers))
        c = await check_clean_run(dut, p, layers, x, g, idle=0.2, ready=0.6, what=f"run {i}")
        stalls += c["stall"]
        pads += sum(c["pad"])
    assert pads > 0, "no padding entry in any run: the padding check saw nothing"
    if p["QDEPTH"] <= 2:
        assert stalls > 0, "no queue-full stall at queue depth <= 2: the stall check saw nothing"


async def check_aborted_run(dut, p, layers, x, g, bad_layer: int, cause: int, what: str):
    """A run that raises ``cause`` in layer ``bad_layer``: total, run, stall, bcast and layers
    against the observed counts, busy + starved = run per PE."""
    (vals, _, _), obs = await observed_run(dut, p, model.input_words(layers, x), g, idle=0.1,
                                           ready=0.8)
    got = int(dut.err_cause.value)
    assert int(dut.error.value) and got == cause, f"{what}: cause {got}, expected {cause}"
    assert not vals, f"{what}: results despite the error"
    c = await control.read_counters(dut, p["N_PE"])
    bc = golden_bcasts(layers, x)
    done_layers = obs.bcasts[:bad_layer]
    assert done_layers == bc[:bad_layer], f"{what}: broadcasts of the completed layers differ"
    if len(obs.bcasts) > bad_layer:     # the aborted layer: a prefix of its broadcasts
        part = obs.bcasts[bad_layer]
        assert part == bc[bad_layer][:len(part)], f"{what}: broadcasts of the aborted layer"
    assert obs.ccu_dones == bad_layer, f"{what}: CCU done {obs.ccu_dones} times"
    compare(c, {"total": obs.total, "run": obs.run, "stall": obs.stall, "layers": bad_layer,
                "bcast": sum(len(b) for b in obs.bcasts),
                "starved": [obs.run - b for b in c["busy"]]}, what)
    dut._log.info("%s: cause %d in layer %d; total %d, run %d, stall %d, bcast %d, layers %d",
                  what, cause, bad_layer, c["total"], c["run"], c["stall"], c["bcast"],
                  c["layers"])


@cocotb.test()
async def aborted_runs(dut):
    """Errors after some layers completed: a layer larger than the buffers (checked before it
    starts) and a code past the codebook in the last layer (aborted in the middle); the counters
    stop where the run stopped, layers = the completed ones; then a clean run."""
    p = await setup(dut)
    g = rng(dut)
    for _ in range(200):
        layers, x = random_fit(p, g, (2, min(3, p["MAX_LAYERS"])))
        last = len(layers) - 1
        a = model.layer_inputs(layers, x)[last]
        codes = [int(pe.v[np.repeat(a != 0, pe.col_counts())].max(initial=0))
                 for pe in layers[last].csc.pes]
        if max(codes) >= 1:
            break
    else:
        raise AssertionError("no network with a code to break in its last layer")
    img = em.build_image(layers)
    await control.load_image(dut, img)
    await control.load_words(dut, em.desc_writes(
        [em.desc_with(img.desc[1], rows=p["ACT_DEPTH"] + 1)], first=1))
    await check_aborted_run(dut, p, layers, x, g, 1, em.ERR_SIZE, "layer 1 too large")
    await control.load_words(dut, em.desc_writes(img.desc))
    await control.load_words(dut, em.desc_writes(
        [em.desc_with(img.desc[last], n_codes=max(codes))], first=last))
    await check_aborted_run(dut, p, layers, x, g, last, em.ERR_CODE,
                            f"code {max(codes)} in layer {last}")
    await control.load_words(dut, em.desc_writes(img.desc))
    await check_clean_run(dut, p, layers, x, g, 0.1, 0.8, "clean run after the errors")


@cocotb.test()
async def reset_clears(dut):
    """A reset in the middle of a layer clears every counter; a clean run follows."""
    p = await setup(dut)
    g = rng(dut)
    layers, x = random_fit(p, g, (1, 2))
    await control.load_image(dut, em.build_image(layers))
    await control.start_pulse(dut)
    sender = cocotb.start_soon(axis.send_acts(dut, model.input_words(layers, x)))
    await RisingEdge(dut.u_ccu.bcast)
    await clocking.cycles_from(dut.clk, int(g.integers(1, 8)))
    sender.cancel()
    control.top_idle_inputs(dut)
    await clocking.reset(dut, 1)
    await FallingEdge(dut.clk)
    c = await control.read_counters(dut, p["N_PE"])
    nonzero = {k: v for k, v in c.items() if (any(v) if isinstance(v, list) else v)}
    assert not nonzero, f"counters not cleared by the reset: {nonzero}"
    await check_clean_run(dut, p, layers, x, g, 0.1, 0.7, "run after the reset")


CASES = [
    # queue depth 1: stalls in most cycles; 3 PEs and depth 2 (not powers of two); one PE; each
    # multiplier mode
    dict(N_PE=4, QDEPTH=1, MUL=1),
    dict(N_PE=3, QDEPTH=2, MUL=0),
    dict(N_PE=1, QDEPTH=4, MUL=2, EA=4),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_eie_counters(sim, case):
    tbsim.run(sim, "eie_top", __name__, all_sources(), {**DEFAULTS, **case})
