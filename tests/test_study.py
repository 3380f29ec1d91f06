"""The study: config expansion, verified resumable storage, identical results whatever the
backend, a kill mid-run, failures recorded, and the report."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from mi_regimes.cli import main
from mi_regimes.study import ResultStore, load_spec, run_one, run_study
from mi_regimes.study.analysis import wilson

CONFIG = os.path.join(os.path.dirname(__file__), os.pardir, "experiments", "study.toml")


def _stable(result: dict) -> dict:
    """A result without what may differ between identical runs (time, versions)."""
    return {k: v for k, v in result.items() if k not in ("seconds", "versions")}


def test_full_config_has_375_models_and_keys_are_stable():
    spec = load_spec(CONFIG)
    assert len(spec.runs) == 375 and len({r.key for r in spec.runs}) == 375
    widths = {w for r in spec.runs for w in r.widths[1:]}
    assert min(widths) == 4 and max(widths) == 1024
    quick = load_spec(CONFIG, "quick")
    assert len(quick.runs) == 4 and quick.estimators == ["plugin", "miller_madow"]
    # a run's key (hence its seed) does not depend on the other runs of the config
    assert {r.key for r in quick.runs} <= {r.key for r in spec.runs}


_BASE = """[study]
seed = 1
seeds = 1
snapshots = 5
estimators = ["plugin"]
n_boot = 10
modes = ["population"]
split = "train"
[regularisers.none]
[tasks.tishby12]
epochs = 3
batch_size = 256
lr = 0.01
architectures = [[12, 4]]
"""


@pytest.mark.parametrize("old, new, err, message", [
    # each of these was accepted by `study plan` (and failed later, or ran 0 models)
    ("seeds = 1", "seeds = 0", ValueError, "[study] seeds: must be an integer >= 1, got 0"),
    ("seeds = 1", 'seeds = "1"', TypeError, "[study] seeds: expected an integer"),
    ("seed = 1", "seed = 1.5", TypeError, "[study] seed: expected an integer, got float"),
    ("epochs = 3", "epochs = -3", ValueError, "[tasks.tishby12] epochs: must be an integer >= 1"),
    ("lr = 0.01", 'lr = "fast"', TypeError, "[tasks.tishby12] lr: expected a number"),
    ("lr = 0.01", "lr = 0.01\nlearning_rate = 3", ValueError,
     "[tasks.tishby12]: unknown option(s) ['learning_rate']"),
    ("seeds = 1", "seeds = 1\nseedz = 2", ValueError, "[study]: unknown option(s) ['seedz']"),
    ("batch_size = 256", "batch_size = 1", ValueError, "batch_size: must be an integer >= 2"),
    ("[[12, 4]]", "[[10, 4]]", ValueError, "[10, 4] starts with 10, but the task has 12 inputs"),
    ("[[12, 4]]", "[12, 4]", ValueError, "architectures: 12 is not a list"),
    ("[[12, 4]]", "[[12, 0]]", ValueError, "architectures: [12, 0] is not a list"),
    ("[regularisers.none]", "[regularisers.none]\ndropout = 2.0", ValueError,
     "[regularisers.none] dropout: must be a finite number in [0, 1)"),
    ("[regularisers.none]", '[regularisers.none]\nrandom_labels = "yes"', TypeError,
     "random_labels: expected True or False"),
    ('["plugin"]', "[]", TypeError, "[study] estimators: expected a non-empty list"),
    ('"train"', '"val"', ValueError, "[study] split: unknown value 'val'"),
    ("n_boot = 10", "n_boot = 0", ValueError, "[study] n_boot: must be an integer between 1 and"),
    # 1e20 failed to compile in the bootstrap kernel, 1e12 raised MemoryError
    ("n_boot = 10", "n_boot = 100000000000", ValueError,
     "[study] n_boot: must be an integer between 1 and 10000000"),
    ("snapshots = 5", "snapshots = 0", ValueError, "[study] snapshots: at least 2"),
    ("snapshots = 5", "snapshots = 1", ValueError, "[study] snapshots: at least 2"),
    ("[tasks.tishby12]", "[tasks.digits]", ValueError, "[12, 4] starts with 12, but the task "
                                                       "has 64 inputs"),
    # repeats: two runs shared one key, so one result file (375 planned, 350 distinct),
    # and a repeated estimator or mode was computed twice
    ("[[12, 4]]", "[[12, 4], [12, 4]]", ValueError,
     "[tasks.tishby12] architectures: [12, 4] is listed twice"),
    ('["plugin"]', '["plugin", "plugin"]', ValueError,
     "[study] estimators: 'plugin' is listed twice"),
    ('modes = ["population"]', 'modes = ["population", "population"]', ValueError,
     "[study] modes: 'population' is listed twice"),
])
def test_every_config_entry_is_checked_before_planning(tmp_path, capsys, old, new, err,
                                                       message):
    path = tmp_path / "s.toml"
    assert old in _BASE
    path.write_text(_BASE.replace(old, new, 1))
    with pytest.raises(err) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert main(["study", "plan", str(path)]) == 2
    assert f"{message}" in capsys.readouterr().err


def test_population_split_only_with_tishby12(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(_BASE.replace('"train"', '"population"'))
    assert load_spec(path).split == "population"
    path.write_text(_BASE.replace('"train"', '"population"') +
                    "[tasks.digits]\narchitectures = [[64, 8]]\n")
    with pytest.raises(ValueError, match="'population' is recorded for tishby12 only"):
        load_spec(path)


def test_a_profile_naming_a_task_twice_is_refused(tmp_path):
    # its runs were planned twice under the same keys
    path = tmp_path / "s.toml"
    path.write_text(_BASE + '[profiles.p]\ntasks = ["tishby12", "tishby12"]\n')
    with pytest.raises(ValueError, match=r"\[profiles.p\] tasks: 'tishby12' is listed twice"):
        load_spec(path, "p")


def test_a_profile_asking_more_architectures_than_listed_is_refused(tmp_path, capsys):
    # [profiles.p] architectures = 3 with one listed ran that one without a word
    path = tmp_path / "s.toml"
    path.write_text(_BASE + "[profiles.p]\narchitectures = 3\n")
    with pytest.raises(ValueError, match=r"\[profiles.p\] architectures: asks for the first "
                                         r"3, but \[tasks.tishby12\] lists 1; use at most 1"):
        load_spec(path, "p")
    assert main(["study", "plan", str(path), "--profile", "p"]) == 2
    path.write_text(_BASE + "[profiles.p]\narchitectures = 1\n")
    assert len(load_spec(path, "p").runs) == 1


@pytest.mark.parametrize("text,fragment", [
    ("[study]\n", "needs [tasks.NAME]"),
    ("[tasks.digits]\narchitectures=[[64,4]]\n[regularisers.x]\nmomentum=1\n",
     "unknown option"),
    ("[tasks.cifar]\narchitectures=[[64,4]]\n[regularisers.none]\n[profiles.p]\n", "task"),
    ("not = [toml", "not valid TOML"),
])
def test_bad_configs_are_named(tmp_path, text, fragment):
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[")):
        load_spec(path, "p" if "profiles" in text else None)
    assert main(["study", "plan", str(path)]) == 2


def test_plan_prints_one_json_document_and_takes_quick(tmp_path, capsys):
    # DESIGN.md: `mi-regimes study plan CONFIG [--quick]` prints {"runs": N, ...} as JSON
    assert main(["study", "plan", str(CONFIG), "--quick"]) == 0
    plan = json.loads(capsys.readouterr().out)
    quick = load_spec(CONFIG, "quick")
    assert plan["runs"] == len(quick.runs) == len(plan["keys"]) and plan["profile"] == "quick"
    assert plan["keys"] == [r.key for r in quick.runs]
    assert main(["study", "plan", str(CONFIG), "--profile", "quick"]) == 0
    assert json.loads(capsys.readouterr().out) == plan
    assert main(["study", "plan", str(CONFIG)]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == len(load_spec(CONFIG).runs)
    # the same tables as JSON in a .json file
    import tomllib

    as_json = tmp_path / "study.json"
    with open(CONFIG, "rb") as f:
        as_json.write_text(json.dumps(tomllib.load(f)))
    assert main(["study", "plan", str(as_json), "--quick"]) == 0
    assert json.loads(capsys.readouterr().out) == plan
    assert main(["study", "plan", str(CONFIG), "--quick", "--profile", "pilot"]) == 2
    assert "not allowed with argument --quick" in capsys.readouterr().err


@pytest.mark.parametrize("text,fragment", [
    ("[1, 2]", "must be tables"), ('{"tasks": 3}', "must be tables"),
    ("{not json", "not valid JSON"),
])
def test_bad_json_configs_are_named(tmp_path, text, fragment):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=fragment):
        load_spec(path)


@pytest.fixture(scope="module")
def quick_serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "serial"
    counts = run_study(load_spec(CONFIG, "quick"), out, jobs=1, progress=False)
    assert counts == {"total": 4, "skipped": 0, "done": 4, "failed": 0}
    return out


def _by_key(folder) -> dict:
    return {r["key"]: _stable(r) for r in ResultStore(folder).results()}


def test_results_are_complete_and_judged(quick_serial):
    results = ResultStore(quick_serial).results()
    assert len(results) == 4 and all(r["status"] == "ok" for r in results)
    for r in results:
        assert {p["mode"] for p in r["planes"]} == {"population", "empirical"}
        assert {c["estimator"] for c in r["compression"]} == {"plugin", "miller_madow"}
        assert 0 <= r["metrics"]["test_acc"] <= 1 and r["measurement"]["n_boot"] == 20
        if r["run"]["regulariser"] == "random_labels":
            assert r["metrics"]["label_noise"] == pytest.approx(0.5 if r["run"]["task"] ==
                                                                "tishby12" else 0.9)


def test_same_results_with_two_jobs_and_dask(quick_serial, tmp_path):
    spec = load_spec(CONFIG, "quick")
    run_study(spec, tmp_path / "two", jobs=2, progress=False)
    assert _by_key(tmp_path / "two") == _by_key(quick_serial)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        run_study(spec, tmp_path / "dask", client=client, progress=False)
    assert _by_key(tmp_path / "dask") == _by_key(quick_serial)
    # a cluster whose workers run two tasks at once on threads: fits on threads
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        run_study(spec, tmp_path / "threads", client=client, progress=False)
    assert _by_key(tmp_path / "threads") == _by_key(quick_serial)


def test_rerun_skips_verified_and_redoes_corrupt(quick_serial, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(quick_serial, out)
    spec = load_spec(CONFIG, "quick")
    assert run_study(spec, out, progress=False)["skipped"] == 4
    victim = ResultStore(out).path(spec.runs[1].key)
    text = open(victim).read()
    with open(victim, "w") as f:  # a partial write, as a crash of a naive writer leaves
        f.write(text[: len(text) // 2])
    other = ResultStore(out).path(spec.runs[2].key)
    record = json.load(open(other))
    record["result"]["metrics"]["test_acc"] = 1.0  # tampered: the checksum no longer fits
    json.dump(record, open(other, "w"))
    # a complete temporary file, as a kill between fsync and rename leaves: never a result
    stale = os.path.join(os.path.dirname(victim), ".tmp-killed.json")
    with open(stale, "w") as f:
        f.write(text)
    assert len(ResultStore(out).results()) == 2
    counts = run_study(spec, out, progress=False)
    assert counts["skipped"] == 2 and counts["done"] == 2
    assert _by_key(out) == _by_key(quick_serial)
    assert not os.path.exists(stale)  # removed by the next run


def test_killed_runner_loses_and_duplicates_nothing(quick_serial, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "mi_regimes", "study", "run", CONFIG, "--profile", "quick",
           "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = out / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and not ResultStore(out).results():
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.wait()
    finished = len(ResultStore(out).results())
    assert 1 <= finished < 4, "the kill must land mid-run"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    counts = json.loads(res.stdout.strip().splitlines()[-1])
    assert counts["skipped"] == finished and counts["done"] == 4 - finished
    assert len(os.listdir(runs)) == 4  # no duplicate, no temporary file left
    assert _by_key(out) == _by_key(quick_serial)


def test_a_failed_model_is_recorded_and_the_study_goes_on(tmp_path, monkeypatch):
    spec = load_spec(CONFIG, "quick")
    bad = spec.runs[0].as_dict()
    bad["widths"] = [999, 4]  # the data set has other inputs: fit raises
    result = run_one((bad, spec.measurement()))
    assert result["status"] == "failed" and "ValueError" in result["error"]
    spec.runs[0] = type(spec.runs[0])(**{**spec.runs[0].__dict__, "widths": (999, 4)})
    counts = run_study(spec, tmp_path / "f", progress=False)
    assert counts["failed"] == 1 and counts["done"] == 4


def test_report_writes_tables_and_figure(quick_serial, tmp_path, capsys):
    out = tmp_path / "results.md"
    assert main(["study", "report", str(quick_serial), "--out", str(out)]) == 0
    text = out.read_text()
    assert "Late compression per task and regulariser" in text and "| tishby12 |" in text
    for figure in ("scatter", "assessable", "planes"):
        assert (tmp_path / f"results_{figure}.png").stat().st_size > 10_000
    assert "Holm" in text and "kappa" in text
    # a hand-written '>' note under the title survives regeneration, once
    title, rest = text.split("\n", 1)
    out.write_text(f"{title}\n\n> **Status**: a note.\n> Second line.\n{rest}")
    assert main(["study", "report", str(quick_serial), "--out", str(out)]) == 0
    again = out.read_text()
    assert again.count("> **Status**: a note.\n> Second line.") == 1
    assert again.split("\n", 1)[0] == title and again.index("> **Status**") < again.index(
        "Made by")
    assert main(["study", "report", str(tmp_path / "nothing")]) == 2
    assert main(["study", "report", str(quick_serial), "--estimator", "nsb"]) == 2
    assert ("mode, estimator: no results for 'population' planes with 'nsb'; the study "
            "measured") in capsys.readouterr().err


def test_report_defaults_to_what_the_study_measured(tmp_path, capsys):
    # a study of plug-in planes alone was refused for lack of Miller-Madow, the default
    path = tmp_path / "s.toml"
    path.write_text(_BASE.replace("seeds = 1", "seeds = 2"))
    assert main(["study", "run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    capsys.readouterr()
    out = tmp_path / "r.md"
    assert main(["study", "report", str(tmp_path / "o"), "--out", str(out)]) == 0
    assert "Planes in population mode with the plugin estimator" in out.read_text()


def test_wilson_interval():
    lo, hi = wilson(0, 20)
    assert lo == 0 and 0.15 < hi < 0.17
    assert all(math.isnan(v) for v in wilson(0, 0))  # no trials, no interval


def _fixture_results(rho: float, n_runs: int = 60, seed: int = 0) -> list[dict]:
    """Synthetic stored runs: per run two assessable layers; the largest late drop and the
    gap correlate with strength ``rho`` (0: independent)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_runs):
        drop = float(rng.exponential(0.5)) if rng.random() < 0.7 else 0.0
        gap = rho * drop + (1 - abs(rho)) * float(rng.normal(0, 0.3))
        task = ("a", "b")[i % 2]
        comp = []
        for layer in (1, 2):
            late = layer == 1 and drop > 0
            comp.append({"mode": "population", "estimator": "miller_madow", "layer": layer,
                         "assessable": True, "late": late, "drop_bits": drop if late else 0.0,
                         "relative_drop": drop / 4 if late else 0.0, "p_value": 0.01,
                         "reason": "x", "fit_end_epoch": 3})
        out.append({"key": f"k{i}", "status": "ok",
                    "run": {"task": task, "widths": [8, 6, 4], "regulariser": "none",
                            "replicate": i},
                    "metrics": {"test_acc": 0.9 - gap / 10, "train_acc": 0.9, "gap": gap},
                    "compression": comp, "planes": []})
    return out


