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


# ---------------------------------------------------------------------------------------------
# cocotb drivers
# ---------------------------------------------------------------------------------------------
async def reset(dut, cycles: int = 3) -> None:
    from cocotb.triggers import RisingEdge
    dut.rst.value = 1
    for _ in range(cycles):
        await RisingEdge(dut.clk)
    dut.rst.value = 0


async def start(dut, inputs) -> None:
    """Start a unit test: 100 MHz clock, every input named in ``inputs`` at 0, then reset."""
    from cocotb.clock import Clock
    Clock(dut.clk, 10, unit="ns").start()
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
    from cocotb.triggers import FallingEdge, RisingEdge
    await FallingEdge(dut.clk)
    assert int(dut.ld_ready.value), "load port not ready"
    dut.ld_valid.value = 1
    dut.ld_sel.value = sel
    dut.ld_pe.value = pe
    dut.ld_addr.value = addr
    dut.ld_data.value = int(data) & ((1 << 64) - 1)
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.ld_valid.value = 0


async def load_image(dut, img: Image, skip_memories: bool = False) -> None:
    """Front-door load of a whole image (descriptors only when ``skip_memories``)."""
    from cocotb.triggers import FallingEdge, RisingEdge
    writes = []
    if not skip_memories:
        for k, words in enumerate(img.spm):
            last = int(np.nonzero(words)[0].max(initial=-1))
            writes += [(LD_SPM, k, a, int(w)) for a, w in enumerate(words[: last + 1])]
        for k, words in enumerate(img.ptr):
            writes += [(LD_PTR, k, a, int(w)) for a, w in enumerate(words)]
        writes += [(LD_CB, 0, a, int(w)) for a, w in enumerate(img.codebook)]
    for i, (a, b) in enumerate(img.desc):
        writes += [(LD_DESC, 0, 2 * i, a), (LD_DESC, 0, 2 * i + 1, b)]
    await FallingEdge(dut.clk)
    assert int(dut.ld_ready.value), "load port not ready"
    for sel, pe, addr, data in writes:
        dut.ld_valid.value = 1
        dut.ld_sel.value = sel
        dut.ld_pe.value = pe
        dut.ld_addr.value = addr
        dut.ld_data.value = data
        await RisingEdge(dut.clk)
        await FallingEdge(dut.clk)
    dut.ld_valid.value = 0


async def send_acts(dut, x: np.ndarray, g: np.random.Generator | None = None,
                    idle: float = 0.0, tlast_at: int | None = None) -> int:
    """Drive s_axis_act with ``x`` (random idle cycles with probability ``idle``); tlast on
    element ``tlast_at`` (default the last). Returns the number of elements accepted."""
    from cocotb.triggers import FallingEdge, RisingEdge
    n = len(x)
    last = n - 1 if tlast_at is None else tlast_at
    sent = 0
    await FallingEdge(dut.clk)
    while sent < n:
        if g is not None and g.random() < idle:
            dut.s_axis_act_tvalid.value = 0
            await RisingEdge(dut.clk)
            await FallingEdge(dut.clk)
            continue
        dut.s_axis_act_tvalid.value = 1
        dut.s_axis_act_tdata.value = int(x[sent]) & 0xFFFF
        dut.s_axis_act_tlast.value = int(sent == last)
        await RisingEdge(dut.clk)   # signals read here hold their values of the edge
        fired = int(dut.s_axis_act_tready.value)
        busy = int(dut.busy.value)
        await FallingEdge(dut.clk)
        if fired:
            sent += 1
        elif not busy:
            break
    dut.s_axis_act_tvalid.value = 0
    dut.s_axis_act_tlast.value = 0
    return sent


async def collect_results(dut, g: np.random.Generator | None = None, ready: float = 1.0,
                          limit: int = 1_000_000) -> tuple[list[int], list[int], list[int]]:
    """Collect m_axis_res beats until done (random back-pressure: tready with probability
    ``ready``). Returns (values, slots, tlast flags)."""
    from cocotb.triggers import FallingEdge, RisingEdge
    vals, slots, lasts = [], [], []
    for _ in range(limit):
        await FallingEdge(dut.clk)
        dut.m_axis_res_tready.value = int(g is None or g.random() < ready)
        await RisingEdge(dut.clk)   # signals read here hold their values of the edge
        if int(dut.m_axis_res_tvalid.value) and int(dut.m_axis_res_tready.value):
            vals.append(dut.m_axis_res_tdata.value.to_signed())
            slots.append(int(dut.m_axis_res_tuser.value))
            lasts.append(int(dut.m_axis_res_tlast.value))
        if int(dut.done.value):
            break
    else:
        raise AssertionError(f"no done within {limit} cycles")
    await FallingEdge(dut.clk)
    dut.m_axis_res_tready.value = 0
    return vals, slots, lasts


async def read_counter(dut, sel: int, pe: int = 0) -> int:
    from cocotb.triggers import Timer
    dut.cnt_sel.value = sel
    dut.cnt_pe.value = pe
    await Timer(1, unit="ns")
    return int(dut.cnt_data.value)


async def run_network(dut, x: np.ndarray, g: np.random.Generator | None = None,
                      idle: float = 0.0, ready: float = 1.0):
    """start, stream x in, collect the results until done. Returns (values, slots, lasts)."""
    import cocotb
    from cocotb.triggers import FallingEdge, RisingEdge
    await FallingEdge(dut.clk)
    dut.start.value = 1
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.start.value = 0
    sender = cocotb.start_soon(send_acts(dut, x, g, idle))
    res = await collect_results(dut, g, ready)
    await sender
    return res
