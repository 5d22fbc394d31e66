"""Residual scans: identifier-carrying targets, the per-table join, and the findings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from audits.residual import (
    column_closure,
    completions_from_events,
    identifier_targets,
    residual_findings,
    scannable,
    table_closure,
)
from audits.residual_match import (
    match_text,
    matched_values,
    scan_values,
    subject_match_values,
    subjects_by_function,
    target_values,
)

UTC = timezone.utc
T0 = datetime(2026, 1, 1, tzinfo=UTC)
D = timedelta(days=1)

EDGES = T.StructType(
    [
        T.StructField("source_asset", T.StringType()),
        T.StructField("source_column", T.StringType()),
        T.StructField("target_asset", T.StringType()),
        T.StructField("target_column", T.StringType()),
        T.StructField("transformation_type", T.StringType()),
        T.StructField("transformation_subtype", T.StringType()),
        T.StructField("masking", T.BooleanType()),
    ]
)
TARGETS = "asset string, column string, source_identifier string"
HITS = T.StructType(
    [
        T.StructField("subject_key", T.StringType()),
        T.StructField("asset", T.StringType()),
        T.StructField("column", T.StringType()),
        T.StructField("rows_found", T.LongType()),
    ]
)
FINDINGS = T.StructType(
    [
        T.StructField("deletion_id", T.StringType()),
        T.StructField("subject_key", T.StringType()),
        T.StructField("asset", T.StringType()),
        T.StructField("column", T.StringType()),
        T.StructField("rows_found", T.LongType()),
        T.StructField("deleted_at", T.TimestampType()),
        T.StructField("days_overdue", T.IntegerType()),
        T.StructField("status", T.StringType()),
        T.StructField("detail", T.StringType()),
    ]
)


def lineage(spark):
    edges = spark.createDataFrame(
        [
            ("crm.customers", "email", "stg.users", "email", "DIRECT", "IDENTITY", False),
            ("stg.users", "email", "mart.contacts", "email_addr", "DIRECT", "IDENTITY", None),
            ("stg.users", "email", "mart.stats", "email_hash", "DIRECT", "TRANSFORMATION", True),
            ("mart.stats", "email_hash", "dash.kpis", "h", "DIRECT", "IDENTITY", False),
            ("crm.customers", "email", "mart.masked", "email", "DIRECT", "IDENTITY", True),
            ("crm.customers", "id", "stg.orders", "customer_id", "DIRECT", "IDENTITY", False),
            ("crm.customers", "id", "mart.excluded", "cid", "DIRECT", "IDENTITY", False),
            ("crm.customers", "id", "mart.revenue", "total", "INDIRECT", "JOIN", False),
            ("crm.customers", None, "mart.revenue", None, "INDIRECT", "FILTER", False),
            ("stg.orders", "customer_id", "crm.customers", "id", "DIRECT", "IDENTITY", False),
        ],
        EDGES,
    )
    # the closure as the lineage job computed it; mart.excluded.cid was excluded by a review
    closure_df = spark.createDataFrame(
        [
            ("crm.customers.email", "stg.users.email", 1, 1.0),
            ("crm.customers.email", "mart.contacts.email_addr", 2, 1.0),
            ("crm.customers.email", "mart.stats.email_hash", 2, 1.0),
            ("crm.customers.email", "dash.kpis.h", 3, 1.0),
            ("crm.customers.email", "mart.masked.email", 1, 1.0),
            ("crm.customers.id", "stg.orders.customer_id", 1, 1.0),
            ("crm.customers.id", "mart.revenue.total", 1, 0.9),
        ],
        "source string, node string, depth int, confidence double",
    )
    identifiers = spark.createDataFrame(
        [("crm.customers", "email"), ("crm.customers", "id")], "asset string, column string"
    )
    return closure_df, identifiers, edges


def test_identifier_targets_follow_unmasked_identity_flows(spark):
    closure_df, identifiers, edges = lineage(spark)
    got = identifier_targets(closure_df, identifiers, edges)
    want = spark.createDataFrame(
        [
            ("crm.customers", "email", "crm.customers.email"),
            ("stg.users", "email", "crm.customers.email"),
            ("mart.contacts", "email_addr", "crm.customers.email"),
            ("crm.customers", "id", "crm.customers.id"),
            ("stg.orders", "customer_id", "crm.customers.id"),
        ],
        TARGETS,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_identifier_targets_downstream_only(spark):
    closure_df, identifiers, edges = lineage(spark)
    got = identifier_targets(closure_df, identifiers, edges, include_sources=False)
    want = spark.createDataFrame(
        [
            ("stg.users", "email", "crm.customers.email"),
            ("mart.contacts", "email_addr", "crm.customers.email"),
            ("stg.orders", "customer_id", "crm.customers.id"),
        ],
        TARGETS,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def _same(values):
    """A keyer that keeps each value as it is (the subjects' match values are the raw texts)."""
    return values.withColumn("_k", F.col("_v"))


def test_scan_values_counts_rows_per_subject(spark):
    table = spark.createDataFrame(
        [(1, "a@x"), (2, "a@x"), (3, "b@x"), (4, "c@x"), (5, None)], "id int, email string"
    )
    subjects = spark.createDataFrame(
        [(None, "k1", "a@x"), (None, "k1", "a@x"), (None, "k2", "b@x"), (None, "k3", "z@x")],
        "function string, subject_key string, match_value string",
    )
    values = target_values(table, "stg.users", [("email", None)])
    got = scan_values(values, subjects, _same)
    want = spark.createDataFrame(
        [("k1", "stg.users", "email", 2), ("k2", "stg.users", "email", 1)], HITS
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_scan_values_matches_on_keyed_hash(spark):
    """The raw identifier is never stored: both sides are compared as keyed hashes."""

    def keyed(c):
        return F.sha2(F.concat(F.lit("salt:"), F.lower(F.trim(c))), 256)

    def keyer(values):
        return values.withColumn("_k", keyed(F.col("_v")))

    table = spark.createDataFrame([(" A@X ",), ("a@x",), ("b@x",)], "email string")
    subjects = spark.createDataFrame([("k1", "a@x")], "subject_key string, raw string").select(
        F.lit(None).cast("string").alias("function"),
        "subject_key",
        keyed(F.col("raw")).alias("match_value"),
    )
    # a digest column is matched on its lowercased, trimmed text: " A@X " and "a@x" are one
    values = target_values(table, "mart.contacts", [("email", "sha256")]).withColumn(
        "function", F.lit(None).cast("string")
    )
    got = scan_values(values, subjects, keyer)
    want = spark.createDataFrame([("k1", "mart.contacts", "email", 2)], HITS)
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
    # without the keyed hash nothing matches (the table holds raw values)
    plain = scan_values(values, subjects, _same)
    assert_df_equality(plain, spark.createDataFrame([], HITS), ignore_nullable=True)


def _test_keyer(values):
    """A stand-in for the HMAC that anyone can compute by hand: ``k(<text>)``."""
    return values.withColumn("_k", F.concat(F.lit("k("), F.col("_v"), F.lit(")")))


MATCH_KEYS = "subject_key string, function string, match_key string"


def test_match_text_is_the_value_or_the_normalised_digest(spark):
    df = spark.createDataFrame([(7, " AB12 "), (None, None)], "id bigint, digest string")
    got = df.select(
        match_text(F.col("id"), None).alias("id"), match_text(F.col("digest"), "sha256").alias("d")
    )
    want = spark.createDataFrame([("7", "ab12"), (None, None)], "id string, d string")
    assert_df_equality(got, want, ignore_nullable=True)


def test_subject_match_values_of_a_value_column_and_of_a_hashed_copy(spark):
    subjects = spark.createDataFrame([("sk_1",), ("sk_2",), ("sk_1",)], "subject_key string")
    keys = spark.createDataFrame(
        [("sk_1", "sha256", "mk_1"), ("sk_1", "md5", "m5_1"), ("sk_9", "sha256", "mk_9")],
        MATCH_KEYS,
    )
    plain = subject_match_values(subjects, None, keys)
    assert_df_equality(
        plain,
        spark.createDataFrame(
            [("sk_1", "sk_1"), ("sk_2", "sk_2")], "subject_key string, match_value string"
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    # sk_2 has no sha256 match key: no row (the scan reports it unverifiable, never clean)
    hashed = subject_match_values(subjects, "sha256", keys)
    assert_df_equality(
        hashed,
        spark.createDataFrame([("sk_1", "mk_1")], "subject_key string, match_value string"),
        ignore_nullable=True,
    )


def test_matched_values_keys_each_distinct_value_once_by_the_columns_rule(spark):
    table = spark.createDataFrame(
        [(1, " AB "), (1, "ab"), (2, "cd"), (3, None)], "customer_id bigint, email_sha string"
    )
    by_value = spark.createDataFrame(
        [("sk_a", "k(1)"), ("sk_b", "k(9)")], "subject_key string, match_value string"
    )
    got = matched_values(table, "customer_id", None, by_value, _test_keyer)
    assert_df_equality(
        got,
        spark.createDataFrame([("1", "sk_a")], "_v string, subject_key string"),
        ignore_nullable=True,
    )
    by_digest = spark.createDataFrame([("sk_a", "k(ab)")], "subject_key string, match_value string")
    got = matched_values(table, "email_sha", "sha256", by_digest, _test_keyer)
    assert_df_equality(
        got,
        spark.createDataFrame([("ab", "sk_a")], "_v string, subject_key string"),
        ignore_nullable=True,
    )


VALUES = "asset string, column string, function string, _v string, rows long"


def test_target_values_reads_every_target_column_of_a_table_once(spark):
    table = spark.createDataFrame(
        [(1, " AB ", "x"), (1, "ab", "y"), (2, None, "z"), (None, "cd", "w")],
        "customer_id bigint, email_sha string, note string",
    )
    got = target_values(table, "mart.c", [("customer_id", None), ("email_sha", "sha256")])
    want = spark.createDataFrame(
        [
            ("mart.c", "customer_id", None, "1", 2),
            ("mart.c", "customer_id", None, "2", 1),
            ("mart.c", "email_sha", "sha256", "ab", 2),  # " AB " and "ab": one digest text
            ("mart.c", "email_sha", "sha256", "cd", 1),
        ],
        VALUES,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_subjects_by_function_holds_the_value_and_each_hash(spark):
    subjects = spark.createDataFrame([("sk_1",), ("sk_2",)], "subject_key string")
    keys = spark.createDataFrame(
        [("sk_1", "sha256", "mk_1"), ("sk_2", "md5", "m5_2"), ("sk_9", "sha256", "mk_9")],
        MATCH_KEYS,
    )
    got = subjects_by_function(subjects, ["sha256", "md5", "sha256"], keys)
    want = spark.createDataFrame(
        [
            (None, "sk_1", "sk_1"),
            (None, "sk_2", "sk_2"),
            ("sha256", "sk_1", "mk_1"),
            ("md5", "sk_2", "m5_2"),
        ],
        "function string, subject_key string, match_value string",
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_scan_values_counts_rows_per_subject_and_column_matching_by_function(spark):
    values = spark.createDataFrame(
        [
            ("mart.c", "customer_id", None, "1", 2),
            ("mart.c", "customer_id", None, "2", 1),
            ("mart.c", "email_sha", "sha256", "ab", 3),
            ("stg.o", "cust", None, "1", 4),
            # the digest text "1" under sha256 is not subject sk_a's value match
            ("stg.o", "cust_sha", "sha256", "1", 5),
        ],
        VALUES,
    )
    subjects = spark.createDataFrame(
        [(None, "sk_a", "k(1)"), ("sha256", "sk_a", "k(ab)"), (None, "sk_b", "k(9)")],
        "function string, subject_key string, match_value string",
    )
    got = scan_values(values, subjects, _test_keyer)
    want = spark.createDataFrame(
        [
            ("sk_a", "mart.c", "customer_id", 2),
            ("sk_a", "mart.c", "email_sha", 3),
            ("sk_a", "stg.o", "cust", 4),
        ],
        HITS,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_the_closure_of_one_run_date_at_each_level(spark):
    from datetime import date

    rows = [
        ("column", "crm.c", "email", "stg.c", "email", 1, 0.9, date(2026, 1, 2)),
        ("column", "crm.c", "email", "old.c", "email", 1, 0.9, date(2026, 1, 1)),
        ("table", "crm.c", None, "mart.m", None, 2, 0.8, date(2026, 1, 2)),
    ]
    stored = spark.createDataFrame(
        rows,
        "level string, source_asset string, source_column string, target_asset string, "
        "target_column string, depth int, confidence double, run_date date",
    )
    assert_df_equality(
        column_closure(stored, date(2026, 1, 2)),
        spark.createDataFrame(
            [("crm.c.email", "stg.c.email", 1, 0.9)],
            "source string, node string, depth int, confidence double",
        ),
        ignore_nullable=True,
    )
    assert_df_equality(
        table_closure(stored, date(2026, 1, 2)),
        spark.createDataFrame([("crm.c", "mart.m")], "source_asset string, target_asset string"),
        ignore_nullable=True,
    )


def test_which_asset_kinds_a_scan_can_read():
    assert [k for k in ("table", "view", "stream", "model", "file", None) if scannable(k)] == [
        "table",
        "view",
        "file",
        None,
    ]


def test_residual_findings(spark):
    cutoff = T0 + 10 * D
    hits = spark.createDataFrame(
        [
            ("k1", "stg.users", "email", 2),
            ("k2", "stg.users", "email", 1),
            ("k3", "stg.users", "email", 4),  # deletion not completed yet
            ("k4", "stg.users", "email", 1),  # completed after the cutoff
            ("k5", "stg.users", "email", 0),  # no rows: not a finding
        ],
        HITS,
    )
    requests = spark.createDataFrame(
        [
            ("d1", "k1", "user", T0, 30),
            ("d5", "k1", "user", T0, 30),
            ("d2", "k2", "user", T0, None),
            ("d3", "k3", "user", T0, 30),
            ("d4", "k4", "user", T0, 30),
            ("d6", "k5", "user", T0, 30),
        ],
        "deletion_id string, subject_key string, subject_type string, requested_at timestamp, "
        "sla_days int",
    )
    completions = spark.createDataFrame(
        [
            ("d1", T0 + 2.5 * D),
            ("d1", T0 + 3 * D),
            ("d2", cutoff),
            ("d4", cutoff + D),
            ("d6", T0),
        ],
        "deletion_id string, deleted_at timestamp",
    )
    unreadable = spark.createDataFrame(
        [("lake.raw_users", "email", "path not found")],
        "asset string, column string, reason string",
    )
    got = residual_findings(hits, requests, completions, cutoff, unverifiable=unreadable)
    want = spark.createDataFrame(
        [
            (
                "d1",
                "k1",
                "stg.users",
                "email",
                2,
                T0 + 2.5 * D,
                7,
                "residual",
                "2 row(s) still hold the subject's identifier in stg.users.email",
            ),
            (
                "d2",
                "k2",
                "stg.users",
                "email",
                1,
                cutoff,
                0,
                "residual",
                "1 row(s) still hold the subject's identifier in stg.users.email",
            ),
            (
                None,
                None,
                "lake.raw_users",
                "email",
                None,
                None,
                None,
                "unverifiable",
                "lineage says this column carries an identifier but it could not be read: "
                "path not found",
            ),
        ],
        FINDINGS,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_completions_from_events(spark):
    events = spark.createDataFrame(
        [
            ("d1", "started", T0),
            ("d1", "completed", T0 + D),
            ("d1", "completed", T0 + 2 * D),
            ("d2", "completed", T0 + 5 * D),
            ("d3", "progress", T0),
        ],
        "deletion_id string, event string, ts timestamp",
    )
    got = completions_from_events(events, T0 + 3 * D)
    want = spark.createDataFrame([("d1", T0 + D)], "deletion_id string, deleted_at timestamp")
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_identifier_targets_name_a_struct_field_by_its_table_not_by_its_last_dot(spark):
    edges = spark.createDataFrame(
        [
            (
                "crm.users",
                "profile.customer_id",
                "stg.u",
                "customer_id",
                "DIRECT",
                "IDENTITY",
                False,
            ),
            ("stg.u", "customer_id", "pg.public.accounts", "cid", "DIRECT", "IDENTITY", False),
        ],
        EDGES,
    )
    closure_df = spark.createDataFrame(
        [
            ("crm.users.profile.customer_id", "stg.u.customer_id", 1, 1.0),
            ("crm.users.profile.customer_id", "pg.public.accounts.cid", 2, 1.0),
        ],
        "source string, node string, depth int, confidence double",
    )
    identifiers = spark.createDataFrame(
        [("crm.users", "profile.customer_id")], "asset string, column string"
    )
    got = identifier_targets(closure_df, identifiers, edges)
    want = spark.createDataFrame(
        [
            ("crm.users", "profile.customer_id", "crm.users.profile.customer_id"),
            ("stg.u", "customer_id", "crm.users.profile.customer_id"),
            ("pg.public.accounts", "cid", "crm.users.profile.customer_id"),
        ],
        TARGETS,
    )
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)
