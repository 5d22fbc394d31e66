"""Shared pieces of the purge, restore and log-audit jobs (issue 6, items 3-5).

* table names and schemas of the bookkeeping tables (``purge_journal``, ``restore_journal``,
  ``restoration_log_health``);
* the deterministic JSON form of a row (:func:`row_json`) and its inverse (:func:`parse_rows`),
  exact for timestamps to the microsecond, decimals, binaries (base64) and nested types;
* deterministic entry ids (:func:`entry_id_batches`): a keyed hash (the pseudonymisation key) of
  table, row JSON and occurrence number, so a rerun of a purge rewrites the same entries and an
  entry id reveals nothing about the row without the key;
* the injected clock (:func:`resolve_now`) and the restoration window;
* the content multiset used by both purge recovery and restore: how many copies of each
  decrypted row are present in the audited table (:func:`present_copies`).

Key material only ever enters ``mapInArrow`` closures here (never a column, literal or log line).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, MapType, StringType, StructField, StructType

from jobs.context import JobContext
from jobs.secrets.pseudonym import PseudonymKey
from jobs.store.schemas import SCHEMAS
from jobs.store.tables import TableStore

LOG_TABLE = "restoration_log"
JOURNAL_TABLE = "purge_journal"
RESTORES_TABLE = "restore_journal"
HEALTH_TABLE = "restoration_log_health"

#: One row per (purge, deletion): the commit protocol's state (pending -> committed|abandoned).
JOURNAL_SCHEMA = str(SCHEMAS["purge_journal"])
#: One row per (entry, entry written at, outcome) of a restore.
RESTORES_SCHEMA = str(SCHEMAS["restore_journal"])

#: ``to_json``/``from_json`` options that make the JSON exact (microsecond timestamps, UTC).
JSON_OPTIONS = {
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "timestampNTZFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSS",
    "dateFormat": "yyyy-MM-dd",
}

BatchFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def window_days(ctx: JobContext) -> int:
    """The restoration window (``retention.restoration_days``, default 90)."""
    return int(ctx.cfg.retention.restoration_days)


def resolve_now(ctx: JobContext, now: datetime | None) -> datetime:
    """The injected clock as a naive UTC timestamp.

    Args:
        ctx: the job context; its ``run_date`` is the default day.
        now: an explicit instant (tests inject "91 days ago"); an aware one is converted to UTC.

    Returns:
        ``now``, or the run date at the current UTC time of day.
    """
    if now is None:
        return datetime.combine(ctx.run_date, datetime.now(UTC).time().replace(tzinfo=None))
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now


def day_start(day: date) -> datetime:
    """Midnight (naive UTC) of a day."""
    return datetime.combine(day, time())


def expired_before(today: date, window: int) -> date:
    """Entries written on or before this day are past the window (their key is destroyed)."""
    return today - timedelta(days=window)


def row_json(df: DataFrame) -> Column:
    """The deterministic JSON of each row: sorted keys, exact timestamps, binaries as base64.

    Equal rows give equal strings, so the JSON doubles as the row's content for matching.
    """
    fields = sorted(df.schema.fields, key=lambda f: f.name)
    cols = [
        F.base64(F.col(f"`{f.name}`")).alias(f.name)
        if isinstance(f.dataType, BinaryType)
        else F.col(f"`{f.name}`")
        for f in fields
    ]
    return F.to_json(F.struct(*cols), JSON_OPTIONS)


def parse_rows(df: DataFrame, json_col: str, schema: StructType) -> DataFrame:
    """Rows of ``schema`` from their :func:`row_json` text (the inverse of :func:`row_json`)."""
    parsed = df.select(F.from_json(F.col(json_col), _text_schema(schema), JSON_OPTIONS).alias("_r"))
    return parsed.select(
        *[
            F.unbase64(F.col(f"_r.`{f.name}`")).alias(f.name)
            if isinstance(f.dataType, BinaryType)
            else F.col(f"_r.`{f.name}`").alias(f.name)
            for f in schema.fields
        ]
    )


def _text_schema(schema: StructType) -> StructType:
    """``schema`` with binary columns as strings (they travel as base64) and all nullable."""
    return StructType(
        [
            StructField(
                f.name, StringType() if isinstance(f.dataType, BinaryType) else f.dataType, True
            )
            for f in schema.fields
        ]
    )


def comparable_columns(schema: StructType) -> list[str]:
    """Columns usable in an equality join (map columns are not comparable in Spark)."""
    return [f.name for f in schema.fields if not isinstance(f.dataType, MapType)]


def entry_id_batches(pkey: PseudonymKey) -> BatchFn:
    """A ``mapInArrow`` function adding ``entry_id`` to batches of (table, row_json, occurrence).

    The id is ``re_`` + 32 hex characters of HMAC-SHA-256 under the pseudonymisation key over
    ``"restoration-entry", table, row_json, occurrence`` (NUL-separated): deterministic, so a rerun
    rewrites the same entries, and useless as a fingerprint of the row without the key.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            tables = batch.column(batch.schema.get_field_index("table")).to_pylist()
            rows = batch.column(batch.schema.get_field_index("row_json")).to_pylist()
            occ = batch.column(batch.schema.get_field_index("occurrence")).to_pylist()
            ids = [
                "re_" + pkey.subject_key(f"restoration-entry\x00{t}\x00{r}\x00{n}")[3:]
                for t, r, n in zip(tables, rows, occ, strict=False)
            ]
            yield batch.append_column("entry_id", pa.array(ids, pa.string()))

    return run


