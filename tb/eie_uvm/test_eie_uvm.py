"""pyuvm tests of eie_top (tb/eie_uvm/env.py, sequences.py) and their pytest entry.

cocotb tests (one pyuvm test class each, named after the class):
  RealNetworks   LeNet-300-100 compressed by models/ (digits, and MNIST when its files are
                 there) in the formats of the build's multiplier: k-means weights (MUL 0), log
                 weights (MUL 1), log weights and log activations with EA bits (MUL 2)
  RandomLayers   random sparse networks sized to the build
  CornerCases    zero input, zero columns, a PE without rows, dense, padding, saturation, bypass
  Errors         every bad-configuration class 1..7 raises its error, no hang, then a clean run
  ResetMidLayer  reset while a layer runs, then a clean run
Every test logs ``random seed N (rerun with SEED=N)``; ``SEED=N`` reruns the same stimulus.
Environment: EIE_UVM_COUNT (random networks per test, default 4), EIE_UVM_VECTORS (test vectors
per real network, default 4). MNIST networks join when the MNIST files are there (MNIST_DIR).
"""

from __future__ import annotations

import os

import cocotb
import pytest
import pyuvm
from cocotb.triggers import ClockCycles
from pyuvm import ConfigDB, uvm_test

from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import all_sources, control
from tb.eie_uvm import sequences as sq
from tb.eie_uvm.env import EieEnv

DEFAULTS = {"N_PE": 4, "QDEPTH": 8, "MUL": 1, "ACT_DEPTH": 16, "SPM_DEPTH": 256,
            "PTR_DEPTH": 128, "MAX_LAYERS": 4}   # + EA for MUL = 2


class EieTest(uvm_test):
    SEQS: tuple = ()

    def build_phase(self):
        self.hw = params(DEFAULTS)
        ConfigDB().set(None, "*", "HW", self.hw)
        ConfigDB().set(None, "*", "RNG", rng(cocotb.top))
        self.env = EieEnv("env", self)

    async def run_phase(self):
        self.raise_objection()
        dut = cocotb.top
        await control.start_engine(dut)
        count = int(os.environ.get("EIE_UVM_COUNT", "4"))
        for cls in self.SEQS:
            n = int(os.environ.get("EIE_UVM_VECTORS", "4")) if cls is sq.RealNetworkSeq else count
            await cls(cls.__name__, n).start(self.env.seqr)
        await ClockCycles(dut.clk, 4)
        self.drop_objection()


@pyuvm.test()
class RealNetworks(EieTest):
    SEQS = (sq.RealNetworkSeq,)


@pyuvm.test()
class RandomLayers(EieTest):
    SEQS = (sq.RandomLayerSeq,)


@pyuvm.test()
class CornerCases(EieTest):
    SEQS = (sq.CornerSeq,)


@pyuvm.test()
class Errors(EieTest):
    SEQS = (sq.ErrorSeq,)


@pyuvm.test()
class ResetMidLayer(EieTest):
    SEQS = (sq.ResetSeq,)


# ---------------------------------------------------------------------------------------------
# pytest entry: the configurations that matter, on each simulator
# ---------------------------------------------------------------------------------------------
REAL = dict(ACT_DEPTH=256, SPM_DEPTH=1024, PTR_DEPTH=1024, MAX_LAYERS=4)
CASES = {
    # real LeNet-300-100 on the linear multiplier (k-means weights), 4 PEs; every error class and
    # reset mid-layer with the linear multiplier
    "real-linear": (dict(REAL, N_PE=4, QDEPTH=8, MUL=0),
                    "RealNetworks,RandomLayers,Errors,ResetMidLayer"),
    # real LeNet-300-100 on the shift multiplier (log weights), 8 PEs, deep queues
    "real-log": (dict(REAL, N_PE=8, QDEPTH=16, MUL=1), "RealNetworks,RandomLayers,CornerCases"),
    # real LeNet-300-100 log x log (log weights, log activations EA = 4), 4 PEs; every error
    # class, the log conversion's corners
    "real-loglog": (dict(REAL, N_PE=4, QDEPTH=8, MUL=2, EA=4),
                    "RealNetworks,RandomLayers,CornerCases,Errors"),
    # 64 PEs, 1,024 slots, queue depth 2
    "wide": (dict(N_PE=64, QDEPTH=2, MUL=0, ACT_DEPTH=16, SPM_DEPTH=32, PTR_DEPTH=1024,
                  MAX_LAYERS=2), "RandomLayers,CornerCases"),
    # one PE, 1,024 rows
    "deep": (dict(N_PE=1, QDEPTH=16, MUL=1, ACT_DEPTH=1024, SPM_DEPTH=4096, PTR_DEPTH=1024,
                  MAX_LAYERS=2), "RandomLayers,CornerCases"),
    # queue depth 1, small buffers: stalls everywhere, every error, reset mid-layer
    "q1": (dict(N_PE=4, QDEPTH=1, MUL=1, ACT_DEPTH=32, SPM_DEPTH=256, PTR_DEPTH=128,
                MAX_LAYERS=4), "CornerCases,Errors,ResetMidLayer,RandomLayers"),
}


