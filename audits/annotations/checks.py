"""Deletion annotations (DELF §4): static validation and dangling data from the edge inventory.

The annotations come from ``conf/annotations.yaml`` loaded into plain Python::

    {"objects": {object_type: "directly" | "by_any" | "by_x_only" | "by_<type>_only" |
                              "short_ttl" | "not_deleted"},
     "edges": {edge_type: {"src": object_type, "dst": object_type,
                           "deletion": "deep" | "shallow" | "refcount"}}}

Static validation (:func:`validate_annotations`) is plain Python over that mapping (plus the
distinct ``(edge_type, src_type, dst_type)`` triples observed in the inventory, a small metadata
list). Its rules:

- every edge type (declared or observed) has a valid annotation: ``unannotated_edge_type``,
  ``invalid_annotation``; every object type used by an edge is annotated:
  ``unannotated_object_type``;
- an edge type observed between object types other than the declared ones is reused
  (DELF's Dating-mailbox example): ``edge_type_reused``;
- deletion *roots* are ``directly`` objects and ``short_ttl`` objects (deleted by their TTL, which
  cascades like any deletion); ``deep`` and ``refcount`` edges carry a deletion to their target.
  Every object type that is neither ``directly``, ``short_ttl`` nor ``not_deleted`` must be
  reachable from a root through such edges (``by_<type>_only``: from that type):
  ``unreachable_object_type``;
- every target type of a ``refcount`` edge has at least one counted inbound edge, i.e. a
  ``refcount`` edge whose source type is deletable (else its count never drops to zero):
  ``refcount_target_uncounted``.

The dynamic heuristics live in :mod:`audits.annotations.heuristics`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.annotations.sections import Annotations, EdgeAnnotation, as_annotations
from audits.messages import message

if TYPE_CHECKING:
    from audits.annotations.heuristics import HeuristicOptions

OBJECT_ANNOTATIONS = ("directly", "by_any", "by_x_only", "short_ttl", "not_deleted")
EDGE_ANNOTATIONS = ("deep", "shallow", "refcount")
FINDINGS_SCHEMA = "finding string, edge_type string, object_type string, detail string"
_BY_ONLY = re.compile(r"^by_(.+)_only$")


@dataclass(frozen=True)
class AnnotationFinding:
    """One ``annotation_findings`` row."""

    finding: str
    """The rule that failed (``unannotated_edge_type``, ``unreachable_object_type``, ...)."""
    edge_type: str | None
    """The edge type at fault, if any."""
    object_type: str | None
    """The object type at fault, if any."""
    detail: str
    """What is wrong and what was expected."""


def _valid_object(annotation: str, objects: Mapping[str, str]) -> bool:
    if annotation in OBJECT_ANNOTATIONS:
        return True
    match = _BY_ONLY.match(annotation)
    return bool(match and match.group(1) in objects)


def deletable_types(annotations: Annotations | Mapping[str, Any]) -> set[str]:
    """Object types a deletion reaches: roots plus what deep/refcount edges reach from them."""
    ann = as_annotations(annotations)
    roots = {t for t, a in ann.objects.items() if a in ("directly", "short_ttl")}
    return _reach(roots, ann.edges)


def _reach(start: Iterable[str], edges: Mapping[str, EdgeAnnotation]) -> set[str]:
    adjacency: dict[str, set[str]] = {}
    for spec in edges.values():
        if spec.deletion in ("deep", "refcount") and spec.src and spec.dst:
            adjacency.setdefault(spec.src, set()).add(spec.dst)
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def validate_annotations(
    annotations: Annotations | Mapping[str, Any],
    *,
    observed: Iterable[tuple[str, str, str]] = (),
) -> list[AnnotationFinding]:
    """Static validation of the deletion annotations (rules in the module docstring).

    Args:
        annotations: the loaded ``annotations.yaml``.
        observed: distinct ``(edge_type, src_type, dst_type)`` seen in the edge inventory
            (see :func:`observed_edge_types`).

    Returns:
        The findings, sorted by (finding, edge_type, object_type).

    Raises:
        AnnotationError: the mapping is not shaped as expected.
    """
    ann = as_annotations(annotations)
    objects, edges = ann.objects, ann.edges
    found: set[AnnotationFinding] = set()
    observed = sorted(set(observed))
    for edge_type in sorted({e for e, _, _ in observed} - set(edges)):
        pairs = ", ".join(f"{s}->{d}" for e, s, d in observed if e == edge_type)
        found.add(
            AnnotationFinding(
                "unannotated_edge_type",
                edge_type,
                None,
                f"observed ({pairs}) but has no deletion annotation",
            )
        )
    for edge_type, spec in edges.items():
        deletion = spec.deletion
        if deletion not in EDGE_ANNOTATIONS:
            found.add(
                AnnotationFinding(
                    "invalid_annotation" if deletion else "unannotated_edge_type",
                    edge_type,
                    None,
                    f"deletion is {deletion!r}, expected one of {', '.join(EDGE_ANNOTATIONS)}",
                )
            )
        for end in ("src", "dst"):
            if not spec.end(end):
                found.add(
                    AnnotationFinding(
                        "invalid_annotation", edge_type, None, f"declares no {end} object type"
                    )
                )
    for edge_type, src, dst in observed:
        spec = edges.get(edge_type)
        if spec and (spec.src, spec.dst) != (src, dst):
            found.add(
                AnnotationFinding(
                    "edge_type_reused",
                    edge_type,
                    src if spec.src != src else dst,
                    f"observed {src}->{dst}, declared {spec.src}->{spec.dst}: annotate the new use",
                )
            )
    used = {e for spec in edges.values() for e in (spec.src, spec.dst) if e}
    used |= {t for _, s, d in observed for t in (s, d)}
    for object_type in sorted(used - set(objects)):
        found.add(
            AnnotationFinding(
                "unannotated_object_type",
                None,
                object_type,
                "used by edges but has no deletion annotation",
            )
        )
    for object_type, annotation in objects.items():
        if not _valid_object(annotation, objects):
            found.add(
                AnnotationFinding(
                    "invalid_annotation",
                    None,
                    object_type,
                    f"{annotation!r} is not one of {', '.join(OBJECT_ANNOTATIONS)} "
                    "or by_<type>_only",
                )
            )
    found |= _reachability(objects, edges)
    return sorted(
        found, key=lambda f: (f.finding, f.edge_type or "", f.object_type or "", f.detail)
    )


def _reachability(
    objects: Mapping[str, str], edges: Mapping[str, EdgeAnnotation]
) -> set[AnnotationFinding]:
    found: set[AnnotationFinding] = set()
    deletable = deletable_types(Annotations(objects, edges))
    for object_type, annotation in sorted(objects.items()):
        if annotation in ("directly", "short_ttl", "not_deleted") or not _valid_object(
            annotation, objects
        ):
            continue
        match = _BY_ONLY.match(annotation)
        owner = match.group(1) if match and match.group(1) in objects else None
        if owner is not None:
            ok = owner in deletable and object_type in _reach({owner}, edges) - {owner}
            where = f"{owner} (itself deleted)"
        else:
            ok = object_type in deletable
            where = "a deletion root"
        if not ok:
            found.add(
                AnnotationFinding(
                    "unreachable_object_type",
                    None,
                    object_type,
                    f"annotated {annotation} but no chain of deep/refcount edges from {where} "
                    f"reaches it: its objects are never deleted",
                )
            )
    targets = sorted({s.dst for s in edges.values() if s.deletion == "refcount" and s.dst})
    for target in targets:
        counted = [
            e
            for e, s in edges.items()
            if s.deletion == "refcount" and s.dst == target and s.src in deletable
        ]
        if not counted:
            inbound = sorted(
                e for e, s in edges.items() if s.deletion == "refcount" and s.dst == target
            )
            found.add(
                AnnotationFinding(
                    "refcount_target_uncounted",
                    inbound[0],
                    target,
                    f"refcount edges {', '.join(inbound)} all come from types that are never "
                    f"deleted: the count of {target} never drops to zero",
                )
            )
    return found


def observed_edge_types(inventory: DataFrame) -> list[tuple[str, str, str]]:
    """Distinct (edge_type, src_type, dst_type) of the inventory (a small metadata list)."""
    rows = inventory.select("edge_type", "src_type", "dst_type").distinct().collect()
    return sorted((r[0], r[1], r[2]) for r in rows if r[0] is not None)


def dangling_edges(inventory: DataFrame) -> DataFrame:
    """Edges whose source object was deleted but that still exist (DELF's developer omissions).

    Grouped by (edge_type, src_type): the edge type left dangling and the deleted source's type
    (an edge type reused by a new source type shows up as its own group).

    Returns:
        DataFrame[finding, edge_type, object_type, detail] with ``finding`` ``dangling_edges``;
        ``detail`` holds the count and the smallest (src_key, dst_key) as an example.
    """
    grouped = (
        inventory.where(F.col("deleted_src"))
        .groupBy("edge_type", "src_type")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.min(F.struct("src_key", "dst_type", "dst_key")).alias("ex"),
        )
    )
    return grouped.select(
        F.lit("dangling_edges").alias("finding"),
        "edge_type",
        F.col("src_type").alias("object_type"),
        message(
            "{n} edge(s) still exist after their {src_type} was deleted,"
            " e.g. {ex.src_key} -> {ex.dst_key} ({ex.dst_type})"
        ).alias("detail"),
    )


def findings_frame(like: DataFrame, findings: Iterable[AnnotationFinding]) -> DataFrame:
    """The static findings as a DataFrame, built with the session of ``like``."""
    rows = [tuple(asdict(f).values()) for f in findings]
    return like.sparkSession.createDataFrame(rows, FINDINGS_SCHEMA)


def annotation_findings(
    annotations: Annotations | Mapping[str, Any],
    inventory: DataFrame,
    *,
    options: HeuristicOptions | None = None,
) -> DataFrame:
    """Every annotation finding: static validation, dangling edges and heuristic disagreements.

    Args:
        annotations: the loaded ``annotations.yaml``.
        inventory: the edge inventory.
        options: :class:`audits.annotations.heuristics.HeuristicOptions` (defaults if None).

    Returns:
        DataFrame[finding, edge_type, object_type, detail] (the ``annotation_findings`` rows).
    """
    from audits.annotations.heuristics import (
        HeuristicOptions,
        edge_features,
        heuristic_findings,
        predict_annotations,
    )

    static = validate_annotations(annotations, observed=observed_edge_types(inventory))
    predictions = predict_annotations(edge_features(inventory), options or HeuristicOptions())
    return (
        findings_frame(inventory, static)
        .unionByName(dangling_edges(inventory))
        .unionByName(heuristic_findings(predictions, annotations))
    )
