#!/usr/bin/env python3
"""Quality benchmark of the reference model: LeNet-300-100 on digits and on the MNIST split,
k-means and log weights; checks the bar (>= 40x compression; accuracy within 0.5 points of the
dense model for k-means, 1 point for log) and writes build/bench/model.json and model.md.

Usage: scripts/venv-run python scripts/bench_model.py [--datasets digits,mnist] [--pes 4]
Trained models are cached in the shared training cache ($MODEL_CACHE, default build/model-cache);
each variant's output goes to build/bench/model-out/<dataset>-<weights>.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from models import atomic, compress

BAR = {"ratio": 40.0, "kmeans": 0.5, "log": 1.0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="digits,mnist")
    p.add_argument("--weights", default="kmeans,log")
    p.add_argument("--pes", type=int, default=4)
    p.add_argument("--data-dir", help="MNIST folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("build/bench"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for ds in args.datasets.split(","):
        for w in args.weights.split(","):
            cfg = compress.Config(dataset=ds, weights=w, seed=args.seed, **compress.DEFAULTS[ds])
            try:
                rep = compress.run(cfg, args.out / "model-out" / f"{ds}-{w}", args.pes, args.data_dir)
            except FileNotFoundError as e:
                print(f"skip {ds}: {e}", file=sys.stderr)
                break
            a = rep["accuracy"]
            drop = a["float"] - a["fixed"]
            ok = rep["compression_ratio"] >= BAR["ratio"] and drop <= BAR[w]
            rows.append({"dataset": ds, "weights": w, "ratio": rep["compression_ratio"],
                         "ratio_npes": rep["sizes_npe"]["total"]["huffman_ratio"],
                         "accuracy": a, "drop": drop, "bar_drop": BAR[w], "pass": ok,
                         "density": rep["sizes_1pe"]["total"]["density"],
                         "seconds": rep["seconds"], "cached": rep["cached"]})
            print(f"{ds:6s} {w:6s} {rep['compression_ratio']:5.1f}x  float {a['float']:.2f}  "
                  f"fixed {a['fixed']:.2f}  drop {drop:+.2f}  {'PASS' if ok else 'FAIL'}")
    res = {"bar": BAR, "pes": args.pes, "seed": args.seed, "results": rows,
           "pass": bool(rows) and all(r["pass"] for r in rows)}
    atomic.write_json(args.out / "model.json", res)
    md = ["# Reference model benchmark (LeNet-300-100)", "",
          f"Bar: compression >= {BAR['ratio']:.0f}x (one PE, after Huffman, as Deep Compression); "
          "fixed-point accuracy within 0.5 points of dense (k-means), 1 point (log).", "",
          "| dataset | weights | density | compression | "
          f"on {args.pes} PEs | float | pruned | shared | fixed point | drop | bar |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a = r["accuracy"]
        md.append(f"| {r['dataset']} | {r['weights']} | {100 * r['density']:.1f} % | "
                  f"{r['ratio']:.1f}x | {r['ratio_npes']:.1f}x | {a['float']:.2f} | "
                  f"{a['pruned']:.2f} | {a['shared']:.2f} | {a['fixed']:.2f} | {r['drop']:+.2f} | "
                  f"{'pass' if r['pass'] else 'FAIL'} |")
    atomic.write_text(args.out / "model.md", "\n".join(md) + "\n")
    return 0 if res["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
