"""ML training configs -> lineage observations (dataset -> feature -> model).

Per config (one landed row of ``landed_training_configs``):

- the model asset is the name in ``output_model`` (``asset://mlflow.model/ml.churn_model`` ->
  ``ml.churn_model``, see :func:`lineage.signals.common.uri_asset`), else the lower-case
  ``model_name``;
- ``input_dataset`` -> model, table level;
- every declared feature source ``"schema.table.column"`` -> ``model.<feature name>``
  (a source written as ``"column"``, or as ``"table.column"`` whose table is the input dataset's
  table without its schema, is a column of the input dataset);
- a feature without sources (a bare string, or a dict with no ``sources``) ->
  ``input_dataset`` (table level, source_column null) -> ``model.<feature name>``.

Every edge is DIRECT/TRANSFORMATION, not masked. ``evidence`` holds the config file names,
``seen_count`` the number of distinct config files declaring the flow, ``first_seen``/``last_seen``
the landing dates (a config carries no time of its own). Configs without a model or with
unparseable ``features`` give only the edges they can.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lineage.signals.common import FLOW_KEYS, aggregate_units, column_name, finish, uri_asset

_FEATURE = "struct<name: string, sources: array<string>>"


def _features(configs: DataFrame) -> DataFrame:
    """One row per (config, feature name, source or null)."""
    items = configs.select(
        "model",
        "dataset",
        "file",
        "seen_at",
        F.explode(F.coalesce(F.from_json("features", "array<string>"), F.array())).alias("item"),
    )
    is_obj = F.ltrim("item").startswith("{")
    parsed = F.from_json(F.when(is_obj, F.col("item")), _FEATURE)
    feats = items.select(
        "model",
        "dataset",
        "file",
        "seen_at",
        column_name(F.when(is_obj, parsed["name"]).otherwise(F.col("item"))).alias("feature"),
        F.when(is_obj, parsed["sources"]).alias("sources"),
    ).filter(F.col("feature").isNotNull() & (F.col("feature") != ""))
    return feats.select(
        "model",
        "dataset",
        "file",
        "seen_at",
        "feature",
        F.explode_outer(
            F.filter(F.coalesce("sources", F.array()), lambda s: F.trim(s) != "")
        ).alias("source"),
    )


def _source_parts(source: str, dataset: str) -> tuple[Column, Column]:
    """(asset, column) of a feature source, resolving short forms against the input dataset."""
    s = F.lower(F.trim(F.col(source)))
    ds = F.col(dataset)
    table = F.regexp_extract(s, r"^(.*)\.[^.]+$", 1)
    col = F.regexp_extract(s, r"([^.]+)$", 1)
    ds_short = F.regexp_extract(ds, r"([^.]+)$", 1)
    asset = (
        F.when(table == "", ds)
        .when(~table.contains(".") & (table == ds_short), ds)
        .otherwise(table)
    )
    return asset, col


def config_observations(configs: DataFrame, *, confidence: float) -> DataFrame:
    """Observations from landed training configs (``landed_training_configs``).

    Args:
        configs: DataFrame with ``model_name``, ``input_dataset``, ``features`` (JSON text),
            ``output_model``, ``source_file``, ``landed_on``.
        confidence: confidence of every config observation.

    Returns:
        DataFrame with :data:`lineage.signals.common.OBSERVATION_SCHEMA` columns,
        ``signal = "config"``.
    """
    base = configs.select(
        F.coalesce(uri_asset("output_model"), uri_asset("model_name")).alias("model"),
        uri_asset("input_dataset").alias("dataset"),
        F.col("features"),
        F.coalesce(F.col("source_file"), F.lit("?")).alias("file"),
        F.col("landed_on").cast("timestamp").alias("seen_at"),
    ).filter(F.col("model").isNotNull())
    none = F.lit(None).cast("string")
    common = [
        F.lit("DIRECT").alias("transformation_type"),
        F.lit("TRANSFORMATION").alias("transformation_subtype"),
        F.lit(False).alias("masking"),
        "file",
        "seen_at",
    ]
    table = base.filter(F.col("dataset").isNotNull()).select(
        F.col("dataset").alias("source_asset"),
        none.alias("source_column"),
        F.col("model").alias("target_asset"),
        none.alias("target_column"),
        *common,
    )
    feats = _features(base)
    src_asset, src_col = _source_parts("source", "dataset")
    declared = feats.filter(F.col("source").isNotNull()).select(
        src_asset.alias("source_asset"),
        src_col.alias("source_column"),
        F.col("model").alias("target_asset"),
        F.col("feature").alias("target_column"),
        *common,
    )
    undeclared = feats.filter(F.col("source").isNull() & F.col("dataset").isNotNull()).select(
        F.col("dataset").alias("source_asset"),
        none.alias("source_column"),
        F.col("model").alias("target_asset"),
        F.col("feature").alias("target_column"),
        *common,
    )
    units = (
        table.unionByName(declared)
        .unionByName(undeclared)
        .filter(F.col("source_asset").isNotNull() & (F.col("source_asset") != ""))
        .groupBy(*FLOW_KEYS, "file")
        .agg(
            F.min("seen_at").alias("first_t"),
            F.max("seen_at").alias("last_t"),
            F.min("masking").alias("masking"),
        )
    )
    flows = aggregate_units(units, FLOW_KEYS, evidence="file", first="first_t", last="last_t")
    return finish(flows, signal="config", confidence=confidence)
