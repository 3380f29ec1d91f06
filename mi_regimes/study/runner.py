"""Train and measure every run of a study that is not done yet.

Each run's randomness derives from the study seed and the run's key
(:func:`mi_regimes._random.seed_for_key`), never from its position, so the results are
the same with 1 job, 2 jobs or a Dask cluster, and adding runs changes no existing run.
The data split of a task is fixed by the study seed (the same split for every run).
"""

from __future__ import annotations

import math
import os
import time
import traceback

from .._random import generator_for_key, seed_for_key
from .spec import StudySpec
from .store import ResultStore

__all__ = ["run_one", "run_study", "PLANE_FIELDS"]

#: Plane columns kept in a result file (the rest can be recomputed from them).
PLANE_FIELDS = ("epoch", "layer", "d", "n", "i_xt", "i_xt_low", "i_xt_high", "i_ty",
                "i_ty_low", "i_ty_high", "verdict", "in_bounds")


def _measure(run: dict, measurement: dict) -> dict:
    from .. import compression, infoplane
    from ..bnn import BinaryMLP, Recorder, datasets, fit

    key, seed = run["key"], measurement["seed"]
    data = datasets.load(run["task"], rng=seed)
    options = dict(run["options"])
    label_noise = float(options.get("label_noise", 0.0))
    if options.get("random_labels"):  # labels independent of the inputs
        label_noise = 1.0 - 1.0 / data.n_classes
    model = BinaryMLP(list(run["widths"]), n_classes=data.n_classes,
                      rng=seed_for_key(seed, key + "|init"),
                      dropout=float(options.get("dropout", 0.0)))
    history = fit(model, data, run["epochs"], run["batch_size"], run["lr"],
                  rng=seed_for_key(seed, key + "|fit"),
                  weight_decay=float(options.get("weight_decay", 0.0)),
                  label_noise=label_noise,
                  record=Recorder(n_snapshots=measurement["snapshots"]))
    if not all(math.isfinite(v) for v in history.train_loss):
        raise FloatingPointError("training diverged (non-finite loss)")
    recording = history.recording
    planes, findings = [], []
    for mode in measurement["modes"]:
        names = measurement["estimators"] if mode == "population" else ["plugin"]
        for estimator in names:
            tag = f"{key}|{mode}|{estimator}"
            plane = infoplane.information_plane(
                recording, estimator, mode=mode, split=measurement["split"],
                n_boot=measurement["n_boot"], rng=generator_for_key(seed, tag + "|plane"))
            found = compression.detect_compression(
                plane, recording, n_boot=measurement["n_boot"],
                rng=generator_for_key(seed, tag + "|drop"))
            rows = plane[list(PLANE_FIELDS)].to_dict("records")
            planes.append({"mode": mode, "estimator": estimator, "points": rows})
            for f in found.to_dict("records"):
                findings.append({"mode": mode, "estimator": estimator, **f})
    last = -1
    metrics = {"train_acc": history.train_acc[last], "train_acc_noisy":
               history.train_acc_noisy[last], "test_acc": history.test_acc[last],
               "train_loss": history.train_loss[last], "test_loss": history.test_loss[last],
               "gap": history.train_acc[last] - history.test_acc[last],
               "label_noise": label_noise, "n_train": int(data.y_train.size)}
    return {"metrics": metrics, "planes": planes, "compression": findings}


def run_one(task: tuple[dict, dict]) -> dict:
    """Train and measure one run; a failure is returned as a result, never raised."""
    from ..bnn.checkpoint import package_versions

    run, measurement = task
    start = time.perf_counter()
    result = {"run": run, "measurement": measurement, "versions": package_versions()}
    try:
        result.update(_measure(run, measurement), status="ok", error=None)
    except Exception as e:  # noqa: BLE001 - one failed model must not stop the study
        result.update(status="failed", error=f"{type(e).__name__}: {e}",
                      traceback=traceback.format_exc(limit=5))
    result["seconds"] = time.perf_counter() - start
    return result


def run_study(spec: StudySpec, out, *, jobs: int = 1, client=None,
              progress: bool = True) -> dict:
    """Run every run of ``spec`` not yet stored (and verified) in ``out``.

    Parameters
    ----------
    spec : StudySpec
        From :func:`~mi_regimes.study.load_spec`.
    out : str or path
        Results folder (created); finished runs are skipped after verification.
    jobs : int
        Worker processes (each gets its share of the cores).
    client : distributed.Client, optional
        Submit to a Dask cluster instead.
    progress : bool
        A progress bar: models done / total and the time left.

    Returns
    -------
    dict
        ``total``, ``skipped`` (verified earlier results), ``done`` and ``failed`` now.
    """
    from tqdm.auto import tqdm

    from .._io import write_json
    from .._parallel import map_tasks

    store = ResultStore(out)
    measurement = spec.measurement()
    os.makedirs(store.folder, exist_ok=True)
    write_json(os.path.join(store.folder, "study.json"),
               {"name": spec.name, "measurement": measurement,
                "runs": [r.as_dict() for r in spec.runs]})
    store.remove_stale_writes()
    pending = [r for r in spec.runs if store.read(r.key, measurement) is None]
    counts = {"total": len(spec.runs), "skipped": len(spec.runs) - len(pending), "done": 0,
              "failed": 0}
    tasks = [(r.as_dict(), measurement) for r in pending]
    with tqdm(total=len(spec.runs), initial=counts["skipped"], unit="model",
              desc=spec.name, disable=not progress) as bar:
        for i, result in map_tasks(run_one, tasks, jobs=jobs, client=client):
            store.write(pending[i].key, result)  # as each finishes: a kill loses no run
            counts["done"] += 1
            counts["failed"] += result["status"] != "ok"
            bar.update(1)
    return counts
