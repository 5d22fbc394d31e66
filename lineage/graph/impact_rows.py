"""Impact of a schema change over a small graph in plain Python (no Spark).

The Spark-free path of ``compliance impact`` reads ``lineage_edges`` with delta-rs, reduces them
with :func:`lineage.graph.answers.graph_edges` (and the review decisions) and hands the graph here.
Each function is the row-for-row equivalent of a Spark rule of :mod:`lineage.graph.impact`:

* :func:`impact`: :func:`lineage.graph.impact.impact`, through the same compiled search
  (:func:`lineage.graph.csr.traverse`, nodes numbered by sorted name, so the same best path is
  chosen among equally good ones);
* :func:`affected_assets`: :func:`lineage.graph.impact.affected_assets`;
* :func:`with_assets`: the join with ``assets`` and the order of the answer.

Example:
    >>> g = {("a.t.x", "b.u.y"): 1.0, ("a.t", "c.v"): None}
    >>> [r["asset"] for r in affected_assets(impact(g, "a.t", columns=["x"]), "a.t")]
    ['b.u', 'c.v']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from lineage.graph.answers import checked_confidences
from lineage.graph.csr import build_csr, traverse

Row = dict[str, Any]


def _parts(node: str) -> tuple[str, str | None]:
    """``asset_col`` / ``column_col`` of :mod:`lineage.graph.nodes`: three or more dot-separated
    parts make a column node whose column is the last part."""
    if node.count(".") >= 2:
        head, _, tail = node.rpartition(".")
        return head, tail
    return node, None


def reached(
    graph: Mapping[tuple[str, str], float | None],
    starts: Sequence[str],
    *,
    max_depth: int | None = None,
) -> list[Row]:
    """``lineage.graph.impact.downstream`` rows ``[source, node, depth, confidence, path]`` of
    every start (a start that is not in the graph reaches nothing).

    Raises:
        GraphError: a confidence outside ``[0, 1]``.
    """
    if max_depth == 0 or not graph:
        return []
    keys, conf = checked_confidences(graph)
    csr = build_csr([s for s, _ in keys], [d for _, d in keys], conf)
    names = csr.names.tolist()
    ids = {n: i for i, n in enumerate(names)}
    sources = np.unique(np.array([ids[s] for s in set(starts) if s in ids], dtype=np.int64))
    rows: list[Row] = []
    for part in traverse(csr, sources, max_depth=max_depth, with_paths=True):
        offsets, hops = part.path_offsets, part.path_nodes
        assert offsets is not None and hops is not None  # with_paths
        for i in range(part.node.size):
            rows.append(
                {
                    "source": names[int(part.source[i])],
                    "node": names[int(part.node[i])],
                    "depth": int(part.depth[i]),
                    "confidence": float(part.confidence[i]),
                    "path": [names[int(h)] for h in hops[offsets[i] : offsets[i + 1]]],
                }
            )
    return rows


def impact(
    graph: Mapping[tuple[str, str], float | None],
    table: str,
    *,
    columns: Sequence[str] | None = None,
    include_table: bool = True,
    max_depth: int | None = None,
) -> list[Row]:
    """:func:`lineage.graph.impact.impact`: one row per affected node, the closest changed node
    (fewest hops, then most confident, then by name) with its best path.

    Returns:
        ``[changed, node, asset, column, depth, confidence, path]`` rows.
    """
    starts = [f"{table}.{c}" for c in (columns or [])]
    if include_table or not starts:
        starts.append(table)
    best: dict[str, Row] = {}
    for r in reached(graph, starts, max_depth=max_depth):
        if r["node"] in starts:
            continue
        key = (r["depth"], -r["confidence"], r["source"])
        kept = best.get(r["node"])
        if kept is None or key < (kept["depth"], -kept["confidence"], kept["changed"]):
            asset, column = _parts(r["node"])
            best[r["node"]] = {
                "changed": r["source"],
                "node": r["node"],
                "asset": asset,
                "column": column,
                "depth": r["depth"],
                "confidence": r["confidence"],
                "path": r["path"],
            }
    return [best[n] for n in sorted(best)]


def affected_assets(impact_rows: Iterable[Row], changed_table: str | None = None) -> list[Row]:
    """:func:`lineage.graph.impact.affected_assets`: ``[asset, depth, columns, path]`` (plus
    ``evidence`` when ``changed_table`` is given) per asset, sorted by asset."""
    groups: dict[str, list[Row]] = {}
    for r in impact_rows:
        groups.setdefault(r["asset"], []).append(r)
    out: list[Row] = []
    for asset in sorted(groups):
        rows = groups[asset]
        first = min(rows, key=lambda r: (r["depth"], -r["confidence"], r["node"]))
        row: Row = {
            "asset": asset,
            "depth": first["depth"],
            "columns": sorted({r["column"] for r in rows if r["column"] is not None}),
            "path": first["path"],
        }
        if changed_table is not None:
            by_column = any(r["changed"] != changed_table for r in rows)
            row["evidence"] = "confirmed" if by_column else "possible"
        out.append(row)
    return out


def _asc(value: Any) -> tuple[bool, Any]:
    """Spark's ascending order: nulls first."""
    return (value is not None, value)


def with_assets(grouped: Iterable[Row], assets: Iterable[Mapping[str, Any]]) -> list[Row]:
    """The grouped rows left-joined with the ``assets`` rows (``asset_id, kind, owner, zone``),
    ordered by kind, owner, depth and asset (nulls first), as the Spark answer orders them."""
    by_id = {a["asset_id"]: a for a in assets}
    rows = []
    for g in grouped:
        a = by_id.get(g["asset"], {})
        rows.append({**g, "kind": a.get("kind"), "owner": a.get("owner"), "zone": a.get("zone")})
    rows.sort(key=lambda r: (_asc(r["kind"]), _asc(r["owner"]), r["depth"], r["asset"]))
    return rows
