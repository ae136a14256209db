"""AlexNet FC8 on the 64-PE engine (Verilator): cycles at queue depths 1..16 with the paper's
interleaved rows and with the balanced assignment (models.balance), next to the EIE authors'
reference, checked bit for bit against the golden model and compared with float.

    python scripts/bench_fc8.py [--depths 1 2 4 8 16] [--out build/bench]

Writes build/bench/alexnet_fc8.json and build/bench/alexnet_fc8_out.npy (the 1,000 outputs of
the depth-8 interleaved run, dequantized to float, in row order).

Cycle counter: the engine's compute-cycle counter (cnt_sel 1: from the CCU's start to its done,
i.e. the layer's broadcast and processing, the paper's figure); the total busy cycles (cnt_sel 0,
including the 4,096-beat input stream and the 1,024-beat result stream) are reported too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models import balance, golden  # noqa: E402
from models import csc as mcsc  # noqa: E402
from models import fc8 as mfc8  # noqa: E402
from tb.eie_fc8 import fc8  # noqa: E402

REFERENCE = {1: 10194, 2: 8827, 4: 8160, 8: 7896, 16: 7794}
REF_IDEAL = 7090
REF_SOURCE = "EIE authors' C++ cycle model (../shared/data/eie-alexnet-fc8/README.md)"
GOAL = {"interleaved": 7896, "balanced": 7300}


def pe_stats(case: fc8.Case) -> dict:
    c = golden.layer_cycles(case.layer.csc, case.x_cols)
    return {"work": c["work"], "bound": c["bound"], "ideal": c["ideal"],
            "useful_macs": c["useful_macs"], "padding_entries_active": c["padding"],
            "padding_entries_total": case.layer.csc.n_padding,
            "entries_per_pe": [pe.n_entries for pe in case.layer.csc.pes],
            "rows_per_pe": case.layer.csc.rows_per_pe,
            "deep_queue_load_balance": c["load_balance"],
            "active_columns": c["active_columns"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="*", default=[1, 2, 4, 8, 16])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "bench")
    ap.add_argument("--sim", default="verilator")
    args = ap.parse_args(argv)
    if not fc8.bench_setup(args.out):
        return 0
    data = mfc8.load()
    t0 = time.perf_counter()
    cases = {"interleaved": fc8.build_case("interleaved", data)}
    t1 = time.perf_counter()
    cases["balanced"] = fc8.build_case("balanced", data)
    balance_s = time.perf_counter() - t1

    out: dict = {"layer": "AlexNet FC8 (EIE authors' data), 4096 -> 1000, 64 PEs",
                 "reference": {"cycles": REFERENCE, "ideal": REF_IDEAL, "source": REF_SOURCE},
                 "goal_depth8": GOAL,
                 "counter": "compute cycles (cnt_sel 1): CCU start to done of the layer; "
                            "total cycles (cnt_sel 0) add the input and result streams",
                 "fixed_point": {"frac_in": fc8.FRAC_IN, "frac_w": fc8.FRAC_W,
                                 "bias_act": 1 << fc8.FRAC_IN, "weights": "linear (MUL=0)"},
                 "balance_seconds": balance_s, "assignments": {}}
    y_out = None
    for name, case in cases.items():
        st = pe_stats(case)
        w = balance.work_matrix(case.layer.csc, case.x_cols)
        entry = {"pe": st, "depths": {}, "shift": case.layer.shift, "frac_out": case.frac_out}
        for d in args.depths:
            res = fc8.run_rtl(args.sim, case, qdepth=d, tag=f"bench-{name}", monitors=False)
            cmp = fc8.compare(case, res["outputs"])
            cnt = res["counters"]
            model = balance.queue_cycles(w, d)
            cyc = cnt["run"]
            row = {"compute_cycles": cyc, "total_cycles": cnt["total"],
                   "model_cycles": model, "rtl_minus_model": cyc - model,
                   "reference": REFERENCE.get(d), "ideal": st["ideal"],
                   "load_balance": st["ideal"] / cyc,
                   "stall_cycles": cnt["stall"], "broadcasts": cnt["bcast"],
                   "busy": cnt["busy"], "starved": cnt["starved"], "padding": cnt["pad"],
                   "busy_equals_golden_work": cnt["busy"] == st["work"],
                   "mismatches_vs_golden": res["mismatches"], "error": res["error"],
                   "float_max_abs_err": cmp["float_max_abs_err"],
                   "float_rms_err": cmp["float_rms_err"],
                   "run_wall_s": res["run_wall_s"], "total_wall_s": res["total_wall_s"]}
            entry["depths"][str(d)] = row
            print(f"{name:12s} depth {d:2d}: {cyc:6d} compute cycles (model {model} + "
                  f"{cyc - model}), total {cnt['total']}, ref {REFERENCE.get(d)}, "
                  f"{res['mismatches']} mismatches, {res['total_wall_s']:.0f} s", flush=True)
            if d == 8 or (y_out is None and d == args.depths[-1]):
                entry["float"] = {k: v for k, v in cmp.items() if k != "y_dequant"}
                if name == "interleaved" and (d == 8 or y_out is None):
                    y_out = cmp["y_dequant"]
                if name == "balanced" and y_out is not None:
                    entry["float"]["same_outputs_as_interleaved"] = bool(
                        np.array_equal(cmp["y_dequant"], y_out))
        out["assignments"][name] = entry
    # input-independent balance (every column counts), for the model only
    static_layer = balance.encode_balanced(mcsc.decode(data.layer), fc8.N_PE, None,
                                           prefix_step=64, refine_iter=1500)
    sw = balance.work_matrix(static_layer, cases["interleaved"].x_cols)
    sc = golden.layer_cycles(static_layer, cases["interleaved"].x_cols)
    out["model_only"] = {"balanced_input_independent": {
        "bound": sc["bound"], "load_balance_deep": sc["load_balance"],
        "model_cycles": {str(d): balance.queue_cycles(sw, d) for d in args.depths},
        "note": "models.balance.balanced_assignment(codes, 64, xs=None): balances the "
                "non-zeros of every column, no input needed; cycles from the queue model "
                "(+ the RTL's constant offset, see rtl_minus_model)"}}
    out["bench_seconds"] = time.perf_counter() - t0
    (args.out / "alexnet_fc8.json").write_text(json.dumps(out, indent=1))
    if y_out is not None:
        np.save(args.out / "alexnet_fc8_out.npy", np.asarray(y_out, dtype=np.float64))
    print(f"wrote {args.out / 'alexnet_fc8.json'} and {args.out / 'alexnet_fc8_out.npy'}")
    bad = [(n, d) for n, e in out["assignments"].items() for d, r in e["depths"].items()
           if r["mismatches_vs_golden"] or r["error"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
