"""The protocol and X monitors (tb/eie_lib/protocol.py) fire on every rule they check, and stay
quiet on a clean run: a stub with eie_top's stream and status ports (eie_protocol_stub.v), its
outputs driven cycle by cycle from here, breaks one rule per test. The X/Z tests need a 4-state
simulator (Icarus); on Verilator they are skipped. The monitors on the real engine run in every
engine test (tb/eie_top, tb/eie_uvm, tb/eie_soak, ...)."""

from __future__ import annotations

from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, FallingEdge
from cocotb.types import LogicArray

from tb import sim as tbsim
from tb.eie_lib import clocking, protocol

STUB = Path(__file__).resolve().parent / "eie_protocol_stub.v"
FOUR_STATE = "icarus" in str(getattr(cocotb, "SIM_NAME", "") or "").lower()
OUTPUTS = {"busy": 1, "done": 1, "error": 1, "err_cause": 4, "err_pe": 8, "ld_ready": 1,
           "act_tready": 1, "res_tdata": 16, "res_tvalid": 1, "res_tlast": 1, "res_tuser": 16}
TB_INPUTS = {"rst": "rst", "tready": "m_axis_res_tready", "act_tvalid": "s_axis_act_tvalid",
             "act_tlast": "s_axis_act_tlast"}
IDLE = {"busy": 0, "done": 0, "error": 0, "err_cause": 0, "err_pe": 0, "ld_ready": 1,
        "act_tready": 0, "res_tdata": 0, "res_tvalid": 0, "res_tlast": 0, "res_tuser": 0,
        "rst": 0, "tready": 0, "act_tvalid": 0, "act_tlast": 0}


def _value(name: str, v):
    """An int, or a 4-state letter ('X', 'Z') repeated over the output's width."""
    return LogicArray(v * OUTPUTS[name]) if isinstance(v, str) else v


async def play(dut, cycles: list[dict]) -> None:
    """Drive the stub cycle by cycle from IDLE: ``cycles[k]`` changes (sticky) what the
    outputs show in cycle k (the stub's nxt_* inputs, loaded at the rising edge before) and
    what the testbench drives in cycle k (rst, tready, act_tvalid, act_tlast). A beat is taken
    at the end of a cycle where tvalid and tready are both high."""
    steps = [dict(IDLE, **cycles[0])] + cycles[1:] + [{}]

    def apply(outs: dict, ins: dict) -> None:
        for n, v in outs.items():
            if n in OUTPUTS:
                getattr(dut, f"nxt_{n}").value = _value(n, v)
        for n, v in ins.items():
            if n in TB_INPUTS:
                getattr(dut, TB_INPUTS[n]).value = v

    await FallingEdge(dut.clk)
    apply(steps[0], {})
    await FallingEdge(dut.clk)
    for k in range(len(cycles)):
        apply(steps[k + 1], steps[k])
        await FallingEdge(dut.clk)


async def setup(dut) -> protocol.Monitors:
    clocking.clock(dut)
    for n in OUTPUTS:
        getattr(dut, f"nxt_{n}").value = IDLE[n]
    for n in ("m_axis_res_tready", "s_axis_act_tvalid", "s_axis_act_tlast", "s_axis_act_tdata"):
        getattr(dut, n).value = 0
    await clocking.reset(dut)
    return protocol.start_monitors(dut, strict=False)


async def expect(dut, mon: protocol.Monitors, rules: list[str]) -> None:
    """The collected violations, in order, contain ``rules`` (one substring each)."""
    await ClockCycles(dut.clk, 2)
    mon.stop()
    got = mon.violations
    assert len(got) == len(rules) and all(r in v for r, v in zip(rules, got)), \
        f"violations {got}, expected {rules}"
    for v in got:
        dut._log.info("reported as expected: %s", v)


# A clean run: four activations in (a stall, tlast on the last), three results out under
# back-pressure with a gap, done; then a second run.
RUN = [
    {"busy": 1, "ld_ready": 0},
    {"act_tready": 1, "act_tvalid": 1},
    {"act_tvalid": 0},
    {"act_tvalid": 1},
    {"act_tvalid": 1, "act_tlast": 1},
    {"act_tready": 0, "act_tvalid": 0, "act_tlast": 0},
    {"res_tvalid": 1, "res_tdata": 5, "res_tuser": 0},
    {"tready": 1},
    {"res_tdata": 7, "res_tuser": 1, "tready": 0},
    {},
    {"tready": 1},
    {"res_tvalid": 0, "res_tdata": 0xBEEF},
    {"res_tvalid": 1, "res_tdata": 9, "res_tuser": 2, "res_tlast": 1},
    {"res_tvalid": 0, "res_tlast": 0, "tready": 0},
    {"done": 1},
    {"done": 0, "busy": 0, "ld_ready": 1},
]
STALL = [{"busy": 1, "ld_ready": 0}, {"res_tvalid": 1, "res_tdata": 3, "res_tuser": 4}, {}]


@cocotb.test()
async def clean_runs(dut):
    """Two clean runs (stalls on both streams, tvalid gaps, data changing while tvalid is low)
    raise nothing."""
    mon = await setup(dut)
    await play(dut, RUN + RUN)
    await expect(dut, mon, [])


