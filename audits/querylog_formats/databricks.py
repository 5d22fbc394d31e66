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

from audits.querylog_formats.common import Converted, RecordContext
from audits.querylog_formats.csv_records import table_row
from audits.querylog_formats.history import HistoryColumns, history_row

NAME = "databricks"
WHAT = "a Databricks system.query.history row"
REQUIRED_COLUMNS = ("statement_text", "start_time")
"""Columns a CSV export must have."""
NO_LINEAGE_TYPES = frozenset(
    {"SHOW", "DESCRIBE", "USE", "SET", "RESET", "EXPLAIN", "LIST", "GRANT", "REVOKE", "OTHER"}
)
"""Statement types that read or write no table."""
COLUMNS = HistoryColumns(
    fmt=NAME,
    query_id="statement_id",
    text="statement_text",
    text_missing="field 'statement_text' is empty (customer-managed keys hide it) or missing",
    statement_type="statement_type",
    no_lineage_types=NO_LINEAGE_TYPES,
    status="execution_status",
    statuses={"FINISHED": "ok", "FAILED": "failed", "CANCELED": "failed", "CANCELLED": "failed"},
    open_statuses=frozenset({"RUNNING", "QUEUED", "STARTED", "PENDING"}),
    status_default="FINISHED",
    user="executed_by",
    errors=("error_message",),
)


def looks_like(keys: set[str]) -> bool:
    """Detection from an object's keys or a CSV header (lower case)."""
    return "statement_text" in keys and bool(
        keys & {"statement_id", "execution_status", "executed_by", "statement_type"}
    )


def convert_fields(rec: dict[str, Any], ctx: RecordContext) -> Converted:
    """One query history row -> a query row."""
    return history_row({str(k).lower(): v for k, v in rec.items()}, ctx, COLUMNS)


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
