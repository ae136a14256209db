"""Area of the EIE engine with Yosys: one PE with the linear 16x16 multiplier and with the
log-domain shift, and the whole engine at N = 4 (both multipliers), in generic cells (memories
kept as inferred memory cells) and in iCE40 cells (LUT4, carry, FF, SB_RAM40_4K). Checks that no
latch is inferred and that every memory maps to block RAM on iCE40.

    python scripts/bench_area.py [--out build/bench] [--only NAME ...] [--yosys EXE]

Reuses scripts/synth_area.py (Design, yosys_stat); writes build/bench/area_engine.{json,md}.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import synth_area as sa  # noqa: E402

EIE = ["eie_lnzd_node.v", "eie_lnzd_tree.v", "eie_ccu.v", "eie_act_queue.v", "eie_ptr_read.v",
       "eie_spmat_read.v", "eie_arith.v", "eie_act_rw.v", "eie_pe.v", "eie_top.v",
       "mul_lin.v", "mul_lin_log.v", "mul_log_log.v", "log_requant.v"]
# one PE as eie_top instantiates it (defaults: 64 slots, 1024 sparse-matrix words, 512 pointer
# words a bank, 20-bit pointers, 4 layers -> 6-bit codebook address)
PE = {"ACT_W": 16, "ACC_W": 48, "COL_W": 16, "QDEPTH": 8, "PTR_W": 20, "PTR_DEPTH": 512,
      "PTR_AW": 10, "SPM_DEPTH": 1024, "SPM_AW": 10, "ACT_DEPTH": 64, "ACT_AW": 6, "CB_AW": 6}
MEM_BITS_PE = 1024 * 64 + 2 * 512 * 20 + 64 * 16 + 64 * 48 + 2 * 64 * 16

DESIGNS = [
    sa.Design("eie_pe MUL=0 (linear 16x16)", "eie_pe", EIE, {**PE, "MUL": 0},
              "one PE, conventional multiplier"),
    sa.Design("eie_pe MUL=1 (log shift)", "eie_pe", EIE, {**PE, "MUL": 1},
              "one PE, shift multiplier"),
    sa.Design("eie_pe MUL=2 (log x log, EA 4)", "eie_pe", EIE, {**PE, "MUL": 2, "EA": 4, "ACT_W": 6},
              "one PE, exponent add; 6-bit packed log activations"),
    sa.Design("eie_top N=4 MUL=0", "eie_top", EIE, {"N_PE": 4, "MUL": 0},
              "engine, 4 PEs, defaults (QDEPTH 8, 64 slots, 1024 spm words)"),
    sa.Design("eie_top N=4 MUL=1", "eie_top", EIE, {"N_PE": 4, "MUL": 1},
              "engine, 4 PEs, log shift"),
    sa.Design("eie_top N=4 MUL=2", "eie_top", EIE, {"N_PE": 4, "MUL": 2, "EA": 4},
              "engine, 4 PEs, log x log (EA 4)"),
]

# generic cells with the inferred memories kept as memory cells (synth's "fine" step would
# explode them into flip-flops); plain abc, as Yosys 0.70 has no abc -fast
sa.FLOWS.setdefault("generic_mem", "synth -top {top} -flatten -run :fine; opt -fast -full; "
                                   "opt -full; techmap; opt -fast; abc; opt -fast")


def measure(designs: list[sa.Design], yosys: str) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in designs:
            gen = sa.yosys_stat(d, "generic_mem", Path(tmp), yosys)
            ice = sa.yosys_stat(d, "ice40", Path(tmp), yosys)
            latches = {k: v for k, v in {**gen, **ice}.items() if "latch" in k.lower()}
            mems = {k: v for k, v in gen.items() if k.startswith("$mem")}
            row = {"design": d.name, "top": d.top, "params": d.params, "note": d.note,
                   "generic_cells": gen["cells"], "generic_memories": sum(mems.values()),
                   "generic_by_type": gen,
                   "ice40_lut4": ice.get("SB_LUT4", 0), "ice40_carry": ice.get("SB_CARRY", 0),
                   "ice40_ff": sum(v for k, v in ice.items() if k.startswith("SB_DFF")),
                   "ice40_ram": ice.get("SB_RAM40_4K", 0), "ice40_by_type": ice,
                   "latches": latches}
            rows.append(row)
            print(f"{d.name:30s} generic {row['generic_cells']:6d} (+{row['generic_memories']} "
                  f"memories)  LUT4 {row['ice40_lut4']:6d}  carry {row['ice40_carry']:5d}  "
                  f"FF {row['ice40_ff']:5d}  RAM40 {row['ice40_ram']:3d}  latches {latches}",
                  flush=True)
    return rows


def markdown(rows: list[dict], version: str) -> str:
    out = [f"Yosys {version}; generic = `synth -flatten` up to memory mapping, then "
           "techmap/abc (inferred memories kept as memory cells); iCE40 = `synth_ice40 -flatten`.",
           "",
           "| design | generic cells | inferred memories | iCE40 LUT4 | iCE40 carry | iCE40 FF "
           "| iCE40 RAM40 (4 kbit) | latches |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    out += [f"| {r['design']} | {r['generic_cells']} | {r['generic_memories']} | "
            f"{r['ice40_lut4']} | {r['ice40_carry']} | {r['ice40_ff']} | {r['ice40_ram']} | "
            f"{sum(r['latches'].values())} |" for r in rows]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    rows, _ = sa.cli(argv, DESIGNS, REPO / "build" / "bench", "area_engine", measure, markdown,
                     {"memory_bits_per_pe": MEM_BITS_PE})
    return 1 if any(r["latches"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
