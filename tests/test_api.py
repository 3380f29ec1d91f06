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
    data = datasets.load("digits", seed=0)
    assert data.name == "digits" and data.x_train.shape[1] == 64
    model = BinaryMLP([64, 16, 16], n_classes=10, seed=0)
    fit(model, data, epochs=1, batch_size=64, lr=1e-2, seed=0)
    assert model.predict(data.x_test).dtype.kind == "i"
    assert [a.shape[1] for a in model.activations(data.x_test)] == [16, 16]


def test_import_compiles_nothing_and_loads_no_plotting():
    code = (
        "import sys, mi_regimes as mr\n"
        "mr.ESTIMATORS\n"
        "from mi_regimes import _bootstrap, bits, counting, estimators, information, regimes\n"
        "kernels = [bits._pack_kernel, counting._partitioned_counts,\n"
        "           _bootstrap.plugin_kernel_parallel]\n"
        "print(all(not k.signatures for k in kernels),\n"
        "      any(m in sys.modules for m in ('matplotlib', 'seaborn', 'pandas')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["True", "False"], out.stderr
