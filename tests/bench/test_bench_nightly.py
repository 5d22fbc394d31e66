"""Benchmark: the whole nightly on the demo company at --scale 10, and the ingest step on 1M lines.

Prints wall time per step and in total, the driver's peak memory (Python RSS and the driver JVM's
process high-water mark), and for ingest the share of log lines served from the fingerprint cache
(lines whose fingerprint was already parsed: 1 - distinct fingerprints / SQL lines).

Run: .venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_nightly.py
     (BENCH_SCALE=10 by default; BENCH_LOG_LINES=1000000 for the ingest log)
"""

from __future__ import annotations

import json
import os
import random
import time
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.demo import generate_demo
from jobs.store.tables import TableStore

pytestmark = pytest.mark.bench

SCALE = int(os.environ.get("BENCH_SCALE", "10"))
LOG_LINES = int(os.environ.get("BENCH_LOG_LINES", "1000000"))
RUN_DATE = "2026-11-22"


def _hwm_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _steps(store: TableStore) -> dict[str, float]:
    rows = (
        store.read("run_manifest")
        .filter(F.col("run_date") == F.lit(date.fromisoformat(RUN_DATE)))
        .collect()
    )
    return {r.job: (r.finished_at - r.started_at).total_seconds() for r in rows}


def test_nightly_at_scale(spark, tmp_path):
    home = tmp_path / "home"
    t0 = time.perf_counter()
    generate_demo(home, as_of=date.fromisoformat(RUN_DATE), scale=SCALE)
    t_demo = time.perf_counter() - t0
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    t0 = time.perf_counter()
    code = main(["nightly", "--conf", str(conf), "--run-date", RUN_DATE, "--quiet"])
    total = time.perf_counter() - t0
    assert code == 0
    steps = _steps(TableStore(spark, str(home / "warehouse")))
    jvm_pid = spark.sparkContext._jvm.ProcessHandle.current().pid()
    lines = "\n".join(f"  {k:8} {v:7.1f} s" for k, v in steps.items())
    print(
        f"\nnightly on the demo company at --scale {SCALE} (generation {t_demo:.1f} s), 2 cores:\n{lines}\n"
        f"  total    {total:7.1f} s   (target <= 600 s)\n"
        f"driver peak memory: python {_hwm_mb():.0f} MB, JVM process {_hwm_mb(jvm_pid):.0f} MB"
    )


def _input_files(home: Path) -> list[str]:
    inputs = home / "inputs"
    return sorted(str(p) for p in inputs.rglob("*") if p.is_file() and not p.name.startswith("."))


def _spark_floor(spark, home: Path, store: TableStore, out: Path) -> tuple[float, int, int]:
    """The simplest Spark job doing the nightly's I/O: every input file read once as text and
    every table the nightly wrote, with the same rows, written once as Parquet.

    The rows to write are read from the nightly's own tables and cached before the clock starts
    (the floor writes what the nightly wrote, it does not compute it). Returns (seconds, lines
    read, rows written).
    """
    written = {}
    for name in store.list_tables():
        df = store.read(name).cache()
        written[name] = (df, df.count())
    t0 = time.perf_counter()
    lines = spark.read.text(_input_files(home)).count()
    rows = 0
    for name, (df, n) in written.items():
        df.write.mode("overwrite").parquet(str(out / name))
        rows += n
    seconds = time.perf_counter() - t0
    for df, _n in written.values():
        df.unpersist()
    return seconds, lines, rows


def test_demo_nightly_next_to_its_spark_floor(spark, tmp_path):
    """The nightly's steps beside the Spark floor of the same run (issue 16: at most 2x)."""
    scale = int(os.environ.get("BENCH_FLOOR_SCALE", "1"))
    home = tmp_path / "home"
    generate_demo(home, as_of=date.fromisoformat(RUN_DATE), scale=scale)
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    t0 = time.perf_counter()
    assert main(["nightly", "--conf", str(conf), "--run-date", RUN_DATE, "--quiet"]) == 0
    total = time.perf_counter() - t0
    store = TableStore(spark, str(home / "warehouse"))
    steps = _steps(store)
    floor, lines, rows = _spark_floor(spark, home, store, tmp_path / "floor")
    assert lines > 0 and rows > 0
    table = "\n".join(f"  {k:8} {v:7.1f} s  {v / floor:5.1f}x floor" for k, v in steps.items())
    print(
        f"\nnightly on the demo company at --scale {scale}, 2 cores, next to its Spark floor "
        f"(read {lines} input lines once, write {rows} rows of {len(store.list_tables())} "
        f"tables once):\n{table}\n"
        f"  nightly  {total:7.1f} s  {total / floor:5.1f}x floor\n"
        f"  floor    {floor:7.1f} s  (goal: nightly <= 2x floor)"
    )


TEMPLATES = [
    "INSERT INTO mart.daily_{t} SELECT c.customer_id, lower(c.email) AS email, sum(o.amount) AS total "
    "FROM crm.customers c JOIN billing.invoices o ON o.customer_id = c.customer_id "
    "WHERE o.created_at >= DATE '2026-{m:02d}-{d:02d}' AND o.amount > {a} GROUP BY c.customer_id, c.email",
    "INSERT INTO staging.{t}_copy SELECT id, name, updated_at FROM app.{t} WHERE id > {a} AND name <> 'x{d}'",
    "CREATE TABLE tmp.{t}_{m} AS SELECT customer_id, count(*) AS n FROM app.sessions "
    "WHERE started_at > TIMESTAMP '2026-{m:02d}-{d:02d} 00:00:00' GROUP BY customer_id",
    "SELECT * FROM analytics.customer_360 WHERE customer_id = {a}",
]


