"""Tests of ``compliance purge`` (jobs/commands/purge.py) on a tiny audited warehouse (issue 6, item 3)."""

from __future__ import annotations

import pytest
from _restoration_world import (
    CUSTOMER_ROWS,
    CUSTOMERS,
    NOW,
    ORDER_ROWS,
    ORDERS,
    T1,
    T4,
    build_world,
    eq,
)
from pyspark.sql import functions as F

import jobs.commands.purge as purge_mod
from audits.restoration.batch import DECRYPTED_SCHEMA, ENCRYPTED_SCHEMA, make_decryptor
from jobs.commands.purge import purge
from jobs.commands.restore import restore
from jobs.errors import UsageError
from jobs.store.tables import TableStore

BOB = '{"created_at":"2026-02-03T04:05:06.000000Z","customer_id":2,"email":"bob@example.com"}'
CY = '{"created_at":"2026-03-04T05:06:07.123456Z","customer_id":3,"email":"cy@example.com"}'
ORDER_11 = '{"amount":20.00,"customer_id":2,"order_id":11,"receipt":"/w=="}'
ORDER_12 = '{"amount":5.50,"customer_id":2,"order_id":12}'
OPENED = "table string, deletion_id string, row_json string, key_id string, status string"
KEPT_CUSTOMERS = [(1, "ann@example.com", T1), (4, "dee@example.com", T4)]
KEPT_ORDERS = [r for r in ORDER_ROWS if r[1] != 2]


def _opened(w):
    log = w.ctx.store.read("restoration_log").select(*ENCRYPTED_SCHEMA.fieldNames())
    keys = w.keyring.live_keys(NOW.date())
    return log.mapInArrow(make_decryptor(keys), DECRYPTED_SCHEMA).select(
        "table", "deletion_id", "row_json", "key_id", "status"
    )


def test_purge_removes_exactly_the_rows_and_the_log_decrypts_to_them(spark, tmp_path):
    w = build_world(spark, tmp_path)
    report = purge(
        w.ctx, deletion_id=None, all_findings=True, dry_run=False, keyring=w.keyring, now=NOW
    )

    eq(w.customers(), w.df(KEPT_CUSTOMERS, CUSTOMERS))
    eq(w.orders(), w.df(KEPT_ORDERS, ORDERS))
    expected = w.df(
        [
            ("crm.customers", "del-2", BOB, "k-20261122", "ok"),
            (
                "crm.customers",
                "del-2",
                BOB,
                "k-20261122",
                "ok",
            ),  # the exact duplicate has its own entry
            ("crm.customers", "del-3", CY, "k-20261122", "ok"),
            ("app.orders", "del-2", ORDER_11, "k-20261122", "ok"),
            ("app.orders", "del-2", ORDER_12, "k-20261122", "ok"),
        ],
        OPENED,
    )
    eq(_opened(w), expected)
    journal = w.ctx.store.read("purge_journal").select("deletion_id", "table", "state", "entries")
    eq(
        journal,
        w.df(
            [
                ("del-2", "crm.customers", "committed", 2),
                ("del-3", "crm.customers", "committed", 1),
                ("del-2", "app.orders", "committed", 2),
            ],
            "deletion_id string, table string, state string, entries long",
        ),
    )
    assert report.rows == 5 and report.key_id == "k-20261122" and not report.recovered
    # the journal has the columns the registry declares for it
    from pyspark.sql.types import StructType

    from jobs.registry import TABLES

    stored = w.ctx.store.read("purge_journal").schema
    declared = StructType.fromDDL(TABLES["purge_journal"].schema)
    assert [(f.name, f.dataType) for f in stored.fields] == [
        (f.name, f.dataType) for f in declared.fields
    ]
    assert "removed        2 rows" in report.text() and "k-20261122" in report.text()
    assert "crm.gone" not in report.text()  # unverifiable findings are not acted on


def test_purge_is_idempotent_and_entry_ids_are_deterministic(spark, tmp_path):
    w = build_world(spark, tmp_path)
    purge(w.ctx, deletion_id="del-3", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW)
    ids = sorted(r.entry_id for r in w.ctx.store.read("restoration_log").collect())
    again = purge(
        w.ctx, deletion_id="del-3", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW
    )
    assert again.rows == 0
    restore(w.ctx, "del-3", keyring=w.keyring, now=NOW)
    # the row is back; purging it again rewrites the same entry id instead of adding one
    purge(w.ctx, deletion_id="del-3", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW)
    assert sorted(r.entry_id for r in w.ctx.store.read("restoration_log").collect()) == ids
    assert len(ids) == 1 and ids[0].startswith("re_") and len(ids[0]) == 35


