"""The one model of the DELF deletion annotations: object types and annotated edge types.

``annotations.yaml`` is validated into :class:`Annotations` once per run by
:func:`jobs.config.catalog.load_annotations` (a bad file is a one-line configuration error); the audit
passes that model to the static checks (:mod:`audits.annotations.checks`) and the deep/shallow
heuristics (:mod:`audits.annotations.heuristics`). :func:`as_annotations` also accepts the plain
mapping (``{objects: {...}, edges: {...}}``) leniently, keeping invalid values for the static
checks to report, for callers that build annotations in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError


class AnnotationError(ConfigError):
    """The annotations mapping is not shaped as ``{objects: {...}, edges: {...}}``."""


@dataclass(frozen=True)
class EdgeAnnotation:
    """The DELF annotation of an edge type: ``src -> dst`` deleted ``deep|shallow|refcount``.

    ``src``, ``dst`` and ``deletion`` are None when not given (only a lenient mapping can leave
    them out; the static checks report it)."""

    name: str
    src: str | None
    dst: str | None
    deletion: str | None

    def end(self, which: str) -> str | None:
        """``src`` or ``dst``."""
        return self.src if which == "src" else self.dst


@dataclass(frozen=True)
class Annotations:
    """The loaded DELF deletion annotations.

    Attributes:
        objects: mapping of object type to deletion mode.
        edges: mapping of edge type to its annotation.
        path: the file it was loaded from.
    """

    objects: Mapping[str, str]
    edges: Mapping[str, EdgeAnnotation]
    path: str = ""


def as_annotations(value: Annotations | Mapping[str, Any]) -> Annotations:
    """The model itself, or a plain mapping read leniently into it.

    Raises:
        AnnotationError: the mapping is not shaped as ``{objects: {...}, edges: {...}}``.
    """
    if isinstance(value, Annotations):
        return value
    objects = value.get("objects") or {}
    edges = value.get("edges") or {}
    if not isinstance(objects, Mapping) or not isinstance(edges, Mapping):
        raise AnnotationError("annotations: expected mappings under 'objects' and 'edges'")
    out: dict[str, EdgeAnnotation] = {}
    for name, spec in edges.items():
        if spec is not None and not isinstance(spec, Mapping):
            raise AnnotationError(f"annotations: edge {name!r} must map src, dst and deletion")
        spec = spec or {}

        def text(key: str, spec: Mapping[str, Any] = spec) -> str | None:
            v = spec.get(key)
            return None if v is None or v == "" else str(v)

        out[str(name)] = EdgeAnnotation(str(name), text("src"), text("dst"), text("deletion"))
    return Annotations({str(k): str(v) for k, v in objects.items()}, out)
