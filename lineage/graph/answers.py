"""On-demand answers over small, already filtered rows, without Spark (plain Python and numpy).

The Spark-free read path of ``compliance lineage up|down`` and ``compliance datamap`` reads the
product's own small tables with delta-rs (:mod:`jobs.commands.answers`) and hands the rows, as lists of
dicts, to these functions. Each one is the row-for-row equivalent of a Spark rule:

* :func:`graph_edges`: :func:`lineage.flows.graph_edges` reduced to ``(src, dst) -> confidence``
  (every level), which is what ``compliance lineage`` walks;
* :func:`hidden_nodes`: :func:`lineage.review.hidden_nodes` (latest decision wins, cascading
  exclusion);
* :func:`neighbours`: :func:`lineage.graph.impact.downstream` / :func:`lineage.graph.impact.upstream`, through
  the layered search of :mod:`lineage.graph.csr`, in plain Python for one source;
* :func:`last_hops` and :func:`reach_rows`: the reach rows of ``jobs.steps.report_datamap.reach``.

Example:
    >>> g = graph_edges([{"source_asset": "a.t", "source_column": "x", "target_asset": "b.u",
    ...     "target_column": "y", "transformation_type": "DIRECT", "confidence": 0.9}])
    >>> neighbours(g, "a.t.x", "down")
    [('b.u.y', 1, 0.9)]
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from lineage.graph.csr import CONFIDENCE_DECIMALS
from lineage.graph.errors import GraphError

Row = Mapping[str, Any]


def node_of(asset: str | None, column: str | None) -> str | None:
    """``lineage.graph.nodes.node_col`` for one row: the asset alone when the column is null."""
    if column is None:
        return asset
    return ".".join(p for p in (asset, column) if p is not None)


def graph_edges(edges: Iterable[Row]) -> dict[tuple[str, str], float | None]:
    """The lineage graph of ``lineage_edges`` rows: ``{(src, dst): best confidence}``.

    Column-level edges (a source column, and a DIRECT transformation or no target column) and
    table-level edges (source asset to target asset, self-loops dropped), as
    :func:`lineage.flows.graph_edges` builds them; a pair's confidence is the best non-null one
    (None when all are null, which the traversal reads as 1.0). A struct field path column
    (``profile.email``) adds the containment edges of :func:`lineage.flows.field_containment`.
    """
    best: dict[tuple[str, str], float | None] = {}
    fields: set[tuple[str, str]] = set()

    def add(src: str | None, dst: str | None, conf: float | None) -> None:
        if src is None or dst is None:
            return
        key = (src, dst)
        if key not in best:
            best[key] = conf
        elif conf is not None and (best[key] is None or conf > best[key]):  # type: ignore[operator]
            best[key] = conf

    for e in edges:
        sa, sc, ta, tc = (
            e["source_asset"],
            e["source_column"],
            e["target_asset"],
            e["target_column"],
        )
        conf = e.get("confidence")
        if sc is not None and (e.get("transformation_type") == "DIRECT" or tc is None):
            add(node_of(sa, sc), node_of(ta, tc), conf)
            fields.update((a, c) for a, c in ((sa, sc), (ta, tc)) if a and c and "." in c)
        if sa is not None and ta is not None and sa != ta:
            add(sa, ta, conf)
    for asset, column in sorted(fields):  # lineage.flows.field_containment
        parts = column.split(".")
        for i in range(1, len(parts)):
            add(node_of(asset, ".".join(parts[:i])), node_of(asset, ".".join(parts[: i + 1])), 1.0)
    return best


def latest_decisions(decisions: Iterable[Row]) -> dict[str, tuple[str, bool]]:
    """``{node: (decision, cascade)}``: the decision in force per node (latest wins; on a tie
    include before exclude, and no cascade before cascade)."""
    ranked: dict[str, tuple[Any, ...]] = {}
    for d in decisions:
        node, at = d.get("node"), d.get("decided_at")
        decision = str(d.get("decision") or "").strip().lower()
        if node is None or at is None or decision not in ("include", "exclude"):
            continue
        cascade = bool(d.get("cascade")) if d.get("cascade") is not None else False
        # the best row has the largest key: latest, include first, no cascade first
        key = (at, decision == "include", not cascade)
        if node not in ranked or key > ranked[node][0]:
            ranked[node] = (key, decision, cascade)
    return {n: (v[1], v[2]) for n, v in ranked.items()}


def _reach(adj: Mapping[str, Iterable[str]], starts: Iterable[str]) -> set[str]:
    """Nodes reachable from ``starts`` by one hop or more."""
    seen: set[str] = set()
    todo = deque(starts)
    while todo:
        for nxt in adj.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def hidden_nodes(pairs: Iterable[tuple[str, str]], decisions: Iterable[Row]) -> set[str]:
    """The nodes the review hides (:func:`lineage.review.hidden_nodes`, without the reasons)."""
    pairs = list(pairs)
    latest = latest_decisions(decisions)
    excluded = {n for n, (d, _) in latest.items() if d == "exclude"}
    included = {n for n, (d, _) in latest.items() if d == "include"}
    cascading = {n for n, (d, c) in latest.items() if d == "exclude" and c}
    if not cascading:
        return excluded
    adj: dict[str, list[str]] = defaultdict(list)
    for s, d in pairs:
        adj[s].append(d)
    below: set[str] = set()
    for start in cascading:  # a source never reaches itself in the closure
        below |= _reach(adj, [start]) - {start}
    nodes = {s for s, _ in pairs} | {d for _, d in pairs}
    seeds = ((nodes - below) | included) - excluded
    open_adj: dict[str, list[str]] = defaultdict(list)
    for s, d in pairs:
        if s not in excluded and d not in excluded:
            open_adj[s].append(d)
    kept = set(seeds) | _reach(open_adj, seeds)
    return excluded | (below - kept - excluded)


def reviewed(
    graph: Mapping[tuple[str, str], float | None], decisions: Iterable[Row]
) -> dict[tuple[str, str], float | None]:
    """``graph`` without the edges into or out of a node the review hides."""
    hidden = hidden_nodes(graph.keys(), decisions)
    if not hidden:
        return dict(graph)
    return {k: v for k, v in graph.items() if k[0] not in hidden and k[1] not in hidden}


def known(graph: Mapping[tuple[str, str], Any], node: str) -> bool:
    """Whether ``node`` is an end of some edge."""
    return any(node in k for k in graph)


def checked_confidences(
    graph: Mapping[tuple[str, str], float | None],
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The graph's ``(src, dst)`` pairs and their confidences (None read as 1.0).

    Raises:
        GraphError: a confidence outside ``[0, 1]``, naming the edge.
    """
    keys = list(graph)
    conf = np.array([1.0 if v is None else float(v) for v in graph.values()], dtype=np.float64)
    bad = np.flatnonzero((conf < 0) | (conf > 1) | np.isnan(conf))
    if bad.size:
        s, d = keys[int(bad[0])]
        raise GraphError(
            f"edge {s} -> {d} has confidence {float(conf[bad[0]])!r}; "
            "lineage_edges.confidence must lie in [0, 1]"
        )
    return keys, conf


