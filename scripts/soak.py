"""`make soak`: N random networks on eie_top (Verilator), deterministic from a seed, sharded.

    [N=10000] [SEED=1] [SHARD=i/n] [ONLY=i,j,...] [SOAK_JOBS=1] python scripts/soak.py
    python scripts/soak.py --merge build/soak/summary-shard*.json

Network i is drawn from (SEED, i) alone (tb/eie_soak/plan.py): its build, shape, densities,
idle cycles and back-pressure, and whether it is a clean run, a bad configuration (error causes
1..7, then the restored clean run) or a reset in mid-run (then the clean run). Each build of
plan.BUILDS runs all its networks in one simulation (tb/eie_soak/cocotb_soak.py); a simulator
that dies is restarted after the network it died in, which counts as a crash.

``SHARD=i/n`` runs networks i, i + n, i + 2n, ... (the nightly workflow
.github/workflows/soak.yml runs n shards on n machines and merges their summaries with
``--merge``). ``ONLY=i,j`` reruns those networks alone. The summary (build/soak/summary*.json and
.md): networks by kind, outputs compared, mismatches, expected errors flagged, hangs, counter
and protocol failures, cycles simulated, wall time and the machine's load, per build, and each
failing network with the command that reruns it. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tb import sim as tbsim  # noqa: E402
from tb.eie_soak import plan  # noqa: E402

DEFAULTS = {"n": 10000, "seed": 1, "bad_rate": 0.1, "reset_rate": 0.05, "hang": 20.0}
COUNTS = ("networks", "outputs_compared", "output_mismatches", "networks_failed",
          "expected_errors", "errors_flagged", "hangs", "counter_failures",
          "protocol_violations", "crashes", "cycles_simulated")


def parse(argv=None) -> argparse.Namespace:
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=int(env("N", DEFAULTS["n"])), help="networks (N)")
    ap.add_argument("--seed", type=int, default=int(env("SEED", DEFAULTS["seed"])), help="SEED")
    ap.add_argument("--shard", default=env("SHARD", "0/1"),
                    help="i/n: networks i, i+n, ... (SHARD)")
    ap.add_argument("--only", default=env("ONLY", ""),
                    help="comma-separated networks to rerun (ONLY)")
    ap.add_argument("--builds", default=env("SOAK_BUILDS", ",".join(plan.BUILDS)),
                    help="the builds networks are spread over (SOAK_BUILDS)")
    ap.add_argument("--bad-rate", type=float,
                    default=float(env("SOAK_BAD_RATE", DEFAULTS["bad_rate"])),
                    help="share of bad-configuration networks (SOAK_BAD_RATE)")
    ap.add_argument("--reset-rate", type=float,
                    default=float(env("SOAK_RESET_RATE", DEFAULTS["reset_rate"])),
                    help="share of networks reset in mid-run (SOAK_RESET_RATE)")
    ap.add_argument("--hang", type=float, default=float(env("SOAK_HANG", DEFAULTS["hang"])),
                    help="hang limit: this many times a run's cycle estimate + 2000 (SOAK_HANG)")
    ap.add_argument("--jobs", type=int, default=int(env("SOAK_JOBS", "1")),
                    help="simulations in parallel (SOAK_JOBS)")
    ap.add_argument("--sim", default=env("SOAK_SIM", "verilator"), choices=tbsim.SIMULATORS)
    ap.add_argument("--out", type=Path, default=Path(env("SOAK_OUT_DIR", tbsim.BUILD / "soak")))
    ap.add_argument("--merge", nargs="+", type=Path, help="join these shard summaries (JSON)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)      # one build's simulation
    ap.add_argument("--indices", type=Path, help=argparse.SUPPRESS)   # (absolute paths)
    ap.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    a.out = a.out.resolve()
    a.builds = [b for b in a.builds.split(",") if b]
    unknown = [b for b in a.builds if b not in plan.BUILDS]
    if unknown:
        ap.error(f"unknown builds {unknown}; known: {', '.join(plan.BUILDS)}")
    try:
        a.shard_i, a.shard_n = (int(v) for v in a.shard.split("/"))
        assert 0 <= a.shard_i < a.shard_n
    except (ValueError, AssertionError):
        ap.error(f"--shard {a.shard!r}: expected i/n with 0 <= i < n")
    a.only = sorted({int(v) for v in a.only.split(",") if v.strip()})
    if any(i < 0 for i in a.only):
        ap.error(f"--only {a.only}: networks are numbered from 0")
    return a


def rerun_command(a: argparse.Namespace, i: int) -> str:
    """The make command that reruns network i alone (every option that shapes it)."""
    cmd = [f"make soak SEED={a.seed} ONLY={i}"]
    if a.builds != list(plan.BUILDS):
        cmd.append(f"SOAK_BUILDS={','.join(a.builds)}")
    if a.bad_rate != DEFAULTS["bad_rate"]:
        cmd.append(f"SOAK_BAD_RATE={a.bad_rate}")
    if a.reset_rate != DEFAULTS["reset_rate"]:
        cmd.append(f"SOAK_RESET_RATE={a.reset_rate}")
    if a.hang != DEFAULTS["hang"]:
        cmd.append(f"SOAK_HANG={a.hang}")
    if a.sim != "verilator":
        cmd.append(f"SOAK_SIM={a.sim}")
    return " ".join(cmd)


# ---- one build's simulation ---------------------------------------------------------------
def worker(a: argparse.Namespace) -> int:
    """Run the networks listed in --indices on build --worker in one simulation."""
    from tb.eie_lib import all_sources
    hw = plan.BUILDS[a.worker][0]
    env = {"SOAK_SEED": str(a.seed), "SOAK_BUILD": a.worker, "SOAK_BUILDS": ",".join(a.builds),
           "SOAK_INDICES": str(a.indices), "SOAK_OUT": str(a.records),
           "SOAK_RATES": f"{a.bad_rate},{a.reset_rate}", "SOAK_HANG": str(a.hang)}
    try:
        tbsim.run(a.sim, "eie_top", "tb.eie_soak.cocotb_soak", all_sources(), hw, extra_env=env)
    except AssertionError as e:
        print(f"soak worker {a.worker}: {e}", file=sys.stderr)
        return 1
    return 0


def records_of(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_build(a: argparse.Namespace, name: str, indices: list[int], folder: Path) -> list[dict]:
    """All networks of one build: the simulation, restarted after a network it ended in; two
    restarts in a row without a network done end the build (every network left is a crash)."""
    records, log = folder / f"{name}.jsonl", folder / f"{name}.log"
    records.unlink(missing_ok=True)
    todo, crashed, stuck = list(indices), [], 0
    with open(log, "w") as lf:
        while todo and stuck < 2:
            idx = folder / f"{name}.indices"
            idx.write_text(",".join(map(str, todo)))
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name,
                   "--indices", str(idx), "--records", str(records), "--seed", str(a.seed),
                   "--builds", ",".join(a.builds), "--bad-rate", str(a.bad_rate),
                   "--reset-rate", str(a.reset_rate), "--hang", str(a.hang), "--sim", a.sim]
            lf.flush()
            subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT, cwd=REPO)
            seen = {r["i"] for r in records_of(records)}
            left = [i for i in todo if i not in seen]
            stuck = stuck + 1 if len(left) == len(todo) else 0
            todo = left
            if todo:       # the simulation ended inside network todo[0]
                crashed.append(todo.pop(0))
    crashed += todo
    out = records_of(records)
    out += [{"i": i, "build": name, "kind": None, "shape": None, "outputs": 0, "mismatches": 0,
             "counter_errors": 0, "hang": False, "protocol": [], "cycles": 0, "wall": 0.0,
             "crash": True, "failures": [f"the simulation ended in or before this network "
                                         f"(log {log})"]}
            for i in crashed]
    return out


def summarize(a: argparse.Namespace, recs: list[dict], wall: float, load: list[float]) -> dict:
    kinds = {k: sum(r["kind"] == k for r in recs) for k in plan.KINDS}
    err = [r for r in recs if r["kind"] == "error"]
    per_build = {}
    for r in recs:
        b = per_build.setdefault(r["build"], {"networks": 0, "cycles": 0, "wall_s": 0.0,
                                              "params": plan.BUILDS[r["build"]][0]})
        b["networks"] += 1
        b["cycles"] += r["cycles"]
        b["wall_s"] = round(b["wall_s"] + r["wall"], 3)
    failing = [{"i": r["i"], "build": r["build"], "kind": r["kind"], "shape": r["shape"],
                "failures": r["failures"][:6], "rerun": rerun_command(a, r["i"])}
               for r in sorted(recs, key=lambda r: r["i"]) if r["failures"]]
    return {
        "seed": a.seed, "n": a.n, "shard": a.shard, "only": a.only or None, "sim": a.sim,
        "builds": a.builds, "bad_rate": a.bad_rate, "reset_rate": a.reset_rate, "hang": a.hang,
        "networks": len(recs), "by_kind": kinds,
        "outputs_compared": sum(r["outputs"] for r in recs),
        "output_mismatches": sum(r["mismatches"] for r in recs),
        "networks_failed": len(failing),
        "expected_errors": len(err),
        "errors_flagged": sum(bool(r.get("error_flagged")) for r in err),
        "hangs": sum(r["hang"] for r in recs),
        "counter_failures": sum(r["counter_errors"] for r in recs),
        "protocol_violations": sum(len(r["protocol"]) for r in recs),
        "crashes": sum(bool(r.get("crash")) for r in recs),
        "cycles_simulated": sum(r["cycles"] for r in recs),
        "wall_s": round(wall, 1), "jobs": a.jobs, "cpus": os.cpu_count(),
        "load_avg_start_end": [round(v, 2) for v in load],
        "per_build": dict(sorted(per_build.items())), "failing": failing,
    }


def markdown(s: dict, title: str) -> str:
    kinds = ", ".join(f"{v:,} {k}" for k, v in s["by_kind"].items())
    rows = [("networks", f"{s['networks']:,} ({kinds})"),
            ("outputs compared", f"{s['outputs_compared']:,}"),
            ("output mismatches", f"{s['output_mismatches']:,}"),
            ("expected errors flagged", f"{s['errors_flagged']:,} of {s['expected_errors']:,}"),
            ("hangs", f"{s['hangs']:,}"), ("counter failures", f"{s['counter_failures']:,}"),
            ("protocol / X violations", f"{s['protocol_violations']:,}"),
            ("simulator crashes", f"{s['crashes']:,}"),
            ("networks failed", f"{s['networks_failed']:,}"),
            ("cycles simulated", f"{s['cycles_simulated']:,}"),
            ("wall time", f"{s['wall_s']:,.0f} s ({s['jobs']} simulation(s) at a time, "
                          f"{s['cpus']} CPUs, load average {s['load_avg_start_end']})")]
    out = [f"# {title}", "",
           f"Seed {s['seed']}, {s['sim']}, bad configurations {s['bad_rate']:.0%}, resets "
           f"{s['reset_rate']:.0%}, hang limit {s['hang']:g}x the cycle estimate + 2000.", "",
           "| | |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows]
    out += ["", "| build | N_PE | QDEPTH | MUL | networks | cycles | sim wall (s) | cycles/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, b in s["per_build"].items():
        p = b["params"]
        mul = f"{p['MUL']}, {plan.MODES[p['MUL']]}" + (f", EA {p['EA']}" if "EA" in p else "")
        out.append(f"| {name} | {p['N_PE']} | {p['QDEPTH']} | {mul} | {b['networks']:,} | "
                   f"{b['cycles']:,} | {b['wall_s']:,.0f} | "
                   f"{b['cycles'] / max(b['wall_s'], 1e-9):,.0f} |")
    if s["failing"]:
        out += ["", f"## Failing networks ({len(s['failing'])})", ""]
        for f in s["failing"][:200]:
            out.append(f"- network {f['i']} ({f['build']}, {f['kind']}, shape {f['shape']}): "
                       f"`{f['rerun']}`")
            out += [f"  - {x}" for x in f["failures"]]
    return "\n".join(out) + "\n"


def merge(paths: list[Path]) -> dict:
    """Join shard summaries: counts and per-build figures add up, failures are listed together,
    the wall time is the longest shard's (they run side by side)."""
    parts = [json.loads(p.read_text()) for p in paths]
    s = {k: parts[0][k] for k in ("seed", "n", "sim", "builds", "bad_rate", "reset_rate", "hang")}
    s["shard"] = ",".join(p["shard"] for p in parts)
    s["only"] = None
    for k in COUNTS:
        s[k] = sum(p[k] for p in parts)
    s["by_kind"] = {k: sum(p["by_kind"][k] for p in parts) for k in plan.KINDS}
    s["wall_s"] = max(p["wall_s"] for p in parts)
    s["jobs"] = max(p["jobs"] for p in parts)
    s["cpus"] = max(p["cpus"] for p in parts)
    s["load_avg_start_end"] = [max(p["load_avg_start_end"][k] for p in parts) for k in (0, 1)]
    s["per_build"] = {}
    for p in parts:
        for name, b in p["per_build"].items():
            m = s["per_build"].setdefault(name, {"networks": 0, "cycles": 0, "wall_s": 0.0,
                                                 "params": b["params"]})
            for k in ("networks", "cycles", "wall_s"):
                m[k] += b[k]
    s["per_build"] = dict(sorted(s["per_build"].items()))
    s["failing"] = sorted((f for p in parts for f in p["failing"]), key=lambda f: f["i"])
    seen = sorted(int(sh.split("/")[0]) for sh in s["shard"].split(","))
    total = int(parts[0]["shard"].split("/")[1])
    s["shards_missing"] = sorted(set(range(total)) - set(seen))
    return s


