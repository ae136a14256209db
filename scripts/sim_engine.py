"""`make sim`: LeNet-300-100, compressed, bit-exact on the EIE engine RTL in the three multiply
modes side by side.

    [SIM=icarus|verilator] [IMAGES=100] [MODE=linlin|linlog|loglog] [EA=4] [PES=4]
    [DATASET=digits|mnist] [WAVES=1] [SIM_ENGINE_OUT=build/sim] python scripts/sim_engine.py

Modes (MODE= picks one, all three by default):
  linlin  k-means weights, 16-bit activations: the linear 16x16 multiplier (eie_top MUL = 0)
  linlog  power-of-two weights, 16-bit activations: the shift multiplier (MUL = 1)
  loglog  power-of-two weights, log activations with EA exponent bits: an exponent add (MUL = 2)

For each mode:
1. Compresses LeNet-300-100 with models.compress into
   ``build/sim/model-<dataset>-<mode>-<pes>pe`` (training cached in the shared model cache, so
   ``make model`` and ``make sim`` train once) and exports the memory images there (padded
   copies in ``hw/`` below it).
2. Runs the first IMAGES test images through ``eie_top`` in one simulation (tb/eie_uvm/images.py):
   memories through the backdoor ``+EIE_INIT_DIR``, descriptors through the load port, inputs
   and results as stream words (packed log values in loglog).
Then prints one table, a column per mode, and writes ``build/sim/summary.json`` (``modes``: per
mode the accuracy of the float (dense), compressed (pruned + shared weights, float activations),
golden (integer model) and RTL networks on those images, RTL/golden mismatches (must be 0),
cycles per image, PE utilization, compression ratio).
Exit status 1 when any RTL output word differs from the golden model's, 2 on a bad setting.
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
# mode: (models.compress --weights, --acts, eie_top MUL, table heading)
MODES = {
    "linlin": ("kmeans", "linear", 0, "lin x lin"),
    "linlog": ("log", "linear", 1, "lin x log"),
    "loglog": ("log", "log", 2, "log x log"),
}


def rel(p: Path) -> str:
    p = Path(p).resolve()
    return str(p.relative_to(tbsim.REPO)) if p.is_relative_to(tbsim.REPO) else str(p)


def _pow2(n: int, lo: int = 2) -> int:
    return max(lo, 1 << max(0, int(n) - 1).bit_length())


def hw_params(m: dict, mul: int, ea: int) -> dict:
    """eie_top parameters that hold the exported network, with multiplier ``mul``."""
    n = m["n_pes"]
    rows = max(max(l["rows_per_pe"]) for l in m["layers"])
    cols = max(l["n_slots_in"] for l in m["layers"])
    hw = {"N_PE": n, "QDEPTH": 8, "MUL": mul,
          "ACT_DEPTH": _pow2(max(rows, -(-cols // n))), "SPM_DEPTH": _pow2(m["words"]["spm"]),
          "PTR_DEPTH": _pow2(m["words"]["ptr_bank"]), "MAX_LAYERS": max(4, m["n_layers"])}
    return {**hw, "EA": ea} if mul == 2 else hw


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


def float_accuracy(state_file: Path, n_in: int, hidden, x: np.ndarray, y: np.ndarray) -> float:
    import torch
    model = train.lenet(n_in, tuple(hidden))
    model.load_state_dict(torch.load(state_file, weights_only=False))
    return train.accuracy(model, x, y)


def run_mode(mode: str, sim: str, images: int, ea: int, pes: int, dataset: str) -> dict:
    """Compress, export and simulate one mode; its summary."""
    weights, acts, mul, _ = MODES[mode]
    name = f"{mode}{ea}" if acts == "log" else mode
    out = OUT / f"model-{dataset}-{name}-{pes}pe"
    t0 = time.time()
    realnets.prepare(out, dataset, weights, pes, min(images, 450), acts, ea)
    rep = json.loads((out / "report.json").read_text())
    t_model = time.time() - t0
    m, layers = memimage.read_images(out)              # what the RTL loads, validated
    data = datasets.load(dataset, None)
    images = min(images, len(data.x_test))
    x, labels = data.x_test[:images], data.y_test[:images]
    x_q = quantize.quantize_input(layers, x)
    gold = golden.network_forward(layers, x_q)
    first, last = layers[0], layers[-1]
    gold_slots = gold[-1]["y_slots"]
    gold_words = em.stream_words(gold_slots, last.act_mode, last.act_exp_w)
    gold_pred = golden.from_slots(gold_slots, last.csc).argmax(axis=1)

    hw = hw_params(m, mul, ea)
    f_in, f_out = out / "images_in.npz", out / "images_out.npz"
    np.savez(f_in, words=em.stream_words(x_q, first.act_mode, first.act_exp_w),
             desc=np.array(em.build_image(layers).desc, dtype=np.uint64))
    f_out.unlink(missing_ok=True)
    t1 = time.time()
    hw_dir = memimage.pad_images(out, hw, out / "hw")
    log = OUT / f"sim-{sim}-{name}.log"
    print(f"{MODES[mode][3]}: simulating {images} images on {sim} (log: {rel(log)})", flush=True)
    build = quiet_run(log, sim, "eie_top", "tb.eie_uvm.images", all_sources(), hw,
                      extra_env={"EIE_IMAGES_IN": str(f_in), "EIE_IMAGES_OUT": str(f_out)},
                      plusargs=[f"+EIE_INIT_DIR={hw_dir.resolve()}"])
    t_sim = time.time() - t1
    r = np.load(f_out)
    n = hw["N_PE"]
    assert (r["slots"] == np.arange(gold_slots.shape[1])).all(), "result slots out of order"
    mism = int((r["words"] != gold_words).sum())
    rtl_slots = em.stream_values(r["words"], last.act_mode, last.act_exp_w)
    rtl_pred = golden.from_slots(rtl_slots, last.csc).argmax(axis=1)

    total, run, bcast, stall = r["cnt_total"], r["cnt_run"], r["cnt_bcast"], r["cnt_stall"]
    busy, pad = r["cnt_busy"], r["cnt_pad"]
    cyc = [[golden.layer_cycles(l.csc, g["input"][j]) for l, g in zip(layers, gold)]
           for j in range(images)]
    bound = np.array([sum(c["bound"] for c in per) for per in cyc])
    useful = np.array([sum(c["useful_macs"] for c in per) for per in cyc])
    hidden = rep["config"]["hidden"]
    return {
        "mode": mode, "dataset": dataset, "weights": weights, "activations": acts,
        "act_exp_w": ea if acts == "log" else None, "multiplier": MODES[mode][3],
        "simulator": sim, "images": images, "n_pes": n, "hw_params": hw,
        "accuracy_float": float_accuracy(out / "dense.pt", data.n_in, hidden, x, labels),
        "accuracy_compressed": float_accuracy(out / "shared.pt", data.n_in, hidden, x, labels),
        "accuracy_golden": float((gold_pred == labels).mean() * 100),
        "accuracy_rtl": float((rtl_pred == labels).mean() * 100),
        "rtl_golden_mismatches": mism,
        "rtl_values_compared": int(gold_words.size),
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
        "seconds_model": round(t_model, 1), "model_cached": bool(rep["cached"]),
        "seconds_simulation": round(t_sim, 1), "model_dir": rel(out), "build_dir": rel(build),
    }


def table(runs: list[dict]) -> list[str]:
    """The rows of the printed table, a column per mode."""
    def pct(key):
        return lambda s: f"{100 * s[key]:.1f} %"

    def acc(key):
        return lambda s: f"{s[key]:.2f} %"

    def cycles(key):
        return lambda s: f"{s[key]:.1f}"

    sub = {"linlin": "(k-means)", "linlog": "(log weights)"}
    rows = [("", lambda s: MODES[s["mode"]][3]),
            ("", lambda s: sub.get(s["mode"], f"(EA = {s['act_exp_w']})")),
            ("accuracy, float (dense)", acc("accuracy_float")),
            ("accuracy, compressed (float activations)", acc("accuracy_compressed")),
            ("accuracy, golden integer model", acc("accuracy_golden")),
            ("accuracy, RTL", acc("accuracy_rtl")),
            ("RTL vs golden mismatches (output words)",
             lambda s: f"{s['rtl_golden_mismatches']} of {s['rtl_values_compared']}"),
            ("cycles per image (busy, all layers + I/O)", cycles("cycles_per_image")),
            ("  compute cycles per image", cycles("compute_cycles_per_image")),
            ("  golden deep-queue bound", cycles("golden_bound_cycles_per_image")),
            ("PE utilization (busy / compute cycles)", pct("pe_utilization")),
            ("  useful MACs / (PEs x compute cycles)", pct("mac_utilization")),
            ("compression ratio (Huffman, 1 PE)", lambda s: f"{s['compression_ratio']:.1f}x"),
            ("time: model (cached) / simulation",
             lambda s: f"{s['seconds_model']:.0f} s ({'yes' if s['model_cached'] else 'no'}) / "
                       f"{s['seconds_simulation']:.0f} s")]
    cells = [(label, [fmt(s) for s in runs]) for label, fmt in rows]
    w0 = max(len(label) for label, _ in cells)
    w = max(len(c) for _, cs in cells for c in cs)
    return [f"  {label:{w0}s}" + "".join(f"  {c:>{w}s}" for c in cs) for label, cs in cells]


def main() -> int:
    sim = os.environ.get("SIM", "icarus").strip().lower() or "icarus"
    images = int(os.environ.get("IMAGES", "100"))
    mode = os.environ.get("MODE", "").strip().lower()
    ea = int(os.environ.get("EA", str(golden.ACT_EXP_W)))
    pes = int(os.environ.get("PES", "4"))
    dataset = os.environ.get("DATASET", "digits")
    if "WEIGHTS" in os.environ:
        print("error: WEIGHTS= was replaced by MODE=linlin (k-means weights) | linlog (log "
              "weights) | loglog (log weights and activations)", file=sys.stderr)
        return 2
    if mode and mode not in MODES:
        print(f"error: MODE={mode!r}: expected one of {', '.join(MODES)} (or unset for all)",
              file=sys.stderr)
        return 2
    if ea not in golden.ACT_EXP_WIDTHS:
        print(f"error: EA={ea}: log activations have 3..5 exponent bits", file=sys.stderr)
        return 2
    t_start = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    runs = [run_mode(md, sim, images, ea, pes, dataset) for md in ([mode] if mode else MODES)]
    mism = sum(s["rtl_golden_mismatches"] for s in runs)
    s = {"dataset": dataset, "simulator": sim, "images": runs[0]["images"], "n_pes": pes,
         "rtl_golden_mismatches": mism, "modes": {r["mode"]: r for r in runs},
         "seconds_total": round(time.time() - t_start, 1)}
    (OUT / "summary.json").write_text(json.dumps(s, indent=2) + "\n")

    print(f"\nLeNet-300-100 on {dataset}, first {s['images']} test images, eie_top with {pes} "
          f"PEs on {sim}:")
    print("\n".join(table(runs)))
    print(f"  total time {s['seconds_total']:.0f} s; summary: {rel(OUT / 'summary.json')}")
    if tbsim.waves_enabled():
        print(f"  waves: {', '.join(r['build_dir'] for r in runs)} (make waves opens the newest)")
    return 0 if mism == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
