"""eie_pe: one processing element (queue, pointer read, sparse-matrix read, arithmetic unit,
activation read/write) running its share (PE k of N) of random layers from models.csc, with the
broadcasts the CCU would send (random gaps, honouring q_full). The re-quantized outputs read back
after the swap must equal golden.layer_forward's outputs of the PE's rows (as activation words:
16-bit linear, or packed log values for MUL = 2; models.engine_map.stream_words); busy cycles
must equal the golden work of the PE (max(1, entries) per broadcast column) and the padding
counter the padding entries of the broadcast columns."""

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge

from models import csc as mcsc
from models import engine_map as em
from models import golden
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, model, sources, stimulus

DEFAULTS = {"MUL": 1, "QDEPTH": 8, "PTR_W": 20, "PTR_DEPTH": 128, "PTR_AW": 8, "SPM_DEPTH": 256,
            "SPM_AW": 8, "ACT_DEPTH": 32, "ACT_AW": 5, "CB_AW": 5}   # + EA, ACT_W for MUL = 2
INPUTS = ("flush", "clear", "count_en", "cnt_clr", "ld_spm", "ld_ptr", "ld_cb", "ld_addr", "ld_data",
          "ptr_base", "layer", "n_codes", "rows", "shift", "relu", "swap", "push", "push_act",
          "push_col", "in_we", "in_addr", "in_data", "rd_en", "rd_addr", "wb_en", "wb_addr")


async def load(dut, sig, addr, data):
    await FallingEdge(dut.clk)
    getattr(dut, sig).value = 1
    dut.ld_addr.value, dut.ld_data.value = addr, int(data)
    await FallingEdge(dut.clk)
    getattr(dut, sig).value = 0


@cocotb.test()
async def pe_layers(dut):
    p = params(DEFAULTS)
    fmt = stimulus.formats(p)
    mode, act = fmt["mode"], {k: fmt[k] for k in ("act_mode", "act_exp_w")}
    g = rng(dut)
    await clocking.start(dut, INPUTS)
    for trial in range(5):
        n_pes, k = int(g.choice([1, 4, 16])), 0
        k = int(g.integers(0, n_pes))
        rows_k = int(g.integers(1, p["ACT_DEPTH"] + 1))
        n_rows = n_pes * rows_k
        n_cols = int(g.integers(5, 2 * p["PTR_DEPTH"] - 8))
        codes = stimulus.random_codes(g, n_rows, n_cols, float(g.uniform(0.02, 0.6)))
        layer = mcsc.encode(codes, n_pes)
        pe = layer.pes[k]
        if (len(pe.v) + 7) // 8 + 1 > p["SPM_DEPTH"]:
            continue
        cb = stimulus.random_codebook(g, mode, exp_max=stimulus.weight_exp_max(n_cols, **act))
        x = stimulus.random_acts(g, n_cols, float(g.uniform(0.2, 1.0)), **act)
        words = em.stream_words(x, **act)
        shift = stimulus.pick_shift(layer, cb, x, **act)
        relu = bool(g.random() < 0.5)
        _, y = golden.layer_forward(layer, cb, x, shift, relu, **act)
        cyc = golden.layer_cycles(layer, x)
        # memories: entries from word 1 on (a layer not at address 0), pointers at base 2
        spm_base, ptr_base = 1, 2
        for a, w in enumerate(mcsc.spm_words(pe.v, pe.z)):
            await load(dut, "ld_spm", spm_base + a, w)
        for a, v in enumerate(8 * spm_base + pe.ptr):
            await load(dut, "ld_ptr", ptr_base + a, v)
        li = trial % 2
        for v, w in enumerate(em.codebook_words(cb, mode)):
            await load(dut, "ld_cb", 16 * li + v, w)
        await FallingEdge(dut.clk)
        dut.ptr_base.value, dut.layer.value, dut.n_codes.value = ptr_base, li, 16
        dut.rows.value, dut.shift.value, dut.relu.value = rows_k, shift, int(relu)
        dut.clear.value = dut.cnt_clr.value = 1
        await FallingEdge(dut.clk)
        dut.clear.value = dut.cnt_clr.value = 0
        dut.count_en.value = 1
        # broadcasts of the active columns
        cycles = 0
        for c in np.nonzero(x)[0]:
            while True:
                await FallingEdge(dut.clk)
                cycles += 1
                if not int(dut.q_full.value) and g.random() < 0.9:
                    break
                dut.push.value = 0
            dut.push.value, dut.push_act.value, dut.push_col.value = 1, int(words[c]), int(c)
        await FallingEdge(dut.clk)
        dut.push.value = 0
        while not int(dut.idle.value):
            await FallingEdge(dut.clk)
            assert not (int(dut.err_code.value) or int(dut.err_row.value)
                        or int(dut.err_order.value) or int(dut.err_range.value)), "PE error"
        dut.count_en.value = 0
        # write-back, swap, read
        for r in range(rows_k):
            dut.wb_en.value, dut.wb_addr.value = 1, r
            await FallingEdge(dut.clk)
        dut.wb_en.value = 0
        await FallingEdge(dut.clk)
        dut.swap.value = 1
        await FallingEdge(dut.clk)
        dut.swap.value = 0
        got = []
        for r in range(rows_k):
            dut.rd_en.value, dut.rd_addr.value = 1, r
            await FallingEdge(dut.clk)
            got.append(int(dut.rd_data.value))
        dut.rd_en.value = 0
        want = np.zeros(rows_k, dtype=np.int64)
        want[: len(pe.rows)] = y[pe.rows]
        want = em.stream_words(want, **act).tolist()
        assert got == want, f"trial {trial} (PE {k} of {n_pes}): {got[:8]} != golden {want[:8]}"
        busy, pad = int(dut.cnt_busy.value), int(dut.cnt_pad.value)
        want_pad = model.padding_entries(pe, x)
        assert busy == cyc["work"][k], f"busy {busy} != golden work {cyc['work'][k]}"
        assert pad == want_pad, f"padding {pad} != golden {want_pad}"
        dut._log.info("trial %d: PE %d of %d, %d rows, %d entries, work %d: exact", trial, k,
                      n_pes, rows_k, len(pe.v), busy)


@pytest.mark.parametrize("case", [{"MUL": 0, "QDEPTH": 8}, {"MUL": 1, "QDEPTH": 2},
                                  {"MUL": 2, "QDEPTH": 4, "EA": 3, "ACT_W": 5}],
                         ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_eie_pe(sim, case):
    tbsim.run(sim, "eie_pe", __name__, sources("eie_pe", "eie_act_queue", "eie_ptr_read",
                                                   "eie_spmat_read", "eie_arith", "eie_act_rw"),
              {**DEFAULTS, **case})
