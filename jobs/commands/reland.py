"""``compliance reland``: replay rejected input lines once their cause is fixed (dead letters).

A line the landing rejected stays in ``rejected_inputs``, and its file is recorded as landed in
``landed_files``: an unchanged file is never read again, so a line rejected by a configuration
problem since fixed (a ``query_log_sources`` format or dialect, a catalog entry) or by a product
release since corrected would be lost. ``reland`` selects rejected lines (by kind, source,
reason text or the run date that rejected them) and hands them to the landing's own retry path,
the one held lines take (:mod:`jobs.steps.land`):

1. each selected line becomes a ``held_inputs`` row due at once (``until`` the start of the run
   date that rejected it, so any later landing takes it), its ``rejected_inputs`` row is removed
   and its file's ``landed_files`` row moves the line from ``rejected`` to ``held``: the ledger
   still adds up (lines = accepted + rejected + held);
2. the next landing (``compliance nightly`` or ``compliance land``) reads those lines again with
   tonight's configuration: each lands, is rejected again (a new ``rejected_inputs`` row with
   tonight's reason) or is held by its event time, and the night's counts say so ("held lines
   released"); the night's ingest then reads what landed, as for any line landed that night;
3. the replay is recorded in ``relandings`` (when, the selection, per file the lines queued).

Idempotent: a line queued once is no longer in ``rejected_inputs``, so running the same reland
again queues nothing. Rejections written by later steps (SQL the ingest could not analyse,
deletion events the audit refused) are not landing rejections: those steps recheck them on
every rerun of the night, and reland leaves them alone. A file that could not be read at all
(``location`` ``file``) is looked at again by every landing already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from pyspark.sql import functions as F

from audits.inputs import JSONL_KINDS
from jobs.context import JobContext
from jobs.store.schemas import SCHEMAS

TABLE = "relandings"
SCHEMA = SCHEMAS[TABLE]
#: Reasons written by steps after the landing (they recheck their own rejections on a rerun).
LATER_STEP_PREFIXES: tuple[str, ...] = ("SQL not analysed (", "deletion event rejected: ")
LINE = r"^line ([0-9]+)$"


@dataclass
class RelandReport:
    """What a reland queued (or, with ``dry_run``, would queue)."""

    selection: str
    dry_run: bool
    files: list[tuple[str, str, int]] = field(default_factory=list)
    """(kind, source, lines) per file."""
    reasons: list[tuple[str, int]] = field(default_factory=list)
    """(reason, lines) of the selected rejections."""

    @property
    def lines(self) -> int:
        return sum(n for _k, _s, n in self.files)

    def text(self) -> str:
        if not self.files:
            return f"reland ({self.selection}): no rejected input line matches; nothing queued"
        verb = "would queue" if self.dry_run else "queued"
        out = [
            f"reland ({self.selection}): {verb} {self.lines} rejected line(s) of "
            f"{len(self.files)} file(s) for the next landing"
        ]
        out += [f"  {n:6d}  {kind:18} {src}" for kind, src, n in self.files]
        out.append("  rejected because:")
        out += [f"  {n:6d}  {reason}" for reason, n in self.reasons]
        if not self.dry_run:
            out.append(
                "  the next `compliance nightly` (or `compliance land`) reads them again with "
                "the current configuration"
            )
        return "\n".join(out)


def landing_kinds() -> list[str]:
    """The input kinds whose rejected lines can be relanded (the line-by-line kinds)."""
    return [k.name for k in JSONL_KINDS]


def _selection(kind: str | None, source: str | None, reason: str | None, on: date | None) -> str:
    parts = [
        f"kind={kind}" if kind else "",
        f"source={source}" if source else "",
        f"reason contains {reason!r}" if reason else "",
        f"rejected on {on}" if on else "",
    ]
    return ", ".join(p for p in parts if p) or "every rejected line"


def reland(
    ctx: JobContext,
    *,
    kind: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    rejected_on: date | None = None,
    dry_run: bool = False,
) -> RelandReport:
    """Queue the selected rejected landing lines for the next landing (see the module docstring).

    Args:
        kind: an input kind (``query_logs``, ``deletion_events``, ...).
        source: a file path, or a prefix of one (a folder).
        reason: text the rejection reason contains (case-insensitive).
        rejected_on: the run date whose landing rejected the lines.
        dry_run: say what would be queued and change nothing.
    """
    report = RelandReport(_selection(kind, source, reason, rejected_on), dry_run)
    if not ctx.store.exists("rejected_inputs") or not ctx.store.exists("landed_files"):
        return report
    kinds = landing_kinds()
    rej = ctx.store.read("rejected_inputs").filter(
        F.col("kind").isin(kinds) & F.col("location").rlike(LINE)
    )
    for prefix in LATER_STEP_PREFIXES:
        rej = rej.filter(~F.col("reason").startswith(prefix))
    if kind:
        rej = rej.filter(F.col("kind") == kind)
    if source:
        rej = rej.filter(F.col("source").startswith(source))
    if reason:
        rej = rej.filter(F.lower(F.col("reason")).contains(reason.lower()))
    if rejected_on:
        rej = rej.filter(F.col("run_date") == F.lit(rejected_on))
    ledger = ctx.store.read("landed_files").select("source", "kind")
    picked = (
        rej.join(ledger, ["source", "kind"], "left_semi")
        .select(
            "source",
            "kind",
            "location",
            F.regexp_extract("location", LINE, 1).cast("bigint").alias("line"),
            "reason",
            "run_date",
        )
        .persist()
    )
    try:
        per_file = (
            picked.groupBy("kind", "source")
            .agg(F.count("*").alias("n"), F.min("run_date").alias("first"))
            .orderBy("kind", "source")
            .collect()
        )  # a row per file: small
        report.files = [(r.kind, r.source, int(r.n)) for r in per_file]
        report.reasons = [
            (r.reason, int(r.n))
            for r in picked.groupBy("reason")
            .agg(F.count("*").alias("n"))
            .orderBy("reason")
            .collect()
        ]  # a row per distinct reason: small
        if dry_run or not per_file:
            return report
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        held = picked.select(
            "source",
            "kind",
            "line",
            F.col("run_date").cast("timestamp").alias("until"),  # due for any later landing
            F.concat(F.lit("reland requested: "), F.col("reason")).alias("reason"),
            F.lit(ctx.run_date).alias("run_date"),
        )
        # the ledger first: a reland stopped half-way leaves lines counted as held that are
        # still rejected (the next landing re-reads them: nothing lost), never the reverse
        _move_to_held(ctx, per_file)
        ctx.store.upsert("held_inputs", held, keys=["source", "kind", "line"])
        ctx.store.delete_matching("rejected_inputs", picked, ["source", "location"])
        record = [(now, report.selection, r.kind, r.source, int(r.n), r.first) for r in per_file]
        ctx.store.append_rows(TABLE, record, SCHEMA)
        ctx.log(f"reland: {report.lines} rejected line(s) queued for the next landing")
        return report
    finally:
        picked.unpersist()


def _move_to_held(ctx: JobContext, per_file: list) -> None:
    """Each file's ledger row: ``n`` lines move from ``rejected`` to ``held``, due at once."""
    n = ctx.spark.createDataFrame(
        [(r.source, r.kind, int(r.n), datetime.combine(r.first, time())) for r in per_file],
        "source string, kind string, _n bigint, _due timestamp",
    )
    rows = (
        ctx.store.read("landed_files")
        .join(n, ["source", "kind"])
        .withColumn("rejected", F.greatest(F.col("rejected") - F.col("_n"), F.lit(0)))
        .withColumn("held", F.coalesce(F.col("held"), F.lit(0)) + F.col("_n"))
        .withColumn(
            "held_until",
            F.when(F.col("held_until").isNull(), F.col("_due")).otherwise(
                F.least("held_until", "_due")
            ),
        )
        .drop("_n", "_due")
    )
    ctx.store.upsert("landed_files", rows, keys=["source", "kind"])
