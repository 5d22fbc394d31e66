"""Lineage signals other than SQL (OpenLineage, probes, training configs, engine lineage) and their
merge into one observation per flow (``merge_signals``)."""

from lineage.signals.merge import (
    MATCH_KINDS,
    MERGED_SCHEMA,
    OBSERVATION_SCHEMA,
    OBSERVED,
    config_observations,
    dataset_asset,
    flows_not_observed,
    merge_signals,
    openlineage_observations,
    probe_observations,
    uri_asset,
)

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
