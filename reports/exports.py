"""CSV and JSON exports written beside every detail table, from the very rows the table shows.

JSON is deterministic (sorted keys, ISO dates) and keeps the values' types. A point in time is
written as an ISO 8601 instant in UTC with its zone (``2026-11-22T03:00:00Z``): the product keeps
every timestamp in UTC, and a reader of the file must not take it for local time; a date stays a
date. CSV writes one column
per table column in the table's order; lists and mappings are JSON-encoded, ``None`` is empty, and a
text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'`` so
that a spreadsheet opening the file does not evaluate it as a formula (CSV injection).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def instant(value: datetime | date) -> str:
    """ISO 8601 text of a date, or of a point in time in UTC with its zone (``...Z``).

    Naive datetimes are the product's UTC readings (Spark sessions run in UTC).

    Example:
        >>> instant(datetime(2026, 11, 22, 3, 0, 5, 120000))
        '2026-11-22T03:00:05.120Z'
        >>> instant(date(2026, 11, 22))
        '2026-11-22'
    """
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    text = value.isoformat(timespec="seconds" if not value.microsecond else spec)
    return text + "Z"


def json_default(value: Any) -> Any:
    """JSON encoding of dates, datetimes and other non-JSON values."""
    if isinstance(value, datetime | date):
        return instant(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    return str(value)


def csv_cell(value: Any) -> str:
    """The CSV text of one value (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return instant(value)
    if isinstance(value, list | tuple | Mapping | set | frozenset):
        return json.dumps(value, default=json_default, sort_keys=True, ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_exports(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], out_dir: Path, stem: str
) -> list[Path]:
    """Write ``<stem>.csv`` and ``<stem>.json`` holding ``rows`` restricted to ``columns``.

    Args:
        rows: The rows of the table.
        columns: The table's columns, in display order.
        out_dir: Folder to write into (created if missing).
        stem: File name without extension.

    Returns:
        The two paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{stem}.csv"
    json_path = out_dir / f"{stem}.json"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([csv_cell(r.get(c)) for c in columns])
    payload = [{c: r.get(c) for c in columns} for r in rows]
    json_path.write_text(
        json.dumps(payload, default=json_default, sort_keys=True, indent=1, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    return [csv_path, json_path]
