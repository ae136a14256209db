"""Shared helpers of the EIE engine tests (tb/eie_*): random layers and networks built with the
models (models.csc, models.golden, models.memimage), the engine's descriptor format, and cocotb
drivers for the load port and the activation / result streams.

The RTL side of every format here is documented in rtl/eie_top.v (load-port map, descriptor
fields, error codes); the model side in docs/FORMATS.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models import csc as mcsc
from models import fixedpoint as fp
from models import golden
from models import memimage

RTL_UNITS = ("eie_lnzd_node", "eie_lnzd_tree", "eie_ccu", "eie_act_queue", "eie_ptr_read",
             "eie_spmat_read", "eie_arith", "eie_act_rw", "eie_pe", "eie_top")

# load-port selects and error causes (rtl/eie_top.v)
LD_SPM, LD_PTR, LD_CB, LD_DESC = 0, 1, 2, 3
ERR_PTR_RANGE, ERR_PTR_ORDER, ERR_SIZE, ERR_CODE, ERR_ROW, ERR_DESC, ERR_STREAM = range(1, 8)
CNT_TOTAL, CNT_RUN, CNT_BUSY, CNT_STARVED, CNT_PAD, CNT_BCAST, CNT_STALL, CNT_LAYERS = range(8)
MODES = {0: "linear", 1: "log"}


def sources(*units: str):
    """RTL files of the given eie units plus the multipliers."""
    from tb import sim as tbsim
    return [tbsim.RTL / f"{u}.v" for u in units] + [tbsim.RTL / "mul_lin.v",
                                                       tbsim.RTL / "mul_lin_log.v"]


def all_sources():
    return sources(*RTL_UNITS)


# ---------------------------------------------------------------------------------------------
# Random layers and networks
# ---------------------------------------------------------------------------------------------
def random_codebook(g: np.random.Generator, mode: str, n_codes: int = 16) -> np.ndarray:
    """16 integer codebook values, entry 0 = 0, entries >= n_codes = 0 too."""
    if mode == "linear":
        cb = g.integers(-3000, 3001, 16)
    else:
        cb = np.where(g.random(16) < 0.5, -1, 1) * (1 << g.integers(0, 12, 16))
    cb[0] = 0
    cb[n_codes:] = 0
    return cb.astype(np.int64)


def random_codes(g: np.random.Generator, n_rows: int, n_cols: int, density: float,
                 n_codes: int = 16) -> np.ndarray:
    """An (n_rows, n_cols) code matrix: each entry non-zero with probability ``density``;
    a few long zero runs so that padding entries occur."""
    codes = np.where(g.random((n_rows, n_cols)) < density, g.integers(1, n_codes, (n_rows, n_cols)), 0)
    return codes.astype(np.int64)


def random_acts(g: np.random.Generator, n: int, density: float, amp: int = 20000) -> np.ndarray:
    a = np.where(g.random(n) < density, g.integers(-amp, amp + 1, n), 0)
    return a.astype(np.int64)


def pick_shift(layer: mcsc.CSCLayer, cb: np.ndarray, x: np.ndarray) -> int:
    """A shift that keeps most outputs in range (a few may saturate)."""
    acc, _ = golden.layer_forward(layer, cb, x, 0, False)
    peak = int(np.abs(acc).max(initial=1))
    return max(0, peak.bit_length() - 13)


def random_network(g: np.random.Generator, n_pes: int, n_in: int, outs: list[int], mode: str,
                   density: float = 0.3, act_density: float = 0.6, bias: bool = True,
                   x: np.ndarray | None = None) -> tuple[list[golden.QLayer], np.ndarray]:
    """A random network (interleaved rows) and an input vector for it; shifts chosen from the
    golden accumulators so outputs are neither all zero nor all saturated."""
    x0 = random_acts(g, n_in, act_density) if x is None else np.asarray(x, dtype=np.int64)
    layers: list[golden.QLayer] = []
    a = x0
    n_slots_in = n_in
    for i, n_out in enumerate(outs):
        n_cols = n_slots_in + int(bias)
        codes = random_codes(g, n_out, n_cols, density)
        if layers:  # columns of empty slots of the previous layer carry no weights
            prev = layers[-1].csc
            empty = np.ones(n_slots_in, dtype=bool)
            empty[prev.slot_of_row()] = False
            codes[:, :n_slots_in][:, empty] = 0
        lay = mcsc.encode(codes, n_pes)
        cb = random_codebook(g, mode)
        bias_act = 1 << 8
        xin = np.concatenate([a, [bias_act]]) if bias else a
        shift = pick_shift(lay, cb, xin)
        relu = i < len(outs) - 1
        q = golden.QLayer(csc=lay, codebook=cb, shift=shift, relu=relu, has_bias=bias,
                          bias_act=bias_act, n_in=n_slots_in, n_slots_in=n_slots_in, mode=mode)
        layers.append(q)
        _, y = golden.layer_forward(lay, cb, xin, shift, relu)
        a = golden.to_slots(y, lay)
        n_slots_in = lay.n_slots
    return layers, x0


def expected_slots(layers: list[golden.QLayer], x: np.ndarray) -> np.ndarray:
    """The last layer's outputs in slot order (what the engine streams out)."""
    return golden.network_forward(layers, x)[-1]["y_slots"][0]


