"""`make waves`: open the newest FST dump under build/ in GTKWave with the committed save file.

    python scripts/waves.py [dump.fst]

The committed save file tb/eie.gtkw names eie_top's signals as Icarus dumps them; it is rewritten
for the chosen dump (its own scopes and bit ranges: Verilator, other parameters) into
build/waves/<dump>.gtkw (tb/eie_waves/gtkw.py). With a display and gtkwave installed it opens
GTKWave; otherwise it prints the command to run (gtkwave: scripts/bootstrap.sh gtkwave).
Dumps come from WAVES=1: `WAVES=1 make sim`, `WAVES=1 make test PYTEST_ARGS="-k eie_top"`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tb.eie_waves import fst, gtkw  # noqa: E402

BUILD = REPO / "build"


def newest_dump() -> Path | None:
    dumps = [p for p in BUILD.rglob("*.fst") if p.is_file()]
    return max(dumps, key=lambda p: p.stat().st_mtime) if dumps else None


def main(argv: list[str]) -> int:
    dump = Path(argv[0]).resolve() if argv else newest_dump()
    if dump is None:
        print("no FST dump under build/: record one with WAVES=1, e.g.\n"
              "  WAVES=1 IMAGES=2 make sim\n"
              "  WAVES=1 SIM=icarus make test PYTEST_ARGS=\"-k 'eie_top and N_PE4'\"")
        return 1
    rel = dump.relative_to(REPO) if dump.is_relative_to(REPO) else dump
    names = fst.signals(fst.open_dump(dump))
    if any(gtkw.TOP in n.split(".") for n in names):
        tag = dump.parent.name + "-" + dump.stem
        save, missing = gtkw.adapt(gtkw.SAVE_FILE, dump, BUILD / "waves" / f"{tag}.gtkw")
        print(f"dump: {rel} ({len(names)} signals); save file: "
              f"{save.relative_to(REPO)} (tb/eie.gtkw adapted to this dump)")
        if missing:
            print(f"not in this dump, left out: {', '.join(missing)}")
    else:
        print(f"dump: {rel} has no eie_top: opening it without the save file")
        save = None
    cmd = ["gtkwave", str(dump)] + ([str(save)] if save else [])
    have_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if shutil.which("gtkwave") and have_display:
        return subprocess.call(cmd)
    why = "no display" if shutil.which("gtkwave") else \
        "gtkwave is not installed (scripts/bootstrap.sh gtkwave installs it)"
    shown = " ".join(str(Path(c).relative_to(REPO)) if c.startswith(str(REPO)) else c
                     for c in cmd)
    print(f"{why}; to look at it, on a machine with a display (from the repository root):\n"
          f"  {shown}\n"
          f"or copy {rel} and tb/eie.gtkw anywhere and run: gtkwave {dump.name} eie.gtkw")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
