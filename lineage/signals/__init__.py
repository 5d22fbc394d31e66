"""Lineage signals other than SQL (OpenLineage, probes, training configs, engine lineage) and their
merge into one observation per flow (``merge_signals``)."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    "lineage.signals.merge",
    (
        "merge_signals",
        "MERGED_SCHEMA",
        "OBSERVATION_SCHEMA",
    ),
)
