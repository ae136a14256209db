#!/usr/bin/env python3
"""Quality benchmark of the reference model: LeNet-300-100 on digits and on the MNIST split in
every multiply mode (lin x lin: k-means weights; lin x log: power-of-two weights; log x log:
power-of-two weights and log activations with EA = 3, 4, 5 exponent bits); checks the bars and
writes build/bench/model.json and model.md.

Bars: >= 40x compression; fixed-point accuracy within 0.5 points of the dense model (k-means),
1 point (log weights); log x log at EA = 4 within 0.5 points of lin x log fixed point (issue 10;
EA = 3 and 5 are reported). Log x log networks keep more weights (compress.LOG_ACT_DENSITIES).
Log x log rows also give the accuracy with a linear 16-bit last layer instead of log outputs
(argmax ties), to decide the engine's output stage.

With ``--seeds 0,1,2`` every variant is trained once per seed: the bars apply to the first
seed, and a second table gives each variant's fixed-point accuracy over the seeds (mean, sample
standard deviation) and its gap to lin x log, so that a difference can be told from seed noise
(one digits test image is 0.22 points).

Usage: scripts/venv-run python scripts/bench_model.py [--datasets digits,mnist] [--pes 4]
       [--variants lin-lin,lin-log,log-log3,log-log4,log-log5] [--seeds 0]
Trained models are cached in the shared training cache ($MODEL_CACHE, default build/model-cache);
each variant's output goes to build/bench/model-out/<dataset>-<variant> (first seed) or
<dataset>-<variant>-seed<n> (the others).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from models import atomic, compress

VARIANTS = {
    "lin-lin": ("lin x lin (k-means)", dict(weights="kmeans")),
    "lin-log": ("lin x log (power-of-two weights)", dict(weights="log")),
    **{f"log-log{ea}": (f"log x log, EA = {ea}", dict(weights="log", acts="log", act_bits=ea))
       for ea in (3, 4, 5)},
}
BAR = {"ratio": 40.0, "lin-lin": 0.5, "lin-log": 1.0, "log-log4": 0.5}
STAGES = ("float", "pruned", "shared", "log_acts", "fixed", "fixed_linear_out")


def bar_check(row: dict, rows: list[dict]) -> tuple[str, bool | None]:
    """(what the accuracy bar of ``row`` is, whether it holds; None when it has none). A run
    the exporter refused fails."""
    if "error" in row:
        return f"refused: {row['error']}", False
    a, v = row["accuracy"], row["variant"]
    if v in ("lin-lin", "lin-log"):
        return f"float - fixed <= {BAR[v]}", a["float"] - a["fixed"] <= BAR[v]
    ref = next((r for r in rows if r["dataset"] == row["dataset"] and r["variant"] == "lin-log"
                and "error" not in r), None)
    if v != "log-log4" or ref is None:
        return "", None
    return (f"lin x log fixed - fixed <= {BAR[v]}",
            ref["accuracy"]["fixed"] - a["fixed"] <= BAR[v])


def cell(a: dict, stage: str) -> str:
    return f"{a[stage]:.2f}" if stage in a else ""


def seed_stats(rows: list[dict]) -> list[dict]:
    """Per dataset and variant: the fixed-point accuracy of every seed, its mean and sample
    standard deviation (0 for one seed), the seeds whose network the exporter refused (left out
    of the mean), and the gap of the mean to lin x log's mean (None without a lin x log row)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["variant"]), []).append(r)
    out = []
    for (ds, v), rs in groups.items():
        ok = [r for r in rs if "error" not in r]
        acc = np.array([r["accuracy"]["fixed"] for r in ok])
        out.append({"dataset": ds, "variant": v, "seeds": [r["seed"] for r in ok],
                    "refused": [r["seed"] for r in rs if "error" in r], "fixed": acc.tolist(),
                    "mean": float(acc.mean()) if len(acc) else None,
                    "sd": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0})
    for st in out:
        ref = next((o for o in out if o["dataset"] == st["dataset"] and o["variant"] == "lin-log"),
                   None)
        st["gap_to_lin_log"] = (None if ref is None or ref["mean"] is None or st["mean"] is None
                                else ref["mean"] - st["mean"])
    return out


