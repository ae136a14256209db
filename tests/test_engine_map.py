"""models/engine_map.py: the descriptor field table against rtl/eie_top.v's header, the memory
image against the exported $readmemh files, the load-port writes, a build's depths."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conftest import random_network
from models import engine_map as em
from models import memimage


def test_descriptor_fields_are_disjoint_and_fit_the_words():
    used = [0] * em.DESC_WORDS
    for name, f in em.DESC_FIELDS.items():
        assert 0 <= f.word < em.DESC_WORDS and f.lsb + f.width <= 64, name
        bits = ((1 << f.width) - 1) << f.lsb
        assert not used[f.word] & bits, f"{name} overlaps another field"
        used[f.word] |= bits


def test_layer_descriptor_has_the_rtl_header_bit_layout(rng):
    """Word A / B as rtl/eie_top.v's header lists the bits, written out here by hand."""
    lay = random_network(rng, [20, 30], 4, mode="log")[0]
    lay.shift, lay.relu = 37, True
    a, b = em.layer_desc(lay, ptr_base=22, spm_base=5, last=True)
    rows, n_codes = max(lay.csc.rows_per_pe), em.codebook_size(lay)
    assert a == (20 | rows << 16 | (1 << 8) << 32 | 1 << 48 | 1 << 49 | 1 << 50 | 1 << 51
                 | 37 << 52 | n_codes << 58)
    assert b == 22 | 5 << 32
    assert em.decode_desc((a, b)) == {
        "n_cols_in": 20, "rows": rows, "bias_act": 256, "has_bias": 1, "relu": 1,
        "weight_mode": 1, "last": 1, "shift": 37, "n_codes": n_codes, "act_mode": 0,
        "ptr_base": 22, "spm_base": 5, "act_exp_w": 0}


@pytest.mark.parametrize("ea", [3, 5])
def test_log_activation_descriptor(rng, ea):
    """Log activations: act_mode (word A bit 63), act_exp_w (word B bits 63:60) and bias_act as
    the packed log value of 1.0 = 2^frac_in, {sign 0, zero 0, exp frac_in}."""
    lay = replace(random_network(rng, [20, 30], 4, mode="log")[0], act_mode="log",
                  act_exp_w=ea, frac_in=6, bias_act=1 << 6)
    a, b = em.layer_desc(lay, ptr_base=22, spm_base=(1 << 28) - 1, last=False)
    assert a >> 63 == 1 and (a >> 32 & 0xFFFF) == 6 and b >> 60 == ea
    assert b == 22 | ((1 << 28) - 1) << 32 | ea << 60
    no_bias = replace(lay, has_bias=False)
    assert em.decode_desc(em.layer_desc(no_bias, 0, 0, True))["bias_act"] == 0
    with pytest.raises(ValueError, match="'spm_base' = 268435456 outside"):
        em.layer_desc(lay, 0, 1 << 28, True)


def test_mul_of_and_runs_on(rng):
    lin = random_network(rng, [20, 30, 7], 4)
    log_w = random_network(rng, [20, 30, 7], 4, mode="log")
    log_a = [replace(l, act_mode="log", act_exp_w=5) for l in log_w]
    assert [em.mul_of(n) for n in (lin, log_w, log_a)] == [0, 1, 2]
    assert em.MULS[2] == ("log", "log") and em.runs_on(log_a, {"MUL": 2, "EA": 5})
    assert not em.runs_on(log_a, {"MUL": 2}) and not em.runs_on(log_a, {"MUL": 1})
    assert em.runs_on(log_w, {"MUL": 1}) and em.runs_on(lin, {"MUL": 0, "EA": 3})
    with pytest.raises(ValueError, match="mix"):
        em.mul_of([log_a[0], replace(log_a[1], act_exp_w=4)])
    with pytest.raises(ValueError, match="no eie_top build runs linear weights with log"):
        em.mul_of([replace(lin[0], act_mode="log", act_exp_w=4)])


def test_stream_words():
    """16-bit words of activations: two's complement, or pack_log zero-extended (0 -> 1 << EA)."""
    v = np.array([0, 1, -1, 1 << 15, -(1 << 3)])
    words = em.stream_words(v, "log", 4)
    assert words.tolist() == [0b010000, 0, 0b100000, 15, 0b100011]
    assert np.array_equal(em.stream_values(words, "log", 4), v)
    assert em.stream_words(v[:3], "log", 3).tolist() == [0b01000, 0, 0b10000]
    lin = np.array([0, -1, 32767, -32768])
    assert em.stream_words(lin, "linear", 4).tolist() == [0, 0xFFFF, 0x7FFF, 0x8000]
    assert np.array_equal(em.stream_values(em.stream_words(lin, "linear", 4), "linear", 4), lin)
    with pytest.raises(ValueError, match="3 is not a log value"):
        em.stream_words(np.array([3]), "log", 4)
    with pytest.raises(ValueError, match="not a log value"):
        em.stream_words(np.array([1 << 16]), "log", 4)
    with pytest.raises(ValueError, match="signed 16-bit"):
        em.stream_words(np.array([1 << 15]), "linear", 4)
    with pytest.raises(ValueError, match="fit in EA \\+ 2 = 6 bits"):
        em.stream_values(np.array([0x40]), "log", 4)


