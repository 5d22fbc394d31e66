"""Deletion annotations (DELF §4): the typed model (``sections``), static validation and dangling
data (``checks``), and the heuristics that propose annotations."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    "audits.annotations.checks",
    (
        "annotation_findings",
        "dangling_edges",
        "validate_annotations",
    ),
)
