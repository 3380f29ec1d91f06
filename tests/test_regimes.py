import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mi_regimes import regimes


@pytest.fixture(scope="module")
def small_grid():
    return regimes.run_grid(n_values=[16, 256, 4096], d_values=[2, 10, 40],
                            estimators=["plugin", "miller_madow", "bootstrap", "nsb"],
                            reps=12, rng=3, progress=False)


def test_columns_and_shape(small_grid):
    assert tuple(small_grid.columns) == regimes.COLUMNS
    assert len(small_grid) == 3 * 3 * 4
    from mi_regimes.verdicts import STATUSES

    assert set(small_grid.verdict) <= set(STATUSES)
    assert set(small_grid.truth) <= {"reliable", "biased", "saturated"}


def test_values_make_sense(small_grid):
    g = small_grid.set_index(["d", "n", "estimator"])
    # D = 40, N = 16: every replicate saturates at log2 16 = 4 bits
    assert g.loc[(40, 16, "plugin"), "saturated_frac"] == 1.0
    assert g.loc[(40, 16, "plugin"), "mean"] == pytest.approx(4.0)
    assert g.loc[(40, 16, "plugin"), "verdict"] == "saturated"
    # D = 2, N = 4096: all good
    assert g.loc[(2, 4096, "plugin"), "verdict"] == "reliable"
    assert abs(g.loc[(2, 4096, "miller_madow"), "rel_bias"]) < 0.01
    cov = small_grid.loc[small_grid.estimator == "bootstrap", "coverage"]
    assert cov.between(0, 1).all()
    assert small_grid.loc[small_grid.estimator == "plugin", "coverage"].isna().all()
    exact = small_grid.loc[small_grid.estimator.isin(["plugin", "miller_madow"]), "expected"]
    assert exact.notna().all()
    row = g.loc[(10, 256, "plugin")]
    assert row.rmse >= abs(row.bias) and row.rmse == pytest.approx(
        math.sqrt(row.bias**2 + row["std"] ** 2 * (row.reps - 1) / row.reps), rel=1e-9)


def test_same_numbers_whatever_the_number_of_workers():
    # N = 2**16 at D = 19: tens of thousands of states, where sums could be split by
    # BLAS threads (one in a worker, two here) and round differently
    kwargs = dict(n_values=[32, 1024, 2**16], d_values=[3, 12, 19, 30], reps=6, rng=11,
                  progress=False)
    one = regimes.run_grid(**kwargs, jobs=1)
    two = regimes.run_grid(**kwargs, jobs=2)
    pd.testing.assert_frame_equal(one, two)
    other = regimes.run_grid(**{**kwargs, "rng": 12})
    assert not np.allclose(one["mean"], other["mean"])


def test_adding_cells_or_estimators_changes_no_other_number():
    kwargs = dict(reps=5, rng=4, progress=False)
    small = regimes.run_grid(n_values=[64], d_values=[6], estimators=["bootstrap"], **kwargs)
    big = regimes.run_grid(n_values=[16, 64, 256], d_values=[2, 6],
                           estimators=["plugin", "miller_madow", "bootstrap"], **kwargs)
    same = big[(big.n == 64) & (big.d == 6) & (big.estimator == "bootstrap")]
    pd.testing.assert_frame_equal(small.reset_index(drop=True), same.reset_index(drop=True))


