"""Privacy-probe samples -> lineage observations, and statically found flows probes never saw.

Matching (per request, on the keyed value hashes the probe already reduced payloads to):

- every (source line, sink line) pair of a request is compared with Spark's array set
  operations on the lines' distinct hash sets: equal non-empty sets -> ``EXACT_MATCH``; the sink
  holds every hash of a non-empty source set and more -> ``CONTAINS``; anything else (including
  an empty side) -> ``NO_MATCH``. Each line is one captured payload, so a sink written twice in
  a request is compared twice; a (source, sink) flow of a request keeps its best match kind;
- EXACT_MATCH is a DIRECT/IDENTITY flow, CONTAINS and NO_MATCH DIRECT/TRANSFORMATION (the value
  was embedded, or possibly transformed); masking is false (a probe cannot tell);
- observations are aggregated per (flow, match kind) over requests: ``seen_count`` = number of
  requests, ``evidence`` = ``"<MATCH>:<request_id>"`` of the smallest request ids,
  ``first_seen``/``last_seen`` = the earliest/latest probe time of the pair's lines.

Asset names are trimmed and lower-cased, fields are columns (null field = table level).
"""

from __future__ import annotations

from datetime import date, datetime

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.signals.common import FLOW_KEYS, aggregate_units, column_name, finish

MATCH_KINDS = ("EXACT_MATCH", "CONTAINS", "NO_MATCH")
"""Values of the ``match`` column of :func:`probe_observations`."""
OBSERVED = ("EXACT_MATCH", "CONTAINS")
"""Match kinds that confirm a flow."""


def _lines(probes: DataFrame) -> DataFrame:
    """Usable probe lines with normalised names and their distinct, non-null hash set."""
    return probes.select(
        F.col("request_id"),
        F.lower(F.trim("role")).alias("role"),
        F.lower(F.trim("asset")).alias("asset"),
        column_name("field").alias("field"),
        F.col("ts"),
        F.array_distinct(
            F.filter(
                F.coalesce("value_hashes", F.array().cast("array<string>")), lambda h: h.isNotNull()
            )
        ).alias("h"),
    ).filter(
        F.col("request_id").isNotNull()
        & F.col("role").isin("source", "sink")
        & F.col("asset").isNotNull()
        & (F.col("asset") != "")
    )


def _role(lines: DataFrame, role: str, end: str, tag: str) -> DataFrame:
    """The ``role`` lines as ``[request_id, <end>_asset, <end>_column, <tag>_h, <tag>_ts]``."""
    return lines.filter(F.col("role") == role).select(
        "request_id",
        F.col("asset").alias(f"{end}_asset"),
        F.col("field").alias(f"{end}_column"),
        F.col("h").alias(f"{tag}_h"),
        F.col("ts").alias(f"{tag}_ts"),
    )


