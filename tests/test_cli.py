import json
import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mi_regimes import regimes
from mi_regimes.cli import main

SMALL = ["--log2-n", "4:8:2", "--d", "2:20:6", "--reps", "4", "--quiet"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "mi_regimes", *args], capture_output=True,
                          text=True, timeout=300)


def test_heatmap_writes_png_and_csv(tmp_path, capsys):
    png, csv = tmp_path / "chart.png", tmp_path / "cells.csv"
    assert main(["heatmap", *SMALL, "--out", str(png), "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {png}" in out and f"wrote {csv}" in out
    table = pd.read_csv(csv)
    assert tuple(table.columns) == regimes.COLUMNS
    assert len(table) == 3 * 4 * 3
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] > 400 and img.shape[1] > 800 and img.shape[2] in (3, 4)
    assert img[..., :3].std() > 0.05  # not a blank canvas


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_heatmap_other_formats_and_options(tmp_path, suffix):
    out = tmp_path / f"chart{suffix}"
    code = main(["heatmap", *SMALL, "--family", "markov", "--param", "p_stay=0.8",
                 "--metric", "rmse", "--estimators", "plugin,nsb", "--out", str(out),
                 "--csv", str(tmp_path / "t.csv")])
    assert code == 0 and out.stat().st_size > 1000
    assert out.read_bytes()[:5] in (b"<?xml", b"%PDF-")


def test_heatmap_exact(tmp_path):
    csv = tmp_path / "t.csv"
    assert main(["heatmap", *SMALL, "--exact", "--estimators", "plugin,miller_madow",
                 "--out", str(tmp_path / "e.png"), "--csv", str(csv)]) == 0
    table = pd.read_csv(csv)
    assert set(table["method"]) == {"exact"}
    # from D = 1: two-state sources (their exact sd raised "math domain error")
    assert main(["heatmap", "--log2-n", "4:6", "--d", "1:3", "--quiet", "--exact",
                 "--estimators", "plugin", "--out", str(tmp_path / "d1.png"),
                 "--csv", str(csv)]) == 0
    table = pd.read_csv(csv)
    assert 1 in set(table["d"]) and set(table["method"]) == {"exact"}


def test_heatmap_same_output_for_one_and_two_jobs(tmp_path):
    for jobs in ("1", "2"):
        assert main(["heatmap", *SMALL, "--jobs", jobs, "--out", str(tmp_path / f"{jobs}.png"),
                     "--csv", str(tmp_path / f"{jobs}.csv")]) == 0
    assert (tmp_path / "1.csv").read_text() == (tmp_path / "2.csv").read_text()


@pytest.mark.parametrize("args,fragment", [
    (["heatmap", "--estimator", "plugin,ml"], "--estimator: unknown ml"),
    (["heatmap", "--estimators", "plugin,ml"], "--estimator: unknown ml"),
    (["heatmap", "--log2-n", "10:4"], "reversed"),
    (["heatmap", "--d", "0:5"], "--d: D must be >= 1"),
    (["heatmap", "--d", "x"], "--d: cannot read"),
    (["heatmap", "--family", "gauss", "--d", "2", "--log2-n", "4"], "unknown family"),
    (["heatmap", "--param", "p"], "--param: expected NAME=VALUE"),
    (["heatmap", "--out", "/no/such/folder/x.png"], "folder '/no/such/folder' does not exist"),
    (["heatmap", "--out", "x.gif"], "--out"),
    (["heatmap", "--tol", "3"], "--tol"),
    (["heatmap", "--reps", "lots"], "invalid int value"),
    (["heatmap", "--metric", "coverage", "--estimators", "plugin"], "coverage needs"),
    (["estimate", "/no/such/file.npy"], "no such file"),
    (["theory", "--d", "8"], "required"),
    (["frobnicate"], "invalid choice"),
    # no abbreviations: --n was read as --n-boot and blamed the bootstrap
    (["heatmap", "--n", "5:2"], "heatmap: unrecognized arguments: --n 5:2; --n: did you mean "
                                "--log2-n or --n-boot?"),
    (["heatmap", "--rep", "3"], "--rep: did you mean --reps?"),
    (["estimate", "x.npy", "--label", "y.npy"], "estimate: unrecognized arguments: --label "
                                                "y.npy; --label: did you mean --labels?"),
    (["study", "plan", "c.yaml", "--quik"], "study plan: unrecognized arguments: --quik; "
                                            "--quik: did you mean --quick?"),
    (["heatmap", "--frobnicate"], "heatmap: unrecognized arguments: --frobnicate (see"),
])
def test_errors_exit_2_with_one_line(args, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir()), "no partial output may be left behind"


def test_errors_as_subprocess(tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.array([[0, 2], [1, 0]]))
    res = run("estimate", str(bad))
    assert res.returncode == 2
    assert "values must be binary" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1
    res = run("heatmap", "--d", "5:1")
    assert res.returncode == 2 and "reversed" in res.stderr


@pytest.mark.parametrize("command", [["sources"], ["estimate", "X", "--json"]])
def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path, command):
    """`mi-regimes ... | head`: the pipe closes before we write; no traceback."""
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).integers(0, 2, size=(300, 8), dtype=np.uint8))
    args = [str(x) if a == "X" else a for a in command]
    proc = subprocess.Popen([sys.executable, "-m", "mi_regimes", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command prints anything
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert stderr == ""


def test_estimate_formats_and_json(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(500, 6), dtype=np.uint8)
    y = x[:, 0] + 2 * x[:, 1]
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.savez(tmp_path / "acts.npz", layer1=x, layer2=x[:, :3])
    np.savetxt(tmp_path / "x.csv", x, fmt="%d", delimiter=",")

    assert main(["estimate", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 500 and report["d"] == 6 and report["k_observed"] == 64
    plug = report["estimates"][0]
    assert plug["estimator"] == "plugin" and 5.8 < plug["entropy_bits"] <= 6
    assert plug["mutual_information_bits"] == pytest.approx(2.0, abs=0.05)
    assert plug["verdict"] == "reliable"
    boot = report["estimates"][2]
    assert boot["ci"][0] < boot["entropy_bits"] < boot["ci"][1]

    assert main(["estimate", str(tmp_path / "acts.npz"), "--key", "layer2"]) == 0
    text = capsys.readouterr().out
    assert "N = 500, D = 3, K_obs = 8" in text and "reliable" in text
    assert main(["estimate", str(tmp_path / "acts.npz")]) == 2
    assert "choose one with --key" in capsys.readouterr().err
    assert main(["estimate", str(tmp_path / "x.csv"), "--estimator", "nsb"]) == 0
    assert "nsb" in capsys.readouterr().out

    # labels saved as a column vector, or as text in a .npy, give the same I(T;Y)
    np.save(tmp_path / "ycol.npy", y[:, None])
    np.save(tmp_path / "ytext.npy", np.array(["a", "b", "c", "d"])[y])
    for labels in ("ycol.npy", "ytext.npy"):
        assert main(["estimate", str(tmp_path / "x.npy"), "--labels", str(tmp_path / labels),
                     "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["estimates"][0][
            "mutual_information_bits"] == plug["mutual_information_bits"]
    # text in a .csv is refused, not guessed (a header line would count as a label)
    (tmp_path / "ytext.csv").write_text("label\n" + "\n".join("ab"[v % 2] for v in y))
    assert main(["estimate", str(tmp_path / "x.npy"), "--labels",
                 str(tmp_path / "ytext.csv")]) == 2
    err = capsys.readouterr().err
    assert "--labels: cannot read" in err and "--header" in err and err.count("\n") == 1


@pytest.mark.parametrize("content, extra", [("", []), ("a,b\n", ["--header"])])
def test_estimate_empty_csv_is_one_line_without_a_warning(tmp_path, capsys, content, extra):
    # NumPy's "loadtxt: input contained no data" warning was printed (two more lines)
    # before the error about an empty array
    import warnings

    (tmp_path / "x.csv").write_text(content)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["estimate", str(tmp_path / "x.csv"), *extra]) == 2
    err = capsys.readouterr().err
    assert "FILE: " in err and "holds no numbers" in err and err.count("\n") == 1


@pytest.mark.parametrize("extra, message", [
    # the first ended in a traceback from the verdicts; the second was ignored
    (["--alphabet-size", "5"], "--alphabet-size: 5 is smaller than the 8 distinct states"),
    (["--key", "layer"], "--key: names an array inside an .npz file"),
    # inf passed the CLI's check and ended in the verdicts' traceback
    (["--tol-bits", "inf"], "--tol-bits: must be a finite number >= 0, got inf"),
    (["--n-boot", "99999999999999999999"], "--n-boot: number of bootstrap replicates must "
                                           "be an integer from 1 to 10000000"),
])
def test_estimate_option_errors_are_one_line(tmp_path, capsys, extra, message):
    x = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)] * 3)
    np.save(tmp_path / "x.npy", x)
    assert main(["estimate", str(tmp_path / "x.npy"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_estimate_reads_csv_files_pandas_wrote(tmp_path, capsys):
    # DataFrame.to_csv(index=False) heads unnamed columns with "0,1": with two binary
    # columns that line was read as one more sample, without a word
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(50, 2))
    y = rng.integers(0, 3, size=50)
    pd.DataFrame(x).to_csv(tmp_path / "x.csv", index=False)
    pd.DataFrame(x, columns=["a", "b"]).to_csv(tmp_path / "named.csv", index=False)
    pd.Series(y).to_csv(tmp_path / "y.csv", index=False)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    assert main(["estimate", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "FILE: the first line of" in err and "'0,1', is the header pandas writes" in err
    assert "--header" in err and err.count("\n") == 1

    def report(*args):
        assert main(["estimate", *map(str, args), "--estimator", "plugin", "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    expected = report(tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    for data in ("x.csv", "named.csv"):
        got = report(tmp_path / data, "--header", "--labels", tmp_path / "y.csv")
        assert got["n"] == 50 and got["estimates"] == expected["estimates"]
    assert report(tmp_path / "x.csv", "--no-header")["n"] == 51  # the user said it is data


def test_estimate_every_estimator_with_labels_on_signs(tmp_path, capsys):
    rng = np.random.default_rng(3)
    x = 2 * rng.integers(0, 2, size=(3000, 10)) - 1
    y = (x[:, 0] > 0) + 2 * (x[:, 1] > 0)
    np.savetxt(tmp_path / "acts.csv", x, fmt="%d", delimiter=",")
    np.savetxt(tmp_path / "y.csv", y, fmt="%d", delimiter=",")
    names = "plugin,miller_madow,jackknife,bootstrap,nsb,chao_shen,grassberger"
    assert main(["estimate", str(tmp_path / "acts.csv"), "--labels", str(tmp_path / "y.csv"),
                 "--estimator", names, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for item in report["estimates"]:
        assert item["mutual_information_bits"] == pytest.approx(2.0, abs=0.15), item


def test_estimate_reports_saturation(tmp_path, capsys):
    x = np.random.default_rng(1).integers(0, 2, size=(1000, 60), dtype=np.uint8)
    np.save(tmp_path / "wide.npy", x)
    assert main(["estimate", str(tmp_path / "wide.npy"), "--estimator", "plugin"]) == 0
    assert "saturated: 1000 of 1000 samples distinct" in capsys.readouterr().out


def test_sources_theory_version_help(capsys):
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    for family in ("bernoulli", "uniform_codebook", "sparse", "markov", "zipf_codebook"):
        assert family in out
    assert main(["theory", "--d", "8", "--n", "64", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["expected_plugin_bits"] == pytest.approx(5.7657, abs=1e-4)
    for cmd in ([], ["heatmap"], ["estimate"], ["sources"], ["theory"]):
        with pytest.raises(SystemExit) as exc:
            main([*cmd, "--help"])
        assert exc.value.code == 0
        assert "example" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert "mi-regimes 0.1.0" in capsys.readouterr().out


def test_help_does_not_import_plotting_stack():
    code = ("import sys; from mi_regimes.cli import build_parser; build_parser(); "
            "print(any(m in sys.modules for m in ('matplotlib', 'pandas', 'seaborn')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.strip() == "False"


# ------------------------------------------------------------------ train and infoplane

@pytest.fixture(scope="module")
def tishby_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "tishby"
    assert main(["train", "--epochs", "12", "--snapshots", "6", "--seed", "3",
                 "--out", str(folder), "--quiet"]) == 0
    return folder


def test_train_writes_a_reloadable_run(tishby_run):
    from mi_regimes.bnn import BinaryMLP, datasets, load_recording

    names = {p.name for p in tishby_run.iterdir()}
    assert {"model.npz", "recording.npz", "history.json", "config.json"} <= names
    config = json.loads((tishby_run / "config.json").read_text())
    assert config["train"]["data"] == "tishby12" and config["train"]["seed"] == 3
    assert config["model"]["widths"] == [12, 10, 7, 5, 4]
    assert {"numpy", "numba", "mi_regimes"} <= set(config["versions"])
    history = json.loads((tishby_run / "history.json").read_text())
    recording = load_recording(tishby_run / "recording.npz")
    assert set(recording.sets) >= {"train", "test", "population"}
    assert recording.sets["population"].labels.size == 4096
    assert history["epoch"][-1] == 12 and len(history["test_acc"]) == len(history["epoch"])
    assert recording.epochs[0] == 0 and recording.epochs[-1] == 12
    assert len(recording.epochs) == 6  # as asked, the untrained net among them (was 7)
    model = BinaryMLP.load(tishby_run / "model.npz")
    x, _ = datasets.tishby12()
    # the reloaded model gives, layer by layer, what the recorder saw at the last epoch
    _, layers = model.infer(x)
    recorded = recording.sets["population"].snapshots[-1]
    assert len(layers) == len(recorded) == 4
    for now, then in zip(layers, recorded, strict=True):
        assert np.array_equal(now.words, then.words)


def test_train_refuses_to_overwrite_a_run_unless_asked(tishby_run, tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    for name in ("model.npz", "recording.npz", "history.json", "config.json"):
        (folder / name).write_bytes((tishby_run / name).read_bytes())
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    args = ["train", "--epochs", "2", "--snapshots", "2", "--out", str(folder), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--out: " in err and "already holds a run (model.npz, recording.npz" in err
    assert "--overwrite" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing touched
    assert main([*args, "--overwrite"]) == 0
    capsys.readouterr()
    assert json.loads((folder / "history.json").read_text())["epoch"][-1] == 2
    # an empty folder, or one holding other files, is a fine place for a new run
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README").write_text("x")
    assert main([*args[:-3], "--out", str(tmp_path / "notes"), "--quiet"]) == 0


def test_infoplane_json_has_the_design_fields(tishby_run, tmp_path, capsys):
    out, js = tmp_path / "plane.png", tmp_path / "plane.json"
    assert main(["infoplane", str(tishby_run), "--estimator", "miller_madow", "--n-boot", "30",
                 "--out", str(out), "--json", str(js), "--quiet"]) == 0
    report = json.loads(js.read_text())
    assert report["mode"] == "population" and report["estimator"] == "miller_madow"
    assert report["n"] > 0 and report["points"]
    layers = {p["layer"] for p in report["points"]}
    assert layers == {1, 2, 3, 4}  # layers counted from 1, as in the figures
    for p in report["points"]:
        assert {"layer", "epoch", "d", "i_xt", "i_ty", "in_bounds", "verdict", "ci_xt",
                "ci_ty"} <= set(p)
        assert p["ci_xt"][0] <= p["i_xt"] + 1e-12 and p["ci_xt"][1] >= p["i_xt"] - 1e-12
        assert p["verdict"] in ("reliable", "biased", "undersampled", "saturated",
                                "no guarantee")
        if p["in_bounds"]:
            assert p["i_xt"] <= min(p["d"], math.log2(report["n"])) + 1e-9
            assert p["i_ty"] <= p["i_xt"] + 1e-9
    for c in report["compression"]:
        assert {"layer", "assessable", "late", "peak_epoch", "drop_bits", "p_value",
                "reason"} <= set(c)
        assert c["reason"]
    import matplotlib.image as mpimg

    img = mpimg.imread(out)
    assert img.shape[1] > 800 and img[..., :3].std() > 0.05
    assert "verdicts:" in capsys.readouterr().out


def test_infoplane_empirical_on_the_population_is_exact(tishby_run, tmp_path):
    js = tmp_path / "p.json"
    assert main(["infoplane", str(tishby_run), "--mode", "empirical", "--split", "population",
                 "--out", str(tmp_path / "p.svg"), "--json", str(js), "--quiet"]) == 0
    report = json.loads(js.read_text())
    assert report["n"] == 4096
    assert all(p["verdict"] in ("exact", "saturated") and p["in_bounds"]
               for p in report["points"])
    assert all("ci_xt" not in p for p in report["points"])  # exact values: no error bars


@pytest.mark.parametrize("args,fragment", [
    (["train", "--data", "cifar", "--out", "r"], "--data: unknown data set 'cifar'"),
    (["train", "--widths", "12,0,3", "--out", "r"], "--widths"),
    (["train", "--widths", "10,5", "--out", "r"], "start --widths with 12"),
    # an empty item was skipped: 12,,4 trained 12-4 without a word
    (["train", "--widths", "12,,4", "--out", "r"], "--widths: cannot read '12,,4'"),
    (["train", "--widths", "12,4,", "--out", "r"], "--widths: cannot read '12,4,'"),
    (["train", "--epochs", "0", "--out", "r"], "--epochs"),
    # one snapshot recorded three (epoch 0, 1 and the last)
    (["train", "--snapshots", "1", "--out", "r"], "--snapshots: at least 2, since epoch 0"),
    (["train", "--dropout", "1.5", "--out", "r"], "--dropout"),
    # the library's argument names, said as the options the user typed
    (["train", "--seed", "-5", "--out", "r"], "--seed: expected"),
    (["train", "--label-noise", "1.5", "--out", "r"], "--label-noise: must be"),
    (["heatmap", "--reps", "0"], "--reps: must be an integer >= 2"),
    (["train", "--out", "/no/such/folder/run"], "--out"),
    (["train", "--lr-schedule", "zigzag", "--epochs", "1", "--out", "r"], "zigzag"),
    (["infoplane", "missing-run"], "no recording.npz"),
    # huge numbers ended in tracebacks: tqdm's OverflowError, the bootstrap kernel's
    # typing error, NumPy's "Maximum allowed size exceeded"
    (["train", "--epochs", "99999999999999999999", "--out", "r"],
     "--epochs: must be an integer between 1 and 10000000"),
    (["heatmap", "--n-boot", "99999999999999999999"],
     "--n-boot: must be an integer between 1 and 10000000"),
    (["infoplane", "missing-run", "--n-boot", "99999999999999999999"],
     "--n-boot: must be an integer between 1 and 10000000"),
    (["theory", "--d", "99999999999999999999", "--n", "10"],
     "--d: must be an integer between 1 and 1048576"),
    # several names ended in "ValueError: too many values to unpack" (checked before the
    # run folder is read)
    (["infoplane", "missing-run", "--estimator", "plugin,nsb"],
     "--estimator: one plane takes one estimator, got plugin, nsb"),
])
def test_train_and_infoplane_errors_exit_2(args, fragment, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir()), "no partial output may be left behind"


@pytest.mark.parametrize("args,fragment", [
    (["--estimator", "ml"], "--estimator: unknown ml"),
    (["--split", "validation"], "--split: 'validation' was not recorded"),
    (["--ci", "1.5"], "--ci"),
    (["--n-boot", "0"], "--n-boot"),
    (["--out", "plane.gif"], "--out"),
    (["--mode", "both"], "invalid choice"),
])
def test_infoplane_bad_options_exit_2(tishby_run, args, fragment, tmp_path, capsys,
                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["infoplane", str(tishby_run), *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_plane_figure_labels_epochs_as_plain_numbers(tishby_run):
    # a log axis over a few epochs used to read 2×10⁰, 3×10⁰
    import matplotlib

    matplotlib.use("Agg", force=False)
    from mi_regimes.bnn import load_recording
    from mi_regimes.infoplane import information_plane
    from mi_regimes.plotting import information_plane_figure

    plane = information_plane(load_recording(tishby_run / "recording.npz"), "plugin",
                              mode="empirical", split="train")
    fig = information_plane_figure(plane)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in
              ax.xaxis.get_ticklabels(which="both") + ax.yaxis.get_ticklabels(which="both")]
    assert "10" in labels and "1" in labels
    assert not [t for t in labels if "times" in t or "×" in t or "^" in t], labels
    import matplotlib.pyplot as plt

    plt.close(fig)


def _cut(path, keep):
    data = path.read_bytes()[:keep]
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name, make, match", [
    # an empty .npy or .npz, and a cut-short .npz, ended in EOFError / BadZipFile tracebacks
    ("empty.npy", lambda p: p.write_bytes(b""), "not a whole NumPy .npy file"),
    ("empty.npz", lambda p: p.write_bytes(b""), "not a whole NumPy .npz file"),
    ("cut.npz", lambda p: (np.savez(p, np.zeros((40, 3))), _cut(p, 100)),
     "not a whole NumPy .npz file"),
    # any file without NumPy's header was said to hold "pickled (object) data"
    ("text.npy", lambda p: p.write_text("0,1\n1,0\n"), "not a NumPy .npy/.npz file"),
    ("objects.npy", lambda p: np.save(p, np.array([[0, 1]], dtype=object), allow_pickle=True),
     r"holds a NumPy object array, which is never loaded .* x.astype\(int\)"),
])
@pytest.mark.parametrize("option", ["FILE", "--labels"])
def test_estimate_unreadable_npy_files_are_one_line(tmp_path, capsys, name, make, match,
                                                     option):
    path = tmp_path / name
    make(path)
    good = tmp_path / "x.npy"
    np.save(good, np.zeros((40, 3), np.uint8))
    argv = [str(path)] if option == "FILE" else [str(good), "--labels", str(path)]
    assert main(["estimate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mi-regimes: error: {option}: ") and err.count("\n") == 1
    assert re.search(match, err), err


def test_an_estimator_named_twice_is_run_once(tmp_path, capsys):
    # `--estimator plugin,plugin` printed (and wrote in the JSON) the same estimate twice,
    # and a heatmap drew its cells twice over in the table
    np.save(tmp_path / "x.npy", np.random.default_rng(0).integers(0, 2, (200, 4)))
    assert main(["estimate", str(tmp_path / "x.npy"), "--estimator", "plugin,nsb,plugin",
                 "--json"]) == 0
    names = [e["estimator"] for e in json.loads(capsys.readouterr().out)["estimates"]]
    assert names == ["plugin", "nsb"]
