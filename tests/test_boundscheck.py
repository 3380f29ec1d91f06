"""No kernel reads or writes out of range: every kernel recompiled with bounds checks."""

import os
import subprocess
import sys


def test_kernels_stay_in_bounds(tmp_path):
    # The package root goes on the path so the check runs from a plain checkout too.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH", "")]))
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path),
               PYTHONPATH=path)
    script = os.path.join(os.path.dirname(__file__), "boundscheck_inputs.py")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env,
                         timeout=1200)
    assert out.returncode == 0, out.stderr[-4000:]
    assert out.stdout.strip().endswith("ok")
