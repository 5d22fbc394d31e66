"""View model of the GDPR data map: per personal-data column and per category (the Article 30
record built from them is :mod:`reports.article30`).

Pure functions over :class:`~reports.model.DataMap`; the templates only display what these return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from core.categories import most_specific
from reports.graph import asset_index
from reports.model import DataMap, GraphView

FLOW_COLUMNS = (
    "data_category",
    "source_asset",
    "source_column",
    "target_asset",
    "target_column",
    "kind",
    "zone",
    "owner",
    "depth",
    "transformation_type",
    "transformation_subtype",
    "masking",
    "masked_on_path",
    "confidence",
    "retention_days",
    "path",
)
CATEGORY_ASSET_COLUMNS = (
    "target_asset",
    "kind",
    "zone",
    "owner",
    "from_columns",
    "target_columns",
    "transformations",
    "masking",
    "confidence",
    "min_depth",
    "retention_days",
)


def retention_for(category: str | None, retention: Mapping[str, int]) -> int | None:
    """Retention days of a data category: the longest matching dotted prefix wins.

    Example:
        >>> retention_for("user.contact.email", {"user": 365, "user.contact": 90})
        90
    """
    return most_specific(retention, category)


@dataclass(frozen=True)
class ColumnMap:
    """One personal-data column and the flows out of it."""

    asset: str
    column: str
    data_category: str
    zone: str
    owner: str
    retention_days: int | None
    flows: tuple[dict[str, Any], ...]

    @property
    def anchor(self) -> str:
        """HTML id of the column's block."""
        return "c-" + "".join(ch if ch.isalnum() else "-" for ch in f"{self.asset}.{self.column}")


def _name(asset: Any, idx: Mapping[str, Mapping[str, Any]]) -> str:
    return str(idx.get(str(asset), {}).get("name") or asset)


def flows(dm: DataMap) -> list[dict[str, Any]]:
    """Every reach row completed with kind, zone, owner, category and retention, in a fixed order."""
    idx = asset_index(dm.assets)
    cats = {
        (str(c.get("asset_id")), str(c.get("column"))): c.get("data_category")
        for c in dm.personal_columns
    }
    cats.update(
        {
            (str(c.get("name")), str(c.get("column"))): c.get("data_category")
            for c in dm.personal_columns
            if c.get("name")
        }
    )
    out = []
    for r in dm.reach:
        a = idx.get(str(r.get("target_asset")), {})
        cat = r.get("data_category") or cats.get(
            (str(r.get("source_asset")), str(r.get("source_column")))
        )
        row = {c: r.get(c) for c in FLOW_COLUMNS}
        row.update(
            data_category=cat,
            source_asset=_name(r.get("source_asset"), idx),
            target_asset=_name(r.get("target_asset"), idx),
            kind=r.get("kind") or a.get("kind"),
            zone=r.get("zone") or a.get("zone"),
            owner=r.get("owner") or a.get("owner"),
            retention_days=retention_for(cat, dm.retention_days),
        )
        out.append(row)
    out.sort(
        key=lambda r: (
            str(r["data_category"]),
            str(r["source_asset"]),
            str(r["source_column"]),
            r["depth"] or 0,
            str(r["target_asset"]),
            str(r["target_column"]),
        )
    )
    return out


def by_column(dm: DataMap, flow_rows: list[dict[str, Any]]) -> list[ColumnMap]:
    """The personal-data columns, each with the flows that leave it."""
    idx = asset_index(dm.assets)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in flow_rows:
        grouped[(str(f["source_asset"]), str(f["source_column"]))].append(f)
    out = []
    for c in dm.personal_columns:
        asset = str(c.get("name") or _name(c.get("asset_id"), idx))
        a = idx.get(asset, {})
        cat = str(c.get("data_category") or "")
        out.append(
            ColumnMap(
                asset=asset,
                column=str(c.get("column")),
                data_category=cat,
                zone=str(c.get("zone") or a.get("zone") or ""),
                owner=str(c.get("owner") or a.get("owner") or ""),
                retention_days=retention_for(cat, dm.retention_days),
                flows=tuple(grouped.get((asset, str(c.get("column"))), ())),
            )
        )
    out.sort(key=lambda m: (m.data_category, m.asset, m.column))
    return out


