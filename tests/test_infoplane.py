import math

import numpy as np
import pandas as pd
import pytest

import mi_regimes as mr
from mi_regimes import infoplane, plotting, sources
from mi_regimes.bnn import BinaryMLP, Recorder, datasets, fit


def test_point_matches_estimators_and_known_mi():
    pair = sources.labelled(sources.bernoulli(6, 0.3), noise=0.1, n_classes=3)
    t, y = pair.sample(20_000, np.random.default_rng(0))
    p = infoplane.plane_point(t, y, "plugin", n_boot=200, rng=1)
    assert p["i_xt"] == pytest.approx(mr.entropy(t), abs=1e-12)
    assert p["i_ty"] == pytest.approx(mr.mutual_information(t, y), abs=1e-12)
    # well sampled: the intervals cover the exact values, the verdict says reliable
    assert p["i_xt_low"] <= pair.source.entropy + 0.01 and p["i_xt_high"] >= p["i_xt"]
    assert p["i_ty_low"] - 0.01 <= pair.mutual_information <= p["i_ty_high"] + 0.01
    assert p["verdict"] == "reliable" and p["width"] == 6 and p["n"] == 20_000
    mm = infoplane.plane_point(t, y, "miller_madow", n_boot=0)
    assert mm["i_ty"] == pytest.approx(mr.mutual_information(t, y, "miller_madow"), abs=1e-12)
    assert math.isnan(mm["i_xt_low"])
    nsb = infoplane.plane_point(mr.pack_bits(t), y, "nsb", n_boot=20, rng=0)
    assert nsb["i_xt_low"] <= nsb["i_xt"] <= nsb["i_xt_high"]


def test_saturated_layer_is_flagged():
    t = np.random.default_rng(2).integers(0, 2, size=(500, 40))
    y = np.arange(500) % 2
    p = infoplane.plane_point(t, y, n_boot=50, rng=0)
    assert p["i_xt"] == pytest.approx(math.log2(500)) and p["verdict"] == "saturated"
    assert p["saturation"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def plane():
    data = datasets.load("tishby12", rng=0)
    model = BinaryMLP([12, 8, 4], n_classes=2, rng=0)
    history = fit(model, data, epochs=12, batch_size=64, lr=5e-3, rng=0,
                  record=Recorder(n=6))
    return history.recording, infoplane.information_plane(history.recording, n_boot=40,
                                                          rng=3)


def test_information_plane_table(plane):
    recording, table = plane
    assert list(table.columns) == [*infoplane.PLANE_COLUMNS, "train_acc", "test_acc"]
    assert len(table) == len(recording.epochs) * 2
    assert set(table["layer"]) == {1, 2} and table["width"].tolist()[:2] == [8, 4]
    assert (table["i_ty"] <= table["i_xt"] + 1e-9).all()  # plug-in I(T;Y) <= H(T)
    assert (table["i_xt_low"] <= table["i_xt"]).all() and (table["i_xt"] <= table["i_xt_high"]
                                                            ).all()
    again = infoplane.information_plane(recording, n_boot=40, rng=3)
    pd.testing.assert_frame_equal(table, again)


def test_figure(plane, tmp_path):
    _, table = plane
    path = plotting.save_figure(plotting.information_plane_figure(table),
                                str(tmp_path / "plane.png"))
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 600 and img[..., :3].std() > 0.05


def _trajectory(values, verdicts=None, half_width=0.05):
    v = np.asarray(values, float)
    return pd.DataFrame({"epoch": np.arange(v.size), "layer": 1, "i_xt": v,
                         "i_xt_low": v - half_width, "i_xt_high": v + half_width,
                         "verdict": verdicts or ["reliable"] * v.size})


def test_detect_compression_cases():
    rise_fall = infoplane.detect_compression(_trajectory([2.0, 3.0, 4.0, 3.5, 3.0]))
    assert rise_fall.loc[0, "late_compression"] and rise_fall.loc[0, "peak_epoch"] == 2
    only_fall = infoplane.detect_compression(_trajectory([4.0, 3.5, 3.0]))
    assert only_fall.loc[0, "compression"] and not only_fall.loc[0, "late_compression"]
    within_bars = infoplane.detect_compression(_trajectory([2.0, 3.0, 2.95], half_width=0.1))
    assert not within_bars.loc[0, "compression"]
    saturated = infoplane.detect_compression(
        _trajectory([2.0, 4.0, 3.0], ["reliable", "saturated", "reliable"]))
    assert saturated.loc[0, "fitting"] and not saturated.loc[0, "trustworthy"]
    assert not saturated.loc[0, "late_compression"]
    no_bars = _trajectory([2.0, 4.0, 3.0])
    no_bars[["i_xt_low", "i_xt_high"]] = np.nan
    assert infoplane.detect_compression(no_bars, min_change=0.5).loc[0, "late_compression"]
    assert not infoplane.detect_compression(no_bars, min_change=1.5).loc[0, "compression"]


@pytest.mark.parametrize("call,err,match", [
    (lambda: infoplane.plane_point(np.zeros((4, 2)), [0, 1, 0, 1], "bootstrap"), ValueError,
     "already a bootstrap"),
    (lambda: infoplane.plane_point(np.zeros((4, 2)), [0, 1, 0]), ValueError, "labels: 3"),
    (lambda: infoplane.plane_point(np.zeros((4, 2)), [0, 1, 0, 1], ci=2), ValueError, "ci"),
    (lambda: infoplane.information_plane("run.npz"), TypeError, "recording"),
    (lambda: infoplane.detect_compression(pd.DataFrame({"epoch": [1]})), ValueError,
     "missing columns"),
    (lambda: infoplane.detect_compression(_trajectory([1, 2]), min_change=-1), ValueError,
     "min_change"),
])
def test_bad_arguments(call, err, match):
    with pytest.raises(err, match=match):
        call()