@cocotb.test()
async def tvalid_dropped(dut):
    """m_axis_res: tvalid falls while tready is low."""
    mon = await setup(dut)
    await play(dut, STALL + [{"res_tvalid": 0}, {}])
    await expect(dut, mon, ["tvalid dropped"])


@cocotb.test()
async def payload_changed(dut):
    """m_axis_res: tdata, then tuser, then tlast change while stalled, each reported."""
    mon = await setup(dut)
    await play(dut, STALL + [{"res_tdata": 4}, {"res_tuser": 5}, {"res_tlast": 1}, {}])
    await expect(dut, mon, ["m_axis_res_tdata", "m_axis_res_tuser", "m_axis_res_tlast"])


@cocotb.test()
async def payload_changed_as_tready_rises(dut):
    """m_axis_res: tdata changes at the edge where tready rises (not yet a handshake)."""
    mon = await setup(dut)
    await play(dut, STALL + [{"res_tdata": 4, "tready": 1}, {}])
    await expect(dut, mon, ["m_axis_res_tdata"])


@cocotb.test()
async def reset_in_stall(dut):
    """A reset may clear a stalled beat: no violation."""
    mon = await setup(dut)
    await play(dut, STALL + [{"rst": 1}, {"rst": 0}, {}])
    await expect(dut, mon, [])


@cocotb.test()
async def streams_while_idle(dut):
    """s_axis_act tready, then m_axis_res tvalid, high while busy is low."""
    mon = await setup(dut)
    await play(dut, [{"act_tready": 1}, {"act_tready": 0}, {"res_tvalid": 1, "tready": 1},
                     {"res_tvalid": 0}, {}])
    await expect(dut, mon, ["s_axis_act_tready high while busy",
                            "m_axis_res_tvalid high while busy"])


@cocotb.test()
async def ready_after_tlast(dut):
    """s_axis_act: tready stays high after the tlast beat is taken."""
    mon = await setup(dut)
    await play(dut, [{"busy": 1}, {"act_tready": 1, "act_tvalid": 1, "act_tlast": 1},
                     {"act_tvalid": 0, "act_tlast": 0}, {"act_tready": 0}, {}])
    await expect(dut, mon, ["tready high after the tlast beat"])


@cocotb.test()
async def ready_again_before_done(dut):
    """s_axis_act: tready falls after the tlast beat but rises again before done."""
    mon = await setup(dut)
    await play(dut, [{"busy": 1}, {"act_tready": 1, "act_tvalid": 1, "act_tlast": 1},
                     {"act_tready": 0, "act_tvalid": 0, "act_tlast": 0}, {},
                     {"act_tready": 1}, {"act_tready": 0}, {}])
    await expect(dut, mon, ["tready high after the tlast beat"])


@cocotb.test()
async def tlast_withdrawn(dut):
    """s_axis_act: the tlast beat is on the bus as tready rises, then withdrawn before the edge
    (the soak's source does that for a reset): not taken, so tready may stay high."""
    mon = await setup(dut)
    await play(dut, [{"busy": 1}, {"act_tvalid": 1, "act_tlast": 1},
                     {"act_tready": 1, "act_tvalid": 0, "act_tlast": 0}, {}, {"act_tready": 0},
                     {}])
    await expect(dut, mon, [])


@cocotb.test(skip=not FOUR_STATE)
async def x_on_payload(dut):
    """X on tdata of a beat while tvalid stays high (after a clean X while tvalid is low), Z
    on tuser of the next; each beat with its own tuser, as eie_top's slot index."""
    mon = await setup(dut)
    await play(dut, [{"busy": 1, "res_tdata": "X"}, {"res_tdata": 1, "res_tvalid": 1, "tready": 1},
                     {"res_tdata": "X", "res_tuser": 1}, {"res_tdata": 2, "res_tuser": "Z"},
                     {"res_tvalid": 0, "res_tuser": 0}, {}])
    await expect(dut, mon, ["m_axis_res_tdata=", "m_axis_res_tuser="])


@cocotb.test(skip=not FOUR_STATE)
async def x_on_status(dut):
    """X on busy, done, error; on err_cause with error high (not while error and done are
    low); on s_axis_act_tready."""
    mon = await setup(dut)
    await play(dut, [{"err_cause": "X"}, {"err_cause": 0, "busy": "X"}, {"busy": 1},
                     {"done": "X"}, {"done": 0, "error": "X"}, {"error": 1, "err_cause": "X"},
                     {"error": 0, "err_cause": 0, "act_tready": "Z"}, {"act_tready": 0}, {}])
    await expect(dut, mon, ["busy=X", "done=X", "error=X", "err_cause=", "s_axis_act_tready=Z"])


@cocotb.test(expect_fail=True)
async def strict_fails_the_test(dut):
    """With strict monitors (what the engine tests start) a violation fails the running test
    from the monitor's task: this test is expected to fail."""
    clocking.clock(dut)
    for n in OUTPUTS:
        getattr(dut, f"nxt_{n}").value = IDLE[n]
    dut.m_axis_res_tready.value = 0
    await clocking.reset(dut)
    protocol.start_monitors(dut)
    await play(dut, STALL + [{"res_tvalid": 0}, {}])
    await ClockCycles(dut.clk, 2)


def test_eie_protocol(sim):
    tbsim.run(sim, "eie_protocol_stub", __name__, [STUB])
