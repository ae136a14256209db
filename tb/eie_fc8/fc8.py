"""Host side of the AlexNet FC8 runs (regression test and benchmarks): the real EIE layer
(models.fc8) converted to the engine's fixed point, exported as memory images for the backdoor
load, the golden outputs, and the build parameters of the 64-PE engine.

Fixed point (docs/FORMATS.md):
* activations: 16-bit, ``FRAC_IN = 11`` fractional bits (the inputs reach 10.56, every non-zero
  input stays non-zero); the bias column reads ``bias_act = 1 << FRAC_IN`` (1.0);
* weights: linear codebook (the engine's MUL = 0, 16x16 multiply), ``FRAC_W = 19`` fractional bits
  (the largest codebook magnitude is 0.0616: 32,313 after scaling);
* output: the smallest shift that keeps every output in 16 bits, no ReLU (FC8 gives logits).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models import balance
from models import csc as mcsc
from models import fc8 as mfc8
from models import fixedpoint as fp
from models import engine_map as em
from models import golden, memimage

REPO = Path(__file__).resolve().parents[2]
FRAC_IN = 11
FRAC_W = 19
N_PE = 64
ASSIGNMENTS = ("interleaved", "balanced")


def params(qdepth: int = 8) -> dict[str, int]:
    """eie_top parameters of the FC8 engine: 64 PEs, 64 input slots and 16 rows per PE."""
    return {"N_PE": N_PE, "QDEPTH": int(qdepth), "MUL": 0, "ACT_DEPTH": 64, "SPM_DEPTH": 4096,
            "PTR_DEPTH": 2049, "MAX_LAYERS": 1}


def available() -> tuple[bool, str]:
    d = mfc8.default_dir()
    if not (d / "act.dat").is_file():
        return False, f"EIE AlexNet FC8 data not found at {d} (set {mfc8.ENV})"
    return True, ""


@dataclass
class Case:
    """One FC8 run: the quantized layer (with its assignment), the input and the golden answer."""

    name: str
    layer: golden.QLayer
    x_q: np.ndarray             # 4096 int16 inputs (slot order = input order)
    x_cols: np.ndarray          # 4097 inputs with the bias column
    want_slots: np.ndarray      # golden outputs in slot order (what the engine streams)
    want_rows: np.ndarray       # golden outputs in row order
    y_float: np.ndarray         # float64 reference of the same layer (float weights and inputs)
    frac_out: int


def quantize_codebook(cb: np.ndarray) -> np.ndarray:
    q = np.asarray(fp.saturate(np.round(np.asarray(cb, np.float64) * (1 << FRAC_W)), 16),
                   dtype=np.int64)
    q[0] = 0
    return q


def quantize_input(act: np.ndarray) -> np.ndarray:
    x = np.asarray(act, dtype=np.float64) * (1 << FRAC_IN)
    q = np.asarray(fp.saturate(np.sign(x) * np.floor(np.abs(x) + 0.5), 16), dtype=np.int64)
    lost = np.count_nonzero((np.asarray(act) != 0) & (q == 0))
    if lost:
        raise ValueError(f"{lost} non-zero inputs round to 0 with {FRAC_IN} fractional bits")
    return q


def float_reference(data: mfc8.FC8) -> np.ndarray:
    """The layer in float64 with the float codebook and float inputs (bias input 1.0)."""
    codes = mcsc.decode(data.layer)
    w = np.asarray(data.codebook, np.float64)[codes]
    return w @ np.concatenate([np.asarray(data.act, np.float64), [1.0]])


def build_case(assignment: str = "interleaved", data: mfc8.FC8 | None = None) -> Case:
    """The FC8 case with the paper's interleaved rows or the balanced assignment
    (models.balance, balanced for this input)."""
    data = data or mfc8.load()
    x_q = quantize_input(data.act)
    bias_act = 1 << FRAC_IN
    x_cols = np.concatenate([x_q, [bias_act]])
    if assignment == "interleaved":
        lay = data.layer
    elif assignment == "balanced":
        codes = mcsc.decode(data.layer)
        lay = balance.encode_balanced(codes, N_PE, x_cols)
    else:
        raise ValueError(f"assignment must be one of {ASSIGNMENTS}, got {assignment!r}")
    cb = quantize_codebook(data.codebook)
    acc, _ = golden.layer_forward(lay, cb, x_cols, 0, False)
    shift = max(0, int(np.abs(acc).max()).bit_length() - 15)
    q = golden.QLayer(csc=lay, codebook=cb, shift=shift, relu=False, has_bias=True,
                      bias_act=bias_act, n_in=mfc8.N_IN, n_slots_in=mfc8.N_IN, mode="linear",
                      frac_in=FRAC_IN, frac_w=FRAC_W, name=f"fc8-{assignment}")
    out = golden.network_forward([q], x_q)[-1]
    return Case(assignment, q, x_q, x_cols, out["y_slots"][0], out["y"][0],
                float_reference(data), FRAC_IN + FRAC_W - shift)


def export(case: Case, out_dir: Path) -> Path:
    """Memory images + manifest (models.memimage; padded copies for the RTL in ``hw/``) and the
    run's inputs for the cocotb module: ``case.json`` (descriptor words, models.engine_map),
    ``x.npy``, ``want_slots.npy``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    memimage.write_images(out_dir, [case.layer])
    memimage.pad_images(out_dir, params(), out_dir / "hw")
    desc = em.build_image([case.layer]).desc
    np.save(out_dir / "x.npy", case.x_q)
    np.save(out_dir / "want_slots.npy", case.want_slots)
    (out_dir / "case.json").write_text(json.dumps({"name": case.name, "desc": desc}))
    return out_dir


