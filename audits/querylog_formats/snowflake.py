"""Snowflake ``ACCOUNT_USAGE.QUERY_HISTORY`` (or ``INFORMATION_SCHEMA.QUERY_HISTORY()``) exports,
as CSV (with its header row) or JSON lines.

Record definition (the view's documented columns, the ones read here): ``QUERY_ID``,
``QUERY_TEXT``, ``DATABASE_NAME``, ``SCHEMA_NAME``, ``QUERY_TYPE`` (SELECT, INSERT,
CREATE_TABLE_AS_SELECT, MERGE, SHOW, USE, ...), ``USER_NAME``, ``EXECUTION_STATUS`` (SUCCESS,
FAIL, INCIDENT; RUNNING/QUEUED/BLOCKED/RESUMING_WAREHOUSE in the live function), ``ERROR_CODE``,
``ERROR_MESSAGE``, ``START_TIME``, ``END_TIME``. Column names are matched case-insensitively.

Mapping: SUCCESS -> ok, FAIL and INCIDENT -> failed; a query still running has no outcome and is
skipped; so are the session and metadata commands that carry no lineage (``QUERY_TYPE`` in
:data:`NO_LINEAGE_TYPES`). ``SCHEMA_NAME`` is the default schema.
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

NAME = "snowflake"
WHAT = "a Snowflake QUERY_HISTORY row"
REQUIRED_COLUMNS = ("query_text", "start_time")
"""Columns a CSV export must have."""
NO_LINEAGE_TYPES = frozenset(
    {
        "SHOW",
        "DESCRIBE",
        "USE",
        "ALTER_SESSION",
        "SET",
        "UNSET",
        "BEGIN_TRANSACTION",
        "COMMIT",
        "ROLLBACK",
        "EXPLAIN",
        "LIST_FILES",
        "GET_FILES",
        "PUT_FILES",
        "REMOVE_FILES",
    }
)
"""Query types that read or write no table."""
_STATUS = {"SUCCESS": "ok", "FAIL": "failed", "FAILED_WITH_ERROR": "failed", "INCIDENT": "failed"}


def looks_like(keys: set[str]) -> bool:
    """Detection from an object's keys or a CSV header (lower case)."""
    return "query_text" in keys and bool(
        keys & {"query_id", "execution_status", "warehouse_name", "query_type"}
    )


def convert_fields(rec: dict[str, Any], ctx: RecordContext) -> Converted:
    """One QUERY_HISTORY row (keys in any case) -> a query row."""
    rec = {str(k).lower(): v for k, v in rec.items()}
    if rec.get("query_text") in (None, ""):
        raise RecordError("field 'QUERY_TEXT' is missing")
    qtype = str(rec.get("query_type") or "").upper()
    if qtype in NO_LINEAGE_TYPES:
        return Converted(skip=f"QUERY_TYPE {qtype}: reads or writes no table")
    raw = str(rec.get("execution_status") or "SUCCESS").upper()
    if raw not in _STATUS:
        if raw in ("RUNNING", "QUEUED", "BLOCKED", "RESUMING_WAREHOUSE"):
            return Converted(skip=f"EXECUTION_STATUS {raw}: not finished")
        raise RecordError(f"EXECUTION_STATUS is {raw!r}, expected SUCCESS, FAIL or INCIDENT")
    status = _STATUS[raw]
    error = None
    if status == "failed":
        error = ": ".join(str(rec[k]) for k in ("error_code", "error_message") if rec.get(k))
    schema = rec.get("schema_name") or ctx.settings.schema
    return Converted(
        row=query_row(
            NAME,
            query_id=str(rec["query_id"]) if rec.get("query_id") else None,
            engine=ctx.settings.dialect or "snowflake",
            user=rec.get("user_name"),
            started_at=iso_time(rec.get("start_time")),
            finished_at=iso_time(rec.get("end_time")),
            sql=str(rec["query_text"]),
            default_schema=str(schema).lower() if schema else None,
            status=status,
            error=error or None,
        )
    )


def convert(text: str, ctx: RecordContext) -> Converted:
    """A JSON line or (with ``ctx.header``) a CSV record -> a query row."""
    return convert_fields(
        table_row(
            text, ctx, WHAT, looks_like, "no 'QUERY_TEXT' with 'QUERY_ID' or 'EXECUTION_STATUS'"
        ),
        ctx,
    )
