"""Benchmark: the purge and restore jobs end to end on 1M rows of ~500 bytes, 2 cores.

Run: ``.venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_restoration_job.py``
(``BENCH_ENTRIES=100000`` for a quick look).

Where ``tests/bench/test_bench_crypto.py`` measures the bare ``mapInArrow`` encryptor and
decryptor, this one runs the whole job path: ``purge(--all-findings)`` (pseudonym hashing of the
identifier column, row JSON, entry ids, encryption on the executors, upsert into
``restoration_log``, journaled delete from the audited Delta table) and ``restore`` (decryption,
content check against the table, append). Each is printed in entries per wall second and per CPU
second of the Spark process tree, next to the raw single-thread throughput of the same
``cryptography`` primitives measured in the same run (``_raw`` of the crypto benchmark).
"""

from __future__ import annotations

import io
import os
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from test_bench_crypto import _children_cpu, _raw

from jobs.commands.purge import purge
from jobs.commands.restoration_rows import row_json
from jobs.commands.restore import restore
from jobs.config.settings import load_config
from jobs.context import JobContext, Progress
from jobs.secrets.keyring import MemoryKeyring
from jobs.secrets.pseudonym import load_or_create
from jobs.store.tables import TableStore

pytestmark = pytest.mark.bench

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 0)
CORES = 2
SUBJECTS = 50_000


def _events(spark, n: int):
    """``n`` rows of ~500 bytes (as row JSON), ``n / SUBJECTS`` per customer, built on the executors."""
    sid = F.col("id").cast("string")
    return spark.range(n, numPartitions=4).select(
        F.col("id").alias("event_id"),
        (F.col("id") % SUBJECTS).alias("customer_id"),
        F.concat(
            F.lit("user"), (F.col("id") % SUBJECTS).cast("string"), F.lit("@example.com")
        ).alias("email"),
        F.repeat(F.sha2(sid, 256), 6).alias("payload"),
        F.timestamp_seconds(F.lit(1_795_000_000) + F.col("id") % 86_400).alias("created_at"),
    )


def _timed(label: str, fn, n: int) -> tuple[float, float]:
    start, cpu0 = time.perf_counter(), _children_cpu()
    result = fn()
    wall, cpu1 = time.perf_counter() - start, _children_cpu()
    cpu = sum(cpu1[k] - cpu0[k] for k in cpu1)
    print(
        f"  {label:<10} {wall:8.1f} s wall {cpu:8.1f} s cpu  {n / wall:>9,.0f} entries/s wall  "
        f"{n / max(cpu, 1e-9):>9,.0f} /cpu-s",
        flush=True,
    )
    return (n / wall, n / max(cpu, 1e-9)), result


def test_bench_purge_and_restore_jobs(spark, tmp_path: Path) -> None:
    n = int(os.environ.get("BENCH_ENTRIES", "1000000"))
    cfg = load_config(env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, TODAY, Progress(io.StringIO()))
    audited.append("bench.events", _events(spark, n))
    pkey = load_or_create(cfg.keys.dir)
    findings = [
        (
            "del-bench",
            pkey.subject_key(str(i)),
            "bench.events",
            "customer_id",
            n // SUBJECTS,
            datetime(2026, 11, 1),
            21,
            "residual",
            None,
            TODAY,
        )
        for i in range(SUBJECTS)
    ]
    store.append(
        "residual_findings",
        spark.createDataFrame(
            findings,
            (
                "deletion_id string, subject_key string, asset string, column string, rows_found long, "
                "deleted_at timestamp, days_overdue int, status string, detail string, run_date date"
            ),
        ),
    )
    events = audited.read("bench.events")
    sample = events.limit(20_000).select(row_json(events).alias("j")).collect()
    plaintexts = [r.j.encode() for r in sample] * 5
    avg = sum(map(len, plaintexts)) / len(plaintexts)
    print(
        f"\nrestoration jobs: {n:,} rows of {avg:.0f} bytes as JSON, local[{CORES}], "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    raw_enc, raw_dec = _raw(os.urandom(32), os.urandom(32), plaintexts)
    print(f"  raw single-thread primitives: encrypt {raw_enc:,.0f} /s, decrypt {raw_dec:,.0f} /s")

    ring = MemoryKeyring()
    (p_wall, p_cpu), report = _timed(
        "purge",
        lambda: purge(
            ctx, deletion_id=None, all_findings=True, dry_run=False, keyring=ring, now=NOW
        ),
        n,
    )
    assert report.rows == n and audited.read("bench.events").count() == 0
    (r_wall, r_cpu), back = _timed(
        "restore", lambda: restore(ctx, "del-bench", keyring=ring, now=NOW), n
    )
    assert back.inserted == n and audited.read("bench.events").count() == n

    print("  per-core job throughput vs raw single-thread primitives (whole job, not just crypto):")
    for op, wall, cpu, raw in (
        ("purge", p_wall, p_cpu, raw_enc),
        ("restore", r_wall, r_cpu, raw_dec),
    ):
        print(
            f"    {op:<8} wall/{CORES} cores {wall / CORES:>9,.0f} = {wall / CORES / raw:.2f} of raw;  "
            f"per CPU-second {cpu:>9,.0f} = {cpu / raw:.2f} of raw"
        )
