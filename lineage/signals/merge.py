"""Non-SQL lineage signals (OpenLineage, training configs, privacy probes) and signal merging.

Every extractor is a pure ``DataFrame -> DataFrame`` function over a landed table and returns
OBSERVATIONS with the columns of :data:`OBSERVATION_SCHEMA`, so that the ingest job can union
them with the SQL signal's:

- :func:`openlineage_observations` (``landed_openlineage``), see :mod:`lineage.signals.openlineage`;
- :func:`config_observations` (``landed_training_configs``), see :mod:`lineage.signals.thresholds`;
- :func:`probe_observations` (``landed_probe_samples``, plus a ``match`` column) and
  :func:`flows_not_observed`, see :mod:`lineage.signals.probe`;
- :func:`merge_signals`: one edge per (source, target, transformation) across signals.

Asset naming is described in :mod:`lineage.signals.common`: lower-case ``schema.table``
(OpenLineage namespaces dropped, ``asset://<system>.<kind>/<name>`` -> ``<name>``), columns as
separate lower-case fields, null column = table level.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.signals.common import (
    FLOW_KEYS,
    MAX_EVIDENCE,
    OBSERVATION_COLUMNS,
    OBSERVATION_SCHEMA,
    dataset_asset,
    uri_asset,
)
from lineage.signals.openlineage import openlineage_observations
from lineage.signals.probe import MATCH_KINDS, OBSERVED, flows_not_observed, probe_observations
from lineage.signals.thresholds import config_observations

__all__ = [
    "MATCH_KINDS",
    "MERGED_SCHEMA",
    "OBSERVATION_SCHEMA",
    "OBSERVED",
    "config_observations",
    "dataset_asset",
    "flows_not_observed",
    "merge_signals",
    "openlineage_observations",
    "probe_observations",
    "uri_asset",
]

MERGED_SCHEMA = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "transformation_type string, transformation_subtype string, masking boolean, "
    "signals array<string>, confidence double, evidence array<string>, first_seen timestamp, "
    "last_seen timestamp, seen_count bigint"
)
"""DDL of :func:`merge_signals`' result."""


def merge_signals(observations: DataFrame | Sequence[DataFrame]) -> DataFrame:
    """Merge observations of all signals into one edge per (source, target, transformation).

    The key is (source_asset, source_column, target_asset, target_column, transformation_type,
    transformation_subtype), nulls included. Per key: ``confidence`` is the best one,
    ``signals`` the sorted distinct signals that saw the edge, ``evidence`` at most 10 items
    ``"<signal>:<evidence>"`` taken round-robin over the observations (each one's smallest
    first, so every signal keeps a voice) and sorted, ``seen_count`` the sum, ``first_seen`` /
    ``last_seen`` the min/max, and ``masking`` true only when every observation says masked
    (a flow also seen unmasked is not masked). Extra columns (e.g. ``match``) are ignored.

    Args:
        observations: one DataFrame (a union) or several with the observation columns.

    Returns:
        DataFrame with the :data:`MERGED_SCHEMA` columns.
    """
    frames = [observations] if isinstance(observations, DataFrame) else list(observations)
    obs = reduce(
        DataFrame.unionByName,
        [f.select(*[F.col(n).cast(t).alias(n) for n, t in OBSERVATION_COLUMNS]) for f in frames],
    )
    tagged = obs.withColumn(
        "_ev",
        F.transform(
            F.coalesce(F.col("evidence"), F.array().cast("array<string>")),
            lambda e, i: F.struct(
                i.alias("pos"), F.concat_ws(":", F.col("signal"), e).alias("item")
            ),
        ),
    )
    merged = tagged.groupBy(*FLOW_KEYS).agg(
        F.min(F.coalesce(F.col("masking"), F.lit(False))).alias("masking"),
        F.array_sort(F.collect_set("signal")).alias("signals"),
        F.max("confidence").alias("confidence"),
        F.flatten(F.collect_list("_ev")).alias("_ev"),
        F.min("first_seen").alias("first_seen"),
        F.max("last_seen").alias("last_seen"),
        F.sum("seen_count").alias("seen_count"),
    )
    items = F.array_distinct(F.transform(F.array_sort("_ev"), lambda s: s["item"]))
    return merged.select(
        *FLOW_KEYS,
        "masking",
        "signals",
        F.col("confidence").cast("double").alias("confidence"),
        F.array_sort(F.slice(items, 1, MAX_EVIDENCE)).alias("evidence"),
        "first_seen",
        "last_seen",
        F.col("seen_count").cast("bigint").alias("seen_count"),
    )
