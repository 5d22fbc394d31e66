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

``ACCOUNT_USAGE.ACCESS_HISTORY`` (one row per query that read or wrote objects; successful queries
only) carries engine-computed column lineage in ``OBJECTS_MODIFIED``: a JSON array of
``{objectName, objectDomain, columns: [{columnName, directSources: [{columnName, objectName,
objectDomain}], baseSources: [...]}]}``. Exported joined with QUERY_HISTORY (its columns plus
``OBJECTS_MODIFIED``), a row is a query row whose ``engine_lineage`` holds one DIRECT edge per
(direct source column, modified column): IDENTITY when the names are equal, TRANSFORMATION
otherwise (the view does not say which). Exported alone (``QUERY_ID``, ``QUERY_START_TIME``,
``USER_NAME``, ``OBJECTS_MODIFIED``, no query text), a row that modified a table is a WRITE of it
(``job_id`` the query id) with those edges; a row that modified nothing carries no flow and is
skipped. Object names ``DB.SCHEMA.TABLE`` become ``schema.table`` (the database dropped, as the
SQL's names are); view and stage objects are not tables and give no edge.
"""

from __future__ import annotations

import json
from typing import Any

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    lineage_edge,
    query_row,
    table_name,
)
from audits.querylog_formats.csv_records import table_row
from audits.querylog_formats.history import HistoryColumns, history_row

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
COLUMNS = HistoryColumns(
    fmt=NAME,
    query_id="query_id",
    text="query_text",
    text_missing="field 'QUERY_TEXT' is missing",
    statement_type="query_type",
    no_lineage_types=NO_LINEAGE_TYPES,
    status="execution_status",
    statuses={
        "SUCCESS": "ok",
        "FAIL": "failed",
        "FAILED_WITH_ERROR": "failed",
        "INCIDENT": "failed",
    },
    open_statuses=frozenset({"RUNNING", "QUEUED", "BLOCKED", "RESUMING_WAREHOUSE"}),
    status_default="SUCCESS",
    user="user_name",
    errors=("error_code", "error_message"),
    schema="schema_name",
    upper_names=True,
)


ACCESS_HISTORY_COLUMNS = ("query_id", "query_start_time", "objects_modified")
"""Columns an ACCESS_HISTORY export (without the query text) must have."""
_TABLE_DOMAINS = frozenset(
    {"table", "external table", "dynamic table", "iceberg table", "materialized view"}
)


def is_access_history(keys: set[str]) -> bool:
    """An ACCESS_HISTORY row (lower-case keys) without QUERY_HISTORY's query text."""
    return "objects_modified" in keys and "query_start_time" in keys and "query_text" not in keys


def looks_like(keys: set[str]) -> bool:
    """Detection from an object's keys or a CSV header (lower case)."""
    return is_access_history(keys) or (
        "query_text" in keys
        and bool(keys & {"query_id", "execution_status", "warehouse_name", "query_type"})
    )


def _object_name(value: Any) -> str | None:
    """``DB.SCHEMA.TABLE`` (quotes removed) -> ``schema.table``."""
    parts = [p.strip().strip('"') for p in str(value or "").split(".") if p.strip()]
    return table_name(*parts[-2:]) if len(parts) >= 2 else None


def access_edges(value: Any) -> list[dict[str, Any]]:
    """The engine-computed edges of ``OBJECTS_MODIFIED`` (a JSON array, or its text).

    Raises:
        RecordError: the value is not a JSON array.
    """
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise RecordError(f"OBJECTS_MODIFIED is not JSON ({exc.msg})") from None
    if not isinstance(value, list):
        raise RecordError(f"OBJECTS_MODIFIED is a JSON {type(value).__name__}, expected an array")
    edges = []
    for obj in value:
        if not isinstance(obj, dict):
            continue
        target = _object_name(obj.get("objectName"))
        if not target or str(obj.get("objectDomain") or "").lower() not in _TABLE_DOMAINS:
            continue
        for col in obj.get("columns") or []:
            name = col.get("columnName") if isinstance(col, dict) else None
            for src in (col.get("directSources") or []) if name else []:
                source = _object_name(src.get("objectName")) if isinstance(src, dict) else None
                if source and src.get("columnName"):
                    same = str(src["columnName"]).lower() == str(name).lower()
                    sub = "IDENTITY" if same else "TRANSFORMATION"
                    edges.append(
                        lineage_edge(source, src["columnName"], target, name, "DIRECT", sub)
                    )
    unique = {tuple(sorted(e.items())): e for e in edges}
    return [unique[k] for k in sorted(unique, key=str)]


def _modified_tables(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return []
    names = {
        _object_name(o.get("objectName"))
        for o in value or []
        if isinstance(o, dict) and str(o.get("objectDomain") or "").lower() in _TABLE_DOMAINS
    }
    return sorted(n for n in names if n)


def _access_row(rec: dict[str, Any], ctx: RecordContext) -> Converted:
    """A standalone ACCESS_HISTORY row -> a WRITE row with the engine's edges."""
    if not rec.get("query_id"):
        raise RecordError("field 'QUERY_ID' is missing")
    edges = access_edges(rec.get("objects_modified"))
    targets = _modified_tables(rec.get("objects_modified"))
    if not targets:
        return Converted(skip="an ACCESS_HISTORY row of a query that modified no table")
    return Converted(
        row=query_row(
            NAME,
            query_id=str(rec["query_id"]),
            job_id=str(rec["query_id"]),
            engine=ctx.settings.dialect or "snowflake",
            user=rec.get("user_name"),
            started_at=iso_time(rec.get("query_start_time")),
            status="ok",
            destination=targets[0] if len(targets) == 1 else None,
            engine_lineage=edges,
            action="WRITE",
            table=targets[0],
        )
    )


def convert_fields(rec: dict[str, Any], ctx: RecordContext) -> Converted:
    """One QUERY_HISTORY row (keys in any case) -> a query row."""
    rec = {str(k).lower(): v for k, v in rec.items()}
    if is_access_history(set(rec)):
        return _access_row(rec, ctx)
    modified = rec.get("objects_modified")
    return history_row(
        rec,
        ctx,
        COLUMNS,
        destination=_single(_modified_tables(modified)),
        engine_lineage=lambda status: access_edges(modified) if status == "ok" else None,
    )


def _single(names: list[str]) -> str | None:
    return names[0] if len(names) == 1 else None


def convert(text: str, ctx: RecordContext) -> Converted:
    """A JSON line or (with ``ctx.header``) a CSV record -> a query row."""
    return convert_fields(
        table_row(
            text,
            ctx,
            WHAT,
            looks_like,
            "no 'QUERY_TEXT' with 'QUERY_ID' or 'EXECUTION_STATUS', nor an ACCESS_HISTORY row",
        ),
        ctx,
    )
