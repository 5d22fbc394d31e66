"""The nightly lock under a race: processes started together, many rounds, never two holders.

Six worker processes stay up for every round. In each round the test releases them at the same
instant (a "go" file they spin on); each tries to take ``<home>/nightly.lock`` and, while holding
it, writes its enter and exit times (CLOCK_MONOTONIC, shared by every process of the machine) to
its own log. Half of the rounds start with a stale lock left by a dead process (the takeover
path). The holding intervals of every round must be disjoint, and some process must have held the
lock in every round.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 6
ROUNDS = 24

WORKER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from jobs.errors import LockError
    from jobs.runner import warehouse_lock

    home, me, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    (home / f"ready-{me}").write_text("")
    for r in range(rounds):
        go = home / f"go-{r}"
        while not go.exists():
            time.sleep(0.0005)
        with open(home / f"log-{me}", "a") as log:
            try:
                with warehouse_lock(str(home)):
                    log.write(f"{r} enter {time.monotonic_ns()}\\n")
                    log.flush()
                    time.sleep(0.02)
                    log.write(f"{r} exit {time.monotonic_ns()}\\n")
                    log.flush()
            except LockError:
                log.write(f"{r} refused 0\\n")
        (home / f"done-{r}-{me}").write_text("")
    """
)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _wait_for(paths: list[Path], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"workers did not get to {paths[0].name}"
        time.sleep(0.01)


def test_processes_started_together_never_hold_the_lock_at_once(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(tmp_path), str(i), str(ROUNDS)], env=env)
        for i in range(WORKERS)
    ]
    try:
        _wait_for([tmp_path / f"ready-{i}" for i in range(WORKERS)])
        stale = {"pid": _dead_pid(), "host": socket.gethostname(), "started": time.time() - 60}
        for r in range(ROUNDS):
            if r % 2:
                (tmp_path / "nightly.lock").write_text(json.dumps(stale), encoding="utf-8")
            (tmp_path / f"go-{r}").write_text("")
            _wait_for([tmp_path / f"done-{r}-{i}" for i in range(WORKERS)])
    finally:
        for p in procs:
            p.wait(timeout=60)
    assert [p.returncode for p in procs] == [0] * WORKERS

    intervals: dict[int, list[tuple[int, int, int]]] = {r: [] for r in range(ROUNDS)}
    for i in range(WORKERS):
        entered: dict[int, int] = {}
        for line in (tmp_path / f"log-{i}").read_text(encoding="utf-8").splitlines():
            r, what, t = line.split()
            if what == "enter":
                entered[int(r)] = int(t)
            elif what == "exit":
                intervals[int(r)].append((entered.pop(int(r)), int(t), i))
    overlaps = []
    for r, spans in intervals.items():
        assert spans, f"round {r}: nobody took the lock"
        spans.sort()
        for (_s1, e1, w1), (s2, _e2, w2) in zip(spans, spans[1:], strict=False):
            if s2 < e1:
                overlaps.append((r, w1, w2))
    assert overlaps == [], f"two holders at once (round, worker, worker): {overlaps}"
