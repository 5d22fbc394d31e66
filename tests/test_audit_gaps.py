"""Residual scan of hashed copies and table-level-only copies, per-deletion scan records, and the
retention time column declared in the catalog (jobs.steps.audit_residual, jobs.steps.audit.retention)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality

from jobs.config.catalog import load_catalog
from jobs.config.settings import load_config
from jobs.context import JobContext, Progress
from jobs.errors import ConfigError
from jobs.secrets import match_keys
from jobs.secrets.pseudonym import load_or_create
from jobs.steps import audit
from jobs.steps import audit_residual as residual_scan
from jobs.store.tables import TableStore

TODAY = date(2026, 11, 22)

CATALOG = """
retention_days: {user: 365}
assets:
  - {name: crm.customers, kind: table, owner: crm, zone: core, columns: [
      {name: customer_id, type: bigint, is_identifier: true, data_category: user.unique_id},
      {name: email, type: string, data_category: user.contact.email},
      {name: created_at, type: timestamp}]}
  - {name: mart.hashed, kind: table, owner: bi, zone: core, columns: [
      {name: id_hash, type: string, hash: sha256_hex}, {name: n, type: int}]}
  - {name: mart.md5_copy, kind: table, owner: bi, zone: core, columns: [
      {name: h, type: string}]}
  - {name: mart.counts, kind: table, owner: bi, zone: core, columns: [
      {name: n_customers, type: bigint}]}
  - {name: hive.orders_copy, kind: table, owner: bi, zone: core, columns: [
      {name: buyer, type: bigint, data_category: user.unique_id}, {name: amount, type: double}]}
  - {name: hive.summary, kind: table, owner: bi, zone: core, columns: [
      {name: country, type: string}, {name: n, type: bigint}]}
  - {name: mail.sent, kind: table, owner: crm, zone: core, time_column: sent_at, columns: [
      {name: email, type: string, data_category: user.contact.email},
      {name: sent_at, type: timestamp}, {name: created_at, type: string}]}
  - {name: mail.bounces, kind: table, owner: crm, zone: core, columns: [
      {name: email, type: string, data_category: user.contact.email},
      {name: seen, type: date}]}
  - {name: mail.missing, kind: table, owner: crm, zone: core, columns: [
      {name: email, type: string, data_category: user.contact.email}]}
