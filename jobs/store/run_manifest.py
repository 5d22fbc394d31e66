"""``run_manifest``: one row per (step, run date) with counts, status, engine and version.

Each step upserts its row by ``(job, run_date)``; ``nightly`` skips the steps recorded ``ok`` for
the run date, and accumulating steps (landing) add up the counts of every attempt of a date.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pyspark.sql import functions as F

from jobs.context import VERSION, JobContext, StepResult

MANIFEST_SCHEMA = (
    "job string, run_date date, started_at timestamp, finished_at timestamp, status string, "
    "inputs_read bigint, rows_written bigint, rows_rejected bigint, findings bigint, engine string, "
    "version string, details string, error string"
)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def completed_steps(ctx: JobContext) -> set[str]:
    """Steps recorded ``ok`` for the context's run date."""
    if not ctx.store.exists("run_manifest"):
        return set()
    rows = (
        ctx.store.read("run_manifest")
        .filter((F.col("run_date") == F.lit(ctx.run_date)) & (F.col("status") == "ok"))
        .select("job")
        .collect()
    )  # a handful of rows per run date
    return {r.job for r in rows}


def earlier_attempts(ctx: JobContext, job: str) -> tuple[datetime | None, StepResult]:
    """Start time and counts recorded by earlier attempts of ``job`` for the run date.

    For steps that only do new work on a rerun (landing skips what it landed), the manifest row
    of a run date adds up every attempt: a run killed half-way and resumed, or forced again,
    still shows everything it read for that date.
    """
    if not ctx.store.exists("run_manifest"):
        return None, StepResult()
    rows = (
        ctx.store.read("run_manifest")
        .filter((F.col("job") == job) & (F.col("run_date") == F.lit(ctx.run_date)))
        .collect()
    )  # <= 1 row
    if not rows:
        return None, StepResult()
    r = rows[0]
    try:
        details = json.loads(r.details or "{}")
    except ValueError:
        details = {}
    return r.started_at, StepResult(
        inputs_read=int(r.inputs_read or 0),
        rows_written=int(r.rows_written or 0),
        rows_rejected=int(r.rows_rejected or 0),
        details=details if isinstance(details, dict) else {},
        findings=int(r.findings or 0),
    )


def record(
    ctx: JobContext, job: str, started: datetime, status: str, result: StepResult, error: str | None
) -> None:
    """Upsert the step's row of ``run_manifest``."""
    row = (
        job,
        ctx.run_date,
        started,
        _now(),
        status,
        result.inputs_read,
        result.rows_written,
        result.rows_rejected,
        result.findings,
        ctx.engine,
        VERSION,
        json.dumps(result.details, sort_keys=True, default=str),
        error,
    )
    ctx.store.upsert_rows("run_manifest", [row], MANIFEST_SCHEMA, keys=["job", "run_date"])


ACCUMULATING = frozenset({"land"})
"""Steps whose manifest counts add up over the attempts of a run date."""


def _kept(ctx: JobContext, job: str) -> StepResult:
    """The counts a failed attempt leaves in the manifest: what earlier attempts (and, for
    accumulating steps, this one's progress) recorded; nothing for the other steps."""
    if job not in ACCUMULATING:
        return StepResult()
    try:
        return earlier_attempts(ctx, job)[1]
    except Exception:  # noqa: BLE001 - the original failure is the one to report
        return StepResult()
