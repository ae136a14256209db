"""`make sim` for now: real digit images through the shift-multiplier MAC on the RTL.

    SIM=icarus|verilator IMAGES=100 python scripts/demo_mac.py
Prints one table and writes build/sim/mac_demo.json.
"""

import json
import os
import sys

from tb import sim as tbsim

PARAMS = {"MUL": 1, "ACT_W": 16, "EXP_W": 3, "ACC_W": 32, "OUT_W": 16, "SHIFT_W": 5}


def main() -> int:
    sim = os.environ.get("SIM", "icarus")
    out = tbsim.BUILD / "sim" / "mac_demo.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    tbsim.run(sim, "mac", "tb.mac.demo_mac",
              [tbsim.RTL / f for f in ("mac.v", "mul_lin_log.v", "mul_log_log.v", "mul_lin.v")],
              PARAMS, extra_env={"DEMO_OUT": str(out)})
    s = json.loads(out.read_text())
    print(f"\nLinear classifier on {s['images']} digit test images, weights {s['weight_format']},"
          f" {sim}:")
    rows = [("accuracy, float weights", f"{s['accuracy_float']:.3f}"),
            ("accuracy, power-of-two weights (golden)", f"{s['accuracy_golden']:.3f}"),
            ("accuracy, power-of-two weights (RTL)", f"{s['accuracy_rtl']:.3f}"),
            ("RTL vs golden mismatches", str(s["rtl_golden_mismatches"])),
            ("MAC cycles simulated", str(s["mac_cycles"]))]
    for k, v in rows:
        print(f"  {k:42s} {v:>8s}")
    print(f"  summary: {out.relative_to(tbsim.REPO)}")
    return 0 if s["rtl_golden_mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
