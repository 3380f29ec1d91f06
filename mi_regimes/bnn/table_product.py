"""Real-valued inputs times ±1 weights by table look-up, for evaluation's first layer.

A network on real-valued inputs starts with a float product, ``pre = x · sign(W)ᵀ``,
which BLAS computes with one multiply-add per term. With ±1 weights the work shrinks:
for each group of four inputs, the 16 signed sums ``±x₀ ± x₁ ± x₂ ± x₃`` of a block of
samples are built once (16 adds per sample, whatever the number of units), and each
unit then adds the one its four weight signs select, a single add where BLAS does four
multiply-adds (the "method of four Russians" applied to a sign matrix). Blocks of 64
samples are transposed so every add is a vector over samples; four groups (16 inputs)
are added per pass over the units.

Measured on the 2-core AVX2 machine (``benchmarks/bench_bnn.py`` part 2; the whole
forward pass in ``bench_fit_extras.py forward``; docs/benchmarks.md): 5000 x 784 x 1024
in 60-74 ms on one thread against BLAS's 90-101 ms, 31-49 against 48-57 on two. With few
input columns or few units the table costs more than it saves, so :func:`use_table`
keeps BLAS there (see its figures).

Every element is summed in one fixed order (signed pairs, pairs of pairs, then four
groups per pass, passes in order), per sample: the result does not depend on the block
size, the rows' split or the number of threads. It differs from BLAS's sum in the last
bits, so only evaluation uses it; training keeps BLAS, whose products the compiled step
reproduces bit for bit.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["sign_table_matmul", "use_table"]

_BLOCK = 64   # samples per block: one table row is 8 AVX2 vectors
_GROUPS = 4   # groups of four inputs per pass over the units (the add is written out for 4)
_UNITS = 512  # units per pass: their sums (128 kB) stay in the L2 cache
#: Smallest input columns and units for the table (one thread, n = 2000, see use_table).
MIN_INPUTS = 256
MIN_UNITS = 256


def use_table(n_inputs: int, n_units: int) -> bool:
    """Whether :func:`sign_table_matmul` beats BLAS for a layer of this shape.

    Measured on the 2-core AVX2 machine (BLAS time / table time, 2000 samples, one
    thread): 1.02-1.34 from 256 inputs and 256 units up (784 x 1024: 1.31), 0.83-0.99
    with 64 inputs or 128 units; on two threads (against :func:`.products.matmul`, which
    keeps one BLAS thread below 2^30 multiply-adds) 1.15-2.3 on those shapes.
    """
    return n_inputs >= MIN_INPUTS and n_units >= MIN_UNITS


@nb.njit(cache=True, error_model="numpy")
def _patterns(w_bits, n_inputs):
    """For pass p, unit j, group g: the four signs of the unit on the group (a nibble).

    Input t's sign is bit t % 64 of word t // 64 (1 = +1); groups past the inputs get 0
    (their inputs are zero padding). One byte per four weights: int64 row indices
    would take half the float weights' memory.
    """
    n_groups = (n_inputs + 3) // 4
    n_passes = (n_groups + _GROUPS - 1) // _GROUPS
    d = w_bits.shape[0]
    pat = np.zeros((n_passes, d, _GROUPS), np.uint8)
    for j in range(d):
        for c in range(n_groups):
            pat[c // _GROUPS, j, c % _GROUPS] = (w_bits[j, c // 16] >> np.uint64(4 * (c % 16))
                                                 ) & np.uint64(15)
    return pat


@nb.njit(cache=True, error_model="numpy")
def _table_rows(x, pat, out, lo, hi):
    """Rows ``lo:hi`` of ``out = x · Sᵀ``, S the ±1 matrix encoded in ``pat``.

    Table g of a pass holds rows 16g .. 16g + 15: row 16g + p is the sum of the group's
    four inputs, input u taken with sign + where bit u of p is 1.
    """
    n_inputs = x.shape[1]
    n_passes, d = pat.shape[0], pat.shape[1]
    xt = np.zeros((n_passes * _GROUPS * 4, _BLOCK), np.float32)  # padding inputs stay 0
    tables = np.empty((_GROUPS * 16, _BLOCK), np.float32)
    acc = np.empty((min(d, _UNITS), _BLOCK), np.float32)
    for r0 in range(lo, hi, _BLOCK):
        m = min(_BLOCK, hi - r0)
        for i in range(m):
            for k in range(n_inputs):
                xt[k, i] = x[r0 + i, k]
        for k in range(n_inputs):  # a last, short block: its missing samples count 0
            for i in range(m, _BLOCK):
                xt[k, i] = 0
        for j0 in range(0, d, _UNITS):
            jn = min(_UNITS, d - j0)
            acc[:jn] = 0
            for ps in range(n_passes):
                for g in range(_GROUPS):
                    base = 4 * (ps * _GROUPS + g)
                    v0, v1, v2, v3 = xt[base], xt[base + 1], xt[base + 2], xt[base + 3]
                    for p in range(16):
                        row = tables[16 * g + p]
                        s0 = np.float32(1.0 if p & 1 else -1.0)
                        s1 = np.float32(1.0 if p & 2 else -1.0)
                        s2 = np.float32(1.0 if p & 4 else -1.0)
                        s3 = np.float32(1.0 if p & 8 else -1.0)
                        for i in range(_BLOCK):
                            row[i] = (s0 * v0[i] + s1 * v1[i]) + (s2 * v2[i] + s3 * v3[i])
                for j in range(jn):
                    a = acc[j]
                    picks = pat[ps, j0 + j]
                    t0, t1 = tables[np.int64(picks[0])], tables[16 + np.int64(picks[1])]
                    t2, t3 = tables[32 + np.int64(picks[2])], tables[48 + np.int64(picks[3])]
                    for i in range(_BLOCK):
                        a[i] += (t0[i] + t1[i]) + (t2[i] + t3[i])
            for i in range(m):
                for j in range(jn):
                    out[r0 + i, j0 + j] = acc[j, i]


# Serial and parallel drivers are separate functions (see kernels.py: a shared cache entry
# could hand the serial one parallel code). Chunks are whole blocks; each allocates its
# scratch once (~0.5 MB for 784 x 1024: an allocation per block would fault it in again).
_MAX_CHUNKS = 16


@nb.njit(cache=True)
def _table_serial(x, pat, out):
    _table_rows(x, pat, out, 0, x.shape[0])


@nb.njit(cache=True, parallel=True)
def _table_parallel(x, pat, out):
    n = x.shape[0]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    n_chunks = min(n_blocks, _MAX_CHUNKS)
    per_chunk = (n_blocks + n_chunks - 1) // n_chunks
    for c in nb.prange(n_chunks):
        _table_rows(x, pat, out, min(n, c * per_chunk * _BLOCK),
                    min(n, (c + 1) * per_chunk * _BLOCK))


def sign_table_matmul(x: np.ndarray, w_bits: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = x · Sᵀ`` for real ``x`` (n, K) and ±1 rows S packed in ``w_bits``.

    Parameters
    ----------
    x : numpy.ndarray
        ``float32[n, K]`` (any strides: copied to C order first if needed).
    w_bits : numpy.ndarray
        ``uint64[d, ceil(K / 64)]``: bit ``t % 64`` of word ``t // 64`` of row j is 1 when
        ``S[j, t] = +1`` (as :func:`mi_regimes.bnn.ops.sign_weights` packs them).
    out : numpy.ndarray
        ``float32[n, d]``, C-contiguous, overwritten.

    Returns
    -------
    numpy.ndarray
        ``out``. The same bits whatever the number of threads.
    """
    n, k = x.shape
    d = w_bits.shape[0]
    if (x.dtype != np.float32 or w_bits.dtype != np.uint64 or out.dtype != np.float32
            or w_bits.shape[1] != (k + 63) // 64 or out.shape != (n, d)
            or not out.flags.c_contiguous):
        raise ValueError(
            "x, w_bits, out: expected float32 (n, K), uint64 (d, ceil(K/64)) and float32 "
            f"(n, d) C-contiguous; got {x.dtype} {x.shape}, {w_bits.dtype} "
            f"{w_bits.shape}, {out.dtype} {out.shape}")
    x = np.ascontiguousarray(x)  # one compiled layout; a copy costs far less than the product
    pat = _patterns(np.ascontiguousarray(w_bits), k)
    parallel = n > _BLOCK and nb.get_num_threads() > 1
    (_table_parallel if parallel else _table_serial)(x, pat, out)
    return out