def write(s: dict, out: Path, stem: str, title: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(s, indent=1) + "\n")
    md = markdown(s, title)
    (out / f"{stem}.md").write_text(md)
    print(md)


def failed(s: dict) -> bool:
    return bool(s["networks_failed"] or s.get("shards_missing"))


def main(argv=None) -> int:
    a = parse(argv)
    if a.worker:
        return worker(a)
    if a.merge:
        s = merge(a.merge)
        write(s, a.out, "summary-merged",
              f"Soak: {s['networks']:,} networks, merged shards {s['shard']}")
        if s["shards_missing"]:
            print(f"shards missing: {s['shards_missing']}", file=sys.stderr)
        return int(failed(s))
    indices = a.only or list(range(a.shard_i, a.n, a.shard_n))
    stem = "summary-only" if a.only else "summary" if a.shard_n == 1 else \
        f"summary-shard{a.shard_i}of{a.shard_n}"
    folder = a.out / "records" / stem
    folder.mkdir(parents=True, exist_ok=True)
    by_build: dict[str, list[int]] = {}
    for i in indices:
        by_build.setdefault(plan.build_of(a.seed, i, a.builds), []).append(i)
    load0, t0 = os.getloadavg()[0], time.time()
    print(f"soak: {len(indices):,} networks over {len(by_build)} builds on {a.sim}, "
          f"{a.jobs} at a time (records and logs in {folder})", flush=True)

    def one(item):
        name, idx = item
        t = time.time()
        recs = run_build(a, name, idx, folder)
        bad = sum(bool(r["failures"]) for r in recs)
        print(f"  {name}: {len(recs):,} networks, {bad} failed, {time.time() - t:.0f} s",
              flush=True)
        return recs

    # the builds with the most networks first, so that parallel jobs end together
    items = sorted(by_build.items(), key=lambda kv: -len(kv[1]))
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        recs = [r for part in ex.map(one, items) for r in part]
    s = summarize(a, recs, time.time() - t0, [load0, os.getloadavg()[0]])
    what = f"networks {a.only}" if a.only else f"{a.n:,} networks" + (
        f", shard {a.shard}" if a.shard_n > 1 else "")
    write(s, a.out, stem, f"Soak: {what}")
    return int(failed(s))


if __name__ == "__main__":
    sys.exit(main())
