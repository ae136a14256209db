"""The engine's register and memory map, the only definition on the model side: load-port
selects, error causes, counter selects, the layer descriptor's bit fields, the per-PE memory
image of a network (sparse-matrix, pointer and codebook words, descriptors) and its layout, the
load-port writes of an image, and the memory depths of a build that images are padded to.

rtl/eie_top.v's header is the RTL side of this map; docs/FORMATS.md describes the words. The
exporter (models/memimage.py, $readmemh files), the testbenches (tb/), ``make sim`` and the
benchmarks all build their words here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, NamedTuple

import numpy as np

from models import fixedpoint as fp
from models.csc import spm_words
from models.golden import ACT_EXP_W, ACT_MODES, ACT_W, EXP_W, QLayer

# ---- load port: ld_sel, ld_pe, ld_addr, ld_data ------------------------------------------
LD_SPM, LD_PTR, LD_CB, LD_DESC = 0, 1, 2, 3
LD_EVERY_PE = 0xFF                 # ld_pe value that writes sel LD_SPM / LD_PTR to every PE
LOAD_SELECTS = (LD_SPM, LD_PTR, LD_CB, LD_DESC)
SPM_ENTRIES_PER_WORD = 8           # (v, z) bytes in a 64-bit sparse-matrix word
CB_WORDS = 16                      # codebook words per layer: address CB_WORDS * layer + v
DESC_WORDS = 2                     # 64-bit words per layer descriptor: address 2 * layer + word
PTR_W = 20                         # pointer bits (the default of eie_top's PTR_W)
WEIGHT_MODES = ("linear", "log")   # index = the descriptor's weight_mode
# eie_top's MUL: (weight mode, activation mode) of the layers it runs; activation modes are
# golden.ACT_MODES, index = the descriptor's act_mode
MULS = {0: ("linear", "linear"), 1: ("log", "linear"), 2: ("log", "log")}

# ---- error causes (err_cause) ------------------------------------------------------------
ERR_PTR_RANGE, ERR_PTR_ORDER, ERR_SIZE, ERR_CODE, ERR_ROW, ERR_DESC, ERR_STREAM = range(1, 8)

# ---- counters: cnt_sel (per-PE counters also take cnt_pe) --------------------------------
COUNTERS = {"total": 0, "run": 1, "busy": 2, "starved": 3, "pad": 4, "bcast": 5, "stall": 6,
            "layers": 7}
PE_COUNTERS = ("busy", "starved", "pad")


# ---- layer descriptor --------------------------------------------------------------------
class Field(NamedTuple):
    """A descriptor field: ``width`` bits from bit ``lsb`` of descriptor word ``word``."""

    word: int
    lsb: int
    width: int
    signed: bool = False


DESC_FIELDS = {
    "n_cols_in": Field(0, 0, 16),      # activation columns = input slots, bias excluded
    "rows": Field(0, 16, 16),          # output rows per PE = n_slots_out / N_PE
    "bias_act": Field(0, 32, 16, signed=True),
    "has_bias": Field(0, 48, 1),
    "relu": Field(0, 49, 1),
    "weight_mode": Field(0, 50, 1),    # index into WEIGHT_MODES; must equal MUL
    "last": Field(0, 51, 1),           # the last layer of the network
    "shift": Field(0, 52, 6),
    "n_codes": Field(0, 58, 5),        # codebook entries in use, 1..16
    "act_mode": Field(0, 63, 1),       # index into golden.ACT_MODES; MULS gives the build's
    "ptr_base": Field(1, 0, 32),       # pointer word address of the layer (even)
    "spm_base": Field(1, 32, 28),      # sparse-matrix word address (the pointers are absolute)
    "act_exp_w": Field(1, 60, 4),      # EA of log activations, 0 for linear ones
}


def encode_desc(fields: Mapping[str, int]) -> tuple[int, ...]:
    """The DESC_WORDS descriptor words of ``fields`` (every field of DESC_FIELDS); ValueError
    naming the field when one is missing, unknown or out of its range."""
    unknown = set(fields) - set(DESC_FIELDS)
    if unknown:
        raise ValueError(f"unknown descriptor fields {sorted(unknown)}")
    words = [0] * DESC_WORDS
    for name, f in DESC_FIELDS.items():
        if name not in fields:
            raise ValueError(f"descriptor field {name!r} missing")
        v = int(fields[name])
        lo, hi = (-(1 << (f.width - 1)), 1 << (f.width - 1)) if f.signed else (0, 1 << f.width)
        if not lo <= v < hi:
            raise ValueError(f"descriptor field {name!r} = {v} outside [{lo}, {hi - 1}]")
        words[f.word] |= (v & ((1 << f.width) - 1)) << f.lsb
    return tuple(words)


def decode_desc(words: Iterable[int]) -> dict[str, int]:
    """The field values of descriptor ``words`` (inverse of :func:`encode_desc`)."""
    words = [int(w) for w in words]
    if len(words) != DESC_WORDS:
        raise ValueError(f"a descriptor has {DESC_WORDS} words, got {len(words)}")
    out = {}
    for name, f in DESC_FIELDS.items():
        v = words[f.word] >> f.lsb & ((1 << f.width) - 1)
        out[name] = v - (1 << f.width) if f.signed and v >> (f.width - 1) else v
    return out


def desc_with(words: Iterable[int], **changes: int) -> tuple[int, ...]:
    """Descriptor ``words`` with some fields replaced (bad configurations in the tests)."""
    return encode_desc({**decode_desc(words), **changes})


def codebook_size(lay: QLayer) -> int:
    """Codebook entries in use (the descriptor's n_codes): past the largest code of any entry
    and past the last non-zero codebook value."""
    used = max((int(pe.v.max(initial=0)) for pe in lay.csc.pes), default=0) + 1
    return max(used, int(np.max(np.nonzero(lay.codebook)[0], initial=0)) + 1)


def act_exp_w(lay: QLayer) -> int:
    """The descriptor's act_exp_w of a layer: EA for log activations, 0 for linear ones."""
    return lay.act_exp_w if lay.act_mode == "log" else 0


def mul_of(layers: Iterable[QLayer]) -> int:
    """The MUL of the eie_top build that runs ``layers`` (MULS); ValueError when the layers mix
    modes or EA, or no build runs their modes (linear weights with log activations)."""
    modes = sorted({(lay.mode, lay.act_mode, act_exp_w(lay)) for lay in layers})
    if len(modes) != 1:
        raise ValueError(f"the layers mix (weight mode, activation mode, EA): {modes}")
    mode, act_mode, _ = modes[0]
    for mul, pair in MULS.items():
        if pair == (mode, act_mode):
            return mul
    raise ValueError(f"no eie_top build runs {mode} weights with {act_mode} activations")


def runs_on(layers: list[QLayer], hw: Mapping[str, int]) -> bool:
    """Whether an eie_top build with parameters ``hw`` (MUL, and EA for MUL = 2, default 4) runs
    the modes of ``layers`` (otherwise it raises ERR_DESC)."""
    return mul_of(layers) == hw["MUL"] and all(
        act_exp_w(lay) == (hw.get("EA", ACT_EXP_W) if hw["MUL"] == 2 else 0) for lay in layers)


def stream_words(values: np.ndarray, act_mode: str, act_exp_w: int) -> np.ndarray:
    """16-bit words of activations (the streams, bias_act, test vectors): two's complement
    (linear; signed 16-bit values) or the packed log value ``pack_log(sign, zero, exp, EA)``
    zero-extended (log; values 0 or +-2^e, e < 2^EA; 0 is the word 1 << EA). ValueError for a
    value the format does not hold."""
    v = np.asarray(values, dtype=np.int64)
    if act_mode == "log":
        return fp.pack_log(*fp.log_encode(v, act_exp_w), act_exp_w)
    if act_mode != "linear":
        raise ValueError(f"activation mode must be one of {ACT_MODES}, got {act_mode!r}")
    if fp.is_saturated(v, ACT_W).any():
        raise ValueError(f"linear activations must be signed {ACT_W}-bit")
    return v & 0xFFFF


def stream_values(words: np.ndarray, act_mode: str, act_exp_w: int) -> np.ndarray:
    """Activation values of 16-bit stream words (inverse of :func:`stream_words`); ValueError
    for a log word with bits set above EA + 2."""
    w = np.asarray(words, dtype=np.int64) & 0xFFFF
    if act_mode == "linear":
        return np.where(w >= 1 << 15, w - (1 << 16), w)
    if (w >> (act_exp_w + 2)).any():
        raise ValueError(f"log activation words must fit in EA + 2 = {act_exp_w + 2} bits")
    return fp.log_value(*fp.unpack_log(w, act_exp_w))


def layer_desc(lay: QLayer, ptr_base: int, spm_base: int, last: bool) -> tuple[int, ...]:
    """The descriptor words of one layer placed at ``ptr_base`` / ``spm_base``. bias_act is the
    activation word of the bias input (1.0: 2^frac_in, packed for log activations; 0 without
    bias in log mode)."""
    if lay.mode not in WEIGHT_MODES:
        raise ValueError(f"weight mode must be one of {WEIGHT_MODES}, got {lay.mode!r}")
    bias = lay.bias_act
    if lay.act_mode == "log":
        bias = int(stream_words(bias, "log", lay.act_exp_w)) if lay.has_bias else 0
    return encode_desc({
        "n_cols_in": lay.n_slots_in, "rows": max(lay.csc.rows_per_pe), "bias_act": bias,
        "has_bias": int(lay.has_bias), "relu": int(lay.relu),
        "weight_mode": WEIGHT_MODES.index(lay.mode), "last": int(last), "shift": lay.shift,
        "n_codes": codebook_size(lay), "act_mode": ACT_MODES.index(lay.act_mode),
        "ptr_base": ptr_base, "spm_base": spm_base, "act_exp_w": act_exp_w(lay)})


# ---- codebook words ----------------------------------------------------------------------
def codebook_words(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit memory words of a codebook of integer values: two's complement (linear) or
    ``pack_log(sign, zero, exp, 4)`` (log; every value must be 0 or +-2^e, e in 0..15)."""
    v = np.asarray(values, dtype=np.int64)
    if mode == "linear":
        if fp.is_saturated(v, ACT_W).any():
            raise ValueError(f"linear codebook values must be signed 16-bit: {v.tolist()}")
        return (v & 0xFFFF).astype(np.uint64)
    if mode != "log":
        raise ValueError(f"weight mode must be 'linear' or 'log', got {mode!r}")
    mag = np.abs(v)
    exp = np.where(mag > 0, np.log2(np.maximum(mag, 1)).round().astype(np.int64), 0)
    if ((mag > 0) & ((1 << exp) != mag)).any() or (exp > (1 << EXP_W) - 1).any():
        raise ValueError(f"log codebook values must be 0 or +-2^e, e in 0..15: {v.tolist()}")
    return fp.pack_log((v < 0).astype(np.int64), (mag == 0).astype(np.int64), exp, EXP_W).astype(np.uint64)


def codebook_values(words: np.ndarray, mode: str) -> np.ndarray:
    """Integer values of codebook words (inverse of :func:`codebook_words`)."""
    w = np.asarray(words, dtype=np.int64)
    if mode == "linear":
        return np.where(w >= 1 << 15, w - (1 << 16), w)
    if (w >> (EXP_W + 2)).any():
        raise ValueError(f"log codebook words must fit in {EXP_W + 2} bits")
    return fp.log_value(*fp.unpack_log(w, EXP_W))


# ---- memory image ------------------------------------------------------------------------
class Layout(NamedTuple):
    """Where each layer of a network sits: word addresses per layer, words in total."""

    spm_base: list[int]     # sparse-matrix word address of each layer (every PE)
    ptr_base: list[int]     # pointer word address of each layer (even)
    spm_words: int          # sparse-matrix words per PE
    ptr_words: int          # pointer words per PE (both banks)


def layout(layers: list[QLayer]) -> Layout:
    """Layers back to back: each layer's entries start at a word boundary past the largest
    share of any PE of the previous layer; its n_cols + 1 pointers at an even word."""
    spm_base, ptr_base, s, p = [], [], 0, 0
    for lay in layers:
        spm_base.append(s)
        ptr_base.append(p)
        s += max(-(-pe.n_entries // SPM_ENTRIES_PER_WORD) for pe in lay.csc.pes)
        n_ptr = lay.csc.n_cols + 1
        p += n_ptr + (n_ptr & 1)
    return Layout(spm_base, ptr_base, s, p)


@dataclass
class Image:
    """Every memory word of a network: per PE sparse-matrix and pointer words, the codebook
    words (CB_WORDS per layer, every PE) and the descriptor table."""

    spm: list[np.ndarray]
    ptr: list[np.ndarray]
    codebook: np.ndarray
    desc: list[tuple[int, ...]]


def build_image(layers: list[QLayer], ptr_w: int = PTR_W) -> Image:
    """The memory image of ``layers`` as :func:`layout` places them. ValueError when the layers
    disagree on the number of PEs or a pointer does not fit in ``ptr_w`` bits."""
    n = layers[0].csc.n_pes
    if any(lay.csc.n_pes != n for lay in layers):
        raise ValueError("all layers must use the same number of PEs")
    lo = layout(layers)
    spm = [np.zeros(lo.spm_words, dtype=np.uint64) for _ in range(n)]
    ptr = [np.zeros(lo.ptr_words, dtype=np.uint64) for _ in range(n)]
    cb, desc = [], []
    for i, lay in enumerate(layers):
        cb.append(codebook_words(lay.codebook, lay.mode))
        s0, p0 = lo.spm_base[i], lo.ptr_base[i]
        for k, pe in enumerate(lay.csc.pes):
            w = spm_words(pe.v, pe.z)
            spm[k][s0: s0 + len(w)] = w
            absolute = SPM_ENTRIES_PER_WORD * s0 + pe.ptr
            if absolute.max() >= 1 << ptr_w:
                raise ValueError(f"layer {i} PE {k}: pointer {absolute.max()} needs more than "
                                 f"PTR_W = {ptr_w} bits")
            ptr[k][p0: p0 + len(absolute)] = absolute
        desc.append(layer_desc(lay, p0, s0, i == len(layers) - 1))
    return Image(spm, ptr, np.concatenate(cb), desc)


# ---- load port ---------------------------------------------------------------------------
Write = tuple[int, int, int, int]   # (ld_sel, ld_pe, ld_addr, ld_data)


def desc_writes(desc: list[tuple[int, ...]], first: int = 0) -> list[Write]:
    """The load-port writes of descriptor table entries ``first``, ``first + 1``, ..."""
    return [(LD_DESC, 0, DESC_WORDS * (first + i) + j, int(w))
            for i, words in enumerate(desc) for j, w in enumerate(words)]


def image_writes(img: Image, selects: Iterable[int] = LOAD_SELECTS) -> list[Write]:
    """The load-port writes of a front-door load of ``img``, the memories named by ``selects``
    only; trailing zero words of the sparse-matrix memories are left out."""
    sel = set(selects)
    writes: list[Write] = []
    if LD_SPM in sel:
        for k, words in enumerate(img.spm):
            last = int(np.nonzero(words)[0].max(initial=-1))
            writes += [(LD_SPM, k, a, int(w)) for a, w in enumerate(words[: last + 1])]
    if LD_PTR in sel:
        for k, words in enumerate(img.ptr):
            writes += [(LD_PTR, k, a, int(w)) for a, w in enumerate(words)]
    if LD_CB in sel:
        writes += [(LD_CB, 0, a, int(w)) for a, w in enumerate(img.codebook)]
    if LD_DESC in sel:
        writes += desc_writes(img.desc)
    return writes


# ---- a build's memories ------------------------------------------------------------------
def build_depths(hw: Mapping[str, int]) -> dict[str, int]:
    """Words of each memory of an eie_top build with parameters ``hw`` (SPM_DEPTH, PTR_DEPTH,
    MAX_LAYERS), keyed as a manifest's ``words``: sparse-matrix words per PE, pointer words per
    bank per PE, codebook words (16 per layer address: 2^(4 + LAY_W))."""
    lay_w = 1 if hw["MAX_LAYERS"] <= 2 else (hw["MAX_LAYERS"] - 1).bit_length()
    return {"spm": hw["SPM_DEPTH"], "ptr_bank": hw["PTR_DEPTH"], "codebook": CB_WORDS << lay_w}


def fits(layers: list[QLayer], hw: Mapping[str, int]) -> bool:
    """Whether a build with parameters ``hw`` holds the network: layers, activation slots and
    rows (ACT_DEPTH per PE), sparse-matrix and pointer words (otherwise eie_top raises
    ERR_SIZE)."""
    n = hw["N_PE"]
    if len(layers) > hw["MAX_LAYERS"]:
        return False
    for lay in layers:
        if lay.n_slots_in > n * hw["ACT_DEPTH"] or max(lay.csc.rows_per_pe) > hw["ACT_DEPTH"]:
            return False
    lo = layout(layers)
    return lo.spm_words <= hw["SPM_DEPTH"] and lo.ptr_words <= 2 * hw["PTR_DEPTH"]


def pad_words(words: np.ndarray, depth: int, what: str) -> np.ndarray:
    """``words`` followed by zero words up to ``depth`` (a memory of a build, so that
    ``$readmemh`` fills every word); ValueError naming ``what`` when they do not fit."""
    words = np.asarray(words, dtype=np.uint64)
    if len(words) > depth:
        raise ValueError(f"{what}: {len(words)} words, the build holds {depth}")
    return np.concatenate([words, np.zeros(depth - len(words), dtype=np.uint64)])
