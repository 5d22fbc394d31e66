"""The error of the graph functions, importable without Spark (the CLI maps it to exit 2)."""

from __future__ import annotations

from core.errors import ComplianceError


class GraphError(ComplianceError):
    """Bad input to a graph function (a confidence out of range, a negative depth, ...)."""
