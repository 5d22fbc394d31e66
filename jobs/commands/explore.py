"""On-demand lineage questions: impact of a schema change, upstream/downstream, review decisions.

These run against the current ``lineage_edges`` (or, with ``as_of``, the table as it was at the end
of that date, through Delta time travel) and print small results; nothing table-sized reaches the
driver beyond the answer itself.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.commands.impact_answer import (
    HISTORY_COLUMNS,
    ImpactAnswer,
    parse_changes,
    unknown_columns,
)
from jobs.context import JobContext
from jobs.errors import TableError, UsageError
from jobs.steps.closure import apply_review
from jobs.store.schemas import SCHEMAS
from lineage.flows import graph_edges
from lineage.graph.answers import lineage_text
from lineage.graph.impact import affected_assets, downstream, impact, upstream

REVIEW_SCHEMA = str(SCHEMAS["review_decisions"])


def _edges(ctx: JobContext, as_of: date | None = None) -> DataFrame:
    if not ctx.store.exists("lineage_edges"):
        raise UsageError("no lineage yet: run `compliance nightly` (or `compliance ingest`) first")
    if as_of is None:
        edges = ctx.store.read("lineage_edges")
    else:
        try:
            edges = ctx.store.read(
                "lineage_edges", as_of=datetime.combine(as_of + timedelta(days=1), time())
            )
        except TableError as exc:
            raise UsageError(f"no lineage as of {as_of}: {exc}") from None
    g = apply_review(ctx, graph_edges(edges))
    return (
        g.select("src", "dst", "confidence")
        .groupBy("src", "dst")
        .agg(F.max("confidence").alias("confidence"))
    )


def _known_node(ctx: JobContext, g: DataFrame, node: str) -> None:
    hit = g.filter((F.col("src") == node) | (F.col("dst") == node)).limit(1).count()
    if not hit:
        assets = (
            [r.asset_id for r in ctx.store.read("assets").select("asset_id").collect()]
            if ctx.store.exists("assets")
            else []
        )
        import difflib

        near = difflib.get_close_matches(node, assets, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise UsageError(f"{node!r} does not appear in the lineage{hint}")


def _known_columns(ctx: JobContext, g: DataFrame, table: str, columns: list[str]) -> None:
    """Refuse a changed column that is neither in the catalog's ``columns`` nor in the lineage.

    Raises:
        UsageError: naming every unknown column, with the closest known names.
    """
    if not columns:
        return
    prefix = table + "."
    in_lineage = {
        r.n[len(prefix) :]
        for r in g.select(F.explode(F.array("src", "dst")).alias("n"))
        .filter(F.col("n").startswith(prefix))
        .distinct()
        .collect()
    }
    cat = ctx.store.read("columns", missing_ok=True)
    declared = (
        {
            r.column.lower()
            for r in cat.filter(F.lower("asset_id") == table).select("column").collect()
        }
        if cat is not None
        else set()
    )
    unknown_columns(table, columns, in_lineage | declared)


def run_impact(
    ctx: JobContext,
    table: str,
    *,
    drop: list[str],
    rename: list[str],
    retype: list[str],
    depth: int | None = None,
) -> ImpactAnswer:
    """Everything downstream of the changed columns of ``table``, grouped by asset."""
    columns, changes = parse_changes(drop, rename, retype)
    g = _edges(ctx)
    _known_node(ctx, g, table.lower())
    _known_columns(ctx, g, table.lower(), [c.lower() for c in columns])
    rows = impact(g, table.lower(), columns=[c.lower() for c in columns] or None, max_depth=depth)
    grouped = affected_assets(rows, table.lower())
    assets = ctx.store.read("assets").select(
        F.col("asset_id").alias("asset"), "kind", "owner", "zone"
    )
    out = grouped.join(assets, "asset", "left").orderBy("kind", "owner", "depth", "asset").collect()
    return ImpactAnswer(
        table, changes, [r.asDict(recursive=True) for r in out], schema_history(ctx, table)
    )


def schema_history(ctx: JobContext, table: str) -> list[dict[str, Any]]:
    """The schema events of one table over all nights, oldest first (one row per event)."""
    events = ctx.store.read("schema_events", missing_ok=True)
    if events is None:
        return []
    rows = (
        events.filter(F.col("asset") == table.lower())
        .groupBy("event", "column", "detail")
        .agg(
            F.min("first_seen").alias("first_seen"),
            F.max("last_seen").alias("last_seen"),
            F.sum("seen_count").alias("seen_count"),
        )
        .orderBy("first_seen", "event", "column")
        .limit(200)
        .collect()
    )
    return [{c: r[c] for c in HISTORY_COLUMNS} for r in rows]


def run_lineage(
    ctx: JobContext, direction: str, node: str, *, depth: int | None, as_of: date | None
) -> str:
    """Upstream or downstream of a node, as text lines."""
    g = _edges(ctx, as_of)
    node = node.lower()
    _known_node(ctx, g, node)
    fn = upstream if direction == "up" else downstream
    rows = fn(g, [node], depth=depth).orderBy("depth", "node").collect()
    return lineage_text(direction, node, [(r.node, r.depth, r.confidence) for r in rows], as_of)


def record_review(
    ctx: JobContext, decision: str, node: str, *, cascade: bool, reason: str, reviewer: str
) -> str:
    """Append a review decision; the next closure applies it (decisions survive recomputation)."""
    if not reason.strip():
        raise UsageError("--reason must say why (auditors read it)")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    df = ctx.spark.createDataFrame(
        [(node.lower(), decision, cascade, reviewer, reason, now)], REVIEW_SCHEMA
    )
    ctx.store.append("review_decisions", df)
    extra = " with cascade" if cascade else ""
    return f"recorded: {decision} {node}{extra} by {reviewer}; applied from the next `compliance closure`"
