"""Deletion annotations (DELF §4): the typed model (``sections``), static validation and dangling
data (``checks``), and the heuristics that propose annotations."""

from audits.annotations.checks import (
    AnnotationFinding,
    annotation_findings,
    dangling_edges,
    validate_annotations,
)

__all__ = [
    "AnnotationFinding",
    "annotation_findings",
    "dangling_edges",
    "validate_annotations",
]
