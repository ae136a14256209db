"""The committed GTKWave save file (tb/eie.gtkw) against a real dump: a short WAVES=1 run of
eie_top on each simulator, the FST's signal names read with tb/eie_waves/fst.py, and every signal
of the save file found in it (scopes mapped as scripts/waves.py maps them: the save file is
written for Icarus, whose dump starts at the toplevel name). When gtkwave's fst2vcd is installed
(scripts/bootstrap.sh gtkwave), the names are cross-checked against its VCD header too."""

from __future__ import annotations

import shutil
import subprocess

import cocotb
import pytest

from tb import eie_common as ec
from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_waves import fst, gtkw

PARAMS = {"N_PE": 4, "QDEPTH": 2, "MUL": 1, "ACT_DEPTH": 16, "SPM_DEPTH": 64, "PTR_DEPTH": 64,
          "MAX_LAYERS": 2}


@cocotb.test()
async def short_run(dut):
    """One small two-layer network with queue stalls, exact against the golden model."""
    p = params(PARAMS)
    g = rng(dut)
    ec.clock(dut)
    ec.top_idle_inputs(dut)
    await ec.reset(dut)
    layers, x = ec.random_network(g, p["N_PE"], 12, [16, 8], ec.MODES[p["MUL"]], density=0.6,
                                  act_density=0.9)
    await ec.load_image(dut, ec.build_image(layers))
    vals, slots, _ = await ec.run_network(dut, x, g, idle=0.1, ready=0.7)
    want = ec.expected_slots(layers, x)
    assert slots == list(range(len(want))) and vals == [int(v) for v in want]


def vcd_names(path) -> set[str]:
    """Full names from fst2vcd's VCD header (scopes joined with '.')."""
    out = subprocess.run(["fst2vcd", "-f", str(path)], capture_output=True, text=True,
                         check=True).stdout
    names, scopes = set(), []
    for line in out.splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "$scope":
            scopes.append(w[2])
        elif w[0] == "$upscope":
            scopes.pop()
        elif w[0] == "$var":
            names.add(".".join(scopes + ["".join(w[4:-1])]))
        elif w[0] == "$enddefinitions":
            break
    return names


def test_save_file_signals_in_dump(sim, monkeypatch):
    monkeypatch.setenv("WAVES", "1")
    build = tbsim.run(sim, "eie_top", __name__, ec.all_sources(), PARAMS)
    dumps = sorted(build.glob("*.fst"), key=lambda f: f.stat().st_mtime)
    assert dumps, f"no FST in {build}"
    dump = dumps[-1]
    have = fst.signals(dump)
    assert len(have) > 100, f"{dump}: only {len(have)} signals"
    wanted = gtkw.signals(gtkw.SAVE_FILE)
    assert len(wanted) >= 40, "the save file lists too few signals"
    mapped, missing = gtkw.map_signals(wanted, have)
    assert not missing, f"{dump}: save-file signals missing from the dump: {missing}"
    exact = sum(1 for w, m in zip(wanted, mapped) if m == w)
    print(f"{sim}: {len(wanted)} save-file signals all in {dump.name} ({len(have)} signals; "
          f"{exact} with the same name, the rest re-scoped/re-ranged by scripts/waves.py)")
    if shutil.which("fst2vcd"):
        vcd = vcd_names(dump)
        assert {fst.base_name(n) for n in have} <= {fst.base_name(n) for n in vcd} | set(), \
            "tb/eie_waves/fst.py disagrees with fst2vcd"
    # scripts/waves.py writes the adapted save file for this dump
    out = gtkw.adapt(gtkw.SAVE_FILE, dump, build / "eie.gtkw")
    assert not gtkw.map_signals(gtkw.signals(out), have)[1]


@pytest.mark.skipif(not shutil.which("fst2vcd"), reason="fst2vcd not installed "
                    "(scripts/bootstrap.sh gtkwave)")
def test_reader_matches_fst2vcd():
    dumps = sorted(tbsim.BUILD.glob("tests/**/*.fst"))
    assert dumps, "no FST dump under build/tests"
    for d in dumps[:4]:
        assert {fst.base_name(n) for n in fst.signals(d)} == \
               {fst.base_name(n) for n in vcd_names(d)}, d
