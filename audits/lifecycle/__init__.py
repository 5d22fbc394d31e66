"""Deletion lifecycle checks over ``deletion_events``: validation, anomalies, timing rules."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    "audits.lifecycle.rules",
    (
        "lifecycle_anomalies",
        "validate_events",
    ),
)
