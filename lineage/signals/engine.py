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

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lineage.signals.common import (
    FLOW_KEYS,
    MAX_EVIDENCE,
    aggregate_units,
    column_name,
    finish,
    transformation,
)

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


EDGE_KEYS = ("source_asset", "source_column", "target_asset", "target_column")
"""The columns of one column flow (without its transformation: the engines name those
differently, so two signals agree on a flow when they agree on its two ends)."""
DISAGREEMENT_SCHEMA = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "found_by string, engine string, seen_count bigint, evidence array<string>"
)
"""What :func:`disagreements` returns (before the job adds ``run_date``)."""


def engine_row_edges(logs: DataFrame) -> DataFrame:
    """The DIRECT column flows the engine computed, per query-log row that also carries SQL.

    Args:
        logs: ``landed_query_logs`` rows (``engine_lineage``, ``sql``, ``status``, ``format``,
            ``query_id``, ``source_file``, ``line``).

    Returns:
        ``[source_file, line, query, engine, source_asset, source_column, target_asset,
        target_column]``, one row per (query-log row, flow); ``query`` is the query id or
        ``file:line``. Rows without SQL (a standalone ACCESS_HISTORY row) have nothing to compare
        with and are left out, as are failed queries.
    """
    rows = logs.filter(
        F.col("engine_lineage").isNotNull()
        & F.col("sql").isNotNull()
        & (F.coalesce(F.col("status"), F.lit("ok")) != "failed")
    ).select(
        "source_file",
        "line",
        F.coalesce(
            F.col("query_id"), F.concat_ws(":", F.col("source_file"), F.col("line").cast("string"))
        ).alias("query"),
        F.coalesce(F.col("format"), F.col("engine")).alias("engine"),
        F.explode(F.from_json("engine_lineage", EDGES_SCHEMA)).alias("e"),
    )
    t, _ = transformation(F.col("e.type"), F.col("e.subtype"), default_type="DIRECT")
    return (
        rows.filter(t == "DIRECT")
        .select(
            "source_file",
            "line",
            "query",
            "engine",
            F.lower(F.trim("e.source")).alias("source_asset"),
            column_name("e.source_column").alias("source_column"),
            F.lower(F.trim("e.target")).alias("target_asset"),
            column_name("e.target_column").alias("target_column"),
        )
        .filter(
            F.col("source_column").isNotNull()
            & F.col("target_column").isNotNull()
            & F.col("source_asset").isNotNull()
            & F.col("target_asset").isNotNull()
        )
        .dropDuplicates(["source_file", "line", *EDGE_KEYS])
    )


def disagreements(engine: DataFrame, parsed: DataFrame) -> DataFrame:
    """Where the engine's own column lineage and the parsed SQL of the same query disagree.

    Both inputs hold one row per (query-log row, DIRECT column flow), keyed by ``source_file``,
    ``line`` and :data:`EDGE_KEYS`; ``engine`` also has ``query`` and ``engine`` (from
    :func:`engine_row_edges`), ``parsed`` comes from the SQL parser's output for those rows.

    * ``found_by = engine``: the engine saw the flow and the parser did not find it in the query
      (the parser missed a source, or could not analyse the statement at all).
    * ``found_by = sql``: the parser found a flow into a target column the engine reported, from a
      source the engine does not list for it. Target columns the engine does not report are not
      compared (an engine may report only some of a statement's outputs).

    Neither side overrides the other: both flows stay in the lineage as their own signals; a
    disagreement is a finding to review.

    Returns:
        :data:`DISAGREEMENT_SCHEMA` rows, one per (flow, found_by, engine): ``seen_count`` the
        query-log rows that showed it, ``evidence`` up to ten of their queries, sorted.
    """
    row = ["source_file", "line"]
    keys = [*row, *EDGE_KEYS]
    queries = engine.select(*row, "query", "engine").dropDuplicates(row)
    parsed = parsed.select(*keys).dropDuplicates(keys)
    engine_only = engine.join(parsed, keys, "left_anti").select(
        *keys, F.lit("engine").alias("found_by")
    )
    reported = engine.select(*row, "target_asset", "target_column").dropDuplicates()
    sql_only = (
        parsed.join(reported, [*row, "target_asset", "target_column"], "left_semi")
        .join(engine.select(*keys), keys, "left_anti")
        .select(*keys, F.lit("sql").alias("found_by"))
    )
    group = [*EDGE_KEYS, "found_by", "engine"]
    found = engine_only.unionByName(sql_only).join(queries, row).dropDuplicates([*group, "query"])
    ranked = Window.partitionBy(*group).orderBy("query")  # no flow gathers all its queries
    return (
        found.withColumn("_n", F.count("*").over(Window.partitionBy(*group)))
        .withColumn("_rank", F.row_number().over(ranked))
        .filter(F.col("_rank") <= MAX_EVIDENCE)
        .groupBy(*group)
        .agg(
            F.first("_n").alias("seen_count"),
            F.array_sort(F.collect_list("query")).alias("evidence"),
        )
    )
