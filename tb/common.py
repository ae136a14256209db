"""Helpers shared by the cocotb tests (imported inside the simulator)."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import cocotb
import numpy as np
from cocotb.triggers import Timer


def params(defaults: Mapping[str, int]) -> dict[str, Any]:
    """The HDL parameters of this build (``TB_PARAMS``, set by tb.sim.run) over ``defaults``."""
    return {**defaults, **json.loads(os.environ.get("TB_PARAMS", "{}"))}


# cocotb.RANDOM_SEED is the run's seed (COCOTB_RANDOM_SEED, which tb.sim sets from SEED) while
# the test modules are imported, and a per-test seed derived from it and the test's name while
# a test runs. Reruns take the run's seed. (None when imported outside a simulator, by pytest.)
RUN_SEED = getattr(cocotb, "RANDOM_SEED", None)


def rng(dut) -> np.random.Generator:
    """A numpy generator seeded from this test's cocotb seed; logs how to rerun the test."""
    seed = cocotb.RANDOM_SEED
    dut._log.info("random seed %d (rerun with SEED=%d)", seed, RUN_SEED)
    return np.random.default_rng(seed)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


async def check_comb(dut, inputs: Mapping[str, np.ndarray], output: str,
                     expected: np.ndarray, what: str) -> None:
    """Drive every vector of ``inputs`` into a combinational ``dut``, read ``output`` (signed)
    after 1 ns and compare with ``expected``; fails listing the first mismatches."""
    handles = [(getattr(dut, name), [int(v) for v in values]) for name, values in inputs.items()]
    out = getattr(dut, output)
    exp = [int(v) for v in expected]
    bad = []
    for i, want in enumerate(exp):
        for handle, values in handles:
            handle.value = values[i]
        await Timer(1, unit="ns")
        got = out.value.to_signed()
        if got != want:
            bad.append(", ".join(f"{n}={int(v[i])}" for n, v in inputs.items())
                       + f": {output}={got}, golden {want}")
            if len(bad) >= 10:
                break
    assert not bad, f"{what}: mismatches\n  " + "\n  ".join(bad)
    dut._log.info("%s: %d vectors match the golden model", what, len(exp))


EXHAUSTIVE_LIMIT = 1 << 17  # operand tuples; above this a test draws random ones


def cross(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every combination of the given per-operand values, as one array per operand."""
    names = list(values)
    grids = np.meshgrid(*[np.asarray(list(values[n]), dtype=np.int64) for n in names],
                        indexing="ij")
    return {n: g.ravel() for n, g in zip(names, grids)}


def every_or_random(dut, ranges: Mapping[str, tuple[int, int]],
                    zero_flags: tuple[str, ...] = ()) -> tuple[dict[str, np.ndarray], str]:
    """Every operand tuple (inclusive ``ranges``) when there are at most EXHAUSTIVE_LIMIT of
    them, else N_RANDOM (default 100,000) random tuples; ``zero_flags`` are set 5 % of the time
    in random tuples so the non-zero paths get most of them."""
    total = int(np.prod([hi - lo + 1 for lo, hi in ranges.values()], dtype=object))
    if total <= EXHAUSTIVE_LIMIT:
        return cross({n: range(lo, hi + 1) for n, (lo, hi) in ranges.items()}), f"all {total}"
    g, n = rng(dut), env_int("N_RANDOM", 100_000)
    vec = {name: (g.random(n) < 0.05).astype(np.int64) if name in zero_flags
           else g.integers(lo, hi + 1, n) for name, (lo, hi) in ranges.items()}
    return vec, f"{n} random"
