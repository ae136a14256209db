"""`make sim`: LeNet-300-100, compressed, bit-exact on the EIE engine RTL.

    [SIM=icarus|verilator] [IMAGES=100] [WEIGHTS=kmeans|log] [PES=4] [DATASET=digits|mnist]
    [WAVES=1] [SIM_ENGINE_OUT=build/sim] python scripts/sim_engine.py

1. Compresses LeNet-300-100 with models.compress into ``build/sim/model-<dataset>-<weights>-<pes>pe``
   (training cached in the shared model cache, so ``make model`` and ``make sim`` train once) and
   exports the memory images there (padded copies in ``build/sim/hw``).
2. Runs the first IMAGES test images through ``eie_top`` in one simulation (tb/eie_uvm/images.py):
   memories through the backdoor ``+EIE_INIT_DIR``, descriptors through the load port.
3. Prints one table and writes ``build/sim/summary.json``: accuracy of the float, compressed (float
   weights after pruning and sharing), golden (integer model) and RTL networks on those images,
   RTL/golden mismatches (must be 0), cycles per image, PE utilization, compression ratio.
Exit status 1 when any RTL output differs from the golden model.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from models import data as datasets, golden, memimage, quantize, train  # noqa: E402
from models import engine_map as em  # noqa: E402
from tb import sim as tbsim  # noqa: E402
from tb.eie_lib import all_sources  # noqa: E402
from tb.eie_uvm import realnets  # noqa: E402

OUT = Path(os.environ.get("SIM_ENGINE_OUT", tbsim.BUILD / "sim")).resolve()


def rel(p: Path) -> str:
    p = Path(p).resolve()
    return str(p.relative_to(tbsim.REPO)) if p.is_relative_to(tbsim.REPO) else str(p)


def _pow2(n: int, lo: int = 2) -> int:
    return max(lo, 1 << max(0, int(n) - 1).bit_length())


def hw_params(m: dict, weights: str) -> dict:
    """eie_top parameters that hold the exported network."""
    n = m["n_pes"]
    rows = max(max(l["rows_per_pe"]) for l in m["layers"])
    cols = max(l["n_slots_in"] for l in m["layers"])
    return {"N_PE": n, "QDEPTH": 8, "MUL": int(weights == "log"),
            "ACT_DEPTH": _pow2(max(rows, -(-cols // n))), "SPM_DEPTH": _pow2(m["words"]["spm"]),
            "PTR_DEPTH": _pow2(m["words"]["ptr_bank"]), "MAX_LAYERS": max(4, m["n_layers"])}


def quiet_run(log: Path, *args, **kwargs):
    """tbsim.run with the simulator's output (build and cocotb log) sent to ``log``; on failure
    the last lines are printed."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "w") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            return tbsim.run(*args, **kwargs)
        except BaseException:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            print("".join(log.read_text().splitlines(True)[-40:]), file=sys.stderr)
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def build_model(dataset: str, weights: str, pes: int, images: int) -> tuple[dict, float, bool]:
    """Compress (training cached) into build/sim/model-<dataset>-<weights>-<pes>pe; (report,
    seconds, cached)."""
    t0 = time.time()
    realnets.prepare(MODEL, dataset, weights, pes, min(images, 450))
    rep = json.loads((MODEL / "report.json").read_text())
    return rep, time.time() - t0, bool(rep["cached"])


def float_accuracy(state_file: Path, n_in: int, hidden, x: np.ndarray, y: np.ndarray) -> float:
    import torch
    model = train.lenet(n_in, tuple(hidden))
    model.load_state_dict(torch.load(state_file, weights_only=False))
    return train.accuracy(model, x, y)


