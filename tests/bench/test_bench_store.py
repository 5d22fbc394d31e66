"""Benchmark: write and read back 10M rows through the Delta table store.

Prints the wall time and the driver's peak memory (the Python driver's RSS high-water mark and the
driver JVM's heap in use), next to a baseline measured in the same run that does hold the table
on the driver: Spark -> pandas (toPandas) -> deltalake.write_deltalake. The store keeps the data on
the executors, so its driver peak stays flat while the baseline's grows with the table.

Run: .venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_store.py  (BENCH_ROWS to resize)
"""

from __future__ import annotations

import os
import threading
import time

import pytest
from pyspark.sql import functions as F

from jobs.store.tables import TableStore

pytestmark = pytest.mark.bench

ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """Samples the Python driver's RSS and the driver JVM's used heap every 50 ms."""

    def __init__(self, spark) -> None:
        self.rt = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
        self.py_peak = self.jvm_peak = 0.0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.py_peak = max(self.py_peak, _rss_mb())
            used = (self.rt.totalMemory() - self.rt.freeMemory()) / 2**20
            self.jvm_peak = max(self.jvm_peak, used)
            time.sleep(0.05)

    def __enter__(self) -> PeakSampler:
        self.py_peak, self.jvm_peak = _rss_mb(), 0.0
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()


def _table(spark, n: int):
    return spark.range(n).select(
        F.col("id"),
        (F.col("id") % 1000).alias("bucket"),
        F.sha2(F.col("id").cast("string"), 256).alias("payload"),
        F.current_timestamp().alias("ts"),
    )


def test_store_roundtrip_keeps_the_table_off_the_driver(spark, tmp_path):
    import deltalake

    store = TableStore(spark, str(tmp_path / "wh"), engine="delta-rs")
    spark.sparkContext._jvm.System.gc()
    with PeakSampler(spark) as store_peak:
        t0 = time.perf_counter()
        store.append("big", _table(spark, ROWS))
        t_write = time.perf_counter() - t0
        t0 = time.perf_counter()
        agg = store.read("big").agg(F.count("*").alias("n"), F.sum("bucket").alias("s")).first()
        t_read = time.perf_counter() - t0
    assert agg.n == ROWS
    assert agg.s == sum(range(1000)) * (ROWS // 1000) + sum(range(ROWS % 1000))

    base_rows = min(ROWS, int(os.environ.get("BENCH_BASELINE_ROWS", str(ROWS))))
    spark.sparkContext._jvm.System.gc()
    with PeakSampler(spark) as base_peak:
        t0 = time.perf_counter()
        pdf = _table(spark, base_rows).toPandas()
        deltalake.write_deltalake(str(tmp_path / "baseline"), pdf)
        t_base_write = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = deltalake.DeltaTable(str(tmp_path / "baseline")).to_pyarrow_table().num_rows
        t_base_read = time.perf_counter() - t0
        del pdf
    assert n == base_rows

    print(
        f"\nstore (delta-rs engine), {ROWS:,} rows: write {t_write:.1f} s, read+aggregate {t_read:.1f} s; "
        f"driver peak: python RSS {store_peak.py_peak:.0f} MB, JVM heap {store_peak.jvm_peak:.0f} MB"
        f"\nbaseline toPandas + write_deltalake, {base_rows:,} rows: write {t_base_write:.1f} s, "
        f"read {t_base_read:.1f} s; driver peak: python RSS {base_peak.py_peak:.0f} MB, "
        f"JVM heap {base_peak.jvm_peak:.0f} MB"
    )
    # the store's driver footprint must not scale with the table (the baseline's does)
    assert store_peak.py_peak < base_peak.py_peak
