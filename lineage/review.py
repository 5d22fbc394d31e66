"""Review decisions applied to the lineage graph before the closure (cascading exclusion).

A reviewer marks a node *include* (confirmed: the data does reach it) or *exclude* (a false
positive), optionally with *cascade*. Decisions live in ``review_decisions`` (node, decision,
cascade, reviewer, reason, decided_at) and are re-applied every night, so they survive the
recomputation of the closure.

Exact semantics:

* **Latest decision wins.** Per node only the decision with the latest ``decided_at`` counts, so
  an include overrides an earlier exclude and vice versa. On a tie, include wins over exclude and
  exclude without cascade over exclude with cascade (the choice that hides less). Decisions other
  than ``include``/``exclude`` (case-insensitive) and rows without node or time are ignored.
* **exclude** (without cascade) hides the node: every edge into or out of it is dropped. The
  closure stops there and never reports it; anything reached only through it is therefore not
  reported either, *from those sources*. But the nodes downstream of it keep their own edges: they
  are still reported when reachable another way, and a closure or lineage query that starts from
  one of them (for example a downstream column that carries a personal category of its own) still
  sees its flows.
* **exclude with cascade** hides the node and its *exclusive downstream*: every node reachable
  from it that, once all excluded nodes are removed, can no longer be reached from any node outside
  that downstream. Their edges are all dropped, so they vanish from every closure and query,
  including as starting points (seed 000: one early exclusion saves reviewing its whole
  downstream). A node of the downstream that is also fed by an independent path stays, and so does
  everything it reaches. A node whose every route passes through excluded nodes, at least one of
  which cascades to it, is hidden.
* **include** marks a node as confirmed: it is never hidden by another node's cascade (it and what
  it reaches stay in the graph), although edges from an excluded node into it are still dropped.

Example:
    >>> kept = apply_review(edges, decisions)      # then closure(kept, sources)
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lineage.graph.search import ClosureOptions, closure

#: Name of the virtual node used to search from many seeds at once (cannot clash with a node).
_SEED = "\u0000review-seed"


def latest_decisions(decisions: DataFrame) -> DataFrame:
    """The decision in force per node.

    Args:
        decisions: ``[node, decision, cascade, decided_at, ...]``.

    Returns:
        ``[node, decision, cascade]``, one row per node, decision lower case, cascade not null.
    """
    clean = decisions.select(
        F.col("node").cast("string").alias("node"),
        F.lower(F.trim(F.col("decision"))).alias("decision"),
        F.coalesce(F.col("cascade").cast("boolean"), F.lit(False)).alias("cascade"),
        F.col("decided_at"),
    ).where(
        F.col("node").isNotNull()
        & F.col("decided_at").isNotNull()
        & F.col("decision").isin("include", "exclude")
    )
    order = Window.partitionBy("node").orderBy(
        F.col("decided_at").desc(),
        (F.col("decision") == "include").desc(),
        F.col("cascade").asc(),
    )
    return (
        clean.withColumn("_rank", F.row_number().over(order))
        .where(F.col("_rank") == 1)
        .select("node", "decision", "cascade")
    )


def hidden_nodes(
    edges: DataFrame, decisions: DataFrame, *, options: ClosureOptions | None = None
) -> DataFrame:
    """The nodes the review hides, and why.

    Args:
        edges: ``[src, dst, ...]``.
        decisions: ``review_decisions`` rows (see :func:`latest_decisions`).
        options: closure options for the two searches this runs.

    Returns:
        ``[node string, reason string, excluded_by array<string>]``: ``reason`` is ``excluded``
        (the node's own decision; ``excluded_by`` is the node itself) or ``cascade`` (hidden by
        the cascading exclusion of the sorted ``excluded_by`` nodes that reach it).
    """
    latest = latest_decisions(decisions)
    excluded = latest.where(F.col("decision") == "exclude").select("node", "cascade")
    included = latest.where(F.col("decision") == "include").select("node")
    graph = edges.select(
        F.col("src").cast("string").alias("src"), F.col("dst").cast("string").alias("dst")
    ).where(F.col("src").isNotNull() & F.col("dst").isNotNull())
    nodes = graph.select(F.col("src").alias("node")).union(graph.select("dst")).distinct()

    own = excluded.select(
        "node", F.lit("excluded").alias("reason"), F.array("node").alias("excluded_by")
    )
    cascading = excluded.where("cascade").select("node")
    if cascading.isEmpty():  # a small query on the decisions: skip both graph searches
        return own
    # Materialised once: used for the downstream set and for the excluded_by lists.
    below = (
        closure(graph, cascading, options=options)
        .select(F.col("source").alias("by"), "node")
        .localCheckpoint()
    )
    downstream = below.select("node").distinct()
    seeds = (
        nodes.join(downstream, "node", "left_anti")
        .unionByName(included)
        .join(excluded, "node", "left_anti")
        .distinct()
    )
    open_graph = graph.join(excluded.select(F.col("node").alias("src")), "src", "left_anti").join(
        excluded.select(F.col("node").alias("dst")), "dst", "left_anti"
    )
    seed_edges = seeds.select(F.lit(_SEED).alias("src"), F.col("node").alias("dst"))
    kept = closure(
        open_graph.select("src", "dst").unionByName(seed_edges),
        graph.sparkSession.createDataFrame([(_SEED,)], "node string"),
        options=options,
    ).select("node")
    cascaded = (
        below.join(kept, "node", "left_anti")
        .join(excluded, "node", "left_anti")
        .groupBy("node")
        .agg(F.array_sort(F.collect_set("by")).alias("excluded_by"))
        .select("node", F.lit("cascade").alias("reason"), "excluded_by")
    )
    return own.unionByName(cascaded)


def apply_review(
    edges: DataFrame, decisions: DataFrame, *, options: ClosureOptions | None = None
) -> DataFrame:
    """The edges with every hidden node (see :func:`hidden_nodes`) cut out.

    Args:
        edges: ``[src, dst, ...]``; all columns are kept.
        decisions: ``review_decisions`` rows.
        options: closure options for the searches.

    Returns:
        The edges whose ``src`` and ``dst`` are both visible.
    """
    hidden = hidden_nodes(edges, decisions, options=options)
    by_src = hidden.select(F.col("node").alias("_hidden_src"))
    by_dst = hidden.select(F.col("node").alias("_hidden_dst"))
    return edges.join(by_src, F.col("src") == F.col("_hidden_src"), "left_anti").join(
        by_dst, F.col("dst") == F.col("_hidden_dst"), "left_anti"
    )
