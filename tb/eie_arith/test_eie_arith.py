"""eie_arith: address accumulation, codebook lookup, multiply (16x16 linear, log-domain shift, or
log x log: an exponent add on packed log activations) and accumulate with bypass. Entries of
random single-PE layers (models.csc) are driven column by column as the sparse-matrix read unit
would, back to back; the accumulators read back through the write-back port must equal
golden.layer_forward's. Few rows and dense columns make the last entry of a column and the first
of the next hit the same row in consecutive cycles (the bypass hazard); the test counts those
hazards and requires many. Activations include both ends of their format. Bad codes and rows
raise errors. A build with a 32-bit accumulator drives products of 2^30 into both saturations,
back to back on one row (the bypass) and with bubbles, against fixedpoint.mac_step (networks the
exporter accepts never saturate: models.golden refuses them)."""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge

from models import csc as mcsc
from models import engine_map as em
from models import fixedpoint as fp
from models import golden
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, sources, stimulus

DEFAULTS = {"MUL": 1, "ACC_DEPTH": 64, "ACC_AW": 6, "CB_AW": 6}   # + EA, ACT_W for MUL = 2
N_COLS = 60


def drive_list(layer, x, words):
    """(v, z, first, act word) of every entry of the active columns, in broadcast order."""
    pe = layer.pes[0]
    out = []
    for c in np.nonzero(x)[0]:
        for i, e in enumerate(range(pe.ptr[c], pe.ptr[c + 1])):
            out.append((int(pe.v[e]), int(pe.z[e]), int(i == 0), int(words[c])))
    return out


def hazards(layer, x):
    """Consecutive entries (no bubble) updating the same row."""
    pe = layer.pes[0]
    cols, rows = mcsc.entry_positions(pe, layer.n_cols)
    act = x[cols] != 0
    r = rows[act]
    return int(np.count_nonzero(r[1:] == r[:-1]))


async def drive(dut, entries, g, valid_p):
    for v, z, first, act in entries:
        while g.random() >= valid_p:
            await FallingEdge(dut.clk)
            dut.e_valid.value = 0
        await FallingEdge(dut.clk)
        dut.e_valid.value = 1
        dut.e_v.value, dut.e_z.value, dut.e_first.value, dut.e_act.value = v, z, first, act
    await FallingEdge(dut.clk)
    dut.e_valid.value = 0
    for _ in range(4):
        await FallingEdge(dut.clk)
    assert int(dut.idle.value)


async def read_accs(dut, rows):
    out = []
    for r in range(rows):
        await FallingEdge(dut.clk)
        dut.wb_en.value, dut.wb_addr.value = 1, r
        await FallingEdge(dut.clk)
        dut.wb_en.value = 0
        out.append(dut.wb_data.value.to_signed())
    return out


@cocotb.test()
async def accumulate(dut):
    p = params(DEFAULTS)
    fmt = stimulus.formats(p)
    mode, act = fmt["mode"], {k: fmt[k] for k in ("act_mode", "act_exp_w")}
    # the extremes of the activation format
    ends = [-32768, 32767] if act["act_mode"] == "linear" else \
        [s << (1 << p["EA"]) - 1 for s in (-1, 1)]
    g = rng(dut)
    n_layers = 1 << (p["CB_AW"] - 4)
    await clocking.start(dut, ("flush", "clear", "ld_en", "ld_addr", "ld_data", "layer", "n_codes", "rows",
                         "e_valid", "e_v", "e_z", "e_first", "e_act", "wb_en", "wb_addr"))
    exp_max = stimulus.weight_exp_max(N_COLS, **act)
    cbs = [stimulus.random_codebook(g, mode, exp_max=exp_max) for _ in range(n_layers)]
    for li, cb in enumerate(cbs):
        for v, w in enumerate(em.codebook_words(cb, mode)):
            await FallingEdge(dut.clk)
            dut.ld_en.value, dut.ld_addr.value, dut.ld_data.value = 1, 16 * li + v, int(w)
    await FallingEdge(dut.clk)
    dut.ld_en.value = 0
    total_hazards = 0
    for trial, (rows, density) in enumerate([(1, 1.0), (1, 0.9), (2, 0.8), (3, 0.9), (17, 0.5),
                                             (p["ACC_DEPTH"], 0.2), (p["ACC_DEPTH"], 0.03)]):
        li = trial % n_layers
        layer = mcsc.encode(stimulus.random_codes(g, rows, N_COLS, density), 1)
        x = stimulus.random_acts(g, N_COLS, 0.7, 32767, **act)
        x[g.integers(0, N_COLS, 4)] = g.choice(ends, 4)
        acc_want, _ = golden.layer_forward(layer, cbs[li], x, 0, False, **act)
        await FallingEdge(dut.clk)
        dut.clear.value, dut.layer.value, dut.n_codes.value, dut.rows.value = 1, li, 16, rows
        await FallingEdge(dut.clk)
        dut.clear.value = 0
        h = hazards(layer, x)
        total_hazards += h
        words = em.stream_words(x, **act)
        await drive(dut, drive_list(layer, x, words), g, 1.0 if trial % 2 == 0 else 0.6)
        got = await read_accs(dut, rows)
        assert got == [int(a) for a in acc_want], \
            f"trial {trial} ({rows} rows, {h} back-to-back same-row updates): {got[:6]} != {list(acc_want[:6])}"
        assert not int(dut.err_code.value) and not int(dut.err_row.value)
        dut._log.info("trial %d: %d rows, %d entries, %d same-row back-to-back updates: exact",
                      trial, rows, layer.n_entries, h)
    assert total_hazards > 30, f"only {total_hazards} bypass hazards exercised"
    # errors: a code past n_codes, a row past rows; flush clears them
    for what, v, z, n_codes, rows in [("code", 9, 0, 9, 4), ("row", 1, 4, 16, 4)]:
        await FallingEdge(dut.clk)
        dut.n_codes.value, dut.rows.value = n_codes, rows
        await drive(dut, [(1, 0, 1, 5), (v, z, 0, 5)], g, 1.0)
        assert (int(dut.err_code.value), int(dut.err_row.value)) == ((1, 0) if what == "code" else (0, 1)), what
        dut.flush.value = 1
        await FallingEdge(dut.clk)
        dut.flush.value = 0
        assert not int(dut.err_code.value) and not int(dut.err_row.value)