def _write_log(path: Path, n: int, seed: int = 11) -> int:
    """n query-log lines from ~400 templates x literals (realistic repetition); returns distinct SQL shapes."""
    rnd = random.Random(seed)
    tables = [f"t{i}" for i in range(100)]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            tmpl = TEMPLATES[i % len(TEMPLATES)]
            sql = tmpl.format(
                t=rnd.choice(tables),
                m=rnd.randint(1, 12),
                d=rnd.randint(1, 28),
                a=rnd.randint(1, 10**6),
            )
            fh.write(
                json.dumps(
                    {
                        "query_id": f"q{i}",
                        "job_id": f"j{i % 500}",
                        "engine": rnd.choice(["trino", "spark", "hive"]),
                        "user": "etl",
                        "started_at": "2026-11-21T01:00:00Z",
                        "sql": sql,
                        "status": "ok",
                    }
                )
                + "\n"
            )
    return n


def test_ingest_of_a_million_query_lines(spark, tmp_path):
    home = tmp_path / "ingest"
    generate_demo(home, as_of=date.fromisoformat(RUN_DATE))  # catalog and the other inputs
    _write_log(home / "inputs" / "query_logs" / "bulk.jsonl", LOG_LINES)
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    t0 = time.perf_counter()
    assert main(["land", "--conf", str(conf), "--run-date", RUN_DATE, "--quiet"]) == 0
    t_land = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert main(["ingest", "--conf", str(conf), "--run-date", RUN_DATE, "--quiet"]) == 0
    t_ingest = time.perf_counter() - t0
    store = TableStore(spark, str(home / "warehouse"))
    from lineage.sql.fingerprint import fingerprint_col

    sql_lines = store.read("landed_query_logs").filter(F.col("sql").isNotNull())
    n = sql_lines.count()
    distinct = (
        sql_lines.select(fingerprint_col(F.col("sql")).alias("f"), "engine").distinct().count()
    )
    print(
        f"\ningest of {n:,} SQL log lines (+ demo inputs) on 2 cores: land {t_land:.1f} s, "
        f"ingest {t_ingest:.1f} s (target <= 300 s for 1M lines); {distinct:,} distinct fingerprints, "
        f"{1 - distinct / n:.2%} of lines served from the fingerprint cache"
    )


def test_demo_nightly_per_step_on_both_engines_and_on_the_cluster(spark, spark_cluster, tmp_path):
    """The demo nightly per step, side by side: local delta-rs, local delta-spark (when the jars
    are here), and delta-rs and delta-spark on the standalone cluster of two 1-core workers
    (``tests/_cluster.py``).

    Each nightly runs as ``compliance nightly`` in its own process, the same demo copied to the
    same home path each time. ``BENCH_MODES`` (comma-separated, default all four) picks modes.
    """
    import shutil
    import subprocess
    import sys

    from _cluster import bare_env

    from jobs.delta_jars import find_jars

    scale = int(os.environ.get("BENCH_ENGINES_SCALE", "1"))
    modes = os.environ.get("BENCH_MODES", "delta-rs,spark,cluster,cluster-spark").split(",")
    if not find_jars():
        modes = [m for m in modes if m not in ("spark", "cluster-spark")]
    generate_demo(tmp_path / "demo", as_of=date.fromisoformat(RUN_DATE), scale=scale)
    env = bare_env(spark_cluster.python, PYSPARK_DRIVER_PYTHON=sys.executable)
    cluster_conf = "".join(f"    {k}: '{v}'\n" for k, v in spark_cluster.conf.items())
    extra = {
        "delta-rs": "storage:\n  engine: delta-rs\n",
        "spark": "storage:\n  engine: spark\n",
        "cluster": "storage:\n  engine: delta-rs\n"
        f"spark:\n  master: {spark_cluster.url}\n  conf:\n{cluster_conf}",
        "cluster-spark": "storage:\n  engine: spark\n"
        f"spark:\n  master: {spark_cluster.url}\n  conf:\n{cluster_conf}",
    }
    home = tmp_path / "home"
    steps: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for mode in modes:
        shutil.copytree(tmp_path / "demo", home)
        conf = home / "conf.yaml"
        conf.write_text(f"home: {home}\n{extra[mode]}", encoding="utf-8")
        on_cluster = mode.startswith("cluster")
        run_env = env if on_cluster else dict(env, PYSPARK_PYTHON=sys.executable)
        t0 = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "compliance"), "nightly", "--conf", str(conf)]
            + ["--run-date", RUN_DATE, "--quiet"],
            capture_output=True,
            text=True,
            env=run_env,
            cwd=tmp_path,
        )
        totals[mode] = time.perf_counter() - t0
        assert done.returncode == 0, (mode, done.stderr[-2000:])
        engine = "spark" if mode in ("spark", "cluster-spark") else "delta-rs"
        steps[mode] = _steps(TableStore(spark, str(home / "warehouse"), engine=engine))
        shutil.rmtree(home)
    from jobs.registry import STEPS

    names = [spec.name for spec in STEPS if spec.name in steps[modes[0]]]  # the pipeline's order
    head = "".join(f"{m:>15}" for m in modes)
    rows = "\n".join(
        f"  {n:8}" + "".join(f"{steps[m].get(n, float('nan')):13.1f} s" for m in modes)
        for n in names
    )
    total = "".join(f"{totals[m]:13.1f} s" for m in modes)
    print(
        f"\ndemo nightly at --scale {scale} per step (cluster: 2 workers x 1 core; "
        "spark = the delta-spark engine):\n"
        f"  {'step':8}{head}\n{rows}\n  {'process':8}{total}   (whole command, JVM start included)"
    )
