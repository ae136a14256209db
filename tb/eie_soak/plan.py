"""The soak's plan (scripts/soak.py, tb/eie_soak/cocotb_soak.py), no simulator: the builds, the
build that runs network i and everything about network i, drawn from (seed, i) alone, so that
any network reruns by itself (``make soak SEED=s ONLY=i``).

A network is one of three kinds, at set rates:

* ``clean``  a random 1..MAX_LAYERS layer network (sizes log-uniform up to the build's slots,
  weight density log-uniform in 1-100 %, any activation density), random input idle cycles and
  result back-pressure; outputs and counters against the golden model.
* ``error``  the same with one bad configuration (error causes 1..7, as tb/eie_top's errors
  test makes them: load-port patches of pointers or descriptors, a bad tlast, an input word with
  bits above the log activation): the engine must flag that cause (and PE where it names one)
  with no result, not hang, and then run the restored network exactly.
* ``reset``  a reset at a random cycle of the run (input, compute or output), then the engine
  must be idle with every counter cleared and run the network exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models import csc as mcsc
from models import engine_map as em
from models import golden
from tb.eie_lib import model, stimulus

# eie_top's multiplier modes (MUL) the soak runs; models.engine_map.MULS gives their layer
# formats (tb.eie_lib.stimulus.formats), the builds add EA for log x log
MODES = {0: "lin x lin", 1: "lin x log", 2: "log x log"}


def _build(n_pe: int, qdepth: int, mul: int, act_depth: int, max_layers: int,
           ea: int | None = None) -> dict[str, int]:
    """eie_top parameters with memories deep enough for the densest network of the build:
    every layer ``n_pe * act_depth`` slots in and out."""
    cols = n_pe * act_depth + 1
    spm = max_layers * -(-cols * act_depth // em.SPM_ENTRIES_PER_WORD)
    ptr = max_layers * (cols + 2) // 2 + 1
    if mul not in MODES:
        raise ValueError(f"MUL {mul} is not one of the soak's modes {sorted(MODES)}")
    hw = {"MUL": mul, "N_PE": n_pe, "QDEPTH": qdepth, "ACT_DEPTH": act_depth,
          "SPM_DEPTH": 1 << (spm - 1).bit_length(), "PTR_DEPTH": 1 << (ptr - 1).bit_length(),
          "MAX_LAYERS": max_layers}
    if ea is not None:
        hw["EA"] = ea
    return hw


# The fixed builds (each runs all its networks in one simulation): PEs 1 to 64, queue depths 1
# to 16, every multiplier mode, EA 3 to 5 in log x log. ``weight``: share of the networks (the
# wide builds less: loading a network's pointers takes N_PE words a column, and their model
# runs slower, 20-50x the time of a small build's network).
BUILDS = {
    "n1-q1-lin": (_build(1, 1, 0, 64, 3), 1.0),
    "n2-q16-log": (_build(2, 16, 1, 32, 4), 1.0),
    "n3-q2-loglog": (_build(3, 2, 2, 16, 3, ea=4), 1.0),
    "n4-q3-lin": (_build(4, 3, 0, 16, 4), 1.0),
    "n7-q8-log": (_build(7, 8, 1, 8, 3), 1.0),
    "n8-q1-loglog": (_build(8, 1, 2, 8, 2, ea=3), 1.0),
    "n16-q16-lin": (_build(16, 16, 0, 4, 3), 1.0),
    "n33-q2-log": (_build(33, 2, 1, 4, 2), 0.3),
    "n64-q8-loglog": (_build(64, 8, 2, 2, 2, ea=5), 0.25),
    "n64-q4-lin": (_build(64, 4, 0, 4, 2), 0.25),
}
KINDS = ("clean", "error", "reset")


def rng(seed: int, i: int, stream: int) -> np.random.Generator:
    """Network i's generators: 0 picks the build, 1 the network, its kind and fault, 2 the
    input idle cycles, 3 the back-pressure runs (drawn while the run goes)."""
    return np.random.default_rng([seed, i, stream])


def build_of(seed: int, i: int, builds: list[str]) -> str:
    """The build that runs network i: drawn from (seed, i) by the builds' weights."""
    w = np.array([BUILDS[b][1] for b in builds])
    return builds[int(rng(seed, i, 0).choice(len(builds), p=w / w.sum()))]