@cocotb.test(skip=params(DEFAULTS).get("ACC_W", 48) != 32)
async def saturate(dut):
    """Linear multiplier, 32-bit accumulator: every row's sum runs into a saturation limit and
    back, one product at a time in the order driven, as fixedpoint.mac_step accumulates."""
    p = params(DEFAULTS)
    g = rng(dut)
    await clocking.start(dut, ("flush", "clear", "ld_en", "ld_addr", "ld_data", "layer", "n_codes", "rows",
                         "e_valid", "e_v", "e_z", "e_first", "e_act", "wb_en", "wb_addr"))
    cb = np.array([0, -32768, 32767, 1, -1] + [0] * 11, dtype=np.int64)
    for v, w in enumerate(em.codebook_words(cb, "linear")):
        await FallingEdge(dut.clk)
        dut.ld_en.value, dut.ld_addr.value, dut.ld_data.value = 1, v, int(w)
    await FallingEdge(dut.clk)
    dut.ld_en.value = 0
    rows = 3
    # (code, row, activation) per row, in order: row 0 up past +2^31 and back, row 1 down past
    # -2^31 and back, row 2 random; the rows interleaved at random (same-row runs: the bypass)
    per_row = [[(1, 0, -32768)] * 5 + [(2, 0, -32768)] * 3,
               [(2, 1, -32768)] * 5 + [(1, 1, -32768)] * 3,
               [(int(g.choice([1, 2])), 2, -32768) for _ in range(6)]]
    order = [per_row[r].pop(0) for r in g.permutation([r for r, q in enumerate(per_row)
                                                        for _ in q])]
    want, sat = [0] * rows, 0
    for v, z, a in order:
        want[z], hit = fp.mac_step(want[z], int(cb[v]) * a, False, True, p["ACC_W"])
        sat += hit
    assert sat >= 4, f"only {sat} saturating steps"
    await FallingEdge(dut.clk)
    dut.clear.value, dut.layer.value, dut.n_codes.value, dut.rows.value = 1, 0, 16, rows
    await FallingEdge(dut.clk)
    dut.clear.value = 0
    word = int(em.stream_words(np.array([-32768]), "linear", golden.ACT_EXP_W)[0])
    # each entry its own column (first = 1): the unit adds row offsets within a column only
    for valid_p in (1.0, 0.5):
        entries = [(v, z, 1, word) for v, z, _ in order]
        await drive(dut, entries, g, valid_p)
        got = await read_accs(dut, rows)
        assert got == want, f"valid {valid_p}: {got} != {want} ({sat} saturating steps)"
        dut._log.info("valid %.1f: %d entries, %d saturating steps: %s", valid_p, len(order), sat, got)
        await FallingEdge(dut.clk)
        dut.clear.value = 1
        await FallingEdge(dut.clk)
        dut.clear.value = 0


@pytest.mark.parametrize("case", [{"MUL": 0}, {"MUL": 1}, {"MUL": 2, "EA": 5, "ACT_W": 7},
                                  {"MUL": 0, "ACC_W": 32}],
                         ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_eie_arith(sim, case):
    """Both linear-activation multipliers, log x log at EA = 5 (a 48-bit product), and the
    saturating accumulator (a 32-bit build)."""
    tbsim.run(sim, "eie_arith", __name__, sources("eie_arith"), {**DEFAULTS, **case},
              testcase="saturate" if case.get("ACC_W") == 32 else "accumulate")