def test_dry_run_says_what_would_go_and_changes_nothing(spark, tmp_path):
    w = build_world(spark, tmp_path)
    versions = (w.ctx.audited.version("crm.customers"), w.ctx.audited.version("app.orders"))
    report = purge(
        w.ctx, deletion_id="del-2", all_findings=False, dry_run=True, keyring=w.keyring, now=NOW
    )

    assert [(p.table, p.deletion_id, p.rows) for p in report.purged] == [
        ("app.orders", "del-2", 2),
        ("crm.customers", "del-2", 2),
    ]
    assert "DRY RUN" in report.text() and "would remove" in report.text()
    assert (w.ctx.audited.version("crm.customers"), w.ctx.audited.version("app.orders")) == versions
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    assert not w.ctx.store.exists("restoration_log") and not w.ctx.store.exists("purge_journal")
    assert w.keyring.key_ids() == []  # not even today's key is created


def test_usage_needs_exactly_one_selection(spark, tmp_path):
    w = build_world(spark, tmp_path)
    with pytest.raises(UsageError):
        purge(w.ctx, deletion_id=None, all_findings=False, dry_run=True, keyring=w.keyring, now=NOW)
    with pytest.raises(UsageError):
        purge(
            w.ctx, deletion_id="del-2", all_findings=True, dry_run=True, keyring=w.keyring, now=NOW
        )


def test_failure_between_log_and_delete_loses_nothing_and_a_rerun_completes(
    spark, tmp_path, monkeypatch
):
    w = build_world(spark, tmp_path)

    def broken_delete(self, name, keys_df, on):
        raise RuntimeError("injected failure: the delete of the audited table did not commit")

    with monkeypatch.context() as m:
        m.setattr(TableStore, "delete_matching", broken_delete)
        with pytest.raises(RuntimeError, match="injected"):
            purge(
                w.ctx,
                deletion_id=None,
                all_findings=True,
                dry_run=False,
                keyring=w.keyring,
                now=NOW,
            )

    # the entries of the first table are logged but pending; no row is gone
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    eq(w.orders(), w.df(ORDER_ROWS, ORDERS))
    states = {r.state for r in w.ctx.store.read("purge_journal").collect()}
    assert states == {"pending"} and w.ctx.store.read("restoration_log").count() == 2
    early = restore(
        w.ctx, "del-2", keyring=w.keyring, now=NOW
    )  # pending entries are never restored
    assert early.inserted == 0 and early.pending == 2
    eq(w.orders(), w.df(ORDER_ROWS, ORDERS))

    rerun = purge(
        w.ctx, deletion_id=None, all_findings=True, dry_run=False, keyring=w.keyring, now=NOW
    )
    assert [(r.table, r.outcome, r.rows_deleted) for r in rerun.recovered] == [
        ("app.orders", "completed", 2)
    ]
    eq(w.customers(), w.df(KEPT_CUSTOMERS, CUSTOMERS))
    eq(w.orders(), w.df(KEPT_ORDERS, ORDERS))
    assert w.ctx.store.read("restoration_log").count() == 5  # no duplicate entries
    assert {r.state for r in w.ctx.store.read("purge_journal").collect()} == {"committed"}
    restore(w.ctx, "del-2", keyring=w.keyring, now=NOW)
    restore(w.ctx, "del-3", keyring=w.keyring, now=NOW)
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    eq(w.orders(), w.df(ORDER_ROWS, ORDERS))


def test_failure_between_delete_and_commit_is_committed_by_the_rerun(spark, tmp_path, monkeypatch):
    w = build_world(spark, tmp_path)
    real = purge_mod.set_state

    def broken_commit(ctx, purge_id, state, now, detail):
        if state == "committed":
            raise RuntimeError("injected failure: the journal commit did not happen")
        real(ctx, purge_id, state, now, detail)

    with monkeypatch.context() as m:
        m.setattr(purge_mod, "set_state", broken_commit)
        with pytest.raises(RuntimeError, match="injected"):
            purge(
                w.ctx,
                deletion_id="del-3",
                all_findings=False,
                dry_run=False,
                keyring=w.keyring,
                now=NOW,
            )

    assert w.customers().filter(F.col("customer_id") == 3).count() == 0  # deleted, and logged:
    assert [r.row_json for r in _opened(w).collect()] == [CY]
    rerun = purge(
        w.ctx, deletion_id="del-3", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW
    )
    assert [(r.outcome, r.rows_deleted) for r in rerun.recovered] == [("committed", 0)]
    assert rerun.rows == 0
    back = restore(w.ctx, "del-3", keyring=w.keyring, now=NOW)
    assert back.inserted == 1
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
