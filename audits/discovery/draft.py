"""The draft catalog: what discovery found, merged with what people have reviewed.

The draft has the schema of ``catalog.yaml`` (:mod:`jobs.config.catalog`); each discovered asset
and column carries a ``discovery`` mapping with the confidence and the evidence. An entry is
**reviewed** when it is in the existing catalog, or when its ``discovery`` mapping in the previous
draft says ``reviewed: true`` (on a column: that column; on an asset: the asset and all its
columns). Reviewed entries are copied as they are, never replaced; discovery only adds the
columns they lack.

Example of a discovered column::

    - name: email
      type: string
      data_category: user.contact.email
      is_identifier: false
      classification: confidential
      discovery:
        confidence: 1.0
        evidence:
        - {source: name, rule: email, category: user.contact.email}
        - {source: values, detector: email, matched: 200, sampled: 200}
        reviewed: false
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audits.discovery.suggest import Suggestion, suggest

Counts = Mapping[str, Mapping[str, tuple[int, int]]]


@dataclass(frozen=True)
class FoundTable:
    """A table as discovery found it.

    Attributes:
        name: dotted lower-case name (``crm.customers``).
        columns: ``(name, type)`` pairs in table order.
        sources: where it was found (``delta``, ``parquet``, ``spark_catalog``, ``query_logs``).
        kind: the catalog kind (``table`` or ``view``).
        read: its schema was read from the data (False: only known from elsewhere, or unreadable).
        reason: why it was not read, or None.
        sampled: how many rows were sampled (0 when none).
        counts: detector counts per column (``{column: {detector: (matched, sampled)}}``).
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]
    kind: str = "table"
    read: bool = True
    reason: str | None = None
    sampled: int = 0
    counts: Counts = field(default_factory=dict)


@dataclass
class DraftSummary:
    """Counts of a draft: tables (and how many were read), columns, suggested, entries kept as
    reviewed, tables that could not be read."""

    tables: int = 0
    read: int = 0
    columns: int = 0
    suggested: int = 0
    reviewed_kept: int = 0
    not_read: list[str] = field(default_factory=list)

    def text(self) -> str:
        unread = f"; not read: {', '.join(self.not_read)}" if self.not_read else ""
        return (
            f"{self.tables} tables ({self.read} read, {self.tables - self.read} known from "
            f"elsewhere only), {self.columns} columns, {self.suggested} with a suggested "
            f"category, {self.reviewed_kept} reviewed entries kept{unread}"
        )


def is_reviewed(entry: Mapping[str, Any]) -> bool:
    """The entry's ``discovery`` mapping says ``reviewed: true``."""
    d = entry.get("discovery")
    return isinstance(d, Mapping) and d.get("reviewed") is True


def column_entry(name: str, typ: str, s: Suggestion) -> dict[str, Any]:
    """A catalog column from a suggestion (with its ``discovery`` mapping)."""
    entry: dict[str, Any] = {
        "name": name,
        "type": typ,
        "data_category": s.category,
        "is_identifier": s.is_identifier,
        "classification": s.classification,
    }
    if s.hash:
        entry["hash"] = s.hash
    entry["discovery"] = {
        "confidence": s.confidence,
        "evidence": [dict(e) for e in s.evidence],
        "reviewed": False,
    }
    return entry


def _by_name(entries: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in entries or []:
        if isinstance(e, Mapping) and isinstance(e.get("name"), str):
            out.setdefault(e["name"], dict(e))
    return out


def _columns(
    t: FoundTable,
    previous: Mapping[str, Any] | None,
    keep: dict[str, dict[str, Any]],
    n: DraftSummary,
) -> list[dict[str, Any]]:
    prev_cols = _by_name((previous or {}).get("columns"))
    out = [copy.deepcopy(c) for c in keep.values()]
    n.reviewed_kept += len(out)
    for cname, typ in t.columns:
        if cname in keep:
            continue
        old = prev_cols.get(cname)
        if old is not None and is_reviewed(old):
            out.append(copy.deepcopy(old))
            n.reviewed_kept += 1
            continue
        s = suggest(cname, t.counts.get(cname))
        n.suggested += s.category is not None
        out.append(column_entry(cname, typ, s))
    seen = {c["name"] for c in out}
    for cname, old in prev_cols.items():  # reviewed columns the table no longer shows
        if cname not in seen and is_reviewed(old):
            out.append(copy.deepcopy(old))
            n.reviewed_kept += 1
    n.columns += len(t.columns)
    return out


def _found_note(t: FoundTable) -> dict[str, Any]:
    note: dict[str, Any] = {"sources": list(t.sources), "read": t.read}
    if t.reason:
        note["reason"] = t.reason
    if t.read:
        note["sampled_rows"] = t.sampled
    return note


def build_draft(
    found: Sequence[FoundTable],
    existing: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
    place: Callable[[str], tuple[str, str]],
) -> tuple[dict[str, Any], DraftSummary]:
    """The draft catalog document and its summary.

    Args:
        found: the discovered tables.
        existing: the current catalog document (its entries count as reviewed), or None.
        previous: the previous draft document (its ``reviewed: true`` entries are kept), or None.
        place: ``table name -> (owner, zone)`` for a table no catalog names yet.
    """
    n = DraftSummary(
        tables=len(found),
        read=sum(t.read for t in found),
        not_read=[t.name for t in found if t.reason],
    )
    by_name = {t.name: t for t in found}
    doc: dict[str, Any] = {
        k: copy.deepcopy(v) for k, v in (existing or {}).items() if k != "assets"
    }
    prev_assets = _by_name((previous or {}).get("assets"))
    assets: list[dict[str, Any]] = []
    done: set[str] = set()
    for a in (existing or {}).get("assets") or []:
        if not isinstance(a, Mapping) or not isinstance(a.get("name"), str):
            continue
        asset = copy.deepcopy(dict(a))
        t = by_name.get(asset["name"])
        if t is not None:
            kept = _by_name(asset.get("columns"))
            asset["columns"] = _columns(t, prev_assets.get(t.name), kept, n)
            asset.setdefault("discovery", {"reviewed": True, **_found_note(t)})
        assets.append(asset)
        done.add(asset["name"])
    for t in found:
        if t.name in done:
            continue
        prev = prev_assets.get(t.name)
        if prev is not None and is_reviewed(prev):
            asset = copy.deepcopy(prev)
            kept = _by_name(asset.get("columns"))
            asset["columns"] = _columns(t, None, kept, n)
            asset["discovery"] = {**asset["discovery"], **_found_note(t)}
            assets.append(asset)
            continue
        owner, zone = place(t.name)
        if prev is not None:
            owner, zone = str(prev.get("owner", owner)), str(prev.get("zone", zone))
        assets.append(
            {
                "name": t.name,
                "kind": t.kind,
                "owner": owner,
                "zone": zone,
                "columns": _columns(t, prev, {}, n),
                "discovery": {**_found_note(t), "reviewed": False},
            }
        )
    doc["assets"] = assets
    return doc, n