def test_dask_local_cluster_gives_the_same_table():
    distributed = pytest.importorskip("distributed")
    kwargs = dict(n_values=[32, 256], d_values=[4, 20], reps=4, rng=2, progress=False)
    local = regimes.run_grid(**kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = regimes.run_grid(**kwargs, client=client)
    pd.testing.assert_frame_equal(local, on_dask)


@pytest.mark.parametrize("kwargs,match", [
    ({"source_family": "gauss"}, "source_family: unknown family"),
    ({"n_values": [1, 4]}, "n_values: every value must be an integer >= 2"),
    ({"d_values": []}, "d_values: empty"),
    ({"d_values": [0]}, "d_values"),
    ({"estimators": ["ml"]}, "estimators: unknown"),
    ({"reps": 1}, "reps"),
    ({"jobs": 0}, "jobs"),
    ({"tol": 2}, "tol"),
    ({"params": {"q": 1}}, "params: bernoulli takes p"),
    # refused before any cell starts (it was a MemoryError asking for 24 TiB)
    ({"n_values": [16, 2**40]}, r"n_values: N = 1099511627776 rows of D = 2 bits need"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        regimes.run_grid(**{"n_values": [16], "d_values": [2], "reps": 2, "progress": False,
                            **kwargs})


def test_repeated_values_give_each_cell_once():
    once = regimes.run_grid(n_values=[16, 64], d_values=[2], estimators=["plugin"], reps=2,
                            progress=False)
    again = regimes.run_grid(n_values=[16, 64, 16], d_values=[2, 2],
                             estimators=["plugin", "plugin"], reps=2, progress=False)
    assert once.equals(again)


def test_verdicts_on_a_subset_of_replicates():
    """verdict_reps gives verdicts to the first replicates only; the estimates are the same."""
    kw = dict(n_values=[256], d_values=[6], estimators=["plugin", "bootstrap"], reps=8,
              rng=3, progress=False, n_boot=50)
    full = regimes.run_grid(**kw)
    part = regimes.run_grid(**kw, verdict_reps=3)
    assert (full["mean"] == part["mean"]).all() and (full["coverage"].fillna(-1)
                                                     == part["coverage"].fillna(-1)).all()
    shares = part["reliable_share"] * 3
    assert np.allclose(shares, np.round(shares))
    with pytest.raises(ValueError, match="verdict_reps"):
        regimes.run_grid(**kw, verdict_reps=0)


def test_numpy_scalar_parameters_are_the_numbers_they_equal():
    # a parameter read from an array (np.float32, np.int64) crashed in the cells' JSON
    # key ("Object of type float32 is not JSON serializable"); it is the same source as
    # the Python number, so it must give the same table, seeds included
    grid = dict(n_values=[16, 64], d_values=[3], estimators=["plugin"], reps=5,
                progress=False)
    for family, python, numpy_value in (("bernoulli", {"p": 0.25}, {"p": np.float32(0.25)}),
                                        ("sparse", {"ones": 2}, {"ones": np.int64(2)})):
        pd.testing.assert_frame_equal(regimes.run_grid(family, numpy_value, **grid),
                                      regimes.run_grid(family, python, **grid))


def test_heatmap_of_a_constant_source_labels_whole_bits_and_outlines_the_region():
    # a source of entropy 0: every cell is reliable (no boundary inside the grid, so no
    # outline was drawn although the legend names one), D ran 0.5, 0.75, ... on the
    # axis, and H2 was written as -0.0
    import math

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection

    from mi_regimes.plotting import regime_heatmap

    table = regimes.run_grid("bernoulli", {"p": 0.0}, n_values=[16, 32], d_values=[1, 2],
                             estimators=["plugin"], reps=3, progress=False)
    assert (table["truth"] == "reliable").all()
    assert all(math.copysign(1.0, v) == 1.0 for v in table["h2_true"])
    fig = regime_heatmap(table)
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    # the outline is the whole panel's border: 2 columns x 2 rows of unit-high cells
    outline = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(outline) == 1
    length = sum(np.abs(np.diff(seg, axis=0)).sum() for seg in outline[0].get_segments())
    matplotlib.pyplot.close(fig)
    assert length == pytest.approx(2 * (2.0 + 2.0))


def _naive_edges(mask):
    """Unit-cell edges between a True cell and a False cell or the border, as sets."""
    rows, cols = mask.shape
    cell = lambda i, j: 0 <= i < rows and 0 <= j < cols and mask[i, j]  # noqa: E731
    edges = set()
    for i in range(rows):
        for j in range(cols):
            if mask[i, j]:
                for di, dj, edge in ((0, -1, ((j, i), (j, i + 1))),
                                     (0, 1, ((j + 1, i), (j + 1, i + 1))),
                                     (-1, 0, ((j, i), (j + 1, i))),
                                     (1, 0, ((j, i + 1), (j + 1, i + 1)))):
                    if not cell(i + di, j + dj):
                        edges.add(edge)
    return edges


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 6).flatmap(lambda r: st.integers(1, 6).flatmap(
    lambda c: st.lists(st.booleans(), min_size=r * c, max_size=r * c).map(
        lambda v: np.array(v).reshape(r, c)))))
def test_reliable_outline_is_exactly_the_region_border(mask):
    from mi_regimes.plotting.heatmap import region_edges

    segments = region_edges(mask, np.arange(mask.shape[1] + 1.0),
                            np.arange(mask.shape[0] + 1.0))
    got = {tuple(map(tuple, seg.astype(int).tolist())) for seg in segments}
    assert len(got) == len(segments) and got == _naive_edges(mask)


@pytest.mark.parametrize("n_values, d_values", [([64], [1, 2, 3]), ([16, 64], [3]), ([64], [3])])
def test_heatmap_of_one_n_or_one_d(n_values, d_values):
    # a contour needs two rows and two columns: `mi-regimes heatmap --log2-n 4:4` (or
    # --d 3:3) ended in matplotlib's TypeError traceback
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection

    from mi_regimes.plotting import regime_heatmap

    table = regimes.run_grid("bernoulli", n_values=n_values, d_values=d_values,
                             estimators=["plugin"], reps=3, progress=False)
    fig = regime_heatmap(table)
    reliable = int((table["rel_bias"].abs() <= 0.05).sum())
    outline = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)]
    assert len(outline) == 1 and (len(outline[0].get_segments()) > 0) == (reliable > 0)
    matplotlib.pyplot.close(fig)


