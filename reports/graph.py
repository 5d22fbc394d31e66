"""Layered drawing of a lineage graph as inline SVG (sources left, sinks right).

The layout is grandalf's Sugiyama layout (the layered "dot" algorithm, pure Python, offline);
this module only sizes the nodes, turns the layout on its side (layers run left to right) and
writes the SVG, escaping every label with :func:`markupsafe.escape`.

Nodes are assets (``level="asset"``) or asset columns (``level="column"``). A node shows its name,
its kind and its zone (a coloured stripe, explained in the legend); edges on the path of a policy
violation are red and dashed, masked flows dotted. Graphs larger than ``max_nodes`` are cut to the
nodes on violation paths first, then the best connected ones, with a note saying how many were
left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape

from reports.model import GraphView

NODE_H = 34
CHAR_W = 6.6
PAD = 16
LAYER_GAP = 70
ROW_GAP = 14
ZONE_COLOURS = (  # each at least 4.5:1 against the white page (WCAG 1.4.11 asks 3:1)
    "#1f77b4",
    "#2e7d32",
    "#8e44ad",
    "#b35806",
    "#00796b",
    "#8c6d00",
    "#6d4c41",
    "#c2185b",
    "#3949ab",
    "#5d6d7e",
)
NO_ZONE = "#767676"
VIOLATION = "#c0392b"


@dataclass
class _Node:
    id: str
    label: str
    sub: str
    kind: str
    zone: str
    violating: bool = False
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0


@dataclass
class _Edge:
    src: str
    dst: str
    count: int = 0
    masked: bool = True
    violating: bool = False
    details: list[str] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)


def zone_colours(zones: Iterable[str]) -> dict[str, str]:
    """Distinct colours for the zones of one drawing (in name order; cycling past ten zones)."""
    return {z: ZONE_COLOURS[i % len(ZONE_COLOURS)] for i, z in enumerate(sorted(set(zones)))}


def asset_index(assets: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Index ``assets`` rows by ``asset_id`` and by ``name`` (lineage rows may use either)."""
    out: dict[str, Mapping[str, Any]] = {}
    for a in assets:
        for k in ("name", "asset_id"):
            if a.get(k) is not None:
                out[str(a[k])] = a
    return out


def _node_id(asset: Any, column: Any, level: str) -> str:
    if level == "column" and column not in (None, ""):
        return f"{asset}.{column}"
    return str(asset)


def _hop_node(hop: Any, ids: set[str]) -> str | None:
    """Map a path hop (``"db.tbl.col"`` or ``"db.tbl"``) to a drawn node id."""
    if isinstance(hop, Mapping):
        hop = hop.get("node") or hop.get("asset") or hop.get("target_asset")
    hop = str(hop)
    if hop in ids:
        return hop
    best = None
    for i in ids:
        if hop.startswith(i + ".") and (best is None or len(i) > len(best)):
            best = i
    return best


