"""Shared pieces of the non-SQL signal extractors: the observation schema, asset naming, and the
per-flow aggregation every extractor ends with.

Asset naming (the product's convention: lower-case ``schema.table``, columns as separate fields):

- OpenLineage datasets: the ``namespace`` is dropped (``warehouse``, ``superset``,
  ``postgres://host:5432`` only say where the dataset lives) and the ``name`` is trimmed and
  lower-cased. A dotted name of three or more parts without ``/`` (``catalog.schema.table``, as
  Trino or Postgres producers write it) keeps its last two parts, so that it meets the
  ``schema.table`` names of the catalog and the SQL signal. Path-like names (``/data/x``,
  ``bucket/key``) are kept whole.
- ``asset://<system>.<kind>/<name>`` URIs (training configs): the asset is ``<name>``, trimmed
  and lower-cased (``asset://mlflow.model/ml.churn_model`` -> ``ml.churn_model``, the demo
  catalog's model asset; ``asset://warehouse.table/ml.churn_features`` -> ``ml.churn_features``).
  A value without the ``asset://`` prefix is taken as an asset name as it is.
- Column names are trimmed and lower-cased.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

OBSERVATION_SCHEMA = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "transformation_type string, transformation_subtype string, masking boolean, signal string, "
    "confidence double, evidence array<string>, first_seen timestamp, last_seen timestamp, "
    "seen_count bigint"
)
"""DDL of what every extractor returns (``source_column``/``target_column`` null = table level)."""

OBSERVATION_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (part.strip().split(" ", 1)[0], part.strip().split(" ", 1)[1])
    for part in OBSERVATION_SCHEMA.split(", ")
)
"""(name, type) pairs of :data:`OBSERVATION_SCHEMA`, in order."""

FLOW_KEYS = (
    "source_asset",
    "source_column",
    "target_asset",
    "target_column",
    "transformation_type",
    "transformation_subtype",
)
"""The columns that identify one flow with its transformation."""

MAX_EVIDENCE = 10
"""At most this many evidence items are kept per observation (the smallest, sorted)."""

DIRECT_SUBTYPES = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
INDIRECT_SUBTYPES = ("JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL")


def dataset_asset(name: Column | str) -> Column:
    """Asset name of an OpenLineage dataset ``name`` (its namespace is not part of it).

    Args:
        name: the dataset's ``name`` column.

    Returns:
        The trimmed, lower-case name; ``a.b.c(.d)`` without ``/`` keeps its last two parts.

    Example: ``Hive.CRM.Customers`` -> ``crm.customers``; ``crm.customers`` stays.
    """
    n = F.lower(F.trim(name if isinstance(name, Column) else F.col(name)))
    last_two = F.regexp_extract(n, r"([^.]+\.[^.]+)$", 1)
    many_parts = n.rlike(r"^[^/]*\.[^/]*\.[^/]*$")
    return F.when(many_parts & (last_two != ""), last_two).otherwise(n)


def uri_asset(uri: Column | str) -> Column:
    """Asset name of an ``asset://<system>.<kind>/<name>`` URI (or of a bare name).

    Args:
        uri: the URI column.

    Returns:
        ``<name>`` trimmed and lower-cased; null for a null or empty value.
    """
    u = F.trim(uri if isinstance(uri, Column) else F.col(uri))
    name = F.when(
        F.lower(u).startswith("asset://"), F.regexp_extract(u, r"^[^:]+://[^/]*/(.*)$", 1)
    ).otherwise(u)
    name = F.lower(F.trim(name))
    return F.when(name != "", name)


def column_name(col: Column | str) -> Column:
    """Trimmed, lower-case column name; null stays null (table level)."""
    return F.lower(F.trim(col if isinstance(col, Column) else F.col(col)))


def transformation(type_: Column, subtype: Column, *, default_type: str) -> tuple[Column, Column]:
    """Normalise an OpenLineage (type, subtype) pair to the product's vocabulary.

    An absent or unknown type becomes ``default_type``; an absent subtype, or one that does not
    belong to the type, becomes IDENTITY for DIRECT and FILTER for INDIRECT.

    Args:
        type_: the transformation type column (may be null).
        subtype: the transformation subtype column (may be null).
        default_type: ``"DIRECT"`` or ``"INDIRECT"``.

    Returns:
        The normalised (type, subtype) columns.
    """
    t = F.upper(F.trim(type_))
    t = F.when(t.isin("DIRECT", "INDIRECT"), t).otherwise(F.lit(default_type))
    s = F.upper(F.trim(subtype))
    s = (
        F.when((t == "DIRECT") & s.isin(*DIRECT_SUBTYPES), s)
        .when((t == "INDIRECT") & s.isin(*INDIRECT_SUBTYPES), s)
        .when(t == "DIRECT", F.lit("IDENTITY"))
        .otherwise(F.lit("FILTER"))
    )
    return t, s


def aggregate_units(
    units: DataFrame,
    keys: Sequence[str],
    *,
    evidence: str,
    first: str,
    last: str,
    masking: str = "masking",
) -> DataFrame:
    """Aggregate observation units (one row per flow and run/request/file) into one row per flow.

    ``seen_count`` is the number of units, ``first_seen``/``last_seen`` the min/max of the units'
    times, ``masking`` true only when every unit says masked, and ``evidence`` the
    :data:`MAX_EVIDENCE` smallest unit ids, sorted. A window ranks the units so that no flow ever
    gathers all its unit ids in memory.

    Args:
        units: one row per (flow keys, unit); ``evidence`` must be unique within a flow.
        keys: the flow columns (nulls allowed).
        evidence: column holding the unit's evidence string.
        first: column of the unit's first time.
        last: column of the unit's last time.
        masking: boolean column.

    Returns:
        ``keys`` + masking, evidence, first_seen, last_seen, seen_count.
    """
    ordered = Window.partitionBy(*keys).orderBy(F.col(evidence))
    whole = ordered.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    ranked = units.select(
        *keys,
        F.col(evidence).alias("_ev"),
        F.row_number().over(ordered).alias("_rn"),
        F.count(F.lit(1)).over(whole).alias("_n"),
        F.min(first).over(whole).alias("_first"),
        F.max(last).over(whole).alias("_last"),
        F.min(F.coalesce(F.col(masking), F.lit(False))).over(whole).alias("_masking"),
    )
    return (
        ranked.filter(F.col("_rn") <= MAX_EVIDENCE)
        .groupBy(*keys)
        .agg(
            F.first("_masking").alias("masking"),
            F.array_sort(F.collect_list("_ev")).alias("evidence"),
            F.first("_first").alias("first_seen"),
            F.first("_last").alias("last_seen"),
            F.first("_n").alias("seen_count"),
        )
    )


def finish(
    df: DataFrame, *, signal: str, confidence: float | Column, extra: Sequence[str] = ()
) -> DataFrame:
    """Select the :data:`OBSERVATION_SCHEMA` columns (with their types) plus ``extra``.

    Args:
        df: aggregated flows (the output of :func:`aggregate_units`).
        signal: the signal name.
        confidence: a constant or a column.
        extra: further columns kept after the schema's (e.g. ``match``).

    Returns:
        The observations.
    """
    conf = confidence if isinstance(confidence, Column) else F.lit(float(confidence))
    given = {"signal": F.lit(signal), "confidence": conf}
    return df.select(
        *[
            given.get(name, F.col(name)).cast(dtype).alias(name)
            for name, dtype in OBSERVATION_COLUMNS
        ],
        *extra,
    )
