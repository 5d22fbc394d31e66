"""PostgreSQL ``csvlog`` (``log_destination = 'csvlog'``): one CSV record per log message, no
header.

Record definition (PostgreSQL docs, "Using CSV-Format Log Output"): the columns, in this fixed
order, are :data:`COLUMNS`; versions before 13 stop after ``application_name``, 13 adds
``backend_type``, 14 ``leader_pid`` and ``query_id``. Statements appear as ``LOG`` messages
``statement: <sql>`` or ``execute <name>: <sql>`` (``log_statement``) and ``duration: <n> ms
statement: <sql>`` (``log_min_duration_statement``); an ``ERROR``/``FATAL``/``PANIC`` message
carries the failing statement in its ``query`` column (``log_min_error_statement``).

Mapping: a statement message is a query row (status ok); an error message with a ``query`` is the
end record of that statement in the same session (``session_id``): it marks it failed, or lands
as a failed query of its own when the statement was not logged. Every other message (connections,
checkpoints, ``duration:`` alone, ``parse``/``bind`` steps) carries no query and is skipped.
``database_name`` is kept as the catalog; the default schema is the source's ``schema`` setting,
else ``public`` (the default ``search_path``).
"""

from __future__ import annotations

import re

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    query_row,
)
from audits.querylog_formats.csv_records import split_record

NAME = "postgres_csvlog"
WHAT = "a PostgreSQL csvlog record"
COLUMNS = (
    "log_time",
    "user_name",
    "database_name",
    "process_id",
    "connection_from",
    "session_id",
    "session_line_num",
    "command_tag",
    "session_start_time",
    "virtual_transaction_id",
    "transaction_id",
    "error_severity",
    "sql_state_code",
    "message",
    "detail",
    "hint",
    "internal_query",
    "internal_query_pos",
    "context",
    "query",
    "query_pos",
    "location",
    "application_name",
    "backend_type",
    "leader_pid",
    "query_id",
)
MIN_COLUMNS = 23
"""Columns of the oldest layout (up to ``application_name``)."""
SEVERITIES = frozenset(
    {"DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "LOG", "INFO", "NOTICE", "WARNING"}
    | {"ERROR", "FATAL", "PANIC", "STATEMENT", "DETAIL", "HINT", "CONTEXT"}
)
FAILURES = frozenset({"ERROR", "FATAL", "PANIC"})
_STATEMENT = re.compile(
    r"^(?:duration: [\d.]+ ms\s+)?(?:statement|execute [^:]*): (?P<sql>.*)$", re.DOTALL
)
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def looks_like(fields: list[str]) -> bool:
    """Detection from the first record's fields: the csvlog layout."""
    return (
        len(fields) >= MIN_COLUMNS
        and bool(_TIME.match(fields[0]))
        and fields[11].upper() in SEVERITIES
    )


def _pair(session: str | None, sql: str) -> str:
    return f"{session or ''}|{' '.join(sql.split())}"


def convert(text: str, ctx: RecordContext) -> Converted:
    """One csvlog record -> a query row, an end record, or a skip."""
    fields = split_record(text)
    if len(fields) < MIN_COLUMNS or len(fields) > len(COLUMNS):
        raise RecordError(
            f"{len(fields)} fields, expected {MIN_COLUMNS} to {len(COLUMNS)} (log_time, "
            "user_name, database_name, ...)"
        )
    rec = dict(zip(COLUMNS, fields, strict=False))
    severity = rec["error_severity"].upper()
    if severity not in SEVERITIES or not _TIME.match(rec["log_time"]):
        raise RecordError(
            f"error_severity {rec['error_severity']!r} / log_time {rec['log_time'][:30]!r} "
            "are not those of a csvlog record"
        )
    schema = ctx.settings.schema or "public"
    base = dict(
        engine=ctx.settings.dialect or "postgres",
        user=rec["user_name"] or None,
        started_at=iso_time(rec["log_time"]),
        default_schema=schema.lower(),
        job_id=rec["session_id"] or None,
    )
    query_id = f"{rec['session_id']}:{rec['session_line_num']}"
    if severity in FAILURES:
        if not rec.get("query"):
            return Converted(skip=f"{severity} without a statement: {rec['message'][:80]}")
        sql = rec["query"]
        row = query_row(
            NAME,
            query_id=query_id,
            sql=sql,
            status="failed",
            finished_at=iso_time(rec["log_time"]),
            error=f"{rec['sql_state_code']}: {rec['message']}".strip(": "),
            **base,
        )
        return Converted(row=row, pair_key=_pair(rec["session_id"], sql), ends=True)
    m = _STATEMENT.match(rec["message"]) if severity == "LOG" else None
    if not m:
        return Converted(skip=f"{severity} message without a statement")
    sql = m.group("sql")
    row = query_row(NAME, query_id=query_id, sql=sql, status="ok", **base)
    return Converted(row=row, pair_key=_pair(rec["session_id"], sql))
