"""Benchmark: probe matching (EXACT/CONTAINS/NO_MATCH) over generated probe samples (2 cores).

Run: ``.venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_probes.py``
(``BENCH_PROBE_REQUESTS`` sets the number of requests, default 500000, 6 lines each).

The samples are generated on the executors from ``spark.range`` (no driver data) and written to a
temporary Parquet table first, so every timing reads the same materialised input. Each timing
runs the plan to completion with the ``noop`` sink. Named baselines measured in the same run:

- ``scan``: reading the samples and counting them (the I/O floor);
- ``groupby_request``: one shuffle + count per request (the floor of any per-request matching);
- ``probe_observations``: matching every source/sink pair and aggregating per flow.

Every request has two sources (``api.form.email`` with 1 hash, ``api.form.message`` with 3)
and four sinks: ``db.users.email`` (the email: EXACT), ``db.tickets.body`` (email + message:
CONTAINS for both), ``db.sessions.page`` (unrelated, but the message itself in every 10th
request: EXACT) and ``db.audit`` (no field, unrelated). The flow counts are checked exactly.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
from pyspark.sql import functions as F

from lineage.signals.merge import probe_observations

pytestmark = pytest.mark.bench

BASE = datetime(2026, 11, 1, tzinfo=UTC)
LINES = 6


def _samples(spark, requests: int):
    ids = spark.range(requests * LINES, numPartitions=8)
    r = F.floor(F.col("id") / LINES).cast("long")
    k = (F.col("id") % LINES).cast("int")

    def h(tag: str):
        return F.sha2(F.concat_ws(":", r.cast("string"), F.lit(tag)), 256)

    email, message, other = F.array(h("e")), F.array(h("m0"), h("m1"), h("m2")), F.array(h("x"))
    hashes = (
        F.when(k == 0, email)
        .when(k == 1, message)
        .when(k == 2, email)
        .when(k == 3, F.array(h("m1"), h("e"), h("m2"), h("m0")))
        .when((k == 4) & (r % 10 == 0), message)
        .otherwise(other)
    )
    asset = F.element_at(
        F.array(
            *[
                F.lit(a)
                for a in (
                    "api.form",
                    "api.form",
                    "db.users",
                    "db.tickets",
                    "db.sessions",
                    "db.audit",
                )
            ]
        ),
        k + 1,
    )
    field = F.element_at(
        F.array(*[F.lit(f) for f in ("email", "message", "email", "body", "page", "-")]), k + 1
    )
    ts = F.timestamp_seconds(
        F.lit(int(BASE.timestamp())) + (r % 864_000) + F.when(k >= 2, 1).otherwise(0)
    )
    return ids.select(
        F.format_string("req-%09d", r).alias("request_id"),
        ts.alias("ts"),
        F.when(k < 2, F.lit("source")).otherwise(F.lit("sink")).alias("role"),
        asset.alias("asset"),
        F.when(k < 5, field).alias("field"),
        hashes.alias("value_hashes"),
    )


def _time(label: str, df, results: dict[str, float]) -> None:
    start = time.perf_counter()
    df.write.format("noop").mode("overwrite").save()
    results[label] = time.perf_counter() - start


def test_bench_probe_observations(spark, tmp_path):
    requests = int(os.environ.get("BENCH_PROBE_REQUESTS", "500000"))
    old_partitions = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "16")
    try:
        path = str(tmp_path / "probes")
        _samples(spark, requests).write.parquet(path)
        probes = spark.read.parquet(path)
        results: dict[str, float] = {}
        _time("scan", probes.select(F.count("*")), results)
        _time("groupby_request", probes.groupBy("request_id").count(), results)
        obs = probe_observations(probes, match_confidence=0.95, no_match_confidence=0.2)
        _time("probe_observations", obs, results)
        flows = {
            (row.source_column, row.target_asset, row.match): row.seen_count
            for row in obs.select("source_column", "target_asset", "match", "seen_count").collect()
        }  # nine flows
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", old_partitions)

    n = requests * LINES
    print(
        f"\nprobe matching: {n:,} samples, {requests:,} requests, master {spark.sparkContext.master}"
    )
    for label, seconds in results.items():
        print(
            f"  {label:<20} {seconds:8.2f} s   {n / seconds / 1e6:6.2f} M samples/s   "
            f"x{seconds / results['groupby_request']:.2f} of groupby_request"
        )
    tenth = (requests + 9) // 10
    assert flows == {
        ("email", "db.users", "EXACT_MATCH"): requests,
        ("message", "db.users", "NO_MATCH"): requests,
        ("email", "db.tickets", "CONTAINS"): requests,
        ("message", "db.tickets", "CONTAINS"): requests,
        ("email", "db.sessions", "NO_MATCH"): requests,
        ("message", "db.sessions", "EXACT_MATCH"): tenth,
        ("message", "db.sessions", "NO_MATCH"): requests - tenth,
        ("email", "db.audit", "NO_MATCH"): requests,
        ("message", "db.audit", "NO_MATCH"): requests,
    }
