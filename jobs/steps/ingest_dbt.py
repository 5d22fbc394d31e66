"""The columns dbt declares (landed with its nodes, :mod:`audits.querylog_formats.dbt`) for the
``columns`` and ``assets`` tables.

Each landed dbt row carries its relation's columns with their types (``catalog.json``) and the
data categories of their ``meta``/``tags`` (:mod:`audits.dbt.categories`). The catalog's own
declaration of a column wins; a column the catalog does not declare gets dbt's type, category and
identifier flag (the latest landed row of the relation), so that a ``meta: {pii: email}`` column
is personal data for the closure and the data map. Names go through the naming rules like the
edges' (:func:`lineage.naming.canonical_asset`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lineage.naming import NamingRules, canonical_asset

COLUMN_TYPE = (
    "array<struct<name: string, type: string, data_category: string, is_identifier: boolean>>"
)
COLUMNS = (
    "asset_id string, column string, data_type string, data_category string, "
    "is_identifier boolean, classification string"
)


def dbt_columns(logs: DataFrame, rules: NamingRules) -> DataFrame:
    """``columns``-shaped rows of the landed dbt nodes (one per relation and column)."""
    rows = logs.filter(F.col("columns").isNotNull() & (F.col("format") == "dbt_manifest"))
    asset = F.lower(F.coalesce("destination", "table"))
    if not rules.empty:
        asset = canonical_asset(asset, rules)
    cols = rows.select(
        asset.alias("asset_id"),
        "started_at",
        "line",
        F.explode(F.from_json("columns", COLUMN_TYPE)).alias("c"),
    ).filter(F.col("asset_id").isNotNull() & F.col("c.name").isNotNull())
    latest = Window.partitionBy("asset_id", F.lower("c.name")).orderBy(
        F.col("started_at").desc_nulls_last(), F.col("line").desc()
    )
    return (
        cols.withColumn("_n", F.row_number().over(latest))
        .filter(F.col("_n") == 1)
        .select(
            "asset_id",
            F.lower("c.name").alias("column"),
            F.col("c.type").alias("data_type"),
            F.lower("c.data_category").alias("data_category"),
            F.coalesce("c.is_identifier", F.lit(False)).alias("is_identifier"),
            F.lit(None).cast("string").alias("classification"),
        )
    )


def undeclared(dbt: DataFrame, declared: DataFrame) -> DataFrame:
    """The dbt columns the catalog does not declare (matched case-insensitively)."""
    keys = declared.select(
        F.lower("asset_id").alias("asset_id"), F.lower("column").alias("column")
    ).distinct()
    return dbt.join(keys, ["asset_id", "column"], "left_anti")
