"""The study: many BNNs, late compression against generalisation, re-runnable by anyone.

* :mod:`.spec`: a TOML configuration expanded into runs, each named by a key;
* :mod:`.store`: one verified JSON file per finished run, written atomically;
* :mod:`.runner`: trains and measures the runs not yet done (process pool or Dask);
* :mod:`.analysis`: the tables of late compression and of its relation to generalisation;
* :mod:`.report`: ``docs/results.md`` and its figures.

It adds no second way to train, estimate or judge: runs use :func:`mi_regimes.bnn.fit`,
:func:`mi_regimes.infoplane.information_plane` and
:func:`mi_regimes.compression.detect_compression`.
"""

from .analysis import compression_table, summarize
from .runner import run_one, run_study
from .spec import RunSpec, StudySpec, load_spec
from .store import ResultStore

__all__ = ["RunSpec", "StudySpec", "load_spec", "ResultStore", "run_one", "run_study",
           "compression_table", "summarize"]
