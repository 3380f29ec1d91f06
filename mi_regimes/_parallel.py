"""Parallel execution helpers (filled in by the foundation work)."""

from __future__ import annotations

#: Fixed number of work chunks of every parallel kernel: the layout of the work, hence
#: every result, does not depend on the number of threads.
N_CHUNKS = 16
