"""``compliance vacuum --audited``: remove purged rows from the audited tables' Delta history.

A purge deletes rows with a Delta commit, so the files that held them stay in the table folder
and every earlier version still shows the rows (time travel) until the table is VACUUMed. This
command VACUUMs the audited tables a purge committed on (``purge_journal``), or the tables named
with ``--table``, and prints each table with the files removed.

Retention check: the history kept (``--retention-hours``, default
``storage.vacuum_retention_hours``) may not be shorter than that configured minimum, nor than a
table's own ``delta.deletedFileRetentionDuration``, unless ``--force``: readers and writers still
working on an older version would fail. The check on the configuration runs before Spark starts
(:func:`check_retention`). Rows purged more recently than the retention stay in history; the
report says how many such purges there are, so that a later VACUUM (or ``--retention-hours 0
--force``) removes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pyspark.sql import functions as F

from jobs.commands.restoration_rows import JOURNAL_TABLE
from jobs.config.settings import Config
from jobs.context import JobContext
from jobs.errors import UsageError

_INTERVAL = re.compile(
    r"^\s*interval\s+(\d+)\s+(hour|hours|day|days|week|weeks)\s*$", re.IGNORECASE
)
_HOURS = {"hour": 1, "day": 24, "week": 168}


def check_retention(cfg: Config, retention_hours: int | None, *, force: bool) -> int:
    """The retention to apply, checked against ``storage.vacuum_retention_hours``.

    Raises:
        UsageError: a negative retention, or one below the minimum without ``force``.
    """
    minimum = int(cfg.storage.vacuum_retention_hours)
    hours = minimum if retention_hours is None else retention_hours
    if hours < 0:
        raise UsageError(f"--retention-hours must be 0 or more, got {hours}")
    if hours < minimum and not force:
        raise UsageError(
            f"--retention-hours {hours} is below the configured minimum of {minimum} hours "
            "(storage.vacuum_retention_hours): readers of older versions may fail; "
            "pass --force to go below it"
        )
    return hours


def table_minimum_hours(props: dict[str, str]) -> int | None:
    """Hours of ``delta.deletedFileRetentionDuration`` (``interval 7 days``...), if set."""
    m = _INTERVAL.match(props.get("delta.deletedFileRetentionDuration", ""))
    if m is None:
        return None
    return int(m.group(1)) * _HOURS[m.group(2).lower().rstrip("s")]


@dataclass(frozen=True)
class VacuumedTable:
    """One audited table VACUUMed."""

    table: str
    """The audited table."""
    files_removed: int | None
    """Files deleted (``None`` when the engine does not report them)."""
    recent_purges: int
    """Purges committed on it within the retention: their rows are still in history."""


@dataclass
class VacuumReport:
    """What ``compliance vacuum --audited`` did."""

    retention_hours: int
    """The history kept."""
    tables: list[VacuumedTable] = field(default_factory=list)
    """One entry per table VACUUMed."""
    notes: list[str] = field(default_factory=list)
    """Why nothing or less was done."""

    @property
    def files_removed(self) -> int:
        """Files removed over all tables (those reported)."""
        return sum(t.files_removed or 0 for t in self.tables)

    def text(self) -> str:
        """A few human lines for the CLI."""
        head = (
            f"vacuum of the audited tables (retention {self.retention_hours} hours): "
            f"{len(self.tables)} tables, {self.files_removed} files removed"
        )
        lines = [head]
        for t in self.tables:
            n = t.files_removed if t.files_removed is not None else "n/a (not reported)"
            lines.append(f"  {t.table:<32} files removed {n}")
            if t.recent_purges:
                lines.append(
                    f"    {t.recent_purges} purges committed within the last "
                    f"{self.retention_hours} hours: their rows stay in Delta history "
                    "until a later vacuum"
                )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def purged_tables(ctx: JobContext) -> list[str]:
    """Audited tables a committed purge removed rows from (from ``purge_journal``)."""
    if not ctx.store.exists(JOURNAL_TABLE):
        return []
    rows = (
        ctx.store.read(JOURNAL_TABLE)
        .filter(F.col("state") == "committed")
        .select("table")
        .distinct()
        .collect()
    )
    return sorted(r.table for r in rows)


def vacuum_audited(
    ctx: JobContext,
    *,
    tables: list[str] | None = None,
    retention_hours: int | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> VacuumReport:
    """VACUUM audited tables so that purged rows leave their Delta history.

    Args:
        ctx: the job context (``audited``: the company's tables; ``store``: ``purge_journal``).
        tables: the tables to VACUUM; default: every table a committed purge touched.
        retention_hours: history kept; default ``storage.vacuum_retention_hours``.
        force: allow a retention below the configured or the table's own minimum.
        now: the injected clock (naive UTC) for the "purged within the retention" count.

    Returns:
        The report; ``text()`` is what the CLI prints.

    Raises:
        UsageError: an unknown table, or a retention below a minimum without ``force``.
    """
    hours = check_retention(ctx.cfg, retention_hours, force=force)
    report = VacuumReport(hours)
    names = list(dict.fromkeys(tables)) if tables else purged_tables(ctx)
    for name in names:
        if not ctx.audited.exists(name):
            raise UsageError(
                f"--table {name}: no such table in the audited warehouse "
                f"{ctx.cfg.audited_warehouse}"
            )
    if not names:
        report.notes.append(
            "no purge has committed on an audited table: nothing to vacuum "
            "(name tables with --table)"
        )
        return report
    for name in names:
        own = table_minimum_hours(ctx.audited.properties(name))
        if own is not None and hours < own and not force:
            raise UsageError(
                f"{name}: --retention-hours {hours} is below the table's "
                f"delta.deletedFileRetentionDuration ({own} hours); pass --force"
            )
    recent = _recent_purges(ctx, hours, now or datetime.now(UTC).replace(tzinfo=None))
    for name in names:
        removed = ctx.audited.vacuum(name, hours)
        count = None if ctx.audited.engine == "spark" else len(removed)
        report.tables.append(VacuumedTable(name, count, recent.get(name, 0)))
        ctx.log(f"vacuum: {name}: {count if count is not None else 'n/a'} files removed")
    return report


def _recent_purges(ctx: JobContext, hours: int, now: datetime) -> dict[str, int]:
    if not ctx.store.exists(JOURNAL_TABLE):
        return {}
    since = now - timedelta(hours=hours)
    rows = (
        ctx.store.read(JOURNAL_TABLE)
        .filter((F.col("state") == "committed") & (F.col("committed_at") > F.lit(since)))
        .groupBy("table")
        .agg(F.countDistinct("purge_id").alias("n"))
        .collect()
    )
    return {r.table: int(r.n) for r in rows}
