"""CSC encoding: the SPEC example, round trips, padding, empty columns and PEs, 1..64 PEs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from conftest import random_codes
from models import csc


def test_spec_padding_example():
    col = np.array([0, 0, 1, 2] + [0] * 18 + [3]).reshape(-1, 1)
    layer = csc.encode(col, 1)
    pe = layer.pes[0]
    assert pe.v.tolist() == [1, 2, 0, 3]
    assert pe.z.tolist() == [2, 0, 15, 2]
    assert pe.ptr.tolist() == [0, 4]
    assert layer.n_padding == 1 and layer.n_nonzero == 3
    assert np.array_equal(csc.decode(layer), col)


@pytest.mark.parametrize("gap,n_pad,last_z", [(15, 0, 15), (16, 1, 0), (31, 1, 15), (32, 2, 0), (47, 2, 15)])
def test_padding_boundaries(gap, n_pad, last_z):
    col = np.zeros((gap + 1, 1), dtype=int)
    col[gap] = 7
    pe = csc.encode(col, 1).pes[0]
    assert pe.v.tolist() == [0] * n_pad + [7]
    assert pe.z.tolist() == [15] * n_pad + [last_z]


def test_empty_columns_and_empty_matrix():
    codes = np.zeros((10, 5), dtype=int)
    codes[3, 2] = 4
    layer = csc.encode(codes, 2)
    assert layer.pes[1].ptr.tolist() == [0, 0, 0, 1, 1, 1]  # row 3 is local row 1 of PE 1
    assert layer.pes[1].z.tolist() == [1]
    assert layer.pes[0].ptr.tolist() == [0] * 6
    empty = csc.encode(np.zeros((4, 3), dtype=int), 3)
    assert empty.n_entries == 0 and np.array_equal(csc.decode(empty), np.zeros((4, 3)))


def test_pes_without_rows(rng):
    codes = random_codes(rng, 5, 7, 0.5)
    layer = csc.encode(codes, 8)  # PEs 5..7 have no rows
    assert layer.rows_per_pe == [1] * 5 + [0] * 3
    assert all(p.n_entries == 0 and p.ptr.tolist() == [0] * 8 for p in layer.pes[5:])
    assert layer.n_slots == 8
    assert np.array_equal(csc.decode(layer), codes)


@pytest.mark.parametrize("n_pes", [1, 2, 3, 4, 7, 16, 33, 64])
def test_round_trip_pe_counts(rng, n_pes):
    codes = random_codes(rng, 100, 40, 0.1)
    layer = csc.encode(codes, n_pes)
    assert np.array_equal(layer.pe_of_row, np.arange(100) % n_pes)
    assert np.array_equal(layer.local_of_row, np.arange(100) // n_pes)
    assert np.array_equal(csc.decode(layer), codes)
    assert layer.n_nonzero == np.count_nonzero(codes)


def test_interleaved():
    assert csc.interleaved(5, 2).tolist() == [0, 1, 0, 1, 0]
    with pytest.raises(ValueError, match="n_pes"):
        csc.interleaved(5, 65)
    with pytest.raises(ValueError, match="n_pes"):
        csc.encode(np.zeros((2, 2), dtype=int), 0)


def test_custom_assignment(rng):
    codes = random_codes(rng, 30, 12, 0.3)
    pe = rng.permutation(np.arange(30) % 4)
    layer = csc.encode(codes, 4, pe_of_row=pe)
    for k in range(4):  # local rows of a PE in increasing global order
        assert np.array_equal(layer.pes[k].rows, np.nonzero(pe == k)[0])
    assert np.array_equal(csc.decode(layer), codes)
    local = layer.local_of_row.copy()
    for k in range(4):  # reverse the local order within every PE
        mine = pe == k
        local[mine] = mine.sum() - 1 - local[mine]
    rev = csc.encode(codes, 4, pe_of_row=pe, local_of_row=local)
    assert np.array_equal(rev.pes[0].rows, np.nonzero(pe == 0)[0][::-1])
    assert np.array_equal(csc.decode(rev), codes)


@pytest.mark.parametrize("bad,match", [
    (dict(pe_of_row=np.array([0, 1, 2])), "outside"),
    (dict(pe_of_row=np.array([0, 1])), "shape"),
    (dict(pe_of_row=np.array([0, 0, 1]), local_of_row=np.array([0, 0, 0])), "permutation"),
])
def test_bad_assignment(bad, match):
    with pytest.raises(ValueError, match=match):
        csc.encode(np.ones((3, 2), dtype=int), 2, **bad)


def test_bad_codes():
    with pytest.raises(ValueError, match="0..15"):
        csc.encode(np.array([[16]]), 1)
    with pytest.raises(ValueError, match="0..15"):
        csc.encode(np.array([[-1]]), 1)
    with pytest.raises(ValueError, match="2-D"):
        csc.encode(np.array([1, 2]), 1)


def test_decode_rejects_decreasing_pointers_and_overflow():
    layer = csc.encode(np.array([[1, 2], [3, 0]]), 1)
    layer.pes[0].ptr = np.array([0, 3, 2])
    with pytest.raises(ValueError, match="ptr spans|decrease"):
        csc.decode(layer)
    layer = csc.encode(np.array([[1, 2], [3, 0]]), 1)
    layer.pes[0].z = np.array([0, 5, 0], dtype=np.uint8)  # 2nd entry of column 0 on row 6 of 2
    with pytest.raises(ValueError, match="past the PE"):
        csc.decode(layer)


def test_spm_words_layout():
    v = np.array([1, 2, 0, 3, 4, 5, 6, 7, 9])
    z = np.array([2, 0, 15, 2, 1, 1, 1, 1, 3])
    w = csc.spm_words(v, z)
    assert len(w) == 2
    assert int(w[0]) & 0xFF == 0x12 and (int(w[0]) >> 16) & 0xFF == 0x0F
    assert int(w[0]) >> 56 == 0x71 and int(w[1]) == 0x93
    back_v, back_z = csc.spm_entries(w, 9)
    assert back_v.tolist() == v.tolist() and back_z.tolist() == z.tolist()
    with pytest.raises(ValueError, match="words"):
        csc.spm_entries(w, 17)


@settings(max_examples=60, deadline=None)
@given(codes=hnp.arrays(np.int64, st.tuples(st.integers(0, 60), st.integers(0, 12)),
                        elements=st.sampled_from([0] * 12 + list(range(1, 16)))),
       n_pes=st.integers(1, 64))
def test_round_trip_property(codes, n_pes):
    layer = csc.encode(codes, n_pes)
    assert np.array_equal(csc.decode(layer), codes)
    for pe in layer.pes:
        assert pe.ptr[0] == 0 and (np.diff(pe.ptr) >= 0).all() and pe.ptr[-1] == pe.n_entries
        assert pe.v.dtype == np.uint8 and pe.z.dtype == np.uint8 and (pe.z <= 15).all()
        assert (pe.z[pe.v == 0] == 15).all()
        v, z = csc.spm_entries(csc.spm_words(pe.v, pe.z), pe.n_entries)
        assert np.array_equal(v, pe.v) and np.array_equal(z, pe.z)