def neighbours(
    graph: Mapping[tuple[str, str], float | None],
    node: str,
    direction: str,
    *,
    depth: int | None = None,
) -> list[tuple[str, int, float]]:
    """``(node, depth, confidence)`` of everything downstream (``down``) or upstream (``up``) of
    ``node``, sorted by depth then node: the closure's semantics (:mod:`lineage.graph.search`).

    Raises:
        GraphError: a negative depth or a confidence outside ``[0, 1]``.
    """
    if depth is not None and depth < 0:
        raise GraphError(f"max_depth must be None or an integer >= 0, got {depth!r}")
    if depth == 0 or not graph:
        return []
    keys, conf = checked_confidences(graph)
    adj: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (s, d), w in zip(keys, conf.tolist(), strict=True):
        if w > 0.0:  # an edge of confidence 0 carries no flow
            adj[d if direction == "up" else s].append((s if direction == "up" else d, w))
    best, first = _search(adj, node, depth)
    names = sorted(first, key=lambda n: (first[n], n))
    rounded = np.round(np.array([best[n] for n in names], dtype=np.float64), CONFIDENCE_DECIMALS)
    return [(n, first[n], float(c)) for n, c in zip(names, rounded.tolist(), strict=True)]


def _search(
    adj: Mapping[str, Sequence[tuple[str, float]]], source: str, max_depth: int | None
) -> tuple[dict[str, float], dict[str, int]]:
    """The layered Bellman-Ford of :func:`lineage.graph.csr.traverse` for one source, in plain
    Python (a small graph: building Arrow arrays from Python strings would load pandas).

    Round ``k`` relaxes the out-edges of the nodes improved in round ``k - 1`` against the best
    confidences before the round, then applies the round's best candidates together.

    Returns:
        ``({node: best confidence}, {node: fewest hops})`` of the reached nodes (not the source).
    """
    best: dict[str, float] = {source: 1.0}
    first: dict[str, int] = {}
    frontier = [source]
    rounds = 0
    while frontier and (max_depth is None or rounds < max_depth):
        rounds += 1
        cand: dict[str, float] = {}
        for u in frontier:
            bu = best[u]
            for v, w in adj.get(u, ()):
                c = bu * w
                if c > best.get(v, 0.0) and c > cand.get(v, 0.0):
                    cand[v] = c
        for v, c in cand.items():
            best[v] = c
            first.setdefault(v, rounds)
        frontier = sorted(cand)
    best.pop(source)
    first.pop(source, None)
    return best, first


