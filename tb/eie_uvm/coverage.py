"""Functional coverage of the engine runs (cocotb-coverage CoverPoints under ``eie``).

Sampled once per build (``eie.build.*``: PEs, queue depth, multiplier) and once per run
(``eie.run.*``; ``eie.run.loglog_*`` for the log x log multiplier, MUL = 2: exponent sums of
the products, zero flags of the operands, cases of the log conversion, from models.golden via
tb/eie_lib/model.py). :func:`merge` adds up the per-build YAML exports (run by the pytest entry)
so bins that only another build can reach (another multiplier, 64 PEs, queue depth 1) count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from cocotb_coverage.coverage import CoverPoint, coverage_db

from models import golden
from tb.eie_lib import model

W_DENS = ["<=5%", "5-25%", "25-75%", "75-<100%", "100%"]
A_DENS = ["0%", "<=25%", "25-75%", "75-<100%", "100%"]
SIZES = ["1", "2-64", "65-1023", ">=1024"]
PES = ["1", "2-4", "5-16", "17-64"]
QDEPTHS = ["1", "2-4", "5-8", "9-16"]
YESNO = [True, False]
ERRORS = ["none", "1 ptr range", "2 ptr order", "3 size", "4 code", "5 row", "6 desc", "7 stream"]
KINDS = ["real", "random", "zero-input", "zero-columns", "empty-PE", "dense", "padding",
         "saturation", "bypass", "errors", "reset"]
MULS = ["linear", "log", "log x log"]                   # the multiplier of each MUL
PRODUCT_EXPS = ["0-7", "8-15", "16-23", ">=24"]          # activation + weight exponent
ZERO_FLAGS = ["activation", "weight"]
CONVERSIONS = ["saturation +", "saturation -", "underflow", "ReLU zero"]


def _dens(d: float, zero_first: bool) -> str:
    if zero_first and d == 0:
        return "0%"
    if d >= 1.0:
        return "100%"
    if d > 0.75:
        return "75-<100%"
    if d > 0.25:
        return "25-75%"
    return ("<=25%" if zero_first else ("<=5%" if d <= 0.05 else "5-25%"))


def _size(n: int) -> str:
    return "1" if n <= 1 else "2-64" if n <= 64 else "65-1023" if n < 1024 else ">=1024"


def _bucket(n: int, edges, labels) -> str:
    for e, lab in zip(edges, labels):
        if n <= e:
            return lab
    return labels[-1]


@CoverPoint("eie.build.pes", xf=lambda hw: _bucket(hw["N_PE"], (1, 4, 16), PES), bins=PES)
@CoverPoint("eie.build.qdepth", xf=lambda hw: _bucket(hw["QDEPTH"], (1, 4, 8), QDEPTHS),
            bins=QDEPTHS)
@CoverPoint("eie.build.multiplier", xf=lambda hw: MULS[hw["MUL"]], bins=MULS)
def sample_build(hw):
    pass


def features(hw, rec, res) -> dict:
    """What one run exercised."""
    it = rec.item
    f = {"kinds": set(it.tags) & set(KINDS), "reset": rec.index < 0,
         "error": ERRORS[it.expect_error] if it.expect_error else "none"}
    if it.expect_error:
        f["kinds"].add("errors")
    if f["reset"]:
        f["kinds"].add("reset")
        return f
    l0 = it.layers[0]
    w = golden.weights(l0.csc, l0.codebook)[:, : l0.n_slots_in]
    f["w_density"] = float(np.count_nonzero(w) / max(1, w.size))
    f["a_density"] = float(np.count_nonzero(rec.x) / max(1, len(rec.x)))
    f["n_in"], f["n_out"] = l0.n_slots_in, max(l.n_out for l in it.layers)
    c = rec.counters
    f["padding"] = sum(c.get("pad", [0])) > 0
    f["stall"] = c.get("stall", 0) > 0
    f["bypass"] = rec.bypass > 0
    f["backpressure"] = it.ready < 1.0 or it.idle > 0
    hi, lo = model.saturation(it.layers, rec.x) if it.expect_error is None else (0, 0)
    f["saturation"] = hi + lo > 0
    f["layers"] = len(it.layers)
    return f


@CoverPoint("eie.run.kind", xf=lambda f: f["kinds"], rel=lambda s, b: b in s, bins=KINDS,
            inj=False)
@CoverPoint("eie.run.error_cause", xf=lambda f: f["error"], bins=ERRORS)
def _sample_all(f):
    pass


@CoverPoint("eie.run.weight_density", xf=lambda f: _dens(f["w_density"], False), bins=W_DENS)
@CoverPoint("eie.run.act_density", xf=lambda f: _dens(f["a_density"], True), bins=A_DENS)
@CoverPoint("eie.run.n_in", xf=lambda f: _size(f["n_in"]), bins=SIZES)
@CoverPoint("eie.run.n_out", xf=lambda f: _size(f["n_out"]), bins=SIZES)
@CoverPoint("eie.run.layers", xf=lambda f: min(f["layers"], 3), bins=[1, 2, 3],
            bins_labels=["1", "2", "3+"])
@CoverPoint("eie.run.padding", xf=lambda f: f["padding"], bins=YESNO)
@CoverPoint("eie.run.queue_full_stall", xf=lambda f: f["stall"], bins=YESNO)
@CoverPoint("eie.run.bypass_hazard", xf=lambda f: f["bypass"], bins=YESNO)
@CoverPoint("eie.run.saturation", xf=lambda f: f["saturation"], bins=YESNO)
@CoverPoint("eie.run.backpressure_idle", xf=lambda f: f["backpressure"], bins=YESNO)
def _sample_clean(f):
    pass


@CoverPoint("eie.run.multiplier_x_stall", xf=lambda f: (f["mul"], f["stall"]),
            bins=[(m, b) for m in MULS for b in YESNO])
@CoverPoint("eie.run.multiplier_x_saturation", xf=lambda f: (f["mul"], f["saturation"]),
            bins=[(m, b) for m in MULS for b in YESNO])
def _sample_cross(f):
    pass


def loglog_features(rec) -> dict:
    """What one log x log run exercised: the bins hit by the exponent sums of its products,
    the zero flags met by the multiplier and the CCU, the cases of its log conversions."""
    it = rec.item
    prods = model.log_products(it.layers, rec.x)
    sums = {PRODUCT_EXPS[min(int(e) // 8, len(PRODUCT_EXPS) - 1)]
            for e in np.unique(prods["exp_sum"])}
    zeros = {name for name, hit in (("activation", prods["act_zero"].any()),
                                    ("weight", prods["weight_zero"].any())) if hit}
    conv = {name for name, n in model.log_conversions(it.layers, rec.x).items() if n}
    return {"exp_sums": sums, "zero_flags": zeros, "conversions": conv}


@CoverPoint("eie.run.loglog_product_exp", xf=lambda f: f["exp_sums"], rel=lambda s, b: b in s,
            bins=PRODUCT_EXPS, inj=False)
@CoverPoint("eie.run.loglog_zero_flag", xf=lambda f: f["zero_flags"], rel=lambda s, b: b in s,
            bins=ZERO_FLAGS, inj=False)
@CoverPoint("eie.run.loglog_conversion", xf=lambda f: f["conversions"], rel=lambda s, b: b in s,
            bins=CONVERSIONS, inj=False)
def _sample_loglog(f):
    pass


def sample_run(hw, rec, res) -> None:
    f = features(hw, rec, res)
    _sample_all(f)
    if not f["reset"] and not rec.item.expect_error:
        _sample_clean(f)
        _sample_cross({**f, "mul": MULS[hw["MUL"]]})
        if hw["MUL"] == 2:
            _sample_loglog(loglog_features(rec))


def _points() -> dict[str, dict]:
    out = {}
    for name in sorted(coverage_db):
        item = coverage_db[name]
        if hasattr(item, "detailed_coverage") and name.count(".") >= 2:
            out[name] = {str(k): int(v) for k, v in item.detailed_coverage.items()}
    return out


def table(points: dict[str, dict]) -> list[str]:
    lines, hit_total, bins_total = [], 0, 0
    for name, bins in points.items():
        hit = sum(1 for v in bins.values() if v > 0)
        hit_total += hit
        bins_total += len(bins)
        detail = ", ".join(f"{b}:{v}" for b, v in bins.items())
        lines.append(f"  {name:34s} {hit:2d}/{len(bins):2d}  {detail}")
    lines.insert(0, f"functional coverage: {hit_total}/{bins_total} bins hit "
                    f"({100.0 * hit_total / max(1, bins_total):.1f} %)")
    return lines


def report(log) -> None:
    for line in table(_points()):
        log(line)


def export(path: Path) -> None:
    import yaml
    path.write_text(yaml.safe_dump({"points": _points()}, sort_keys=False))


def merge(files: list[Path]) -> dict[str, dict]:
    """Sum of the per-build exports."""
    import yaml
    total: dict[str, dict] = {}
    for f in files:
        for name, bins in (yaml.safe_load(f.read_text()) or {}).get("points", {}).items():
            dst = total.setdefault(name, {})
            for b, v in bins.items():
                dst[b] = dst.get(b, 0) + int(v)
    return dict(sorted(total.items()))  # bins keep the order of the first file
