"""The simulator-free parts of tb/eie_common.py: the idle-gap and back-pressure schedules of the
transaction-level drivers, and the padding of memory images to an eie_top build's depths."""

import itertools

import numpy as np
import pytest

from models import memimage
from tb import eie_common as ec


@pytest.mark.parametrize("idle", [0.1, 0.3, 0.6])
def test_idle_gaps_match_per_cycle_draws(rng, idle):
    """Idle cycles before each beat, drawn as geometric runs, have the statistics of one
    Bernoulli(idle) draw per cycle: a fraction ``idle`` of all cycles is idle."""
    gaps = ec.idle_gaps(rng, 20000, idle)
    assert gaps.min() == 0 and gaps.dtype.kind == "i"
    frac = gaps.sum() / (gaps.sum() + len(gaps))
    assert abs(frac - idle) < 0.02, f"idle fraction {frac:.3f}, wanted {idle}"


def test_idle_gaps_none_and_bad(rng):
    assert ec.idle_gaps(None, 5, 0.5) is None
    assert ec.idle_gaps(rng, 5, 0.0) is None
    with pytest.raises(ValueError, match="below 1"):
        ec.idle_gaps(rng, 5, 1.0)


@pytest.mark.parametrize("ready", [0.2, 0.5, 0.8])
def test_ready_runs_duty_cycle(rng, ready):
    runs = list(itertools.islice(ec.ready_runs(rng, ready), 5000))
    on = sum(r[0] for r in runs)
    off = sum(r[1] for r in runs)
    assert all(a >= 1 and b >= 1 for a, b in runs)
    assert abs(on / (on + off) - ready) < 0.02


def test_ready_runs_always_on_and_bad(rng):
    for g, ready in ((None, 0.3), (rng, 1.0)):
        on, off = next(ec.ready_runs(g, ready))
        assert off == 0 and on >= 1 << 30
    with pytest.raises(ValueError, match="above 0"):
        next(ec.ready_runs(rng, 0.0))


def _network(rng):
    layers, _ = ec.random_network(rng, 4, 40, [30, 12], "linear")
    return layers


def test_pad_images_to_build_depths(rng, tmp_path):
    layers = _network(rng)
    src = tmp_path / "img"
    memimage.write_images(src, layers)
    m = memimage.read_manifest(src)
    spm, ptr = m["words"]["spm"] + 5, m["words"]["ptr_bank"] + 3
    hw = {"SPM_DEPTH": spm, "PTR_DEPTH": ptr, "MAX_LAYERS": 4}
    dst = ec.pad_images(src, m, hw, tmp_path / "hw")
    f = m["files"]
    for name in f["spm"]:
        got = (dst / name).read_text().split()
        want = (src / name).read_text().split()
        assert len(got) == spm and got[: len(want)] == want and set(got[len(want):]) <= {"0" * 16}
    for name in f["ptr_even"] + f["ptr_odd"]:
        assert len((dst / name).read_text().split()) == ptr
    assert len((dst / f["codebook"]).read_text().split()) == 16 * 4   # 2 layer bits
    # the unpadded images are untouched and still read back as the same network
    _, back = memimage.read_images(src)
    assert all(np.array_equal(a.codebook, b.codebook) for a, b in zip(layers, back))


def test_pad_images_refuses_an_image_larger_than_the_build(rng, tmp_path):
    layers = _network(rng)
    memimage.write_images(tmp_path, layers)
    m = memimage.read_manifest(tmp_path)
    with pytest.raises(ValueError, match="the build holds 1"):
        ec.pad_images(tmp_path, m, {"SPM_DEPTH": 1, "PTR_DEPTH": 1 << 12, "MAX_LAYERS": 2},
                      tmp_path / "hw")