def with_entry_ids(df: DataFrame, pkey: PseudonymKey) -> DataFrame:
    """``df`` (with table, row_json, occurrence) plus its deterministic ``entry_id``."""
    schema = StructType([*df.schema.fields, StructField("entry_id", StringType(), True)])
    return df.mapInArrow(entry_id_batches(pkey), schema)


def present_copies(table_df: DataFrame, wanted: DataFrame) -> DataFrame:
    """How many rows of ``table_df`` have each content of ``wanted``.

    Args:
        table_df: the audited table's rows.
        wanted: DataFrame with a ``row_json`` column (decrypted entries).

    Returns:
        DataFrame[row_json string, present long] for every distinct ``row_json`` of ``wanted``
        (0 when no copy is present).
    """
    keys = wanted.select("row_json").distinct()
    have = (
        table_df.select(row_json(table_df).alias("row_json"))
        .join(keys, "row_json", "left_semi")
        .groupBy("row_json")
        .agg(F.count(F.lit(1)).alias("present"))
    )
    return keys.join(have, "row_json", "left").select(
        "row_json", F.coalesce(F.col("present"), F.lit(0)).cast("long").alias("present")
    )


def rows_with_content(table_df: DataFrame, contents: DataFrame) -> DataFrame:
    """The rows of ``table_df`` whose :func:`row_json` is among ``contents.row_json``."""
    keys = contents.select(F.col("row_json").alias("_rj")).distinct()
    return table_df.withColumn("_rj", row_json(table_df)).join(keys, "_rj", "left_semi").drop("_rj")


def ensure_log_properties(ctx: JobContext) -> None:
    """Keep ``restoration_log``'s time travel within the window (DESIGN.md §4, issue 6 item 5).

    Removed files are kept at most ``min(storage.vacuum_retention_hours, window)`` and the Delta
    log at most ``min(30 days, window)``, so VACUUM never keeps an entry longer than the window.
    """
    store: TableStore = ctx.store
    if not store.exists(LOG_TABLE):
        return
    hours = vacuum_hours(ctx)
    want = {
        "delta.deletedFileRetentionDuration": f"interval {hours} hours",
        "delta.logRetentionDuration": f"interval {min(30, window_days(ctx))} days",
    }
    have = store.properties(LOG_TABLE)
    if any(have.get(k) != v for k, v in want.items()):
        store.set_properties(LOG_TABLE, want)


def vacuum_hours(ctx: JobContext) -> int:
    """VACUUM retention for ``restoration_log``: never longer than the window."""
    return int(min(ctx.cfg.storage.vacuum_retention_hours, window_days(ctx) * 24))


def purge_id_for(table: str, selection: str | None, now: datetime) -> str:
    """A purge attempt's id: a hash of table, selection and start time (``pg_`` + 16 hex)."""
    text = f"{table}\x00{selection or '*'}\x00{now.isoformat()}"
    return "pg_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


MAX_LISTED = 20
"""Entry ids listed at most in a report line (the count is always exact)."""


def tampered_entry_ids(opened: DataFrame) -> list[str]:
    """The first :data:`MAX_LISTED` entry ids (sorted) of the entries whose status is tampered."""
    return [
        r.entry_id
        for r in opened.filter(F.col("status") == "tampered")
        .select("entry_id")
        .orderBy("entry_id")
        .limit(MAX_LISTED)
        .collect()
    ]
