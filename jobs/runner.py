"""Running steps: the run manifest, the warehouse lock and the nightly sequence.

Each step writes one ``run_manifest`` row per run date (upserted by ``(job, run_date)``): counts,
status, engine and version. ``nightly`` skips steps already recorded ``ok`` for the run date (so a
killed run resumes where it stopped) unless ``force`` is given. One run at a time per warehouse: a
lock file with the owner's pid, host and start time; a lock whose process is gone (same host) or
that is older than ``STALE_AFTER`` is taken over with a warning.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from pyspark.sql import functions as F

from jobs.context import VERSION, JobContext, StepResult
from jobs.errors import ComplianceError, JobError, LockError

MANIFEST_SCHEMA = (
    "job string, run_date date, started_at timestamp, finished_at timestamp, status string, "
    "inputs_read bigint, rows_written bigint, rows_rejected bigint, findings bigint, engine string, "
    "version string, details string, error string"
)
STALE_AFTER = 6 * 3600

Step = Callable[[JobContext], StepResult]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def completed_steps(ctx: JobContext) -> set[str]:
    """Steps recorded ``ok`` for the context's run date."""
    if not ctx.store.exists("run_manifest"):
        return set()
    rows = (
        ctx.store.read("run_manifest")
        .filter((F.col("run_date") == F.lit(ctx.run_date)) & (F.col("status") == "ok"))
        .select("job").collect()
    )  # a handful of rows per run date
    return {r.job for r in rows}


def record(ctx: JobContext, job: str, started: datetime, status: str, result: StepResult, error: str | None) -> None:
    """Upsert the step's row of ``run_manifest``."""
    row = (
        job, ctx.run_date, started, _now(), status, result.inputs_read, result.rows_written,
        result.rows_rejected, result.findings, ctx.engine, VERSION,
        json.dumps(result.details, sort_keys=True, default=str), error,
    )
    ctx.store.upsert("run_manifest", ctx.spark.createDataFrame([row], MANIFEST_SCHEMA), keys=["job", "run_date"])


def run_step(ctx: JobContext, job: str, step: Step) -> StepResult:
    """Run one step, record it in the manifest, and re-raise failures as :class:`JobError`."""
    from jobs.openlineage_out import emit

    started = _now()
    ctx.log(f"{job}: started for run date {ctx.run_date}")
    emit(ctx, job, "START")
    t0 = time.monotonic()
    ctx.store.touched(reset=True)
    try:
        result = step(ctx)
    except ComplianceError as exc:
        record(ctx, job, started, "failed", StepResult(), str(exc))
        emit(ctx, job, "FAIL")
        raise
    except Exception as exc:  # noqa: BLE001 - any other failure is a job failure with a log
        log_file = _write_traceback(ctx, job)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        record(ctx, job, started, "failed", StepResult(), f"{type(exc).__name__}: {first}")
        emit(ctx, job, "FAIL")
        raise JobError(f"step {job} failed: {type(exc).__name__}: {first} (traceback in {log_file})") from None
    result.details["tables"] = ctx.store.touched(reset=True)  # what the step really read and wrote
    record(ctx, job, started, "ok", result, None)
    emit(ctx, job, "COMPLETE")
    ctx.log(
        f"{job}: done in {time.monotonic() - t0:.1f}s: read {result.inputs_read}, wrote {result.rows_written}, "
        f"rejected {result.rows_rejected}" + (f", findings {result.findings}" if result.findings else "")
    )
    return result


def _write_traceback(ctx: JobContext, job: str) -> Path:
    logs = Path(ctx.cfg.home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"{ctx.run_date}-{job}.log"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def warehouse_lock(home: str, log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``<home>/nightly.lock`` for the duration; refuse when another live run holds it."""
    path = Path(home) / "nightly.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(path.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                holder = {}
            stale = (
                not holder
                or time.time() - float(holder.get("started", 0)) > STALE_AFTER
                or (holder.get("host") == me["host"] and not _alive(int(holder.get("pid", 0))))
            )
            if not stale:
                started = datetime.fromtimestamp(float(holder["started"]), timezone.utc)
                raise LockError(
                    f"another run (pid {holder.get('pid')} on {holder.get('host')}, started "
                    f"{started:%Y-%m-%d %H:%M:%SZ}) holds {path}; wait for it to finish"
                )
            if log:
                log(f"taking over a stale lock {path} (pid {holder.get('pid')} is gone)")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        break
    else:  # pragma: no cover - two takeovers raced
        raise LockError(f"could not take {path}; another run started at the same time")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