def probe_observations(
    probes: DataFrame, *, match_confidence: float, no_match_confidence: float
) -> DataFrame:
    """Observations from landed probe samples (``landed_probe_samples``).

    Args:
        probes: DataFrame with ``request_id``, ``ts``, ``role`` (source|sink), ``asset``,
            ``field`` (nullable) and ``value_hashes``.
        match_confidence: confidence of EXACT_MATCH and CONTAINS observations.
        no_match_confidence: confidence of NO_MATCH observations (for review only).

    Returns:
        DataFrame with :data:`lineage.signals.common.OBSERVATION_SCHEMA` columns
        (``signal = "probe"``) plus ``match`` (EXACT_MATCH|CONTAINS|NO_MATCH).

    Example:
        >>> confirmed = probe_observations(
        ...     p, match_confidence=0.95, no_match_confidence=0.2
        ... ).filter("match != 'NO_MATCH'")
    """
    lines = _lines(probes)
    src = _role(lines, "source", "source", "s")
    snk = _role(lines, "sink", "target", "k")
    n_src, n_snk = F.size("s_h"), F.size("k_h")
    common = F.size(F.array_intersect("s_h", "k_h"))
    rank = (  # index into MATCH_KINDS: the best kind of a (flow, request) is the smallest
        F.when((n_src > 0) & (common == n_src) & (n_snk == n_src), F.lit(0))
        .when((n_src > 0) & (common == n_src) & (n_snk > n_src), F.lit(1))
        .otherwise(F.lit(2))
    )
    pairs = src.join(snk, "request_id").select(
        "request_id",
        "source_asset",
        "source_column",
        "target_asset",
        "target_column",
        rank.alias("rank"),
        F.least("s_ts", "k_ts").alias("t0"),
        F.greatest("s_ts", "k_ts").alias("t1"),
    )
    per_request = pairs.groupBy(
        "source_asset", "source_column", "target_asset", "target_column", "request_id"
    ).agg(F.min("rank").alias("rank"), F.min("t0").alias("first_t"), F.max("t1").alias("last_t"))
    match = F.element_at(F.array(*[F.lit(m) for m in MATCH_KINDS]), F.col("rank") + 1)
    units = per_request.select(
        "*",
        match.alias("match"),
        F.lit("DIRECT").alias("transformation_type"),
        F.when(F.col("rank") == 0, F.lit("IDENTITY"))
        .otherwise(F.lit("TRANSFORMATION"))
        .alias("transformation_subtype"),
        F.lit(False).alias("masking"),
        F.concat_ws(":", match, F.col("request_id")).alias("ev"),
    )
    keys = [*FLOW_KEYS, "match"]
    flows = aggregate_units(units, keys, evidence="ev", first="first_t", last="last_t")
    conf = F.when(F.col("match") == "NO_MATCH", F.lit(float(no_match_confidence))).otherwise(
        F.lit(float(match_confidence))
    )
    return finish(flows, signal="probe", confidence=conf, extra=["match"])


def flows_not_observed(
    static_edges: DataFrame, probe_obs: DataFrame, *, window_start: datetime | date | str
) -> DataFrame:
    """Statically found flows that probes could have seen but never confirmed since ``window_start``.

    A (source_asset, target_asset) pair of ``static_edges`` (any signal but ``probe``) qualifies
    when the source asset was probed as a source and the target asset as a sink in the window
    (an observation of any match kind whose ``last_seen >= window_start``) and no EXACT_MATCH or
    CONTAINS observation of the pair (any columns) has ``last_seen >= window_start``: the flow
    is possibly gated off in production (seed 000's "observed 0 times" recommendation flow).

    Args:
        static_edges: edges or observations with ``source_asset``, ``target_asset`` (and
            optionally ``signal``).
        probe_obs: the output of :func:`probe_observations` over the window.
        window_start: start of the observation window (UTC).

    Returns:
        DataFrame[source_asset string, target_asset string, status string = "not observed"].
    """
    start = F.lit(window_start).cast("timestamp")
    static = static_edges
    if "signal" in static_edges.columns:
        static = static.filter(F.coalesce(F.col("signal"), F.lit("")) != "probe")
    pairs = (
        static.select(
            F.lower(F.trim("source_asset")).alias("source_asset"),
            F.lower(F.trim("target_asset")).alias("target_asset"),
        )
        .filter(
            F.col("source_asset").isNotNull()
            & F.col("target_asset").isNotNull()
            & (F.col("source_asset") != F.col("target_asset"))
        )
        .distinct()
    )
    recent = probe_obs.filter(F.col("last_seen") >= start)
    sources = recent.select(F.col("source_asset")).distinct()
    sinks = recent.select(F.col("target_asset")).distinct()
    seen = (
        recent.filter(F.col("match").isin(*OBSERVED))
        .select("source_asset", "target_asset")
        .distinct()
    )
    return (
        pairs.join(sources, "source_asset", "left_semi")
        .join(sinks, "target_asset", "left_semi")
        .join(seen, ["source_asset", "target_asset"], "left_anti")
        .select("source_asset", "target_asset", F.lit("not observed").alias("status"))
    )
