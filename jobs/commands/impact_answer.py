"""The answer of ``compliance impact``: what a schema change breaks, as text, CSV and JSON.

Plain Python (no Spark): the Spark path (:mod:`jobs.commands.explore`) and the Spark-free path
(:mod:`jobs.commands.answers_impact`) both build an :class:`ImpactAnswer` from the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jobs.errors import UsageError

EVIDENCE_TEXT = {
    "confirmed": "[confirmed: column lineage]  ",
    "possible": "[possible: table-level lineage only]  ",
}
CSV_COLUMNS = ("asset", "kind", "owner", "zone", "evidence", "depth", "columns", "path")


@dataclass
class ImpactAnswer:
    """The answer to ``compliance impact``."""

    table: str
    changes: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    """The table's schema events seen in the query logs (``schema_events``), oldest first."""

    def text(self) -> str:
        """Grouped by kind and owner; says "safe to change" when nothing is affected."""
        head = f"impact of {', '.join(self.changes) or 'a change'} on {self.table}"
        if not self.rows:
            lines = [
                f"{head}: nothing downstream depends on it as far as the lineage knows: safe to change"
            ]
        else:
            lines = [f"{head}: {len(self.rows)} affected assets"]
        lines += self._affected_lines()
        if self.history:
            lines.append(f"  schema changes of {self.table} seen in the query logs:")
            lines += [f"    {_event_text(e)}" for e in self.history]
        return "\n".join(lines)

    def _affected_lines(self) -> list[str]:
        lines: list[str] = []
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in self.rows:
            groups.setdefault((r["kind"] or "unknown", r["owner"] or "unowned"), []).append(r)
        for (kind, owner), rows in sorted(groups.items()):
            lines.append(f"  {kind} owned by {owner}:")
            for r in rows:
                cols = f" ({', '.join(r['columns'])})" if r["columns"] else ""
                how = EVIDENCE_TEXT.get(r.get("evidence") or "", "")
                lines.append(
                    f"    {r['asset']}{cols}  depth {r['depth']}  {how}via {' -> '.join(r['path'])}"
                )
        return lines

    def csv(self) -> str:
        """One line per affected asset: asset, kind, owner, zone, evidence, depth, columns, path."""
        import csv  # noqa: PLC0415
        import io  # noqa: PLC0415

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in self.rows:
            w.writerow(
                [
                    *(r.get(c) for c in CSV_COLUMNS[:6]),
                    " ".join(r.get("columns") or []),
                    " -> ".join(r.get("path") or []),
                ]
            )
        return buf.getvalue()

    def json(self) -> str:
        """Deterministic JSON."""
        return json.dumps(
            {
                "table": self.table,
                "changes": self.changes,
                "affected": self.rows,
                "schema_history": self.history,
            },
            sort_keys=True,
            indent=2,
            default=str,
        )


HISTORY_COLUMNS = ("event", "column", "detail", "first_seen", "last_seen", "seen_count")


def unknown_columns(table: str, columns: list[str], known: set[str]) -> None:
    """Refuse changed columns that are neither in the lineage nor in the catalog (``known``).

    Raises:
        UsageError: naming every unknown column, with the closest known names.
    """
    names = sorted(known - {""})
    unknown = [c for c in columns if c not in names]
    if unknown:
        import difflib  # noqa: PLC0415 - only on this error

        hints = []
        for c in unknown:
            near = difflib.get_close_matches(c, names, n=2)
            hints.append(f"{c!r}" + (f" (did you mean {' or '.join(near)}?)" if near else ""))
        raise UsageError(f"not a column of {table}: {', '.join(hints)}")


def parse_changes(
    drop: list[str], rename: list[str], retype: list[str]
) -> tuple[list[str], list[str]]:
    """The changed columns and the change texts of ``--drop/--rename/--retype-column``.

    Raises:
        UsageError: a rename or retype not of the form ``OLD=NEW`` / ``COLUMN=TYPE``.
    """
    columns: list[str] = list(drop)
    changes = [f"drop {c}" for c in drop]
    for verb, flag, shape, specs in (
        ("rename", "--rename-column", "OLD=NEW", rename),
        ("retype", "--retype-column", "COLUMN=TYPE", retype),
    ):
        for spec in specs:
            if "=" not in spec:
                raise UsageError(f"{flag} expects {shape}, got {spec!r}")
            col, to = spec.split("=", 1)
            columns.append(col)
            changes.append(f"{verb} {col} to {to}")
    return columns, changes


def _event_text(e: dict[str, Any]) -> str:
    what = {
        "create_table": "created",
        "drop_table": "dropped",
        "rename_table": f"renamed to {e.get('detail')}",
        "add_column": f"column {e.get('column')} added ({e.get('detail')})",
        "drop_column": f"column {e.get('column')} dropped",
        "rename_column": f"column {e.get('column')} renamed to {e.get('detail')}",
    }.get(e["event"], e["event"])
    seen = e.get("first_seen")
    when = f"first seen {seen:%Y-%m-%d %H:%M} UTC" if seen is not None else "time unknown"
    return f"{what}: {when}, {e.get('seen_count')} time(s)"
