"""Simulation speed of the 64-PE engine on the AlexNet FC8 layer (one layer run: start, 4,096
input beats, compute, 1,024 result beats): simulated cycles per second on Icarus under cocotb,
on Verilator under cocotb (with this kit's transaction-level drivers, tb/eie_fc8/cocotb_fc8.py,
and with the per-clock drivers of tb/eie_common.py), and on a bare Verilator C++ harness
(scripts/harness/eie_harness.cpp, built into build/bench/harness) running the same layer.

    python scripts/bench_simspeed.py [--out build/bench] [--no-icarus]

Writes build/bench/simspeed.json. Wall times cover the run only (start to done), not the
build, the simulator start-up or the backdoor load; queue depth 8, interleaved rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tb import eie_common as ec  # noqa: E402
from tb.eie_fc8 import fc8  # noqa: E402

HARNESS = REPO / "scripts" / "harness" / "eie_harness.cpp"


def build_harness(qdepth: int, out: Path) -> tuple[Path, float]:
    mdir = (out / "harness" / f"q{qdepth}").resolve()
    mdir.mkdir(parents=True, exist_ok=True)
    exe = mdir / "eie_harness"
    srcs = [str(s) for s in ec.all_sources()]
    gparams = [f"-G{k}={v}" for k, v in fc8.params(qdepth).items()]
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", "-O3", "--x-assign", "fast",
           "--x-initial", "fast", "-Wno-fatal", "-Wno-lint", f"-I{REPO / 'rtl'}",
           "--top-module", "eie_top", *gparams, "-CFLAGS", "-O2", "-Mdir", str(mdir),
           "-o", "eie_harness", *srcs, str(HARNESS)]
    t0 = time.perf_counter()
    if not exe.exists() or exe.stat().st_mtime < max(Path(s).stat().st_mtime
                                                      for s in srcs + [str(HARNESS)]):
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return exe, time.perf_counter() - t0


def run_harness(exe: Path, case: fc8.Case, out: Path) -> dict:
    img = fc8.export(case, fc8.build_dir() / "harness")
    desc = json.loads((img / "case.json").read_text())["desc"]
    lines = [str(len(desc))] + [f"{a:x} {b:x}" for a, b in desc]
    lines += [str(len(case.x_q))] + [str(int(v)) for v in case.x_q]
    (img / "harness_in.txt").write_text("\n".join(lines) + "\n")
    res_file = img / "harness_out.txt"
    t0 = time.perf_counter()
    run = subprocess.run([str(exe), f"+EIE_INIT_DIR={img.resolve()}", str(img / "harness_in.txt"),
                          str(res_file)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if run.returncode:
        raise RuntimeError(f"harness failed: {run.stdout}{run.stderr}")
    res = json.loads(run.stdout.strip().splitlines()[-1])
    got = np.loadtxt(res_file, dtype=np.int64).reshape(-1, 2)
    res["mismatches"] = int(np.count_nonzero(got[:, 1] != case.want_slots)) \
        if len(got) == len(case.want_slots) else len(case.want_slots)
    res["process_wall_s"] = wall
    res["cycles_per_s"] = res["cycles"] / res["wall_s"]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--no-icarus", action="store_true")
    args = ap.parse_args(argv)
    ok, why = fc8.available()
    if not ok:
        print(f"skip: {why}", file=sys.stderr)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    case = fc8.build_case("interleaved")
    rows = {}

    def cocotb_row(sim, testcase="fc8_run", env=None):
        res = fc8.run_rtl(sim, case, 8, tag=f"speed-{sim}", testcase=testcase, env=env)
        row = {"cycles": res["run_sim_cycles"], "wall_s": res["run_wall_s"],
               "cycles_per_s": res["run_sim_cycles"] / res["run_wall_s"],
               "mismatches": res["mismatches"], "process_wall_s": res["total_wall_s"]}
        print(f"{sim:9s} {testcase:24s} {row['cycles']} cycles in {row['wall_s']:.2f} s: "
              f"{row['cycles_per_s']:.0f} cycles/s", flush=True)
        return row

    rows["verilator_cocotb"] = cocotb_row("verilator")
    rows["verilator_cocotb_common_drivers"] = cocotb_row(
        "verilator", "fc8_run_common_drivers", {"FC8_COMMON_DRIVERS": "1"})
    exe, build_s = build_harness(8, args.out)
    h = run_harness(exe, case, args.out)
    h["build_s"] = build_s
    rows["verilator_cpp"] = h
    print(f"verilator C++ harness: {h['cycles']} cycles in {h['wall_s']:.3f} s: "
          f"{h['cycles_per_s']:.0f} cycles/s, {h['mismatches']} mismatches", flush=True)
    if not args.no_icarus:
        rows["icarus_cocotb"] = cocotb_row("icarus")
    v = rows["verilator_cocotb"]["cycles_per_s"]
    summary = {
        "cocotb_overhead_ratio": h["cycles_per_s"] / v,
        "driver_speedup_vs_common": v / rows["verilator_cocotb_common_drivers"]["cycles_per_s"],
    }
    if "icarus_cocotb" in rows:
        summary["verilator_over_icarus"] = v / rows["icarus_cocotb"]["cycles_per_s"]
    out = {"layer": "AlexNet FC8, 64 PEs, QDEPTH 8, interleaved", "runs": rows,
           "summary": summary, "cpus": os.cpu_count(),
           "note": "machine shared with other jobs (2 cores); wall times are indicative"}
    (args.out / "simspeed.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