def _association(results, **kw):
    from mi_regimes.study.analysis import association, compression_table, model_table

    return association(model_table(compression_table(results)), n_boot=200, n_perm=300,
                       **kw)


def test_sign_consistency_needs_a_rho_in_two_tasks():
    """One task with a ρ (or none) says nothing about agreement across tasks: the report
    printed 'False' for none and 'True' for one."""
    from mi_regimes.study.report import _sign_consistency

    results = _fixture_results(0.8)
    one_task = [r for r in results if r["run"]["task"] == "a"]
    assert _association(one_task).attrs["sign_consistent"] is None
    assert _sign_consistency(_association(one_task)) == "n/a (a ρ in fewer than two tasks)"
    assert _association(one_task[:2]).attrs["sign_consistent"] is None  # no ρ at all
    for r in results:  # task b's gap now falls with the drop: the signs disagree
        if r["run"]["task"] == "b":
            r["metrics"]["gap"] = -r["metrics"]["gap"]
    assert _association(results).attrs["sign_consistent"] is False
    assert _sign_consistency(_association(results)) == "False"


def test_analysis_finds_a_planted_correlation_and_not_a_null_one():
    planted = _association(_fixture_results(0.8))
    pooled = planted[planted["task"] == "pooled"].iloc[0]
    assert pooled["rho"] > 0.5 and pooled["p_perm"] < 0.01
    assert (planted[planted["task"] != "pooled"]["p_holm"] < 0.05).all()
    assert planted.attrs["sign_consistent"]
    # null: over 12 independent fixture studies the pooled test rejects at 5 % about as
    # often as it should (binomial: 4 or more of 12 has probability 0.002)
    rejections = sum(
        _association(_fixture_results(0.0, seed=s), rng=s).iloc[-1]["p_perm"] < 0.05
        for s in range(12))
    assert rejections <= 3


def test_holm_and_kappa():
    from mi_regimes.study.analysis import cohen_kappa, holm

    assert holm([0.01, 0.04, 0.03]).round(2).tolist() == [0.03, 0.06, 0.06]
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == -1.0


def test_unreachable_scheduler_is_one_line(tmp_path, capsys):
    # nothing listening: OSError "Timed out trying to connect" ended in a traceback
    import socket

    import dask  # the test extra installs dask[distributed]

    with socket.socket() as s:  # a free port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(["study", "run", str(CONFIG), "--quick", "--out", str(tmp_path / "o"),
                     "--scheduler", f"tcp://127.0.0.1:{port}", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("mi-regimes: error: --scheduler: cannot reach a Dask scheduler at "
                          f"'tcp://127.0.0.1:{port}'") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
