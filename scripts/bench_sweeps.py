"""Sweeps of cycles and load-balance efficiency against the activation-queue depth (1..32) and
the number of PEs (1..64), for AlexNet FC8 and the three LeNet-300-100 layers (build/model, from
``python -m models.compress``), as JSON and PNG plots after the EIE paper's Fig. 8 (load
efficiency vs FIFO depth) and Fig. 11 (scalability vs number of PEs).

    python scripts/bench_sweeps.py [--out build/bench] [--fc8-json build/bench/alexnet_fc8.json]

Cycles come from the engine's queue model (models.balance.queue_cycles, the RTL pipeline:
queue + pointer register + column walker) plus the RTL's constant offset measured on the
64-PE FC8 runs (scripts/bench_fc8.py, whose RTL-measured points are marked in the JSON and in
the plots). Load-balance efficiency = ideal cycles (entries in broadcast columns / N) / cycles.
LeNet figures are the mean over the exported test vectors (build/model/vectors).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models import balance, golden, memimage  # noqa: E402
from models import csc as mcsc  # noqa: E402
from models import fc8 as mfc8  # noqa: E402

DEPTHS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
PES = [1, 2, 4, 8, 16, 32, 64]
DEFAULT_OFFSET = 8   # RTL compute cycles - model cycles (measured at 64 PEs, every depth)


def layer_point(codes: np.ndarray, xs: np.ndarray, n_pes: int, depth: int, offset: int,
                assignment: str = "interleaved", cache: dict | None = None) -> dict:
    """Mean cycles / efficiency over inputs ``xs`` of one layer (codes over row-ordered input
    columns, bias last) on ``n_pes`` PEs at queue ``depth``."""
    key = (assignment, n_pes)
    lay = None if cache is None else cache.get(key)
    if lay is None:
        if assignment == "interleaved":
            lay = mcsc.encode(codes, n_pes)
        else:
            # the 64-PE assignment is the one scripts/bench_fc8.py measures; fewer
            # refinement steps at other sizes (bigger PEs average out most of the drift)
            lay = balance.encode_balanced(codes, n_pes, xs if len(xs) > 1 else xs[0],
                                          refine_iter=6000 if n_pes == 64 else 400)
        if cache is not None:
            cache[key] = lay
    cyc, ideal, bound = [], [], []
    for x in xs:
        w = balance.work_matrix(lay, x)
        c = golden.layer_cycles(lay, x)
        cyc.append(balance.queue_cycles(w, depth) + offset)
        ideal.append(c["ideal"])
        bound.append(c["bound"])
    cyc_m, ideal_m = float(np.mean(cyc)), float(np.mean(ideal))
    return {"cycles": cyc_m, "ideal": ideal_m, "bound": float(np.mean(bound)),
            "load_balance": ideal_m / cyc_m}


def fc8_layer() -> tuple[np.ndarray, np.ndarray] | None:
    try:
        data = mfc8.load()
    except (FileNotFoundError, ValueError):
        return None
    from tb.eie_fc8 import fc8
    x = np.concatenate([fc8.quantize_input(data.act), [1 << fc8.FRAC_IN]])
    return mcsc.decode(data.layer), x[None, :]


def lenet_layers(model_dir: Path, n_vec: int = 16) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, codes over row-ordered inputs + bias column, inputs with bias) per layer."""
    if not (model_dir / "manifest.json").is_file():
        return []
    _, layers = memimage.read_images(model_dir)
    vec = np.load(model_dir / "vectors" / "vectors.npz")
    outs = golden.network_forward(layers, vec["x_q"][:n_vec])
    res, prev = [], None
    for lay, o in zip(layers, outs):
        codes = mcsc.decode(lay.csc)
        x = o["input"]
        if prev is not None:   # slot-ordered columns back to the previous layer's rows
            cols = np.concatenate([prev.slot_of_row(), [prev.n_slots]])
            codes, x = codes[:, cols], x[:, cols]
        res.append((lay.name or f"fc{len(res) + 1}", codes, x))
        prev = lay.csc
    return res



def _save_depth_plot(fig, ax, out: Path, name: str, ylabel: str, title: str) -> str:
    """Label a plot against queue depth (log2 axis), save it as ``out/name``; returns name."""
    import matplotlib.pyplot as plt
    ax.set_xscale("log", base=2)
    ax.set_xticks(DEPTHS, [str(d) for d in DEPTHS])
    ax.set_xlabel("activation queue depth")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / name, dpi=120)
    plt.close(fig)
    return name


