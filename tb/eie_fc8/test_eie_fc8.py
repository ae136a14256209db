"""The 64-PE engine on the real AlexNet FC8 layer (EIE authors' data, ../shared/data): backdoor
load of the memory images, the layer run at queue depth 8 with the paper's interleaved rows
through the FC8 harness's stream player (tb/eie_fc8/eie_fc8_tb.v), every one of the 1,024
output slots equal to the golden model (models.golden).

Both simulators (run times measured by scripts/bench_simspeed.py); the benchmarks
(scripts/bench_fc8.py) run every queue depth and the balanced assignment."""

import pytest

from tb.eie_fc8 import fc8


def test_eie_fc8(sim):
    ok, why = fc8.available()
    if not ok:
        pytest.skip(why)
    case = fc8.build_case("interleaved")
    res = fc8.run_rtl(sim, case, qdepth=8, tag="test-interleaved")
    assert res["mismatches"] == 0 and not res["error"]
    assert res["counters"]["bcast"] == 1760