"""

EDGES = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "transformation_type string, transformation_subtype string, masking boolean"
)
CLOSURE = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "depth int, confidence double, run_date date, level string"
)


def _hmac(secret: bytes, text: str) -> str:
    return "sk_" + hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.fixture()
def world(spark, tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, TODAY, Progress(None))
    return ctx


def _company(ctx, spark):
    a = ctx.audited
    sha = lambda v: hashlib.sha256(v.encode()).hexdigest()  # noqa: E731
    a.append(
        "crm.customers",
        spark.createDataFrame(
            [(1, "a@x.org", datetime(2026, 1, 1))],
            "customer_id bigint, email string, created_at timestamp",
        ),
    )
    # Trino's to_hex is upper case; subject 2's hash is left behind twice, subject 1's is live
    a.append(
        "mart.hashed",
        spark.createDataFrame(
            [(sha("2").upper(), 1), (sha("2"), 2), (sha("1"), 3)], "id_hash string, n int"
        ),
    )
    a.append("mart.md5_copy", spark.createDataFrame([(hashlib.md5(b"2").hexdigest(),)], "h string"))  # noqa: S324
    a.append("mart.counts", spark.createDataFrame([(7,)], "n_customers bigint"))
    a.append(
        "hive.orders_copy",
        spark.createDataFrame([(2, 9.5), (1, 3.0)], "buyer bigint, amount double"),
    )
    a.append("hive.blob", spark.createDataFrame([("opaque",)], "payload string"))
    a.append("hive.summary", spark.createDataFrame([("fr", 3)], "country string, n bigint"))
    ctx.store.append(
        "lineage_edges",
        spark.createDataFrame(
            [
                (
                    "crm.customers",
                    "customer_id",
                    "mart.hashed",
                    "id_hash",
                    "DIRECT",
                    "TRANSFORMATION",
                    True,
                ),
                (
                    "crm.customers",
                    "customer_id",
                    "mart.md5_copy",
                    "h",
                    "DIRECT",
                    "TRANSFORMATION",
                    True,
                ),
                (
                    "crm.customers",
                    "customer_id",
                    "mart.counts",
                    "n_customers",
                    "DIRECT",
                    "AGGREGATION",
                    True,
                ),
                (
                    "crm.customers",
                    None,
                    "hive.orders_copy",
                    None,
                    "DIRECT",
                    "TRANSFORMATION",
                    False,
                ),
                ("crm.customers", None, "hive.blob", None, "DIRECT", "TRANSFORMATION", False),
                ("crm.customers", None, "hive.summary", None, "DIRECT", "TRANSFORMATION", False),
            ],
            EDGES,
        ),
    )
    col = [
        ("crm.customers", "customer_id", t, c, 1, 1.0, TODAY, "column")
        for t, c in [
            ("mart.hashed", "id_hash"),
            ("mart.md5_copy", "h"),
            ("mart.counts", "n_customers"),
        ]
    ]
    tab = [
        ("crm.customers", None, t, None, 1, 1.0, TODAY, "table")
        for t in (
            "mart.hashed",
            "mart.md5_copy",
            "mart.counts",
            "hive.orders_copy",
            "hive.blob",
            "hive.summary",
        )
    ]
    ctx.store.append("lineage_closure", spark.createDataFrame(col + tab, CLOSURE))


def _deletions(ctx, spark):
    key = load_or_create(ctx.cfg.keys.dir)
    # subject 2 was landed with match keys, subject 3 before they existed, 4 is not completed
    ctx.store.upsert(
        match_keys.TABLE,
        match_keys.match_keys(spark.createDataFrame([("2",)], "subject_id string"), key),
        ["subject_key", "function"],
    )
    requests = spark.createDataFrame(
        [(f"del-{i}", key.subject_key(str(i))) for i in (2, 3, 4)],
        "deletion_id string, subject_key string",
    )
    events = spark.createDataFrame(
        [
            ("del-2", "completed", datetime(2026, 11, 1)),
            ("del-3", "completed", datetime(2026, 11, 2)),
        ],
        "deletion_id string, event string, ts timestamp",
    )
    return key, requests, events


def test_match_keys_are_keyed_hashes_of_each_digest(spark, world):
    key = load_or_create(world.cfg.keys.dir)
    secret = (Path(world.cfg.keys.dir) / "pseudonym.key").read_bytes()
    got = match_keys.match_keys(spark.createDataFrame([("42",)], "subject_id string"), key)
    sk = _hmac(secret, "42")
    want = spark.createDataFrame(
        [
            (sk, name, _hmac(secret, getattr(hashlib, algo)(b"42").hexdigest()))
            for name, algo in [
                ("md5_hex", "md5"),
                ("sha1_hex", "sha1"),
                ("sha224_hex", "sha224"),
                ("sha256_hex", "sha256"),
                ("sha384_hex", "sha384"),
                ("sha512_hex", "sha512"),
            ]
        ],
        match_keys.SCHEMA,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
    assert "42" not in {v for r in got.collect() for v in r}


def test_hashed_and_table_level_copies_are_scanned_or_reported(spark, world):
    _company(world, spark)
    key, requests, events = _deletions(world, spark)
    catalog = load_catalog(world.cfg.inputs.catalog)
    findings, scans = residual_scan.residuals(world, catalog, events, requests)
    sk2, _sk3 = key.subject_key("2"), key.subject_key("3")
    got = findings.select("deletion_id", "subject_key", "asset", "column", "rows_found", "status")
    want = spark.createDataFrame(
        [
            ("del-2", sk2, "mart.hashed", "id_hash", 2, "residual"),
            ("del-2", sk2, "hive.orders_copy", "buyer", 1, "residual"),
            (None, None, "mart.md5_copy", "h", None, "unverifiable"),
            (None, None, "hive.blob", "*", None, "unverifiable"),
        ],
        "deletion_id string, subject_key string, asset string, column string, rows_found long, "
        "status string",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
    details = {r.asset: r.detail for r in findings.collect() if r.status == "unverifiable"}
    assert "hash function is unknown" in details["mart.md5_copy"]
    assert "table-level lineage from crm.customers" in details["hive.blob"]

    got_scans = scans.select(
        "deletion_id", "asset", "column", "status", "rows_found", "table_status"
    )
    want_scans = spark.createDataFrame(
        [
            ("del-2", "crm.customers", "customer_id", "clean", 0, "clean"),
            ("del-2", "mart.hashed", "id_hash", "residual", 2, "residual"),
            ("del-2", "mart.md5_copy", "h", "unverifiable", 0, "unverifiable"),
            ("del-2", "hive.orders_copy", "buyer", "residual", 1, "residual"),
            ("del-2", "hive.blob", "*", "unverifiable", 0, "unverifiable"),
            ("del-3", "crm.customers", "customer_id", "clean", 0, "clean"),
            ("del-3", "mart.hashed", "id_hash", "unverifiable", 0, "unverifiable"),  # no match key
            ("del-3", "mart.md5_copy", "h", "unverifiable", 0, "unverifiable"),
            ("del-3", "hive.orders_copy", "buyer", "clean", 0, "clean"),
            ("del-3", "hive.blob", "*", "unverifiable", 0, "unverifiable"),
        ],
        "deletion_id string, asset string, column string, status string, rows_found long, "
        "table_status string",
    )
    assert_df_equality(got_scans, want_scans, ignore_row_order=True, ignore_nullable=True)
    why = {(r.deletion_id, r.asset): r.detail for r in scans.collect()}
    assert "no sha256_hex match key" in why[("del-3", "mart.hashed")]
    assert why[("del-2", "crm.customers")] == "read, no row of the subject"
    assert (
        why[("del-2", "mart.hashed")] == "2 row(s) still hold the subject's sha256_hex hashed "
        "identifier"
    )


def test_a_table_is_clean_only_when_every_target_column_was_read(spark):
    from audits.residual import scan_statuses

    done = spark.createDataFrame([("d1", "sk_1")], "deletion_id string, subject_key string")
    targets = spark.createDataFrame(
        [
            ("t.a", "x", None, None),
            ("t.a", "y", None, "column y not in the table"),
            ("t.b", "x", None, None),
        ],
        "asset string, column string, function string, reason string",
    )
    hits = spark.createDataFrame(
        [], "subject_key string, asset string, column string, rows_found long"
    )
    got = scan_statuses(done, targets, hits).select("asset", "column", "status", "table_status")
    want = spark.createDataFrame(
        [
            ("t.a", "x", "clean", "unverifiable"),
            ("t.a", "y", "unverifiable", "unverifiable"),
            ("t.b", "x", "clean", "clean"),
        ],
        "asset string, column string, status string, table_status string",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_retention_uses_the_declared_time_column_and_reports_unchecked_tables(spark, world):
    world.audited.append(
        "mail.sent",
        spark.createDataFrame(
            [
                ("a@x.org", datetime(2024, 1, 1), "2026-11-01"),
                ("b@x.org", datetime(2026, 11, 1), "2020-01-01"),
            ],
            "email string, sent_at timestamp, created_at string",
        ),
    )
    world.audited.append(
        "mail.bounces",
        spark.createDataFrame([("a@x.org", date(2020, 1, 1))], "email string, seen date"),
    )
    catalog = load_catalog(world.cfg.inputs.catalog)
    got = (
        audit.retention(world, catalog)
        .where("table like 'mail.%'")
        .select("table", "column", "rows_over", "kind", "detail")
    )
    want = spark.createDataFrame(
        [
            (
                "mail.sent",
                "email",
                1,
                "rows",
                "1 row(s) with email older than 365 days (before 2025-11-23T00:00:00Z) as of "
                "2026-11-23T00:00:00Z",
            ),
            (
                "mail.bounces",
                None,
                None,
                "not_checked",
                "retention not checked: no time column: none of created_at, event_time, ts, updated_at "
                "is a timestamp or date; declare time_column in the catalog",
            ),
            (
                "mail.missing",
                None,
                None,
                "not_checked",
                "retention not checked: no Delta table exists",
            ),
        ],
        "table string, column string, rows_over long, kind string, detail string",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.parametrize(
    "snippet, message",
    [
        ("time_column: sent_on", "assets[0].time_column: expected one of the asset's columns"),
        (
            "columns: [{name: h, type: string, hash: sha3}]",
            "assets[0].columns[0].hash: expected one of md5_hex|sha1_hex",
        ),
    ],
)
def test_catalog_rejects_bad_time_column_and_hash(tmp_path, snippet, message):
    base = "{name: a.b, kind: table, owner: o, zone: z, columns: [{name: sent_at, type: date}]"
    text = (
        f"assets:\n  - {base}, {snippet}}}\n"
        if snippet.startswith("time")
        else f"assets:\n  - {{name: a.b, kind: table, owner: o, zone: z, {snippet}}}\n"
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_catalog(path)


DASHED_CATALOG = """
assets:
  - {name: web-shop.customers, kind: table, owner: crm, zone: core, columns: [
      {name: customer_id, type: bigint, is_identifier: true, data_category: user.unique_id}]}
  - {name: web-shop.orders-copy, kind: table, owner: bi, zone: core, columns: [
      {name: buyer, type: bigint, data_category: user.unique_id}, {name: amount, type: double}]}
