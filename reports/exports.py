"""CSV and JSON exports written beside every detail table, from the very rows the table shows,
and XLSX for the tables people exchange as spreadsheets (the Article 30 record).

JSON is deterministic (sorted keys, ISO dates) and keeps the values' types. A point in time is
written as an ISO 8601 instant in UTC with its zone (``2026-11-22T03:00:00Z``): the product keeps
every timestamp in UTC, and a reader of the file must not take it for local time; a date stays a
date. CSV writes one column
per table column in the table's order; lists and mappings are JSON-encoded, ``None`` is empty, and a
text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed with ``'`` so
that a spreadsheet opening the file does not evaluate it as a formula (CSV injection).

XLSX (openpyxl) writes one sheet: the header row in bold and frozen, then one row per table row;
numbers and booleans stay numbers and booleans, a list is one line per item, a mapping its JSON,
and every text cell is stored as text (never a formula, whatever it starts with). The file is the
same bytes for the same rows: its document dates are ``created`` and its zip entries carry a fixed
time.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

FORMATS = ("csv", "json")
"""The exports of every table."""
XLSX_SHEET_TITLE_MAX = 31
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

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


def xlsx_cell(value: Any) -> Any:
    """The XLSX value of one cell: numbers, booleans and dates as they are, lists one item a
    line, mappings as JSON, anything else as text; ``None`` stays empty."""
    if value is None or isinstance(value, bool | int | float | datetime | date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return "\n".join(str(xlsx_cell(v)) for v in items)
    if isinstance(value, Mapping):
        return json.dumps(value, default=json_default, sort_keys=True, ensure_ascii=False)
    return str(value)


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry the same time, so equal content gives equal bytes."""

    def writestr(self, zinfo_or_arcname, data, *args, **kwargs):  # type: ignore[override]
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_TIME)
            zinfo_or_arcname.compress_type = zipfile.ZIP_DEFLATED
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):  # type: ignore[override]
        self.writestr(str(arcname or filename), Path(filename).read_bytes())


def write_xlsx(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    path: Path,
    *,
    sheet: str,
    created: datetime | None = None,
) -> Path:
    """Write ``rows`` restricted to ``columns`` as a one-sheet workbook (see the module doc).

    Args:
        rows: The rows of the table.
        columns: The table's columns, in display order (the header row).
        path: The ``.xlsx`` file to write.
        sheet: The sheet's title (cut to Excel's 31 characters).
        created: The workbook's creation and modification time (default 2000-01-01).
    """
    from openpyxl import Workbook  # noqa: PLC0415 - only the exports that need it load it
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415
    from openpyxl.writer.excel import ExcelWriter  # noqa: PLC0415

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:XLSX_SHEET_TITLE_MAX]
    ws.append(list(columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(rows, start=2):
        for c, name in enumerate(columns, start=1):
            value = xlsx_cell(row.get(name))
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                cell.alignment = wrap
    ws.freeze_panes = "A2"
    stamp = created or datetime(2000, 1, 1)
    wb.properties.created = wb.properties.modified = stamp.replace(tzinfo=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _FixedTimeZip(path, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    return path


def write_exports(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    out_dir: Path,
    stem: str,
    *,
    formats: Sequence[str] = FORMATS,
    sheet: str | None = None,
    created: datetime | None = None,
) -> list[Path]:
    """Write ``<stem>.csv`` and ``<stem>.json`` (and with ``"xlsx"`` in ``formats``
    ``<stem>.xlsx``) holding ``rows`` restricted to ``columns``.

    Args:
        rows: The rows of the table.
        columns: The table's columns, in display order.
        out_dir: Folder to write into (created if missing).
        stem: File name without extension.
        formats: Which of ``csv``, ``json``, ``xlsx`` to write.
        sheet: The XLSX sheet title (default: the stem).
        created: The XLSX document time (see :func:`write_xlsx`).

    Returns:
        The paths written, in the order of ``formats``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "csv":
            with path.open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(columns)
                for r in rows:
                    w.writerow([csv_cell(r.get(c)) for c in columns])
        elif fmt == "json":
            payload = [{c: r.get(c) for c in columns} for r in rows]
            path.write_text(
                json.dumps(
                    payload, default=json_default, sort_keys=True, indent=1, ensure_ascii=False
                )
                + "\n",
                encoding="utf-8",
            )
        elif fmt == "xlsx":
            write_xlsx(rows, columns, path, sheet=sheet or stem, created=created)
        else:
            raise ValueError(f"unknown export format {fmt!r}")
        paths.append(path)
    return paths
