"""Hive ``LineageLogger`` hook output (``hive.exec.post.hooks=...hooks.LineageLogger``).

Record definition (``org.apache.hadoop.hive.ql.hooks.LineageLogger``): one JSON object per
query, written to the hook's log (``LOG.info``), so usually after a log-line prefix (``... INFO
hooks.LineageLogger: {...}`` or ``POSTHOOK: LINEAGE: {...}``): ``version`` ("1.0"), ``user``,
``timestamp`` (epoch seconds), ``duration``, ``jobIds``, ``engine``, ``database`` (the current
database, Hive 2+), ``hash``, ``queryText``, ``edges`` [{``sources``: [vertex ids],
``targets``: [vertex ids], ``expression``, ``edgeType``: PROJECTION|PREDICATE}] and
``vertices`` [{``id``, ``vertexType``: COLUMN|TABLE, ``vertexId``: ``db.table.column`` or
``db.table``}].

Mapping: the hook runs after a query succeeded, so every record is ok. PROJECTION edges become
engine-computed DIRECT edges from each source column to each target column (IDENTITY without an
``expression``, TRANSFORMATION with one); PREDICATE edges (filters and joins)
INDIRECT/FILTER edges into the target table. Targets without a table (a plain
SELECT's result columns) are not tables and give no edge.
"""

from __future__ import annotations

from typing import Any

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    lineage_edge,
    load_object,
    need,
    query_row,
)

NAME = "hive_lineage"
WHAT = "a Hive LineageLogger record"


def looks_like(obj: dict[str, Any]) -> bool:
    """Detection: ``queryText`` beside ``edges`` or ``vertices``."""
    return "queryText" in obj and ("edges" in obj or "vertices" in obj)


def json_part(line: str) -> str:
    """The JSON object of a line, after any log-line prefix."""
    start = line.find("{")
    return line[start:] if start > 0 else line


def _vertex(v: dict[str, Any]) -> tuple[str, str | None] | None:
    label = str(v.get("vertexId") or "").lower()
    parts = label.split(".")
    if str(v.get("vertexType") or "").upper() == "TABLE":
        return (label, None) if len(parts) >= 2 else None
    if len(parts) < 3:  # a result column of a query without a target table
        return None
    return ".".join(parts[:2]), ".".join(parts[2:])


def _edges(obj: dict[str, Any]) -> list[dict[str, Any]]:
    vertices = {}
    for v in obj.get("vertices") or []:
        if isinstance(v, dict) and "id" in v:
            vertices[v["id"]] = _vertex(v)
    out = []
    for e in obj.get("edges") or []:
        if not isinstance(e, dict):
            continue
        projection = str(e.get("edgeType") or "").upper() == "PROJECTION"
        sources = [vertices.get(i) for i in e.get("sources") or []]
        targets = [vertices.get(i) for i in e.get("targets") or []]
        for src in filter(None, sources):
            for tgt in filter(None, targets):
                if projection:
                    sub = "TRANSFORMATION" if e.get("expression") else "IDENTITY"
                    out.append(lineage_edge(src[0], src[1], tgt[0], tgt[1], "DIRECT", sub))
                else:
                    out.append(lineage_edge(src[0], src[1], tgt[0], None, "INDIRECT", "FILTER"))
    unique = {tuple(sorted(d.items(), key=lambda kv: kv[0])): d for d in out}
    return list(unique.values())


def convert(text: str, ctx: RecordContext) -> Converted:
    """One hook line -> a query row with the engine's edges."""
    obj = load_object(json_part(text), WHAT)
    if not looks_like(obj):
        raise RecordError("no 'queryText' beside 'edges'/'vertices'")
    need(obj, "queryText")
    if obj.get("timestamp") in (None, ""):
        raise RecordError("field 'timestamp' is missing (written when hive.in.test is false)")
    database = obj.get("database") or ctx.settings.schema
    edges = _edges(obj)
    targets = sorted({e["target"] for e in edges})
    return Converted(
        row=query_row(
            NAME,
            query_id=str(obj.get("hash") or "") or None,
            job_id=",".join(obj.get("jobIds") or []) or None,
            engine=ctx.settings.dialect or "hive",
            user=obj.get("user"),
            started_at=iso_time(obj.get("timestamp")),
            sql=obj["queryText"],
            default_schema=str(database).lower() if database else None,
            status="ok",
            destination=targets[0] if len(targets) == 1 else None,
            engine_lineage=edges,
        )
    )
