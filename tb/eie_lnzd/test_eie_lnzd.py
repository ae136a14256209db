"""eie_lnzd_node / eie_lnzd_tree: leading non-zero detection (lowest set flag, its payload and
index) against a direct Python search, every pattern at small N, random patterns at large N."""

import cocotb
import pytest
from cocotb.triggers import Timer

from tb import sim as tbsim
from tb.common import params, rng
from tb.eie_lib import sources


def lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else 0


@cocotb.test()
async def leading_nonzero(dut):
    """Every nz pattern (all when N <= 12, else 3000 random ones with sparse and dense masks)
    with random payloads: any, index and payload of the lowest set flag."""
    p = params({"N": 4, "DATA_W": 16})
    is_node = not hasattr(dut, "idx")
    n = 4 if is_node else p["N"]
    dw = p["DATA_W"]
    g = rng(dut)
    if n <= 12:
        masks = list(range(1 << n))
    else:
        masks = [int(sum(1 << i for i in range(n) if g.random() < d))
                 for d in g.choice([0.02, 0.1, 0.5, 0.9], 3000)]
        masks += [0, (1 << n) - 1, 1 << (n - 1)]
    idx_sig = dut.sel if is_node else dut.idx
    bad = []
    for m in masks:
        data = [int(v) for v in g.integers(0, 1 << dw, n)]
        dut.nz.value = m
        dut.din.value = sum(d << (dw * i) for i, d in enumerate(data))
        await Timer(1, unit="ns")
        k = lowest(m)
        want = (int(m != 0), k, data[k] if m else 0)
        got = (int(dut.any.value), int(idx_sig.value), int(dut.dout.value))
        if got != want:
            bad.append(f"nz={m:#x}: got {got}, want {want}")
    assert not bad, "\n".join(bad[:10])
    dut._log.info("%d patterns over %d inputs match", len(masks), n)


@pytest.mark.parametrize("n", [1, 3, 4, 5, 16, 17, 64])
def test_eie_lnzd_tree(sim, n):
    tbsim.run(sim, "eie_lnzd_tree", __name__, sources("eie_lnzd_tree", "eie_lnzd_node"),
              {"N": n, "DATA_W": 8})


def test_eie_lnzd_node(sim):
    tbsim.run(sim, "eie_lnzd_node", __name__, sources("eie_lnzd_node"), {"DATA_W": 8})
