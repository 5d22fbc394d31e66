"""The query-history tables of managed warehouses (Databricks ``system.query.history``, Snowflake
``QUERY_HISTORY``): one row per statement, with its text, type, status, user and times.

Each engine names the same facts differently; :class:`HistoryColumns` says how, and
:func:`history_row` turns one row into the product's query row the same way for all of them:
a statement type that carries no lineage is skipped, a statement still running has no outcome and
is skipped, a failed one keeps the engine's error text. Pure Python: no Spark, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    query_row,
)


@dataclass(frozen=True)
class HistoryColumns:
    """How one engine's query-history table holds a statement (column names in lower case)."""

    fmt: str
    """The format's name (and the engine, unless the source names a dialect)."""
    query_id: str
    text: str
    text_missing: str
    """The message when the statement text is empty or missing."""
    statement_type: str
    no_lineage_types: frozenset[str]
    status: str
    statuses: Mapping[str, str]
    """The engine's final status values -> ``ok`` / ``failed``."""
    open_statuses: frozenset[str]
    """Status values of a statement still running (no outcome yet)."""
    status_default: str
    user: str
    errors: tuple[str, ...]
    """Columns whose non-empty values, joined, are a failed statement's error."""
    schema: str | None = None
    """The column holding the session's current schema, if the table has one."""
    upper_names: bool = False
    """Name columns in upper case in messages (as the engine's documentation does)."""

    def label(self, column: str) -> str:
        return column.upper() if self.upper_names else column


def history_row(
    rec: Mapping[str, Any], ctx: RecordContext, cols: HistoryColumns, **extra: Any
) -> Converted:
    """One history row (keys already lower case) -> a query row, a skip, or a RecordError.

    ``extra`` holds further row fields (``destination``, ``engine_lineage``) or a callable of the
    status giving them.
    """
    if rec.get(cols.text) in (None, ""):
        raise RecordError(cols.text_missing)
    stype = str(rec.get(cols.statement_type) or "").upper()
    if stype in cols.no_lineage_types:
        return Converted(
            skip=f"{cols.label(cols.statement_type)} {stype}: reads or writes no table"
        )
    raw = str(rec.get(cols.status) or cols.status_default).upper()
    if raw in cols.open_statuses:
        return Converted(skip=f"{cols.label(cols.status)} {raw}: not finished")
    if raw not in cols.statuses:
        expected = ", ".join(sorted({k for k in cols.statuses if k != "CANCELLED"}))
        raise RecordError(f"{cols.label(cols.status)} is {raw!r}, expected one of {expected}")
    status = cols.statuses[raw]
    error = None
    if status == "failed":
        error = ": ".join(str(rec[k]) for k in cols.errors if rec.get(k)) or raw.lower()
    schema = (rec.get(cols.schema) if cols.schema else None) or ctx.settings.schema
    more = {k: (v(status) if callable(v) else v) for k, v in extra.items()}
    return Converted(
        row=query_row(
            cols.fmt,
            query_id=str(rec[cols.query_id]) if rec.get(cols.query_id) else None,
            engine=ctx.settings.dialect or cols.fmt,
            user=rec.get(cols.user),
            started_at=iso_time(rec.get("start_time")),
            finished_at=iso_time(rec.get("end_time")),
            sql=str(rec[cols.text]),
            default_schema=str(schema).lower() if schema else None,
            status=status,
            error=error,
            **more,
        )
    )
