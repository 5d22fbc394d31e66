"""The closure step: tonight's transitive lineage from personal data, policy violations, new flows.

Graph nodes are columns (``schema.table.column``) and tables (``schema.table``):

* column level: DIRECT column edges, plus INDIRECT edges into the target table node (a leaf: the
  column influenced the table without being copied); sources are every catalog column whose data
  category is personal (``user.*``);
* table level: one edge per (source table, target table) over every signal; sources are every asset.

Review decisions (``review_decisions``) are applied to the edges first, so excluded nodes and,
with cascade, what is reachable only through them, drop out. Tonight's rows replace the run date's
slice of ``lineage_closure``; ``policy_violations`` and ``new_flows`` are derived from them.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.context import JobContext, StepResult
from lineage.flows import graph_edges
from lineage.graph.columns import CLOSURE_FLOW_COLUMNS
from lineage.graph.search import closure_with_paths
from lineage.masking import hop_masking, with_path_masking

PERSONAL_PREFIX = "user"
#: Columns added to ``lineage_closure`` after its first release (older warehouses get them NULL).
CLOSURE_ADDED_COLUMNS = {"masked_on_path": "boolean", "last_hop_masked": "boolean"}


def _nodes(g: DataFrame) -> DataFrame:
    return (
        g.select(
            F.col("src").alias("node"),
            "level",
            F.col("src_asset").alias("asset"),
            F.col("src_column").alias("column"),
        )
        .unionByName(
            g.select(
                F.col("dst").alias("node"),
                "level",
                F.col("dst_asset").alias("asset"),
                F.col("dst_column").alias("column"),
            )
        )
        .dropDuplicates(["node", "level"])
    )


def apply_review(ctx: JobContext, g: DataFrame) -> DataFrame:
    """Drop the edges that review decisions exclude (see :mod:`lineage.review`)."""
    if not ctx.store.exists("review_decisions"):
        return g
    from lineage.review import apply_review as hide_reviewed

    return hide_reviewed(g, ctx.store.read("review_decisions"))


def closure_rows(ctx: JobContext, g: DataFrame, sources: DataFrame, level: str) -> DataFrame:
    """Closure of one level, split back into asset/column names."""
    lg = g.filter(F.col("level") == level).select("src", "dst", "confidence")
    lin = ctx.cfg.lineage
    rows = closure_with_paths(
        lg, sources, max_depth=lin.max_depth, min_confidence=lin.min_confidence
    )
    nodes = _nodes(g.filter(F.col("level") == level)).drop("level")
    s = nodes.select(
        F.col("node").alias("source"),
        F.col("asset").alias("source_asset"),
        F.col("column").alias("source_column"),
    )
    t = nodes.select(
        F.col("node"), F.col("asset").alias("target_asset"), F.col("column").alias("target_column")
    )
    hops = hop_masking(g.filter(F.col("level") == level))
    return (
        rows.join(s, "source")
        .join(t, "node")
        .transform(with_path_masking(hops))
        .select(
            *CLOSURE_FLOW_COLUMNS,
            F.lit(ctx.run_date).alias("run_date"),
            F.lit(level).alias("level"),
            "masked_on_path",
            "last_hop_masked",
        )
    )


def run_closure(ctx: JobContext) -> StepResult:
    """The closure step."""
    result = StepResult()
    if not ctx.store.exists("lineage_edges"):
        ctx.log("closure: no lineage edges yet")
        return result
    edges = ctx.store.read("lineage_edges")
    g = apply_review(ctx, graph_edges(edges)).persist()
    personal = (
        ctx.store.read("columns")
        .filter(
            (F.col("data_category") == PERSONAL_PREFIX)
            | F.col("data_category").startswith(PERSONAL_PREFIX + ".")
        )
        .select(F.concat_ws(".", "asset_id", "column").alias("node"))
    )
    tables = ctx.store.read("assets").select(F.col("asset_id").alias("node"))
    tonight = closure_rows(ctx, g, personal, "column").unionByName(
        closure_rows(ctx, g, tables, "table")
    )
    if ctx.store.exists("lineage_closure"):
        ctx.store.add_columns("lineage_closure", CLOSURE_ADDED_COLUMNS)
    ctx.store.replace_where("lineage_closure", tonight, F.col("run_date") == F.lit(ctx.run_date))
    g.unpersist()
    closure = (
        ctx.store.read("lineage_closure").filter(F.col("run_date") == F.lit(ctx.run_date)).persist()
    )
    result.rows_written = closure.count()
    result.inputs_read = edges.count()
    result.details["by_level"] = {
        r.level: r["count"] for r in closure.groupBy("level").count().collect()
    }
    from jobs.steps.policy import policy_and_new_flows

    violations, new = policy_and_new_flows(ctx, closure)
    result.findings = violations
    result.details.update(policy_violations=violations, new_flows=new)
    closure.unpersist()
    ctx.log(
        f"closure: {result.rows_written} reachable pairs, {violations} policy violations, {new} new flows"
    )
    return result
