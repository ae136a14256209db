"""Build and run one cocotb test case through ``cocotb_tools.runner``.

Every parametrised case builds in its own folder, ``build/tests/<toplevel>/<sim>-<params>``, so
cases can run in parallel (``pytest -n auto``). Environment:

* ``SIM``    ``icarus`` or ``verilator``: run only that simulator (default: both).
* ``WAVES=1`` record an FST dump on either simulator (the case gets its own ``-waves`` folder).
* ``SEED``   the random seed of the cocotb run (default: cocotb picks one and logs it).
* ``SIM_BUILD`` the Verilator build flavour, ``lean`` (default), ``debug`` (default with
  ``WAVES=1``) or ``coverage`` (tb/verilator_build.py); Verilator case folders are named
  ``verilator-<flavour>-<params>``.

The HDL parameters of the case reach the cocotb test as JSON in ``TB_PARAMS`` (see tb.common).
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Mapping

from cocotb_tools.runner import get_runner

from tb import verilator_build

REPO = Path(__file__).resolve().parents[1]
RTL = REPO / "rtl"
BUILD = REPO / "build"
SIMULATORS = ("icarus", "verilator")


def simulators() -> list[str]:
    """The simulators selected by ``SIM`` (both when unset)."""
    sim = os.environ.get("SIM", "").strip().lower()
    if not sim:
        return list(SIMULATORS)
    if sim not in SIMULATORS:
        raise ValueError(f"SIM={sim!r}: expected one of {', '.join(SIMULATORS)}")
    return [sim]


def waves_enabled() -> bool:
    return os.environ.get("WAVES", "0") not in ("", "0")


def case_dir(toplevel: str, sim: str, parameters: Mapping[str, object]) -> Path:
    """The build folder of one case: one per toplevel, simulator, parameter set and wave mode."""
    slug = "-".join(f"{k}{v}" for k, v in sorted(parameters.items())) or "default"
    waves = waves_enabled()
    kind = f"{sim}-{verilator_build.flavour(waves)}" if sim == "verilator" else sim
    return BUILD / "tests" / toplevel / f"{kind}-{slug}{'-waves' if waves else ''}"


def _failures(results_xml: Path) -> tuple[int, list[str]]:
    """Number of test cases in a cocotb results file and the names of the failed ones."""
    root = ET.parse(results_xml).getroot()
    cases = list(root.iter("testcase"))
    failed = [c.get("name", "?") for c in cases
              if c.find("failure") is not None or c.find("error") is not None]
    return len(cases), failed


def run(
    sim: str,
    toplevel: str,
    test_module: str,
    sources: list[Path],
    parameters: Mapping[str, object] | None = None,
    extra_env: Mapping[str, str] | None = None,
    testcase: str | None = None,
    plusargs: list[str] | None = None,
) -> Path:
    """Build ``toplevel`` from ``sources`` with ``parameters`` and run the cocotb tests of
    ``test_module`` (a dotted module name) on ``sim``, with simulator ``plusargs`` (for example
    ``+EIE_INIT_DIR=<dir>``). Raises AssertionError naming every failed cocotb test; returns the
    build folder (results.xml, waves)."""
    parameters = dict(parameters or {})
    build_dir = case_dir(toplevel, sim, parameters)
    waves = waves_enabled()
    seed = os.environ.get("SEED")
    plusargs = list(plusargs or [])
    build_args: list[str] = []
    if sim == "verilator":
        flavour = verilator_build.flavour(waves)
        runner = verilator_build.runner(flavour)
        sources = [*verilator_build.sources(flavour, toplevel, build_dir), *sources]
        build_args = verilator_build.build_args(flavour, waves)
        run_plusargs, seed = verilator_build.run_options(flavour, seed)
        plusargs += run_plusargs
    else:
        runner = get_runner(sim)
    runner.build(
        sources=[str(s) for s in sources],
        includes=[str(RTL)],
        hdl_toplevel=toplevel,
        parameters=parameters,
        build_args=build_args,
        build_dir=build_dir,
        waves=waves,
        timescale=("1ns", "1ps"),
    )
    results = build_dir / "results.xml"
    env = {"TB_PARAMS": json.dumps(parameters), **(extra_env or {})}
    try:
        runner.test(
            test_module=test_module,
            hdl_toplevel=toplevel,
            build_dir=build_dir,
            test_dir=build_dir,
            results_xml=str(results),
            waves=waves,
            seed=seed,
            testcase=testcase,
            plusargs=plusargs,
            extra_env=env,
            timescale=("1ns", "1ps"),
        )
    except SystemExit as exc:  # the runner exits on failure under pytest; report it ourselves
        if not results.exists():
            raise AssertionError(f"{toplevel} on {sim}: simulator exited with {exc.code}, "
                                 f"no results (see the log above, build folder {build_dir})")
    total, failed = _failures(results)
    assert total > 0, f"{toplevel} on {sim}: no cocotb test ran (module {test_module})"
    assert not failed, (f"{toplevel} on {sim}: {len(failed)} of {total} cocotb tests failed: "
                        f"{', '.join(failed)} (results: {results})")
    return build_dir
