"""Deletion lifecycle checks over ``deletion_events``: validation, anomalies, timing rules."""

from audits.lifecycle.rules import (
    CHECKS,
    LifecycleThresholds,
    lifecycle_anomalies,
    track_anomalies,
    validate_events,
)

__all__ = [
    "CHECKS",
    "LifecycleThresholds",
    "lifecycle_anomalies",
    "track_anomalies",
    "validate_events",
]
