"""The SymbiYosys proofs (scripts/formal.py, formal/*.sby) under pytest: every task of every
unit's proof passes, and the first mutant of each unit in formal/mutants.toml makes its proof
fail (so each proof can fail; `make formal` runs every mutant)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("formal_runner", REPO / "scripts" / "formal.py")
formal = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = formal   # (dataclasses look their module up there)
_spec.loader.exec_module(formal)

UNITS = sorted(p.stem for p in formal.FORMAL.glob("*.sby"))
_first: dict[str, dict] = {}
for _m in formal.load_mutants():
    _first.setdefault(_m["proof"].split(":")[0], _m)
FIRST_MUTANTS = list(_first.values())


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    try:
        return formal.tool_env()
    except SystemExit as e:
        pytest.fail(str(e))


def report(rows: list[dict]) -> str:
    return "\n".join(f"{r['unit']}:{r['task']} {r['result']} failed={r['failed']} "
                     f"trace={r['trace']} log={r.get('log_tail', '')}" for r in rows)


@pytest.mark.parametrize("unit", UNITS)
def test_proof(unit, env):
    rows = [formal.run(p, env, timeout=900) for p in formal.discover(env, [unit])]
    assert all(r["result"] == "PASS" for r in rows), report(rows)


@pytest.mark.parametrize("mutant", FIRST_MUTANTS, ids=[m["name"] for m in FIRST_MUTANTS])
def test_mutant_fails_its_proof(mutant, env):
    unit = mutant["proof"].split(":")[0]
    proofs = {p.name: p for p in formal.discover(env, [unit])}
    row = formal.run_mutant(mutant, proofs, env, timeout=900)
    assert row["killed"], f"{mutant['name']} ({mutant['bug']}) survived:\n{report([row])}"


def test_every_unit_has_a_mutant():
    assert {m["proof"].split(":")[0] for m in FIRST_MUTANTS} == set(UNITS)
