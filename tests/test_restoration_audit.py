"""Tests of the nightly ``keys`` step: rotation and the audit of the restoration log (issue 6, item 5)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from _restoration_world import (
    CUSTOMER_ROWS,
    CUSTOMERS,
    NOW,
    ORDER_ROWS,
    ORDERS,
    TODAY,
    build_world,
    eq,
)
from pyspark.sql import functions as F

from jobs.commands.purge import purge
from jobs.commands.restore import restore
from jobs.secrets.keyring import MemoryKeyring
from jobs.steps.keys import HEALTH_SCHEMA, keys_rotate, rotate_keys_step

D91, D89 = TODAY - timedelta(days=91), TODAY - timedelta(days=89)


def _purge(w, deletion_id, days_ago):
    return purge(
        w.ctx,
        deletion_id=deletion_id,
        all_findings=False,
        dry_run=False,
        keyring=w.keyring,
        now=NOW - timedelta(days=days_ago),
    )


def test_entry_from_91_days_ago_is_unrecoverable_after_rotation_while_89_days_restores(
    spark, tmp_path
):
    w = build_world(spark, tmp_path, conf="storage:\n  vacuum_retention_hours: 0\n")
    _purge(w, "del-2", 91)
    _purge(w, "del-3", 89)
    w.keyring.rotate(TODAY, 90)  # the 91-day-old key is destroyed; its entries are still in the log

    expired = restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    assert (
        expired.inserted == 0
        and expired.expired == 4
        and "unrecoverable by design" in expired.text()
    )
    assert restore(w.ctx, "del-3", keyring=w.keyring, now=NOW).inserted == 1

    step = rotate_keys_step(w.ctx, w.keyring)  # the nightly step: rotation and audit of the log
    assert step.findings == 0 and step.details["removed"] == 4 and step.details["entries"] == 5
    assert w.keyring.key_ids() == [f"k-{D89:%Y%m%d}", "k-20261122"]
    health = w.ctx.store.read("restoration_log_health")
    eq(
        health,
        w.df(
            [
                (TODAY, D91, 91, 4, 0, 4, 0, 4, 0, 4, 0, 0),
                (TODAY, D89, 89, 1, 0, 1, 1, 0, 0, 0, 0, 0),
                (TODAY, TODAY, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0),
            ],
            HEALTH_SCHEMA,
        ),
    )

    # the expired entries are gone from the table and, with a 0-hour retention, from its files
    log = w.ctx.store.read("restoration_log")
    assert [r.deletion_id for r in log.collect()] == ["del-3"]
    files = [str(p) for p in Path(w.ctx.store.path("restoration_log")).rglob("*.parquet")]
    assert spark.read.parquet(*files).count() == 1
    props = w.ctx.store.properties("restoration_log")
    assert props["delta.deletedFileRetentionDuration"] == "interval 0 hours"
    assert props["delta.logRetentionDuration"] == "interval 30 days"

    later = restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    assert later.inserted == 0 and later.destroyed == 4 and later.expired == 4
    eq(w.orders(), w.df([r for r in ORDER_ROWS if r[1] != 2], ORDERS))
    eq(w.customers(), w.df([r for r in CUSTOMER_ROWS if r[0] != 2], CUSTOMERS))

    rerun = keys_rotate(w.ctx, w.keyring, today=TODAY)  # idempotent for the run date
    assert rerun.totals["removed"] == 0 and rerun.findings == 0
    again = w.ctx.store.read("restoration_log_health").filter(F.col("run_date") == TODAY)
    assert again.count() == 3


class _StuckKeyring(MemoryKeyring):
    """A keyring whose destruction silently fails (failure injection for the audit)."""

    def _destroy(self, key_id: str) -> None:
        return None


def test_log_audit_flags_a_surviving_key_readable_old_entries_and_tampering(spark, tmp_path):
    w = build_world(spark, tmp_path, keyring=_StuckKeyring())
    _purge(w, "del-2", 91)
    _purge(w, "del-3", 0)
    log = w.ctx.store.read("restoration_log")
    tampered = log.withColumn(
        "iv", F.when(F.col("deletion_id") == "del-3", F.lit(bytes(16))).otherwise(F.col("iv"))
    )
    w.ctx.store.overwrite("restoration_log", tampered.localCheckpoint())

    report = keys_rotate(w.ctx, w.keyring, today=TODAY)
    assert [(f.key_id, f.check) for f in report.key_findings] == [
        (f"k-{D91:%Y%m%d}", "key_past_window")
    ]
    assert report.totals["readable_past_window"] == 4 and report.totals["tampered"] == 1
    assert report.findings == 1 + 4 + 1 and report.step_result().findings == 6
    assert report.totals["removed"] == 4  # removed from the log anyway: past the window
    text = report.text()
    assert (
        "KEY FINDING key_past_window" in text
        and "still open" in text
        and "tampered entries" in text
    )
    assert w.ctx.store.read("restoration_log").count() == 1


def test_keys_step_on_an_empty_warehouse_creates_todays_key_only(spark, tmp_path):
    w = build_world(spark, tmp_path)
    step = rotate_keys_step(w.ctx, w.keyring, today=date(2026, 11, 23))
    assert step.details["today_key_id"] == "k-20261123" and step.details["created"] is True
    assert step.findings == 0 and step.rows_written == 0
    assert w.keyring.key_ids() == ["k-20261123"]