def lineage_text(
    direction: str, node: str, rows: Sequence[tuple[str, int, float]], as_of: date | None
) -> str:
    """The text ``compliance lineage up|down`` prints."""
    word = "upstream" if direction == "up" else "downstream"
    when = f" as of {as_of}" if as_of else ""
    if not rows:
        return f"nothing {word} of {node}{when}"
    lines = [f"{len(rows)} nodes {word} of {node}{when}:"]
    for name, depth, conf in rows:
        lines.append(f"  {name:60} depth {depth}  confidence {conf:.2f}")
    return "\n".join(lines)


# -- the data map's reach rows ---------------------------------------------------------------------


def _max_key(value: Any) -> tuple[bool, Any]:
    """Spark's ordering of one struct field: null before any value."""
    return (False, 0) if value is None else (True, value)


def last_hops(edges: Iterable[Row]) -> dict[tuple[str, str], dict[str, Any]]:
    """``lineage.flows.last_hops``: per node pair, the most confident edge's transformation, and
    masking (true only when every edge between the two nodes is masked)."""
    best: dict[tuple[str, str], tuple[Any, ...]] = {}
    masked: dict[tuple[str, str], bool] = {}
    for e in edges:
        key = (
            node_of(e["source_asset"], e["source_column"]),
            node_of(e["target_asset"], e["target_column"]),
        )
        t, s = e.get("transformation_type"), e.get("transformation_subtype")
        rank = (_max_key(e.get("confidence")), _max_key(t), _max_key(s))
        if key not in best or rank > best[key][0]:
            best[key] = (rank, t, s)
        masked[key] = masked.get(key, True) and bool(e.get("masking"))
    return {
        k: {"transformation_type": v[1], "transformation_subtype": v[2], "masking": masked[k]}
        for k, v in best.items()
    }


def _sort_key(row: Row) -> tuple[Any, ...]:
    conf = row.get("confidence")
    return (
        str(row.get("source_asset")),
        str(row.get("source_column")),
        row.get("depth") if row.get("depth") is not None else -1,
        conf is None,  # desc: nulls last
        -(conf or 0.0),
        str(row.get("target_asset")),
        str(row.get("target_column")),
    )


def reach_rows(
    closure: Iterable[Row],
    sources: Iterable[Row],
    hops: Mapping[tuple[str, str], Mapping[str, Any]] | None,
    *,
    limit: int,
) -> list[dict[str, Any]]:
    """The data map's reach rows (``jobs.steps.report_datamap.reach`` then ``collect``), nearest first.

    Args:
        closure: column-level ``lineage_closure`` rows of one run date.
        sources: ``[asset_id, column, data_category]`` rows (the scope's columns).
        hops: :func:`last_hops` of ``lineage_edges`` (None when the table does not exist).
        limit: the most rows returned.
    """
    cats: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for s in sources:
        key = (s["asset_id"], s["column"])
        if s.get("data_category") not in cats[key]:
            cats[key].append(s.get("data_category"))
    out = []
    for r in closure:
        for cat in cats.get((r["source_asset"], r["source_column"]), ()):
            path = list(r.get("path") or [])
            last = (path[-2] if len(path) >= 2 else None, path[-1] if path else None)
            hop = (hops or {}).get(last) if last[0] is not None else None
            row = {
                "source_asset": r["source_asset"],
                "source_column": r["source_column"],
                "data_category": cat,
                "target_asset": r["target_asset"],
                "target_column": r["target_column"],
                "depth": r.get("depth"),
                "confidence": r.get("confidence"),
                "path": r.get("path"),
                "transformation_type": hop["transformation_type"] if hop else None,
                "transformation_subtype": hop["transformation_subtype"] if hop else None,
                "masking": hop["masking"] if hop else None,
            }
            if "masked_on_path" in r:
                row["masked_on_path"] = r["masked_on_path"]
            elif hops is None:
                row["masked_on_path"] = None
            else:
                pairs = list(zip(path, path[1:], strict=False))
                row["masked_on_path"] = any(bool(hops[p]["masking"]) for p in pairs if p in hops)
            out.append(row)
    out.sort(key=_sort_key)
    return out[:limit]