def by_category(columns: list[ColumnMap]) -> dict[str, list[ColumnMap]]:
    """The column maps grouped by data category (sorted)."""
    out: dict[str, list[ColumnMap]] = defaultdict(list)
    for m in columns:
        out[m.data_category].append(m)
    return dict(sorted(out.items()))


def category_assets(maps: list[ColumnMap]) -> list[dict[str, Any]]:
    """Every asset a data category reaches, one row per asset.

    ``masking`` is ``"yes"`` when every flow into the asset is masked somewhere on its path
    (``masked_on_path``; the last hop's ``masking`` for flows recorded without it), ``"partly"``
    when some are, ``"no"`` otherwise; ``confidence`` is the best flow's; ``min_depth`` the nearest hop.
    """
    by_asset: dict[str, list[tuple[ColumnMap, dict[str, Any]]]] = defaultdict(list)
    for m in maps:
        for f in m.flows:
            by_asset[str(f["target_asset"])].append((m, f))
    rows = []
    for asset, pairs in sorted(by_asset.items()):
        fl = [f for _, f in pairs]
        masked = [
            bool(f["masked_on_path"] if f.get("masked_on_path") is not None else f.get("masking"))
            for f in fl
        ]
        confs = [float(f["confidence"]) for f in fl if f.get("confidence") is not None]
        depths = [int(f["depth"]) for f in fl if f.get("depth") is not None]
        subtypes = {
            str(f.get("transformation_subtype") or f.get("transformation_type") or "") for f in fl
        } - {""}
        rows.append(
            {
                "target_asset": asset,
                "kind": fl[0].get("kind"),
                "zone": fl[0].get("zone"),
                "owner": fl[0].get("owner"),
                "from_columns": sorted({f"{m.asset}.{m.column}" for m, _ in pairs}),
                "target_columns": sorted(
                    {str(f.get("target_column")) for f in fl if f.get("target_column") is not None}
                ),
                "transformations": sorted(subtypes),
                "masking": "yes" if all(masked) else ("partly" if any(masked) else "no"),
                "confidence": max(confs) if confs else None,
                "min_depth": min(depths) if depths else None,
                "retention_days": min(
                    (m.retention_days for m, _ in pairs if m.retention_days is not None),
                    default=None,
                ),
            }
        )
    return rows


def _split_hop(hop: str, names: list[str]) -> tuple[str, str | None]:
    for name in names:  # longest first
        if hop == name:
            return name, None
        if hop.startswith(name + "."):
            return name, hop[len(name) + 1 :]
    asset, _, column = hop.rpartition(".")
    return (asset, column) if asset else (hop, None)


def graph_from_reach(dm: DataMap, violations: tuple[dict[str, Any], ...] = ()) -> GraphView:
    """A lineage graph drawn from the reach rows' paths, when the job gave no ``graph``.

    Each path ``[a.x, b.y, c.z]`` becomes the hops ``a.x -> b.y -> c.z``; a row without a path
    becomes one hop from its source column to its target column.
    """
    idx = asset_index(dm.assets)
    names = sorted(idx, key=len, reverse=True)
    edges: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in dm.reach:
        path = r.get("path")
        hops = [str(h) for h in path] if isinstance(path, list | tuple) and len(path) > 1 else []
        pairs = [(_split_hop(a, names), _split_hop(b, names)) for a, b in pairwise(hops)]
        if not pairs:
            pairs = [
                (
                    (str(r.get("source_asset")), r.get("source_column")),
                    (str(r.get("target_asset")), r.get("target_column")),
                )
            ]
        for (sa, sc), (ta, tc) in pairs:
            edges.setdefault(
                (sa, sc, ta, tc),
                {
                    "source_asset": sa,
                    "source_column": sc,
                    "target_asset": ta,
                    "target_column": tc,
                },
            )
    last = {(str(r.get("target_asset")), r.get("target_column")): r for r in dm.reach}
    for e in edges.values():
        hop = last.get((e["target_asset"], e["target_column"]), {})
        e["masking"] = bool(hop.get("masking"))
        e["transformation_subtype"] = hop.get("transformation_subtype")
    return GraphView(edges=list(edges.values()), assets=dm.assets, violations=violations)