def layer_inputs(layers: list[golden.QLayer], x: np.ndarray) -> list[np.ndarray]:
    """Each layer's input vector, bias column included (for golden.layer_cycles)."""
    return [o["input"][0] for o in golden.network_forward(layers, x)]


# ---------------------------------------------------------------------------------------------
# The engine's memory contents and descriptors
# ---------------------------------------------------------------------------------------------
@dataclass
class Image:
    """Everything the load port writes: per PE sparse-matrix and pointer words, codebook words,
    descriptor words."""
    spm: list[np.ndarray]
    ptr: list[np.ndarray]
    codebook: np.ndarray
    desc: list[tuple[int, int]]


def desc_words(lay: golden.QLayer, ptr_base: int, spm_base: int, last: bool,
               n_codes: int = 16) -> tuple[int, int]:
    """Descriptor words A and B of one layer (rtl/eie_top.v)."""
    rows = max(lay.csc.rows_per_pe)
    a = (lay.n_slots_in & 0xFFFF) | (rows & 0xFFFF) << 16 | (lay.bias_act & 0xFFFF) << 32 \
        | int(lay.has_bias) << 48 | int(lay.relu) << 49 | int(lay.mode == "log") << 50 \
        | int(last) << 51 | (lay.shift & 0x3F) << 52 | (n_codes & 0x1F) << 58
    b = (ptr_base & 0xFFFFFFFF) | (spm_base & 0xFFFFFFFF) << 32
    return a, b


def build_image(layers: list[golden.QLayer]) -> Image:
    """The per-PE memory words of a network, laid out as models.memimage lays them out."""
    spm_base, ptr_base, spm_depth, ptr_total = memimage.layout(layers)
    n = layers[0].csc.n_pes
    spm = [np.zeros(max(spm_depth, 1), dtype=np.uint64) for _ in range(n)]
    ptr = [np.zeros(max(ptr_total, 2), dtype=np.uint64) for _ in range(n)]
    cb = []
    desc = []
    for i, lay in enumerate(layers):
        cb.append(memimage.codebook_words(lay.codebook, lay.mode))
        for k, pe in enumerate(lay.csc.pes):
            w = mcsc.spm_words(pe.v, pe.z)
            spm[k][spm_base[i]: spm_base[i] + len(w)] = w
            ptr[k][ptr_base[i]: ptr_base[i] + len(pe.ptr)] = 8 * spm_base[i] + pe.ptr
        desc.append(desc_words(lay, ptr_base[i], spm_base[i], i == len(layers) - 1))
    return Image(spm, ptr, np.concatenate(cb), desc)


