"""Simulation speed of the 64-PE engine on the AlexNet FC8 layer (one layer run: start, 4,096
input beats, compute, 1,024 result beats), side by side in one run: simulated cycles per second
of a bare Verilator C++ harness (scripts/harness/eie_harness.cpp, built into
build/bench/harness) optimised and built like the lean cocotb model, and of cocotb on Verilator
and Icarus running the same layer (tb/eie_fc8/cocotb_fc8.py) in three ways: the FC8 harness's
stream player and recorder (no Python between start and done), this kit's transaction-level
drivers (tb/eie_lib, Python once per stream beat) and a naive per-clock driver as the baseline
(scripts/harness/per_clock.py). Verilator's cocotb models come in the lean build (the
regression's default) and the debug build (tb/verilator_build.py).

    python scripts/bench_simspeed.py [--out build/bench] [--no-icarus] [--repeat 3]
                                  [--icarus-repeat 1]

Writes build/bench/simspeed.json and simspeed.md (its section of scripts/bench_report.py).
Wall times cover the run only (start to done, results collected), not the build, the simulator
start-up, the backdoor load or the player's fill and the recorder's readback
(``outside_run_wall_s`` of each cocotb row); queue depth 8, interleaved rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]   # scripts/: the cocotb module harness.per_clock

import bench_report  # noqa: E402
from tb import verilator_build as vb  # noqa: E402
from tb.eie_fc8 import fc8  # noqa: E402
from tb.eie_lib import all_sources  # noqa: E402

HARNESS = REPO / "scripts" / "harness" / "eie_harness.cpp"
LABELS = {
    "verilator_cpp": "Verilator, bare C++ harness (optimised build)",
    "verilator_cpp_as_cocotb": "Verilator, bare C++ harness (built like the lean cocotb model)",
    "verilator_cocotb_player": "Verilator + cocotb, lean build (stream player and recorder)",
    "verilator_cocotb": "Verilator + cocotb, lean build (transaction drivers, tb/eie_lib)",
    "verilator_cocotb_per_clock": "Verilator + cocotb, lean build (per-clock baseline driver)",
    "verilator_cocotb_debug": "Verilator + cocotb, debug build (stream player and recorder)",
    "icarus_cocotb_player": "Icarus + cocotb (stream player and recorder)",
    "icarus_cocotb": "Icarus + cocotb (transaction drivers, tb/eie_lib)",
    "icarus_cocotb_per_clock": "Icarus + cocotb (per-clock baseline driver)",
}


def harness_options(as_cocotb: bool, mdir: Path) -> list[str]:
    """Verilator options of the harness: optimised (-O3, X as 0, -O2 C++), or ``as_cocotb``
    those of the lean cocotb model (tb/verilator_build.py: VPI with only the signals the tests
    touch public, -O3, X fast, -O2 C++, split functions), which splits the cocotb
    overhead into the cost of the model's build options and the cost of running under cocotb."""
    if not as_cocotb:
        return ["-O3", "--x-assign", "fast", "--x-initial", "fast", "-CFLAGS", "-O2"]
    make = vb.runner("lean").make_vars
    return (["--vpi", *vb.build_args("lean", False)]
            + [a for v in make for a in ("-MAKEFLAGS", v)]
            + [str(s) for s in vb.sources("lean", "eie_top", mdir)])


def build_harness(qdepth: int, out: Path, as_cocotb: bool = False) -> tuple[Path, float]:
    """The C++ harness model (rebuilt when a source is newer), and the build's wall time."""
    mdir = (out / "harness" / f"q{qdepth}{'-as-cocotb' if as_cocotb else ''}").resolve()
    exe = mdir / "eie_harness"
    opts = harness_options(as_cocotb, mdir)
    srcs = [str(s) for s in all_sources()]
    deps = srcs + [str(HARNESS)] + [a for a in opts if a.endswith(".vlt")]
    gparams = [f"-G{k}={v}" for k, v in fc8.params(qdepth).items()]
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", "2", *opts, "-Wno-fatal", "-Wno-lint",
           f"-I{REPO / 'rtl'}", "--top-module", "eie_top", *gparams, "-Mdir", str(mdir),
           "-o", "eie_harness", *srcs, str(HARNESS)]
    t0 = time.perf_counter()
    if not exe.exists() or exe.stat().st_mtime < max(Path(s).stat().st_mtime for s in deps):
        mdir.mkdir(parents=True, exist_ok=True)     # Verilator makes only the last level
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return exe, time.perf_counter() - t0


