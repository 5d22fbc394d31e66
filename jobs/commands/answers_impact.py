"""``compliance impact`` and ``compliance review`` without Spark.

Like :mod:`jobs.commands.answers`: the product's own small tables (``lineage_edges``,
``review_decisions``, ``assets``, ``columns``, ``schema_events``) are read with delta-rs and the
answer is computed in plain Python (:mod:`lineage.graph.impact_rows`); it is the same, byte for
byte, as the Spark path's (:mod:`jobs.commands.explore`). A review decision is one row appended
with delta-rs to ``review_decisions``.

:class:`~jobs.commands.answers.Fallback` (the CLI answers with Spark, saying why) in the cases of
:func:`jobs.commands.answers._setup`, and for a review when ``storage.engine`` is ``spark``, the
master is not local. The first decision creates ``review_decisions`` with its declared columns
(:data:`jobs.store.schemas.SCHEMAS`).
"""

from __future__ import annotations

import difflib
from datetime import datetime, timezone
from typing import Any

from jobs.commands.answers import _EDGE_COLUMNS, DeltaReader, Fallback, _setup
from jobs.commands.impact_answer import (
    HISTORY_COLUMNS,
    ImpactAnswer,
    parse_changes,
    unknown_columns,
)
from jobs.errors import UsageError


def _graph(reader: DeltaReader) -> dict[tuple[str, str], float | None]:
    """The reviewed lineage graph (``jobs.commands.explore._edges``)."""
    from lineage.graph import answers as la

    if not reader.exists("lineage_edges"):
        raise UsageError("no lineage yet: run `compliance nightly` (or `compliance ingest`) first")
    graph = la.graph_edges(reader.rows("lineage_edges", _EDGE_COLUMNS) or [])
    decisions = reader.rows("review_decisions", ["node", "decision", "cascade", "decided_at"])
    return la.reviewed(graph, decisions) if decisions else graph


