"""Sequences of NetworkItems for the engine, sized to the build (``HW``: the eie_top parameters).

Every sequence makes networks in the formats of the build's multiplier (MUL 0: k-means weights,
MUL 1: log weights, MUL 2: log weights and log activations with EA exponent bits).

* :class:`RealNetworkSeq`  LeNet-300-100 compressed by models/ (digits, MNIST when given) in the
  build's formats, its exported test vectors.
* :class:`RandomLayerSeq`  random sparse networks: 1..3 layers, sides from 1 to the build's
  capacity (>= 1,024 on the wide builds), weight density 1..100 %, activation density 0..100 %,
  sometimes a saturating shift, random idle cycles and back-pressure.
* :class:`CornerSeq`       all-zero input (with and without bias), all-zero columns, a PE with no
  rows, a fully dense layer, gaps that need padding, saturation both ways, 1x1 layers,
  back-to-back updates of one accumulator (bypass), tiny queues; with log activations every
  output underflowing to zero.
* :class:`ErrorSeq`        every error cause 1..7 (a bad pointer, order, size, code, row,
  descriptor: modes or EA of another build too, stream: bits above a log activation too) then
  a clean run.
* :class:`ResetSeq`        reset in the middle of a layer, then a clean run of the same network.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pyuvm import ConfigDB, uvm_sequence

from models import csc as mcsc
from models import engine_map as em
from models import golden, memimage
from tb.eie_lib import model, stimulus
from tb.eie_uvm.env import NetworkItem

ENTRY_BUDGET = int(os.environ.get("EIE_UVM_ENTRIES", "24000"))   # (v, z) entries per network


def entries(layers) -> int:
    return sum(pe.n_entries for l in layers for pe in l.csc.pes)


def make_layer(g, codes: np.ndarray, n_pes: int, fmt: dict, x_in: np.ndarray, bias: bool,
               relu: bool, n_slots_in: int, shift: int | None = None, cb=None,
               pe_of_row=None) -> golden.QLayer:
    """One layer in the formats ``fmt`` (stimulus.formats); the bias input 1.0 is 2^8 (linear)
    or 2^frac_in with a random frac_in (log activations)."""
    lay = mcsc.encode(codes, n_pes, pe_of_row=pe_of_row)
    mode, act = fmt["mode"], {k: fmt[k] for k in ("act_mode", "act_exp_w")}
    if cb is None:
        exp_max = stimulus.weight_exp_max(codes.shape[1], **act)
        cb = stimulus.random_codebook(g, mode, exp_max=exp_max)
    cb = np.asarray(cb, dtype=np.int64)
    frac_in = int(g.integers(0, 1 << act["act_exp_w"])) if act["act_mode"] == "log" else 0
    bias_act = 1 << (frac_in if act["act_mode"] == "log" else 8)
    xin = np.concatenate([x_in, [bias_act]]) if bias else x_in
    if shift is None:
        shift = stimulus.pick_shift(lay, cb, xin, **act)
    return golden.QLayer(csc=lay, codebook=cb, shift=shift, relu=relu, has_bias=bias,
                         bias_act=bias_act, n_in=n_slots_in, n_slots_in=n_slots_in, mode=mode,
                         frac_in=frac_in, **act)


class EieSeq(uvm_sequence):
    """Base: the build's parameters and the test's random generator from the ConfigDB."""

    def __init__(self, name="seq", count: int = 4):
        super().__init__(name)
        self.count = count

    async def body(self):
        self.hw = ConfigDB().get(None, "", "HW")
        self.g: np.random.Generator = ConfigDB().get(None, "", "RNG")
        self.fmt = stimulus.formats(self.hw)
        self.act = {k: self.fmt[k] for k in ("act_mode", "act_exp_w")}
        for item in self.items():
            await self.start_item(item)
            await self.finish_item(item)

    def items(self):
        return []


class RealNetworkSeq(EieSeq):
    """Exported real networks (folders in EIE_UVM_REAL, os.pathsep-separated, written by
    tb/eie_uvm/realnets.py), first ``count`` exported test vectors each (the exported golden
    outputs are checked against the model read back from the images first)."""

    def items(self):
        dirs = [Path(d) for d in os.environ.get("EIE_UVM_REAL", "").split(os.pathsep) if d]
        for d in dirs:
            m, layers = memimage.read_images(d)
            if not em.runs_on(layers, self.hw) or layers[0].csc.n_pes != self.hw["N_PE"] \
                    or not em.fits(layers, self.hw):
                continue
            v = np.load(d / "vectors" / "vectors.npz")
            xs = v["x_q"][: self.count]
            # the exported golden vectors agree with the model read back from the images
            assert (model.expected_slots(layers, xs[0]) == v[f"y_slots{len(layers) - 1}"][0]).all()
            name = f"real-{m['dataset']}-{m['weights']}-{layers[0].act_mode}"
            yield NetworkItem(name, layers, list(xs), tags=("real",), idle=0.1, ready=0.8)


class RandomLayerSeq(EieSeq):
    """Random sparse networks that fit the build, up to ENTRY_BUDGET entries each."""

    def items(self):
        hw, g = self.hw, self.g
        n, cap = hw["N_PE"], hw["N_PE"] * hw["ACT_DEPTH"]
        made = tries = 0
        while made < self.count:
            tries += 1
            assert tries < 500, "no random network fits this build"
            n_layers = int(g.integers(1, min(3, hw["MAX_LAYERS"]) + 1))
            big = g.random() < 0.4
            n_in = int(g.integers(max(1, cap // 2), cap + 1)) if big else int(g.integers(1, cap + 1))
            outs = [int(g.integers(max(1, cap // 2), cap + 1)) if big and i == 0
                    else int(g.integers(1, cap + 1)) for i in range(n_layers)]
            if made == 0 and cap >= 1024:   # the first network has a side of the full capacity
                n_layers, outs = 1, outs[:1]
                if g.random() < 0.5:
                    n_in = cap
                else:
                    outs = [cap]
            # density: log-uniform 1 % .. 100 %, limited by the entry budget; every fourth network
            # is dense (75-99 %) and small, so that each build covers that density class too
            dense = made % 4 == 3
            if dense:
                n_in = int(min(cap, g.integers(16, 65)))
                outs = [int(min(cap, g.integers(16, 65))) for _ in outs]
            dens = float(g.uniform(0.75, 0.99)) if dense else float(np.exp(g.uniform(np.log(0.01), 0.0)))
            dens = min(dens, ENTRY_BUDGET / max(1, sum(a * b for a, b in zip([n_in] + outs, outs))))
            dens = max(dens, 0.01)
            act = float(g.choice([0.0, 1.0, g.uniform(0.01, 1.0), g.uniform(0.01, 1.0)]))
            layers, x = stimulus.random_network(g, n, n_in, outs, density=dens, act_density=act,
                                                bias=bool(g.random() < 0.8), **self.fmt)
            tags = ["random"]
            if g.random() < 0.3:   # saturating shifts
                for lay in layers:
                    lay.shift = max(0, lay.shift - int(g.integers(2, 6)))
                tags.append("saturation")
            if not em.fits(layers, hw) or entries(layers) > ENTRY_BUDGET:
                continue
            made += 1
            xs = [x] + [stimulus.random_acts(g, n_in, float(g.uniform(0, 1)), **self.act)
                        for _ in range(int(g.integers(0, 2)))]
            yield NetworkItem(f"random{made}", layers, xs, tags=tuple(tags),
                              idle=float(g.choice([0.0, 0.3])), ready=float(g.choice([1.0, 0.5, 0.2])))


class CornerSeq(EieSeq):
    """The corner cases that fit the build (padding needs more than 16 rows per PE; a PE with
    no rows more than one PE)."""

    def items(self):
        hw, g, fmt, act = self.hw, self.g, self.fmt, self.act
        log = act["act_mode"] == "log"
        top = 1 << ((1 << act["act_exp_w"]) - 1) if log else 30000   # a large activation
        n, depth = hw["N_PE"], hw["ACT_DEPTH"]
        cap = n * depth
        n_in = min(cap, 24)
        n_out = min(cap, 2 * n + 1)

        def one(name, codes, x, tags, bias=True, shift=None, cb=None, pe_of_row=None, **kw):
            lay = make_layer(g, codes, n, fmt, x, bias, False, len(x), shift, cb, pe_of_row)
            layers = [lay]
            if em.fits(layers, hw):
                return NetworkItem(name, layers, [x], tags=tags, **kw)
            return None

        dense = lambda r, c: g.integers(1, 16, (r, c))   # noqa: E731
        x_full = stimulus.random_acts(g, n_in, 1.0, **act)
        x_full[x_full == 0] = 4 if log else 5
        items = [
            one("zero-input", dense(n_out, n_in + 1), np.zeros(n_in, np.int64), ("zero-input",)),
            one("zero-input-no-bias", dense(n_out, n_in), np.zeros(n_in, np.int64),
                ("zero-input",), bias=False),
            one("one-by-one", dense(1, 2), np.array([1 << 5 if log else 1234]), ("random",)),
            one("dense", dense(n_out, n_in + 1), x_full, ("dense",), ready=0.3),
        ]
        codes = stimulus.random_codes(g, n_out, n_in + 1, 0.5)
        codes[:, 1::3] = 0
        items.append(one("zero-columns", codes, x_full, ("zero-columns",)))
        if n > 1:   # PE n-1 gets no row
            rows = max(1, n - 1)
            items.append(one("empty-PE", dense(rows, n_in + 1), x_full, ("empty-PE",)))
            pe_of_row = np.arange(2 * n) % max(1, n - 1)   # custom assignment, last PE empty
            items.append(one("empty-PE-assigned", dense(2 * n, n_in + 1), x_full, ("empty-PE",),
                             pe_of_row=pe_of_row))
        if depth > 16:   # gaps > 15 local rows: padding entries
            r = min(cap, n * depth)
            codes = np.zeros((r, n_in + 1), np.int64)
            codes[0, :] = 3
            codes[r - 1, ::2] = 7
            codes[min(r - 1, 17 * n), 1::3] = 2
            items.append(one("padding", codes, x_full, ("padding",)))
        # saturation both ways (no ReLU): large weights and activations, shift 0
        cb = np.zeros(16, np.int64)
        if fmt["mode"] == "linear":
            cb[1:] = [30000, -30000] * 7 + [30000]
        else:
            big = 1 << min(14, stimulus.weight_exp_max(n_in + 1, **act))
            cb[1:] = [big, -big] * 7 + [big]
        xs = np.full(n_in, top, np.int64)
        items.append(one("saturation", dense(n_out, n_in + 1), xs, ("saturation",), shift=0, cb=cb))
        if log:   # underflow to zero: every accumulator (< 24 * 2^11) below half an LSB (2^19)
            items.append(one("underflow", dense(n_out, n_in), np.ones(n_in, np.int64),
                             ("random",), bias=False, shift=20))
        # bypass: every column hits local row 0 of each PE only -> back-to-back same accumulator
        codes = np.zeros((n_out, n_in + 1), np.int64)
        codes[: min(n, n_out), :] = 1
        items.append(one("bypass", codes, x_full, ("bypass",)))
        # tiny queue stress: dense first column bursts with idle-free input and slow output
        items.append(one("stall", dense(n_out, n_in + 1), x_full, ("dense",), ready=0.1, idle=0.0))
        return [i for i in items if i is not None]


class ErrorSeq(EieSeq):
    """Each bad configuration class (rtl/eie_top.v causes 1..7) on a small network: the error
    flag with its cause, no result, no hang; then a clean run."""

    def items(self):
        hw, g, n = self.hw, self.g, self.hw["N_PE"]
        log = self.act["act_mode"] == "log"
        for _ in range(200):
            layers, x = stimulus.random_network(g, n, 2 * n, [2 * n], density=0.5,
                                                act_density=1.0, **self.fmt)
            x[x == 0] = 4 if log else 7
            if em.fits(layers, hw) and min(len(pe.v) for pe in layers[0].csc.pes) > 2:
                break
        else:
            raise AssertionError("no small network fits this build")
        img = em.build_image(layers)
        lay, desc = layers[0], img.desc[0]
        bad = n - 1
        last_word = lay.csc.n_cols
        P = em.LD_PTR

        def err(name, cause, patches, restore=(), pe=None, load=False, **kw):
            return NetworkItem(f"error-{name}", layers, [x], tags=("errors",), load=load,
                               patches=patches, restore=list(restore), expect_error=cause,
                               expect_pe=pe, **kw)

        def bad_desc(name, cause, **changes):
            return err(name, cause, em.desc_writes([em.desc_with(desc, **changes)]),
                       em.desc_writes([desc]))

        fields = em.decode_desc(desc)
        used = int(max(pe.v.max() for pe in lay.csc.pes))
        yield err("ptr-range", em.ERR_PTR_RANGE,
                  [(P, bad, last_word, 8 * hw["SPM_DEPTH"] + 1)],
                  [(P, bad, last_word, int(img.ptr[bad][last_word]))], pe=bad, load=True)
        yield err("ptr-order", em.ERR_PTR_ORDER, [(P, bad, 0, int(img.ptr[bad][1]) + 1)],
                  [(P, bad, 0, int(img.ptr[bad][0]))], pe=bad)
        yield bad_desc("size-ncols", em.ERR_SIZE, n_cols_in=n * hw["ACT_DEPTH"] + 1)
        yield bad_desc("size-rows", em.ERR_SIZE, rows=hw["ACT_DEPTH"] + 1)
        yield bad_desc("size-ptr", em.ERR_SIZE, ptr_base=2 * hw["PTR_DEPTH"] - 2)
        yield err("size-no-last", em.ERR_SIZE,
                  em.desc_writes([em.desc_with(desc, last=0)] * hw["MAX_LAYERS"]),
                  em.desc_writes([desc]))
        yield bad_desc("code", em.ERR_CODE, n_codes=used)
        yield bad_desc("row", em.ERR_ROW, rows=1)
        yield bad_desc("desc-mode", em.ERR_DESC, weight_mode=1 - fields["weight_mode"])
        yield bad_desc("desc-act-mode", em.ERR_DESC, act_mode=1 - fields["act_mode"])
        yield bad_desc("desc-act-exp-w", em.ERR_DESC, act_exp_w=fields["act_exp_w"] ^ 1)
        yield bad_desc("desc-ncodes0", em.ERR_DESC, n_codes=0)
        yield bad_desc("desc-ncodes17", em.ERR_DESC, n_codes=17)
        yield bad_desc("desc-rows0", em.ERR_DESC, rows=0)
        yield bad_desc("desc-odd-ptr", em.ERR_DESC, ptr_base=fields["ptr_base"] | 1)
        yield err("stream-early", em.ERR_STREAM, [], tlast_at=len(x) - 2)
        yield err("stream-missing", em.ERR_STREAM, [], tlast_at=len(x))
        if log:   # bits above the packed log activation: in an input word, in bias_act
            sw = self.act["act_exp_w"] + 2
            j = int(g.integers(0, len(x)))
            yield err("stream-upper-bits", em.ERR_STREAM, [],
                      bad_word=(j, model.input_words(layers, x)[j] | 1 << sw))
            yield bad_desc("desc-bias-upper-bits", em.ERR_DESC,
                           bias_act=fields["bias_act"] | 1 << sw)
        yield NetworkItem("after-errors", layers, [x], tags=("random",), load=False)


class ResetSeq(EieSeq):
    """Reset while a layer runs (queues and pipelines busy), then the same network again."""

    def items(self):
        hw, g, n = self.hw, self.g, self.hw["N_PE"]
        cap = n * hw["ACT_DEPTH"]
        for _ in range(200):
            half = max(1, min(cap // 2, 96))
            layers, x = stimulus.random_network(g, n, half, [half, max(1, half // 2)],
                                                density=0.4, act_density=0.9, **self.fmt)
            if em.fits(layers, hw) and entries(layers) <= ENTRY_BUDGET:
                break
        else:
            raise AssertionError("no network fits this build")
        after = len(x) + 4 + int(g.integers(0, 30))
        yield NetworkItem("reset-mid-layer", layers, [x], tags=("reset",), reset_after=after)
        yield NetworkItem("after-reset", layers, [x], tags=("random",), load=False, idle=0.1,
                          ready=0.7)
