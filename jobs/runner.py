"""Running steps: the run manifest, the warehouse lock and the nightly sequence.

Each step writes one ``run_manifest`` row per run date (upserted by ``(job, run_date)``): counts,
status, engine and version. ``nightly`` skips steps already recorded ``ok`` for the run date (so a
killed run resumes where it stopped) unless ``force`` is given. One run at a time per warehouse: a
lock file with the owner's pid, host and start time; a lock whose process is gone (same host) or
that is older than ``STALE_AFTER`` is taken over with a warning. Exclusion itself is an OS lock on
the open file (see :func:`warehouse_lock`).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from jobs.context import JobContext, StepResult
from jobs.errors import ComplianceError, JobError, LockError
from jobs.store.run_manifest import _kept, _now, record

STALE_AFTER = 6 * 3600

Step = Callable[[JobContext], StepResult]


def run_step(ctx: JobContext, job: str, step: Step) -> StepResult:
    """Run one step, record it in the manifest, and re-raise failures as :class:`JobError`."""
    from jobs.commands.export import emit

    started = _now()
    ctx.log(f"{job}: started for run date {ctx.run_date}")
    emit(ctx, job, "START")
    t0 = time.monotonic()
    ctx.store.touched(reset=True)
    # the Spark UI and event log group each step's jobs under the step's name
    ctx.spark.sparkContext.setJobGroup(job, f"compliance {job} {ctx.run_date}")
    try:
        result = step(ctx)
    except ComplianceError as exc:
        record(ctx, job, started, "failed", _kept(ctx, job), str(exc))
        emit(ctx, job, "FAIL")
        raise
    except Exception as exc:  # noqa: BLE001 - any other failure is a job failure with a log
        log_file = _write_traceback(ctx, job)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        record(ctx, job, started, "failed", _kept(ctx, job), f"{type(exc).__name__}: {first}")
        emit(ctx, job, "FAIL")
        raise JobError(
            f"step {job} failed: {type(exc).__name__}: {first} (traceback in {log_file})"
        ) from None
    result.details["tables"] = ctx.store.touched(reset=True)  # what the step really read and wrote
    record(ctx, job, started, "ok", result, None)
    emit(ctx, job, "COMPLETE")
    ctx.log(
        f"{job}: done in {time.monotonic() - t0:.1f}s: read {result.inputs_read}, wrote {result.rows_written}, "
        f"rejected {result.rows_rejected}"
        + (f", findings {result.findings}" if result.findings else "")
    )
    return result


def _write_traceback(ctx: JobContext, job: str) -> Path:
    logs = Path(ctx.cfg.home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"{ctx.run_date}-{job}.log"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_holder(fd: int) -> dict:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data.decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _stale(holder: dict, me: dict) -> bool:
    try:
        started, pid = float(holder.get("started", 0)), int(holder.get("pid", 0))
    except (TypeError, ValueError):
        return True
    if time.time() - started > STALE_AFTER:
        return True
    return holder.get("host") == me["host"] and (pid == me["pid"] or not _alive(pid))


def _refusal(path: Path, holder: dict) -> LockError:
    try:
        started = datetime.fromtimestamp(float(holder["started"]), timezone.utc)
        since = f", started {started:%Y-%m-%d %H:%M:%SZ}"
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        since = ""
    who = f"pid {holder.get('pid')} on {holder.get('host')}{since}" if holder else "starting up"
    return LockError(f"another run ({who}) holds {path}; wait for it to finish")


@contextmanager
def warehouse_lock(home: str, log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``<home>/nightly.lock`` for the duration; refuse when another live run holds it.

    Exclusion is an OS lock (``flock``) on the open lock file, taken without waiting: two
    processes can never both hold it, and the OS releases it when its holder dies, so a killed
    run's lock is taken over without any race. The file itself stays; while held it names its
    holder (pid, host, start time), and it is emptied on release. A file that still names a live
    process on this host, or another host's run younger than ``STALE_AFTER``, also refuses (a run
    of a version that did not take the OS lock, or a host whose file system has no shared locks);
    the check is made while holding the OS lock, so it cannot race either.
    """
    path = Path(home) / "nightly.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: another process holds it
            raise _refusal(path, _read_holder(fd)) from None
        holder = _read_holder(fd)
        if holder and not _stale(holder, me):
            raise _refusal(path, holder)
        if holder and log:
            log(f"taking over a stale lock {path} (pid {holder.get('pid')} is gone)")
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the OS lock
