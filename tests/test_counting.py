import naive
import numba as nb
import numpy as np
import pytest

import mi_regimes as mr
from mi_regimes._partition import partitioned_counts
from mi_regimes.bits import pack_bits
from mi_regimes.counting import (
    count_profile,
    count_rows,
    count_words,
    joint_counts,
    row_codes,
)


@pytest.mark.parametrize(
    "n,d,p",
    [(1, 1, 0.5), (10, 3, 0.5), (1000, 8, 0.5), (5000, 20, 0.5), (3000, 40, 0.5),
     (4000, 64, 0.1), (2000, 70, 0.02), (1500, 130, 0.01), (20000, 32, 0.5), (50000, 24, 0.3)],
)
def test_count_rows_matches_naive(n, d, p, rng):
    x = (rng.random((n, d)) < p).astype(np.uint8)
    expected = naive.counts_of_rows(x)
    got = count_rows(pack_bits(x))
    np.testing.assert_array_equal(np.sort(got), expected)
    codes, counts = row_codes(x)
    np.testing.assert_array_equal(np.sort(counts), expected)
    # codes: equal rows share a code, counts index by code
    np.testing.assert_array_equal(np.bincount(codes), counts)
    first = {}
    for row, c in zip(map(tuple, x.tolist()), codes, strict=True):
        assert first.setdefault(row, c) == c


def test_count_rows_symbols_including_negative():
    y = np.array([-5, 3, 3, -5, 7, 2**40, 2**40, 2**40])
    np.testing.assert_array_equal(np.sort(count_rows(y)), [1, 2, 2, 3])


def test_count_order_is_deterministic(rng):
    x = rng.integers(0, 2, size=(3000, 40), dtype=np.uint8)
    np.testing.assert_array_equal(count_rows(x), count_rows(x.copy()))


def test_joint_counts(rng):
    t = rng.integers(0, 2, size=(500, 5), dtype=np.uint8)
    y = rng.integers(0, 3, size=500)
    c_t, c_y, c_ty = joint_counts(t, y)
    np.testing.assert_array_equal(np.sort(c_t), naive.counts_of_rows(t))
    np.testing.assert_array_equal(np.sort(c_y), naive.counts_of_rows(y[:, None]))
    np.testing.assert_array_equal(np.sort(c_ty), naive.counts_of_rows(np.column_stack([t, y])))


def test_joint_counts_rejects_mismatched_n():
    with pytest.raises(ValueError, match="different numbers of samples"):
        joint_counts(np.zeros((5, 2), np.uint8), np.zeros(4, int))


def test_count_profile():
    v, m = count_profile(np.array([3, 1, 0, 3, 1, 1]))
    assert v.tolist() == [1, 3] and m.tolist() == [3, 2]


@pytest.mark.parametrize("counts, err, match", [
    ([5, -3, 1], ValueError, "non-negative"),       # was dropped silently
    ([5, 1.5], ValueError, "whole numbers"),        # was truncated to 1
    ([0, 0], ValueError, "all counts are zero"),
    (["a"], TypeError, "numeric counts"),
])
def test_count_profile_refuses_what_is_not_counts(counts, err, match):
    with pytest.raises(err, match=f"counts: .*{match}"):
        count_profile(counts)


@pytest.mark.parametrize("words, match", [
    (np.zeros((3, 2)), "got float64 array of shape"),
    (np.zeros((3, 2), np.int64), "got int64 array"),
    (np.zeros(3, np.uint64), r"shape \(3,\)"),
    (np.zeros((0, 1), np.uint64), r"shape \(0, 1\)"),
    ([[1]], "got list"),
])
def test_count_words_refuses_what_is_not_packed_rows(words, match):
    # a float or int64 array failed inside Numba's type inference with a TypingError
    with pytest.raises(TypeError, match=f"words: expected packed rows.*{match}"):
        count_words(words)


def test_count_words_refuses_a_width_that_does_not_fit_the_words():
    with pytest.raises(ValueError, match="d: 100 bits do not fit 1 words"):
        count_words(np.zeros((3, 1), np.uint64), d=100)


