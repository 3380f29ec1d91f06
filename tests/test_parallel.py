"""The process pool of mi_regimes._parallel: a terminated parent takes its workers along;
warm-ups are dealt out among the workers and all end before the first task."""

import json
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


WARMUP_SCRIPT = """
import json, os, sys, time
from mi_regimes._parallel import map_tasks

OUT = sys.argv[1]

def _note(kind, name, start):
    with open(os.path.join(OUT, f"{kind}-{name}-{os.getpid()}.json"), "w") as f:
        json.dump({"pid": os.getpid(), "start": start, "end": time.time()}, f)

def warm_a():
    start = time.time(); time.sleep(0.5); _note("warm", "a", start)

def warm_b():
    start = time.time(); time.sleep(0.5); _note("warm", "b", start)

def broken():
    raise RuntimeError("no compiler today")

def task(i):
    _note("task", str(i), time.time())
    return i * i

if __name__ == "__main__":
    warmups = [broken] if sys.argv[2] == "broken" else [warm_a, warm_b]
    got = dict(map_tasks(task, range(6), jobs=2, warmups=warmups))
    assert got == {i: i * i for i in range(6)}, got
"""


def _run_warmup_script(tmp_path, mode: str) -> tuple[list[dict], list[dict], str]:
    script = tmp_path / "warm.py"
    script.write_text(WARMUP_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, str(script), str(out), mode], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    notes = {p.name: json.loads(p.read_text()) for p in out.iterdir()}
    warm = [v for k, v in notes.items() if k.startswith("warm-")]
    tasks = [v for k, v in notes.items() if k.startswith("task-")]
    return warm, tasks, done.stderr


def test_warmups_are_dealt_out_and_finish_before_any_task(tmp_path):
    warm, tasks, _ = _run_warmup_script(tmp_path, "two")
    assert len(warm) == 2 and len(tasks) == 6
    assert len({w["pid"] for w in warm}) == 2, "one worker ran both warm-ups"
    # every worker waits for all warm-ups: no task starts before the last one ends
    assert min(t["start"] for t in tasks) >= max(w["end"] for w in warm)


def test_a_failing_warmup_warns_and_the_tasks_still_run(tmp_path):
    warm, tasks, stderr = _run_warmup_script(tmp_path, "broken")
    assert warm == [] and len(tasks) == 6
    assert "warm-up" in stderr and "no compiler today" in stderr
