"""View model of the deletion evidence page: status, SLA and a timeline per request.

Pure: the "now" of a report is its run date, given by the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from markupsafe import Markup, escape

from reports.model import DeletionCase, as_datetime

SUMMARY_COLUMNS = (
    "deletion_id",
    "subject_key",
    "subject_type",
    "requested_at",
    "sla_days",
    "due_at",
    "completed_at",
    "status",
    "days_late",
    "anomalies",
    "tables_scanned",
    "tables_unverifiable",
    "residual_rows",
    "certificate",
)
#: The request-handling facts of the erasure record, as (request field, label); a fact the
#: inputs do not carry is shown "not recorded", never guessed.
HANDLING = (
    ("channel", "Channel"),
    ("identity_verification", "Identity verification (Art. 12(6))"),
    ("decision", "Decision"),
    ("exemption", "Exemption or refusal ground (Art. 17(3), 12(5))"),
    ("approved_by", "Approved by"),
    ("executed_by", "Executed by"),
    ("recipients_notified_at", "Recipients notified (Art. 19)"),
    ("subject_informed_at", "Subject informed of the outcome (Art. 12(3))"),
)
NOT_RECORDED = "not recorded"
EVENT_COLOURS = {
    "scheduled": "#1f77b4",  # every marker at least 4.5:1 against the white chart
    "started": "#2e7d32",
    "progress": "#00796b",
    "rerun": "#8c6d00",
    "exception": "#c0392b",
    "completed": "#1b7837",
}


@dataclass(frozen=True)
class CaseView:
    """One deletion request with its derived status."""

    case: DeletionCase
    summary: dict[str, Any]
    timeline: tuple[dict[str, Any], ...]
    """Events and the SLA deadline in time order, each with ``day`` since the request."""

    @property
    def anchor(self) -> str:
        """HTML id of the request's block."""
        return "d-" + "".join(ch if ch.isalnum() else "-" for ch in self.case.deletion_id)

    @property
    def certified(self) -> bool:
        """Whether the record supports a certificate of erasure: completed, at least one table
        scanned, no residual row, no table left unverifiable, not refused."""
        s = self.summary
        return (
            str(s["status"]).startswith("completed")
            and s["tables_scanned"] > 0
            and not s["residual_rows"]
            and not s["tables_unverifiable"]
        )

    @property
    def why_not_certified(self) -> list[str]:
        """What stands between the record and a certificate (empty when certified)."""
        s = self.summary
        reasons = []
        if not str(s["status"]).startswith("completed"):
            reasons.append(f"the request is {s['status']}")
        if not s["tables_scanned"]:
            reasons.append("no table was scanned for residual data")
        if s["residual_rows"]:
            reasons.append(f"{s['residual_rows']} residual row(s) were found")
        if s["tables_unverifiable"]:
            reasons.append(f"{s['tables_unverifiable']} table(s) could not be verified")
        return reasons

    @property
    def clean_scans(self) -> list[dict[str, Any]]:
        """The residual-scan rows of tables read and found clean."""
        return [r for r in self.case.residuals if r.get("status") == "clean"]

    @property
    def other_scans(self) -> list[dict[str, Any]]:
        """The residual-scan rows of tables not found clean (residual rows, unverifiable)."""
        return [r for r in self.case.residuals if r.get("status") != "clean"]

    @property
    def certificate_path(self) -> str:
        """The certificate page of the request, relative to the report folder."""
        return f"certificates/{self.anchor}.html"

    @property
    def attention(self) -> bool:
        """Whether the request needs an auditor's attention."""
        return self.summary["status"] in {"overdue", "completed late"} or bool(
            self.summary["anomalies"]
            or self.summary["residual_rows"]
            or self.summary.get("tables_unverifiable")
        )


def _day(ts: datetime | None, start: datetime | None) -> float | None:
    if ts is None or start is None:
        return None
    return round((ts - start).total_seconds() / 86400, 1)