def known_node(reader: DeltaReader, graph: Any, node: str) -> None:
    """Raise the Spark path's error for a node the lineage does not know (with close assets).

    Raises:
        UsageError: ``node`` is not an end of any edge.
    """
    from lineage.graph import answers as la

    if la.known(graph, node):
        return
    assets = reader.rows("assets", ["asset_id"]) or []
    names = [str(a["asset_id"]) for a in assets if a["asset_id"] is not None]
    near = difflib.get_close_matches(node, names, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise UsageError(f"{node!r} does not appear in the lineage{hint}")


def _known_columns(reader: DeltaReader, graph: Any, table: str, columns: list[str]) -> None:
    """``jobs.commands.explore._known_columns``: a changed column must be in the lineage or the
    catalog's ``columns``."""
    if not columns:
        return
    prefix = table + "."
    in_lineage = {n[len(prefix) :] for pair in graph for n in pair if n.startswith(prefix)}
    declared = {
        str(r["column"]).lower()
        for r in reader.rows("columns", ["asset_id", "column"]) or []
        if r["asset_id"] is not None and str(r["asset_id"]).lower() == table
    }
    unknown_columns(table, columns, in_lineage | declared)


def _history(reader: DeltaReader, table: str) -> list[dict[str, Any]]:
    """``jobs.commands.explore.schema_history``: one row per event, oldest first."""
    cols = [*HISTORY_COLUMNS[:3], "first_seen", "last_seen", "seen_count"]
    rows = reader.rows("schema_events", cols, [("asset", table.lower())])
    if not rows:
        return []
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = (r["event"], r["column"], r["detail"])
        g = groups.setdefault(key, {"first_seen": None, "last_seen": None, "seen_count": None})
        for name, pick in (("first_seen", min), ("last_seen", max)):
            if r[name] is not None:
                g[name] = r[name] if g[name] is None else pick(g[name], r[name])
        if r["seen_count"] is not None:
            g["seen_count"] = (g["seen_count"] or 0) + r["seen_count"]
    out = []
    for (event, column, detail), g in groups.items():
        first = g["first_seen"]
        out.append(
            {
                "event": event,
                "column": column,
                "detail": detail,
                "first_seen": first.replace(tzinfo=None) if first is not None else None,
                "last_seen": g["last_seen"].replace(tzinfo=None) if g["last_seen"] else None,
                "seen_count": g["seen_count"],
            }
        )

    def order(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple((r[c] is not None, r[c]) for c in ("first_seen", "event", "column"))

    return sorted(out, key=order)[:200]


def impact(args: Any) -> ImpactAnswer:
    """``compliance impact TABLE [--drop/--rename/--retype-column ...] [--depth N]``.

    Raises:
        Fallback: Spark must answer.
        UsageError: a bad change spec, no lineage yet, an unknown table or column.
    """
    from lineage.graph import impact_rows

    columns, changes = parse_changes(args.drop_column, args.rename_column, args.retype_column)
    _, reader, _ = _setup(args)
    table = args.table.lower()
    graph = _graph(reader)
    known_node(reader, graph, table)
    lowered = [c.lower() for c in columns]
    _known_columns(reader, graph, table, lowered)
    rows = impact_rows.impact(graph, table, columns=lowered or None, max_depth=args.depth)
    grouped = impact_rows.affected_assets(rows, table)
    assets = reader.rows(
        "assets",
        ["asset_id", "kind", "owner", "zone"],
        [("asset_id", {g["asset"] for g in grouped})],
    )
    return ImpactAnswer(
        args.table,
        changes,
        impact_rows.with_assets(grouped, assets or []),
        _history(reader, args.table),
    )


_ARROW_TYPES = {
    "string": "string",
    "boolean": "bool",
    "bigint": "int64",
    "int": "int32",
    "double": "float64",
    "date": "date32",
}


def _declared(name: str) -> Any:
    """The Arrow schema of a flat product table from its declared DDL (``jobs.store.schemas``),
    as Spark writes it: every column nullable, timestamps in UTC."""
    import pyarrow as pa

    from jobs.store.schemas import SCHEMAS

    fields = []
    for part in str(SCHEMAS[name]).split(", "):
        col, kind = part.rsplit(" ", 1)
        if kind == "timestamp":
            fields.append(pa.field(col, pa.timestamp("us", tz="UTC")))
        elif kind in _ARROW_TYPES:
            fields.append(pa.field(col, pa.type_for_alias(_ARROW_TYPES[kind])))
        else:
            raise Fallback(f"{name} has a {kind} column")
    return pa.schema(fields)


def review(args: Any, reviewer: str) -> str:
    """``compliance review include|exclude NODE --reason R``: one row appended with delta-rs.

    Raises:
        Fallback: Spark must write (see the module docstring).
        UsageError: an empty reason.
    """
    if not args.reason.strip():
        raise UsageError("--reason must say why (auditors read it)")
    cfg, reader, _ = _setup(args)
    from jobs.store.masters import resolve_master

    master = resolve_master(cfg.spark.master, getattr(args, "master", None))
    if cfg.storage.engine == "spark":
        raise Fallback("storage.engine is spark")
    if not master.startswith("local"):
        raise Fallback(f"the master is {master}")
    import pyarrow as pa

    from jobs.store import local_rows

    dt = reader.table("review_decisions")
    schema = pa.schema(dt.schema().to_arrow()) if dt is not None else _declared("review_decisions")
    row = {
        "node": args.node.lower(),
        "decision": args.decision,
        "cascade": bool(args.cascade),
        "reviewer": reviewer,
        "reason": args.reason,
        "decided_at": datetime.now(timezone.utc),
    }
    dl = reader._dl
    local_rows.append(
        dl,
        lambda path: dl.DeltaTable(path, storage_options=reader.opts),
        reader.path("review_decisions"),
        pa.Table.from_pylist([row], schema=schema),
        create=dt is None,  # the first decision creates the table with its declared columns
        opts=reader.opts,
        retries=5,
    )
    extra = " with cascade" if args.cascade else ""
    return (
        f"recorded: {args.decision} {args.node}{extra} by {reviewer}"
        "; applied from the next `compliance closure`"
    )
