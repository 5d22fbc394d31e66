"""Deletion lifecycle anomaly checks (DELF §5.1): redundant tracking of deletion events.

``lifecycle_anomalies`` reads the ``deletion_events`` as of a cutoff time and returns one row per
(deletion, check) that fails. All checks are computed in ONE aggregation per deletion (a single
shuffle on ``deletion_id``) with built-in column functions only, so the check scales with the
cluster (10M events / 1M deletions: see ``tests/bench/test_bench_lifecycle.py``).

Semantics (all instants compare in microseconds, so every threshold is exact: an interval exactly
equal to its threshold passes, one microsecond more fails):

- only events with ``ts <= cutoff`` are considered (later events do not exist yet for this run);
- the *due* time of a deletion is the earliest ``scheduled_for`` of any of its events, else the
  ``ts`` of its first ``scheduled`` event; a deletion with neither has no due time;
- ``not_started_on_time``: a due time and either the first ``started`` is later than
  ``due + start_within``, or there is no ``started`` (and no completion) and the cutoff is later
  than ``due + start_within``. A late start is reported even if the deletion later completed;
- ``idle``: started, not completed, and ``cutoff - last event > idle_after``;
- ``no_progress``: not completed, at least ``progress_events`` progress/rerun events, and none of
  the last ``progress_events`` of them deleted a point (``points_deleted`` null or 0: the running
  sum did not grow; negative counts are rejected by ``validate_events``);
- ``not_completed``: not completed and ``cutoff > base + complete_within``, where ``base`` is the
  due time, else the first event. (Completed deletions are judged by ``completed_late``.);
- ``exception_loop``: ``max_exceptions`` or more ``exception`` events and no completion;
- ``completed_without_start``: completed with no ``started`` event at or before the completion;
- ``events_after_completion``: events with ``ts`` strictly after the first ``completed``;
- ``completed_late`` (only when ``requests`` are given): completed, and the time from the
  request's ``requested_at`` to the first completion exceeds ``sla_days`` (``default_sla_days``
  when the request has none) days. Deletions without a request are not judged here (an event of an
  unknown deletion id is rejected by :func:`audits.lifecycle.tracking.validate_events`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from audits.lifecycle.time import (
    MICROS_PER_DAY,
    DurationError,
    fmt_duration,
    fmt_micros,
    micros,
    micros_lit,
    parse_duration,
    ts_lit,
)
from audits.lifecycle.tracking import track_anomalies, validate_events

__all__ = [
    "CHECKS",
    "LifecycleThresholds",
    "lifecycle_anomalies",
    "track_anomalies",
    "validate_events",
]

#: Event codes used to pack (ts, event, progressed) into one long; 0 is any other event.
_EVENT_CODES = ("other", "scheduled", "started", "progress", "rerun", "exception", "completed")
_PACK_BITS = 4  # packed = ts_us << 4 | code << 1 | progressed

#: The checks, in the order their rows are produced.
CHECKS: tuple[str, ...] = (
    "not_started_on_time",
    "idle",
    "no_progress",
    "not_completed",
    "exception_loop",
    "completed_without_start",
    "events_after_completion",
    "completed_late",
)


@dataclass(frozen=True)
class LifecycleThresholds:
    """Thresholds of the lifecycle checks (config keys ``deletion.*``; defaults of issue 5)."""

    start_within: timedelta = timedelta(hours=1)
    """A scheduled deletion must start within this time of its due time."""
    idle_after: timedelta = timedelta(hours=24)
    """A started, uncompleted deletion with no event for longer than this is idle."""
    progress_events: int = 3
    """Number of trailing progress/rerun events over which ``points_deleted`` must grow."""
    complete_within: timedelta = timedelta(days=30)
    """A deletion must complete within this time of being scheduled."""
    max_exceptions: int = 5
    """This many exceptions (or more) without a completion is an exception loop."""
    default_sla_days: int = 30
    """SLA in days for requests whose ``sla_days`` is null."""

    def __post_init__(self) -> None:
        for name in ("progress_events", "max_exceptions", "default_sla_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DurationError(f"deletion.{name}: expected a positive integer, got {value!r}")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> LifecycleThresholds:
        """Build thresholds from the ``deletion`` config section; missing keys keep defaults.

        Durations may be timedeltas, seconds, or text such as ``"1h"``, ``"24h"``, ``"30d"``.

        Raises:
            DurationError: an unknown key or a value that is not a valid duration/count.

        Example:
            >>> LifecycleThresholds.from_mapping({"start_within": "2h"}).start_within
            datetime.timedelta(seconds=7200)
        """
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in (settings or {}).items():
            if key not in known:
                continue  # the deletion section holds other settings too
            if key in ("progress_events", "max_exceptions", "default_sla_days"):
                values[key] = value
            else:
                values[key] = parse_duration(value, name=f"deletion.{key}")
        return cls(**values)


def lifecycle_anomalies(
    events: DataFrame,
    *,
    cutoff: datetime,
    thresholds: LifecycleThresholds = LifecycleThresholds(),
    requests: DataFrame | None = None,
) -> DataFrame:
    """Run every lifecycle check over the deletion events as of ``cutoff``.

    Args:
        events: ``deletion_events`` (deletion_id, event, ts, scheduled_for, points_deleted, ...).
        cutoff: the run's cutoff instant (naive = UTC); events after it are ignored.
        thresholds: the check thresholds.
        requests: ``deletion requests`` (deletion_id, requested_at, sla_days); enables
            ``completed_late``.

    Returns:
        DataFrame[deletion_id string, check string, detail string, detected_at timestamp], one row
        per failing (deletion, check); ``detected_at`` is the cutoff.

    Example:
        >>> anomalies = lifecycle_anomalies(events, cutoff=datetime(2026, 1, 2))  # doctest: +SKIP
    """
    t = thresholds
    cut = micros_lit(cutoff)
    ev = events.where(F.col("ts") <= ts_lit(cutoff)).select(
        F.col("deletion_id").cast("string").alias("deletion_id"),
        F.col("event"),
        F.unix_micros(F.col("ts")).alias("ts_us"),
        F.unix_micros(F.col("scheduled_for")).alias("sf_us"),
        F.col("points_deleted").cast("long").alias("points"),
    )
    is_ = lambda name: F.col("event") == F.lit(name)  # noqa: E731
    code = F.lit(0)
    for i, name in enumerate(_EVENT_CODES[1:], start=1):
        code = F.when(is_(name), F.lit(i)).otherwise(code)
    # One long per event: ts, event code and "deleted points" flag, so that ONE collect_list of
    # fixed-width values carries what the order-dependent checks need (cheaper than structs).
    packed = (
        F.shiftleft(F.col("ts_us"), _PACK_BITS)
        + code * 2
        + F.when(F.col("points") > 0, 1).otherwise(0)
    )
    per = ev.groupBy("deletion_id").agg(
        F.min("sf_us").alias("scheduled_for_us"),
        F.min(F.when(is_("scheduled"), F.col("ts_us"))).alias("scheduled_us"),
        F.min(F.when(is_("started"), F.col("ts_us"))).alias("started_us"),
        F.min(F.when(is_("completed"), F.col("ts_us"))).alias("completed_us"),
        F.min("ts_us").alias("first_us"),
        F.max("ts_us").alias("last_us"),
        F.count_if(is_("exception")).alias("exceptions"),
        F.collect_list(packed).alias("packed"),
    )
    if requests is not None:
        req = requests.groupBy(F.col("deletion_id").cast("string").alias("deletion_id")).agg(
            F.unix_micros(F.min("requested_at")).alias("requested_us"),
            F.min(F.col("sla_days").cast("long")).alias("sla_days"),
        )
        per = per.join(req, "deletion_id", "left")
    else:
        per = per.withColumn("requested_us", F.lit(None).cast("long")).withColumn(
            "sla_days", F.lit(None).cast("long")
        )

    checks = _check_columns(per, cut, t)
    found = per.select(
        "deletion_id",
        F.explode(
            F.filter(
                F.array(
                    *[F.struct(F.lit(name).alias("check"), c.alias("detail")) for name, c in checks]
                ),
                lambda x: x["detail"].isNotNull(),
            )
        ).alias("a"),
    )
    return found.select(
        "deletion_id",
        F.col("a.check").alias("check"),
        F.col("a.detail").alias("detail"),
        ts_lit(cutoff).alias("detected_at"),
    )


def _check_columns(per: DataFrame, cut: Column, t: LifecycleThresholds) -> list[tuple[str, Column]]:
    """One ``detail`` Column per check: the detail text when the check fails, else null."""
    c = F.col
    due = F.coalesce(c("scheduled_for_us"), c("scheduled_us"))
    start_deadline = due + F.lit(micros(t.start_within))
    base = F.coalesce(due, c("first_us"))
    completed = c("completed_us").isNotNull()
    open_ = c("completed_us").isNull()
    n = t.progress_events
    packed = c("packed")
    # exact integer unpacking (a division would go through double and lose microseconds)
    ts_of = lambda x: F.shiftright(x, _PACK_BITS)  # noqa: E731
    code_of = lambda x: F.shiftright(x, 1).bitwiseAND(7).cast("int")  # noqa: E731
    progress = F.sort_array(F.filter(packed, lambda x: code_of(x).isin(3, 4)))
    last_n = F.slice(progress, -n, n)
    last_n_progressed = F.exists(last_n, lambda x: x.bitwiseAND(1) == 1)
    last = F.array_max(packed)
    last_event = F.element_at(F.array(*[F.lit(e) for e in _EVENT_CODES]), code_of(last) + 1)
    after = F.size(F.filter(packed, lambda x: ts_of(x) > c("completed_us")))
    sla_days = F.coalesce(c("sla_days"), F.lit(t.default_sla_days).cast("long"))
    took = c("completed_us") - c("requested_us")

    sw, ia, cw = (
        fmt_duration(t.start_within),
        fmt_duration(t.idle_after),
        fmt_duration(t.complete_within),
    )
    started_late = c("started_us") > start_deadline
    never_started = c("started_us").isNull() & open_ & (cut > start_deadline)
    return [
        (
            "not_started_on_time",
            F.when(
                due.isNotNull() & started_late,
                F.concat(
                    F.lit("due "),
                    fmt_micros(due),
                    F.lit(", started "),
                    fmt_micros(c("started_us")),
                    F.lit(f", later than start_within {sw}"),
                ),
            ).when(
                due.isNotNull() & never_started,
                F.concat(
                    F.lit("due "),
                    fmt_micros(due),
                    F.lit(", not started by "),
                    fmt_micros(cut),
                    F.lit(f" (start_within {sw})"),
                ),
            ),
        ),
        (
            "idle",
            F.when(
                c("started_us").isNotNull()
                & open_
                & (cut - c("last_us") > F.lit(micros(t.idle_after))),
                F.concat(
                    F.lit("last event "),
                    last_event,
                    F.lit(" at "),
                    fmt_micros(c("last_us")),
                    F.lit(f", no event for more than {ia} before "),
                    fmt_micros(cut),
                ),
            ),
        ),
        (
            "no_progress",
            F.when(
                open_ & (F.size(progress) >= n) & ~last_n_progressed,
                F.concat(
                    F.lit(f"last {n} progress/rerun events (up to "),
                    fmt_micros(ts_of(F.element_at(progress, -1))),
                    F.lit(") deleted no points"),
                ),
            ),
        ),
        (
            "not_completed",
            F.when(
                open_ & (cut - base > F.lit(micros(t.complete_within))),
                F.concat(
                    F.when(due.isNotNull(), F.lit("scheduled ")).otherwise(F.lit("first event ")),
                    fmt_micros(base),
                    F.lit(f", not completed within {cw} by "),
                    fmt_micros(cut),
                ),
            ),
        ),
        (
            "exception_loop",
            F.when(
                open_ & (c("exceptions") >= t.max_exceptions),
                F.concat(
                    c("exceptions").cast("string"),
                    F.lit(f" exceptions and no completion (max_exceptions {t.max_exceptions})"),
                ),
            ),
        ),
        (
            "completed_without_start",
            F.when(
                completed & (c("started_us").isNull() | (c("started_us") > c("completed_us"))),
                F.concat(
                    F.lit("completed "),
                    fmt_micros(c("completed_us")),
                    F.when(c("started_us").isNull(), F.lit(", never started")).otherwise(
                        F.concat(F.lit(", first started "), fmt_micros(c("started_us")))
                    ),
                ),
            ),
        ),
        (
            "events_after_completion",
            F.when(
                completed & (c("last_us") > c("completed_us")),
                F.concat(
                    after.cast("string"),
                    F.lit(" event(s) after completion at "),
                    fmt_micros(c("completed_us")),
                    F.lit(", last "),
                    last_event,
                    F.lit(" at "),
                    fmt_micros(c("last_us")),
                ),
            ),
        ),
        (
            "completed_late",
            F.when(
                completed
                & c("requested_us").isNotNull()
                & (took > sla_days * F.lit(MICROS_PER_DAY)),
                F.concat(
                    F.lit("requested "),
                    fmt_micros(c("requested_us")),
                    F.lit(", completed "),
                    fmt_micros(c("completed_us")),
                    F.lit(" after "),
                    F.format_number(took / F.lit(float(MICROS_PER_DAY)), 2),
                    F.lit(" days (SLA "),
                    sla_days.cast("string"),
                    F.lit(" days)"),
                ),
            ),
        ),
    ]