@dataclass
class BadConfig:
    """An error network's fault: load-port writes that make it and those that undo it, the
    input words to send and where tlast goes, the cause expected and the PEs that may name it
    (None: err_pe not checked), the layers that complete before the fault."""

    cause: int
    what: str
    patch: list[em.Write] = field(default_factory=list)
    restore: list[em.Write] = field(default_factory=list)
    words: list[int] | None = None
    tlast_at: int | None = None
    pes: set[int] | None = None
    layers_done: int = 0


@dataclass
class Network:
    """Network i of a soak: its layers and input, its kind, the run's idle / ready
    probabilities, the fault of an error network, the reset time of a reset network."""

    index: int
    build: str
    kind: str
    layers: list[golden.QLayer]
    x: np.ndarray
    idle: float
    ready: float
    bad: BadConfig | None = None
    reset_after: int = 0
    reset_cycles: int = 1

    @property
    def shape(self) -> list[int]:
        return [self.layers[0].n_slots_in] + [lay.n_out for lay in self.layers]


def _size(g: np.random.Generator, cap: int) -> int:
    """Log-uniform in 1..cap (small layers often, the largest sometimes)."""
    return min(cap, int(np.exp(g.uniform(0.0, np.log(cap + 1)))))


def random_layers(g: np.random.Generator, hw: dict) -> tuple[list[golden.QLayer], np.ndarray]:
    """A random network that fits the build (shapes, densities), and its input."""
    cap = hw["N_PE"] * hw["ACT_DEPTH"]
    fmt = stimulus.formats(hw)
    for _ in range(100):
        outs = [_size(g, cap) for _ in range(int(g.integers(1, hw["MAX_LAYERS"] + 1)))]
        act = float(g.choice([0.0, 1.0, g.uniform(0.05, 1.0)], p=[0.05, 0.15, 0.8]))
        layers, x = stimulus.random_network(g, hw["N_PE"], _size(g, cap), outs,
                                            density=float(np.exp(g.uniform(np.log(0.01), 0.0))),
                                            act_density=act, **fmt)
        if em.fits(layers, hw):
            return layers, x
    raise ValueError(f"no random network fits the build {hw}")


def network(seed: int, i: int, builds: list[str], bad_rate: float,
            reset_rate: float) -> Network:
    """Network i of the soak with ``seed`` over ``builds``, errors and resets at the given
    rates."""
    name = build_of(seed, i, builds)
    hw = BUILDS[name][0]
    g = rng(seed, i, 1)
    layers, x = random_layers(g, hw)
    u = g.random()
    kind = "error" if u < bad_rate else "reset" if u < bad_rate + reset_rate else "clean"
    idle = float(g.choice([0.0, g.uniform(0.0, 0.6)]))
    ready = float(g.choice([1.0, g.uniform(0.1, 1.0)]))
    net = Network(i, name, kind, layers, x, idle, ready)
    if kind == "error":
        net.bad = bad_config(g, hw, layers, x)
        if net.bad.cause == em.ERR_PTR_ORDER:   # the faulty column 0 must be broadcast
            net.x = x = x.copy()
            x[0] = x[0] or 1 << int(g.integers(0, 8))
            net.bad.words = model.input_words(layers, x)
    elif kind == "reset":
        net.reset_after = int(g.integers(1, cycle_estimate(layers, x) + 1))
        net.reset_cycles = int(g.integers(1, 4))
    return net


def cycle_estimate(layers: list[golden.QLayer], x: np.ndarray) -> int:
    """A run's cycles without idle or back-pressure, about: input, every layer's deep-queue
    bound plus its pipeline and write-back, output."""
    cyc = model.expected_counters(layers, x)["bound"]
    layer_cycles = sum(16 + max(lay.csc.rows_per_pe) for lay in layers)
    return len(x) + cyc + layer_cycles + layers[-1].n_slots_out


