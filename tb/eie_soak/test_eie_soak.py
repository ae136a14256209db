"""The regression's slice of the soak (scripts/soak.py, `make soak`): 40 networks over two small
builds (4 PEs linear, 3 PEs log x log), clean runs, bad configurations and resets at raised
rates, on each simulator; every output exact, every expected error flagged, no hang, no counter
or protocol failure."""

from __future__ import annotations

import importlib.util
import json
import sys

from tb import sim as tbsim

SLICE = ["--n", "40", "--seed", "3", "--builds", "n4-q3-lin,n3-q2-loglog", "--bad-rate", "0.25",
         "--reset-rate", "0.1"]


def _soak():
    spec = importlib.util.spec_from_file_location("soak_runner", tbsim.REPO / "scripts" / "soak.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_eie_soak(sim, tmp_path):
    status = _soak().main(SLICE + ["--sim", sim, "--out", str(tmp_path)])
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["networks"] == 40 and all(s["by_kind"].values()), s["by_kind"]
    assert s["outputs_compared"] > 0 and s["errors_flagged"] == s["expected_errors"]
    assert status == 0 and not s["failing"], json.dumps(s["failing"], indent=1)