def test_heatmap_cells_are_centred_on_their_d_whatever_the_step():
    # edges at D ± 0.5 put D = 64, 128, ... on cells [63.5, 127.5], ... and the last row
    # (D = 1024) on a cell one unit high, invisible
    import matplotlib

    matplotlib.use("Agg")
    from mi_regimes.plotting import regime_heatmap
    from mi_regimes.plotting.heatmap import cell_edges

    np.testing.assert_array_equal(cell_edges([64, 128, 192]), [32, 96, 160, 224])
    np.testing.assert_array_equal(cell_edges([3]), [2.5, 3.5])
    np.testing.assert_array_equal(cell_edges([1, 2, 4]), [0.5, 1.5, 3, 5])
    table = regimes.run_grid("bernoulli", n_values=[16, 64], d_values=[8, 16, 24],
                             estimators=["plugin"], reps=2, exact=True, progress=False)
    fig = regime_heatmap(table)
    ax = fig.axes[0]
    assert ax.get_ylim() == (4.0, 28.0)
    mesh = ax.collections[0]
    heights = {round(float(np.ptp(path.vertices[:, 1])), 9) for path in mesh.get_paths()}
    matplotlib.pyplot.close(fig)
    assert heights == {8.0}


COVERAGE_SCRIPT = """
import sys
import numpy as np
from numba.core.registry import CPUDispatcher
from mi_regimes import regimes

def compiled():
    return {(mod, name, sig) for mod, module in list(sys.modules.items())
            if mod.startswith("mi_regimes") for name, f in vars(module).items()
            if isinstance(f, CPUDispatcher) for sig in f.overloads}

cells = [regimes._Cell("bernoulli", (("p", 0.5),), d, 2**k,
                       ("plugin", "miller_madow", "bootstrap"), 2, 200, 0.95, 0.05,
                       np.random.SeedSequence(0), 1)
         for d in (1, 14, 40) for k in range(4, 17)]
for warmup in regimes._warmups(cells):
    warmup()
warm = compiled()
for cell in cells:
    regimes._grid_cell_rows(cell)
print(len(warm), sorted(compiled() - warm))
"""


def test_grid_warmups_reach_every_kernel_the_default_grid_uses():
    # in a fresh process: the kernels loaded (or compiled) by the warm-ups are all that
    # cells over the default N and D range and estimators call, so on a cold start no
    # worker compiles a kernel another one has compiled
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", COVERAGE_SCRIPT], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    n_warm, new = done.stdout.split(" ", 1)
    assert int(n_warm) >= 8 and new.strip() == "[]", done.stdout