def _active_entries(lay: golden.QLayer, a: np.ndarray, pe: mcsc.PECSC):
    """(code v, local row) of the entries of PE ``pe`` in the columns that input ``a``
    (bias column included) broadcasts."""
    _, rows = mcsc.entry_positions(pe, lay.csc.n_cols)
    on = np.repeat(a != 0, pe.col_counts())
    return pe.v[on].astype(np.int64), rows[on]


def bad_config(g: np.random.Generator, hw: dict, layers: list[golden.QLayer],
               x: np.ndarray) -> BadConfig:
    """One fault for the network: cause drawn uniformly from 1..7, the next cause that applies
    when it does not (the network has no bias column, no code to break, a single input, ...)."""
    first = int(g.integers(1, 8))
    for k in range(7):
        cause = (first - 1 + k) % 7 + 1
        bad = _FAULTS[cause](g, hw, layers, x)
        if bad is not None:
            return bad
    raise ValueError("no fault applies to this network")


def _desc_fault(cause: int, what: str, img: em.Image, layer: int, **changes) -> BadConfig:
    return BadConfig(cause, what, em.desc_writes([em.desc_with(img.desc[layer], **changes)], layer),
                     em.desc_writes([img.desc[layer]], layer), layers_done=layer)


def _ptr_range(g, hw, layers, x):
    """1: the last pointer of layer 0 (the end of its bias column) of one PE past the memory."""
    lay = layers[0]
    if not lay.has_bias:
        return None
    img, pe = em.build_image(layers), int(g.integers(hw["N_PE"]))
    w = lay.csc.n_cols
    return BadConfig(em.ERR_PTR_RANGE, f"PE {pe} pointer {w} past the memory",
                     [(em.LD_PTR, pe, w, 8 * hw["SPM_DEPTH"] + 1)],
                     [(em.LD_PTR, pe, w, int(img.ptr[pe][w]))], pes={pe})


def _ptr_order(g, hw, layers, x):
    """2: column 0 of layer 0 ends before it starts in one PE (p[0] = p[1] + 1; the network
    makes input 0 non-zero)."""
    img, pe = em.build_image(layers), int(g.integers(hw["N_PE"]))
    p1 = int(img.ptr[pe][1])
    if p1 + 1 > 8 * hw["SPM_DEPTH"]:        # would be past the memory: cause 1 first
        return None
    return BadConfig(em.ERR_PTR_ORDER, f"PE {pe} column 0 ends before it starts",
                     [(em.LD_PTR, pe, 0, p1 + 1)], [(em.LD_PTR, pe, 0, int(img.ptr[pe][0]))],
                     pes={pe})


def _size_fault(g, hw, layers, x):
    """3: a layer larger than the buffers (input slots, rows, pointer words), or no last layer
    in the table (a network of MAX_LAYERS layers)."""
    img, layer = em.build_image(layers), int(g.integers(len(layers)))
    d = em.decode_desc(img.desc[layer])
    options = [("n_cols_in", hw["N_PE"] * hw["ACT_DEPTH"] + 1), ("rows", hw["ACT_DEPTH"] + 1)]
    if d["n_cols_in"] + d["has_bias"] + 1 > 2:
        options.append(("ptr_base", 2 * hw["PTR_DEPTH"] - 2))
    if len(layers) == hw["MAX_LAYERS"]:
        options.append(("last", 0))
    name, value = options[int(g.integers(len(options)))]
    if name == "last":
        layer = len(layers) - 1
    return _desc_fault(em.ERR_SIZE, f"layer {layer} {name} = {value}", img, layer, **{name: value})


def _reached(layers, x, what: int) -> list[list[np.ndarray]]:
    """Per layer and PE, the codes (``what`` 0) or local rows (1) of the entries its input
    reaches."""
    return [[_active_entries(lay, a, pe)[what] for pe in lay.csc.pes]
            for lay, a in zip(layers, model.layer_inputs(layers, x))]


def _pick_layer(g, reached: list[list[np.ndarray]]) -> int | None:
    """A layer whose input reaches a code or row >= 1 (None: none does)."""
    ok = [k for k, per_pe in enumerate(reached) if max(int(v.max(initial=0)) for v in per_pe) >= 1]
    return ok[int(g.integers(len(ok)))] if ok else None


