"""Memory images and manifest: round trip, layout, every malformed input, padding to a build."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from conftest import random_network
from models import atomic, csc, golden, memimage as mi


def _export(tmp_path, rng, n_pes=4, mode="linear", permute=False):
    net = random_network(rng, [20, 30, 11, 7], n_pes, mode=mode, permute=permute)
    return net, mi.write_images(tmp_path, net)


def _lines(path):
    return path.read_text().splitlines()


@pytest.mark.parametrize("n_pes,mode,permute", [(1, "linear", False), (4, "log", True),
                                                (64, "linear", False)])
def test_round_trip(tmp_path, rng, n_pes, mode, permute):
    net, m = _export(tmp_path, rng, n_pes, mode, permute)
    m2, back = mi.read_images(tmp_path)
    assert m2 == json.loads(json.dumps(m))
    x = rng.integers(-500, 500, (3, 20))
    for a, b in zip(golden.network_forward(net, x), golden.network_forward(back, x)):
        assert np.array_equal(a["y_slots"], b["y_slots"])
    for la, lb in zip(net, back):
        assert np.array_equal(la.codebook, lb.codebook)
        for pa, pb in zip(la.csc.pes, lb.csc.pes):
            assert np.array_equal(pa.v, pb.v) and np.array_equal(pa.ptr, pb.ptr)
            assert np.array_equal(pa.rows, pb.rows)


def test_round_trip_log_activations(tmp_path, rng):
    """act_mode / act_exp_w per layer in the manifest, back into the QLayers."""
    net = [replace(l, act_mode="log", act_exp_w=5)
           for l in random_network(rng, [20, 30, 11, 7], 4, mode="log")]
    m = mi.write_images(tmp_path, net)
    assert [(l["act_mode"], l["act_exp_w"]) for l in m["layers"]] == [("log", 5)] * 3
    _, back = mi.read_images(tmp_path)
    assert [(l.act_mode, l.act_exp_w) for l in back] == [("log", 5)] * 3
    x = rng.choice([0, 1, -4, 1 << 20, -(1 << 31)], (3, 20))
    for a, b in zip(golden.network_forward(net, x), golden.network_forward(back, x)):
        assert np.array_equal(a["y_slots"], b["y_slots"])
    _export(tmp_path / "lin", rng)
    m_lin, lin = mi.read_images(tmp_path / "lin")
    assert {(l.act_mode, ml["act_exp_w"]) for l, ml in zip(lin, m_lin["layers"])} \
        == {("linear", None)}


def test_layout(tmp_path, rng):
    net, m = _export(tmp_path, rng)
    l0, l1 = m["layers"][:2]
    assert l0["ptr_base"] == 0 and l1["ptr_base"] == 22  # 21 pointers, rounded up to even
    assert l1["spm_base"] == max(-(-e // 8) for e in l0["entries_per_pe"])
    assert l1["n_cols"] == l1["n_slots_in"] + 1 == 33 and l0["n_slots_out"] == 32
    spm = _lines(tmp_path / "spm_pe0.hex")
    assert len(spm) == m["words"]["spm"] and all(len(s) == 16 for s in spm)
    even, odd = _lines(tmp_path / "ptr_even_pe1.hex"), _lines(tmp_path / "ptr_odd_pe1.hex")
    assert len(even) == len(odd) == m["words"]["ptr_bank"] and len(even[0]) == 5
    # pointers are absolute entry addresses: layer 1 starts at 8 * spm_base
    assert int(even[l1["ptr_base"] // 2], 16) == 8 * l1["spm_base"]
    p = net[0].csc.pes[1].ptr
    assert [int(s, 16) for s in even[:3]] == p[0:6:2].tolist()
    assert [int(s, 16) for s in odd[:3]] == p[1:6:2].tolist()
    cb = _lines(tmp_path / "codebook.hex")
    assert len(cb) == 48 and int(cb[16 + 1], 16) == int(net[1].codebook[1]) & 0xFFFF


def _corrupt(tmp_path, name, fn):
    path = tmp_path / name
    path.write_text(fn(path.read_text()))
    return path


@pytest.mark.parametrize("name,fn,match", [
    ("manifest.json", lambda s: s[:-20], "manifest.json: not valid JSON"),
    ("manifest.json", lambda s: s.replace('"shift"', '"shfit"', 1), r"layers\[0\]\.shift: missing"),
    ("manifest.json", lambda s: s.replace('"relu": true', '"relu": 1', 1), r"relu: expected bool"),
    ("manifest.json", lambda s: s.replace('"eie-kit-manifest"', '"other"'), "format 'other'"),
    ("manifest.json", lambda s: s.replace('"n_pes": 4', '"n_pes": 5'), "files.spm: expected 5"),
    ("spm_pe2.hex", lambda s: s + "0000000000000000\n", "spm_pe2.hex: wrong length"),
    ("spm_pe2.hex", lambda s: "\n".join(s.splitlines()[:-1]), "spm_pe2.hex: wrong length"),
    ("ptr_odd_pe0.hex", lambda s: s.replace(s.splitlines()[0], "zz", 1), "ptr_odd_pe0.hex: line 1"),
    ("codebook.hex", lambda s: "0001\n" + s.split("\n", 1)[1], "codebook.hex: layer 0: codebook entry 0"),
    ("manifest.json", lambda s: s.replace('"version": 2', '"version": 1'), "version 1, expected"),
    ("manifest.json", lambda s: s.replace('"act_mode": "linear"', '"act_mode": "lin"', 1),
     r"layers\[0\]\.act_mode: 'lin'"),
    ("manifest.json", lambda s: s.replace('"act_exp_w": null', '"act_exp_w": 4', 1),
     r"layers\[0\]\.act_exp_w: 4, expected EA in 3..5 for log activations, null for linear"),
    ("manifest.json", lambda s: s.replace('"act_mode": "linear"', '"act_mode": "log"', 1)
     .replace('"act_exp_w": null', '"act_exp_w": 6', 1), r"layers\[0\]\.act_exp_w: 6"),
])
def test_malformed(tmp_path, rng, name, fn, match):
    _export(tmp_path, rng)
    _corrupt(tmp_path, name, fn)
    with pytest.raises(mi.FormatError, match=match):
        mi.read_images(tmp_path)


def test_decreasing_pointers(tmp_path, rng):
    net, _ = _export(tmp_path, rng)
    assert net[0].csc.pes[3].ptr[2] > 0
    _corrupt(tmp_path, "ptr_even_pe3.hex", lambda s: s.replace(s.splitlines()[1], "fffff", 1))
    with pytest.raises(mi.FormatError, match="ptr_even_pe3.hex: pointer array decreases at column 2"):
        mi.read_images(tmp_path)


def test_code_beyond_codebook(tmp_path, rng):
    net, m = _export(tmp_path, rng)
    size = m["layers"][0]["codebook_size"]
    _corrupt(tmp_path, "manifest.json", lambda s: s.replace(f'"codebook_size": {size}', '"codebook_size": 3', 1))
    with pytest.raises(mi.FormatError, match=r"spm_pe0.hex: code \d+ beyond the codebook of 3"):
        mi.read_images(tmp_path)


def test_missing_files(tmp_path, rng):
    with pytest.raises(mi.FormatError, match="manifest.json: missing manifest"):
        mi.read_images(tmp_path)
    _export(tmp_path, rng)
    (tmp_path / "spm_pe1.hex").unlink()
    with pytest.raises(mi.FormatError, match="spm_pe1.hex: missing"):
        mi.read_images(tmp_path)


def test_nothing_written_on_error(tmp_path, rng):
    net = random_network(rng, [20, 30, 7], 2)
    with pytest.raises(ValueError, match="PTR_W"):
        mi.write_images(tmp_path / "out", net, ptr_w=4)
    assert not (tmp_path / "out").exists()
    big = random_network(rng, [3, 2], 1)
    big[0].codebook = np.concatenate([[0], np.full(15, 32767)])
    big[0].csc = csc.encode(np.ones((2, 140_000), dtype=int), 1)  # sum |w| * 2^15 >= 2^47
    with pytest.raises(ValueError, match="accumulator bound"):
        mi.write_images(tmp_path / "out", big)
    # log activations: the bound with their largest magnitude, 2^31 at EA = 5
    small = random_network(rng, [3, 2], 1, mode="log")
    small[0].codebook = np.concatenate([[0], np.full(15, 1 << 15)])
    small[0].csc = csc.encode(np.ones((2, 4), dtype=int), 1)   # 4 * 2^15 * 2^31 = 2^48
    mi.write_images(tmp_path / "lin", small)
    with pytest.raises(ValueError, match=r"layer fc1: accumulator bound broken: .* \* 2\^31"):
        mi.write_images(tmp_path / "out", [replace(small[0], act_mode="log", act_exp_w=5)])
    assert not (tmp_path / "out").exists()


def test_atomic_write_leaves_no_temp(tmp_path):
    atomic.write_text(tmp_path / "a" / "f.txt", "x")
    with pytest.raises(TypeError):
        atomic.write_json(tmp_path / "a" / "g.json", {"x": object()})
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["f.txt"]


def test_pad_images_to_build_depths(tmp_path, rng):
    net, m = _export(tmp_path / "img", rng)
    spm, ptr = m["words"]["spm"] + 5, m["words"]["ptr_bank"] + 3
    dst = mi.pad_images(tmp_path / "img", {"SPM_DEPTH": spm, "PTR_DEPTH": ptr, "MAX_LAYERS": 4},
                        tmp_path / "hw")
    f = m["files"]
    for name in f["spm"]:
        got, want = _lines(dst / name), _lines(tmp_path / "img" / name)
        assert len(got) == spm and got[: len(want)] == want and set(got[len(want):]) == {"0" * 16}
    for name in f["ptr_even"] + f["ptr_odd"]:
        assert len(_lines(dst / name)) == ptr
    assert len(_lines(dst / f["codebook"])) == 16 * 4   # 2 layer address bits
    # the unpadded images are untouched and still read back as the same network
    _, back = mi.read_images(tmp_path / "img")
    assert all(np.array_equal(a.codebook, b.codebook) for a, b in zip(net, back))


def test_pad_images_refuses_an_image_larger_than_the_build(tmp_path, rng):
    _export(tmp_path, rng)
    with pytest.raises(ValueError, match="spm_pe0.hex: .* words, the build holds 1"):
        mi.pad_images(tmp_path, {"SPM_DEPTH": 1, "PTR_DEPTH": 1 << 12, "MAX_LAYERS": 2},
                      tmp_path / "hw")