def main() -> int:
    sim = os.environ.get("SIM", "icarus").strip().lower() or "icarus"
    images = int(os.environ.get("IMAGES", "100"))
    weights = os.environ.get("WEIGHTS", "kmeans")
    pes = int(os.environ.get("PES", "4"))
    dataset = os.environ.get("DATASET", "digits")
    t_start = time.time()
    OUT.mkdir(parents=True, exist_ok=True)

    global MODEL
    MODEL = OUT / f"model-{dataset}-{weights}-{pes}pe"
    rep, t_model, cached = build_model(dataset, weights, pes, images)
    m, layers = memimage.read_images(MODEL)           # what the RTL loads, validated
    data = datasets.load(dataset, None)
    images = min(images, len(data.x_test))
    x, labels = data.x_test[:images], data.y_test[:images]
    x_q = quantize.quantize_input(layers, x)
    gold = golden.network_forward(layers, x_q)
    gold_slots = gold[-1]["y_slots"]
    gold_pred = golden.from_slots(gold_slots, layers[-1].csc).argmax(axis=1)

    hw = hw_params(m, weights)
    f_in, f_out = OUT / "images_in.npz", OUT / "images_out.npz"
    np.savez(f_in, x_q=x_q, desc=np.array(em.build_image(layers).desc, dtype=np.uint64))
    f_out.unlink(missing_ok=True)
    t1 = time.time()
    hw_dir = memimage.pad_images(MODEL, hw, OUT / "hw")
    log = OUT / f"sim-{sim}.log"
    print(f"simulating {images} images on {sim} (log: {rel(log)})", flush=True)
    build = quiet_run(log, sim, "eie_top", "tb.eie_uvm.images", all_sources(), hw,
                      extra_env={"EIE_IMAGES_IN": str(f_in), "EIE_IMAGES_OUT": str(f_out)},
                      plusargs=[f"+EIE_INIT_DIR={hw_dir.resolve()}"])
    t_sim = time.time() - t1
    r = np.load(f_out)
    rtl_slots = r["y_slots"]
    n = hw["N_PE"]
    assert (r["slots"] == np.arange(gold_slots.shape[1])).all(), "result slots out of order"
    mism = int((rtl_slots != gold_slots).sum())
    rtl_pred = golden.from_slots(rtl_slots, layers[-1].csc).argmax(axis=1)

    total, run, bcast, stall = r["cnt_total"], r["cnt_run"], r["cnt_bcast"], r["cnt_stall"]
    busy, pad = r["cnt_busy"], r["cnt_pad"]
    bound = np.array([sum(golden.layer_cycles(l.csc, g["input"][j])["bound"]
                          for l, g in zip(layers, gold)) for j in range(images)])
    useful = np.array([sum(golden.layer_cycles(l.csc, g["input"][j])["useful_macs"]
                           for l, g in zip(layers, gold)) for j in range(images)])
    hidden = rep["config"]["hidden"]
    s = {
        "dataset": dataset, "weights": weights, "multiplier": "log shift" if hw["MUL"] else "linear 16x16",
        "simulator": sim, "images": images, "n_pes": n, "hw_params": hw,
        "accuracy_float": float_accuracy(MODEL / "dense.pt", data.n_in, hidden, x, labels),
        "accuracy_compressed": float_accuracy(MODEL / "shared.pt", data.n_in, hidden, x, labels),
        "accuracy_golden": float((gold_pred == labels).mean() * 100),
        "accuracy_rtl": float((rtl_pred == labels).mean() * 100),
        "rtl_golden_mismatches": mism,
        "rtl_values_compared": int(rtl_slots.size),
        "rtl_golden_prediction_mismatches": int((rtl_pred != gold_pred).sum()),
        "cycles_per_image": float(total.mean()),
        "compute_cycles_per_image": float(run.mean()),
        "golden_bound_cycles_per_image": float(bound.mean()),
        "pe_utilization": float(busy.sum() / (n * run.sum())),
        "mac_utilization": float(useful.sum() / (n * run.sum())),
        "broadcasts_per_image": float(bcast.mean()),
        "queue_full_stall_cycles_per_image": float(stall.mean()),
        "padding_entries_per_image": float(pad.sum(axis=1).mean()),
        "compression_ratio": float(rep["compression_ratio"]),
        "full_test_set_accuracy": rep["accuracy"],
        "full_test_set_images": int(len(data.x_test)),
        "seconds_model": round(t_model, 1), "model_cached": cached,
        "seconds_simulation": round(t_sim, 1), "seconds_total": round(time.time() - t_start, 1),
        "build_dir": rel(build),
    }
    (OUT / "summary.json").write_text(json.dumps(s, indent=2) + "\n")

    print(f"\nLeNet-300-100 on {dataset} ({weights} weights, {s['multiplier']} multiplier), "
          f"first {images} test images, eie_top with {n} PEs on {sim}:")
    rows = [
        ("accuracy, float (dense)", f"{s['accuracy_float']:.2f} %"),
        ("accuracy, compressed (pruned + shared, float)", f"{s['accuracy_compressed']:.2f} %"),
        ("accuracy, golden integer model", f"{s['accuracy_golden']:.2f} %"),
        ("accuracy, RTL", f"{s['accuracy_rtl']:.2f} %"),
        ("RTL vs golden mismatches (output values)", f"{mism} of {rtl_slots.size}"),
        ("cycles per image (busy, all 3 layers + I/O)", f"{s['cycles_per_image']:.1f}"),
        ("  compute cycles per image (golden bound)",
         f"{s['compute_cycles_per_image']:.1f} ({s['golden_bound_cycles_per_image']:.1f})"),
        ("PE utilization (busy / compute cycles)", f"{100 * s['pe_utilization']:.1f} %"),
        ("  useful MACs / (PEs x compute cycles)", f"{100 * s['mac_utilization']:.1f} %"),
        ("compression ratio (Huffman, 1 PE)", f"{s['compression_ratio']:.1f}x"),
        ("time: model (cached) / simulation / total",
         f"{t_model:.0f} s ({'yes' if cached else 'no'}) / {t_sim:.0f} s / {s['seconds_total']:.0f} s"),
    ]
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k:{w}s}  {v:>22s}")
    print(f"  summary: {rel(OUT / 'summary.json')}")
    if tbsim.waves_enabled():
        print(f"  waves: {rel(build)} (make waves opens the newest)")
    return 0 if mism == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
