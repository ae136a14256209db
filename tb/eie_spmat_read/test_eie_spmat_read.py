"""eie_spmat_read: sparse-matrix read unit. A random PE's entries (models.csc: padding, columns
starting mid-word and crossing words, empty columns) packed by models.csc.spm_words are loaded;
columns are offered as [p_start, p_end) with activations; the (v, z, first, act) stream must be
the golden entries in order, and at full speed a column takes max(1, entries) cycles."""

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, RisingEdge

from models import csc as mcsc
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import clocking, sources, stimulus

DEFAULTS = {"PTR_W": 20, "SPM_DEPTH": 256, "SPM_AW": 8}


@cocotb.test()
async def entries(dut):
    p = params(DEFAULTS)
    g = rng(dut)
    await clocking.start(dut, ("flush", "ld_en", "ld_addr", "ld_data", "p_valid", "p_start", "p_end", "p_act", "p_err"))
    codes = stimulus.random_codes(g, 60, 120, 0.15)
    codes[:, g.integers(0, 120, 20)] = 0               # empty columns
    codes[40:, g.integers(0, 120, 10)] = 0              # gaps > 15: padding
    pe = mcsc.encode(codes, 1).pes[0]
    base = 8 * int(g.integers(0, 4)) + int(g.integers(0, 8))  # start mid-word
    words = mcsc.spm_words(np.concatenate([np.zeros(base, np.uint8), pe.v]),
                           np.concatenate([np.zeros(base, np.uint8), pe.z]))
    assert len(words) <= p["SPM_DEPTH"]
    for a, w in enumerate(words):
        await FallingEdge(dut.clk)
        dut.ld_en.value, dut.ld_addr.value, dut.ld_data.value = 1, a, int(w)
    await FallingEdge(dut.clk)
    dut.ld_en.value = 0
    ptr = base + pe.ptr
    for valid_p in (1.0, 0.5):
        cols = [int(c) for c in g.integers(0, 120, 150)]
        acts = [int(a) for a in g.integers(-32768, 32768, 150)]
        want = []
        for c, a in zip(cols, acts):
            for i, e in enumerate(range(ptr[c], ptr[c + 1])):
                want.append((int(pe.v[e - base]), int(pe.z[e - base]), int(i == 0), a))
        got, k, first_cyc, last_cyc = [], 0, None, 0
        for cyc in range(20000):
            await FallingEdge(dut.clk)
            offer = k < len(cols) and g.random() < valid_p
            dut.p_valid.value = int(offer)
            if k < len(cols):
                dut.p_start.value, dut.p_end.value = int(ptr[cols[k]]), int(ptr[cols[k] + 1])
                dut.p_act.value = acts[k] & 0xFFFF
            await RisingEdge(dut.clk)   # values of the edge
            if offer and int(dut.p_ready.value):
                k += 1
                first_cyc = cyc if first_cyc is None else first_cyc
            if int(dut.e_valid.value):
                got.append((int(dut.e_v.value), int(dut.e_z.value), int(dut.e_first.value),
                            dut.e_act.value.to_signed()))
                last_cyc = cyc
            if k == len(cols) and len(got) == len(want) and not int(dut.busy.value):
                break
        assert got == want, f"entries differ from golden at " \
            f"{next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))}"
        work = int(sum(max(1, ptr[c + 1] - ptr[c]) for c in cols))
        if valid_p == 1.0:
            span = last_cyc - first_cyc + 1
            assert span <= work + 2, f"{span} cycles for {work} entry cycles"
            dut._log.info("%d columns, %d entries, work %d, %d cycles", len(cols), len(want), work, span)


def test_eie_spmat_read(sim):
    tbsim.run(sim, "eie_spmat_read", __name__, sources("eie_spmat_read"), DEFAULTS)
