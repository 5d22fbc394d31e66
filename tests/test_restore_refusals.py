"""Restore refusals: replayed and relabelled entries, and the exit codes of a partial restore."""

from __future__ import annotations

from datetime import timedelta

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

from jobs.cli import main
from jobs.commands.purge import purge
from jobs.commands.restore import EXIT_EXPIRED, EXIT_TAMPERED, restore

ORDER_11 = '{"amount":20.00,"customer_id":2,"order_id":11,"receipt":"/w=="}'


def _purge(w, deletion_id, now=NOW):
    return purge(
        w.ctx,
        deletion_id=deletion_id,
        all_findings=False,
        dry_run=False,
        keyring=w.keyring,
        now=now,
    )


def _outcomes(w):
    return {(r.entry_id, r.outcome) for r in w.ctx.store.read("restore_journal").collect()}


def test_a_replayed_entry_is_restored_once_and_reported_as_tampering(spark, tmp_path):
    w = build_world(spark, tmp_path)
    _purge(w, "del-2")
    log = w.ctx.store.read("restoration_log")
    victim = log.filter(F.col("table") == "app.orders").orderBy("entry_id").first().entry_id
    w.ctx.store.append("restoration_log", log.filter(F.col("entry_id") == victim).localCheckpoint())
    assert w.ctx.store.read("restoration_log").count() == 5  # 4 entries + 1 replayed copy

    report = restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    eq(w.orders(), w.df(ORDER_ROWS, ORDERS))  # every order back exactly once: no extra row
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    assert (report.inserted, report.tampered, report.replayed, report.relabelled) == (4, 1, 1, 0)
    assert report.tampered_entries == [victim] and "replays" in report.text()
    assert report.exit_code == EXIT_TAMPERED
    assert (victim, "restored") in _outcomes(w) and (victim, "tampered") in _outcomes(w)


def test_an_entry_restored_once_is_not_restored_again_after_its_row_left(spark, tmp_path):
    w = build_world(spark, tmp_path)
    _purge(w, "del-3")
    assert restore(w.ctx, "del-3", keyring=w.keyring, now=NOW).inserted == 1
    w.ctx.audited.delete_where("crm.customers", F.col("customer_id") == 3)  # removed by hand

    again = restore(w.ctx, "del-3", keyring=w.keyring, now=NOW)
    assert (again.inserted, sum(t.already_present for t in again.tables)) == (0, 1)
    assert w.customers().filter(F.col("customer_id") == 3).count() == 0


def test_an_entry_moved_to_another_deletion_is_tampered_not_an_uncommitted_purge(spark, tmp_path):
    w = build_world(spark, tmp_path)
    _purge(w, "del-2")
    _purge(w, "del-3", now=NOW + timedelta(minutes=1))
    log = w.ctx.store.read("restoration_log")
    victim = log.filter(F.col("table") == "app.orders").orderBy("entry_id").first().entry_id
    moved = log.withColumn(
        "deletion_id", F.when(F.col("entry_id") == victim, "del-3").otherwise(F.col("deletion_id"))
    )
    w.ctx.store.overwrite("restoration_log", moved.localCheckpoint())

    report = restore(w.ctx, "del-3", keyring=w.keyring, now=NOW)
    assert (report.pending, report.tampered, report.relabelled, report.inserted) == (0, 1, 1, 1)
    assert report.tampered_entries == [victim] and "uncommitted purge" not in report.text()
    assert "relabelled" in report.text() and report.exit_code == EXIT_TAMPERED
    eq(w.orders(), w.df([r for r in ORDER_ROWS if r[1] != 2], ORDERS))  # nothing put in app.orders


def test_restore_exit_codes_expired_4_tampered_5_complete_0(spark, tmp_path):
    w = build_world(spark, tmp_path, conf=f"home: {tmp_path}\n")
    _purge(w, "del-2", now=NOW - timedelta(days=91))
    _purge(w, "del-3")
    w.keyring.rotate(TODAY, 90)  # del-2's key is destroyed
    args = ["--conf", str(tmp_path / "conf.yaml"), "--run-date", str(TODAY), "--quiet"]

    assert main(["restore", "del-2", *args]) == EXIT_EXPIRED == 4
    assert main(["restore", "del-3", *args]) == 0
    w.ctx.store.append(
        "restoration_log",
        w.ctx.store.read("restoration_log")
        .filter(F.col("deletion_id") == "del-3")
        .localCheckpoint(),
    )
    assert main(["restore", "del-3", *args]) == EXIT_TAMPERED == 5
