"""Lifecycle anomaly checks: one test per check, with the boundary of every threshold."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T

from audits.lifecycle.rules import (
    LifecycleThresholds,
    lifecycle_anomalies,
    track_anomalies,
    validate_events,
)
from audits.lifecycle.time import DurationError

UTC = timezone.utc
T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)

EVENTS = T.StructType(
    [
        T.StructField("deletion_id", T.StringType()),
        T.StructField("object_id", T.StringType()),
        T.StructField("object_type", T.StringType()),
        T.StructField("event", T.StringType()),
        T.StructField("ts", T.TimestampType()),
        T.StructField("scheduled_for", T.TimestampType()),
        T.StructField("points_deleted", T.LongType()),
        T.StructField("detail", T.StringType()),
    ]
)
ANOMALIES = T.StructType(
    [
        T.StructField("deletion_id", T.StringType()),
        T.StructField("check", T.StringType()),
        T.StructField("detail", T.StringType()),
        T.StructField("detected_at", T.TimestampType()),
    ]
)
REQUESTS = T.StructType(
    [
        T.StructField("deletion_id", T.StringType()),
        T.StructField("subject_key", T.StringType()),
        T.StructField("subject_type", T.StringType()),
        T.StructField("requested_at", T.TimestampType()),
        T.StructField("sla_days", T.IntegerType()),
    ]
)


def ev(did, event, ts, scheduled_for=None, points=None, detail=None):
    return (did, f"obj-{did}", "user", event, ts, scheduled_for, points, detail)


def events_df(spark, rows):
    return spark.createDataFrame(rows, EVENTS)


def expected(spark, cutoff, rows):
    return spark.createDataFrame([(d, c, t, cutoff) for d, c, t in rows], ANOMALIES)


def check(spark, rows, cutoff, want, **kwargs):
    got = lifecycle_anomalies(events_df(spark, rows), cutoff=cutoff, **kwargs)
    assert_df_equality(
        got, expected(spark, cutoff, want), ignore_row_order=True, ignore_nullable=True
    )


def test_started_late_boundary(spark):
    rows = [
        ev("d1", "scheduled", T0, T0),
        ev("d1", "started", T0 + H),  # exactly at the limit
        ev("d2", "scheduled", T0, T0),
        ev("d2", "started", T0 + H + S),  # one second over
        # no scheduled_for: due is the scheduled event's ts
        ev("d3", "scheduled", T0 - 10 * timedelta(minutes=1)),
        ev("d3", "started", T0 + 50 * timedelta(minutes=1)),
        ev("d4", "scheduled", T0 - 10 * timedelta(minutes=1)),
        ev("d4", "started", T0 + 50 * timedelta(minutes=1) + S),
        # scheduled_for wins over the scheduled event's ts
        ev("d5", "scheduled", T0 - D, T0),
        ev("d5", "started", T0 + 30 * timedelta(minutes=1)),
    ]
    check(
        spark,
        rows,
        T0 + 2 * H,
        [
            (
                "d2",
                "not_started_on_time",
                "due 2026-01-01T00:00:00Z, started 2026-01-01T01:00:01Z, later than start_within 1h",
            ),
            (
                "d4",
                "not_started_on_time",
                "due 2025-12-31T23:50:00Z, started 2026-01-01T00:50:01Z, later than start_within 1h",
            ),
        ],
    )


@pytest.mark.parametrize("over", [False, True])
def test_never_started_boundary(spark, over):
    cutoff = T0 + H + (S if over else timedelta(0))
    rows = [ev("d1", "scheduled", T0 - H, T0)]
    want = [
        (
            "d1",
            "not_started_on_time",
            "due 2026-01-01T00:00:00Z, not started by 2026-01-01T01:00:01Z (start_within 1h)",
        )
    ]
    check(spark, rows, cutoff, want if over else [])


def test_custom_start_within(spark):
    rows = [ev("d1", "scheduled", T0, T0), ev("d1", "started", T0 + 90 * timedelta(minutes=1))]
    thresholds = LifecycleThresholds.from_mapping({"start_within": "2h", "other_key": 1})
    check(spark, rows, T0 + 2 * H, [], thresholds=thresholds)
    check(
        spark,
        rows,
        T0 + 2 * H,
        [
            (
                "d1",
                "not_started_on_time",
                "due 2026-01-01T00:00:00Z, started 2026-01-01T01:30:00Z, later than start_within 1h 15m",
            ),
        ],
        thresholds=LifecycleThresholds(start_within=timedelta(minutes=75)),
    )


@pytest.mark.parametrize("over", [False, True])
def test_idle_boundary(spark, over):
    rows = [
        ev("d1", "started", T0),
        ev("d1", "progress", T0 + H, points=5),
        # completed deletions are never idle
        ev("d2", "started", T0),
        ev("d2", "completed", T0 + H),
    ]
    cutoff = T0 + 25 * H + (S if over else timedelta(0))
    want = [
        (
            "d1",
            "idle",
            "last event progress at 2026-01-01T01:00:00Z, no event for more than 1d "
            "before 2026-01-02T01:00:01Z",
        )
    ]
    check(spark, rows, cutoff, want if over else [])


def test_no_progress(spark):
    rows = [
        # last 3 progress/rerun events (0, null, 0) sum to 0; the earlier 10 does not count
        ev("d1", "started", T0),
        ev("d1", "progress", T0 + 1 * S, points=10),
        ev("d1", "progress", T0 + 2 * S, points=0),
        ev("d1", "rerun", T0 + 3 * S),
        ev("d1", "exception", T0 + 4 * S),
        ev("d1", "progress", T0 + 5 * S, points=0),
        # only 2 progress events: one under the threshold
        ev("d2", "started", T0),
        ev("d2", "progress", T0 + S, points=0),
        ev("d2", "progress", T0 + 2 * S, points=0),
        # a point deleted in the window is progress
        ev("d3", "started", T0),
        ev("d3", "progress", T0 + S, points=0),
        ev("d3", "progress", T0 + 2 * S, points=1),
        ev("d3", "progress", T0 + 3 * S, points=0),
        # completed deletions are not judged
        ev("d4", "started", T0),
        ev("d4", "progress", T0 + S, points=0),
        ev("d4", "progress", T0 + 2 * S, points=0),
        ev("d4", "progress", T0 + 3 * S, points=0),
        ev("d4", "completed", T0 + 4 * S),
    ]
    check(
        spark,
        rows,
        T0 + H,
        [
            (
                "d1",
                "no_progress",
                "last 3 progress/rerun events (up to 2026-01-01T00:00:05Z) deleted no points",
            ),
        ],
    )


@pytest.mark.parametrize("over", [False, True])
def test_not_completed_boundary(spark, over):
    rows = [
        ev("d1", "scheduled", T0 - H, T0),
        ev("d1", "started", T0 + S),
        ev("d1", "progress", T0 + 30 * D - H, points=3),
        # no schedule: the first event is the base
        ev("d2", "started", T0),
        ev("d2", "progress", T0 + 30 * D - H, points=3),
    ]
    cutoff = T0 + 30 * D + (S if over else timedelta(0))
    want = [
        (
            "d1",
            "not_completed",
            "scheduled 2026-01-01T00:00:00Z, not completed within 30d by 2026-01-31T00:00:01Z",
        ),
        (
            "d2",
            "not_completed",
            "first event 2026-01-01T00:00:00Z, not completed within 30d by 2026-01-31T00:00:01Z",
        ),
    ]
    check(spark, rows, cutoff, want if over else [])


def test_exception_loop_boundary(spark):
    rows = [ev("d1", "started", T0)] + [ev("d1", "exception", T0 + i * S) for i in range(1, 6)]
    rows += [ev("d2", "started", T0)] + [ev("d2", "exception", T0 + i * S) for i in range(1, 5)]
    rows += [ev("d3", "started", T0)] + [ev("d3", "exception", T0 + i * S) for i in range(1, 6)]
    rows += [ev("d3", "completed", T0 + 10 * S)]
    check(
        spark,
        rows,
        T0 + H,
        [
            ("d1", "exception_loop", "5 exceptions and no completion (max_exceptions 5)"),
        ],
    )


def test_completed_without_start_and_events_after_completion(spark):
    m = timedelta(minutes=1)
    rows = [
        ev("d1", "scheduled", T0, T0),
        ev("d1", "completed", T0 + 30 * m),
        ev("d2", "scheduled", T0, T0),
        ev("d2", "completed", T0 + 30 * m),
        ev("d2", "started", T0 + 40 * m),
        ev("d3", "started", T0 + 10 * m),
        ev("d3", "completed", T0 + 10 * m),  # same instant: fine
        ev("d4", "started", T0),
        ev("d4", "completed", T0 + H),
        ev("d4", "progress", T0 + 2 * H, points=1),
        ev("d4", "completed", T0 + 3 * H),
        ev("d5", "started", T0),
        ev("d5", "completed", T0 + H),
        ev("d5", "progress", T0 + H, points=1),
    ]
    check(
        spark,
        rows,
        T0 + 4 * H,
        [
            ("d1", "completed_without_start", "completed 2026-01-01T00:30:00Z, never started"),
            (
                "d2",
                "completed_without_start",
                "completed 2026-01-01T00:30:00Z, first started 2026-01-01T00:40:00Z",
            ),
            (
                "d2",
                "events_after_completion",
                "1 event(s) after completion at 2026-01-01T00:30:00Z, last started at 2026-01-01T00:40:00Z",
            ),
            (
                "d4",
                "events_after_completion",
                "2 event(s) after completion at 2026-01-01T01:00:00Z, last completed at 2026-01-01T03:00:00Z",
            ),
        ],
    )


def test_completed_late_against_request_sla(spark):
    rows = [
        ev("d1", "started", T0),
        ev("d1", "completed", T0 + 10 * D),  # exactly the SLA
        ev("d2", "started", T0),
        ev("d2", "completed", T0 + 10 * D + S),
        ev("d3", "started", T0),
        ev("d3", "completed", T0 + 30 * D + S),  # default SLA 30 days
        ev("d4", "started", T0),
        ev("d4", "completed", T0 + 30 * D),
        ev("d5", "started", T0),
        ev("d5", "completed", T0 + 90 * D),  # no request: not judged
    ]
    requests = spark.createDataFrame(
        [
            ("d1", "k1", "user", T0, 10),
            ("d2", "k2", "user", T0, 10),
            ("d3", "k3", "user", T0, None),
            ("d4", "k4", "user", T0, None),
        ],
        REQUESTS,
    )
    cutoff = T0 + 100 * D
    check(
        spark,
        rows,
        cutoff,
        [
            (
                "d2",
                "completed_late",
                "requested 2026-01-01T00:00:00Z, completed 2026-01-11T00:00:01Z after 10.00 days (SLA 10 days)",
            ),
            (
                "d3",
                "completed_late",
                "requested 2026-01-01T00:00:00Z, completed 2026-01-31T00:00:01Z after 30.00 days (SLA 30 days)",
            ),
        ],
        requests=requests,
    )
    # without requests the SLA is not judged
    check(spark, rows, cutoff, [])


def test_microsecond_precision(spark):
    us = timedelta(microseconds=1)
    rows = [
        ev("d1", "started", T0),
        ev("d1", "completed", T0 + H),
        ev("d1", "progress", T0 + H + us, points=1),
        ev("d2", "started", T0),
        ev("d2", "progress", T0 + S, points=0),
        ev("d2", "rerun", T0 + 2 * S),
        ev("d2", "progress", T0 + 5 * S - us, points=0),
    ]
    check(
        spark,
        rows,
        T0 + 2 * H,
        [
            (
                "d1",
                "events_after_completion",
                "1 event(s) after completion at 2026-01-01T01:00:00Z, last progress at "
                "2026-01-01T01:00:00Z",
            ),
            (
                "d2",
                "no_progress",
                "last 3 progress/rerun events (up to 2026-01-01T00:00:04Z) deleted no points",
            ),
        ],
    )


def test_events_after_cutoff_are_ignored(spark):
    rows = [ev("d1", "started", T0)] + [ev("d1", "exception", T0 + i * S) for i in range(1, 6)]
    rows += [ev("d1", "completed", T0 + H + S)]
    check(
        spark,
        rows,
        T0 + H,
        [
            ("d1", "exception_loop", "5 exceptions and no completion (max_exceptions 5)"),
        ],
    )


def test_thresholds_from_mapping_and_errors():
    t = LifecycleThresholds.from_mapping(
        {
            "idle_after": "36h",
            "complete_within": "interval 2 weeks",
            "progress_events": 4,
            "start_within": 600,
        }
    )
    assert t == LifecycleThresholds(
        start_within=timedelta(minutes=10),
        idle_after=timedelta(hours=36),
        complete_within=timedelta(days=14),
        progress_events=4,
    )
    with pytest.raises(DurationError, match="deletion.idle_after"):
        LifecycleThresholds.from_mapping({"idle_after": "soon"})
    with pytest.raises(DurationError, match="deletion.max_exceptions"):
        LifecycleThresholds.from_mapping({"max_exceptions": 0})


# ---------------------------------------------------------------- tracking across nights

TRACKED = T.StructType(
    [
        T.StructField("deletion_id", T.StringType()),
        T.StructField("check", T.StringType()),
        T.StructField("detail", T.StringType()),
        T.StructField("first_detected", T.TimestampType()),
        T.StructField("last_detected", T.TimestampType()),
        T.StructField("status", T.StringType()),
        T.StructField("resolved_on", T.DateType()),
        T.StructField("run_date", T.DateType()),
    ]
)


def test_track_anomalies_across_nights(spark):
    n1, n2, n3 = T0, T0 + D, T0 + 2 * D
    r1, r2, r3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
    night1 = expected(spark, n1, [("d1", "idle", "a"), ("d2", "idle", "b")])
    state1 = track_anomalies(None, night1, r1)
    assert_df_equality(
        state1,
        spark.createDataFrame(
            [
                ("d1", "idle", "a", n1, n1, "open", None, r1),
                ("d2", "idle", "b", n1, n1, "open", None, r1),
            ],
            TRACKED,
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )

    # d1 still stuck (first_detected kept, detail refreshed), d2 resolved, d3 new
    night2 = expected(spark, n2, [("d1", "idle", "a2"), ("d3", "exception_loop", "c")])
    state2 = track_anomalies(state1, night2, r2)
    want2 = spark.createDataFrame(
        [
            ("d1", "idle", "a2", n1, n2, "open", None, r2),
            ("d2", "idle", "b", n1, n1, "resolved", r2, r2),
            ("d3", "exception_loop", "c", n2, n2, "open", None, r2),
        ],
        TRACKED,
    )
    assert_df_equality(state2, want2, ignore_row_order=True, ignore_nullable=True)
    # a rerun for the same date over its own output changes nothing
    assert_df_equality(
        track_anomalies(state2, night2, r2), want2, ignore_row_order=True, ignore_nullable=True
    )

    # d2 re-opens with a new first_detected; d1 and d3 resolve; old resolved rows can be dropped
    night3 = expected(spark, n3, [("d2", "idle", "b3")])
    assert_df_equality(
        track_anomalies(state2, night3, r3),
        spark.createDataFrame(
            [
                ("d1", "idle", "a2", n1, n2, "resolved", r3, r3),
                ("d2", "idle", "b3", n3, n3, "open", None, r3),
                ("d3", "exception_loop", "c", n2, n2, "resolved", r3, r3),
            ],
            TRACKED,
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    state3 = track_anomalies(state2, expected(spark, n3, []), r3)
    assert_df_equality(
        track_anomalies(
            state3, expected(spark, n3 + 5 * D, []), date(2026, 1, 8), keep_resolved_days=5
        ),
        spark.createDataFrame(
            [
                ("d1", "idle", "a2", n1, n2, "resolved", r3, date(2026, 1, 8)),
                ("d3", "exception_loop", "c", n2, n2, "resolved", r3, date(2026, 1, 8)),
            ],
            TRACKED,
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_track_anomalies_accepts_design_only_columns(spark):
    minimal = T.StructType(
        [
            f
            for f in TRACKED.fields
            if f.name in ("deletion_id", "check", "detail", "first_detected", "run_date")
        ]
    )
    prev = spark.createDataFrame([("d1", "idle", "a", T0, date(2026, 1, 1))], minimal)
    got = track_anomalies(prev, expected(spark, T0 + D, [("d1", "idle", "a")]), date(2026, 1, 2))
    assert_df_equality(
        got,
        spark.createDataFrame(
            [("d1", "idle", "a", T0, T0 + D, "open", None, date(2026, 1, 2))], TRACKED
        ),
        ignore_nullable=True,
    )


# ---------------------------------------------------------------- input checks


def test_validate_events(spark):
    rows = [
        ev("d1", "started", T0, points=None),
        ev("d1", "progress", T0 + H, points=0),
        ev("d9", "started", T0),  # unknown id
        ev("d1", "progress", T0 + 2 * H + S),  # future
        ev("d1", "progress", T0 + 2 * H),  # exactly at the cutoff: accepted
        ev("d1", "progress", T0, points=-1),
        ev("d1", "finished", T0),
        ev(None, "started", None, points=-5),
    ]
    events = events_df(spark, rows)
    known = spark.createDataFrame([("d1",), ("d1",), ("d2",)], "deletion_id string")
    accepted, rejected = validate_events(events, known, T0 + 2 * H)
    assert_df_equality(
        accepted,
        events_df(spark, [rows[0], rows[1], rows[4]]),
        ignore_row_order=True,
        ignore_nullable=True,
    )
    rejected_schema = T.StructType(EVENTS.fields + [T.StructField("reason", T.StringType(), False)])
    assert_df_equality(
        rejected,
        spark.createDataFrame(
            [
                rows[2] + ("unknown_deletion_id",),
                rows[3] + ("future_timestamp",),
                rows[5] + ("negative_points_deleted",),
                rows[6] + ("unknown_event",),
                rows[7] + ("missing_deletion_id; missing_timestamp; negative_points_deleted",),
            ],
            rejected_schema,
        ),
        ignore_row_order=True,
        ignore_nullable=True,
    )
