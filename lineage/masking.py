"""Masking of edges and of whole flows, as pure DataFrame rules.

Two rules, one per level of evidence:

* an **edge** (all observations of one source -> target) is masked only when *every* observation
  of it is masked: a flow seen once hashed and once in clear is a clear flow;
* a **flow** (a closure row, the best path from a source to a node) is masked when *some* hop on
  its path is masked: once a value is hashed upstream, what reaches the end is the hash.

A hop between two nodes is masked only when every edge between them is (the first rule again,
over the edges of different transformations between the same two nodes).

Example:
    >>> hops = hop_masking(edges)            # DataFrame[src, dst, masking]
    >>> rows = closure.transform(with_path_masking(hops))
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def every_masked(col: str = "masking") -> Column:
    """Aggregate: true only when every value is true (a missing value counts as not masked)."""
    return F.min(F.coalesce(F.col(col).cast("boolean"), F.lit(False)))


def hop_masking(edges: DataFrame, src: str = "src", dst: str = "dst") -> DataFrame:
    """DataFrame[src, dst, masking]: one row per node pair, masked when every edge of it is.

    Args:
        edges: node-level edges with ``src``, ``dst`` (node names) and ``masking``.
        src: the column holding the source node name.
        dst: the column holding the target node name.
    """
    return edges.groupBy(F.col(src).alias("src"), F.col(dst).alias("dst")).agg(
        every_masked().alias("masking")
    )


def with_path_masking(hops: DataFrame, path: str = "path") -> Callable[[DataFrame], DataFrame]:
    """A ``df.transform`` step adding ``masked_on_path`` and ``last_hop_masked`` to closure rows.

    ``masked_on_path`` is true when some hop of ``path`` (consecutive node pairs) is masked in
    ``hops``; a hop missing from ``hops`` counts as not masked. ``last_hop_masked`` is the masking
    of the path's last hop alone. Rows whose path has fewer than two nodes get false for both.

    Args:
        hops: :func:`hop_masking`'s result.
        path: the array<string> column with the path's nodes, source first.
    """
    hop = hops.select(
        F.col("src").alias("_hs"), F.col("dst").alias("_hd"), F.col("masking").alias("_hm")
    )

    def run(rows: DataFrame) -> DataFrame:
        # keyed by the path itself (a row id would not survive recomputation after a shuffle)
        paths = rows.select(F.col(path).alias("_path")).distinct()
        n = F.size("_path")
        pairs = paths.select(
            "_path",
            n.alias("_n"),
            F.posexplode(
                F.arrays_zip(
                    F.slice("_path", 1, F.greatest(n - 1, F.lit(1))).alias("s"),
                    F.slice("_path", 2, F.greatest(n - 1, F.lit(1))).alias("d"),
                )
            ).alias("_pos", "_p"),
        ).where(F.col("_p.d").isNotNull())
        masked = pairs.join(
            hop, (F.col("_p.s") == F.col("_hs")) & (F.col("_p.d") == F.col("_hd")), "left"
        )
        per_path = masked.groupBy("_path").agg(
            F.max(F.coalesce("_hm", F.lit(False))).alias("masked_on_path"),
            F.max(F.when(F.col("_pos") == F.col("_n") - 2, F.coalesce("_hm", F.lit(False)))).alias(
                "last_hop_masked"
            ),
        )
        return (
            rows.join(per_path, rows[path] == per_path["_path"], "left")
            .drop("_path")
            .withColumn("masked_on_path", F.coalesce("masked_on_path", F.lit(False)))
            .withColumn("last_hop_masked", F.coalesce("last_hop_masked", F.lit(False)))
        )

    return run