def build_case(case: DeletionCase, *, run_date: date, sla_default: int) -> CaseView:
    """Derive the status of a deletion request as of the run date.

    Status is ``completed on time``, ``completed late``, ``in progress`` (not completed, not yet
    due), ``overdue`` (not completed after the SLA) or ``refused`` (the request's ``decision``);
    ``days_late`` is how many whole days past the due date it was completed, or is still open.
    Times are the events' own ``ts`` (when the event happened), not ``scheduled_for``.
    """
    req = case.request
    requested = as_datetime(req.get("requested_at"))
    sla = int(req.get("sla_days") or sla_default)
    due = requested + timedelta(days=sla) if requested else None
    events = sorted(
        ({**e, "ts": as_datetime(e.get("ts"))} for e in case.events),
        key=lambda e: (e["ts"] is None, e["ts"] or datetime.min),
    )
    completed = [e["ts"] for e in events if e.get("event") == "completed" and e["ts"]]
    completed_at = completed[-1] if completed else None
    now = datetime.combine(run_date, time.max)
    if completed_at:
        status = "completed on time" if due is None or completed_at <= due else "completed late"
        late = (completed_at - due) if due is not None and completed_at > due else None
    else:
        status = "overdue" if due is not None and now > due else "in progress"
        late = (now - due) if status == "overdue" else None
    if req.get("decision") == "refused":
        status, late = "refused", None
    summary = {
        "deletion_id": case.deletion_id,
        "subject_key": req.get("subject_key"),
        "subject_type": req.get("subject_type"),
        "requested_at": requested,
        "sla_days": sla,
        "due_at": due,
        "completed_at": completed_at,
        "status": status,
        "days_late": late.days if late is not None else None,
        "anomalies": len(case.anomalies),
        "tables_scanned": sum(r.get("status") != "unverifiable" for r in case.residuals),
        "tables_unverifiable": sum(r.get("status") == "unverifiable" for r in case.residuals),
        "residual_rows": sum(int(r.get("rows_found") or 0) for r in case.residuals),
    }
    summary["handling"] = tuple(
        (label, req.get(field) if req.get(field) not in (None, "") else NOT_RECORDED)
        for field, label in HANDLING
    )
    timeline: list[dict[str, Any]] = (
        [{"ts": requested, "event": "requested", "detail": "", "points_deleted": None}]
        if requested
        else []
    )
    timeline += [
        {
            "ts": e["ts"],
            "event": e.get("event"),
            "detail": "; ".join(
                t
                for t in (
                    e.get("detail") or "",
                    f"scheduled for {as_datetime(e['scheduled_for']):%Y-%m-%d %H:%M}"
                    if e.get("scheduled_for")
                    else "",
                )
                if t
            ),
            "points_deleted": e.get("points_deleted"),
            "object": e.get("object_key"),
        }
        for e in events
    ]
    if due:
        timeline.append(
            {
                "ts": due,
                "event": "SLA due",
                "detail": f"{sla} days",
                "points_deleted": None,
                "deadline": True,
            }
        )
    timeline.sort(key=lambda e: (e["ts"] is None, e["ts"] or datetime.min))
    for e in timeline:
        e["day"] = _day(e["ts"], requested)
    view = CaseView(case=case, summary=summary, timeline=tuple(timeline))
    summary["certificate"] = "issued" if view.certified else "not issued"
    return view


def timeline_svg(view: CaseView, *, run_date: date, width: int = 640) -> Markup:
    """A static SVG strip of the request's lifecycle: events as dots, the SLA as a red line."""
    pts = [e for e in view.timeline if e["ts"] is not None]
    if not pts:
        return Markup("")
    start = pts[0]["ts"]
    run_end = datetime.combine(run_date, time(23, 59))
    end = max([e["ts"] for e in pts] + [run_end])
    span = max((end - start).total_seconds(), 1.0)
    left, right, y = 10, width - 10, 22

    def x(ts: datetime) -> float:
        return left + (right - left) * (ts - start).total_seconds() / span

    parts = [
        (
            f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="44" '
            f'role="img"><title>Lifecycle of deletion {escape(view.case.deletion_id)}</title>'
        ),
        f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="#999"/>',
        f'<text x="{left}" y="40" font-size="9" fill="#555">{start:%Y-%m-%d}</text>',
        (
            f'<text x="{right}" y="40" font-size="9" fill="#555" text-anchor="end">'
            f"{end:%Y-%m-%d}</text>"
        ),
        (
            f'<line class="run" x1="{x(run_end):.1f}" y1="12" x2="{x(run_end):.1f}" y2="32" '
            f'stroke="#555" stroke-dasharray="2 2"><title>run date {run_date}</title></line>'
        ),
        (
            f'<text x="{x(run_end) - 3:.1f}" y="10" font-size="9" fill="#555" text-anchor="end">'
            "run</text>"
        ),
    ]
    for e in pts:
        cx = x(e["ts"])
        tip = escape(f"{e['ts']:%Y-%m-%d %H:%M} {e['event']} {e.get('detail') or ''}".strip())
        if e.get("deadline"):
            parts.append(
                f'<line class="sla" x1="{cx:.1f}" y1="4" x2="{cx:.1f}" y2="32" stroke="#c0392b" '
                f'stroke-width="2"><title>{tip}</title></line>'
                f'<text x="{cx + 3 if cx < right - 30 else cx - 3:.1f}" y="10" font-size="9" '
                f'fill="#c0392b" text-anchor="{"start" if cx < right - 30 else "end"}">SLA</text>'
            )
        else:
            colour = EVENT_COLOURS.get(str(e["event"]), "#333")
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{y}" r="5" fill="{colour}" stroke="#fff">'
                f"<title>{tip}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
