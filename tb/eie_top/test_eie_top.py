"""eie_top: the whole engine against the golden model (models.golden) on random networks:
results bit for bit in slot order under back-pressure, counters, cycle count against the
deep-queue bound, every error cause, reset in the middle of a layer."""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import ClockCycles, FallingEdge, First, ReadOnly, RisingEdge, Timer

from models import csc as mcsc
from models import golden
from tb import eie_common as ec
from tb import sim as tbsim
from tb.common import params, rng

DEFAULTS = {"N_PE": 4, "QDEPTH": 8, "MUL": 1, "ACT_DEPTH": 16, "SPM_DEPTH": 256,
            "PTR_DEPTH": 128, "MAX_LAYERS": 4}
PIPE_CONST = 12   # allowed on top of 1.02 * bound; measured: exactly 10 (CCU start to done)


async def setup(dut):
    p = params(DEFAULTS)
    ec.clock(dut)
    ec.top_idle_inputs(dut)
    await ec.reset(dut)
    return p


def shape(p, g, layers_max=3):
    """Sizes of a random network that fits the buffers of this build."""
    n = p["N_PE"]
    cap = n * p["ACT_DEPTH"]
    n_in = int(g.integers(max(1, cap // 4), cap + 1))
    outs = [int(g.integers(max(1, cap // 4), cap + 1)) for _ in range(int(g.integers(1, layers_max + 1)))]
    return n_in, outs


def fits(p, layers):
    img = ec.build_image(layers)
    return (max(len(w) for w in img.spm) <= p["SPM_DEPTH"]
            and max(len(w) for w in img.ptr) <= 2 * p["PTR_DEPTH"])


async def check_run(dut, p, layers, x, g, idle=0.0, ready=1.0, what=""):
    vals, slots, lasts = await ec.run_network(dut, x, g, idle, ready)
    assert not int(dut.error.value), f"{what}: error cause {int(dut.err_cause.value)}"
    want = ec.expected_slots(layers, x)
    assert slots == list(range(len(want))), f"{what}: slots {slots[:20]}... expected 0..{len(want)-1}"
    assert lasts == [0] * (len(want) - 1) + [1], f"{what}: tlast misplaced"
    bad = [(s, v, int(w)) for s, v, w in zip(slots, vals, want) if v != w]
    assert not bad, f"{what}: {len(bad)} mismatches (slot, rtl, golden): {bad[:10]}"
    return vals


@cocotb.test()
async def random_networks(dut):
    """Random multi-layer networks, random input idle cycles and result back-pressure."""
    p = await setup(dut)
    g = rng(dut)
    mode = ec.MODES[p["MUL"]]
    done_runs = tries = 0
    while done_runs < 4:
        tries += 1
        assert tries < 200, "random networks do not fit the buffers of this build"
        n_in, outs = shape(p, g, min(3, p["MAX_LAYERS"]))
        layers, x = ec.random_network(g, p["N_PE"], n_in, outs, mode,
                                      density=float(g.uniform(0.05, 0.5)),
                                      act_density=float(g.uniform(0.2, 1.0)))
        if not fits(p, layers):
            continue
        await ec.load_image(dut, ec.build_image(layers))
        await check_run(dut, p, layers, x, g, idle=0.2, ready=0.6,
                        what=f"run {done_runs} ({n_in} -> {outs})")
        done_runs += 1
        dut._log.info("run %d: %d -> %s OK, %d cycles", done_runs, n_in, outs,
                      await ec.read_counter(dut, ec.CNT_TOTAL))


@cocotb.test()
async def counters_and_cycles(dut):
    """Single-layer runs: padding and broadcast counters against the golden model; the layer's
    compute cycles within 1.02 * deep-queue bound + PIPE_CONST (asserted at QDEPTH >= 16,
    reported at every depth); busy + starved = compute cycles per PE."""
    p = await setup(dut)
    g = rng(dut)
    mode = ec.MODES[p["MUL"]]
    n = p["N_PE"]
    worst = -1e9
    for run in range(4):
        cap = n * p["ACT_DEPTH"]
        layers, x = ec.random_network(g, n, cap, [cap], mode, density=float(g.uniform(0.1, 0.6)),
                                      act_density=float(g.uniform(0.3, 0.9)))
        if not fits(p, layers):
            continue
        await ec.load_image(dut, ec.build_image(layers))
        await check_run(dut, p, layers, x, g, what=f"cycles run {run}")
        cyc = golden.layer_cycles(layers[0].csc, ec.layer_inputs(layers, x)[0])
        run_cycles = await ec.read_counter(dut, ec.CNT_RUN)
        bcasts = await ec.read_counter(dut, ec.CNT_BCAST)
        assert bcasts == cyc["active_columns"], f"broadcasts {bcasts} != active columns {cyc['active_columns']}"
        pads = [await ec.read_counter(dut, ec.CNT_PAD, k) for k in range(n)]
        want_pad = [int(sum(np.count_nonzero(pe.v[np.repeat(ec.layer_inputs(layers, x)[0] != 0, pe.col_counts())] == 0)
                            for pe in [layers[0].csc.pes[k]])) for k in range(n)]
        assert pads == want_pad, f"padding counters {pads} != golden {want_pad}"
        busy = [await ec.read_counter(dut, ec.CNT_BUSY, k) for k in range(n)]
        starved = [await ec.read_counter(dut, ec.CNT_STARVED, k) for k in range(n)]
        assert busy == cyc["work"], f"busy cycles {busy} != golden work {cyc['work']}"
        assert all(b + s == run_cycles for b, s in zip(busy, starved)), "busy + starved != cycles"
        extra = run_cycles - cyc["bound"]
        worst = max(worst, run_cycles - 1.02 * cyc["bound"])
        dut._log.info("QDEPTH %d: layer cycles %d, golden bound %d, ideal %.1f: +%d cycles "
                      "(%.2f %%)", p["QDEPTH"], run_cycles, cyc["bound"], cyc["ideal"], extra,
                      100.0 * extra / max(1, cyc["bound"]))
        if p["QDEPTH"] >= 16:
            assert run_cycles <= 1.02 * cyc["bound"] + PIPE_CONST, \
                f"{run_cycles} cycles > 1.02 * {cyc['bound']} + {PIPE_CONST}"
    dut._log.info("worst cycles - 1.02 * bound = %.1f (PIPE_CONST %d)", worst, PIPE_CONST)


async def expect_error(dut, cause, x, what, tlast_at=None, pe=None):
    await ec.start_pulse(dut)
    cocotb.start_soon(ec.send_acts(dut, x, tlast_at=tlast_at))
    dut.m_axis_res_tready.value = 1
    timeout = Timer(20000 * ec.PERIOD_NS, unit="ns")
    fired = await First(RisingEdge(dut.m_axis_res_tvalid), RisingEdge(dut.done), timeout)
    assert fired is not timeout, f"{what}: engine hangs"
    await ReadOnly()                    # error and cause are registered with done
    assert not int(dut.m_axis_res_tvalid.value), f"{what}: results despite the error"
    assert int(dut.error.value) and int(dut.err_cause.value) == cause, \
        f"{what}: error {int(dut.error.value)} cause {int(dut.err_cause.value)}, expected {cause}"
    if pe is not None:
        assert int(dut.err_pe.value) == pe, f"{what}: err_pe {int(dut.err_pe.value)} != {pe}"
    await FallingEdge(dut.clk)
    assert not int(dut.busy.value), f"{what}: not idle after the error"
    dut._log.info("%s: error cause %d raised, engine idle", what, cause)


@cocotb.test()
async def errors(dut):
    """Every error cause raises the flag with its code, the engine returns to idle, and a clean
    run afterwards is exact."""
    p = await setup(dut)
    g = rng(dut)
    mode = ec.MODES[p["MUL"]]
    n = p["N_PE"]
    for _ in range(100):
        layers, x = ec.random_network(g, n, 2 * n, [2 * n], mode, density=0.5, act_density=1.0)
        x[x == 0] = 7
        # every PE has entries, and some entry is past each PE's first row (for error 5)
        if (fits(p, layers) and min(len(pe.v) for pe in layers[0].csc.pes) > 2
                and np.count_nonzero(mcsc.decode(layers[0].csc)[n:])):
            break
    else:
        raise AssertionError("no random network fits the buffers of this build")
    img = ec.build_image(layers)
    await ec.load_image(dut, img)
    lay = layers[0]
    bad_pe = n - 1
    a, b = img.desc[0]
    pbase = 0

    # 1 pointer past the end of the sparse-matrix memory (last pointer of PE bad_pe)
    last_word = pbase + lay.csc.n_cols
    await ec.load(dut, ec.LD_PTR, bad_pe, last_word, 8 * p["SPM_DEPTH"] + 1)
    await expect_error(dut, ec.ERR_PTR_RANGE, x, "pointer past memory", pe=bad_pe)
    await ec.load(dut, ec.LD_PTR, bad_pe, last_word, int(img.ptr[bad_pe][last_word]))
    # 2 column that ends before it starts: p[1] < p[0]
    await ec.load(dut, ec.LD_PTR, bad_pe, 0, int(img.ptr[bad_pe][1]) + 1)
    await expect_error(dut, ec.ERR_PTR_ORDER, x, "column ends before it starts", pe=bad_pe)
    await ec.load(dut, ec.LD_PTR, bad_pe, 0, int(img.ptr[bad_pe][0]))
    # 3 layer larger than the buffers: more input columns than slots, more rows than slots,
    #   pointers past the pointer memory, no last layer in the table
    for what, da, db in [
        ("n_cols_in > slots", (a & ~0xFFFF) | (n * p["ACT_DEPTH"] + 1), b),
        ("rows > ACT_DEPTH", (a & ~(0xFFFF << 16)) | ((p["ACT_DEPTH"] + 1) << 16), b),
        ("pointers past memory", a, 2 * p["PTR_DEPTH"] - 2),
    ]:
        await ec.load(dut, ec.LD_DESC, 0, 0, da)
        await ec.load(dut, ec.LD_DESC, 0, 1, db)
        await expect_error(dut, ec.ERR_SIZE, x, f"layer larger than buffers: {what}")
    for i in range(p["MAX_LAYERS"]):  # every layer "not last"
        await ec.load(dut, ec.LD_DESC, 0, 2 * i, a & ~(1 << 51))
        await ec.load(dut, ec.LD_DESC, 0, 2 * i + 1, b)
    await expect_error(dut, ec.ERR_SIZE, x, "no last layer in the table")
    # 4 code past the codebook size in use
    used = int(max(pe.v.max() for pe in lay.csc.pes))
    await ec.load(dut, ec.LD_DESC, 0, 0, (a & ~(0x1F << 58)) | (used << 58))
    await ec.load(dut, ec.LD_DESC, 0, 1, b)
    await expect_error(dut, ec.ERR_CODE, x, f"code {used} past a codebook of {used}")
    # 6 bad descriptors: weight mode, codebook size 0, odd ptr_base
    for what, da, db in [("weight mode", a ^ (1 << 50), b),
                         ("n_codes 0", a & ~(0x1F << 58), b),
                         ("odd ptr_base", a, 1)]:
        await ec.load(dut, ec.LD_DESC, 0, 0, da)
        await ec.load(dut, ec.LD_DESC, 0, 1, db)
        await expect_error(dut, ec.ERR_DESC, x, f"bad descriptor: {what}")
    # 5 row past the layer's rows: rows per PE one less than the entries need
    await ec.load(dut, ec.LD_DESC, 0, 0, (a & ~(0xFFFF << 16)) | (1 << 16))
    await ec.load(dut, ec.LD_DESC, 0, 1, b)
    await expect_error(dut, ec.ERR_ROW, x, "row past the layer's rows")
    await ec.load(dut, ec.LD_DESC, 0, 0, a)
    await ec.load(dut, ec.LD_DESC, 0, 1, b)
    # 7 input stream: tlast early, tlast missing
    await expect_error(dut, ec.ERR_STREAM, x, "tlast early", tlast_at=len(x) - 2)
    await expect_error(dut, ec.ERR_STREAM, x, "tlast missing", tlast_at=len(x))
    # a clean run afterwards
    await check_run(dut, p, layers, x, g, what="clean run after the errors")


@cocotb.test()
async def reset_mid_layer(dut):
    """Reset in the middle of a layer (queues and pipelines full), then a clean, exact run."""
    p = await setup(dut)
    g = rng(dut)
    mode = ec.MODES[p["MUL"]]
    n = p["N_PE"]
    for _ in range(100):
        cap = n * p["ACT_DEPTH"]
        layers, x = ec.random_network(g, n, cap // 2, [cap // 2, cap // 4], mode, density=0.4,
                                      act_density=0.8)
        if fits(p, layers):
            break
    else:
        raise AssertionError("no random network fits the buffers of this build")
    await ec.load_image(dut, ec.build_image(layers))
    await ec.start_pulse(dut)
    sender = cocotb.start_soon(ec.send_acts(dut, x))
    await ClockCycles(dut.clk, len(x) + 3 + int(g.integers(0, 40)))
    sender.cancel()
    ec.top_idle_inputs(dut)
    await ec.reset(dut, 1)
    await FallingEdge(dut.clk)
    assert not int(dut.busy.value) and not int(dut.error.value)
    # memories survive the reset: only the run is repeated
    await check_run(dut, p, layers, x, g, idle=0.1, ready=0.7, what="run after reset")


CASES = [
    # N = 1, 4, 16 (both multipliers at N = 4), deep queues for the cycle bound, queue depth 1
    dict(N_PE=1, QDEPTH=8, MUL=1),
    dict(N_PE=4, QDEPTH=8, MUL=0),
    dict(N_PE=4, QDEPTH=16, MUL=1),
    dict(N_PE=4, QDEPTH=1, MUL=1),
    dict(N_PE=16, QDEPTH=16, MUL=0, ACT_DEPTH=8),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_eie_top(sim, case):
    tbsim.run(sim, "eie_top", __name__, ec.all_sources(), {**DEFAULTS, **case})
