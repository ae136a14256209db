"""The committed GTKWave save file (tb/eie.gtkw) against a real dump: a short WAVES=1 run of
eie_top on each simulator, read back with pywellen (tb/eie_waves/fst.py). Every signal of the
save file is in the dump under GTKWave's name (scopes mapped as scripts/waves.py maps them: the
save file is written for Icarus), and the dump's values are the run's: the stream beats sampled
at the rising edges equal the activations sent and the results the cocotb test collected (and
checked against the golden model), and done pulses once, after the last result."""

from __future__ import annotations

import json
import os

import cocotb
import pytest

from models import engine_map as em
from tb.eie_lib import all_sources, control, model, stimulus
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_waves import fst, gtkw

PARAMS = {"N_PE": 4, "QDEPTH": 2, "MUL": 1, "ACT_DEPTH": 16, "SPM_DEPTH": 64, "PTR_DEPTH": 64,
          "MAX_LAYERS": 2}
RUN_LOG = "EIE_WAVES_RUN"   # where short_run writes what it sent and collected (JSON)


@cocotb.test()
async def short_run(dut):
    """One small two-layer network with queue stalls, exact against the golden model; a few
    idle cycles after done so that the dump shows it fall."""
    from cocotb.triggers import ClockCycles
    p = params(PARAMS)
    g = rng(dut)
    await control.start_engine(dut)
    layers, x = stimulus.random_network(g, p["N_PE"], 12, [16, 8], em.WEIGHT_MODES[p["MUL"]], density=0.6,
                                  act_density=0.9)
    await control.load_image(dut, em.build_image(layers))
    vals, slots, lasts = await control.run_network(dut, x, g, idle=0.1, ready=0.7)
    want = model.expected_slots(layers, x)
    assert slots == list(range(len(want))) and vals == [int(v) for v in want]
    assert lasts == [0] * (len(want) - 1) + [1], "tlast misplaced"
    await ClockCycles(dut.clk, 3)
    with open(os.environ[RUN_LOG], "w") as f:
        json.dump({"acts": [int(v) for v in x], "results": list(zip(vals, slots, lasts))}, f)


def signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


def stream_beats(wave, have: dict[str, int], clk: str, prefix: str, fields: list[str]) -> list:
    """The beats of an AXI stream in the dump: at each rising edge where tvalid and tready are
    high, the ``fields`` (tdata signed, the others as they are)."""
    names, missing = gtkw.find([f"eie_top.{prefix}_{f}" for f in ["tvalid", "tready"] + fields],
                               have)
    assert not missing, missing
    beats = []
    for valid, ready, *vals in fst.at_rising_edges(wave, clk, names):
        if valid == 1 and ready == 1:
            beats.append(tuple(signed(v, have[n]) if f == "tdata" else v
                               for f, n, v in zip(fields, names[2:], vals)))
    return beats


def test_save_file_signals_in_dump(sim, monkeypatch, tmp_path):
    monkeypatch.setenv("WAVES", "1")
    log = tbsim.case_dir("eie_top", sim, PARAMS) / "short_run.json"
    log.unlink(missing_ok=True)
    build = tbsim.run(sim, "eie_top", __name__, all_sources(), PARAMS,
                      extra_env={RUN_LOG: str(log)})
    dumps = sorted(build.glob("*.fst"), key=lambda f: f.stat().st_mtime)
    assert dumps, f"no FST in {build}"
    dump = dumps[-1]
    wave = fst.open_dump(dump)
    have = fst.signals(wave)
    assert len(have) > 100, f"{dump}: only {len(have)} signals"

    # every save-file signal, under GTKWave's name (this build's ranges: the very same names)
    wanted = gtkw.signals(gtkw.SAVE_FILE)
    assert len(wanted) >= 40, "the save file lists too few signals"
    found, missing = gtkw.find(wanted, have)
    assert not missing, f"{dump}: save-file signals missing from the dump: {missing}"
    assert [gtkw.gtkwave_name(f, have[f]) for f in found] == wanted
    # ... and the same check fails on a signal the dump does not have
    bogus = tmp_path / "bogus.gtkw"
    bogus.write_text(gtkw.SAVE_FILE.read_text() + "eie_top.u_ccu.no_such_signal[3:0]\n")
    assert gtkw.find(gtkw.signals(bogus), have)[1] == ["eie_top.u_ccu.no_such_signal[3:0]"]
    # scripts/waves.py writes the adapted save file for this dump
    out, dropped = gtkw.adapt(bogus, dump, tmp_path / "eie.gtkw")
    assert dropped == ["eie_top.u_ccu.no_such_signal[3:0]"] and gtkw.signals(out) == wanted

    # the values: the streams' beats and done, sampled at the rising edges of the clock
    run = json.loads(log.read_text())
    (clk, done), _ = gtkw.find(["eie_top.clk", "eie_top.done"], have)
    acts = stream_beats(wave, have, clk, "s_axis_act", ["tdata"])
    assert [a for (a,) in acts] == run["acts"], f"{dump}: input beats differ from the run's"
    res = stream_beats(wave, have, clk, "m_axis_res", ["tdata", "tuser", "tlast"])
    assert [list(r) for r in res] == run["results"], f"{dump}: result beats differ from the run's"
    (res_valid, rst), _ = gtkw.find(["eie_top.m_axis_res_tvalid", "eie_top.rst"], have)
    samples = fst.at_rising_edges(wave, clk, [done, res_valid, rst])
    # from the edge that ends reset on (before it, a debug build's random X values show)
    first = max(i for i, (_, _, r) in enumerate(samples) if r == 1) + 1
    pulses = [i for i, (d, _, _) in enumerate(samples) if d == 1 and i >= first]
    last_beat = max(i for i, (_, v, _) in enumerate(samples) if v == 1)
    assert len(pulses) == 1 and pulses[0] > last_beat, \
        f"{dump}: done high at edges {pulses}, last result at edge {last_beat}"
    print(f"{sim}: {len(wanted)} save-file signals in {dump.name} ({len(have)} variables); "
          f"{len(acts)} input and {len(res)} result beats as in the run, one done pulse")


@pytest.mark.parametrize("dump_names", [
    ["eie_top.u_ccu.rd_addr", "eie_top.clk"],                          # Icarus
    ["$rootio.clk", "eie_top.clk", "eie_top.u_ccu.rd_addr"],           # Verilator
    ["TOP.clk", "TOP.eie_top.clk", "TOP.eie_top.u_ccu.rd_addr"],       # older Verilator
])
def test_find_maps_scopes_and_ranges(dump_names):
    """A save-file signal is found under the dump's scopes, with the dump's width; a signal the
    dump lacks is reported, whatever its scopes or range."""
    have = {n: 6 if n.endswith("rd_addr") else 1 for n in dump_names}
    wanted = ["eie_top.clk", "eie_top.u_ccu.rd_addr[3:0]", "eie_top.u_ccu.rd_adr[3:0]",
              "eie_top.u_ccu.clk"]
    found, missing = gtkw.find(wanted, have)
    top = dump_names[-1].rsplit("eie_top", 1)[0]
    assert found == [f"{top}eie_top.clk", f"{top}eie_top.u_ccu.rd_addr", None, None]
    assert missing == ["eie_top.u_ccu.rd_adr[3:0]", "eie_top.u_ccu.clk"]
    assert gtkw.gtkwave_name(found[1], have[found[1]]) == f"{top}eie_top.u_ccu.rd_addr[5:0]"
