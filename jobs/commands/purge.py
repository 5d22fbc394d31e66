"""``compliance purge``: remove residual rows from the audited tables, undoably (issue 6, item 3).

For each audited table named by the selected ``residual_findings`` (status ``residual``, the
latest run on or before the run date, one deletion or all), the rows whose identifier column
hashes to a finding's subject key are removed, and each removed row is first written to
``restoration_log`` as sorted-key JSON encrypted under today's key (on the executors, in Arrow
batches, :mod:`audits.restoration.batch`).

Commit order, one table at a time, so that no row is ever lost:

1. ``purge_journal``: one ``pending`` row per (purge, deletion) of the table;
2. ``restoration_log``: the encrypted entries, upserted by their deterministic ``entry_id``
   (a rerun rewrites the same entries, never adds duplicates) and tagged with the ``purge_id``;
3. the audited table: the logged rows are deleted (one Delta commit, matched on every column);
4. ``purge_journal``: the purge becomes ``committed``. Restore only uses committed purges.

A failure before 3 leaves every row in place (entries of a pending purge are never restored); a
failure between 3 and 4 leaves the rows deleted and logged. Every purge first resolves the pending
purges of earlier runs (:func:`recover_pending`): it decrypts their entries, and either commits
them (no logged row is left in the table: the delete had happened), completes them (deletes the
logged rows still there, then commits) or abandons them (nothing was logged).

The deleted rows remain in the audited table's Delta history until that table is VACUUMed
(``compliance vacuum --audited``, :mod:`jobs.commands.vacuum`).

Stale evidence is refused: when the findings used are from an audit run older than the run date,
the purge stops with :class:`StaleFindingsError` (exit 2, one line saying how old they are and how
many lifecycle events of the selected deletions arrived after that run) unless
``allow_stale=True`` (``--allow-stale-findings``), which purges and puts a WARNING in the report.
A dry run never refuses; it carries the same WARNING. Refusing is the safe default: a purge
deletes rows, and findings computed before newer events (a reopened or withdrawn request, a late
completion) may no longer describe what should go; ``compliance audit`` for the run date first
makes them current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.residual_match import Keyer, match_text, matched_values, subject_match_values
from audits.restoration.batch import (
    DECRYPTED_SCHEMA,
    ENCRYPTED_SCHEMA,
    make_decryptor,
    make_encryptor,
)
from jobs.commands.restoration_rows import (
    JOURNAL_SCHEMA,
    JOURNAL_TABLE,
    LOG_TABLE,
    comparable_columns,
    ensure_log_properties,
    present_copies,
    purge_id_for,
    resolve_now,
    row_json,
    rows_with_content,
    window_days,
    with_entry_ids,
)
from jobs.context import JobContext
from jobs.errors import UsageError
from jobs.secrets import match_keys
from jobs.secrets.keyring import Keyring
from jobs.secrets.pseudonym import PseudonymKey, keyer, pseudonym_key

FINDINGS_TABLE = "residual_findings"
EVENTS_TABLE = "deletion_events"


class StaleFindingsError(UsageError):
    """The residual findings predate the run date: purging on them is refused (exit 2)."""


@dataclass(frozen=True)
class PurgedRows:
    """Rows of one deletion removed from (or, in a dry run, to be removed from) one table."""

    table: str
    """The audited table."""
    deletion_id: str | None
    """The deletion whose residual finding matched the rows."""
    rows: int
    """Rows removed (each has one entry in ``restoration_log``)."""
    purge_id: str | None
    """The purge attempt (``None`` in a dry run)."""


@dataclass(frozen=True)
class RecoveredPurge:
    """A pending purge of an earlier run and what this run did with it."""

    purge_id: str
    """The pending purge."""
    table: str
    """Its audited table."""
    outcome: str
    """``committed``, ``completed``, ``abandoned`` or ``left pending`` (with ``would`` in a dry run)."""
    rows_deleted: int
    """Rows this run deleted to complete it."""
    detail: str
    """One line on why."""


@dataclass
class PurgeReport:
    """What ``compliance purge`` did (or, with ``--dry-run``, would do). Never holds row data."""

    run_date: date
    """The run date."""
    selection: str | None
    """The ``--deletion-id``, or ``None`` for ``--all-findings``."""
    dry_run: bool
    """Whether nothing was changed."""
    window_days: int
    """The restoration window."""
    findings_run_date: date | None = None
    """The run of ``residual_findings`` used."""
    key_id: str | None = None
    """Id of the key the entries are encrypted under (never the key)."""
    purged: list[PurgedRows] = field(default_factory=list)
    """Rows per table and deletion."""
    recovered: list[RecoveredPurge] = field(default_factory=list)
    """Pending purges of earlier runs resolved first."""
    notes: list[str] = field(default_factory=list)
    """Findings that could not be acted on, and why."""

    @property
    def rows(self) -> int:
        """Total rows removed (or to be removed)."""
        return sum(p.rows for p in self.purged)

    def text(self) -> str:
        """A few human lines for the CLI."""
        what = f"deletion {self.selection}" if self.selection else "all residual findings"
        head = f"purge of {what} (run date {self.run_date}"
        head += f", findings of {self.findings_run_date})" if self.findings_run_date else ")"
        lines = [head + (": DRY RUN, nothing changed" if self.dry_run else "")]
        for r in self.recovered:
            lines.append(f"  earlier purge {r.purge_id} on {r.table}: {r.outcome} ({r.detail})")
        verb = "would remove" if self.dry_run else "removed"
        for p in self.purged:
            lines.append(f"  {p.table:<32} {p.deletion_id or '-':<24} {verb} {p.rows:>8} rows")
        tables = len({p.table for p in self.purged})
        lines.append(f"  total: {verb} {self.rows} rows from {tables} tables")
        if self.rows and not self.dry_run:
            until = self.run_date + timedelta(days=self.window_days - 1)
            lines.append(
                f"  each removed row is logged encrypted under key {self.key_id}: "
                f"restorable with 'compliance restore DELETION_ID' until {until}"
            )
            lines.append(
                "  the removed rows stay in the audited tables' Delta history until they are VACUUMed"
            )
        elif self.rows:
            lines.append(
                f"  they would be logged encrypted and restorable for {self.window_days} days"
            )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def purge(
    ctx: JobContext,
    *,
    deletion_id: str | None,
    all_findings: bool,
    dry_run: bool,
    keyring: Keyring,
    now: datetime | None = None,
    allow_stale: bool = False,
) -> PurgeReport:
    """Remove the residual rows of one deletion (or of all findings), logging each one encrypted.

    Args:
        ctx: the job context (``store``: the product's warehouse; ``audited``: the audited tables).
        deletion_id: purge the findings of this deletion only.
        all_findings: purge every residual finding (exclusive with ``deletion_id``).
        dry_run: report what would go and change nothing (no table, no key is written).
        keyring: where today's key comes from (created on first use).
        now: the injected clock (naive UTC); defaults to the run date at the current time.
        allow_stale: purge even when the findings are older than the run date (with a WARNING).

    Returns:
        The report; ``text()`` is what the CLI prints.

    Raises:
        UsageError: neither or both of ``deletion_id`` and ``all_findings``.
        StaleFindingsError: the findings are older than the run date and ``allow_stale`` is off.
    """
    if (deletion_id is None) == (not all_findings) or (deletion_id is not None and all_findings):
        raise UsageError("purge needs exactly one of --deletion-id ID or --all-findings")
    now = resolve_now(ctx, now)
    report = PurgeReport(ctx.run_date, deletion_id, dry_run, window_days(ctx))
    findings, report.findings_run_date = _selected_findings(ctx, deletion_id)
    stale = _staleness(ctx, report.findings_run_date, deletion_id) if findings is not None else None
    if stale and not (allow_stale or dry_run):
        raise StaleFindingsError(
            f"refusing to purge: {stale}; run 'compliance audit --run-date "
            f"{ctx.run_date}' first, or pass --allow-stale-findings"
        )
    if stale:
        report.notes.append(f"WARNING: STALE FINDINGS: {stale}")
    report.recovered = recover_pending(ctx, keyring=keyring, now=now, dry_run=dry_run)
    if findings is None:
        report.notes.append("no residual findings to act on (run 'compliance audit' first)")
        return report
    pkey = pseudonym_key(ctx)
    functions = _match_functions(ctx)
    keys = ctx.store.read(match_keys.TABLE, missing_ok=True)
    if keys is None:
        keys = ctx.spark.createDataFrame([], match_keys.SCHEMA)
    columns: dict[str, list[str]] = {}
    for t in findings.select("asset", "column").distinct().collect():
        columns.setdefault(t.asset, []).append(t.column)
    for table in sorted(columns):
        if not ctx.audited.exists(table):
            report.notes.append(f"{table}: no such table in the audited warehouse, skipped")
            continue
        tdf = ctx.audited.read(table, version=ctx.audited.version(table))
        cols = sorted(c for c in columns[table] if c in tdf.columns)
        for c in sorted(set(columns[table]) - set(cols)):
            report.notes.append(f"{table}: column {c} not in the table, its findings skipped")
        if not cols:
            continue
        how = {c: functions.get((table, c)) for c in cols}
        plan = _plan(
            tdf, table, how, findings.filter(F.col("asset") == table), keys, keyer(pkey)
        ).persist()
        counts = sorted(
            ((r.deletion_id, r["count"]) for r in plan.groupBy("deletion_id").count().collect()),
            key=lambda p: p[0] or "",
        )
        if counts and not dry_run:
            if report.key_id is None:
                report.key_id = keyring.today_key(now.date()).key_id
            purge_id = _commit_table(ctx, table, tdf, plan, counts, keyring, pkey, now, deletion_id)
        else:
            purge_id = None
        plan.unpersist()
        report.purged += [PurgedRows(table, d, n, purge_id) for d, n in counts]
        if counts:
            ctx.log(
                f"purge: {table}: {'would remove' if dry_run else 'removed'} {sum(n for _, n in counts)} rows"
            )
    return report


def _selected_findings(
    ctx: JobContext, deletion_id: str | None
) -> tuple[DataFrame | None, date | None]:
    """The residual findings of the latest audit run on or before the run date."""
    if not ctx.store.exists(FINDINGS_TABLE):
        return None, None
    f = ctx.store.read(FINDINGS_TABLE)
    if "status" in f.columns:
        f = f.filter(F.col("status") == "residual")
    if "run_date" in f.columns:
        f = f.filter(F.col("run_date") <= F.lit(ctx.run_date))
        last = f.agg(F.max("run_date")).first()[0]
        if last is None:
            return None, None
        f = f.filter(F.col("run_date") == F.lit(last))
    else:
        last = None
    if deletion_id is not None:
        f = f.filter(F.col("deletion_id") == deletion_id)
    return f.select("deletion_id", "subject_key", "asset", "column"), last


def _staleness(ctx: JobContext, findings_run: date | None, deletion_id: str | None) -> str | None:
    """Why the findings of ``findings_run`` are stale for the run date, or ``None``.

    Stale: the audit run that produced them is older than the run date. The message counts the
    lifecycle events of the selected deletion(s) timed after that run's cutoff.
    """
    if findings_run is None or findings_run >= ctx.run_date:
        return None
    days = (ctx.run_date - findings_run).days
    text = (
        f"the residual findings are from the audit of {findings_run}, {days} days before the "
        f"run date {ctx.run_date}"
    )
    if ctx.store.exists(EVENTS_TABLE):
        since = datetime.combine(findings_run + timedelta(days=1), datetime.min.time())
        ev = ctx.store.read(EVENTS_TABLE).filter(
            (F.col("ts") >= F.lit(since)) & (F.col("ts") < F.lit(ctx.cutoff))
        )
        if deletion_id is not None:
            ev = ev.filter(F.col("deletion_id") == deletion_id)
        n = ev.count()
        who = f"deletion {deletion_id}" if deletion_id is not None else "the deletions"
        text += f"; {n} lifecycle events of {who} arrived after that audit"
    return text


def _plan(
    tdf: DataFrame,
    table: str,
    columns: dict[str, str | None],
    findings: DataFrame,
    match_keys_df: DataFrame,
    keyed: Keyer,
) -> DataFrame:
    """The rows to purge: DataFrame[table, row_json, deletion_id, occurrence], one per row copy.

    A row matches when one of ``columns`` holds a finding's subject by the residual scan's own
    rule (:func:`audits.residual_match.matched_values`: the value, or for a hashed copy its digest,
    keyed and compared with the subject key or match key); identical rows get occurrences 1..n
    so that each copy has its own entry; a row matching several deletions is logged once, under
    the smallest deletion id.

    Args:
        columns: each column to match and its hash function (None: the identifier itself).
    """
    names = sorted(columns)
    j = tdf.select(
        row_json(tdf).alias("row_json"),
        *[match_text(F.col(f"`{c}`"), columns[c]).alias(f"_v{i}") for i, c in enumerate(names)],
    )
    parts = []
    for i, c in enumerate(names):
        mine = findings.filter(F.col("column") == c).select("subject_key", "deletion_id")
        subjects = subject_match_values(mine, columns[c], match_keys_df)
        matched = (
            matched_values(tdf, c, columns[c], subjects, keyed)
            .join(mine, "subject_key")
            .groupBy("_v")
            .agg(F.min("deletion_id").alias("deletion_id"))
        )
        hits = j.select("row_json", F.col(f"_v{i}").alias("_v")).join(matched, "_v")
        parts.append(hits.select("row_json", "deletion_id", F.lit(i).alias("_c")))
    hits = reduce(DataFrame.unionByName, parts)
    # one aggregation: the copies of a row = its hits through any one column (the same for each)
    per_col = [F.sum(F.when(F.col("_c") == i, 1).otherwise(0)) for i in range(len(names))]
    copies = per_col[0] if len(per_col) == 1 else F.greatest(*per_col)
    per_row = hits.groupBy("row_json").agg(
        copies.alias("copies"), F.min("deletion_id").alias("deletion_id")
    )
    return per_row.select(
        F.lit(table).alias("table"),
        "row_json",
        "deletion_id",
        F.explode(F.sequence(F.lit(1), F.col("copies").cast("int"))).alias("occurrence"),
    )


def _match_functions(ctx: JobContext) -> dict[tuple[str, str], str | None]:
    """How the audit matched each column (its hash function), from the audit's own scan plan.

    Without a lineage closure there is no plan: every column is matched on its value.
    """
    if not ctx.store.exists("lineage_closure"):
        return {}
    from jobs.steps.audit_residual import plan  # noqa: PLC0415 - the audit's rule, loaded on use

    return {(t.asset, t.column): t.function for t in plan(ctx, ctx.catalog)}


def _commit_table(
    ctx: JobContext,
    table: str,
    tdf: DataFrame,
    plan: DataFrame,
    counts: list[tuple[str | None, int]],
    keyring: Keyring,
    pkey: PseudonymKey,
    now: datetime,
    selection: str | None,
) -> str:
    """Steps 1-4 of the module docstring for one table; returns the purge id."""
    purge_id = purge_id_for(table, selection, now)
    write_journal(
        ctx,
        [
            {
                "purge_id": purge_id,
                "deletion_id": d,
                "table": table,
                "state": "pending",
                "entries": n,
                "started_at": now,
                "committed_at": None,
                "detail": None,
                "run_date": ctx.run_date,
            }
            for d, n in counts
        ],
    )
    key = keyring.today_key(now.date())
    plain = with_entry_ids(plan, pkey).select(
        "entry_id", "deletion_id", "table", F.lit(now).alias("created_at"), "row_json"
    )
    sealed = (
        plain.mapInArrow(make_encryptor({key.key_id: key}, key.key_id), ENCRYPTED_SCHEMA)
        .withColumn("purge_id", F.lit(purge_id))
        .persist()
    )
    sealed.count()
    ctx.store.upsert(LOG_TABLE, sealed, keys=["entry_id"])
    sealed.unpersist()
    ensure_log_properties(ctx)
    doomed = rows_with_content(tdf, plan)
    ctx.audited.delete_matching(table, doomed, on=comparable_columns(tdf.schema))
    set_state(ctx, purge_id, "committed", now, None)
    return purge_id


def write_journal(ctx: JobContext, rows: list[dict[str, Any]]) -> None:
    """Upsert ``purge_journal`` rows by (purge_id, deletion_id)."""
    names = [c.split()[0] for c in JOURNAL_SCHEMA.split(", ")]
    ctx.store.upsert_rows(
        JOURNAL_TABLE,
        [tuple(r[n] for n in names) for r in rows],
        JOURNAL_SCHEMA,
        keys=["purge_id", "deletion_id"],
    )


def set_state(
    ctx: JobContext, purge_id: str, state: str, now: datetime, detail: str | None
) -> None:
    """Move every journal row of a purge to ``state`` (``committed`` stamps ``committed_at``)."""
    rows = [
        r.asDict()
        for r in ctx.store.read(JOURNAL_TABLE).filter(F.col("purge_id") == purge_id).collect()
    ]
    for r in rows:
        r.update(state=state, detail=detail, committed_at=now if state == "committed" else None)
    if rows:
        write_journal(ctx, rows)


def recover_pending(
    ctx: JobContext, *, keyring: Keyring, now: datetime, dry_run: bool
) -> list[RecoveredPurge]:
    """Resolve the pending purges of earlier runs (see the module docstring)."""
    if not ctx.store.exists(JOURNAL_TABLE):
        return []
    pending = (
        ctx.store.read(JOURNAL_TABLE)
        .filter(F.col("state") == "pending")
        .select("purge_id", "table")
        .distinct()
        .collect()
    )
    return [
        _recover_one(ctx, p.purge_id, p.table, keyring, now, dry_run)
        for p in sorted(pending, key=lambda p: p.purge_id)
    ]


def _recover_one(
    ctx: JobContext, purge_id: str, table: str, keyring: Keyring, now: datetime, dry_run: bool
) -> RecoveredPurge:
    would = "would be " if dry_run else ""

    def done(state: str, outcome: str, deleted: int, detail: str) -> RecoveredPurge:
        if not dry_run and state != "pending":
            set_state(ctx, purge_id, state, now, detail)
        return RecoveredPurge(purge_id, table, would + outcome, deleted, detail)

    if not ctx.store.exists(LOG_TABLE):
        return done("abandoned", "abandoned", 0, "no entry was logged, so nothing was deleted")
    entries = ctx.store.read(LOG_TABLE).filter(F.col("purge_id") == purge_id)
    keys = keyring.live_keys(now.date(), window_days(ctx))
    opened = (
        entries.select(*ENCRYPTED_SCHEMA.fieldNames())
        .mapInArrow(make_decryptor(keys), DECRYPTED_SCHEMA)
        .persist()
    )
    try:
        stats = opened.agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(F.when(F.col("status") != "ok", 1).otherwise(0)).alias("bad"),
        ).first()
        if not stats.n:
            return done("abandoned", "abandoned", 0, "no entry was logged, so nothing was deleted")
        if stats.bad:
            return done(
                "pending",
                "left pending",
                0,
                f"{stats.bad} of {stats.n} entries do not open (expired or tampered); not touched",
            )
        if not ctx.audited.exists(table):
            return done("abandoned", "abandoned", 0, "the audited table no longer exists")
        tdf = ctx.audited.read(table, version=ctx.audited.version(table))
        logged = opened.groupBy("row_json").agg(F.count(F.lit(1)).alias("logged"))
        copies = present_copies(tdf, opened).join(logged, "row_json").persist()
        s = copies.agg(
            F.sum("present").alias("present"),
            F.sum(F.when(F.col("present") > F.col("logged"), 1).otherwise(0)).alias("extra"),
        ).first()
        present = int(s.present or 0)
        if present == 0:
            copies.unpersist()
            return done(
                "committed",
                "committed",
                0,
                f"none of its {stats.n} logged rows is in the table: the delete had completed",
            )
        ok = copies.filter((F.col("present") > 0) & (F.col("present") <= F.col("logged")))
        deletable = int(ok.agg(F.sum("present")).first()[0] or 0)
        if not dry_run and deletable:
            ctx.audited.delete_matching(
                table, rows_with_content(tdf, ok), on=comparable_columns(tdf.schema)
            )
        copies.unpersist()
        detail = f"{deletable} logged rows were still in the table"
        if s.extra:
            detail += (
                f"; {s.extra} row contents have more copies than entries and were left in place"
            )
        return done("committed", "completed", deletable, detail)
    finally:
        opened.unpersist()