def plot(out: Path, sweeps: dict, rtl: dict) -> list[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    files = []
    # load-balance efficiency vs depth (EIE Fig. 8)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, s in sweeps["depth"].items():
        ax.plot(DEPTHS, [100 * p["load_balance"] for p in s], marker="o", label=name)
    for name, pts in rtl.items():
        ax.scatter([int(d) for d in pts], [100 * p["load_balance"] for p in pts.values()],
                   marker="x", s=70, color="k", zorder=5)
    if rtl:
        ax.scatter([], [], marker="x", color="k", label="RTL-measured (FC8, 64 PEs)")
    ref = sweeps.get("reference", {})
    if ref:
        ax.plot([int(d) for d in ref], [100 * ref_ideal / c for c, ref_ideal in
                                        zip(ref.values(), [7090] * len(ref))],
                ls="--", color="gray", marker="s", label="EIE reference (FC8)")
    files.append(_save_depth_plot(fig, ax, out, "sweep_depth_efficiency.png",
                                  "load-balance efficiency (%)",
                                  "Load-balance efficiency vs queue depth (64 PEs)"))
    # FC8 cycles vs depth
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, s in sweeps["depth"].items():
        if name.startswith("FC8"):
            ax.plot(DEPTHS, [p["cycles"] for p in s], marker="o", label=f"{name} (model)")
    for name, pts in rtl.items():
        ax.scatter([int(d) for d in pts], [p["cycles"] for p in pts.values()], marker="x", s=70,
                   zorder=5, label=f"FC8 {name} (RTL)")
    if ref:
        ax.plot([int(d) for d in ref], list(ref.values()), ls="--", color="gray", marker="s",
                label="EIE reference")
    ax.axhline(7090, color="gray", ls=":", label="ideal 7,090")
    files.append(_save_depth_plot(fig, ax, out, "sweep_depth_cycles_fc8.png", "compute cycles",
                                  "AlexNet FC8 on 64 PEs: cycles vs queue depth"))
    # scalability vs PEs (EIE Fig. 11): speedup over one PE, and efficiency
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, s in sweeps["pes"].items():
        base = s[0]["cycles"]
        a1.plot(PES, [base / p["cycles"] for p in s], marker="o", label=name)
        a2.plot(PES, [100 * p["load_balance"] for p in s], marker="o", label=name)
    a1.plot(PES, PES, ls=":", color="gray", label="linear")
    for a in (a1, a2):
        a.set_xscale("log", base=2)
        a.set_xticks(PES, [str(p) for p in PES])
        a.set_xlabel("number of PEs")
        a.grid(alpha=0.3)
    a1.set_yscale("log", base=2)
    a1.set_ylabel("speedup over 1 PE")
    a2.set_ylabel("load-balance efficiency (%)")
    a1.set_title("Scalability (queue depth 8)")
    a2.set_title("Load-balance efficiency (queue depth 8)")
    a2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "sweep_pes.png", dpi=120)
    files.append("sweep_pes.png")
    plt.close(fig)
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--model-dir", type=Path, default=REPO / "build" / "model")
    ap.add_argument("--fc8-json", type=Path, default=None)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    fc8_json = args.fc8_json or args.out / "alexnet_fc8.json"
    offset, rtl = DEFAULT_OFFSET, {}
    if fc8_json.is_file():
        fj = json.loads(fc8_json.read_text())
        offs = [r["rtl_minus_model"] for e in fj["assignments"].values()
                for r in e["depths"].values()]
        offset = int(round(float(np.median(offs))))
        rtl = {name: {d: {"cycles": r["compute_cycles"], "load_balance": r["load_balance"]}
                      for d, r in e["depths"].items()} for name, e in fj["assignments"].items()}
    layers = []
    fc = fc8_layer()
    if fc is not None:
        layers += [("FC8 interleaved", fc[0], fc[1], "interleaved"),
                   ("FC8 balanced", fc[0], fc[1], "balanced")]
    for name, codes, x in lenet_layers(args.model_dir):
        layers.append((f"LeNet {name}", codes, x, "interleaved"))
    if not layers:
        print("no layers: neither the FC8 data nor build/model (python -m models.compress)",
              file=sys.stderr)
        return 1
    sweeps: dict = {"offset": offset, "depth": {}, "pes": {},
                    "rtl_measured": rtl, "reference": {"1": 10194, "2": 8827, "4": 8160,
                                                       "8": 7896, "16": 7794}}
    for name, codes, xs, asg in layers:
        cache: dict = {}
        sweeps["depth"][name] = [layer_point(codes, xs, 64, d, offset, asg, cache)
                                 for d in DEPTHS]
        sweeps["pes"][name] = [layer_point(codes, xs, n, 8, offset, asg, cache) for n in PES]
        print(f"{name:22s} depth 1/8/32: " + " / ".join(
            f"{sweeps['depth'][name][DEPTHS.index(d)]['cycles']:.0f}" for d in (1, 8, 32))
            + "   PEs 1/64: " + " / ".join(f"{sweeps['pes'][name][i]['cycles']:.0f}"
                                           for i in (0, -1)), flush=True)
    sweeps["depths"] = DEPTHS
    sweeps["n_pes"] = PES
    sweeps["plots"] = plot(args.out, sweeps, rtl)
    sweeps["method"] = ("models.balance.queue_cycles + offset (RTL - model, median over the "
                        "RTL-measured FC8 points); rtl_measured: cycles measured on the 64-PE "
                        "RTL by scripts/bench_fc8.py")
    (args.out / "sweeps.json").write_text(json.dumps(sweeps, indent=1))
    print(f"wrote {args.out / 'sweeps.json'} and {', '.join(sweeps['plots'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
