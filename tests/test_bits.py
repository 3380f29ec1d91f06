import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mi_regimes as mr
from mi_regimes.bits import PackedBits, as_samples, pack_bits, unpack_bits


def test_known_packing_little_endian():
    p = pack_bits(np.array([[1, 0, 1], [0, 0, 1]], dtype=np.uint8))
    assert p.words.ravel().tolist() == [5, 4]
    assert (p.n, p.d) == (2, 3)


@pytest.mark.parametrize("d", [1, 7, 8, 16, 24, 32, 40, 63, 64, 65, 128, 130, 200, 256])
@pytest.mark.parametrize("dtype", [np.uint8, np.bool_, np.int64, np.float32, np.int8])
def test_pack_matches_naive_and_round_trips(d, dtype, rng):
    x = rng.integers(0, 2, size=(37, d)).astype(dtype)
    p = pack_bits(x)
    expected = np.array([naive.pack_row(row) for row in x.astype(int).tolist()], dtype=np.uint64)
    np.testing.assert_array_equal(p.words, expected)
    np.testing.assert_array_equal(unpack_bits(p), x.astype(np.uint8))


@pytest.mark.parametrize("d", [8, 32, 40, 64, 128, 136])
def test_byte_packing_finds_a_bad_value_anywhere(d, rng):
    # the byte kernel has separate loops for 4, 8k and other chunk counts per row
    x = rng.integers(0, 2, size=(1000, d), dtype=np.uint8)
    for i, j in [(0, 0), (999, d - 1), (517, d // 2)]:
        bad = x.copy()
        bad[i, j] = 2
        with pytest.raises(ValueError, match="values must be binary"):
            pack_bits(bad)


@given(
    hnp.arrays(np.uint8, st.tuples(st.integers(1, 30), st.integers(1, 200)),
               elements=st.integers(0, 1))
)
def test_pack_unpack_round_trip(x):
    np.testing.assert_array_equal(pack_bits(x).unpack(), x)


def test_signs_pack_like_bits(rng):
    bits = rng.integers(0, 2, size=(50, 70), dtype=np.uint8)
    signs = (2 * bits.astype(np.int8) - 1)
    np.testing.assert_array_equal(pack_bits(signs).words, pack_bits(bits).words)
    np.testing.assert_array_equal(pack_bits(signs.astype(float)).words, pack_bits(bits).words)


def test_packed_is_read_only_and_passes_through(rng):
    p = pack_bits(rng.integers(0, 2, size=(5, 9)))
    assert pack_bits(p) is p
    with pytest.raises(ValueError):
        p.words[0, 0] = 1


def test_packedbits_shape_checked():
    with pytest.raises(ValueError, match="pack_bits"):
        PackedBits(np.zeros((3, 2), np.uint64), 3, 10)
    with pytest.raises(TypeError, match="uint64"):
        PackedBits(np.zeros((3, 1), np.int64), 3, 10)


def test_samples_symbols_and_alphabet():
    s = as_samples(np.array([3, 1, 3, 2]))
    assert s.words.shape == (4, 1) and s.alphabet_guess == 3 and s.alphabet_size is None
    assert s.nsb_alphabet == (3, False)
    assert as_samples(np.zeros((4, 10), np.uint8)).alphabet_size == 2**10
    assert mr.pack_bits(np.zeros((2, 3))).shape == (2, 3)


def test_alphabet_size_of_rows_packed_and_symbols(rng):
    for x, k in ((rng.integers(0, 2, size=(5, 9)), 2**9), (np.array([4, -2, 7]), 10),
                 (mr.pack_bits(rng.integers(0, 2, size=(3, 70))), 2**70)):
        assert as_samples(x).nsb_alphabet[0] == k


def test_packedbits_rejects_set_padding_bits():
    with pytest.raises(ValueError, match="unused high bits"):
        PackedBits(np.full((2, 1), 8, np.uint64), 2, 3)
