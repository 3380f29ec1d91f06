"""The process pool of mi_regimes._parallel: a terminated parent takes its workers along."""

import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import time
from mi_regimes._parallel import map_tasks
if __name__ == "__main__":
    for _ in map_tasks(time.sleep, [60, 60], jobs=2):
        pass
"""


def _children(pid: int) -> set[int]:
    out = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out.update(int(c) for c in f.read().split())
    return out


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read()
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_sigterm_to_the_parent_stops_the_workers(tmp_path):
    # before, `kill` of a running `mi-regimes study run` left its workers busy with their
    # tasks for minutes; now SIGTERM becomes SystemExit and the pool's cleanup ends them
    script = tmp_path / "two_sleeps.py"
    script.write_text(SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(parent.pid)
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(1.0)  # let the workers take their tasks
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while any(map(_running, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_running, workers)), "workers outlived their parent"
    finally:
        parent.kill()
        for pid in _children(parent.pid) if _running(parent.pid) else ():
            os.kill(pid, signal.SIGKILL)
