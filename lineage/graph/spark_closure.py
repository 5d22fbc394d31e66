"""The closure by semi-naive iterative joins in Spark: the fallback for graphs too big to broadcast.

Same semantics as :mod:`lineage.graph.csr` (a layered Bellman-Ford on the max-product semiring):
round ``k`` joins the (source, node) pairs improved in round ``k - 1`` with the edges, keeps for
each (source, node) the best candidate, and merges the candidates that beat the current state.
A pair's ``depth`` is the round it first entered; its ``confidence`` and ``path`` are those of the
best admissible path. Each round's state is ``localCheckpoint``-ed so plans stay short; the loop
ends when a round improves nothing or after ``max_depth`` rounds.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.graph.csr import CONFIDENCE_DECIMALS


def closure_by_joins(
    edges: DataFrame,
    sources: DataFrame,
    *,
    max_depth: int | None,
    min_confidence: float,
    with_paths: bool,
) -> DataFrame:
    """Closure of ``sources`` over ``edges`` by iterative joins.

    Args:
        edges: clean edges ``[src, dst, confidence]``, deduplicated, confidences in ``(0, 1]``.
        sources: distinct ``[source]`` names.
        max_depth: the most hops of an admissible path (None: until nothing improves).
        min_confidence: the least confidence of an admissible path.
        with_paths: add ``path`` (array of node names, source first).

    Returns:
        ``[source, node, depth, confidence]`` (and ``path``), the sources themselves excluded.
    """
    edges = edges.select("src", "dst", F.col("confidence").alias("c")).localCheckpoint()
    # Sources that are not in the graph reach nothing: only sources with out-edges start.
    starts = sources.join(
        edges.select(F.col("src").alias("source")).distinct(), "source", "left_semi"
    )
    state = starts.select(
        "source",
        F.col("source").alias("node"),
        F.lit(1.0).alias("conf"),
        F.lit(0).alias("depth"),
        F.array(F.col("source")).alias("path"),
    ).localCheckpoint()
    frontier = state
    rounds = 0
    while max_depth is None or rounds < max_depth:
        rounds += 1
        cand = (
            frontier.join(edges, frontier["node"] == edges["src"])
            .select(
                "source",
                F.col("dst").alias("node"),
                (F.col("conf") * F.col("c")).alias("conf"),
                F.concat(F.col("path"), F.array(F.col("dst"))).alias("path"),
            )
            .where(F.col("conf") >= F.lit(float(min_confidence)))
            .groupBy("source", "node")
            # Best confidence; among equals, the shortest then smallest path: deterministic.
            .agg(F.max(F.struct("conf", -F.size("path"), "path")).alias("b"))
            .select("source", "node", F.col("b.conf").alias("conf"), F.col("b.path").alias("path"))
        )
        old = state.select("source", "node", F.col("conf").alias("old_conf"), "depth")
        improved = (
            cand.join(old, ["source", "node"], "left")
            .where(F.col("old_conf").isNull() | (F.col("conf") > F.col("old_conf")))
            .select("source", "node", "conf", "path", F.col("depth").alias("old_depth"))
            .localCheckpoint()
        )
        if improved.isEmpty():
            break
        keep = state.join(improved.select("source", "node"), ["source", "node"], "left_anti")
        state = keep.unionByName(
            improved.select(
                "source",
                "node",
                "conf",
                F.coalesce(F.col("old_depth"), F.lit(rounds)).alias("depth"),
                "path",
            )
        ).localCheckpoint()
        frontier = improved.select("source", "node", "conf", "path")
    result = state.where(F.col("source") != F.col("node")).select(
        "source",
        "node",
        F.col("depth").cast("int").alias("depth"),
        F.round(F.col("conf"), CONFIDENCE_DECIMALS).cast("double").alias("confidence"),
        *(["path"] if with_paths else []),
    )
    return result
