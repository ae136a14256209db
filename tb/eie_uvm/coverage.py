"""Functional coverage of the engine runs (cocotb-coverage CoverPoints under ``eie``).

Sampled once per build (``eie.build.*``: PEs, queue depth, multiplier) and once per run
(``eie.run.*``). :func:`merge` adds up the per-build YAML exports (run by the pytest entry) so
bins that only another build can reach (the other multiplier, 64 PEs, queue depth 1) count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from cocotb_coverage.coverage import CoverPoint, coverage_db

from models import golden
from tb.eie_lib.model import saturation

W_DENS = ["<=5%", "5-25%", "25-75%", "75-<100%", "100%"]
A_DENS = ["0%", "<=25%", "25-75%", "75-<100%", "100%"]
SIZES = ["1", "2-64", "65-1023", ">=1024"]
PES = ["1", "2-4", "5-16", "17-64"]
QDEPTHS = ["1", "2-4", "5-8", "9-16"]
YESNO = [True, False]
ERRORS = ["none", "1 ptr range", "2 ptr order", "3 size", "4 code", "5 row", "6 desc", "7 stream"]
KINDS = ["real", "random", "zero-input", "zero-columns", "empty-PE", "dense", "padding",
         "saturation", "bypass", "errors", "reset"]


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
@CoverPoint("eie.build.multiplier", xf=lambda hw: ["linear", "log"][hw["MUL"]],
            bins=["linear", "log"])
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
    hi, lo = saturation(it.layers, rec.x) if it.expect_error is None else (0, 0)
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
            bins=[("linear", True), ("linear", False), ("log", True), ("log", False)])
@CoverPoint("eie.run.multiplier_x_saturation", xf=lambda f: (f["mul"], f["saturation"]),
            bins=[("linear", True), ("linear", False), ("log", True), ("log", False)])
def _sample_cross(f):
    pass


def sample_run(hw, rec, res) -> None:
    f = features(hw, rec, res)
    _sample_all(f)
    if not f["reset"] and not rec.item.expect_error:
        _sample_clean(f)
        _sample_cross({**f, "mul": ["linear", "log"][hw["MUL"]]})


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
