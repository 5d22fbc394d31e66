"""Databricks ``system.query.history`` exports, as CSV (with its header row) or JSON lines.

Record definition (the system table's documented columns, the ones read here): ``statement_id``
(the execution's id), ``statement_text`` (empty when customer-managed keys encrypt it),
``statement_type`` (SELECT, INSERT, MERGE, CREATE, ALTER, COPY, SHOW, USE, ...),
``execution_status`` (FINISHED, FAILED, CANCELED; a live export may also hold RUNNING or QUEUED),
``error_message``, ``executed_by`` (the user's e-mail or name), ``start_time``, ``end_time``.
``compute`` and ``session_id`` carry no lineage. The table has no column for the session's current
schema: the source's ``query_log_sources`` setting ``schema`` gives it.

Mapping: FINISHED -> ok; FAILED and CANCELED -> failed (a cancelled statement's effects are rolled
back: no flow); a statement still running has no outcome and is skipped, as are the session and
metadata commands that read or write no table (:data:`NO_LINEAGE_TYPES`). The dialect is
``databricks`` unless the source names another.
"""

from __future__ import annotations

from typing import Any

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    query_row,
)
from audits.querylog_formats.csv_records import table_row

NAME = "databricks"
WHAT = "a Databricks system.query.history row"
REQUIRED_COLUMNS = ("statement_text", "start_time")
"""Columns a CSV export must have."""
NO_LINEAGE_TYPES = frozenset(
    {"SHOW", "DESCRIBE", "USE", "SET", "RESET", "EXPLAIN", "LIST", "GRANT", "REVOKE", "OTHER"}
)
"""Statement types that read or write no table."""
_STATUS = {"FINISHED": "ok", "FAILED": "failed", "CANCELED": "failed", "CANCELLED": "failed"}
_OPEN = frozenset({"RUNNING", "QUEUED", "STARTED", "PENDING"})


def looks_like(keys: set[str]) -> bool:
    """Detection from an object's keys or a CSV header (lower case)."""
    return "statement_text" in keys and bool(
        keys & {"statement_id", "execution_status", "executed_by", "statement_type"}
    )


def convert_fields(rec: dict[str, Any], ctx: RecordContext) -> Converted:
    """One query history row -> a query row."""
    rec = {str(k).lower(): v for k, v in rec.items()}
    if rec.get("statement_text") in (None, ""):
        raise RecordError(
            "field 'statement_text' is empty (customer-managed keys hide it) or missing"
        )
    stype = str(rec.get("statement_type") or "").upper()
    if stype in NO_LINEAGE_TYPES:
        return Converted(skip=f"statement_type {stype}: reads or writes no table")
    raw = str(rec.get("execution_status") or "FINISHED").upper()
    if raw in _OPEN:
        return Converted(skip=f"execution_status {raw}: not finished")
    if raw not in _STATUS:
        raise RecordError(f"execution_status is {raw!r}, expected FINISHED, FAILED or CANCELED")
    status = _STATUS[raw]
    error = None
    if status == "failed":
        error = str(rec.get("error_message") or "") or (
            "canceled" if raw.startswith("CANCEL") else "failed"
        )
    schema = ctx.settings.schema  # asset names are schema.table: the catalog is not part of them
    return Converted(
        row=query_row(
            NAME,
            query_id=str(rec["statement_id"]) if rec.get("statement_id") else None,
            engine=ctx.settings.dialect or "databricks",
            user=rec.get("executed_by"),
            started_at=iso_time(rec.get("start_time")),
            finished_at=iso_time(rec.get("end_time")),
            sql=str(rec["statement_text"]),
            default_schema=str(schema).lower() if schema else None,
            status=status,
            error=error,
        )
    )


def convert(text: str, ctx: RecordContext) -> Converted:
    """A JSON line or (with ``ctx.header``) a CSV record -> a query row."""
    return convert_fields(
        table_row(
            text,
            ctx,
            WHAT,
            looks_like,
            "no 'statement_text' with 'statement_id' or 'execution_status'",
        ),
        ctx,
    )