def pad_images(src, manifest: dict, hw: dict, dst=None):
    """Copy the $readmemh images of ``src`` (written by models.memimage, ``manifest`` its
    manifest) to ``dst`` (default: in place), padded with zero words to the memory depths of
    an eie_top build with parameters ``hw``, so that $readmemh fills every word and the
    simulators print no "not enough words" warnings. Returns ``dst``."""
    from pathlib import Path
    src = Path(src)
    dst = src if dst is None else Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    lay_w = 1 if hw["MAX_LAYERS"] <= 2 else (hw["MAX_LAYERS"] - 1).bit_length()
    f = manifest["files"]
    depth = {**{n: hw["SPM_DEPTH"] for n in f["spm"]},
             **{n: hw["PTR_DEPTH"] for n in f["ptr_even"] + f["ptr_odd"]},
             f["codebook"]: 1 << (4 + lay_w)}
    for name, words in depth.items():
        lines = (src / name).read_text().split()
        if len(lines) > words:
            raise ValueError(f"{src / name}: {len(lines)} words, the build holds {words}")
        pad = [("0" * len(lines[0]))] * (words - len(lines))
        (dst / name).write_text("\n".join(lines + pad) + "\n")
    return dst


# ---------------------------------------------------------------------------------------------
# cocotb drivers
#
# Timing convention of every tb/eie_* driver: inputs change at the falling edge; what a rising
# edge does is decided by the values shown at the falling edge before it. eie_top's stream
# outputs (s_axis_act_tready, m_axis_res_t*) and status (busy, done, error) are registered or
# decoded from its state register, so they hold still from one rising edge to the next.
#
# The drivers are transaction level: Python runs once per stream beat, once per idle or
# back-pressure run, and once per wait on a signal edge (tready or tvalid rising, done), never
# once per clock cycle while the engine computes or a run of idle cycles passes.
# ---------------------------------------------------------------------------------------------
PERIOD_NS = 10


def clock(dut) -> None:
    """The engine's clock: PERIOD_NS."""
    from cocotb.clock import Clock
    Clock(dut.clk, PERIOD_NS, unit="ns").start()


