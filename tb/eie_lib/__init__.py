"""Shared testbench of the EIE engine (tb/eie_*), by role, in the layering of cocotb's
matrix_multiplier example and pyuvm's TinyALU:

* ``stimulus``  random codebooks, layers, networks and activations (numpy, no simulator);
* ``model``     what the engine must produce, from models.golden (values, counters);
* ``clocking``  clock, reset, unit-test start-up, timed waits;
* ``axis``      the two streams: source, ready toggler, result monitor, idle and back-pressure
  schedules;
* ``protocol``  the stream protocol and X monitors of eie_top's outputs;
* ``control``   the start-up of every engine test (clock, reset, monitors), eie_top's load port,
  start pulse, counters, one whole run.

The register and memory map they drive is models/engine_map.py. Below: the RTL sources of the
engine units for the runner.
"""

from __future__ import annotations

from pathlib import Path

from tb.sim import RTL

RTL_UNITS = ("eie_lnzd_node", "eie_lnzd_tree", "eie_ccu", "eie_act_queue", "eie_ptr_read",
             "eie_spmat_read", "eie_arith", "eie_act_rw", "eie_pe", "eie_top")


def sources(*units: str) -> list[Path]:
    """RTL files of the given eie units plus the multipliers and the log output stage."""
    return [RTL / f"{u}.v" for u in units] + [RTL / f"{m}.v" for m in (
        "mul_lin", "mul_lin_log", "mul_log_log", "log_requant")]


def all_sources() -> list[Path]:
    """RTL files of the whole engine (eie_top and every unit under it)."""
    return sources(*RTL_UNITS)