def measure(ds: str, v: str, seed: int, out: Path, args: argparse.Namespace) -> dict:
    """Compress ``ds`` in variant ``v`` with ``seed`` into ``out`` (training cached); its row."""
    kw = VARIANTS[v][1]
    cfg = compress.Config(dataset=ds, seed=seed, **kw,
                          **compress.defaults(ds, kw.get("acts", "linear")))
    row = {"dataset": ds, "variant": v, "label": VARIANTS[v][0], "seed": seed,
           "weights": cfg.weights, "acts": cfg.acts, "densities": list(cfg.densities),
           "act_exp_w": cfg.act_bits if cfg.acts == "log" else None}
    try:
        rep = compress.run(cfg, out, args.pes, args.data_dir)
    except ValueError as e:  # e.g. the exporter refuses the network (accumulator bound)
        print(f"{ds:6s} {row['label']:34s} seed {seed}  refused: {e}", flush=True)
        return {**row, "error": str(e)}
    row.update({"ratio": rep["compression_ratio"],
                "ratio_npes": rep["sizes_npe"]["total"]["huffman_ratio"],
                "density": rep["sizes_1pe"]["total"]["density"], "accuracy": rep["accuracy"],
                "fixed_point": rep["fixed_point"], "seconds": rep["seconds"],
                "cached": rep["cached"]})
    a = row["accuracy"]
    print(f"{ds:6s} {row['label']:34s} seed {seed}  {row['ratio']:5.1f}x  float {a['float']:.2f}"
          f"  fixed {a['fixed']:.2f}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="digits,mnist")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--pes", type=int, default=4)
    p.add_argument("--data-dir", help="MNIST folder")
    p.add_argument("--seeds", default="0", help="training seeds, e.g. 0,1,2 (bars on the first)")
    p.add_argument("--out", type=Path, default=Path("build/bench"))
    args = p.parse_args(argv)
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    try:
        seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds must be integers separated by commas, got {args.seeds!r}")
    if len(set(seeds)) != len(seeds):
        p.error(f"--seeds repeats a seed: {args.seeds}")
    torch.set_num_threads(1)
    all_rows = []
    for ds in args.datasets.split(","):
        try:
            all_rows += [measure(ds, v, seed, args.out / "model-out" / (
                f"{ds}-{v}" + (f"-seed{seed}" if seed != seeds[0] else "")), args)
                for seed in seeds for v in variants]
        except FileNotFoundError as e:
            print(f"skip {ds}: {e}", file=sys.stderr)
    rows = [r for r in all_rows if r["seed"] == seeds[0]]
    for row in rows:
        row["bar"], acc_ok = bar_check(row, rows)
        row["pass"] = acc_ok is not False and row["ratio"] >= BAR["ratio"]
        print(f"{row['dataset']:6s} {row['label']:34s} {'PASS' if row['pass'] else 'FAIL'}"
              + (f" ({row['bar']})" if row["bar"] else ""))
    stats = seed_stats(all_rows)
    res = {"bar": BAR, "pes": args.pes, "seed": seeds[0], "seeds": seeds, "results": rows,
           "over_seeds": stats, "pass": bool(rows) and all(r["pass"] for r in rows)}
    atomic.write_json(args.out / "model.json", res)
    md = ["# Reference model benchmark (LeNet-300-100)", "",
          f"Bars: compression >= {BAR['ratio']:.0f}x (one PE, after Huffman, as Deep Compression);"
          " fixed-point accuracy within 0.5 points of float (k-means) or 1 point (power-of-two "
          "weights); log x log at EA = 4 within 0.5 points of lin x log fixed point. Accuracy in "
          f"% on the test set, seed {seeds[0]}; *log acts* is the float network retrained with "
          "log activations, *fixed point* the golden integer model (log outputs, argmax ties to "
          "the lowest class), *linear last* the same network with a linear 16-bit last layer.",
          "", f"| dataset | multiply | density | compression | on {args.pes} PEs | float | pruned | "
          "shared | log acts | fixed point | linear last | bar |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        verdict = ("pass" if r["pass"] else "FAIL") + (f" ({r['bar']})" if r["bar"] else "")
        if "error" in r:
            md.append(f"| {r['dataset']} | {r['label']} |" + " |" * (3 + len(STAGES))
                      + f" {verdict} |")
            continue
        md.append(f"| {r['dataset']} | {r['label']} | {100 * r['density']:.1f} % | "
                  f"{r['ratio']:.1f}x | {r['ratio_npes']:.1f}x | "
                  + " | ".join(cell(r["accuracy"], s) for s in STAGES) + f" | {verdict} |")
    if len(seeds) > 1:
        md += ["", f"## Fixed point over seeds {args.seeds}", "",
               "Mean and sample standard deviation; *gap* is lin x log's mean minus this mean; "
               "*refused*: seeds whose network the exporter refused (not in the mean).",
               "", "| dataset | multiply | fixed point per seed | mean | sd | gap | refused |",
               "|---|---|---|---|---|---|---|"]
        for st in stats:
            gap = "" if st["gap_to_lin_log"] is None else f"{st['gap_to_lin_log']:.2f}"
            mean = "" if st["mean"] is None else f"{st['mean']:.2f}"
            md.append(f"| {st['dataset']} | {VARIANTS[st['variant']][0]} | "
                      + ", ".join(f"{x:.2f}" for x in st["fixed"])
                      + f" | {mean} | {st['sd']:.2f} | {gap} | "
                      + ", ".join(str(s) for s in st["refused"]) + " |")
    atomic.write_text(args.out / "model.md", "\n".join(md) + "\n")
    return 0 if res["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
