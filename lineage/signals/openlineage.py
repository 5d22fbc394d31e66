"""OpenLineage RunEvents -> lineage observations.

Rules:

- Only COMPLETE events count (START/RUNNING carry intent, FAIL/ABORT runs must add no flow).
- Table level: every input x every output dataset of a COMPLETE event is an edge
  (DIRECT/TRANSFORMATION, not masked, like the table-level edges of split READ/WRITE job logs).
  An edge from a dataset to itself is dropped.
- Column level, from the output's ``columnLineage`` facet (2-0-x spec, facet 1-x):
  ``fields.<column>.inputFields[*]`` -> edge into ``<output>.<column>``, one per listed
  transformation (type/subtype/masking as given; DIRECT/IDENTITY, not masked, when
  ``transformations`` is absent or empty; the 1-0 facet's field-level
  ``transformationType: MASKED`` sets masking); ``dataset[*]`` (input fields that influence the
  whole output) -> edge into the output table (target_column null), INDIRECT/FILTER by default.
- Repeated events of one run are merged: one observation per flow per run, then aggregated over
  runs, so ``seen_count`` is the number of distinct runs, ``evidence`` their (smallest) run ids,
  ``first_seen``/``last_seen`` the earliest/latest COMPLETE event time.
- Dataset names map to assets with :func:`lineage.signals.common.dataset_asset` (namespace
  dropped, lower case).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.signals.common import (
    FLOW_KEYS,
    aggregate_units,
    column_name,
    dataset_asset,
    finish,
    transformation,
)

_TRANSFORMATIONS = (
    "array<struct<type: string, subtype: string, description: string, masking: boolean>>"
)
_INPUT_FIELD = (
    f"struct<namespace: string, name: string, field: string, transformations: {_TRANSFORMATIONS}>"
)
INPUTS_SCHEMA = "array<struct<namespace: string, name: string>>"
"""Parse schema of the landed ``inputs`` JSON text (only what the extractor reads)."""
OUTPUTS_SCHEMA = (
    "array<struct<namespace: string, name: string, facets: struct<columnLineage: struct<"
    f"fields: map<string, struct<inputFields: array<{_INPUT_FIELD}>, transformationType: string>>, "
    f"dataset: array<{_INPUT_FIELD}>>>>>"
)
"""Parse schema of the landed ``outputs`` JSON text (only what the extractor reads)."""


def _complete_events(events: DataFrame) -> DataFrame:
    return events.filter(
        (F.upper(F.trim("event_type")) == "COMPLETE") & F.col("run_id").isNotNull()
    ).select(
        "run_id",
        "event_time",
        F.from_json("inputs", INPUTS_SCHEMA).alias("ins"),
        F.from_json("outputs", OUTPUTS_SCHEMA).alias("outs"),
    )


def _table_units(ev: DataFrame) -> DataFrame:
    outs = ev.select("run_id", "event_time", "ins", F.explode("outs").alias("o"))
    pairs = outs.select(
        "run_id", "event_time", F.col("o.name").alias("dst"), F.explode("ins").alias("i")
    )
    return pairs.select(
        "run_id",
        "event_time",
        dataset_asset(F.col("i.name")).alias("source_asset"),
        F.lit(None).cast("string").alias("source_column"),
        dataset_asset(F.col("dst")).alias("target_asset"),
        F.lit(None).cast("string").alias("target_column"),
        F.lit("DIRECT").alias("transformation_type"),
        F.lit("TRANSFORMATION").alias("transformation_subtype"),
        F.lit(False).alias("masking"),
    ).filter(
        F.col("source_asset").isNotNull()
        & (F.col("source_asset") != "")
        & F.col("target_asset").isNotNull()
        & (F.col("target_asset") != "")
        & (F.col("source_asset") != F.col("target_asset"))
    )


def _column_units(ev: DataFrame) -> DataFrame:
    outs = ev.select("run_id", "event_time", F.explode("outs").alias("o")).select(
        "run_id",
        "event_time",
        F.col("o.name").alias("dst"),
        F.col("o.facets.columnLineage").alias("cl"),
    )
    per_field = outs.select(
        "run_id", "event_time", "dst", F.explode("cl.fields").alias("target_column", "spec")
    ).select(
        "run_id",
        "event_time",
        "dst",
        "target_column",
        F.upper(F.trim("spec.transformationType")).alias("legacy"),
        F.explode("spec.inputFields").alias("inp"),
        F.lit("DIRECT").alias("default_type"),
    )
    per_dataset = outs.select(
        "run_id",
        "event_time",
        "dst",
        F.lit(None).cast("string").alias("target_column"),
        F.lit(None).cast("string").alias("legacy"),
        F.explode("cl.dataset").alias("inp"),
        F.lit("INDIRECT").alias("default_type"),
    )
    inputs = per_field.unionByName(per_dataset).select(
        "*", F.explode_outer(F.coalesce(F.col("inp.transformations"), F.array())).alias("tr")
    )
    direct_t, direct_s = transformation(
        F.col("tr.type"), F.col("tr.subtype"), default_type="DIRECT"
    )
    indirect_t, indirect_s = transformation(
        F.col("tr.type"), F.col("tr.subtype"), default_type="INDIRECT"
    )
    is_field = F.col("default_type") == "DIRECT"
    legacy_transformed = (
        is_field
        & F.col("tr").isNull()
        & F.col("legacy").isNotNull()
        & (F.col("legacy") != "IDENTITY")
    )
    return inputs.select(
        "run_id",
        "event_time",
        dataset_asset(F.col("inp.name")).alias("source_asset"),
        column_name(F.col("inp.field")).alias("source_column"),
        dataset_asset(F.col("dst")).alias("target_asset"),
        column_name(F.col("target_column")).alias("target_column"),
        F.when(is_field, direct_t).otherwise(indirect_t).alias("transformation_type"),
        F.when(legacy_transformed, F.lit("TRANSFORMATION"))
        .when(is_field, direct_s)
        .otherwise(indirect_s)
        .alias("transformation_subtype"),
        F.coalesce(F.col("tr.masking"), F.col("legacy") == "MASKED", F.lit(False)).alias("masking"),
    ).filter(
        F.col("source_asset").isNotNull()
        & (F.col("source_asset") != "")
        & F.col("target_asset").isNotNull()
        & (F.col("target_asset") != "")
    )


def openlineage_observations(events: DataFrame, *, confidence: float) -> DataFrame:
    """Observations from landed OpenLineage RunEvents (``landed_openlineage``).

    Args:
        events: DataFrame with at least ``event_type``, ``event_time``, ``run_id``, ``inputs``
            and ``outputs`` (the JSON text of the event's arrays).
        confidence: confidence of every OpenLineage observation.

    Returns:
        DataFrame with :data:`lineage.signals.common.OBSERVATION_SCHEMA` columns,
        ``signal = "openlineage"``.

    Example:
        >>> obs = events.transform(lambda e: openlineage_observations(e, confidence=0.9))
    """
    ev = _complete_events(events)
    units = _table_units(ev).unionByName(_column_units(ev))
    per_run = units.groupBy(*FLOW_KEYS, "run_id").agg(
        F.min("event_time").alias("first_t"),
        F.max("event_time").alias("last_t"),
        F.min("masking").alias("masking"),
    )
    flows = aggregate_units(per_run, FLOW_KEYS, evidence="run_id", first="first_t", last="last_t")
    return finish(flows, signal="openlineage", confidence=confidence)
