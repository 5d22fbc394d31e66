"""Benchmark: on-demand answers without Spark, next to a bare interpreter and the Spark path.

Wall time of ``compliance datamap --column crm.customers.email``, ``compliance lineage down
crm.customers.email``, ``compliance tables`` and ``compliance impact crm.customers --drop-column
email`` on the demo warehouse, each in a fresh subprocess (what a user waits for),
printed in the same run next to:

* ``python -c "import pyarrow"``: the floor of any Python answer on this machine;
* the same command on the Spark-starting path (``COMPLIANCE_ANSWERS=spark``);
* a usage error (``--column email``), answered before any engine starts.

Both paths must print the same answer. Goal (issue 16): within 2 s of the bare interpreter, a
usage error in under 1 s.

Run: .venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_ondemand.py
(``BENCH_DEMO_HOME=/path/to/demo/home`` reuses a demo home that already ran its nightly, with its
``conf.yaml``; otherwise the session's ``demo_run`` is used. ``BENCH_REPEAT`` sets the repeats of
the fast commands, default 5.)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
DEMO_DATE = "2026-11-22"


def _run(args: list[str], *, spark: bool = False) -> tuple[float, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if k != "COMPLIANCE_ANSWERS"}
    if spark:
        env["COMPLIANCE_ANSWERS"] = "spark"
    t0 = time.perf_counter()
    res = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    return time.perf_counter() - t0, res


def _timed(args: list[str], repeat: int, *, spark: bool = False, code: int = 0):
    times, out = [], None
    for _ in range(repeat):
        seconds, res = _run(args, spark=spark)
        assert res.returncode == code, res.stderr[-2000:]
        times.append(seconds)
        out = res.stdout
    return statistics.median(times), out


def test_bench_ondemand(request):
    home = os.environ.get("BENCH_DEMO_HOME")
    conf = Path(home) / "conf.yaml" if home else request.getfixturevalue("demo_run").conf
    cli = [sys.executable, "-m", "jobs.cli"]
    common = ["--conf", str(conf), "--run-date", DEMO_DATE, "--quiet"]
    questions = {
        "datamap --column crm.customers.email": ["datamap", "--column", "crm.customers.email"],
        "lineage down crm.customers.email": ["lineage", "down", "crm.customers.email"],
        "tables": ["tables"],
        "impact crm.customers --drop-column email": [
            "impact",
            "crm.customers",
            "--drop-column",
            "email",
        ],
    }
    bare, _ = _timed([sys.executable, "-c", "import pyarrow"], REPEAT)
    usage, _ = _timed(cli + ["datamap", "--column", "email", *common], REPEAT, code=2)
    rows = []
    for label, q in questions.items():
        fast, fast_out = _timed(cli + q + common, REPEAT)
        slow, slow_out = _timed(cli + q + common, 1, spark=True)
        assert fast_out == slow_out, f"{label}: the two paths differ"
        rows.append((label, fast, slow))
    print()
    print(f"on-demand answers (median of {REPEAT} runs; Spark path: 1 run), seconds")
    floor = 'python -c "import pyarrow"'
    print(f"  {floor:42} {bare:7.2f}")
    print(
        f"  {'usage error (datamap --column email)':42} {usage:7.2f}   {usage - bare:+.2f} vs bare"
    )
    print(f"  {'':42} {'no Spark':>7} {'Spark':>8} {'vs bare':>8} {'speed-up':>9}")
    for label, fast, slow in rows:
        print(f"  {label:42} {fast:7.2f} {slow:8.2f} {fast - bare:+8.2f} {slow / fast:8.1f}x")
    for label, fast, slow in rows:  # a sanity bound only: the figures are the result
        assert fast < slow, f"{label}: the Spark-free path is not faster ({fast:.1f}s)"
