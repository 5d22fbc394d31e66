"""Defensive checks on everything that goes into a report.

Escaping is Jinja2's job (autoescape is on for every template, and SVG built in Python escapes
with :func:`markupsafe.escape`). This module guards against a different mistake: handing the
renderer data that must never appear in a report at all.

Policy (documented choice):

* **Key material refuses the whole render.** A column whose name says it holds key material or
  ciphertext (``key``, ``key_material``, ``secret``, ``iv``, ``mac``, ``ciphertext``, ...) or a
  value that looks like a PEM block / private key raises :class:`ReportDataError`. Keys never live
  in a table the report reads, so this can only be a programming error, and silently dropping it
  would hide the bug.
* **Raw personal data refuses the render too** when it comes by column: ``subject_id`` (the
  report only receives pseudonymous ``subject_key``s) and ``raw`` (the raw text of rejected
  inputs, which may hold a personal record). :func:`drop_raw` lets the caller strip ``raw`` first.
* **Subject keys must be pseudonymous.** A ``subject_key`` value that is not ``sk_`` followed by
  hex digits (the form :mod:`jobs.secrets.pseudonym` produces) refuses the render: a raw subject id put in
  that column by mistake must not reach an auditor's report.
* **E-mail addresses inside free text** (for example an exception ``detail``) are redacted to
  ``[redacted e-mail]`` rather than refused: free text is not under the product's control and the
  rest of the row is still evidence. The number of redactions is shown in the report footer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import ComplianceError
from core.key_material import KEY_MARKER

FORBIDDEN_COLUMNS = frozenset(
    {
        "key",
        "key_material",
        "key_bytes",
        "secret",
        "secret_key",
        "private_key",
        "password",
        "iv",
        "mac",
        "ciphertext",
        "plaintext",
        "subject_id",
        "raw",
    }
)
"""Column names that never reach a report (compared case-insensitively)."""

_PEM = re.compile(KEY_MARKER)
SUBJECT_KEY = re.compile(r"sk_[0-9a-f]{16,64}")
"""The form of a pseudonymous subject key."""
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
REDACTED_EMAIL = "[redacted e-mail]"


class ReportDataError(ComplianceError):
    """The renderer was given data a report must never show (key material, raw personal data)."""


def drop_raw(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the rows without their ``raw`` column (the raw text of a rejected input).

    Args:
        rows: ``rejected_inputs`` rows.

    Returns:
        Copies of the rows without ``raw``.
    """
    return [{k: v for k, v in r.items() if k.lower() != "raw"} for r in rows]


def _plain(value: Any) -> Any:
    """Plain Python for values that come from pandas/numpy/Spark (NaN, NaT and nulls to None)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if type(value).__name__ == "NaTType":
        return None
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if hasattr(value, "asDict"):  # a pyspark Row nested in a row
        return dict(value.asDict(recursive=True))
    return value


class Guard:
    """Checks and cleans values on their way into a report; counts redactions."""

    def __init__(self) -> None:
        self.redactions = 0

    def check_columns(self, columns: Iterable[str], where: str) -> None:
        """Refuse forbidden column names.

        Raises:
            ReportDataError: naming the column and the table/section it came in.
        """
        for c in columns:
            if str(c).lower() in FORBIDDEN_COLUMNS:
                raise ReportDataError(
                    f"report input {where!r} has column {c!r}, which must never appear in a "
                    "report (key material, ciphertext or raw personal data); drop it before "
                    "rendering"
                )

    def value(self, value: Any, where: str) -> Any:
        """Return ``value`` safe to show: e-mail addresses redacted; refuse key material.

        Lists, tuples and dicts are cleaned element by element; numpy/pandas/Spark values become
        plain Python (NaN/NaT to ``None``, arrays to lists, aware datetimes to naive UTC).

        Raises:
            ReportDataError: when the value looks like a PEM block or private key.
        """
        value = _plain(value)
        if isinstance(value, str):
            if _PEM.search(value):
                raise ReportDataError(
                    f"report input {where!r} holds a value that looks like key material "
                    "(PEM block / private key); keys never belong in a report"
                )
            cleaned, n = _EMAIL.subn(REDACTED_EMAIL, value)
            self.redactions += n
            return cleaned
        if isinstance(value, list | tuple):
            return type(value)(self.value(v, where) for v in value)
        if isinstance(value, Mapping):
            self.check_columns(value.keys(), where)
            return {k: self.value(v, where) for k, v in value.items()}
        return value

    def rows(self, rows: Iterable[Mapping[str, Any]], where: str) -> list[dict[str, Any]]:
        """Check and clean a list of rows (column names and values)."""
        out = []
        for r in rows:
            self.check_columns(r.keys(), where)
            key = r.get("subject_key")
            if key is not None and not SUBJECT_KEY.fullmatch(str(key)):
                raise ReportDataError(
                    f"report input {where!r} has a subject_key that is not pseudonymous "
                    "(expected 'sk_' and hex digits); only keyed hashes may appear in a report"
                )
            out.append({k: self.value(v, f"{where}.{k}") for k, v in r.items()})
        return out