def real_dirs(sim: str, hw: dict) -> list[str]:
    """Export the real networks the build ``hw`` can run (training cached; MNIST when its
    files are there)."""
    from models import engine_map as em
    from models.golden import ACT_EXP_W
    from tb.eie_uvm import realnets
    weights, acts = em.MULS[hw["MUL"]]
    weights = "kmeans" if weights == "linear" else weights
    ea = hw.get("EA", ACT_EXP_W)
    out = []
    for ds in ("digits", "mnist"):
        if ds == "mnist" and not realnets.mnist_available():
            continue
        name = f"{ds}-{weights}-{'log' + str(ea) if acts == 'log' else 'linear'}-{hw['N_PE']}pe"
        d = tbsim.BUILD / "uvm" / "real" / sim / name
        realnets.prepare(d, ds, weights, hw["N_PE"], vectors=16, acts=acts, act_bits=ea)
        out.append(str(d))
    return out


def merge_coverage() -> None:
    """Sum the coverage of every eie_uvm build into build/reports/eie_uvm_coverage.{yml,txt}."""
    import yaml
    from tb.eie_uvm import coverage
    files = sorted((tbsim.BUILD / "tests" / "eie_top").glob("*/eie_uvm_coverage.yml"))
    if not files:
        return
    pts = coverage.merge(files)
    rep = tbsim.BUILD / "reports"
    rep.mkdir(parents=True, exist_ok=True)
    (rep / "eie_uvm_coverage.yml").write_text(yaml.safe_dump({"points": pts}, sort_keys=False))
    text = "\n".join([f"merged from {len(files)} builds"] + coverage.table(pts)) + "\n"
    (rep / "eie_uvm_coverage.txt").write_text(text)
    print(text)


@pytest.mark.parametrize("case", list(CASES))
def test_eie_uvm(sim, case):
    hw, tests = CASES[case]
    build = tbsim.case_dir("eie_top", sim, hw)
    env = {"EIE_UVM_COVERAGE": str(build / "eie_uvm_coverage.yml")}
    if "RealNetworks" in tests:
        env["EIE_UVM_REAL"] = os.pathsep.join(real_dirs(sim, hw))
    try:
        tbsim.run(sim, "eie_top", __name__, all_sources(), hw, extra_env=env, testcase=tests)
    finally:
        merge_coverage()


def test_sim_engine(sim, tmp_path):
    """`make sim`'s fast path (backdoor +EIE_INIT_DIR, descriptors through the load port, all
    images in one simulation) in its three modes on 10 digit images: no RTL/golden mismatch.
    Icarus only (a Verilator build of the demo costs a compile per mode; SIM_ENGINE_VERILATOR=1
    runs it there too)."""
    import json
    import subprocess
    import sys
    if sim == "verilator" and os.environ.get("SIM_ENGINE_VERILATOR") != "1":
        pytest.skip("make sim on Verilator: set SIM_ENGINE_VERILATOR=1")
    env = {**os.environ, "SIM": sim, "IMAGES": "10", "SIM_ENGINE_OUT": str(tmp_path)}
    for var in ("WAVES", "MODE", "WEIGHTS", "EA"):
        env.pop(var, None)
    r = subprocess.run([sys.executable, str(tbsim.REPO / "scripts" / "sim_engine.py")], env=env,
                       cwd=tbsim.REPO, capture_output=True, text=True)
    print(r.stdout[-3000:], r.stderr[-3000:])
    assert r.returncode == 0, f"sim_engine.py exited with {r.returncode}"
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["rtl_golden_mismatches"] == 0 and s["images"] == 10
    assert {m: r["hw_params"]["MUL"] for m, r in s["modes"].items()} == \
        {"linlin": 0, "linlog": 1, "loglog": 2}
    for mode, m in s["modes"].items():
        assert m["rtl_golden_mismatches"] == 0 and m["accuracy_rtl"] == m["accuracy_golden"], mode
        for key in ("accuracy_float", "accuracy_compressed", "cycles_per_image",
                    "compression_ratio"):
            assert m[key] > 0, (mode, key)
    assert "log x log" in r.stdout and "(EA = 4)" in r.stdout