async def cycles_from(clk, n: int, rising: bool = False) -> None:
    """From a falling (``rising``: rising) clock edge, wait until the same edge ``n`` cycles
    later with two triggers (a timer that ends inside the last cycle, then the edge), whatever
    ``n``."""
    from cocotb.triggers import FallingEdge, RisingEdge, Timer
    if n <= 0:
        return
    await Timer(n * PERIOD_NS - PERIOD_NS // 4, unit="ns")
    await (RisingEdge(clk) if rising else FallingEdge(clk))


def idle_gaps(g: np.random.Generator | None, n: int, idle: float) -> np.ndarray | None:
    """Idle cycles before each of ``n`` beats when each cycle is idle with probability
    ``idle`` (geometric run lengths); None for no idle cycles."""
    if g is None or idle <= 0.0:
        return None
    if not idle < 1.0:
        raise ValueError(f"idle probability {idle} must be below 1")
    return g.geometric(1.0 - idle, n) - 1


def ready_runs(g: np.random.Generator | None, ready: float):
    """(on, off) run lengths of a tready that is high in each cycle with probability ``ready``
    (geometric runs, as independent draws per cycle would give); always on for ``ready`` >= 1."""
    if g is None or ready >= 1.0:
        while True:
            yield 1 << 30, 0
    if not ready > 0.0:
        raise ValueError(f"ready probability {ready} must be above 0")
    while True:
        yield int(g.geometric(1.0 - ready)), int(g.geometric(ready))


async def reset(dut, cycles: int = 3) -> None:
    from cocotb.triggers import ClockCycles
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0


async def start(dut, inputs) -> None:
    """Start a unit test: the clock, every input named in ``inputs`` at 0, then reset."""
    clock(dut)
    for name in inputs:
        getattr(dut, name).value = 0
    await reset(dut)


def top_idle_inputs(dut) -> None:
    dut.start.value = 0
    dut.ld_valid.value = 0
    dut.ld_sel.value = 0
    dut.ld_pe.value = 0
    dut.ld_addr.value = 0
    dut.ld_data.value = 0
    dut.s_axis_act_tvalid.value = 0
    dut.s_axis_act_tdata.value = 0
    dut.s_axis_act_tlast.value = 0
    dut.m_axis_res_tready.value = 0
    dut.cnt_sel.value = 0
    dut.cnt_pe.value = 0


async def load(dut, sel: int, pe: int, addr: int, data: int) -> None:
    """One load-port write (the engine must be idle: ld_ready)."""
    await load_words(dut, [(sel, pe, addr, data)])


async def load_words(dut, writes: list[tuple[int, int, int, int]]) -> None:
    """Load-port writes (sel, pe, addr, data), one a cycle (the engine must be idle)."""
    from cocotb.triggers import FallingEdge
    await FallingEdge(dut.clk)
    assert int(dut.ld_ready.value), "load port not ready"
    for sel, pe, addr, data in writes:
        dut.ld_valid.value = 1
        dut.ld_sel.value = sel
        dut.ld_pe.value = pe
        dut.ld_addr.value = addr
        dut.ld_data.value = int(data) & ((1 << 64) - 1)
        await FallingEdge(dut.clk)      # taken at the rising edge in between
    dut.ld_valid.value = 0


def image_words(img: Image, skip_memories: bool = False) -> list[tuple[int, int, int, int]]:
    """The load-port writes of a front-door load of ``img`` (descriptors only when
    ``skip_memories``); trailing zero words of the sparse-matrix memories are left out."""
    writes = []
    if not skip_memories:
        for k, words in enumerate(img.spm):
            last = int(np.nonzero(words)[0].max(initial=-1))
            writes += [(LD_SPM, k, a, int(w)) for a, w in enumerate(words[: last + 1])]
        for k, words in enumerate(img.ptr):
            writes += [(LD_PTR, k, a, int(w)) for a, w in enumerate(words)]
        writes += [(LD_CB, 0, a, int(w)) for a, w in enumerate(img.codebook)]
    return writes + desc_writes(img.desc)


def desc_writes(desc) -> list[tuple[int, int, int, int]]:
    """The load-port writes of a descriptor table [(word A, word B), ...]."""
    return [(LD_DESC, 0, 2 * i + j, int(w)) for i, ab in enumerate(desc) for j, w in enumerate(ab)]


async def load_image(dut, img: Image, skip_memories: bool = False) -> None:
    """Front-door load of a whole image (descriptors only when ``skip_memories``)."""
    await load_words(dut, image_words(img, skip_memories))


async def drive_stream(clk, bus, busy, words: list[int], tlast_at: int,
                       gaps: np.ndarray | None = None) -> int:
    """AXI4-Stream source on ``bus`` (handles tvalid, tdata, tlast, tready): ``words`` in
    order, tlast on word ``tlast_at``, ``gaps[i]`` idle cycles before word i. Stops early when
    ``busy`` is low while tready is (the run was aborted). Returns the number of words taken.

    tready shown at a falling edge is what the next rising edge sees, so a ready sink takes a
    word per falling edge; a stalled one is waited for on tready's rising edge."""
    from cocotb.triggers import FallingEdge, First, RisingEdge
    n, sent = len(words), 0
    await FallingEdge(clk)
    while sent < n:
        if gaps is not None and gaps[sent] > 0:
            bus.tvalid.value = 0
            await cycles_from(clk, int(gaps[sent]))
            gaps[sent] = 0
        bus.tvalid.value = 1
        bus.tdata.value = int(words[sent]) & 0xFFFF
        bus.tlast.value = int(sent == tlast_at)
        if not int(bus.tready.value):
            if not int(busy.value):
                break
            await First(RisingEdge(bus.tready), FallingEdge(busy))
            await FallingEdge(clk)
            continue
        sent += 1
        await FallingEdge(clk)
    bus.tvalid.value = 0
    bus.tlast.value = 0
    return sent


async def send_acts(dut, x: np.ndarray, g: np.random.Generator | None = None,
                    idle: float = 0.0, tlast_at: int | None = None) -> int:
    """Drive s_axis_act with ``x`` (random idle cycles with probability ``idle``); tlast on
    element ``tlast_at`` (default the last). Returns the number of elements accepted."""
    from types import SimpleNamespace
    bus = SimpleNamespace(tvalid=dut.s_axis_act_tvalid, tdata=dut.s_axis_act_tdata,
                          tlast=dut.s_axis_act_tlast, tready=dut.s_axis_act_tready)
    last = len(x) - 1 if tlast_at is None else tlast_at
    return await drive_stream(dut.clk, bus, dut.busy, [int(v) for v in x], last,
                              idle_gaps(g, len(x), idle))


async def collect_results(dut, g: np.random.Generator | None = None, ready: float = 1.0,
                          limit: int = 1_000_000) -> tuple[list[int], list[int], list[int]]:
    """Collect m_axis_res beats until done (random back-pressure: tready high in a cycle with
    probability ``ready``). Returns (values, slots, tlast flags). Python runs per beat and per
    back-pressure run; while tvalid is low it waits on tvalid or done rising."""
    from cocotb.triggers import FallingEdge, First, RisingEdge, Timer
    from cocotb.utils import get_sim_time
    vals, slots, lasts = [], [], []
    deadline = get_sim_time("ns") + limit * PERIOD_NS
    runs = ready_runs(g, ready)
    on, off = next(runs)
    await FallingEdge(dut.clk)
    while True:
        left = deadline - get_sim_time("ns")
        if left <= 0:
            raise AssertionError(f"no done within {limit} cycles")
        if not int(dut.m_axis_res_tvalid.value):
            if int(dut.done.value):       # done rose at the last rising edge: the run is over
                break
            dut.m_axis_res_tready.value = int(on > 0)
            await First(RisingEdge(dut.m_axis_res_tvalid), RisingEdge(dut.done),
                        Timer(left, unit="ns"))
            await FallingEdge(dut.clk)
            continue
        if on == 0:                       # a back-pressure run
            dut.m_axis_res_tready.value = 0
            await cycles_from(dut.clk, off)
            on, off = next(runs)
            continue
        dut.m_axis_res_tready.value = 1   # this beat is taken at the next rising edge
        vals.append(dut.m_axis_res_tdata.value.to_signed())
        slots.append(int(dut.m_axis_res_tuser.value))
        lasts.append(int(dut.m_axis_res_tlast.value))
        on -= 1
        await FallingEdge(dut.clk)
    dut.m_axis_res_tready.value = 0
    return vals, slots, lasts


async def read_counter(dut, sel: int, pe: int = 0) -> int:
    from cocotb.triggers import Timer
    dut.cnt_sel.value = sel
    dut.cnt_pe.value = pe
    await Timer(1, unit="ns")
    return int(dut.cnt_data.value)


async def start_pulse(dut) -> None:
    """One-cycle start (from a falling edge to the next)."""
    from cocotb.triggers import FallingEdge
    await FallingEdge(dut.clk)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    dut.start.value = 0


async def run_network(dut, x: np.ndarray, g: np.random.Generator | None = None,
                      idle: float = 0.0, ready: float = 1.0):
    """start, stream x in, collect the results until done. Returns (values, slots, lasts)."""
    import cocotb
    await start_pulse(dut)
    sender = cocotb.start_soon(send_acts(dut, x, g, idle))
    res = await collect_results(dut, g, ready)
    await sender
    return res
