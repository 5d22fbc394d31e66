"""Rules over ``lineage_edges`` rows that the nightly steps share, as pure DataFrame functions.

* :func:`graph_edges`: the edges of the lineage graph (column and table level) the closure walks,
  with a containment edge from a struct column to each field path read or written of it
  (``t.profile -> t.profile.email``), so whatever classifies the struct reaches its fields' flows;
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
        .unionByName(field_containment(col_level))
        .groupBy("src", "dst", "level", "src_asset", "src_column", "dst_asset", "dst_column")
        .agg(F.max("confidence").alias("confidence"), every_masked().alias("masking"))
    )


def field_containment(col_level: DataFrame) -> DataFrame:
    """The containment edges of the struct field paths among column-level graph edges.

    A column named ``a.b.c`` (a field path, as :mod:`lineage.sql.scope` names a struct field
    read) gives ``asset.a -> asset.a.b`` and ``asset.a.b -> asset.a.b.c``: confidence 1, not
    masked. The struct holds the field's value, so a flow of the struct is a flow of the field.

    Args:
        col_level: DataFrame[src_asset, src_column, dst_asset, dst_column, ...] (column level).

    Returns:
        DataFrame in the shape of :func:`graph_edges`'s rows before the merge.
    """
    ends = (
        col_level.select(F.col("src_asset").alias("asset"), F.col("src_column").alias("column"))
        .unionByName(
            col_level.select(F.col("dst_asset").alias("asset"), F.col("dst_column").alias("column"))
        )
        .filter(F.col("column").contains("."))
        .distinct()
    )
    parts = F.split("column", r"\.")
    steps = ends.select(
        "asset", parts.alias("_p"), F.explode(F.sequence(F.lit(1), F.size(parts) - 1)).alias("_i")
    ).select(
        "asset",
        F.array_join(F.slice("_p", 1, "_i"), ".").alias("parent"),
        F.array_join(F.slice("_p", 1, F.col("_i") + 1), ".").alias("child"),
    )
    return steps.select(
        node_col("asset", "parent").alias("src"),
        node_col("asset", "child").alias("dst"),
        F.lit(1.0).alias("confidence"),
        F.lit(False).alias("masking"),
        F.lit("column").alias("level"),
        F.col("asset").alias("src_asset"),
        F.col("parent").alias("src_column"),
        F.col("asset").alias("dst_asset"),
        F.col("child").alias("dst_column"),
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
