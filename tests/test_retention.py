"""Retention audits: rows past their category retention, and Delta history retention."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T

from audits.lifecycle.time import DurationError
from audits.retention import (
    DeltaRetentionViolation,
    category_retention,
    delta_retention_violations,
    retention_violations,
)

UTC = timezone.utc
CUTOFF = datetime(2026, 3, 1, tzinfo=UTC)
S = timedelta(seconds=1)
D = timedelta(days=1)

OUT = T.StructType(
    [
        T.StructField("table", T.StringType()),
        T.StructField("column", T.StringType()),
        T.StructField("data_category", T.StringType()),
        T.StructField("oldest", T.TimestampType()),
        T.StructField("rows_over", T.LongType()),
        T.StructField("days_over", T.LongType()),
        T.StructField("kind", T.StringType()),
        T.StructField("detail", T.StringType()),
    ]
)
TABLE = T.StructType(
    [
        T.StructField("email", T.StringType()),
        T.StructField("created_at", T.TimestampType()),
    ]
)

RETENTION = {"user": 365, "user.contact": 90, "user.contact.email": 30, "system": 1000}


@pytest.mark.parametrize(
    ("category", "days"),
    [
        ("user.contact.email", 30),
        ("user.contact.phone", 90),
        ("user.contact", 90),
        ("user.contactless.card", 365),  # whole segments only
        ("User.Financial", 365),
        ("userx", None),
        ("", None),
        (None, None),
    ],
)
def test_category_retention_most_specific_prefix_wins(category, days):
    assert category_retention(category, RETENTION) == days


def run(spark, rows, retention_days=30):
    df = spark.createDataFrame(rows, TABLE)
    return retention_violations(
        df,
        table="crm.customers",
        column="email",
        category="user.contact.email",
        retention_days=retention_days,
        ts_column="created_at",
        cutoff=CUTOFF,
    )


def test_rows_over_retention_with_boundary(spark):
    limit = CUTOFF - 30 * D
    rows = [
        ("a@x", limit),  # exactly 30 days old: within retention
        ("b@x", limit - S),  # one second over
        ("c@x", limit - 3 * D - S),  # oldest, 3 days and 1 second over -> 4 days (rounded up)
        (None, limit - 100 * D),  # value already nulled out: not personal data any more
        ("d@x", CUTOFF),
    ]
    want = spark.createDataFrame(
        [
            (
                "crm.customers",
                "email",
                "user.contact.email",
                limit - 3 * D - S,
                2,
                4,
                "rows",
                "2 row(s) with email older than 30 days (before 2026-01-30T00:00:00Z) as of "
                "2026-03-01T00:00:00Z",
            )
        ],
        OUT,
    )
    assert_df_equality(run(spark, rows), want, ignore_nullable=True)


def test_no_row_when_nothing_is_over(spark):
    limit = CUTOFF - 30 * D
    rows = [("a@x", limit), ("b@x", CUTOFF - D), (None, limit - D)]
    assert_df_equality(run(spark, rows), spark.createDataFrame([], OUT), ignore_nullable=True)


def test_date_column(spark):
    schema = T.StructType(
        [T.StructField("email", T.StringType()), T.StructField("day", T.DateType())]
    )
    df = spark.createDataFrame([("a@x", date(2026, 1, 30)), ("b@x", date(2026, 1, 29))], schema)
    got = retention_violations(
        df,
        table="t",
        column="email",
        category="user",
        retention_days=30,
        ts_column="day",
        cutoff=CUTOFF,
    )
    want = spark.createDataFrame(
        [
            (
                "t",
                "email",
                "user",
                datetime(2026, 1, 29, tzinfo=UTC),
                1,
                1,
                "rows",
                "1 row(s) with email older than 30 days (before 2026-01-30T00:00:00Z) as of "
                "2026-03-01T00:00:00Z",
            )
        ],
        OUT,
    )
    assert_df_equality(got, want, ignore_nullable=True)


def test_delta_history_retention():
    tables = [
        # defaults: 7 days of deleted files, 30 days of log -> log over a 10-day retention
        {"table": "residual_findings", "data_categories": ["user.unique_id"], "properties": {}},
        # explicit and within retention (equal is allowed)
        {
            "table": "deletion_events",
            "data_categories": ["user.unique_id"],
            "properties": {
                "delta.deletedFileRetentionDuration": "interval 240 hours",
                "delta.logRetentionDuration": "interval 10 days",
            },
        },
        # the strictest category held (30 days) decides: only the log is over
        {
            "table": "lineage_closure",
            "data_categories": ["system.operations", "user.contact.email"],
            "properties": {
                "delta.deletedFileRetentionDuration": "interval 2 weeks",
                "delta.logRetentionDuration": "interval 31 days",
            },
        },
        # no personal data: never a violation
        {
            "table": "run_manifest",
            "data_categories": [],
            "properties": {"delta.logRetentionDuration": "interval 365 days"},
        },
        # categories without a configured retention: nothing to compare with
        {"table": "assets", "data_categories": ["system.operations"], "properties": {}},
    ]
    retention = {"user.unique_id": 10, "user.contact.email": 30}
    got = delta_retention_violations(tables, retention)
    assert got == [
        DeltaRetentionViolation(
            "lineage_closure",
            "user.contact.email",
            "delta.logRetentionDuration",
            timedelta(days=31),
            30,
        ),
        DeltaRetentionViolation(
            "residual_findings",
            "user.unique_id",
            "delta.logRetentionDuration",
            timedelta(days=30),
            10,
        ),
    ]
    assert [v.days_over for v in got] == [1, 20]
    assert got[1].to_row() == {
        "table": "residual_findings",
        "column": None,
        "data_category": "user.unique_id",
        "oldest": None,
        "rows_over": None,
        "days_over": 20,
        "kind": "delta_history",
        "detail": "delta.logRetentionDuration is 30 days, longer than the 10-day retention of "
        "user.unique_id: deleted rows stay readable until VACUUM",
    }
    tables[2]["properties"]["delta.deletedFileRetentionDuration"] = "interval 30 days 1 second"
    with pytest.raises(DurationError, match="table lineage_closure: delta.deletedFile"):
        delta_retention_violations(tables, retention)


def test_delta_history_one_second_over():
    tables = [
        {
            "table": "t",
            "data_categories": ["user"],
            "properties": {
                "delta.deletedFileRetentionDuration": f"{7 * 86400 + 1} seconds",
                "delta.logRetentionDuration": "7 days",
            },
        }
    ]
    got = delta_retention_violations(tables, {"user": 7})
    assert got == [
        DeltaRetentionViolation(
            "t", "user", "delta.deletedFileRetentionDuration", timedelta(days=7, seconds=1), 7
        )
    ]
    assert got[0].days_over == 1
