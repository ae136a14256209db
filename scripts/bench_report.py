"""`make bench`: run the engine benchmarks and write build/bench/report.md and report.json.

    python scripts/bench_report.py [--only fc8 sweeps area simspeed] [--report-only]
                                   [--no-icarus] [--out build/bench]

Steps (each a script of its own, run in this order; a failing step is reported, not fatal):
  fc8       scripts/bench_fc8.py       AlexNet FC8 on the 64-PE RTL (Verilator), depths 1..16,
                                       interleaved and balanced rows -> alexnet_fc8.json
  sweeps    scripts/bench_sweeps.py    cycles / load balance vs depth and vs PEs -> sweeps.json,
                                       PNG plots
  area      scripts/bench_area.py      Yosys: PE (both multipliers), engine N=4 -> area_engine.json
  simspeed  scripts/bench_simspeed.py  cycles/s: Icarus, Verilator+cocotb, C++ harness
                                       -> simspeed.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = {"fc8": "bench_fc8.py", "sweeps": "bench_sweeps.py", "area": "bench_area.py",
         "simspeed": "bench_simspeed.py"}


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def fc8_section(fj: dict) -> list[str]:
    ref = {int(k): v for k, v in fj["reference"]["cycles"].items()}
    asg = fj["assignments"]
    depths = sorted({int(d) for e in asg.values() for d in e["depths"]})
    lines = ["## AlexNet FC8 on 64 PEs (RTL, Verilator)", "",
             f"Cycle counter: **{fj['counter']}**. Reference: {fj['reference']['source']}; "
             f"ideal {fj['reference']['ideal']:,} cycles. Every run: "
             "every output slot equal to the golden model.", "",
             "| queue depth | reference | interleaved (RTL) | balanced (RTL) | interleaved model "
             "| balanced model | load balance interleaved | load balance balanced "
             "| total cycles (interleaved, incl. streams) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for d in depths:
        i = asg.get("interleaved", {}).get("depths", {}).get(str(d), {})
        b = asg.get("balanced", {}).get("depths", {}).get(str(d), {})
        lines.append(
            f"| {d} | {fmt(ref.get(d))} | {fmt(i.get('compute_cycles'))} | "
            f"{fmt(b.get('compute_cycles'))} | {fmt(i.get('model_cycles'))} | "
            f"{fmt(b.get('model_cycles'))} | "
            f"{fmt(100 * i['load_balance'], 1) + ' %' if i else '-'} | "
            f"{fmt(100 * b['load_balance'], 1) + ' %' if b else '-'} | "
            f"{fmt(i.get('total_cycles'))} |")
    lines.append("")
    mism = sum(r["mismatches_vs_golden"] for e in asg.values() for r in e["depths"].values())
    lines.append(f"Mismatches against the golden model over all runs: **{mism}**. "
                 "Model = models.balance.queue_cycles (RTL pipeline, no constant); RTL - model: "
                 + ", ".join(sorted({str(r['rtl_minus_model']) for e in asg.values()
                                     for r in e['depths'].values()})) + " cycles.")
    lines.append("")
    lines += ["| assignment | deep-queue bound | ideal | busiest / mean PE work | entries per PE "
              "(min..max) | padding entries | rows per PE |", "|---|---:|---:|---:|---|---:|---|"]
    for name, e in asg.items():
        pe = e["pe"]
        lines.append(f"| {name} | {pe['bound']:,} | {pe['ideal']:,.1f} | "
                     f"{pe['bound'] / pe['ideal']:.3f} | {min(pe['entries_per_pe']):,}.."
                     f"{max(pe['entries_per_pe']):,} | {pe['padding_entries_total']} | "
                     f"{min(pe['rows_per_pe'])}..{max(pe['rows_per_pe'])} |")
    mo = fj.get("model_only", {}).get("balanced_input_independent")
    if mo:
        lines += ["", f"Input-independent balance (non-zeros of every column, no input needed; "
                  f"model only): bound {mo['bound']:,}, cycles at depth 1/8/16 = "
                  + " / ".join(fmt(mo["model_cycles"].get(str(d))) for d in (1, 8, 16))
                  + " (+ the RTL offset)."]
    fl = asg.get("interleaved", {}).get("float")
    if fl:
        lines += ["", "### Fixed point against float",
                  f"frac_in {fj['fixed_point']['frac_in']}, frac_w {fj['fixed_point']['frac_w']} "
                  f"(linear 16-bit codebook, MUL=0), bias_act {fj['fixed_point']['bias_act']}, "
                  f"output frac {fl['frac_out']}. Outputs in [{fl['float_range'][0]:.3f}, "
                  f"{fl['float_range'][1]:.3f}]: max abs error {fl['float_max_abs_err']:.2e}, "
                  f"RMS {fl['float_rms_err']:.2e} (relative RMS "
                  f"{100 * fl['float_rel_rms_err']:.3f} %), top-1 equal: {fl['top1_equal']}, "
                  f"top-5 overlap {fl['top5_overlap']}/5. Outputs: alexnet_fc8_out.npy "
                  "(1,000 floats, row order)."]
        fb = asg.get("balanced", {}).get("float", {})
        if "same_outputs_as_interleaved" in fb:
            lines.append(f"Balanced run, mapped back to rows (golden.from_slots): same outputs "
                         f"as interleaved: {fb['same_outputs_as_interleaved']}.")
    return lines + [""]


def sweeps_section(sj: dict) -> list[str]:
    lines = ["## Sweeps", "",
             f"{sj['method']}; offset {sj['offset']} cycles.", ""]
    lines += [f"![{p}]({p})" for p in sj["plots"]] + [""]
    depths = sj["depths"]
    lines += ["Cycles (load-balance efficiency) vs queue depth, 64 PEs:", "",
              "| layer | " + " | ".join(str(d) for d in depths) + " |",
              "|---|" + "---:|" * len(depths)]
    for name, pts in sj["depth"].items():
        lines.append(f"| {name} | " + " | ".join(f"{p['cycles']:,.0f} ({100 * p['load_balance']:.0f} %)"
                                                 for p in pts) + " |")
    pes = sj["n_pes"]
    lines += ["", "Cycles (load-balance efficiency) vs number of PEs, queue depth 8:", "",
              "| layer | " + " | ".join(str(n) for n in pes) + " |",
              "|---|" + "---:|" * len(pes)]
    for name, pts in sj["pes"].items():
        lines.append(f"| {name} | " + " | ".join(f"{p['cycles']:,.0f} ({100 * p['load_balance']:.0f} %)"
                                                 for p in pts) + " |")
    lines += ["", "RTL-measured points (FC8, 64 PEs): "
              + "; ".join(f"{n} depth {', '.join(sorted(v, key=int))}"
                          for n, v in sj["rtl_measured"].items()), ""]
    return lines


def area_section(aj: dict) -> list[str]:
    md = Path(aj["_md"]).read_text() if aj.get("_md") else ""
    return ["## Area (Yosys)", "", md, ""]


def speed_section(pj: dict) -> list[str]:
    """The simulation-speed table of scripts/bench_simspeed.py's JSON (its own row labels)."""
    labels = pj.get("labels", {})
    lines = ["## Simulation speed", "", f"{pj['layer']}; {pj['note']}.", "",
             "| simulator | simulated cycles | wall (s) | cycles/s |", "|---|---:|---:|---:|"]
    for k, r in pj["runs"].items():
        lines.append(f"| {labels.get(k, k)} | {r['cycles']:,} | {r['wall_s']:.3f} | "
                     f"{r['cycles_per_s']:,.0f} |")
    s = pj["summary"]
    parts = [f"Verilator + cocotb (lean build, stream player) runs at "
             f"**{100 * s['fraction_of_bare_harness']:.1f} %** of the bare optimised harness"
             if "fraction_of_bare_harness" in s else "",
             f"cocotb overhead (harness / cocotb): {s['cocotb_overhead_ratio']:.2f}x = "
             f"{s['lean_build_ratio']:.2f}x from the lean build's options times "
             f"{s['cocotb_runtime_ratio']:.2f}x from running under cocotb"
             if "lean_build_ratio" in s else "",
             f"the debug build (every signal public, X randomised) is "
             f"{s['debug_build_slowdown']:.1f}x slower" if "debug_build_slowdown" in s else "",
             f"player vs transaction drivers: {s['player_speedup_vs_drivers']:.2f}x"
             if "player_speedup_vs_drivers" in s else "",
             f"transaction drivers vs per-clock drivers: "
             f"{s['driver_speedup_vs_per_clock']:.2f}x on Verilator"
             + (f", {s['icarus_driver_speedup_vs_per_clock']:.2f}x on Icarus"
                if "icarus_driver_speedup_vs_per_clock" in s else ""),
             f"Verilator + cocotb vs Icarus + cocotb: {s['verilator_over_icarus']:.0f}x"
             if "verilator_over_icarus" in s else ""]
    lines += ["", "; ".join(p for p in parts if p) + ".", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--only", nargs="*", choices=list(STEPS))
    ap.add_argument("--report-only", action="store_true", help="only rewrite the report")
    ap.add_argument("--no-icarus", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    status = {}
    if not args.report_only:
        for step in args.only or list(STEPS):
            cmd = [sys.executable, str(REPO / "scripts" / STEPS[step]), "--out", str(args.out)]
            if step == "simspeed" and args.no_icarus:
                cmd.append("--no-icarus")
            t0 = time.perf_counter()
            print(f"== {step}: {' '.join(cmd[1:])}", flush=True)
            rc = subprocess.run(cmd, cwd=REPO).returncode
            status[step] = {"returncode": rc, "seconds": round(time.perf_counter() - t0, 1)}
    fj = load(args.out / "alexnet_fc8.json")
    sj = load(args.out / "sweeps.json")
    aj = load(args.out / "area_engine.json")
    pj = load(args.out / "simspeed.json")
    if aj:
        aj["_md"] = str(args.out / "area_engine.md")
    md = ["# EIE engine benchmarks", "",
          "Generated by `scripts/bench_report.py` (`make bench`). Figures measured on the RTL "
          "unless marked as model.", ""]
    if fj:
        md += fc8_section(fj)
    if sj:
        md += sweeps_section(sj)
    if aj:
        md += area_section(aj)
    if pj:
        md += speed_section(pj)
    if status:
        md += ["## Steps", "", "| step | exit | seconds |", "|---|---:|---:|"]
        md += [f"| {k} | {v['returncode']} | {v['seconds']} |" for k, v in status.items()]
    (args.out / "report.md").write_text("\n".join(md) + "\n")
    headline = {}
    if fj:
        a = fj["assignments"]
        headline["fc8_depth8_interleaved"] = a.get("interleaved", {}).get("depths", {}).get("8", {}).get("compute_cycles")
        headline["fc8_depth8_balanced"] = a.get("balanced", {}).get("depths", {}).get("8", {}).get("compute_cycles")
    report = {"headline": headline, "steps": status, "alexnet_fc8": fj, "sweeps": sj,
              "area": aj, "simspeed": pj}
    (args.out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {args.out / 'report.md'} and {args.out / 'report.json'}")
    return 1 if any(v["returncode"] for v in status.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