def case_env(img_dir: Path, result: Path) -> dict[str, str]:
    return {"FC8_IMG_DIR": str(Path(img_dir).resolve()), "FC8_RESULT": str(Path(result).resolve())}


def plusargs(img_dir: Path) -> list[str]:
    """The backdoor: the images padded to the build's memory depths (``hw`` below export's
    folder)."""
    return [f"+EIE_INIT_DIR={(Path(img_dir) / 'hw').resolve()}"]


def compare(case: Case, got_slots: list[int]) -> dict:
    """Engine outputs (slot order) against golden and against float."""
    got = np.asarray(got_slots, dtype=np.int64)
    mism = int(np.count_nonzero(got != case.want_slots)) if len(got) == len(case.want_slots) \
        else len(case.want_slots)
    rows = golden.from_slots(got, case.layer.csc) if len(got) == len(case.want_slots) \
        else np.zeros(case.layer.n_out, dtype=np.int64)
    y = rows / float(1 << case.frac_out)
    err = y - case.y_float
    top5 = lambda v: set(np.argsort(-v)[:5].tolist())
    return {
        "mismatches_vs_golden": mism,
        "outputs": int(len(got)),
        "frac_out": case.frac_out,
        "float_max_abs_err": float(np.abs(err).max()),
        "float_rms_err": float(np.sqrt(np.mean(err ** 2))),
        "float_range": [float(case.y_float.min()), float(case.y_float.max())],
        "float_rel_rms_err": float(np.sqrt(np.mean(err ** 2)) / np.sqrt(np.mean(case.y_float ** 2))),
        "top1_equal": bool(np.argmax(y) == np.argmax(case.y_float)),
        "top5_overlap": len(top5(y) & top5(case.y_float)),
        "y_dequant": y,
    }


def bench_setup(out: Path) -> bool:
    """Start of a benchmark script on the FC8 layer: False (with the reason on stderr) when the
    data is absent, else True with the output folder ``out`` created."""
    import sys
    ok, why = available()
    if not ok:
        print(f"skip: {why}", file=sys.stderr)
        return False
    Path(out).mkdir(parents=True, exist_ok=True)
    return True


def build_dir() -> Path:
    return Path(os.environ.get("FC8_BUILD", REPO / "build" / "fc8"))


HARNESS_V = Path(__file__).resolve().parent / "eie_fc8_tb.v"


def run_rtl(sim: str, case: Case, qdepth: int = 8, tag: str | None = None,
            testcase: str = "fc8_run_player", module: str = "tb.eie_fc8.cocotb_fc8",
            monitors: bool = True) -> dict:
    """Export ``case`` under build/fc8/<tag>, run cocotb test ``testcase`` of ``module`` on
    ``sim`` through tb.sim.run (the 64-PE engine at queue depth ``qdepth`` in the FC8 harness,
    eie_fc8_tb.v) and return its result (outputs, counters, timing), plus ``total_wall_s``
    measured here. ``monitors``: the stream protocol and X monitors on the engine's ports
    (tb.eie_lib.protocol; Python per stream beat, so the speed benchmarks leave them off)."""
    import time
    from tb import sim as tbsim
    from tb.eie_lib import all_sources
    tag = tag or f"{case.name}"
    img = export(case, build_dir() / tag)
    result = build_dir() / f"{tag}-{sim}-q{qdepth}.json"
    result.unlink(missing_ok=True)
    t0 = time.perf_counter()
    failure = None
    try:
        tbsim.run(sim, "eie_fc8_tb", module, [*all_sources(), HARNESS_V], params(qdepth),
                  extra_env={**case_env(img, result), "FC8_MONITORS": "1" if monitors else "0"},
                  testcase=testcase, plusargs=plusargs(img))
    except AssertionError as e:
        if not result.exists():
            raise
        failure = str(e)
    wall = time.perf_counter() - t0
    res = json.loads(result.read_text())
    res["total_wall_s"] = wall
    res["failure"] = failure
    return res