def test_descriptor_round_trip_signed_and_errors():
    fields = {name: 0 for name in em.DESC_FIELDS}
    words = em.encode_desc({**fields, "bias_act": -5, "n_codes": 17, "rows": 0xFFFF})
    assert em.decode_desc(words)["bias_act"] == -5 and words[0] >> 32 & 0xFFFF == 0xFFFB
    assert em.desc_with(words, n_codes=3) == em.encode_desc({**em.decode_desc(words), "n_codes": 3})
    with pytest.raises(ValueError, match="'shift' = 64 outside"):
        em.encode_desc({**fields, "shift": 64})
    with pytest.raises(ValueError, match="'bias_act' = 32768 outside"):
        em.encode_desc({**fields, "bias_act": 1 << 15})
    with pytest.raises(ValueError, match="'relu' missing"):
        em.encode_desc({k: v for k, v in fields.items() if k != "relu"})
    with pytest.raises(ValueError, match="unknown descriptor fields"):
        em.desc_with(words, stride=2)
    with pytest.raises(ValueError, match="has 2 words"):
        em.decode_desc([0])


def test_log_codebook_words():
    values = np.array([0, 1, -1, 2 ** 15, -(2 ** 3)] + [0] * 11)
    words = em.codebook_words(values, "log")
    assert words[:5].tolist() == [0b010000, 0, 0b100000, 15, 0b100011]
    assert np.array_equal(em.codebook_values(words, "log"), values)
    with pytest.raises(ValueError, match="log codebook"):
        em.codebook_words(np.array([3] + [0] * 15), "log")
    with pytest.raises(ValueError, match="16-bit"):
        em.codebook_words(np.array([40000] + [0] * 15), "linear")


def test_image_is_what_the_exporter_writes(tmp_path, rng):
    """build_image's words are the $readmemh files' words; its descriptors are the manifest's
    layers (bases, codebook sizes)."""
    net = random_network(rng, [20, 30, 11, 7], 4, permute=True)
    m = memimage.write_images(tmp_path, net)
    img = em.build_image(net)
    for k in range(4):
        spm = memimage.read_hex(tmp_path / f"spm_pe{k}.hex", memimage.SPM_DIGITS)
        even = memimage.read_hex(tmp_path / f"ptr_even_pe{k}.hex", 5)
        assert np.array_equal(img.spm[k], spm) and np.array_equal(img.ptr[k][0::2], even)
    assert np.array_equal(img.codebook, memimage.read_hex(tmp_path / "codebook.hex", 4))
    for words, ml in zip(img.desc, m["layers"]):
        d = em.decode_desc(words)
        assert (d["ptr_base"], d["spm_base"], d["n_codes"]) == \
            (ml["ptr_base"], ml["spm_base"], ml["codebook_size"])
    assert [em.decode_desc(w)["last"] for w in img.desc] == [0, 0, 1]


def test_image_errors(rng):
    net = random_network(rng, [20, 30, 7], 2)
    with pytest.raises(ValueError, match="needs more than PTR_W = 4 bits"):
        em.build_image(net, ptr_w=4)
    net[1].csc = random_network(rng, [30, 7], 3)[0].csc
    with pytest.raises(ValueError, match="same number of PEs"):
        em.build_image(net)


def test_image_writes(rng):
    net = random_network(rng, [20, 30, 7], 2)
    img = em.build_image(net)
    img.spm[1][len(img.spm[1]) - 1] = 0            # a trailing zero word is not written
    w = em.image_writes(img)
    sels = [s for s, *_ in w]
    last_spm = [int(np.nonzero(s)[0].max(initial=-1)) + 1 for s in img.spm]
    assert sels.count(em.LD_SPM) == sum(last_spm)
    assert sels.count(em.LD_PTR) == 2 * len(img.ptr[0])
    assert sels.count(em.LD_CB) == em.CB_WORDS * 2
    assert w[-4:] == [(em.LD_DESC, 0, a, img.desc[a // 2][a % 2]) for a in range(4)]
    assert em.image_writes(img, (em.LD_CB, em.LD_DESC)) == w[-em.CB_WORDS * 2 - 4:]
    assert em.desc_writes(img.desc[1:], first=1) == w[-2:]


def test_fits_and_build_depths(rng):
    net = random_network(rng, [20, 30, 7], 4)
    lo = em.layout(net)
    hw = {"N_PE": 4, "ACT_DEPTH": 8, "SPM_DEPTH": lo.spm_words, "PTR_DEPTH": lo.ptr_words // 2,
          "MAX_LAYERS": 2}
    assert em.fits(net, hw)
    for key, value in (("SPM_DEPTH", lo.spm_words - 1), ("PTR_DEPTH", lo.ptr_words // 2 - 1),
                       ("MAX_LAYERS", 1), ("ACT_DEPTH", 7)):
        assert not em.fits(net, {**hw, key: value}), key
    assert em.build_depths(hw) == {"spm": lo.spm_words, "ptr_bank": lo.ptr_words // 2,
                                   "codebook": 32}
    assert em.build_depths({**hw, "MAX_LAYERS": 5})["codebook"] == 16 * 8
