"""Retention audits: rows kept past their category's retention, and Delta history kept too long.

Two kinds of ``retention_violations`` rows share one schema (:data:`RETENTION_COLUMNS`):

- ``rows``: :func:`retention_violations` finds rows of an audited table whose timestamp column is
  older than the retention of the column's data category (one aggregation over the table);
- ``delta_history``: :func:`delta_retention_violations` checks the product's own Delta tables:
  deleted rows stay readable through time travel until VACUUM removes the files, and the
  transaction log keeps per-file column statistics (min/max values) for ``logRetentionDuration``.
  So a table holding personal data whose ``delta.deletedFileRetentionDuration`` or
  ``delta.logRetentionDuration`` exceeds the retention of a category it holds is a violation.

A table holding personal data that cannot be checked (no Delta table, no usable time column) gets
one ``not_checked`` row (:func:`not_checked_row`) instead of being skipped silently; the time
column is the catalog's ``time_column`` of the asset, else one of :data:`DEFAULT_TIME_COLUMNS`
(:func:`time_column`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.lifecycle.time import (
    MICROS_PER_DAY,
    DurationError,
    micros,
    micros_lit,
    parse_duration,
    to_utc,
)
from audits.messages import message
from core.categories import most_specific

#: Columns of the ``retention_violations`` table.
RETENTION_COLUMNS: tuple[str, ...] = (
    "table",
    "column",
    "data_category",
    "oldest",
    "rows_over",
    "days_over",
    "kind",
    "detail",
)

#: Time columns recognised when the catalog declares none for an asset, in order of preference.
DEFAULT_TIME_COLUMNS: tuple[str, ...] = ("created_at", "event_time", "ts", "updated_at")

#: Spark type names (``simpleString``) that can date a row.
TIME_TYPES: tuple[str, ...] = ("timestamp", "timestamp_ntz", "date")

#: Delta's defaults when a table does not set the property.
DELTA_RETENTION_DEFAULTS: dict[str, timedelta] = {
    "delta.deletedFileRetentionDuration": timedelta(days=7),
    "delta.logRetentionDuration": timedelta(days=30),
}


def category_retention(category: str | None, retention_days_map: Mapping[str, int]) -> int | None:
    """The retention in days of a data category: the most specific dotted prefix wins.

    ``user.contact.email`` takes the entry for ``user.contact.email``, else ``user.contact``, else
    ``user``; prefixes match whole segments only (``user.contact`` does not cover
    ``user.contactless``). Matching ignores case.

    Args:
        category: a dotted data category, or None.
        retention_days_map: category (or prefix) -> retention days, from the catalog.

    Returns:
        The retention in days, or None when no entry covers the category.

    Example:
        >>> category_retention("user.contact.email", {"user": 365, "user.contact": 90})
        90
    """
    days = most_specific(retention_days_map, category)
    return None if days is None else int(days)


def retention_violations(
    table_df: DataFrame,
    *,
    table: str,
    column: str,
    category: str,
    retention_days: int,
    ts_column: str,
    cutoff: datetime,
) -> DataFrame:
    """Rows of one table column kept longer than the retention of the column's category.

    A row is over retention when its ``ts_column`` is strictly before ``cutoff - retention_days``
    and ``column`` is not null (a nulled-out value no longer holds the personal data). A row
    exactly ``retention_days`` old is within retention.

    Args:
        table_df: the audited table.
        table: its fully qualified name (for the output row).
        column: the personal data column.
        category: the column's data category.
        retention_days: the category's retention (see :func:`category_retention`).
        ts_column: the timestamp (or date) column that dates each row.
        cutoff: the run's cutoff instant (naive = UTC).

    Returns:
        DataFrame with :data:`RETENTION_COLUMNS`: one row (``kind`` ``rows``; ``oldest`` is the
        oldest row's timestamp, ``rows_over`` the count, ``days_over`` how many days past the
        limit the oldest row is, rounded up) or no row when nothing is over.
    """
    return table_retention_violations(
        table_df,
        table=table,
        columns=[(column, category, retention_days)],
        ts_column=ts_column,
        cutoff=cutoff,
    )


def table_retention_violations(
    table_df: DataFrame,
    *,
    table: str,
    columns: list[tuple[str, str, int]],
    ts_column: str,
    cutoff: datetime,
) -> DataFrame:
    """:func:`retention_violations` of several columns of one table in ONE aggregation.

    Args:
        columns: ``(column, data category, retention days)`` per personal data column.
        (the others as :func:`retention_violations`)

    Returns:
        DataFrame with :data:`RETENTION_COLUMNS`, a row per column with rows over retention.
    """
    ts_us = F.unix_micros(F.col(ts_column).cast("timestamp"))
    aggs = []
    for i, (column, _category, days) in enumerate(columns):
        limit = micros_lit(cutoff) - F.lit(days * MICROS_PER_DAY)
        over = F.col(f"`{column}`").isNotNull() & (ts_us < limit)
        aggs += [
            F.min(F.when(over, ts_us)).alias(f"_oldest{i}"),
            F.count(F.when(over, F.lit(1))).alias(f"_n{i}"),
        ]
    per_column = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(column).alias("column"),
                    F.lit(category).alias("data_category"),
                    F.lit(days).cast("long").alias("_days"),
                    F.col(f"_oldest{i}").alias("_oldest"),
                    F.col(f"_n{i}").cast("long").alias("rows_over"),
                )
                for i, (column, category, days) in enumerate(columns)
            ]
        )
    ).alias("_c")
    over = table_df.agg(*aggs).select(per_column).select("_c.*").where(F.col("rows_over") > 0)
    limit = micros_lit(cutoff) - F.col("_days") * F.lit(MICROS_PER_DAY)
    days_over = F.ceil((limit - F.col("_oldest")) / F.lit(MICROS_PER_DAY)).cast("long")
    return over.select(
        F.lit(table).alias("table"),
        "column",
        "data_category",
        F.timestamp_micros("_oldest").alias("oldest"),
        "rows_over",
        days_over.alias("days_over"),
        F.lit("rows").alias("kind"),
        message(
            "{rows_over} row(s) with {column} older than {_days} days (before {limit}) as of {as_of}",
            limit=F.date_format(F.timestamp_micros(limit), "yyyy-MM-dd'T'HH:mm:ss'Z'"),
            as_of=F.lit(_iso(cutoff)),
        ).alias("detail"),
    )


def time_column(
    fields: Iterable[tuple[str, str]], declared: str | None
) -> tuple[str | None, str | None]:
    """The column that dates each row of a table, or why there is none.

    Args:
        fields: the table's ``(column name, Spark simpleString type)`` pairs, in order.
        declared: the catalog's ``time_column`` of the asset, or None.

    Returns:
        ``(column, None)`` when usable, else ``(None, reason)``: a declared column missing from
        the table or not a timestamp/date is reported, never replaced by a guessed one; without a
        declaration the first of :data:`DEFAULT_TIME_COLUMNS` present with a time type is taken.

    Example:
        >>> time_column([("id", "bigint"), ("sent_at", "timestamp")], "sent_at")
        ('sent_at', None)
        >>> time_column([("id", "bigint"), ("sent_at", "timestamp")], None)[1]
        'no time column: none of created_at, event_time, ts, updated_at is a timestamp or date; \
declare time_column in the catalog'
    """
    types = dict(fields)
    if declared is not None:
        if declared not in types:
            return None, f"time column {declared} (declared in the catalog) is not in the table"
        if types[declared] not in TIME_TYPES:
            return None, (
                f"time column {declared} (declared in the catalog) is "
                f"{types[declared]}, not a timestamp or date"
            )
        return declared, None
    for name in DEFAULT_TIME_COLUMNS:
        if types.get(name) in TIME_TYPES:
            return name, None
    return None, (
        "no time column: none of "
        + ", ".join(DEFAULT_TIME_COLUMNS)
        + " is a timestamp or date; declare time_column in the catalog"
    )


def not_checked_row(table: str, categories: Iterable[str], reason: str) -> dict[str, Any]:
    """The ``retention_violations`` row (kind ``not_checked``) of a table the audit could not check.

    Args:
        table: the table name.
        categories: the personal data categories of its catalog columns.
        reason: why it was not checked.
    """
    cats = sorted(set(categories))
    return {
        "table": table,
        "column": None,
        "data_category": ",".join(cats) or None,
        "oldest": None,
        "rows_over": None,
        "days_over": None,
        "kind": "not_checked",
        "detail": f"retention not checked: {reason}",
    }


def _iso(moment: datetime) -> str:
    return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DeltaRetentionViolation:
    """A product Delta table whose history outlives the retention of data it holds."""

    table: str
    """The table name."""
    data_category: str
    """The held category with the strictest retention."""
    property: str
    """The Delta property at fault (``delta.deletedFileRetentionDuration`` or ...Log...)."""
    configured: timedelta
    """The effective value (Delta's default when unset)."""
    allowed_days: int
    """The category's retention in days."""

    @property
    def days_over(self) -> int:
        """Days by which the history retention exceeds the allowed retention, rounded up."""
        return math.ceil((self.configured - timedelta(days=self.allowed_days)) / timedelta(days=1))

    def to_row(self) -> dict[str, Any]:
        """The violation as a ``retention_violations`` row (:data:`RETENTION_COLUMNS`)."""
        days = self.configured / timedelta(days=1)
        return {
            "table": self.table,
            "column": None,
            "data_category": self.data_category,
            "oldest": None,
            "rows_over": None,
            "days_over": self.days_over,
            "kind": "delta_history",
            "detail": (
                f"{self.property} is {days:g} days, longer than the {self.allowed_days}-day "
                f"retention of {self.data_category}: deleted rows stay readable until VACUUM"
            ),
        }


def delta_retention_violations(
    tables_props: Iterable[Mapping[str, Any]],
    retention_days_map: Mapping[str, int],
) -> list[DeltaRetentionViolation]:
    """Check the time-travel/VACUUM retention of the product's own Delta tables.

    Args:
        tables_props: one mapping per table: ``table`` (name), ``data_categories`` (the personal
            data categories the table holds; empty or missing = no personal data) and
            ``properties`` (its Delta table properties; unset ones take Delta's defaults, see
            :data:`DELTA_RETENTION_DEFAULTS`). Values look like ``interval 7 days``, ``168 hours``.
        retention_days_map: category (or prefix) -> retention days.

    Returns:
        One violation per (table, property) whose duration exceeds the strictest retention of
        the categories held (a duration equal to the retention is allowed), sorted by table.

    Raises:
        DurationError: a retention property that is not a duration; the message names the table.
    """
    found: list[DeltaRetentionViolation] = []
    for info in tables_props:
        name = str(info["table"])
        limits = [
            (days, cat)
            for cat in info.get("data_categories") or ()
            if (days := category_retention(cat, retention_days_map)) is not None
        ]
        if not limits:
            continue
        allowed, category = min(limits)
        props = info.get("properties") or {}
        for prop, default in DELTA_RETENTION_DEFAULTS.items():
            raw = props.get(prop)
            try:
                configured = default if raw is None else parse_duration(raw, name=prop)
            except DurationError as exc:
                raise DurationError(f"table {name}: {exc}") from exc
            if micros(configured) > allowed * MICROS_PER_DAY:
                found.append(DeltaRetentionViolation(name, category, prop, configured, allowed))
    return sorted(found, key=lambda v: (v.table, v.property))


__all__ = [
    "DEFAULT_TIME_COLUMNS",
    "DELTA_RETENTION_DEFAULTS",
    "RETENTION_COLUMNS",
    "DeltaRetentionViolation",
    "category_retention",
    "delta_retention_violations",
    "not_checked_row",
    "retention_violations",
    "time_column",
]