KEY_SETS = {
    "distinct": lambda rng, n: rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2),
    "one value": lambda rng, n: np.full(n, 12345, np.uint64),
    "with zero": lambda rng, n: rng.integers(0, 3, n).astype(np.uint64),
    "heavy tail": lambda rng, n: rng.zipf(1.3, n).astype(np.uint64),
    "high bits": lambda rng, n: rng.integers(0, 2**12, n).astype(np.uint64) << np.uint64(52),
}


@pytest.mark.parametrize("kind", sorted(KEY_SETS))
@pytest.mark.parametrize("bucket_bits", [1, 6, 12])
@pytest.mark.parametrize("in_place", [True, False])
def test_partitioned_counts_every_path(kind, bucket_bits, in_place, rng):
    # few buckets hold thousands of distinct keys: the tables must grow (rehash)
    keys = KEY_SETS[kind](rng, 30_000)
    _, expected = np.unique(keys, return_counts=True)
    part = np.empty_like(keys)
    out = part if in_place else keys.copy()  # the keys' own buffer may receive the counts
    got = (partitioned_counts(keys, bucket_bits, part, None) if in_place
           else partitioned_counts(out, bucket_bits, part, out))
    np.testing.assert_array_equal(np.sort(got), np.sort(expected))


def test_counting_consumes_only_its_own_temporaries(rng):
    x = rng.integers(0, 2, size=(50_000, 40), dtype=np.uint8)
    packed = pack_bits(x)
    words = packed.words.copy()
    before = x.copy()
    expected = np.sort(naive.counts_of_rows(x))
    for arg in (x, packed):
        np.testing.assert_array_equal(np.sort(count_rows(arg)), expected)
    for arg in (words, packed.words):  # words are counted only when declared as words
        np.testing.assert_array_equal(np.sort(count_words(arg)), expected)
        with pytest.raises(ValueError, match="values must be binary"):
            count_rows(arg)  # a uint64 array is never guessed to hold packed rows
    wide = pack_bits(rng.integers(0, 2, size=(1000, 100), dtype=np.uint8)).words.copy()
    with pytest.raises(ValueError, match="values must be binary"):
        count_rows(wide)  # nor one of two words per row
    for arg in (x, packed):
        assert mr.entropy(arg) == pytest.approx(naive.plugin(expected) / np.log(2), abs=1e-9)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(packed.words, words)  # user-visible words untouched
    np.testing.assert_array_equal(pack_bits(x).words, words)
    assert not packed.words.flags.writeable


def test_counts_do_not_depend_on_thread_count(rng):
    x = (rng.random((200_000, 48)) < 0.2).astype(np.uint8)
    previous = nb.get_num_threads()
    try:
        nb.set_num_threads(1)
        one = count_rows(x)
        nb.set_num_threads(previous)
        many = count_rows(x)
    finally:
        nb.set_num_threads(previous)
    np.testing.assert_array_equal(one, many)  # same values in the same order


def test_scratch_buffers_are_per_thread_and_grow():
    from concurrent.futures import ThreadPoolExecutor

    from mi_regimes._scratch import scratch

    small = scratch("test slot", (10,), np.uint64)
    small[:] = 7
    big = scratch("test slot", (1000, 3), np.float32)  # grows; the old view stays valid
    assert big.shape == (1000, 3) and big.flags.c_contiguous and big.flags.writeable
    np.testing.assert_array_equal(small, 7)
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(scratch, "test slot", (1000, 3), np.float32).result()
    assert not np.shares_memory(big, other)


def test_entropy_from_several_threads_at_once(rng):
    # each thread packs and counts in its own scratch buffers
    from concurrent.futures import ThreadPoolExecutor

    xs = [(rng.random((60_000, 48)) < p).astype(np.uint8) for p in (0.05, 0.2, 0.5, 0.3)]
    expected = [naive.plugin(naive.counts_of_rows(x)) / np.log(2) for x in xs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(mr.entropy, xs * 3))
    np.testing.assert_allclose(got, expected * 3, rtol=0, atol=1e-9)
