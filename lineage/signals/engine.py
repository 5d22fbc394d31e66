"""Engine-computed column lineage carried by query logs -> lineage observations.

Trino's ``ioMetadata`` (output columns' ``sourceColumns``) and Hive's LineageLogger edges are
column lineage the engine itself derived while running the query; the landing step keeps them per
query-log row in ``engine_lineage`` (a JSON list of ``{source, source_column, target,
target_column, type, subtype}``, see :mod:`audits.querylog_formats`). They become their own
signal, ``engine_lineage``, with its own (high) confidence: beside, not instead of, the edges the
SQL parser finds in the same query, so a disagreement stays visible as two signals.

Rules: rows of failed queries give no edge; one observation unit per (flow, query row), so
``seen_count`` counts the log rows that showed the flow and ``evidence`` holds their query ids
(or ``file:line`` when a row has none); edges from a column to itself are dropped.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.signals.common import FLOW_KEYS, aggregate_units, column_name, finish, transformation

SIGNAL = "engine_lineage"
EDGES_SCHEMA = (
    "array<struct<source: string, source_column: string, target: string, target_column: string, "
    "type: string, subtype: string>>"
)
"""Parse schema of the landed ``engine_lineage`` JSON text."""


def engine_lineage_observations(logs: DataFrame, *, confidence: float) -> DataFrame:
    """Observations of the ``engine_lineage`` signal from landed query-log rows.

    Args:
        logs: ``landed_query_logs`` rows (``engine_lineage``, ``status``, ``query_id``,
            ``started_at``, ``source_file``, ``line``).
        confidence: the signal's confidence.

    Returns:
        DataFrame with the :data:`lineage.signals.common.OBSERVATION_SCHEMA` columns.
    """
    rows = logs.filter(
        F.col("engine_lineage").isNotNull() & (F.coalesce(F.col("status"), F.lit("ok")) != "failed")
    ).select(
        F.coalesce(
            F.col("query_id"), F.concat_ws(":", F.col("source_file"), F.col("line").cast("string"))
        ).alias("_ev"),
        "started_at",
        F.explode(F.from_json("engine_lineage", EDGES_SCHEMA)).alias("e"),
    )
    t, s = transformation(F.col("e.type"), F.col("e.subtype"), default_type="DIRECT")
    units = (
        rows.select(
            F.lower(F.trim("e.source")).alias("source_asset"),
            column_name("e.source_column").alias("source_column"),
            F.lower(F.trim("e.target")).alias("target_asset"),
            column_name("e.target_column").alias("target_column"),
            t.alias("transformation_type"),
            s.alias("transformation_subtype"),
            F.lit(False).alias("masking"),
            "_ev",
            "started_at",
        )
        .filter(
            F.col("source_asset").isNotNull()
            & F.col("target_asset").isNotNull()
            & ~(
                (F.col("source_asset") == F.col("target_asset"))
                & F.col("source_column").eqNullSafe(F.col("target_column"))
            )
        )
        .dropDuplicates([*FLOW_KEYS, "_ev"])
    )
    flows = aggregate_units(units, FLOW_KEYS, evidence="_ev", first="started_at", last="started_at")
    return finish(flows, signal=SIGNAL, confidence=confidence)