def run_harness(exe: Path, case: fc8.Case) -> dict:
    img = fc8.export(case, fc8.build_dir() / "harness")
    desc = json.loads((img / "case.json").read_text())["desc"]
    lines = [str(len(desc))] + [f"{a:x} {b:x}" for a, b in desc]
    lines += [str(len(case.x_q))] + [str(int(v)) for v in case.x_q]
    (img / "harness_in.txt").write_text("\n".join(lines) + "\n")
    res_file = img / "harness_out.txt"
    t0 = time.perf_counter()
    run = subprocess.run([str(exe), *fc8.plusargs(img), str(img / "harness_in.txt"),
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


@contextmanager
def sim_build(flavour: str):
    """SIM_BUILD set to ``flavour`` for the runs inside (tb/verilator_build.py)."""
    old = os.environ.get("SIM_BUILD")
    os.environ["SIM_BUILD"] = flavour
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SIM_BUILD")
        else:
            os.environ["SIM_BUILD"] = old


def best(runs: list[dict]) -> dict:
    """The fastest of repeated runs (the least disturbed by other jobs), all walls kept."""
    r = dict(max(runs, key=lambda r: r["cycles_per_s"]))
    r["wall_s_all"] = [x["wall_s"] for x in runs]
    return r


def cocotb_row(sim: str, case: fc8.Case, testcase: str, module: str = "tb.eie_fc8.cocotb_fc8",
               repeat: int = 1, flavour: str = "lean") -> dict:
    runs = []
    with sim_build(flavour):
        for _ in range(repeat):
            res = fc8.run_rtl(sim, case, 8, tag=f"speed-{sim}", testcase=testcase, module=module,
                              monitors=False)
            if res["mismatches"] or res.get("failure"):
                raise RuntimeError(f"{sim} {testcase}: {res['mismatches']} mismatches, "
                                   f"{res.get('failure')}")
            runs.append({"cycles": res["run_sim_cycles"], "wall_s": res["run_wall_s"],
                         "cycles_per_s": res["run_sim_cycles"] / res["run_wall_s"],
                         "mismatches": res["mismatches"], "process_wall_s": res["total_wall_s"],
                         "outside_run_wall_s": res.get("outside_run_wall_s", 0.0)})
    row = best(runs)
    row["build"] = flavour if sim == "verilator" else "icarus"
    print(f"{sim:9s} {row['build']:6s} {testcase:18s} {row['cycles']} cycles in "
          f"{row['wall_s']:.3f} s: {row['cycles_per_s']:.0f} cycles/s (best of {repeat})",
          flush=True)
    return row


def harness_row(case: fc8.Case, out: Path, repeat: int, as_cocotb: bool) -> dict:
    exe, build_s = build_harness(8, out, as_cocotb)
    row = best([run_harness(exe, case) for _ in range(repeat)])
    row["build_s"] = build_s
    print(f"verilator C++ harness{' (built like the lean cocotb model)' if as_cocotb else ''}: "
          f"{row['cycles']} cycles in {row['wall_s']:.3f} s: {row['cycles_per_s']:.0f} "
          f"cycles/s, {row['mismatches']} mismatches", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--no-icarus", action="store_true")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each Verilator case, the fastest reported")
    ap.add_argument("--icarus-repeat", type=int, default=1, help="the same for Icarus")
    args = ap.parse_args(argv)
    if not fc8.bench_setup(args.out):
        return 0
    case = fc8.build_case("interleaved")
    per_clock = ("fc8_run_per_clock", "harness.per_clock")
    rows = {
        "verilator_cpp": harness_row(case, args.out, args.repeat, False),
        "verilator_cpp_as_cocotb": harness_row(case, args.out, args.repeat, True),
        "verilator_cocotb_player": cocotb_row("verilator", case, "fc8_run_player",
                                              repeat=args.repeat),
        "verilator_cocotb": cocotb_row("verilator", case, "fc8_run", repeat=args.repeat),
        "verilator_cocotb_per_clock": cocotb_row("verilator", case, *per_clock,
                                                 repeat=args.repeat),
        "verilator_cocotb_debug": cocotb_row("verilator", case, "fc8_run_player",
                                             repeat=args.repeat, flavour="debug"),
    }
    if not args.no_icarus:
        for key, test in (("icarus_cocotb_player", ("fc8_run_player",)),
                          ("icarus_cocotb", ("fc8_run",)), ("icarus_cocotb_per_clock", per_clock)):
            rows[key] = cocotb_row("icarus", case, *test, repeat=args.icarus_repeat)
    speed = {k: r["cycles_per_s"] for k, r in rows.items()}
    cpp, player = speed["verilator_cpp"], speed["verilator_cocotb_player"]
    summary = {
        "fraction_of_bare_harness": player / cpp,
        "cocotb_overhead_ratio": cpp / player,
        "lean_build_ratio": cpp / speed["verilator_cpp_as_cocotb"],
        "cocotb_runtime_ratio": speed["verilator_cpp_as_cocotb"] / player,
        "debug_build_slowdown": player / speed["verilator_cocotb_debug"],
        "player_speedup_vs_drivers": player / speed["verilator_cocotb"],
        "driver_speedup_vs_per_clock": speed["verilator_cocotb"]
        / speed["verilator_cocotb_per_clock"],
    }
    if not args.no_icarus:
        summary["verilator_over_icarus"] = player / speed["icarus_cocotb_player"]
        summary["icarus_driver_speedup_vs_per_clock"] = \
            speed["icarus_cocotb"] / speed["icarus_cocotb_per_clock"]
    out = {"layer": "AlexNet FC8, 64 PEs, QDEPTH 8, interleaved", "runs": rows,
           "labels": {k: LABELS[k] for k in rows}, "summary": summary, "cpus": os.cpu_count(),
           "note": f"{os.cpu_count()} cores shared with other jobs; best of {args.repeat} runs "
                   f"on Verilator, of {args.icarus_repeat} on Icarus"}
    (args.out / "simspeed.json").write_text(json.dumps(out, indent=1))
    (args.out / "simspeed.md").write_text("\n".join(bench_report.speed_section(out)))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
