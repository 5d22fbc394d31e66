"""OpenLineage events -> lineage observations.

Rules (see docs/openlineage.md):

- RunEvents of one run are merged: the lineage of its START, RUNNING, COMPLETE and OTHER events
  (and of events without ``eventType``, optional in the 2-0-x spec, read as OTHER) is the union of
  their inputs, outputs and column lineage facets. A run counts once, in the night its COMPLETE
  event lands (its earlier events are read from every landed night, ``history``); a run with a
  FAIL or ABORT event adds no flow; a run with no COMPLETE yet adds nothing until it comes.
- Table level: every input x every output dataset of the merged run is an edge
  (DIRECT/TRANSFORMATION, not masked, like the table-level edges of split READ/WRITE job logs).
  An edge from a dataset to itself is dropped.
- Column level, from an output's ``columnLineage`` facet (2-0-x spec, facet 1-x):
  ``fields.<column>.inputFields[*]`` -> edge into ``<output>.<column>``, one per listed
  transformation (type/subtype/masking as given; DIRECT/IDENTITY, not masked, when
  ``transformations`` is absent or empty; the 1-0 facet's field-level
  ``transformationType: MASKED`` sets masking); ``dataset[*]`` (input fields that influence the
  whole output) -> edge into the output table (target_column null), INDIRECT/FILTER by default.
- A JobEvent (no ``run``) declares its job's lineage: its inputs x outputs and facets, one unit
  per job (evidence ``job:<namespace>/<name>``). A DatasetEvent (only ``dataset``) adds the
  column lineage facet of its dataset (evidence ``dataset:<namespace>/<name>``).
- One observation per flow per unit (run, job or dataset), then aggregated, so ``seen_count`` is
  the number of distinct units, ``evidence`` their (smallest) ids, ``first_seen``/``last_seen``
  the earliest/latest time of the units (a run's COMPLETE event time).
- Dataset names: :mod:`lineage.signals.openlineage_naming` (symlinks facet, namespace rules).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.naming import NO_RULES, NamingRules
from lineage.signals.common import (
    FLOW_KEYS,
    aggregate_units,
    column_name,
    finish,
    transformation,
)
from lineage.signals.openlineage_naming import SYMLINKS, dataset_name, ol_asset

_TRANSFORMATIONS = (
    "array<struct<type: string, subtype: string, description: string, masking: boolean>>"
)
_INPUT_FIELD = (
    f"struct<namespace: string, name: string, field: string, transformations: {_TRANSFORMATIONS}>"
)
INPUTS_SCHEMA = (
    f"array<struct<namespace: string, name: string, facets: struct<symlinks: {SYMLINKS}>>>"
)
"""Parse schema of the landed ``inputs`` JSON text (only what the extractor reads)."""
OUTPUT = (
    "struct<namespace: string, name: string, facets: struct<columnLineage: struct<"
    f"fields: map<string, struct<inputFields: array<{_INPUT_FIELD}>, transformationType: string>>, "
    f"dataset: array<{_INPUT_FIELD}>>, symlinks: {SYMLINKS}>>"
)
OUTPUTS_SCHEMA = f"array<{OUTPUT}>"
"""Parse schema of the landed ``outputs`` JSON text (only what the extractor reads)."""


_MERGED = ("START", "RUNNING", "COMPLETE", "OTHER")
"""Event types whose lineage is merged into their run (besides events without a type)."""


def _parsed(events: DataFrame) -> DataFrame:
    etype = F.upper(F.trim("event_type"))
    has_raw = "raw_json" in events.columns
    dataset = F.get_json_object("raw_json", "$.dataset") if has_raw else F.lit(None)
    return events.select(
        F.col("run_id"),
        etype.alias("etype"),
        F.col("event_time"),
        F.col("job_namespace"),
        F.col("job_name"),
        F.coalesce(F.from_json("inputs", INPUTS_SCHEMA), F.array()).alias("ins"),
        F.coalesce(F.from_json("outputs", OUTPUTS_SCHEMA), F.array()).alias("outs"),
        F.from_json(dataset.cast("string"), OUTPUT).alias("ds"),
    )


def _units(events: DataFrame, history: DataFrame) -> DataFrame:
    """DataFrame[run_id (the unit id), event_time, ins, outs]: one row per run, job or dataset."""
    tonight = _parsed(events)
    done = (
        tonight.filter((F.col("etype") == "COMPLETE") & F.col("run_id").isNotNull())
        .groupBy("run_id")
        .agg(F.min("event_time").alias("first_t"), F.max("event_time").alias("last_t"))
    )
    past = _parsed(history).filter(F.col("run_id").isNotNull())
    failed = past.filter(F.col("etype").isin("FAIL", "ABORT")).select("run_id").distinct()
    runs = (
        past.filter(F.col("etype").isNull() | F.col("etype").isin(*_MERGED))
        .join(done, "run_id", "left_semi")
        .join(failed, "run_id", "left_anti")
        .groupBy("run_id")
        .agg(
            F.array_distinct(F.flatten(F.collect_list("ins"))).alias("ins"),
            F.flatten(F.collect_list("outs")).alias("outs"),
        )
        .join(done, "run_id")
    )
    runs = runs.select("run_id", F.col("first_t"), F.col("last_t"), "ins", "outs")
    no_run = tonight.filter(F.col("run_id").isNull())
    jobs = no_run.filter(F.col("job_name").isNotNull()).select(
        F.concat(
            F.lit("job:"), F.coalesce("job_namespace", F.lit("")), F.lit("/"), "job_name"
        ).alias("run_id"),
        F.col("event_time").alias("first_t"),
        F.col("event_time").alias("last_t"),
        "ins",
        "outs",
    )
    datasets = no_run.filter(F.col("job_name").isNull() & F.col("ds.name").isNotNull()).select(
        F.concat(
            F.lit("dataset:"), F.coalesce("ds.namespace", F.lit("")), F.lit("/"), "ds.name"
        ).alias("run_id"),
        F.col("event_time").alias("first_t"),
        F.col("event_time").alias("last_t"),
        F.from_json(F.lit("[]"), INPUTS_SCHEMA).alias("ins"),
        F.array("ds").alias("outs"),
    )
    return runs.unionByName(jobs).unionByName(datasets)


def _table_units(ev: DataFrame, rules: NamingRules) -> DataFrame:
    outs = ev.select("run_id", "first_t", "last_t", "ins", F.explode("outs").alias("o"))
    pairs = outs.select("run_id", "first_t", "last_t", "o", F.explode("ins").alias("i"))
    return pairs.select(
        "run_id",
        "first_t",
        "last_t",
        dataset_name(F.col("i"), rules).alias("source_asset"),
        F.lit(None).cast("string").alias("source_column"),
        dataset_name(F.col("o"), rules).alias("target_asset"),
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


def _column_units(ev: DataFrame, rules: NamingRules) -> DataFrame:
    outs = ev.select("run_id", "first_t", "last_t", F.explode("outs").alias("o")).select(
        "run_id",
        "first_t",
        "last_t",
        dataset_name(F.col("o"), rules).alias("dst"),
        F.col("o.facets.columnLineage").alias("cl"),
    )
    per_field = outs.select(
        "run_id", "first_t", "last_t", "dst", F.explode("cl.fields").alias("target_column", "spec")
    ).select(
        "run_id",
        "first_t",
        "last_t",
        "dst",
        "target_column",
        F.upper(F.trim("spec.transformationType")).alias("legacy"),
        F.explode("spec.inputFields").alias("inp"),
        F.lit("DIRECT").alias("default_type"),
    )
    per_dataset = outs.select(
        "run_id",
        "first_t",
        "last_t",
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
        "first_t",
        "last_t",
        ol_asset(F.col("inp.namespace"), F.col("inp.name"), rules).alias("source_asset"),
        column_name(F.col("inp.field")).alias("source_column"),
        F.col("dst").alias("target_asset"),
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


def openlineage_observations(
    events: DataFrame,
    *,
    confidence: float,
    history: DataFrame | None = None,
    rules: NamingRules = NO_RULES,
) -> DataFrame:
    """Observations from landed OpenLineage events (``landed_openlineage``).

    Args:
        events: tonight's landed events: at least ``event_type``, ``event_time``, ``run_id``,
            ``job_namespace``, ``job_name``, ``inputs`` and ``outputs`` (the JSON text of the
            event's arrays); ``raw_json`` (the whole event) for DatasetEvents.
        confidence: confidence of every OpenLineage observation.
        history: every landed event (earlier nights too), where the earlier events of the runs
            completed tonight are found; ``events`` when not given.
        rules: the naming rules (OpenLineage namespace -> catalog).

    Returns:
        DataFrame with :data:`lineage.signals.common.OBSERVATION_SCHEMA` columns,
        ``signal = "openlineage"``.

    Example:
        >>> obs = events.transform(lambda e: openlineage_observations(e, confidence=0.9))
    """
    ev = _units(events, events if history is None else history)
    units = _table_units(ev, rules).unionByName(_column_units(ev, rules))
    per_run = units.groupBy(*FLOW_KEYS, "run_id").agg(
        F.min("first_t").alias("first_t"),
        F.max("last_t").alias("last_t"),
        F.min("masking").alias("masking"),
    )
    flows = aggregate_units(per_run, FLOW_KEYS, evidence="run_id", first="first_t", last="last_t")
    return finish(flows, signal="openlineage", confidence=confidence)
