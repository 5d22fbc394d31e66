"""Deletion requests and lifecycle events (with injected anomalies) of the demo company.

Every past deletion is either completed or anomalous, and every event is at least two days before
``as_of``: the expected checks then do not depend on where in the run date the audit puts its
cutoff. The expected checks of each scenario assume the defaults of issue 5 (start within 1 h, idle
after 24 h, 3 progress events, complete within 30 days, 5 exceptions).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from jobs.demo.io import JsonlFile, iso, truncated, without
from jobs.demo.population import Customer

HOSTILE_DETAIL = "ShardError: <script>alert('detail')</script> & <b>unescaped</b>"

# scenario: (checks the audit must report, completed?)
SCENARIOS: dict[str, tuple[tuple[str, ...], bool]] = {
    "normal": ((), True),
    "residual": ((), True),
    "late_start": (("not_started_on_time",), True),
    "never_started": (("not_started_on_time",), False),
    "stalled": (("idle",), False),
    "no_progress": (("idle", "no_progress"), False),
    "exception_loop": (("exception_loop", "idle"), False),
    "completed_without_start": (("completed_without_start",), True),
    "not_completed": (("idle", "not_completed"), False),
    "past_sla": (("completed_late",), True),
    "events_after_completion": (("events_after_completion",), True),
    "future": ((), False),
}


@dataclass
class Deletion:
    """One deletion request and what happened to it."""

    deletion_id: str
    customer: Customer
    object_id: str
    scenario: str
    requested_at: datetime
    sla_days: int | None
    events: list[dict[str, Any]] = field(default_factory=list)
    completed_at: datetime | None = None

    @property
    def completed(self) -> bool:
        """True when the deletion completed (its subject's rows must be gone)."""
        return SCENARIOS[self.scenario][1]


def personal_email(customer_id: int) -> str:
    """An e-mail address of a data subject, as support staff paste it into free text."""
    return f"subject.{customer_id}@mail.example"


def user_object_id(customer_id: int) -> str:
    """The DELF object id of a customer's user object (opaque, not the customer id)."""
    return f"user:{(customer_id * 7919 + 13) % 10_000_019:08d}"


def build_deletions(
    customers: list[Customer], as_of: date, scale: int, rng: random.Random
) -> list[Deletion]:
    """Plan the deletions and their lifecycle events."""
    midnight = datetime.combine(as_of, time(), tzinfo=UTC)
    old_enough = [c for c in customers if (midnight - c.signup).days >= 70]
    mix = ["normal"] * 24 * scale + ["residual"] * 3 * scale + ["future"] * 3 * scale
    mix += [s for s in SCENARIOS if s not in ("normal", "residual", "future")] * scale
    plan = list(zip(rng.sample(old_enough, len(mix)), mix, strict=False))
    out: list[Deletion] = []
    for n, (cust, scenario) in enumerate(plan, start=1):
        age = {
            "never_started": 10,
            "stalled": 12,
            "no_progress": 15,
            "exception_loop": 9,
            "completed_without_start": 6.5,
            "not_completed": 45,
            "past_sla": 40,
            "events_after_completion": 14,
            "future": 3,
        }.get(scenario, rng.uniform(5, 60))
        requested = midnight - timedelta(days=age, seconds=rng.randint(0, 40_000))
        d = Deletion(
            f"del-{n:06d}",
            cust,
            user_object_id(cust.customer_id),
            scenario,
            requested,
            14 if scenario == "past_sla" else rng.choice([30, 30, 30, None]),
        )
        _events(d, midnight, rng)
        out.append(d)
    return out


def _events(d: Deletion, midnight: datetime, rng: random.Random) -> None:
    s = d.scenario
    ev = d.events

    def add(
        event: str,
        ts: datetime,
        points: int | None = None,
        detail: str | None = None,
        scheduled_for: datetime | None = None,
    ) -> None:
        ev.append(
            {
                "deletion_id": d.deletion_id,
                "object_id": d.object_id,
                "object_type": "user",
                "event": event,
                "ts": iso(ts),
                "points_deleted": points,
                "detail": detail,
                "scheduled_for": iso(scheduled_for) if scheduled_for else None,
            }
        )

    t = d.requested_at + timedelta(minutes=5)
    sched_for = d.requested_at + timedelta(hours=1)
    if s == "future":
        add("scheduled", t, scheduled_for=midnight + timedelta(days=2, hours=3))
        return
    if s == "completed_without_start":
        d.completed_at = d.requested_at + timedelta(hours=5)
        add("completed", d.completed_at, rng.randint(50, 400))
        return
    add("scheduled", t, scheduled_for=sched_for)
    if s == "never_started":
        return
    delay = (
        timedelta(hours=rng.randint(3, 6))
        if s == "late_start"
        else timedelta(minutes=rng.randint(1, 50))
    )
    t = sched_for + delay
    add("started", t)
    step = timedelta(days=2) if s == "past_sla" else timedelta(hours=6)
    if s == "no_progress":
        t += step
        add("progress", t, rng.randint(100, 300))
        for _ in range(4):
            t += timedelta(hours=4)
            add("progress", t, 0, "waiting for shard lock")
        return
    if s == "exception_loop":
        t += step
        add("progress", t, rng.randint(100, 300))
        for i in range(6):
            t += timedelta(hours=1)
            detail = f"TimeoutError: shard {17 + i} did not answer"
            if i == 4:  # personal data in free text: landed redacted, nowhere raw
                detail += f" for {d.object_id} ({personal_email(d.customer.customer_id)})"
            if i == 5:
                detail = HOSTILE_DETAIL  # report renderers must escape it
            add("exception", t, None, detail)
        return
    n_progress = {"past_sla": 9, "not_completed": 5, "stalled": 2}.get(s, rng.randint(2, 4))
    if s == "not_completed":
        step = timedelta(days=1)
    for i in range(n_progress):
        t += step
        add("rerun" if i == 1 and rng.random() < 0.3 else "progress", t, rng.randint(50, 500))
    if s in ("stalled", "not_completed"):
        return
    t += step
    d.completed_at = t
    add("completed", t, rng.randint(10, 100))
    if s == "events_after_completion":
        add("progress", t + timedelta(hours=8), 0, "late retry after completion")


def personal_text(deletions: list[Deletion]) -> list[tuple[str, str, str]]:
    """The raw personal data the inputs carry in free text and unknown fields, as (where,
    deletion id, text): the landing must redact each one, no output may hold it."""
    out = [
        ("deletion_events.detail", d.deletion_id, raw)
        for d in deletions
        if d.scenario == "exception_loop"
        for raw in (d.object_id, personal_email(d.customer.customer_id))
    ]
    normal = next(d for d in deletions if d.scenario == "normal")
    out.append(
        ("deletion_requests.extra", normal.deletion_id, personal_email(normal.customer.customer_id))
    )
    return out


def write_deletion_inputs(
    deletions: list[Deletion], as_of: date, rng: random.Random
) -> tuple[list[JsonlFile], list[dict[str, Any]]]:
    """Deletion request and lifecycle-event files (with bad lines); returns files and anomalies."""
    req = JsonlFile("deletion_requests", "requests.jsonl")
    evf = JsonlFile("deletion_events", "events.jsonl")
    events = sorted(
        (e for d in deletions for e in d.events),
        key=lambda e: (e["ts"], e["deletion_id"], e["event"]),
    )
    for e in events:
        evf.add(e)
    normal = next(d for d in deletions if d.scenario == "normal")
    for d in deletions:
        request = {
            "deletion_id": d.deletion_id,
            "subject_id": str(d.customer.customer_id),
            "subject_type": "customer",
            "requested_at": iso(d.requested_at),
            "sla_days": d.sla_days,
        }
        if d is normal:  # an unknown field holding personal data: kept in `extra`, redacted
            request["contact"] = personal_email(d.customer.customer_id)
        req.add(request)
    base = dict(normal.events[-1])
    midnight = datetime.combine(as_of, time(), tzinfo=UTC)
    future = iso(midnight + timedelta(days=10))
    unknown = "deletion del-999999 has no request"
    events = "scheduled|started|progress|rerun|exception|completed"
    evf.inject_all(
        rng,
        [
            (dict(base, deletion_id="del-999999"), "unknown_deletion_id", unknown),
            (dict(base, event="progress", ts=future), "future_timestamp", "ts after the run date"),
            (
                dict(base, event="progress", points_deleted=-40),
                "negative_points",
                "points_deleted < 0",
            ),
            (dict(base, event="paused"), "bad_enum", f"event not in {events}"),
            (truncated(base), "truncated_json", "line cut in the middle"),
            (without(base, "deletion_id"), "missing_field", "deletion_id absent"),
        ],
    )
    rbase = {
        "deletion_id": "del-bad",
        "subject_id": "123",
        "subject_type": "customer",
        "requested_at": iso(midnight - timedelta(days=3)),
        "sla_days": 30,
    }
    req.inject_all(
        rng,
        [
            (without(rbase, "subject_id"), "missing_field", "subject_id absent"),
            (
                dict(rbase, requested_at="not a date"),
                "bad_timestamp",
                "requested_at is not ISO-8601",
            ),
            (dict(rbase, sla_days="thirty"), "bad_type", "sla_days is not an integer"),
        ],
    )
    anomalies = [
        {"deletion_id": d.deletion_id, "scenario": d.scenario, "check": c}
        for d in deletions
        for c in SCENARIOS[d.scenario][0]
    ]
    return [req, evf], anomalies
