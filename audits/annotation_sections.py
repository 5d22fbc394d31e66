"""The two sections of a DELF annotations mapping (``objects`` and ``edges``), checked for shape.

Shared by the static checks (:mod:`audits.annotations`) and the deep/shallow heuristics
(:mod:`audits.annotations_heuristics`); the file itself is validated into a typed model by
:func:`jobs.catalog.load_annotations` before any audit runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ConfigError


class AnnotationError(ConfigError):
    """The annotations mapping is not shaped as ``{objects: {...}, edges: {...}}``."""


def _sections(annotations: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, dict]]:
    objects = annotations.get("objects") or {}
    edges = annotations.get("edges") or {}
    if not isinstance(objects, Mapping) or not isinstance(edges, Mapping):
        raise AnnotationError("annotations: expected mappings under 'objects' and 'edges'")
    for name, spec in edges.items():
        if spec is not None and not isinstance(spec, Mapping):
            raise AnnotationError(f"annotations: edge {name!r} must map src, dst and deletion")
    return {str(k): str(v) for k, v in objects.items()}, {
        str(k): dict(v or {}) for k, v in edges.items()
    }
