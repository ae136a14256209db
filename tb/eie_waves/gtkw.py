"""The committed GTKWave save file ``tb/eie.gtkw`` and its adaptation to a given dump.

The save file names signals as Icarus dumps them: from the toplevel ``eie_top``, with the bit
ranges of the build of tb/eie_waves (ACT_DEPTH 16, ...). A dump can differ in the scopes above
``eie_top`` (older Verilator versions dump under ``TOP``) and in the ranges that depend on the
build's parameters (``make sim`` builds deeper memories); :func:`adapt` rewrites the save file for
one dump (scripts/waves.py does it before opening GTKWave), :func:`map_signals` finds each signal.
"""

from __future__ import annotations

from pathlib import Path

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


def map_signals(wanted: list[str], have: dict[str, int] | set[str]) -> tuple[list[str | None], list[str]]:
    """Each save-file name as it is in the dump (same name; else the same path below eie_top
    under the dump's own scopes; else the same path with another bit range), and the misses."""
    have = set(have)
    by_tail: dict[str, list[str]] = {}
    for h in have:
        parts = h.split(".")
        if TOP in parts:
            tail = ".".join(parts[parts.index(TOP):])
            by_tail.setdefault(tail, []).append(h)
            by_tail.setdefault(fst.base_name(tail), []).append(h)
    mapped, missing = [], []
    for w in wanted:
        tail = w[w.index(TOP):] if TOP in w.split(".")[0:2] or w.startswith(TOP) else w
        hit = w if w in have else None
        if hit is None:
            for key in (tail, fst.base_name(tail)):
                cands = sorted(by_tail.get(key, []), key=len)
                if cands:
                    hit = cands[0]
                    break
        mapped.append(hit)
        if hit is None:
            missing.append(w)
    return mapped, missing


def adapt(save: str | Path, dump: str | Path, out: str | Path) -> Path:
    """Write ``out``: the save file with its signals renamed as they are in ``dump`` and a
    ``[dumpfile]`` line naming it (the generated file is not committed, so the absolute path is
    fine there). Signals missing from the dump are dropped (GTKWave would warn)."""
    have = fst.signals(dump)
    lines = Path(save).read_text().splitlines()
    sigs = [l.strip() for l in lines if _is_signal(l)]
    mapped, _ = map_signals(sigs, have)
    rename = dict(zip(sigs, mapped))
    res = [f'[dumpfile] "{Path(dump).resolve()}"']
    for l in lines:
        if l.startswith("[dumpfile]") or l.startswith("[savefile]"):
            continue
        if _is_signal(l):
            new = rename.get(l.strip())
            if new is None:
                continue
            l = new
        res.append(l)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(res) + "\n")
    return out
