"""Observations of flows and their merge into edges, as pure DataFrame rules (the ingest step's core).

* :data:`EDGE_IDENTITY` and :func:`edge_id_col`: what identifies an edge and its deterministic id;
* :func:`stable_id`: the deterministic id of a row by its identity columns;
* :func:`schema_events`: the DDL events of parsed query texts, with the texts' statistics;
* :func:`job_log_edges`: table-level edges from a job's split READ/WRITE log lines;
* :func:`merge_observations`: many observations of one key into one row (masked only when every
  observation masks, best confidence, merged evidence, summed counts, widest time span).

The ingest step (``jobs/steps/ingest.py``) reads the landed tables, calls these, and writes
``lineage_observations`` and ``lineage_edges``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lineage.masking import every_masked
from lineage.signals.common import FLOW_KEYS

#: What identifies an edge: its ends, its transformation and the signal that saw it.
EDGE_IDENTITY = (*FLOW_KEYS, "signal")

#: The keys of ``lineage_observations``: one row per edge and run date.
OBS_KEYS = ["edge_id", "run_date"]


def stable_id(columns: Sequence[str]) -> Column:
    """Deterministic id: the first 32 hex digits of SHA-256 over the columns (null as empty)."""
    parts = [F.coalesce(F.col(c).cast("string"), F.lit("")) for c in columns]
    return F.sha2(F.concat_ws("|", *parts), 256).substr(1, 32)


def edge_id_col() -> Column:
    """Deterministic edge id: :func:`stable_id` over :data:`EDGE_IDENTITY`."""
    return stable_id(EDGE_IDENTITY)


#: What identifies a schema event: the text it was parsed from, and the event itself.
SCHEMA_EVENT_IDENTITY = (
    "fingerprint",
    "dialect",
    "default_schema",
    "event",
    "source_table",
    "source_column",
    "detail",
)
_TEXT_KEYS = ("fingerprint", "dialect", "default_schema")


def schema_events(extracted: DataFrame, stats: DataFrame, run_date: date) -> DataFrame:
    """One run date's ``schema_events`` rows.

    Args:
        extracted: the extractor's rows (``lineage.sql.batch.EXTRACT_SCHEMA``); ``kind =
            "schema"`` rows are the DDL events.
        stats: one row per parsed text (fingerprint, dialect, default_schema) with ``n``,
            ``first_seen``, ``last_seen`` and ``evidence`` of its log lines.
        run_date: the night.

    Returns:
        DataFrame[event_id, run_date, asset, event, column, detail, dialect, fingerprint,
        first_seen, last_seen, seen_count, evidence], one row per event_id.
    """
    events = (
        extracted.filter(F.col("kind") == "schema")
        .select(*SCHEMA_EVENT_IDENTITY)
        .withColumn("event_id", stable_id(SCHEMA_EVENT_IDENTITY))
    )
    facts = stats.select(
        *[F.col(k).alias(f"_{k}") for k in _TEXT_KEYS],
        "first_seen",
        "last_seen",
        F.col("n").alias("seen_count"),
        "evidence",
    )
    same_text = reduce(
        lambda a, b: a & b, [events[k].eqNullSafe(facts[f"_{k}"]) for k in _TEXT_KEYS]
    )
    return (
        events.join(facts, same_text)
        .select(
            "event_id",
            F.lit(run_date).cast("date").alias("run_date"),
            F.lower("source_table").alias("asset"),
            "event",
            F.lower("source_column").alias("column"),
            "detail",
            "dialect",
            "fingerprint",
            "first_seen",
            "last_seen",
            "seen_count",
            "evidence",
        )
        .dropDuplicates(["event_id"])
    )


def job_log_edges(logs: DataFrame, *, confidence: float) -> DataFrame:
    """Table-level edges from split READ/WRITE lines of the same job.

    Args:
        logs: landed query-log lines (``sql``, ``action``, ``job_id``, ``table``, ``started_at``,
            ``line``); only lines without SQL, with an action and a job id are used.
        confidence: the ``job_log`` signal's confidence.

    Returns:
        One observation per (read table, written table) of a job, the table names lowercased,
        the two ends different: ``seen_count`` counts READ x WRITE line pairs, ``first_seen`` is
        the earliest read, ``last_seen`` the latest write, ``evidence`` up to 5 job ids.
    """
    split = logs.filter(
        F.col("sql").isNull() & F.col("action").isNotNull() & F.col("job_id").isNotNull()
    )
    reads = split.filter(F.col("action") == "READ").select(
        "job_id", F.lower("table").alias("src"), "started_at", "line"
    )
    writes = split.filter(F.col("action") == "WRITE").select(
        "job_id", F.lower("table").alias("dst"), F.col("started_at").alias("w_at")
    )
    pairs = reads.join(writes, "job_id").filter(F.col("src") != F.col("dst"))
    return (
        pairs.groupBy("src", "dst")
        .agg(
            F.count("*").alias("seen_count"),
            F.min("started_at").alias("first_seen"),
            F.max("w_at").alias("last_seen"),
            F.slice(F.sort_array(F.collect_set("job_id")), 1, 5).alias("evidence"),
        )
        .select(
            F.col("src").alias("source_asset"),
            F.lit(None).cast("string").alias("source_column"),
            F.col("dst").alias("target_asset"),
            F.lit(None).cast("string").alias("target_column"),
            F.lit("DIRECT").alias("transformation_type"),
            F.lit("TRANSFORMATION").alias("transformation_subtype"),
            F.lit(False).alias("masking"),
            F.lit("job_log").alias("signal"),
            F.lit(confidence).alias("confidence"),
            "evidence",
            "first_seen",
            "last_seen",
            "seen_count",
        )
    )


def merge_observations(obs: DataFrame, keys: list[str]) -> DataFrame:
    """One row per ``keys``: masked only when every observation masks, best confidence, merged
    evidence (sorted, distinct, at most 10), summed counts, widest time span."""
    return obs.groupBy(*keys).agg(
        *[F.first(c).alias(c) for c in EDGE_IDENTITY],
        every_masked().alias("masking"),
        F.max("confidence").alias("confidence"),
        F.slice(F.sort_array(F.array_distinct(F.flatten(F.collect_list("evidence")))), 1, 10).alias(
            "evidence"
        ),
        F.min("first_seen").alias("first_seen"),
        F.max("last_seen").alias("last_seen"),
        F.sum("seen_count").alias("seen_count"),
    )
