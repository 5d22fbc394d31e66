"""Subject access (GDPR Art. 15): what the audited tables hold about one pseudonymous subject.

The answer of ``compliance datamap --subject-key K``: per audited table that lineage says holds
the subject's identifiers (identifier columns and their value or hashed copies) and where the
scan found rows of the subject, the number of those rows, the personal-data columns and data
categories the table holds, and the provenance (which identifier column matched, clear or
hashed, and the lineage that makes it an identifier column). Tables the scan could not check
are listed apart with the reason. Only counts, names and the keyed ``sk_`` reach it: never a
value of the audited tables.

Pure: built from small lists the shell collected (:mod:`jobs.commands.datamap_subject`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

SUBJECT_KEY_HEX = 32
"""Hex digits of a subject key: ``sk_`` + 32 hex (``jobs.secrets.pseudonym.PseudonymKey``)."""
SUBJECT_KEY_FORM = re.compile(rf"sk_[0-9a-f]{{{SUBJECT_KEY_HEX}}}")

HELD = "held"
NOT_CHECKED = "not checked"
COLUMNS = (
    "asset",
    "status",
    "rows",
    "data_categories",
    "columns",
    "matched_on",
    "lineage",
    "zone",
    "owner",
    "reason",
)
"""One row per table in the JSON/CSV answer (``held`` tables first, then ``not checked``)."""


def key_problem(subject_key: str | None) -> str | None:
    """Why ``subject_key`` is not a subject key (one line), or None when it has the right shape."""
    text = subject_key or ""
    if SUBJECT_KEY_FORM.fullmatch(text):
        return None
    shown = text if len(text) <= 80 else text[:77] + "..."
    return (
        f"--subject-key expects a pseudonymous key 'sk_' + {SUBJECT_KEY_HEX} lowercase hex "
        f"digits (derive it with `compliance subject-key --id -`), got {shown!r} "
        f"({len(text)} characters)"
    )


@dataclass(frozen=True)
class ScanColumn:
    """One identifier column of a table as the subject scan used it."""

    column: str
    function: str | None
    """The hash the column holds the identifier through (None: the clear value)."""
    via: str | None
    """The lineage that says it holds an identifier."""


@dataclass(frozen=True)
class SubjectAccess:
    """The Art. 15 answer for one subject (see the module docstring)."""

    subject_key: str
    lineage_as_of: date | None = None
    tables: list[dict[str, Any]] = field(default_factory=list)
    """Held tables: :data:`COLUMNS` rows with ``status`` ``held``."""
    not_checked: list[dict[str, Any]] = field(default_factory=list)
    """Tables or columns the scan could not check, with ``reason``."""
    scanned: int = 0
    """Tables scanned."""

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the JSON/CSV answer (:data:`COLUMNS`)."""
        return [*self.tables, *self.not_checked]


def _how(function: str | None) -> str:
    return "clear value" if function is None else f"{function} hash"


def held_tables(
    groups: Iterable[Mapping[str, Any]],
    scanned: Mapping[str, Sequence[ScanColumn]],
    personal: Iterable[Mapping[str, Any]],
    assets: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The held-table rows of the answer.

    Args:
        groups: the scan's output (``asset``, ``columns`` matching together, ``rows``).
        scanned: per table, the identifier columns scanned.
        personal: personal-data columns (``asset_id``, ``column``, ``data_category``).
        assets: per asset its ``zone`` and ``owner``.

    Returns:
        One row per table with rows of the subject, by asset name.
    """
    rows: dict[str, int] = {}
    per_column: dict[tuple[str, str], int] = {}
    for g in groups:
        asset = str(g["asset"])
        rows[asset] = rows.get(asset, 0) + int(g["rows"])
        for c in g["columns"]:
            per_column[(asset, str(c))] = per_column.get((asset, str(c)), 0) + int(g["rows"])
    cats: dict[str, dict[str, str | None]] = {}
    for p in personal:
        cats.setdefault(str(p["asset_id"]), {})[str(p["column"])] = p.get("data_category")
    out = []
    for asset in sorted(a for a, n in rows.items() if n > 0):
        held = cats.get(asset, {})
        by_col = {s.column: s for s in scanned.get(asset, ())}
        matched = sorted(c for a, c in per_column if a == asset)
        out.append(
            {
                "asset": asset,
                "status": HELD,
                "rows": rows[asset],
                "data_categories": sorted({v for v in held.values() if v}),
                "columns": [f"{c} ({v})" if v else c for c, v in sorted(held.items())],
                "matched_on": [
                    f"{c}: {_how(by_col[c].function if c in by_col else None)}, "
                    f"{per_column[(asset, c)]} row{'' if per_column[(asset, c)] == 1 else 's'}"
                    for c in matched
                ],
                "lineage": [
                    f"{c}: {by_col[c].via or 'identifier'}" for c in matched if c in by_col
                ],
                "zone": (assets.get(asset) or {}).get("zone"),
                "owner": (assets.get(asset) or {}).get("owner"),
                "reason": None,
            }
        )
    return out


def not_checked_row(asset: str, column: str, reason: str, via: str | None) -> dict[str, Any]:
    """A row of a table (column) the scan could not check."""
    return {
        "asset": asset,
        "status": NOT_CHECKED,
        "rows": None,
        "data_categories": [],
        "columns": [],
        "matched_on": [],
        "lineage": [f"{column}: {via}"] if via else [],
        "zone": None,
        "owner": None,
        "reason": f"{column}: {reason}" if column != "*" else reason,
    }


def render_subject_access(
    answer: SubjectAccess, out_dir: Path | str, *, generated_at: datetime | None = None
) -> list[Path]:
    """Render ``subject-access.html`` (Jinja2, autoescaped) and its CSV/JSON export.

    Raises:
        reports.safety.ReportDataError: for a subject key that is not pseudonymous, or a row
            carrying raw personal data by column.
    """
    from reports.render import _Writer

    w = _Writer(out_dir, generated_at)
    w.guard.rows([{"subject_key": answer.subject_key}], "subject_access")
    tables = w.guard.rows(answer.tables, "subject_access.tables")
    unchecked = w.guard.rows(answer.not_checked, "subject_access.not_checked")
    w.exports(tables + unchecked, COLUMNS, "subject-access")
    w.page(
        "subject_access.html",
        "subject-access.html",
        a=answer,
        tables=tables,
        not_checked=unchecked,
        columns=COLUMNS,
        total=sum(int(t["rows"]) for t in tables),
        nav=False,
        generated_at=generated_at,
    )
    return w.paths


__all__ = [
    "COLUMNS",
    "SUBJECT_KEY_FORM",
    "ScanColumn",
    "SubjectAccess",
    "held_tables",
    "key_problem",
    "not_checked_row",
    "render_subject_access",
]
