"""The nightly ``keys`` step: rotate the keys and audit the restoration log itself (issue 6, item 5).

:func:`keys_rotate` (``compliance keys rotate``; :func:`rotate_keys_step` in the nightly run):

1. rotation: today's key is created if missing and every key aged ``retention.restoration_days``
   or more is destroyed (:meth:`jobs.secrets.keyring.Keyring.rotate`);
2. key check: no key older than the window (or dated in the future) may exist afterwards;
3. log check: every entry of ``restoration_log`` is verified (MAC only, nothing is decrypted)
   under every key that still exists, so an entry past the window that still opens is caught
   (``readable_past_window``), as is an entry inside the window whose key is already gone
   (``expired_within_window``: restores would fail) and any ``tampered`` entry;
4. clean-up: entries written on or before ``today - window`` (unreadable: their key is destroyed)
   are deleted from ``restoration_log`` and the table is VACUUMed with a retention no longer than
   the window (its Delta retention properties are kept within the window too);
5. ``restoration_log_health``: per run and per day, the entries written (committed purges),
   restored, in the log, verified, expired, tampered and removed tonight (replaced per run date).

:func:`keys_status` lists key ids and ages (``compliance keys status``); never key bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pyspark.sql import functions as F

from audits.restoration.log_checks import KeyFinding, key_findings, log_health, verify_log
from jobs.commands.restoration_rows import (
    HEALTH_TABLE,
    JOURNAL_TABLE,
    LOG_TABLE,
    RESTORES_TABLE,
    ensure_log_properties,
    expired_before,
    tampered_entry_ids,
    vacuum_hours,
    window_days,
)
from jobs.context import JobContext, StepResult
from jobs.secrets.keyring import Keyring, RotationReport
from jobs.secrets.keys_status import KeysStatus, status

#: Columns of ``restoration_log_health``.
HEALTH_SCHEMA = (
    "run_date date, day date, age_days int, written long, restored long, entries long, verified long, "
    "expired long, tampered long, removed long, readable_past_window long, expired_within_window long"
)
_COUNTS = (
    "written",
    "restored",
    "entries",
    "verified",
    "expired",
    "tampered",
    "removed",
    "readable_past_window",
    "expired_within_window",
)


@dataclass
class KeysReport:
    """What the ``keys`` step did and found. Holds key ids only, never key material."""

    today: date
    """The run date."""
    window_days: int
    """The restoration window."""
    rotation: RotationReport
    """Keys created, destroyed and kept."""
    key_findings: list[KeyFinding] = field(default_factory=list)
    """Keys that should not exist."""
    totals: dict[str, int] = field(default_factory=dict)
    """Sums of the health counts over the days (``entries``, ``tampered``, ``removed``...)."""
    health_rows: int = 0
    """Rows written to ``restoration_log_health``."""
    vacuumed_files: int = 0
    """Files VACUUM removed from ``restoration_log``."""
    vacuum_retention_hours: int = 0
    """The VACUUM retention applied."""
    tampered_entries: list[str] = field(default_factory=list)
    """Ids of tampered entries (the first few)."""
    pending_purges: int = 0
    """Purges still pending in ``purge_journal`` (resolved by the next purge)."""

    @property
    def findings(self) -> int:
        """Problems needing attention: bad keys, tampered or misaligned entries, pending purges."""
        t = self.totals
        return (
            len(self.key_findings)
            + t.get("tampered", 0)
            + t.get("readable_past_window", 0)
            + t.get("expired_within_window", 0)
            + self.pending_purges
        )

    def text(self) -> str:
        """A few human lines for the CLI (key ids and counts only)."""
        r = self.rotation
        head = (
            f"keys rotate for {self.today}: today's key {r.today_key_id} "
            f"{'created' if r.created else 'exists'}; {len(r.destroyed)} destroyed "
            f"({r.destroyed_text()}); {len(r.kept)} live (window {self.window_days} days)"
        )
        lines = [head]
        lines += [f"  KEY FINDING {f.check}: {f.detail}" for f in self.key_findings]
        t = self.totals
        lines.append(
            f"  restoration_log: {t.get('entries', 0)} entries, {t.get('verified', 0)} verify, "
            f"{t.get('expired', 0)} expired, {t.get('tampered', 0)} tampered; "
            f"{t.get('removed', 0)} past the window removed; VACUUM (retention "
            f"{self.vacuum_retention_hours} h) removed {self.vacuumed_files} files"
        )
        if t.get("readable_past_window"):
            lines.append(
                f"  FINDING: {t['readable_past_window']} entries past the window still open: "
                "a key outlived the window"
            )
        if t.get("expired_within_window"):
            lines.append(
                f"  FINDING: {t['expired_within_window']} entries inside the window no longer "
                "open: their key was lost early, they cannot be restored"
            )
        if self.tampered_entries:
            lines.append(f"  FINDING: tampered entries: {', '.join(self.tampered_entries)}")
        if self.pending_purges:
            lines.append(
                f"  FINDING: {self.pending_purges} purges are pending (interrupted); "
                "the next 'compliance purge' completes them"
            )
        return "\n".join(lines)

    def step_result(self) -> StepResult:
        """The report as the run manifest's :class:`StepResult`."""
        return StepResult(
            inputs_read=self.totals.get("entries", 0),
            rows_written=self.health_rows,
            findings=self.findings,
            details={
                "today_key_id": self.rotation.today_key_id,
                "created": self.rotation.created,
                "destroyed": list(self.rotation.destroyed),
                "destroyed_ages_days": list(self.rotation.destroyed_ages),
                "live_keys": len(self.rotation.kept),
                **{k: self.totals.get(k, 0) for k in _COUNTS},
                "vacuumed_files": self.vacuumed_files,
                "key_findings": [f.detail for f in self.key_findings],
                "pending_purges": self.pending_purges,
            },
        )


