"""Trino / Presto ``QueryCompletedEvent`` as the http, file and kafka event listeners write it.

Record definition (trino-spi ``io.trino.spi.eventlistener``, serialised by Jackson): one JSON
object per event with ``metadata`` (``QueryMetadata``: ``queryId``, ``query``, ``queryState``
FINISHED/FAILED, ``updateType``), ``context`` (``QueryContext``: ``user``, ``catalog``,
``schema``, ``source``), ``ioMetadata`` (``QueryIOMetadata``: ``inputs`` [``catalogName``,
``schema``, ``table``, ``columns``] and ``output`` [``catalogName``, ``schema``, ``table``,
``columns`` of ``OutputColumnMetadata`` {``columnName``, ``sourceColumns`` of ``ColumnDetail``
{``catalog``, ``schema``, ``table``, ``columnName``}}]), ``failureInfo`` (``QueryFailureInfo``:
``errorCode``, ``failureType``, ``failureMessage``) and the times ``createTime``,
``executionStartTime``, ``endTime``. Presto's event is the same shape.

Mapping: ``queryState`` FINISHED -> ok, FAILED -> failed (any other state is taken as failed when
``failureInfo`` is present); the output table is the row's ``destination`` and every output column's
``sourceColumns`` become engine-computed DIRECT edges (IDENTITY where the source column has the output
column's name, TRANSFORMATION otherwise: the event does not say which) (asset ``schema.table``, the catalog dropped,
as the product names tables). A ``QueryCreatedEvent`` (no ``endTime``/``queryState`` of a finished
query, no ``statistics``) carries no outcome: it is skipped, its ``QueryCompletedEvent`` lands.
"""

from __future__ import annotations

from typing import Any

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    get,
    iso_time,
    lineage_edge,
    load_object,
    need,
    query_row,
    table_name,
)

NAME = "trino"
WHAT = "a Trino/Presto QueryCompletedEvent"


def looks_like(obj: dict[str, Any]) -> bool:
    """Detection: a ``metadata`` object with ``queryId`` or ``query``, beside ``context``."""
    meta = obj.get("metadata")
    return isinstance(meta, dict) and ("queryId" in meta or "query" in meta) and "context" in obj


def _edges(output: dict[str, Any]) -> list[dict[str, Any]]:
    target = table_name(output.get("schema"), output.get("table"))
    if not target:
        return []
    edges = []
    for col in output.get("columns") or []:
        if not isinstance(col, dict) or not col.get("columnName"):
            continue
        for src in col.get("sourceColumns") or []:
            if not isinstance(src, dict):
                continue
            source = table_name(src.get("schema"), src.get("table"))
            if source and src.get("columnName"):
                same = str(src["columnName"]).lower() == str(col["columnName"]).lower()
                sub = "IDENTITY" if same else "TRANSFORMATION"
                edges.append(
                    lineage_edge(
                        source, src["columnName"], target, col["columnName"], "DIRECT", sub
                    )
                )
    return edges


def convert(text: str, ctx: RecordContext) -> Converted:
    """One event line -> a query row."""
    obj = load_object(text, WHAT)
    if not looks_like(obj):
        raise RecordError("no 'metadata' object with 'queryId' and 'query' beside 'context'")
    need(obj, "metadata.queryId", "metadata.query", "createTime")
    state = str(get(obj, "metadata.queryState") or "").upper()
    failure = obj.get("failureInfo")
    if "endTime" not in obj and "statistics" not in obj and not failure:
        return Converted(skip="a QueryCreatedEvent: the query's QueryCompletedEvent carries it")
    if state == "FINISHED" and not failure:
        status = "ok"
    elif state == "FAILED" or failure:
        status = "failed"
    else:
        raise RecordError(
            f"metadata.queryState is {state or 'missing'!r}, expected FINISHED or FAILED"
        )
    error = None
    if isinstance(failure, dict):
        code = get(failure, "errorCode.name")
        error = ": ".join(str(p) for p in (code, failure.get("failureMessage")) if p) or None
    output = get(obj, "ioMetadata.output")
    output = output if isinstance(output, dict) else {}
    ctxobj = obj.get("context") if isinstance(obj.get("context"), dict) else {}
    schema = ctxobj.get("schema") or ctx.settings.schema
    return Converted(
        row=query_row(
            NAME,
            query_id=str(get(obj, "metadata.queryId")),
            engine=ctx.settings.dialect or "trino",
            user=ctxobj.get("user"),
            started_at=iso_time(obj.get("createTime")),
            finished_at=iso_time(obj.get("endTime")),
            sql=get(obj, "metadata.query"),
            default_schema=schema.lower() if isinstance(schema, str) else None,
            status=status,
            error=error,
            destination=table_name(output.get("schema"), output.get("table")),
            engine_lineage=_edges(output) if status == "ok" else None,
        )
    )