"""


def test_table_names_with_a_dash_go_through_the_residual_scan(spark, tmp_path):
    """BigQuery-style names (``-`` in project/dataset/table) are tables like any other: the
    catalog accepts them, the store reads them, the scan names them in its findings."""
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "catalog.yaml").write_text(DASHED_CATALOG, encoding="utf-8")
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, TODAY, Progress(None))
    audited.append("web-shop.customers", spark.createDataFrame([(1,)], "customer_id bigint"))
    audited.append(
        "web-shop.orders-copy",
        spark.createDataFrame([(2, 9.5), (1, 3.0)], "buyer bigint, amount double"),
    )
    edge = ("web-shop.customers", "customer_id", "web-shop.orders-copy", "buyer")
    store.append(
        "lineage_edges",
        spark.createDataFrame([(*edge, "DIRECT", "IDENTITY", False)], EDGES),
    )
    store.append(
        "lineage_closure",
        spark.createDataFrame([(*edge, 1, 1.0, TODAY, "column")], CLOSURE),
    )
    key, requests, events = _deletions(ctx, spark)
    findings, scans = residual_scan.residuals(
        ctx, load_catalog(cfg.inputs.catalog), events, requests
    )
    got = findings.select("deletion_id", "subject_key", "asset", "column", "rows_found", "status")
    want = spark.createDataFrame(
        [("del-2", key.subject_key("2"), "web-shop.orders-copy", "buyer", 1, "residual")],
        "deletion_id string, subject_key string, asset string, column string, rows_found long, "
        "status string",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
    assert {(r.deletion_id, r.asset, r.status) for r in scans.collect()} == {
        ("del-2", "web-shop.customers", "clean"),
        ("del-2", "web-shop.orders-copy", "residual"),
        ("del-3", "web-shop.customers", "clean"),
        ("del-3", "web-shop.orders-copy", "clean"),
    }