def rotate_keys_step(ctx: JobContext, keyring: Keyring, *, today: date | None = None) -> StepResult:
    """The nightly ``keys`` step (:func:`keys_rotate` as a :class:`StepResult`)."""
    report = keys_rotate(ctx, keyring, today=today)
    ctx.log(report.text().splitlines()[0])
    return report.step_result()


def keys_rotate(ctx: JobContext, keyring: Keyring, *, today: date | None = None) -> KeysReport:
    """Rotate the keys, audit the log, remove and VACUUM expired entries, write the health table.

    Args:
        ctx: the job context.
        keyring: the key store.
        today: the injected day (defaults to ``ctx.run_date``).

    Returns:
        The report (``text()`` for the CLI, ``step_result()`` for the manifest).
    """
    today = today or ctx.run_date
    window = window_days(ctx)
    rotation = keyring.rotate(today, window)
    report = KeysReport(
        today, window, rotation, key_findings(keyring.status(today), retention_days=window)
    )
    days: dict[date, dict[str, int]] = {}
    if ctx.store.exists(LOG_TABLE):
        _audit_entries(ctx, keyring, today, window, report, days)
    _activity(ctx, days)
    rows = [
        (today, d, (today - d).days, *(c.get(k, 0) for k in _COUNTS))
        for d, c in sorted(days.items())
    ]
    report.totals = {k: sum(c.get(k, 0) for c in days.values()) for k in _COUNTS}
    df = ctx.spark.createDataFrame(rows, HEALTH_SCHEMA)
    ctx.store.replace_where(HEALTH_TABLE, df, F.col("run_date") == F.lit(today))
    report.health_rows = len(rows)
    if ctx.store.exists(JOURNAL_TABLE):
        report.pending_purges = (
            ctx.store.read(JOURNAL_TABLE)
            .filter(F.col("state") == "pending")
            .select("purge_id")
            .distinct()
            .count()
        )
    return report


def _audit_entries(
    ctx: JobContext,
    keyring: Keyring,
    today: date,
    window: int,
    report: KeysReport,
    days: dict[date, dict[str, int]],
) -> None:
    """Verify every entry, count per day, delete the expired ones and VACUUM."""
    verified = ctx.store.read(LOG_TABLE).transform(verify_log(keyring.all_keys())).persist()
    try:
        for r in log_health(verified, today=today, retention_days=window).collect():
            c = days.setdefault(r.day, {})
            for k in (
                "entries",
                "verified",
                "expired",
                "tampered",
                "readable_past_window",
                "expired_within_window",
            ):
                c[k] = c.get(k, 0) + int(r[k])
            if r.age_days >= window:
                c["removed"] = c.get("removed", 0) + int(r.entries)
        report.tampered_entries = tampered_entry_ids(verified)
    finally:
        verified.unpersist()
    cutoff = expired_before(today, window)
    if any(c.get("removed") for c in days.values()):
        ctx.store.delete_where(LOG_TABLE, F.to_date("created_at") <= F.lit(cutoff))
    ensure_log_properties(ctx)
    report.vacuum_retention_hours = vacuum_hours(ctx)
    report.vacuumed_files = len(ctx.store.vacuum(LOG_TABLE, report.vacuum_retention_hours))


def _activity(ctx: JobContext, days: dict[date, dict[str, int]]) -> None:
    """Entries written (committed purges) and restored per day (the journals are small)."""
    if ctx.store.exists(JOURNAL_TABLE):
        written = (
            ctx.store.read(JOURNAL_TABLE)
            .filter(F.col("state") == "committed")
            .select(F.to_date("started_at").alias("day"), "entries")
            .groupBy("day")
            .agg(F.sum("entries").alias("n"))
        )
        _merge(days, "written", written.collect())
    if ctx.store.exists(RESTORES_TABLE):
        restored = (
            ctx.store.read(RESTORES_TABLE)
            .filter(F.col("outcome") == "restored")
            .select(F.to_date("restored_at").alias("day"))
            .groupBy("day")
            .agg(F.count(F.lit(1)).alias("n"))
        )
        _merge(days, "restored", restored.collect())


def _merge(days: dict[date, dict[str, int]], name: str, rows: list[Any]) -> None:
    for r in rows:
        c = days.setdefault(r.day, {})
        c[name] = c.get(name, 0) + int(r.n or 0)


def keys_status(ctx: JobContext, keyring: Keyring, *, today: date | None = None) -> KeysStatus:
    """Key ids and ages for ``compliance keys status`` (see :func:`jobs.secrets.keys_status.status`)."""
    return status(keyring, window_days(ctx), today or ctx.run_date)
