"""Night-to-night tracking of lifecycle anomalies, and the row-level checks of deletion events.

``track_anomalies`` turns tonight's findings into the new state of the ``deletion_anomalies``
table; ``validate_events`` splits raw deletion events into accepted rows and rejected rows with a
reason (the job writes the latter to ``rejected_inputs``).
"""

from __future__ import annotations

from datetime import date, datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from audits.lifecycle.time import ts_lit

#: Columns of the ``deletion_anomalies`` table written by :func:`track_anomalies`.
ANOMALY_COLUMNS: tuple[str, ...] = (
    "deletion_id",
    "check",
    "detail",
    "first_detected",
    "last_detected",
    "status",
    "resolved_on",
    "run_date",
)

#: Reasons :func:`validate_events` may give, in the order they are listed in ``reason``.
EVENT_REJECTION_REASONS: tuple[str, ...] = (
    "missing_deletion_id",
    "unknown_deletion_id",
    "missing_timestamp",
    "future_timestamp",
    "unknown_event",
    "negative_points_deleted",
)

EVENT_TYPES: tuple[str, ...] = (
    "scheduled",
    "started",
    "progress",
    "rerun",
    "exception",
    "completed",
)


def track_anomalies(
    previous: DataFrame | None,
    current: DataFrame,
    run_date: date,
    *,
    keep_resolved_days: int | None = None,
) -> DataFrame:
    """Merge tonight's anomalies into the tracked state of ``deletion_anomalies``.

    One row per (deletion_id, check) ever detected:

    - detected tonight: ``status`` ``open``, ``detail`` and ``last_detected`` from tonight;
      ``first_detected`` is kept from the previous state while the row stayed open (a stuck
      deletion is reported once and tracked), else it is tonight's ``detected_at`` (new, or
      re-opened after having been resolved);
    - open before, not detected tonight: ``status`` ``resolved``, ``resolved_on`` = ``run_date``;
    - resolved before, not detected tonight: kept unchanged (history), unless it was resolved
      more than ``keep_resolved_days`` before ``run_date`` (then dropped).

    Every row gets ``run_date``. Running it again for the same run date with its own output as
    ``previous`` returns the same table (idempotent).

    Args:
        previous: the table as last written (None or empty on the first night). Tables written
            with only the design's columns (no status/last_detected/resolved_on) are accepted.
        current: output of :func:`audits.lifecycle.rules.lifecycle_anomalies`.
        run_date: the run date.
        keep_resolved_days: drop resolved rows older than this many days; None keeps them all.

    Returns:
        DataFrame with the columns of :data:`ANOMALY_COLUMNS`.
    """
    run = F.lit(run_date).cast("date")
    cur = current.select(
        "deletion_id",
        "check",
        F.col("detail").alias("c_detail"),
        F.col("detected_at").alias("c_at"),
        F.lit(True).alias("c_present"),
    )
    if previous is None:
        return cur.select(
            "deletion_id",
            "check",
            F.col("c_detail").alias("detail"),
            F.col("c_at").alias("first_detected"),
            F.col("c_at").alias("last_detected"),
            F.lit("open").alias("status"),
            F.lit(None).cast("date").alias("resolved_on"),
            run.alias("run_date"),
        )
    prev = previous.select(
        "deletion_id",
        "check",
        F.col("detail").alias("p_detail"),
        F.col("first_detected").alias("p_first"),
        _col_or(previous, "last_detected", F.col("first_detected")).alias("p_last"),
        _col_or(previous, "status", F.lit("open")).alias("p_status"),
        _col_or(previous, "resolved_on", F.lit(None).cast("date")).cast("date").alias("p_resolved"),
    )
    j = prev.join(cur, ["deletion_id", "check"], "full_outer")
    detected = F.col("c_present").isNotNull()
    was_open = F.col("p_status") == F.lit("open")
    out = j.select(
        "deletion_id",
        "check",
        F.when(detected, F.col("c_detail")).otherwise(F.col("p_detail")).alias("detail"),
        F.when(detected & was_open, F.least("p_first", "c_at"))
        .when(detected, F.col("c_at"))
        .otherwise(F.col("p_first"))
        .alias("first_detected"),
        F.when(detected, F.col("c_at")).otherwise(F.col("p_last")).alias("last_detected"),
        F.when(detected, F.lit("open")).otherwise(F.lit("resolved")).alias("status"),
        F.when(detected, F.lit(None).cast("date"))
        .when(was_open, run)
        .otherwise(F.col("p_resolved"))
        .alias("resolved_on"),
        run.alias("run_date"),
    )
    if keep_resolved_days is not None:
        out = out.where(
            (F.col("status") == "open")
            | F.col("resolved_on").isNull()
            | (F.datediff(run, F.col("resolved_on")) <= keep_resolved_days)
        )
    return out


def _col_or(df: DataFrame, name: str, default: Column) -> Column:
    return F.col(name) if name in df.columns else default


def validate_events(
    events: DataFrame,
    known_deletion_ids: DataFrame,
    cutoff: datetime,
) -> tuple[DataFrame, DataFrame]:
    """Split deletion events into accepted rows and rejected rows with their reasons.

    A row is rejected for: a null ``deletion_id`` (``missing_deletion_id``), a deletion id that no
    request knows (``unknown_deletion_id``), a null ``ts`` (``missing_timestamp``), ``ts`` after
    the cutoff (``future_timestamp``), an ``event`` outside the lifecycle vocabulary
    (``unknown_event``), and ``points_deleted < 0`` (``negative_points_deleted``). A row failing
    several checks is rejected once, its reasons joined with ``"; "`` in the order of
    :data:`EVENT_REJECTION_REASONS`. Every input row lands in exactly one of the two outputs.

    Both outputs derive from one join with the known ids; cache ``events`` if it is expensive.

    Args:
        events: raw deletion events (deletion_id, event, ts, points_deleted, ...).
        known_deletion_ids: DataFrame with a ``deletion_id`` column (the requests); duplicates ok.
        cutoff: the run's cutoff instant (naive = UTC).

    Returns:
        (accepted with the columns of ``events``, rejected with those columns plus ``reason``).
    """
    known = (
        known_deletion_ids.select(F.col("deletion_id").cast("string").alias("_known_id"))
        .where(F.col("_known_id").isNotNull())
        .distinct()
    )
    tagged = events.withColumn("_did", F.col("deletion_id").cast("string"))
    joined = tagged.join(known, tagged["_did"] == known["_known_id"], "left")
    c = F.col
    reason = F.concat_ws(
        "; ",
        F.when(c("_did").isNull(), F.lit("missing_deletion_id")),
        F.when(c("_did").isNotNull() & c("_known_id").isNull(), F.lit("unknown_deletion_id")),
        F.when(c("ts").isNull(), F.lit("missing_timestamp")),
        F.when(c("ts") > ts_lit(cutoff), F.lit("future_timestamp")),
        F.when(c("event").isNull() | ~c("event").isin(*EVENT_TYPES), F.lit("unknown_event")),
        F.when(c("points_deleted") < 0, F.lit("negative_points_deleted")),
    )
    with_reason = joined.withColumn("reason", reason)
    accepted = with_reason.where(c("reason") == "").select(*events.columns)
    rejected = with_reason.where(c("reason") != "").select(*events.columns, "reason")
    return accepted, rejected