def _violating_pairs(view: GraphView, ids: set[str]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for v in view.violations:
        path = v.get("path")
        hops: list[Any] = list(path) if isinstance(path, list | tuple) else []
        if not hops and v.get("source_asset") and v.get("target_asset"):
            hops = [
                _node_id(v["source_asset"], v.get("source_column"), view.level),
                _node_id(v["target_asset"], v.get("target_column"), view.level),
            ]
        nodes = [_hop_node(h, ids) for h in hops]
        for a, b in pairwise(nodes):
            if a and b and a != b:
                pairs.add((a, b))
    return pairs


def _build(view: GraphView) -> tuple[dict[str, _Node], dict[tuple[str, str], _Edge], int]:
    idx = asset_index(view.assets)
    nodes: dict[str, _Node] = {}
    edges: dict[tuple[str, str], _Edge] = {}

    def node(asset: Any, column: Any) -> str:
        nid = _node_id(asset, column, view.level)
        if nid not in nodes:
            a = idx.get(str(asset), {})
            name = str(a.get("name") or asset)
            sub = str(column) if view.level == "column" and column not in (None, "") else ""
            nodes[nid] = _Node(nid, name, sub, str(a.get("kind") or ""), str(a.get("zone") or ""))
        return nid

    order = (
        "source_asset",
        "source_column",
        "target_asset",
        "target_column",
        "transformation_subtype",
    )
    for e in sorted(view.edges, key=lambda e: tuple(str(e.get(k) or "") for k in order)):
        s = node(e.get("source_asset"), e.get("source_column"))
        t = node(e.get("target_asset"), e.get("target_column"))
        if s == t:
            continue
        edge = edges.setdefault((s, t), _Edge(s, t))
        edge.count += 1
        edge.masked = edge.masked and bool(e.get("masking"))
        sub = e.get("transformation_subtype") or e.get("transformation_type") or ""
        conf = e.get("confidence")
        col = f"{e.get('source_column') or '*'}→{e.get('target_column') or '*'}"
        edge.details.append(
            f"{col} {sub}"
            + (f" conf {float(conf):.2f}" if conf is not None else "")
            + (" masked" if e.get("masking") else "")
        )
    ids = set(nodes)
    for pair in _violating_pairs(view, ids):
        if pair in edges:
            edges[pair].violating = True
        nodes[pair[1]].violating = True
    total = len(nodes)
    if total > view.max_nodes:
        degree: Counter[str] = Counter()
        for s, t in edges:
            degree[s] += 1
            degree[t] += 1
        on_violation = {n for pair, e in edges.items() if e.violating for n in pair}
        keep_order = sorted(nodes, key=lambda n: (n not in on_violation, -degree[n], n))
        keep = set(keep_order[: view.max_nodes])
        nodes = {k: v for k, v in nodes.items() if k in keep}
        edges = {k: v for k, v in edges.items() if k[0] in keep and k[1] in keep}
    return nodes, edges, total


def _layout(nodes: dict[str, _Node], edges: dict[tuple[str, str], _Edge]) -> tuple[float, float]:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import route_with_lines

    class _View:
        def __init__(self, w: float, h: float) -> None:
            self.w, self.h = w, h
            self.xy = (0.0, 0.0)

    class _EView:
        def setpath(self, pts: list[tuple[float, float]]) -> None:
            self.pts = pts

    class _V(Vertex):
        """A vertex hashed by its rank in name order: grandalf's set operations then iterate
        in the same order on every run (object ids would make the layout vary)."""

        def __init__(self, data: str, rank: int) -> None:
            super().__init__(data)
            self._rank = rank

        def __hash__(self) -> int:
            return self._rank

    class _E(Edge):
        def __init__(self, v0: Vertex, v1: Vertex, rank: int) -> None:
            super().__init__(v0, v1)
            self._rank = rank

        def __hash__(self) -> int:
            return self._rank

    for n in nodes.values():
        n.w = max(len(n.label) * CHAR_W * 1.1, len(_second_line(n)) * CHAR_W * 0.9) + 2 * PAD
    verts = {nid: _V(nid, i) for i, nid in enumerate(sorted(nodes))}
    for nid, v in verts.items():
        # grandalf stacks layers along y; we turn the drawing on its side afterwards, so a
        # vertex's grandalf width is the node's height and its height the node's width.
        v.view = _View(NODE_H + ROW_GAP, nodes[nid].w)
    gedges = []
    for i, ((s, t), e) in enumerate(sorted(edges.items())):
        ge = _E(verts[s], verts[t], i)
        ge.view = _EView()
        ge.data = e
        gedges.append(ge)
    graph = Graph(list(verts.values()), gedges)
    offset_y = 0.0
    width = 0.0
    # deterministic: components and roots in name order (grandalf otherwise follows object ids)
    for comp in sorted(graph.C, key=lambda c: min(v.data for v in c.sV)):
        sug = SugiyamaLayout(comp)
        sug.yspace = LAYER_GAP
        sug.xspace = 6
        sug.route_edge = route_with_lines
        sug.init_all(roots=sorted((v for v in comp.sV if not v.e_in()), key=lambda v: v.data))
        sug.draw(3)
        xs = [v.view.xy[0] - v.view.w / 2 for v in comp.sV]
        min_x = min(xs)
        max_x = max(v.view.xy[0] + v.view.w / 2 for v in comp.sV)
        min_y = min(v.view.xy[1] - v.view.h / 2 for v in comp.sV)
        for v in comp.sV:
            n = nodes[v.data]
            n.x = v.view.xy[1] - min_y + 10
            n.y = v.view.xy[0] - min_x + offset_y + 10
            width = max(width, n.x + n.w / 2 + 10)
        for ge in comp.sE:
            pts = getattr(ge.view, "pts", None) or [ge.v[0].view.xy, ge.v[1].view.xy]
            ge.data.points = [(p[1] - min_y + 10, p[0] - min_x + offset_y + 10) for p in pts]
        offset_y += max_x - min_x + 20
    return width, offset_y


def _second_line(n: _Node) -> str:
    return " · ".join(p for p in (n.sub, n.kind, n.zone) if p)


def _f(v: float) -> str:
    return f"{v:.1f}"


def draw_lineage(view: GraphView | None) -> Markup:
    """Draw a lineage graph as inline SVG with a legend.

    Args:
        view: Edges, assets and violations to draw; ``None`` or no edges draws nothing.

    Returns:
        Safe markup: a ``<figure>`` with the SVG, a legend and, when cut, a note.
    """
    if view is None or not view.edges:
        return Markup('<p class="muted">No lineage edges to draw.</p>')
    nodes, edges, total = _build(view)
    width, height = _layout(nodes, edges)
    colours = zone_colours(n.zone for n in nodes.values() if n.zone)
    out = [
        (
            f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" role="img" '
            f'width="{_f(width)}" height="{_f(height)}" viewBox="0 0 {_f(width)} {_f(height)}">'
        ),
        "<title>Lineage graph, sources on the left, sinks on the right</title>",
        (
            '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#555"/>'
            '</marker><marker id="arr-v" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
            f'fill="{VIOLATION}"/></marker></defs>'
        ),
    ]
    for e in sorted(edges.values(), key=lambda e: e.violating):
        src, dst = nodes[e.src], nodes[e.dst]
        pts = list(e.points)
        pts[0] = (src.x + src.w / 2, src.y)
        pts[-1] = (dst.x - dst.w / 2, dst.y)
        d = " ".join(f"{_f(x)},{_f(y)}" for x, y in pts)
        cls = "edge violating" if e.violating else ("edge masked" if e.masked else "edge")
        style = (
            f'stroke="{VIOLATION}" stroke-width="2.4" stroke-dasharray="6 3" '
            'marker-end="url(#arr-v)"'
            if e.violating
            else 'stroke="#777" stroke-width="1.2" marker-end="url(#arr)"'
            + (' stroke-dasharray="2 3"' if e.masked else "")
        )
        tip = f"{src.id} → {dst.id}" + (" (policy violation)" if e.violating else "")
        tip += "\n" + "\n".join(e.details[:8])
        out.append(
            f'<polyline class="{cls}" data-src="{escape(e.src)}" data-dst="{escape(e.dst)}" '
            f'fill="none" {style} points="{d}"><title>{escape(tip)}</title></polyline>'
        )
    for n in sorted(nodes.values(), key=lambda n: n.id):
        x0, y0 = n.x - n.w / 2, n.y - NODE_H / 2
        border = VIOLATION if n.violating else "#555"
        out.append(
            f'<g class="node" data-node="{escape(n.id)}" data-kind="{escape(n.kind)}" '
            f'data-zone="{escape(n.zone)}"><title>{escape(n.id)} ({escape(n.kind or "asset")}, '
            f"zone {escape(n.zone or 'none')})</title>"
            f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(n.w)}" height="{NODE_H}" rx="4" '
            f'fill="#fff" stroke="{border}" stroke-width="{2 if n.violating else 1}"/>'
            f'<rect x="{_f(x0)}" y="{_f(y0)}" width="6" height="{NODE_H}" rx="2" '
            f'fill="{colours.get(n.zone, NO_ZONE)}"/>'
            f'<text x="{_f(x0 + 11)}" y="{_f(y0 + 13)}" font-size="11" font-weight="600">'
            f"{escape(n.label)}</text>"
            f'<text x="{_f(x0 + 11)}" y="{_f(y0 + 27)}" font-size="9.5" fill="#444">'
            f"{escape(_second_line(n))}</text></g>"
        )
    out.append("</svg>")
    zones = sorted({n.zone for n in nodes.values() if n.zone})
    legend = ['<ul class="legend">']
    for z in zones:
        legend.append(
            f'<li><span class="swatch" style="background:{colours[z]}"></span>zone {escape(z)}</li>'
        )
    legend.append(
        f'<li><span class="line" style="border-top:2px dashed {VIOLATION}"></span>'
        "policy violation</li>"
        '<li><span class="line" style="border-top:2px dotted #777"></span>masked flow</li>'
        '<li><span class="line" style="border-top:1px solid #777"></span>flow</li></ul>'
    )
    note = ""
    if total > len(nodes):
        note = (
            f'<p class="note truncated">Graph cut to {len(nodes)} of {total} nodes (violation '
            "paths first, then the best connected nodes); the tables list every flow.</p>"
        )
    return Markup(
        '<figure class="graph"><div class="scroll">'
        + "".join(out)
        + "</div>"
        + "".join(legend)
        + note
        + "</figure>"
    )