def _reach_fault(g, layers, x, which: int, cause: int, field: str):
    """A layer's ``field`` (n_codes: ``which`` 0, rows: 1) set below a code or row its input
    reaches, so that the PEs holding such an entry raise ``cause`` (None: no layer reaches one)."""
    reached = _reached(layers, x, which)
    layer = _pick_layer(g, reached)
    if layer is None:
        return None
    per_pe = reached[layer]
    n = int(g.integers(1, max(int(v.max(initial=0)) for v in per_pe) + 1))
    img = em.build_image(layers)
    bad = _desc_fault(cause, f"layer {layer} {field} = {n}", img, layer, **{field: n})
    bad.pes = {k for k, v in enumerate(per_pe) if (v >= n).any()}
    return bad


def _code_fault(g, hw, layers, x):
    """4: a layer's codebook size below a code its input reaches."""
    return _reach_fault(g, layers, x, 0, em.ERR_CODE, "n_codes")


def _row_fault(g, hw, layers, x):
    """5: a layer's rows per PE below a row its input reaches."""
    return _reach_fault(g, layers, x, 1, em.ERR_ROW, "rows")


def _desc_fault_any(g, hw, layers, x):
    """6: a bad descriptor: weight or activation mode, EA, codebook size 0 or > 16, rows 0,
    odd ptr_base, more input columns than the previous layer's slots, bias_act wider than a
    log activation."""
    img, layer = em.build_image(layers), int(g.integers(len(layers)))
    d = em.decode_desc(img.desc[layer])
    options = [("weight_mode", 1 - d["weight_mode"]), ("act_mode", 1 - d["act_mode"]),
               ("act_exp_w", d["act_exp_w"] ^ 1), ("n_codes", 0),
               ("n_codes", int(g.integers(17, 32))), ("rows", 0)]
    if (d["ptr_base"] | 1) + d["n_cols_in"] + d["has_bias"] + 1 <= 2 * hw["PTR_DEPTH"]:
        options.append(("ptr_base", d["ptr_base"] | 1))
    if layer:
        wide = hw["N_PE"] * max(layers[layer - 1].csc.rows_per_pe) + 1
        if (wide <= hw["N_PE"] * hw["ACT_DEPTH"]
                and d["ptr_base"] + wide + d["has_bias"] + 1 <= 2 * hw["PTR_DEPTH"]):
            options.append(("n_cols_in", wide))
    if hw["MUL"] == 2:
        options.append(("bias_act", d["bias_act"] | 1 << int(g.integers(hw["EA"] + 2, 15))))
    name, value = options[int(g.integers(len(options)))]
    return _desc_fault(em.ERR_DESC, f"layer {layer} {name} = {value}", img, layer, **{name: value})


def _stream_fault(g, hw, layers, x):
    """7: the input stream's tlast early or missing, or (log activations) a word with a bit set
    above the packed value."""
    words = model.input_words(layers, x)
    n = len(words)
    options = ["missing"] + (["early"] if n >= 2 else []) + (["wide"] if hw["MUL"] == 2 else [])
    how = options[int(g.integers(len(options)))]
    if how == "early":
        at = int(g.integers(0, n - 1))
        return BadConfig(em.ERR_STREAM, f"tlast on input {at} of {n}", words=words, tlast_at=at)
    if how == "missing":
        return BadConfig(em.ERR_STREAM, f"no tlast on {n} inputs", words=words, tlast_at=n)
    j, bit = int(g.integers(n)), int(g.integers(hw["EA"] + 2, 16))
    bad = words[:j] + [words[j] | 1 << bit] + words[j + 1:]
    return BadConfig(em.ERR_STREAM, f"input {j} with bit {bit} set", words=bad)


_FAULTS = {em.ERR_PTR_RANGE: _ptr_range, em.ERR_PTR_ORDER: _ptr_order, em.ERR_SIZE: _size_fault,
           em.ERR_CODE: _code_fault, em.ERR_ROW: _row_fault, em.ERR_DESC: _desc_fault_any,
           em.ERR_STREAM: _stream_fault}
