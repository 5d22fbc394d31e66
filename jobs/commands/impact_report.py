"""``compliance impact ... --format html``: the impact answer rendered with :mod:`reports`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jobs.commands.impact_answer import ImpactAnswer
from reports import render_impact
from reports.model import GraphView, ImpactReport


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")[:80]


def write_impact_html(reports: str | Path, answer: ImpactAnswer, out: str | None) -> Path:
    """Render the impact report (under ``reports`` unless ``out`` is given); returns the path of
    ``impact.html``."""
    rows = []
    edges = []
    for r in answer.rows:
        cols = r.get("columns") or []
        rows.append(
            {
                "asset": r["asset"],
                "column": ", ".join(cols) or None,
                "kind": r.get("kind"),
                "owner": r.get("owner"),
                "zone": r.get("zone"),
                "depth": r.get("depth"),
                "path": r.get("path"),
                "evidence": r.get("evidence"),
                # the same rule as the text and JSON answers: column lineage confirms a break
                "breaking": r.get("evidence") == "confirmed",
                "reason": (
                    "a changed column flows into it (column lineage)"
                    if r.get("evidence") == "confirmed"
                    else "reads the changed table (table-level lineage only: possibly affected)"
                ),
            }
        )
        path = [p.rsplit(".", 1)[0] if p.count(".") >= 2 else p for p in (r.get("path") or [])]
        edges += [
            {"source_asset": a, "target_asset": b}
            for a, b in zip(path, path[1:], strict=False)
            if a != b
        ]
    assets = [
        {"name": r["asset"], "kind": r.get("kind"), "zone": r.get("zone"), "owner": r.get("owner")}
        for r in answer.rows
    ]
    report = ImpactReport(
        table=answer.table,
        changes=tuple(answer.changes),
        impacted=tuple(rows),
        graph=GraphView(
            edges=tuple({tuple(sorted(e.items())): e for e in edges}.values()), assets=tuple(assets)
        ),
        generated_at=datetime.now(timezone.utc),
        history=tuple(answer.history),
    )
    folder = Path(out) if out else Path(reports) / f"impact-{_slug(answer.table)}"
    render_impact(report, folder)
    return folder / "impact.html"
