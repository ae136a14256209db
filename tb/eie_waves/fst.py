"""FST dumps (GTKWave's Fast Signal Trace format) read with pywellen, the Python binding of the
wellen library behind the Surfer viewer: the variables of a dump and their values at clock edges.

pywellen names a variable by its dotted path without a bit range (``eie_top.state``) and gives
its width apart; tb/eie_waves/gtkw.py turns that into GTKWave's names.

    python -m tb.eie_waves.fst <file.fst>     # prints one full variable name a line
"""

from __future__ import annotations

import sys
from pathlib import Path

import pywellen


def open_dump(path: str | Path) -> pywellen.Waveform:
    """The dump at ``path`` (header now, values when first asked for)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such dump")
    try:
        return pywellen.Waveform(str(path))
    except RuntimeError as e:
        raise ValueError(f"{path}: not a readable waveform dump ({e})") from None


def signals(wave: pywellen.Waveform) -> dict[str, int]:
    """Every variable of the dump: full dotted name -> width in bits."""
    return {v.full_name: v.bitwidth for v in wave.all_vars()}


def at_rising_edges(wave: pywellen.Waveform, clk: str, names: list[str]) -> list[tuple]:
    """The values of the variables ``names`` just before each rising edge of ``clk`` (what the
    flip-flops sample), one tuple per edge: ints, or a string of the bits where one is x or z."""
    changes = list(wave[clk].signal)
    edges = [t for (_, was), (t, now) in zip(changes, changes[1:]) if was == 0 and now == 1]
    sigs = [wave[n].signal for n in names]
    return [tuple(s.value_at(t - 1) for s in sigs) for t in edges]


if __name__ == "__main__":
    for n, w in signals(open_dump(sys.argv[1])).items():
        print(n if w == 1 else f"{n} ({w} bits)")
