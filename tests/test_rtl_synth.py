"""Yosys reads the engine as synthesizable RTL: no latches, every memory inferred as a memory
with synchronous (clocked) read ports, so that it maps to block RAM."""

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


def yosys_netlist(tmp_path: Path, top: str, params: dict[str, int]) -> dict:
    out = tmp_path / "netlist.json"
    script = [f"read_verilog -defer {' '.join(map(str, RTL))}",
              *[f"chparam -set {k} {v} {top}" for k, v in params.items()],
              f"hierarchy -check -top {top}", "proc", "flatten", "opt -fast", "memory -nomap",
              "select -assert-none t:$dlatch t:$adlatch t:$sr t:$dlatchsr",
              f"write_json {out}"]
    run = subprocess.run(["yosys", "-q", "-p", "; ".join(script)], capture_output=True, text=True)
    assert run.returncode == 0, f"yosys failed on {top} {params}:\n{run.stdout}{run.stderr}"
    return json.loads(out.read_text())["modules"][top]


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed (make yosys)")
@pytest.mark.parametrize("params", [{"N_PE": 1, "MUL": 0}, {"N_PE": 4, "MUL": 1}])
def test_engine_memories_inferred_no_latches(tmp_path, params):
    cells = yosys_netlist(tmp_path, "eie_top", params)["cells"]
    mems = {name: c for name, c in cells.items() if c["type"] == "$mem_v2"}
    want = {f"g_pe[{k}].u_pe.{m}" for k in range(params["N_PE"]) for m in PE_MEMORIES}
    want |= {"desc_a", "desc_b"}
    assert set(mems) == want, f"missing {sorted(want - set(mems))}, extra {sorted(set(mems) - want)}"
    for name, cell in mems.items():
        rd_clocked = str(cell["parameters"]["RD_CLK_ENABLE"])
        assert set(rd_clocked) <= {"1"}, f"{name}: asynchronous read port ({rd_clocked})"
