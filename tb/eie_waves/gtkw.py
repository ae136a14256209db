"""The committed GTKWave save file ``tb/eie.gtkw`` and its adaptation to a given dump.

The save file names signals as GTKWave shows Icarus's dump of the tb/eie_waves build: from the
toplevel ``eie_top``, with bit ranges (ACT_DEPTH 16, ...). A dump can differ in the scopes above
``eie_top`` (Verilator also dumps the ports under ``$rootio``, older versions everything under
``TOP``) and in the widths that depend on the build's parameters (``make sim`` builds deeper
memories); :func:`find` finds each save-file signal in a dump, :func:`adapt` rewrites the save
file for one dump (scripts/waves.py does it before opening GTKWave).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from tb.eie_waves import fst

REPO = Path(__file__).resolve().parents[2]
SAVE_FILE = REPO / "tb" / "eie.gtkw"
TOP = "eie_top"


def _is_signal(line: str) -> bool:
    s = line.strip()
    return bool(s) and s[0] not in "[@-*#"


def signals(path: str | Path) -> list[str]:
    """The signal lines of a save file, in order."""
    return [l.strip() for l in Path(path).read_text().splitlines() if _is_signal(l)]


def base_name(name: str) -> str:
    """A signal name without a trailing bit range: ``a.b[15:0]`` -> ``a.b``."""
    if name.endswith("]") and "[" in name:
        head, rng = name.rsplit("[", 1)
        if ":" in rng:
            return head
    return name


def _below_top(name: str) -> str:
    """The path from ``eie_top`` down (the whole name when it has no ``eie_top`` scope)."""
    parts = name.split(".")
    return ".".join(parts[parts.index(TOP):]) if TOP in parts else name


def gtkwave_name(name: str, width: int) -> str:
    """GTKWave's name of a dump variable (pywellen's name, width): a vector gets its bit range,
    ``[width-1:0]`` as every vector of rtl/ is declared (pywellen does not give the range)."""
    return f"{name}[{width - 1}:0]" if width > 1 else name


def find(wanted: list[str], have: Mapping[str, int]) -> tuple[list[str | None], list[str]]:
    """Each save-file signal's variable in a dump whose variables are ``have`` (pywellen name ->
    width): the same path below eie_top, under the dump's own scopes (the shortest name when
    several have it; the same name outside eie_top), whatever its width; and the save-file
    signals that have none."""
    by_path: dict[str, list[str]] = {}
    for h in have:
        by_path.setdefault(_below_top(h), []).append(h)
    found, missing = [], []
    for w in wanted:
        cands = sorted(by_path.get(_below_top(base_name(w)), []), key=lambda c: (len(c), c))
        found.append(cands[0] if cands else None)
        if not cands:
            missing.append(w)
    return found, missing


def adapt(save: str | Path, dump: str | Path, out: str | Path) -> tuple[Path, list[str]]:
    """Write ``out``: the save file with its signals named as GTKWave names them in ``dump`` and
    a ``[dumpfile]`` line naming it (the generated file is not committed, so the absolute path
    is fine there). Signals missing from the dump are dropped (GTKWave would warn); returns
    ``out`` and those signals."""
    have = fst.signals(fst.open_dump(dump))
    lines = Path(save).read_text().splitlines()
    sigs = [l.strip() for l in lines if _is_signal(l)]
    found, missing = find(sigs, have)
    rename = {s: gtkwave_name(f, have[f]) for s, f in zip(sigs, found) if f is not None}
    res = [f'[dumpfile] "{Path(dump).resolve()}"']
    for l in lines:
        if l.startswith("[dumpfile]") or l.startswith("[savefile]"):
            continue
        if _is_signal(l):
            if l.strip() not in rename:
                continue
            l = rename[l.strip()]
        res.append(l)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(res) + "\n")
    return out, missing
