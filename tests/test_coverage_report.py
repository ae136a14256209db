"""scripts/coverage.py on small recorded inputs: coverage.dat parsing, the per-file summary, the
waiver file (applied, stale, malformed) and the 95 % check; the merge through
verilator_coverage when it is installed."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("coverage_script", REPO / "scripts" / "coverage.py")
cov = importlib.util.module_from_spec(_spec)
sys.modules["coverage_script"] = cov
_spec.loader.exec_module(cov)

# A queue's always block; the line numbers are those of the points below.
SOURCE = "\n".join([
    "module q (input wire clk, input wire push, output reg full);",   # 1
    "    reg [1:0] count;",                                            # 2
    "    always @(posedge clk) begin",                                 # 3
    "        if (push) count <= count + 1'b1;",                        # 4
    "        else count <= count;",                                    # 5
    "        full <= count == 2'd3 ? 1'b1 : 1'b0;",                    # 6
    "    end",                                                         # 7
    "endmodule",                                                       # 8
]) + "\n"


def rec(root: Path, line: int, col: int, kind: str, what: str, count: int,
        hier: str = "q", lines: str | None = None) -> str:
    """One coverage.dat record as Verilator 5.048 writes it (keys f l n t page o [S] h)."""
    keys = [("f", str(root / "rtl" / "q.v")), ("l", str(line)), ("n", str(col)), ("t", kind),
            ("page", f"v_{kind}/q"), ("o", what)]
    if lines:
        keys.append(("S", lines))
    keys.append(("h", hier))
    return "C '" + "".join(f"\x01{k}\x02{v}" for k, v in keys) + f"' {count}"


def dat(root: Path, counts: dict[str, int], hier: str = "q") -> str:
    """A recorded run: the block of line 3, the if/else of lines 4-5, the ?: of line 6, the
    toggle of full (line 1); ``counts`` overrides the hit counts by name."""
    c = {"block": 40, "if": 12, "else": 28, "cond_then": 3, "cond_else": 37, "rise": 2,
         "fall": 1, **counts}
    return "\n".join(["# SystemC::Coverage-3",
                      rec(root, 3, 5, "line", "block", c["block"], hier, "3"),
                      rec(root, 4, 9, "branch", "if", c["if"], hier, "4"),
                      rec(root, 4, 10, "branch", "else", c["else"], hier, "5"),
                      rec(root, 6, 30, "branch", "cond_then", c["cond_then"], hier, "6"),
                      rec(root, 6, 31, "branch", "cond_else", c["cond_else"], hier, "6"),
                      rec(root, 1, 60, "toggle", "full:0->1", c["rise"], hier),
                      rec(root, 1, 60, "toggle", "full:1->0", c["fall"], hier)]) + "\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "q.v").write_text(SOURCE)
    return tmp_path


def waivers(root: Path, entries: list[dict]) -> Path:
    import yaml
    path = root / "waivers.yml"
    path.write_text(yaml.safe_dump({"waivers": entries}))
    return path


def summary(root: Path, counts: dict[str, int], entries: list[dict] | None = None) -> dict:
    ws = cov.load_waivers(waivers(root, entries or []), root)
    files, errors = cov.summarise(cov.parse_dat(dat(root, counts), root), ws)
    return cov.report_dict(files, ws, errors, ["a/coverage.dat"], root)


def test_parse_adds_instances_and_keeps_kinds(root):
    pts = cov.parse_dat(dat(root, {}, "q") + dat(root, {"if": 0}, "top.u_q").split("\n", 1)[1],
                        root)
    assert len(pts) == 7
    by_what = {p.what: (p.kind, p.file, p.line, n) for p, n in pts.items()}
    assert by_what["if"] == ("branch", "rtl/q.v", 4, 12)          # 12 + 0 over the instances
    assert by_what["block"] == ("line", "rtl/q.v", 3, 80)
    assert by_what["full:0->1"][0] == "toggle"


def test_parse_rejects_a_malformed_record(root):
    with pytest.raises(ValueError, match="line 2"):
        cov.parse_dat("# SystemC::Coverage-3\nC 'f\x02x' many\n", root)


def test_summary_counts_each_kind_and_lists_uncovered_lines(root):
    rep = summary(root, {"else": 0, "cond_then": 0, "fall": 0})
    r = rep["files"]["rtl/q.v"]
    assert (r["line"]["points"], r["line"]["hit"], r["line"]["pct"]) == (1, 1, 100.0)
    assert (r["branch"]["points"], r["branch"]["hit"], r["branch"]["pct"]) == (4, 2, 50.0)
    assert (r["toggle"]["points"], r["toggle"]["hit"]) == (2, 1)
    assert [(u["line"], u["points"]) for u in r["uncovered"]] == \
        [(4, ["branch else"]), (6, ["branch cond_then"])]
    assert r["uncovered"][1]["text"] == "full <= count == 2'd3 ? 1'b1 : 1'b0;"
    assert rep["below_bar"] == ["rtl/q.v"]
    assert cov.check(rep) == ["rtl/q.v: branch 50.0 %"]
    md = cov.markdown(rep)
    assert "| rtl/q.v **below** | 100.0 % (1/1) | 50.0 % (2/4) | 50.0 % (1/2) | 0 |" in md
    assert "- 6: `full <= count == 2'd3 ? 1'b1 : 1'b0;` (branch cond_then)" in md


def test_waivers_count_as_covered_with_their_reason(root):
    rep = summary(root, {"else": 0, "cond_then": 0}, [
        {"file": "rtl/q.v", "line": 4, "match": "if (push)", "reason": "defensive"},
        {"file": "rtl/q.v", "match": "2'd3 ?", "reason": "full never rises in this design"}])
    r = rep["files"]["rtl/q.v"]
    assert (r["branch"]["hit"], r["branch"]["waived"], r["branch"]["pct"]) == (2, 2, 100.0)
    assert r["uncovered"] == []
    assert r["waived"] == [{"line": 4, "reason": "defensive"},
                           {"line": 6, "reason": "full never rises in this design"}]
    assert cov.check(rep) == [] and rep["below_bar"] == []
    assert "- rtl/q.v:6: full never rises in this design" in cov.markdown(rep)


def test_a_waiver_on_a_covered_line_is_stale(root):
    rep = summary(root, {}, [{"file": "rtl/q.v", "line": 4, "reason": "was unreachable"}])
    assert rep["files"]["rtl/q.v"]["branch"]["pct"] == 100.0
    assert len(rep["waiver_errors"]) == 1 and "rtl/q.v:4" in rep["waiver_errors"][0]
    assert cov.check(rep) == rep["waiver_errors"]


@pytest.mark.parametrize("entry,message", [
    ({"file": "rtl/q.v", "line": 4, "match": "if (pop)", "reason": "r"}, "no longer contains"),
    ({"file": "rtl/q.v", "match": "count <=", "reason": "r"}, "on 2 lines"),
    ({"file": "rtl/q.v", "match": "no such text", "reason": "r"}, "on 0 lines"),
    ({"file": "rtl/q.v", "line": 4, "reason": " "}, "non-empty 'reason'"),
    ({"file": "rtl/q.v", "reason": "r"}, "needs 'line' or 'match'"),
    ({"file": "rtl/q.v", "line": 99, "reason": "r"}, "has no line 99"),
    ({"file": "rtl/nope.v", "line": 1, "reason": "r"}, "cannot read"),
    ({"file": "rtl/q.v", "line": 4, "reason": "r", "lines": 5}, "unknown keys"),
])
def test_malformed_waivers_are_rejected(root, entry, message):
    with pytest.raises(cov.WaiverError, match=message):
        cov.load_waivers(waivers(root, [entry]), root)


def test_the_bar_is_a_parameter(root):
    rep = summary(root, {"cond_then": 0})
    assert rep["files"]["rtl/q.v"]["branch"]["pct"] == 75.0
    assert cov.check(rep, bar=75.0) == [] and cov.check(rep, bar=95.0) != []


@pytest.mark.skipif(shutil.which("verilator_coverage") is None,
                    reason="verilator_coverage not installed (apt-get install verilator)")
def test_report_merges_runs_with_verilator_coverage(root):
    """Two cases' coverage.dat: each misses a different arm, the merge misses neither."""
    tests = root / "tests"
    for case, counts in (("a", {"else": 0}), ("b", {"if": 0, "cond_then": 0})):
        d = tests / "q" / f"verilator-coverage-{case}"
        d.mkdir(parents=True)
        (d / "coverage.dat").write_text(dat(root, counts))
    out = root / "report"
    rep = cov.report(out, waivers(root, []), tests, root)
    r = rep["files"]["rtl/q.v"]
    assert r["branch"] == {"points": 4, "hit": 4, "waived": 0, "pct": 100.0}
    assert rep["coverage_files"] == ["q/verilator-coverage-a/coverage.dat",
                                     "q/verilator-coverage-b/coverage.dat"]
    assert json.loads((out / "summary.json").read_text()) == rep
    assert (out / "annotated" / "q.v").read_text().count("\n") >= SOURCE.count("\n")
    assert "SF:" in (out / "coverage.info").read_text()
