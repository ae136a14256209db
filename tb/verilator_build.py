"""How tb/sim.py builds a Verilator model for cocotb: three flavours, each in its own folder.

* ``lean``      (the default) only the signals some test touches are visible to VPI
  (tb/vpi_public.vlt; the top-level ports always are), X resolved at compile time
  (``--x-assign fast --x-initial fast``), Verilator ``-O3``, ``OPT_FAST=-O2`` C++.
* ``debug``     every signal public and writable (``--public-flat-rw``), X randomisable
  (``--x-assign unique --x-initial unique``), Verilator's default optimisation. Chosen by
  ``WAVES=1`` unless SIM_BUILD says otherwise; X values are then zero, as in the lean build, so
  that a failing case re-run with waves behaves as it failed. ``SIM_BUILD=debug`` randomises them
  (``+verilator+rand+reset+2`` at run time, seeded from SEED).
* ``coverage``  the lean build plus line, branch and toggle coverage points
  (``--coverage-line --coverage-toggle``; Verilator counts if/else and case arms as points of
  type ``branch``, other statements as ``line``); each run writes ``coverage.dat`` in its
  case folder (scripts/coverage.py merges them).

``SIM_BUILD=lean|debug|coverage`` picks a flavour; ``WAVES=1`` adds FST tracing to any of them.
ccache (scripts/venv-run sets OBJCACHE) serves every flavour. The Icarus builds do not change.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from cocotb_tools.runner import Verilator

FLAVOURS = ("lean", "debug", "coverage")
VLT = Path(__file__).resolve().parent / "vpi_public.vlt"

# Statements per generated C++ function (every flavour). Verilator inlines the modules of a lean
# build into functions of 10,000+ lines, which GCC compiles in superlinear time: the 64-PE
# engine took 170 s of CPU at -O2 (144 s at -Os); split at 4,000 statements it takes 40 s and
# runs the FC8 layer as fast; at 1,000, 24 s but 40 % slower.
SPLIT_CFUNCS = 4000


def flavour(waves: bool) -> str:
    """The flavour named by SIM_BUILD; unset: ``debug`` with waves, else ``lean``."""
    name = os.environ.get("SIM_BUILD", "").strip().lower()
    if not name:
        return "debug" if waves else "lean"
    if name not in FLAVOURS:
        raise ValueError(f"SIM_BUILD={name!r}: expected one of {', '.join(FLAVOURS)}")
    return name


class FlavouredVerilator(Verilator):
    """cocotb_tools' Verilator runner, which always passes ``--public-flat-rw``, without it
    unless ``public_all``; ``make_vars`` go to the make step (e.g. ``OPT_FAST=-O2``)."""

    def __init__(self, public_all: bool, make_vars: list[str]) -> None:
        super().__init__()
        self.public_all, self.make_vars = public_all, make_vars

    def _build_command(self):
        verilate, make = super()._build_command()
        if not self.public_all:
            verilate = [a for a in verilate if a != "--public-flat-rw"]
        return [verilate, make + self.make_vars]


def runner(name: str) -> FlavouredVerilator:
    debug = name == "debug"
    return FlavouredVerilator(public_all=debug, make_vars=[] if debug else ["OPT_FAST=-O2"])


def build_args(name: str, waves: bool) -> list[str]:
    """Verilator options of flavour ``name`` (after the runner's own)."""
    args = ["-Wno-fatal", "--output-split-cfuncs", str(SPLIT_CFUNCS)]
    if name == "debug":
        args += ["--x-assign", "unique", "--x-initial", "unique"]
    else:
        args += ["-O3", "--x-assign", "fast", "--x-initial", "fast"]
    if name == "coverage":
        args += ["--coverage-line", "--coverage-toggle"]
    if waves:
        args += ["--trace-fst", "--trace-structs"]
    return args


def sources(name: str, toplevel: str, build_dir: Path) -> list[Path]:
    """Extra build inputs, except for debug where everything is public: tb/vpi_public.vlt (the
    internal signals the tests touch) and a control file in ``build_dir`` that makes the
    ports of ``toplevel`` public (a build without --public-flat-rw shows cocotb none)."""
    if name == "debug":
        return []
    ports = Path(build_dir) / "top_ports.vlt"
    text = f'`verilator_config\npublic_flat_rw -module "{toplevel}" -port "*"\n'
    if not ports.exists() or ports.read_text() != text:   # unchanged: no rebuild
        ports.parent.mkdir(parents=True, exist_ok=True)
        ports.write_text(text)
    return [VLT, ports]


def run_options(name: str, seed: str | None) -> tuple[list[str], str | None]:
    """Run-time plusargs and the seed of the run: the debug build chosen by SIM_BUILD (not only
    by WAVES=1) randomises every X (initial values and X assignments) from the run's seed, so
    one seed (SEED, else a random one that cocotb logs) reproduces both the stimulus and the X
    values."""
    if name != "debug" or os.environ.get("SIM_BUILD", "").strip().lower() != "debug":
        return [], seed
    seed = seed or str(random.SystemRandom().randrange(1, 1 << 31))
    return ["+verilator+rand+reset+2", f"+verilator+seed+{seed}"], seed
