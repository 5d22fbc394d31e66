"""``compliance restore DELETION_ID``: put purged rows back while their key lives (issue 6, item 4).

Only entries of **committed** purges are used (a pending purge's rows are still in place). The
entries are verified and decrypted on the executors under the live keys
(``Keyring.live_keys(today, window)``); an entry whose key is gone or past the window is
``expired`` (unrecoverable by design), one that does not verify is ``tampered``; neither is
restored. Entries already removed from ``restoration_log`` by the nightly log audit are counted
as expired from ``purge_journal``.

Each entry is restored at most once. Two more kinds of tampering are refused, since their MAC
alone cannot tell:

* a **replay**: a second row of the log with an entry id already present (a copied entry);
  one copy is used, the others are ``tampered`` (``replayed``);
* a **relabel**: an entry whose purge has no ``purge_journal`` row for the entry's deletion and
  table (moved to another deletion or purge); ``tampered`` (``relabelled``), never mistaken for
  an uncommitted purge.

An entry whose (entry id, written at) already has the outcome ``restored`` in
``restore_journal`` is not restored again, even if its row has since left the table.

Exit codes of ``compliance restore`` (:meth:`RestoreReport.exit_code`): 0 when every entry was
restored or already present; :data:`EXIT_EXPIRED` (4) when entries could not be restored
because their key is destroyed; :data:`EXIT_TAMPERED` (5) when entries do not verify, are
replays or relabels (5 wins over 4).

Idempotence is by content: for each row content with ``k`` entries, the rows already in the table
with the same content (the same deterministic JSON) count as restored, and only the missing
copies are appended. Restoring twice inserts once, and a crash between the append and the
bookkeeping is harmless. Outcomes are appended to ``restore_journal`` (one row per entry, written
time and outcome) for the per-day counts of the log audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from audits.restoration.batch import DECRYPTED_SCHEMA, ENCRYPTED_SCHEMA, make_decryptor
from jobs.commands.restoration_rows import (
    JOURNAL_TABLE,
    LOG_TABLE,
    RESTORES_SCHEMA,
    RESTORES_TABLE,
    day_start,
    expired_before,
    parse_rows,
    present_copies,
    resolve_now,
    tampered_entry_ids,
    window_days,
)
from jobs.context import JobContext
from jobs.secrets.keyring import Keyring

_ONE_DAY = timedelta(days=1)
#: Exit code of a restore that left entries behind because their key is destroyed.
EXIT_EXPIRED = 4
#: Exit code of a restore that found tampered, replayed or relabelled entries.
EXIT_TAMPERED = 5
_REPLAYED = "replayed: another row of the log has the same entry id (a copied entry)"
_RELABELLED = (
    "relabelled: purge_journal has no row of its purge for this deletion and table "
    "(moved from another deletion or purge)"
)


@dataclass(frozen=True)
class RestoredTable:
    """Outcome counts for one audited table."""

    table: str
    """The audited table."""
    inserted: int
    """Rows appended now."""
    already_present: int
    """Entries whose row is already in the table (restored before, or never gone)."""
    expired: int
    """Entries whose key is destroyed or past the window: unrecoverable by design."""
    tampered: int
    """Entries that do not verify: not restored."""


@dataclass
class RestoreReport:
    """What ``compliance restore`` did. Never holds row data or key material."""

    deletion_id: str
    """The deletion restored."""
    run_date: date
    """The run date."""
    window_days: int
    """The restoration window."""
    tables: list[RestoredTable] = field(default_factory=list)
    """Counts per table."""
    pending: int = 0
    """Entries of purges that never committed (their rows were not deleted)."""
    destroyed: int = 0
    """Entries past the window already removed from the log (from ``purge_journal``)."""
    tampered_entries: list[str] = field(default_factory=list)
    """Ids of tampered entries (the first few)."""
    replayed: int = 0
    """Tampered entries that are extra copies of another entry (counted in ``tampered``)."""
    relabelled: int = 0
    """Tampered entries moved to another deletion or purge (counted in ``tampered``)."""

    @property
    def exit_code(self) -> int:
        """0, or :data:`EXIT_TAMPERED` / :data:`EXIT_EXPIRED` when entries were not restored."""
        if self.tampered:
            return EXIT_TAMPERED
        return EXIT_EXPIRED if self.expired else 0

    @property
    def inserted(self) -> int:
        """Rows appended now."""
        return sum(t.inserted for t in self.tables)

    @property
    def expired(self) -> int:
        """Entries unrecoverable because their key is gone (including those already removed)."""
        return sum(t.expired for t in self.tables) + self.destroyed

    @property
    def tampered(self) -> int:
        """Entries that failed verification."""
        return sum(t.tampered for t in self.tables)

    def text(self) -> str:
        """A few human lines for the CLI."""
        lines = [f"restore of deletion {self.deletion_id} (run date {self.run_date})"]
        for t in self.tables:
            lines.append(
                f"  {t.table:<32} restored {t.inserted:>7}  already present {t.already_present:>7}"
                f"  expired {t.expired:>6}  tampered {t.tampered:>5}"
            )
        if not self.tables and not self.destroyed:
            lines.append("  no restoration-log entries for this deletion")
        if self.expired:
            lines.append(
                f"  {self.expired} entries are past the {self.window_days}-day window: their key is "
                "destroyed, they are unrecoverable by design"
            )
        if self.tampered:
            listed = ", ".join(self.tampered_entries)
            lines.append(
                f"  {self.tampered} entries do not verify (tampered), not restored: {listed}"
            )
            if self.replayed:
                lines.append(
                    f"  of which {self.replayed} are replays (a second copy of an entry "
                    "already in the log): each entry is restored at most once"
                )
            if self.relabelled:
                lines.append(
                    f"  of which {self.relabelled} are relabelled (their purge has no "
                    "journal row for this deletion and table)"
                )
        if self.pending:
            lines.append(
                f"  {self.pending} entries belong to an uncommitted purge: their rows were never "
                "removed (the next purge completes or abandons it)"
            )
        return "\n".join(lines)


def restore(
    ctx: JobContext, deletion_id: str, *, keyring: Keyring, now: datetime | None = None
) -> RestoreReport:
    """Decrypt and re-insert the purged rows of one deletion while their key lives.

    Args:
        ctx: the job context.
        deletion_id: the deletion whose purged rows come back.
        keyring: the keys; only the live ones (inside the window) are used.
        now: the injected clock (naive UTC); defaults to the run date at the current time.

    Returns:
        The report; ``text()`` is what the CLI prints.
    """
    now = resolve_now(ctx, now)
    window = window_days(ctx)
    report = RestoreReport(deletion_id, ctx.run_date, window)
    if not ctx.store.exists(LOG_TABLE) or not ctx.store.exists(JOURNAL_TABLE):
        return report
    journal = ctx.store.read(JOURNAL_TABLE).filter(F.col("deletion_id") == deletion_id)
    states = journal.select("purge_id", "table", "state").dropDuplicates(["purge_id", "table"])
    entries = ctx.store.read(LOG_TABLE).filter(F.col("deletion_id") == deletion_id)
    tagged = entries.join(states, ["purge_id", "table"], "left")
    report.pending = tagged.filter(F.col("state").isin("pending", "abandoned")).count()
    report.destroyed = _destroyed(ctx, journal, entries, now.date(), window)
    usable = tagged.filter(F.col("state") == "committed").select(*ENCRYPTED_SCHEMA.fieldNames())
    decrypted = usable.mapInArrow(
        make_decryptor(keyring.live_keys(now.date(), window)), DECRYPTED_SCHEMA
    )
    relabelled = tagged.filter(F.col("state").isNull()).select(
        "entry_id",
        "deletion_id",
        "table",
        "created_at",
        "key_id",
        F.lit(None).cast("string").alias("row_json"),
        F.lit("tampered").alias("status"),
        F.lit(_RELABELLED).alias("detail"),
    )
    opened = _once(ctx, decrypted.unionByName(relabelled)).persist()
    try:
        counts = {
            (r.table, r.status): r["count"]
            for r in opened.groupBy("table", "status").count().collect()
        }
        kinds = {
            r.kind: r["count"]
            for r in opened.filter(F.col("status") == "tampered")
            .groupBy(F.split("detail", ":")[0].alias("kind"))
            .count()
            .collect()
        }
        report.replayed = int(kinds.get("replayed", 0))
        report.relabelled = int(kinds.get("relabelled", 0))
        report.tampered_entries = tampered_entry_ids(opened)
        outcomes = []
        for table in sorted({t for t, _ in counts}):
            ok = opened.filter((F.col("status") == "ok") & (F.col("table") == table))
            inserted, present = (
                _restore_table(ctx, table, ok, outcomes) if counts.get((table, "ok")) else (0, 0)
            )
            present += counts.get((table, "restored_before"), 0)
            report.tables.append(
                RestoredTable(
                    table,
                    inserted,
                    present,
                    counts.get((table, "expired"), 0),
                    counts.get((table, "tampered"), 0),
                )
            )
            ctx.log(f"restore: {table}: {inserted} rows restored")
        bad = opened.filter(F.col("status") != "ok").select(
            "entry_id",
            "created_at",
            "deletion_id",
            "table",
            F.when(F.col("status") == "restored_before", "already_present")
            .otherwise(F.col("status"))
            .alias("outcome"),
        )
        outcomes.append(bad)
        _record(ctx, outcomes, now)
    finally:
        opened.unpersist()
    return report


def _once(ctx: JobContext, opened: DataFrame) -> DataFrame:
    """Each entry at most once: extra copies of an entry id are replays, and an entry already
    restored by an earlier run (``restore_journal``) is never used again."""
    first = Window.partitionBy("entry_id").orderBy(
        F.when(F.col("status") == "ok", 0).otherwise(1), "created_at", "key_id"
    )
    ranked = opened.withColumn("_copy", F.row_number().over(first))
    replay = F.col("_copy") > 1
    out = ranked.select(
        *[c for c in DECRYPTED_SCHEMA.fieldNames() if c not in ("row_json", "status", "detail")],
        F.when(replay, F.lit(None).cast("string")).otherwise(F.col("row_json")).alias("row_json"),
        F.when(replay, "tampered").otherwise(F.col("status")).alias("status"),
        F.when(replay, _REPLAYED).otherwise(F.col("detail")).alias("detail"),
    )
    if not ctx.store.exists(RESTORES_TABLE):
        return out
    done = (
        ctx.store.read(RESTORES_TABLE)
        .filter(F.col("outcome") == "restored")
        .select(
            "entry_id", F.col("entry_created_at").alias("created_at"), F.lit(True).alias("_done")
        )
        .distinct()
    )
    marked = out.join(done, ["entry_id", "created_at"], "left")
    again = (F.col("status") == "ok") & F.col("_done").isNotNull()
    return marked.select(
        *[c for c in DECRYPTED_SCHEMA.fieldNames() if c != "status"],
        F.when(again, "restored_before").otherwise(F.col("status")).alias("status"),
    ).select(*DECRYPTED_SCHEMA.fieldNames())


def _restore_table(
    ctx: JobContext, table: str, ok: DataFrame, outcomes: list[DataFrame]
) -> tuple[int, int]:
    """Append the missing copies of ``ok`` rows to ``table``; returns (inserted, already present)."""
    if not ctx.audited.exists(table):
        missing = ok.select(
            "entry_id",
            "created_at",
            "deletion_id",
            "table",
            F.lit("table_missing").alias("outcome"),
        )
        outcomes.append(missing)
        ctx.log(f"restore: {table}: the audited table no longer exists, nothing restored")
        return 0, 0
    tdf = ctx.audited.read(table, version=ctx.audited.version(table))
    ranked = ok.withColumn(
        "_n", F.row_number().over(Window.partitionBy("row_json").orderBy("entry_id"))
    )
    decided = (
        ranked.join(present_copies(tdf, ok), "row_json")
        .withColumn(
            "outcome",
            F.when(F.col("_n") > F.col("present"), "restored").otherwise("already_present"),
        )
        .persist()
    )
    try:
        stats = {r.outcome: r["count"] for r in decided.groupBy("outcome").count().collect()}
        inserted = int(stats.get("restored", 0))
        if inserted:
            rows = parse_rows(
                decided.filter(F.col("outcome") == "restored"), "row_json", tdf.schema
            )
            ctx.audited.append(table, rows)
        outcomes.append(
            decided.select(
                "entry_id", "created_at", "deletion_id", "table", "outcome"
            ).localCheckpoint()
        )
        return inserted, int(stats.get("already_present", 0))
    finally:
        decided.unpersist()


def _record(ctx: JobContext, outcomes: list[DataFrame], now: datetime) -> None:
    """Append the outcomes not yet in ``restore_journal`` (keyed by entry, written at, outcome)."""
    if not outcomes:
        return
    df = reduce(DataFrame.unionByName, outcomes)
    names = [c.split()[0] for c in RESTORES_SCHEMA.split(", ")]
    df = df.select(
        "entry_id",
        F.col("created_at").alias("entry_created_at"),
        "deletion_id",
        "table",
        "outcome",
        F.lit(now).alias("restored_at"),
        F.lit(ctx.run_date).alias("run_date"),
    ).select(*names)
    keys = ["entry_id", "entry_created_at", "outcome"]
    if ctx.store.exists(RESTORES_TABLE):
        df = df.join(ctx.store.read(RESTORES_TABLE).select(*keys), keys, "left_anti")
    ctx.store.append(RESTORES_TABLE, df.localCheckpoint())


def _destroyed(
    ctx: JobContext, journal: DataFrame, entries: DataFrame, today: date, window: int
) -> int:
    """Entries of committed purges past the window whose entries are gone from the log."""
    old = journal.filter(
        (F.col("state") == "committed")
        & (F.col("started_at") < F.lit(day_start(expired_before(today, window) + _ONE_DAY)))
    )
    gone = old.join(entries.select("purge_id").distinct(), "purge_id", "left_anti")
    total: Any = gone.agg(F.sum("entries")).first()[0]
    return int(total or 0)
