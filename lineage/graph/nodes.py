"""Node naming of the lineage graph: ``schema.table`` for tables, ``schema.table.column`` for columns.

A node with three or more dot-separated parts is a column node whose last part is the column; a
node with one or two parts is an asset (table-level) node. Asset names are lower case and fully
qualified (DESIGN.md section 5), so ``crm.customers.email`` is the ``email`` column of the asset
``crm.customers``. Spark-column versions of the helpers work on whole DataFrames without UDFs.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def node_name(asset: str, column: str | None = None) -> str:
    """The node of an asset, or of one of its columns.

    Example:
        >>> node_name("crm.customers", "email")
        'crm.customers.email'
    """
    return asset if column is None else f"{asset}.{column}"


def split_node(node: str) -> tuple[str, str | None]:
    """Split a node into (asset, column); column is None for a table-level node.

    Example:
        >>> split_node("crm.customers.email")
        ('crm.customers', 'email')
        >>> split_node("crm.customers")
        ('crm.customers', None)
    """
    head, sep, tail = node.rpartition(".")
    if sep and "." in head:
        return head, tail
    return node, None


def node_col(asset: Column | str, column: Column | str) -> Column:
    """Spark column: the node of ``asset`` and ``column`` (the asset alone when column is null)."""
    asset_c = F.col(asset) if isinstance(asset, str) else asset
    column_c = F.col(column) if isinstance(column, str) else column
    return F.when(column_c.isNull(), asset_c).otherwise(F.concat_ws(".", asset_c, column_c))


def _is_column_node(node: Column) -> Column:
    return F.size(F.split(node, r"\.")) >= 3


def asset_col(node: Column | str) -> Column:
    """Spark column: the asset part of a node (the node itself when it is table-level)."""
    node_c = F.col(node) if isinstance(node, str) else node
    return F.when(_is_column_node(node_c), F.regexp_extract(node_c, r"^(.*)\.[^.]*$", 1)).otherwise(
        node_c
    )


def column_col(node: Column | str) -> Column:
    """Spark column: the column part of a node (null when it is table-level)."""
    node_c = F.col(node) if isinstance(node, str) else node
    return F.when(_is_column_node(node_c), F.element_at(F.split(node_c, r"\."), -1))


def node_parts(edges: DataFrame) -> DataFrame:
    """DataFrame[node, asset, column]: how the edges name each column node they touch.

    A node string alone cannot tell ``pg.public.accounts.id`` (column ``id`` of a three-part
    table) from ``crm.users.profile.email`` (field path ``profile.email`` of ``crm.users``); the
    edges that named it can. A node named both ways keeps the longest asset.
    """
    ends = edges.select(
        F.col("source_asset").alias("asset"), F.col("source_column").alias("column")
    ).unionByName(
        edges.select(F.col("target_asset").alias("asset"), F.col("target_column").alias("column"))
    )
    return (
        ends.filter(F.col("asset").isNotNull() & F.col("column").isNotNull())
        .groupBy(node_col("asset", "column").alias("node"))
        .agg(F.max(F.struct(F.length("asset").alias("n"), "asset", "column")).alias("_p"))
        .select("node", F.col("_p.asset").alias("asset"), F.col("_p.column").alias("column"))
    )


def with_node_parts(df: DataFrame, node: str, parts: DataFrame) -> DataFrame:
    """Add ``asset`` and ``column`` of each row's node: as ``parts`` (:func:`node_parts`) names
    it, else split at the last dot (:func:`asset_col`, :func:`column_col`)."""
    named = parts.select(
        F.col("node").alias("_np_node"),
        F.col("asset").alias("_np_asset"),
        F.col("column").alias("_np_column"),
    )
    return (
        df.join(named, F.col(node) == F.col("_np_node"), "left")
        .withColumn("asset", F.coalesce("_np_asset", asset_col(node)))
        .withColumn("column", F.coalesce("_np_column", column_col(node)))
        .drop("_np_node", "_np_asset", "_np_column")
    )


def with_zone(df: DataFrame, node: str, node_zones: DataFrame, *, alias: str = "zone") -> DataFrame:
    """Add the zone of each row's node: the node's own zone if listed, else its asset's zone.

    Args:
        df: any DataFrame with a node column.
        node: the name of that column.
        node_zones: ``[asset string, zone string]`` (an ``asset`` may also name a column node).
        alias: the name of the added column (null when neither is listed).
    """
    zones = node_zones.select(
        F.col("asset").cast("string"), F.col("zone").cast("string")
    ).dropDuplicates(["asset"])
    exact = zones.select(F.col("asset").alias("_z_node"), F.col("zone").alias("_z_exact"))
    by_asset = zones.select(F.col("asset").alias("_z_asset"), F.col("zone").alias("_z_asset_zone"))
    return (
        df.withColumn("_z_asset", asset_col(node))
        .join(F.broadcast(exact), F.col(node) == F.col("_z_node"), "left")
        .join(F.broadcast(by_asset), "_z_asset", "left")
        .withColumn(alias, F.coalesce("_z_exact", "_z_asset_zone"))
        .drop("_z_asset", "_z_node", "_z_exact", "_z_asset_zone")
    )
