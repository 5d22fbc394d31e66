"""CSV records of the CSV formats (BigQuery and Snowflake exports, PostgreSQL csvlog).

A record may span several physical lines (a quoted field holding newlines); the shell assembles
them (see :func:`starts_record`) and numbers a record by its first physical line. Parsing one
assembled record is plain :mod:`csv` (RFC 4180: ``"`` quotes, ``""`` inside quotes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from audits.querylog_formats.common import RecordContext, RecordError, load_object


def quote_count(line: str) -> int:
    """Number of ``"`` in a physical line; a record ends where the running count is even."""
    return line.count('"')


def split_record(text: str) -> list[str]:
    """The fields of one record; :class:`RecordError` when it is not one well-formed CSV row."""
    try:
        rows = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as exc:
        raise RecordError(f"not a well-formed CSV record ({exc})") from None
    if len(rows) != 1:
        raise RecordError(f"not one CSV record ({len(rows)} rows)")
    return rows[0]


def header_of(text: str) -> tuple[str, ...] | None:
    """The first record of a CSV sample as lower-case column names (``None``: not CSV)."""
    try:
        first = next(csv.reader(io.StringIO(text)), None)
    except csv.Error:
        return None
    if not first or len(first) < 2:
        return None
    return tuple(c.strip().lower() for c in first)


def as_dict(text: str, header: tuple[str, ...]) -> dict[str, str | None]:
    """The record's fields by header column (empty fields are ``None``)."""
    fields = split_record(text)
    if len(fields) != len(header):
        raise RecordError(
            f"{len(fields)} fields, expected {len(header)} as in the header "
            f"({', '.join(header[:4])}, ...)"
        )
    return {h: (v if v != "" else None) for h, v in zip(header, fields, strict=True)}


def table_row(
    text: str, ctx: RecordContext, what: str, looks_like: Callable[[set[str]], bool], missing: str
) -> dict[str, Any]:
    """One row of an exported table (BigQuery JOBS, Snowflake QUERY_HISTORY): a CSV record by
    the file's header (``ctx.header``) or a JSON object whose keys ``looks_like`` the table's
    (else :class:`RecordError` with ``missing``)."""
    if ctx.header:
        return as_dict(text, ctx.header)
    obj = load_object(text, what)
    if not looks_like({k.lower() for k in obj}):
        raise RecordError(missing)
    return obj
