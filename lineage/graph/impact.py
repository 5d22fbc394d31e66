"""Impact of a schema change, and upstream/downstream neighbourhoods, on top of the closure.

Nodes follow :mod:`lineage.graph.nodes`: ``schema.table`` for a table, ``schema.table.column`` for
a column. Table-level edges (from logs that only know which tables a job read and wrote) connect
table nodes; column-level edges connect column nodes. A change to a column therefore starts from
the column node and, by default, from its table node too: a consumer known only at table level
may read the column, and an impact analysis must not miss it.

Example:
    >>> rows = impact(edges, "crm.customers", columns=["email"])   # then join assets for owners
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lineage.graph.nodes import asset_col, column_col, node_col, node_name, split_node
from lineage.graph.search import ClosureOptions, closure_with_paths

__all__ = [
    "affected_assets",
    "downstream",
    "impact",
    "node_col",
    "node_name",
    "split_node",
    "upstream",
]

NEIGHBOUR_SCHEMA = (
    "source string, node string, depth int, confidence double, path array<string>, "
    "asset string, column string"
)


def _nodes_df(edges: DataFrame, nodes: DataFrame | Sequence[str]) -> DataFrame:
    if isinstance(nodes, DataFrame):
        return nodes.select(F.col("node").cast("string").alias("node"))
    return edges.sparkSession.createDataFrame([(n,) for n in nodes], "node string")


def _with_parts(df: DataFrame) -> DataFrame:
    return df.withColumn("asset", asset_col("node")).withColumn("column", column_col("node"))


def downstream(
    edges: DataFrame,
    nodes: DataFrame | Sequence[str],
    *,
    depth: int | None = None,
    min_confidence: float = 0.0,
    options: ClosureOptions | None = None,
) -> DataFrame:
    """Everything the given nodes flow into, to ``depth`` hops.

    Args:
        edges: ``[src, dst, confidence]``.
        nodes: a ``[node]`` DataFrame or a list of node names.
        depth: the most hops (None: unbounded).
        min_confidence: the least path confidence.
        options: closure options.

    Returns:
        ``[source, node, depth, confidence, path, asset, column]``: ``source`` is the queried node,
        ``path`` runs from it to ``node``.
    """
    rows = closure_with_paths(
        edges,
        _nodes_df(edges, nodes),
        max_depth=depth,
        min_confidence=min_confidence,
        options=options,
    )
    return _with_parts(rows)


def upstream(
    edges: DataFrame,
    nodes: DataFrame | Sequence[str],
    *,
    depth: int | None = None,
    min_confidence: float = 0.0,
    options: ClosureOptions | None = None,
) -> DataFrame:
    """Everything that flows into the given nodes, to ``depth`` hops.

    Returns:
        ``[source, node, depth, confidence, path, asset, column]``: ``source`` is the queried node,
        ``node`` an upstream node, and ``path`` runs in the direction of the flow, from ``node``
        to ``source``.
    """
    cols = ["confidence"] if "confidence" in edges.columns else []
    reverse = edges.select(F.col("dst").alias("src"), F.col("src").alias("dst"), *cols)
    rows = downstream(reverse, nodes, depth=depth, min_confidence=min_confidence, options=options)
    return rows.withColumn("path", F.reverse("path"))


def impact(
    edges: DataFrame,
    table: str,
    *,
    columns: Sequence[str] | None = None,
    include_table: bool = True,
    max_depth: int | None = None,
    min_confidence: float = 0.0,
    options: ClosureOptions | None = None,
) -> DataFrame:
    """The nodes affected by a change to ``table`` (dropping, renaming or retyping ``columns``).

    Args:
        edges: ``[src, dst, confidence]``.
        table: the changed asset, e.g. ``crm.customers``.
        columns: the changed columns (None or empty: the whole table changes).
        include_table: also start from the table node, to reach table-level consumers.
        max_depth: the most hops (None: unbounded).
        min_confidence: the least path confidence.
        options: closure options.

    Returns:
        ``[changed, node, asset, column, depth, confidence, path]``, one row per affected node:
        the closest one (fewest hops, then most confident) of the changed nodes that reach it, with
        the best path from that one. The changed nodes themselves are not listed. Empty means the
        change is safe as far as the lineage knows.
    """
    starts = [node_name(table, c) for c in (columns or [])]
    if include_table or not starts:
        starts.append(table)
    rows = downstream(
        edges, starts, depth=max_depth, min_confidence=min_confidence, options=options
    ).where(~F.col("node").isin(starts))
    pick = Window.partitionBy("node").orderBy(
        F.col("depth").asc(), F.col("confidence").desc(), F.col("source").asc()
    )
    return (
        rows.withColumn("_rank", F.row_number().over(pick))
        .where(F.col("_rank") == 1)
        .select(
            F.col("source").alias("changed"),
            "node",
            "asset",
            "column",
            "depth",
            "confidence",
            "path",
        )
    )


def affected_assets(impact_rows: DataFrame, changed_table: str | None = None) -> DataFrame:
    """Group :func:`impact` rows by asset (the caller joins ``assets`` for kind and owner).

    Args:
        impact_rows: :func:`impact` rows.
        changed_table: the changed table; when given, each asset also gets its ``evidence``:
            ``confirmed`` when a changed column reaches it through column lineage, ``possible``
            when only the table node does (table-level lineage: the asset reads the table, not
            necessarily the changed columns).

    Returns:
        ``[asset, depth, columns, path]`` (plus ``evidence``): the fewest hops to any node of the
        asset, its affected columns (sorted; empty when only the table node is reached) and the
        path to its closest node.
    """
    closest = Window.partitionBy("asset").orderBy(
        F.col("depth").asc(), F.col("confidence").desc(), F.col("node").asc()
    )
    ranked = impact_rows.withColumn("_rank", F.row_number().over(closest))
    first = ranked.where(F.col("_rank") == 1).select("asset", "depth", "path")
    aggs = [F.array_sort(F.collect_set("column")).alias("columns")]
    out = ["asset", "depth", "columns", "path"]
    if changed_table is not None:
        by_column = F.max((F.col("changed") != F.lit(changed_table)).cast("int"))
        aggs.append(
            F.when(by_column == 1, F.lit("confirmed"))
            .otherwise(F.lit("possible"))
            .alias("evidence")
        )
        out.append("evidence")
    cols = impact_rows.groupBy("asset").agg(*aggs)
    return first.join(cols, "asset").select(*out)
