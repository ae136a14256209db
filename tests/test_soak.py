"""The simulator-free parts of the soak (tb/eie_soak/plan.py, scripts/soak.py): network i is
the same whatever else runs, the kinds and every error cause occur at the set rates, faults
write back what they change, shards split the networks exactly, summaries merge, and every
failing network gets a command that reruns it alone."""

import collections
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from models import engine_map as em
from tb.eie_soak import plan

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("soak_runner", REPO / "scripts" / "soak.py")
soak = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = soak
_spec.loader.exec_module(soak)

BUILDS = list(plan.BUILDS)


def test_network_from_seed_and_index_alone():
    """Network 17 is drawn the same in any order, next to any other network; another index
    or seed gives another network."""
    a = plan.network(5, 17, BUILDS, 0.3, 0.3)
    plan.network(5, 3, BUILDS, 0.3, 0.3)
    b = plan.network(5, 17, BUILDS, 0.3, 0.3)
    same = ("build", "kind", "shape", "idle", "ready")
    assert [getattr(a, k) for k in same] == [getattr(b, k) for k in same]
    assert np.array_equal(a.x, b.x)
    assert em.build_image(a.layers).desc == em.build_image(b.layers).desc
    others = [plan.network(s, i, BUILDS, 0.3, 0.3) for s, i in ((5, 18), (6, 17))]
    assert all(o.shape != a.shape or not np.array_equal(o.x, a.x) for o in others)


def test_builds_cover_the_ranges():
    """The builds span PEs 1..64, queue depths 1..16, every multiplier mode and EA 3..5, and
    their memories hold the densest network of their size."""
    hw = [b for b, _ in plan.BUILDS.values()]
    assert {1, 2, 3, 4, 7, 8, 16, 33, 64} <= {p["N_PE"] for p in hw}
    assert {1, 2, 3, 8, 16} <= {p["QDEPTH"] for p in hw}
    assert {p["MUL"] for p in hw} == set(plan.MODES) == set(em.MULS)
    assert {p["EA"] for p in hw if p["MUL"] == 2} == {3, 4, 5}
    for p in hw:
        cols = p["N_PE"] * p["ACT_DEPTH"] + 1
        assert p["SPM_DEPTH"] * em.SPM_ENTRIES_PER_WORD >= p["MAX_LAYERS"] * cols * p["ACT_DEPTH"]
        assert 2 * p["PTR_DEPTH"] >= p["MAX_LAYERS"] * (cols + 2)


def test_kinds_and_builds_at_their_rates():
    """Over 300 networks: errors and resets near their rates, every build, and every network
    fits its build."""
    nets = [plan.network(2, i, BUILDS, 0.2, 0.1) for i in range(300)]
    kinds = collections.Counter(n.kind for n in nets)
    assert abs(kinds["error"] / 300 - 0.2) < 0.07 and abs(kinds["reset"] / 300 - 0.1) < 0.05
    assert {n.build for n in nets} == set(BUILDS)
    assert all(em.fits(n.layers, plan.BUILDS[n.build][0]) for n in nets)


def test_faults_undo_what_they_change():
    """Every error cause occurs; a fault's load-port writes and the writes that restore it
    name the same words; the restored words are the network's own; descriptor faults change
    one field only."""
    nets = [plan.network(3, i, BUILDS, 1.0, 0.0) for i in range(200)]
    assert {n.bad.cause for n in nets} == set(range(1, 8))
    for n in nets:
        bad, img = n.bad, em.build_image(n.layers)
        assert 1 <= bad.cause <= 7 and bad.what
        assert [w[:3] for w in bad.patch] == [w[:3] for w in bad.restore]
        assert bad.patch != bad.restore or bad.words is not None, "a fault that changes nothing"
        for sel, pe, addr, data in bad.restore:
            if sel == em.LD_PTR:
                assert data == int(img.ptr[pe][addr])
            else:
                assert sel == em.LD_DESC and data == img.desc[addr // 2][addr % 2]
        for (sel, _, addr, new), (_, _, _, old) in zip(bad.patch, bad.restore):
            if sel == em.LD_DESC and new != old:
                words = list(img.desc[addr // 2])
                words[addr % 2] = new
                before, after = em.decode_desc(img.desc[addr // 2]), em.decode_desc(words)
                assert sum(before[k] != after[k] for k in before) == 1
        if bad.cause == em.ERR_STREAM:
            assert bad.words is not None and not bad.patch
        if bad.cause == em.ERR_PTR_ORDER:
            assert n.x[0] != 0, "column 0 of the faulty pointer must be broadcast"


def test_shards_split_the_networks():
    """SHARD=i/n over every i covers each network once; a network keeps its build."""
    a = soak.parse(["--n", "103", "--shard", "2/5"])
    assert (a.shard_i, a.shard_n) == (2, 5)
    covered = sorted(i for k in range(5) for i in range(k, 103, 5))
    assert covered == list(range(103))
    assert plan.build_of(1, 40, BUILDS) == plan.build_of(1, 40, BUILDS)


@pytest.mark.parametrize("argv", [["--shard", "5/5"], ["--shard", "x"], ["--only", "-1"],
                                  ["--builds", "n1-q1-lin,nope"]])
def test_bad_options(argv):
    with pytest.raises(SystemExit):
        soak.parse(argv)


def _record(i, build, kind="clean", failures=(), **kw):
    r = {"i": i, "build": build, "kind": kind, "shape": [4, 4], "outputs": 4, "mismatches": 0,
         "counter_errors": 0, "hang": False, "protocol": [], "cycles": 100, "wall": 0.5,
         "failures": list(failures)}
    r.update(kw)
    return r


def test_summary_merge_and_rerun(tmp_path):
    """Two shard summaries merge into the sums; failing networks carry their rerun command
    (with the options that shape them) and fail the soak; a missing shard is reported."""
    b = BUILDS[:2]
    parts = []
    for k in range(2):
        a = soak.parse(["--n", "6", "--shard", f"{k}/3", "--seed", "9", "--builds", ",".join(b)])
        recs = [_record(k, b[0]), _record(k + 3, b[1], "error", error_flagged=True)]
        if k == 1:
            recs.append(_record(7, b[0], failures=["clean run: 1 of 4 outputs differ"],
                                mismatches=1))
        s = soak.summarize(a, recs, 10.0 + k, [1.0, 2.0])
        p = tmp_path / f"s{k}.json"
        p.write_text(json.dumps(s))
        parts.append(p)
    m = soak.merge(parts)
    assert m["networks"] == 5 and m["outputs_compared"] == 20 and m["output_mismatches"] == 1
    assert m["expected_errors"] == 2 and m["errors_flagged"] == 2 and m["wall_s"] == 11.0
    assert m["per_build"][b[0]]["networks"] == 3 and m["shards_missing"] == [2]
    assert [f["i"] for f in m["failing"]] == [7]
    assert m["failing"][0]["rerun"] == f"make soak SEED=9 ONLY=7 SOAK_BUILDS={','.join(b)}"
    assert soak.failed(m)
    assert "| output mismatches | 1 |" in soak.markdown(m, "t")
