"""Rules over ``lineage_edges`` rows that the nightly steps share, as pure DataFrame functions.

* :func:`graph_edges`: the edges of the lineage graph (column and table level) the closure walks;
* :func:`last_hops`: per pair of nodes, the most confident edge's transformation and masking.

Node names come from :func:`lineage.graph.nodes.node_col` (``asset.column``, or ``asset``).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.graph.nodes import node_col
from lineage.masking import every_masked


def graph_edges(edges: DataFrame) -> DataFrame:
    """DataFrame[src, dst, confidence, masking, level, src_asset, src_column, dst_asset, dst_column].

    ``masking`` is true only when every edge between the two nodes is masked."""
    col_level = edges.filter(
        F.col("source_column").isNotNull()
        & ((F.col("transformation_type") == "DIRECT") | F.col("target_column").isNull())
    ).select(
        node_col("source_asset", "source_column").alias("src"),
        node_col("target_asset", "target_column").alias("dst"),
        "confidence",
        "masking",
        F.lit("column").alias("level"),
        F.col("source_asset").alias("src_asset"),
        F.col("source_column").alias("src_column"),
        F.col("target_asset").alias("dst_asset"),
        F.col("target_column").alias("dst_column"),
    )
    table_level = edges.select(
        F.col("source_asset").alias("src"),
        F.col("target_asset").alias("dst"),
        "confidence",
        "masking",
        F.lit("table").alias("level"),
        F.col("source_asset").alias("src_asset"),
        F.lit(None).cast("string").alias("src_column"),
        F.col("target_asset").alias("dst_asset"),
        F.lit(None).cast("string").alias("dst_column"),
    ).filter(F.col("src") != F.col("dst"))
    return (
        col_level.unionByName(table_level)
        .groupBy("src", "dst", "level", "src_asset", "src_column", "dst_asset", "dst_column")
        .agg(F.max("confidence").alias("confidence"), every_masked().alias("masking"))
    )


def last_hops(edges: DataFrame) -> DataFrame:
    """One row per (src node, dst node): the most confident edge's transformation, and masking
    (true only when every edge between the two nodes is masked).

    Returns:
        DataFrame[_src, _dst, transformation_type, transformation_subtype, masking].
    """
    best = (
        edges.select(
            node_col("source_asset", "source_column").alias("_src"),
            node_col("target_asset", "target_column").alias("_dst"),
            F.struct(
                F.col("confidence").alias("c"),
                F.col("transformation_type").alias("t"),
                F.col("transformation_subtype").alias("s"),
            ).alias("_e"),
            F.col("masking").cast("boolean").alias("_m"),
        )
        .groupBy("_src", "_dst")
        .agg(F.max("_e").alias("_e"), every_masked("_m").alias("masking"))
    )
    return best.select(
        "_src",
        "_dst",
        F.col("_e.t").alias("transformation_type"),
        F.col("_e.s").alias("transformation_subtype"),
        "masking",
    )
