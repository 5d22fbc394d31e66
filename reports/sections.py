"""Builders for the standard sections of the nightly report.

Each builder takes the (small, already aggregated) rows of one table as the job collected them and
returns a :class:`~reports.model.Section` with the numbers shown on the index. ``total`` and the
``by_*`` counts let the job pass full-table counts computed in Spark while ``rows`` is only the
top-N; when they are omitted they are computed from ``rows``.

Example:
    >>> s = deletion_anomalies([{"deletion_id": "d1", "check": "idle",
    ...                          "first_detected": "2026-01-01", "detail": ""}],
    ...                        run_date="2026-01-05")
    >>> s.rows[0]["age_days"], s.metrics[0].label
    (4, 'idle')
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from reports.model import Metric, Row, Section, as_date
from reports.safety import drop_raw

SECTION_ORDER = (
    "lineage_coverage",
    "rejected_inputs",
    "new_flows",
    "lineage_disagreements",
    "policy_violations",
    "article30_record",
    "deletion_anomalies",
    "residual_findings",
    "retention_violations",
    "annotation_findings",
    "restoration_log",
)
"""Keys of the standard sections, in the order the index shows them."""


def group_anchor(value: Any) -> str:
    """The HTML id of a group on a detail page (``g-`` and a slug of the value)."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")
    return f"g-{slug or 'none'}"


def _grouped(
    key: str,
    title: str,
    rows: Sequence[Row],
    group_by: str,
    *,
    counts: Mapping[str, int] | None,
    total: int | None,
    trend: Sequence[Any],
    description: str,
    trend_label: str = "findings",
    columns: Sequence[str] = (),
) -> Section:
    if counts is None:
        counts = Counter(str(r.get(group_by)) for r in rows)
    metrics = tuple(
        Metric(str(g), n, group=str(g), attention=True)
        for g, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    if total is None:
        total = sum(counts.values()) if counts else len(rows)
    return Section(
        key=key,
        title=title,
        rows=rows,
        columns=tuple(columns),
        total=total,
        metrics=(Metric("total", total, attention=True), *metrics),
        group_by=group_by,
        trend=trend,
        trend_label=trend_label,
        description=description,
    )


def lineage_coverage(
    *,
    assets_total: int,
    assets_with_lineage: int,
    columns_total: int,
    columns_with_lineage: int,
    queries_total: int,
    queries_parsed: int,
    rows: Sequence[Row] = (),
    trend: Sequence[Any] = (),
) -> Section:
    """Lineage coverage: assets and columns with lineage, share of queries parsed.

    Args:
        rows: One row per asset (e.g. asset_id, name, kind, zone, columns,
            columns_with_lineage) for the detail page.
        trend: Share of columns with lineage (percent) per run.
    """
    return Section(
        key="lineage_coverage",
        title="Lineage coverage",
        rows=rows,
        metrics=(
            Metric("assets with lineage", assets_with_lineage, of=assets_total),
            Metric("columns with lineage", columns_with_lineage, of=columns_total),
            Metric("queries parsed", queries_parsed, of=queries_total),
        ),
        trend=trend,
        trend_label="% columns",
        description="How much of the catalog the discovered lineage covers.",
        findings=False,
    )


def rejected_inputs(
    rows: Sequence[Row],
    *,
    total: int | None = None,
    by_reason: Mapping[str, int] | None = None,
    trend: Sequence[Any] = (),
) -> Section:
    """Rejected input rows by reason; the ``raw`` text is dropped (it may hold personal data)."""
    return _grouped(
        "rejected_inputs",
        "Rejected inputs",
        drop_raw(rows),
        "reason",
        counts=by_reason,
        total=total,
        trend=trend,
        trend_label="rows rejected",
        description="Input rows that could not be used, with the file, location and reason.",
    )


def _listed(
    key: str,
    title: str,
    rows: Sequence[Row],
    total: int | None,
    trend: Sequence[Any],
    texts: tuple[str, str],
) -> Section:
    """A findings section that lists its rows; ``texts`` is (trend label, description)."""
    label, description = texts
    return Section(
        key=key,
        title=title,
        rows=rows,
        total=total,
        trend=trend,
        trend_label=label,
        description=description,
    )


def new_flows(
    rows: Sequence[Row], *, total: int | None = None, trend: Sequence[Any] = ()
) -> Section:
    """Flows of personal data not seen in the previous night's closure."""
    return _listed(
        "new_flows",
        "New flows",
        rows,
        total,
        trend,
        ("new flows", "Flows not seen in the previous night's closure: review each."),
    )


def lineage_disagreements(
    rows: Sequence[Row], *, total: int | None = None, trend: Sequence[Any] = ()
) -> Section:
    """Column flows on which an engine's own lineage and the parsed SQL of a query disagree."""
    return _listed(
        "lineage_disagreements",
        "Engine and SQL lineage disagree",
        rows,
        total,
        trend,
        (
            "disagreements",
            "Flows the engine reported for a query and the SQL parser did not find in it "
            "(found by: engine), or the other way round (found by: sql). Both stay in the "
            "lineage as their own signals: review which is right.",
        ),
    )


def policy_violations(
    rows: Sequence[Row],
    *,
    total: int | None = None,
    by_policy: Mapping[str, int] | None = None,
    group_by: str = "policy",
    trend: Sequence[Any] = (),
) -> Section:
    """Flows that break a policy zone, with their paths (grouped by ``group_by`` when present)."""
    if rows and group_by not in rows[0] and by_policy is None:
        return Section(
            key="policy_violations",
            title="Policy violations",
            rows=rows,
            total=total,
            trend=trend,
            trend_label="violations",
            description="Flows of personal data into a zone its policy does not allow.",
        )
    return _grouped(
        "policy_violations",
        "Policy violations",
        rows,
        group_by,
        counts=by_policy,
        total=total,
        trend=trend,
        trend_label="violations",
        description="Flows of personal data into a zone its policy does not allow.",
    )


def article30_record(
    rows: Sequence[Row], *, activities: int = 0, trend: Sequence[Any] = ()
) -> Section:
    """The declarations the Article 30 record misses (:func:`reports.article30.flag_rows`),
    grouped by processing activity; ``activities`` is the number of rows of the record."""
    s = _grouped(
        "article30_record",
        "Article 30 record",
        rows,
        "activity",
        counts=None,
        total=None,
        trend=trend,
        trend_label="declarations missing",
        description=(
            "Processing the catalog does not declare: personal data in a zone or system no "
            "processing activity covers, special categories without an Art. 9(2) condition, "
            "third-country transfers without a safeguard (the record is on the data map)."
        ),
        columns=("activity", "name", "field", "detail"),
    )
    total, *groups = s.metrics
    return replace(
        s,
        metrics=(
            Metric("declarations missing", total.value, attention=True),
            Metric("record rows", activities),
            *groups,
        ),
    )


def deletion_anomalies(
    rows: Sequence[Row],
    *,
    run_date: date | str,
    total: int | None = None,
    by_check: Mapping[str, int] | None = None,
    trend: Sequence[Any] = (),
) -> Section:
    """Deletion anomalies by check, each with its age in days since first detected."""
    today = as_date(run_date)
    out = []
    for r in rows:
        r = dict(r)
        first = as_date(r.get("first_detected"))
        r["age_days"] = (today - first).days if first and today else None
        out.append(r)
    out.sort(key=lambda r: (str(r.get("check")), -(r["age_days"] or 0)))
    return _grouped(
        "deletion_anomalies",
        "Deletion anomalies",
        out,
        "check",
        counts=by_check,
        total=total,
        trend=trend,
        trend_label="open anomalies",
        description="Deletions that did not start on time, stalled, looped or did not complete.",
    )


def residual_findings(
    rows: Sequence[Row], *, total: int | None = None, trend: Sequence[Any] = ()
) -> Section:
    """Rows of deleted subjects still found downstream (lineage-driven residual scan)."""
    present = sum(int(r.get("rows_found") or 0) for r in rows)
    n = len(rows) if total is None else total
    return Section(
        key="residual_findings",
        title="Residual findings",
        rows=rows,
        total=n,
        metrics=(
            Metric("findings", n, attention=True),
            Metric("rows still present", present, attention=True),
        ),
        trend=trend,
        trend_label="findings",
        description="Copies of deleted data still present in downstream tables after the SLA.",
    )


def retention_violations(
    rows: Sequence[Row], *, total: int | None = None, trend: Sequence[Any] = ()
) -> Section:
    """Data kept longer than its category's retention (including Delta's own retention)."""
    return _listed(
        "retention_violations",
        "Retention violations",
        rows,
        total,
        trend,
        ("violations", "Data kept longer than the retention time limit of its category."),
    )


def annotation_findings(
    rows: Sequence[Row],
    *,
    total: int | None = None,
    group_by: str = "check",
    trend: Sequence[Any] = (),
) -> Section:
    """Static and dynamic deletion-annotation validation findings."""
    if rows and group_by not in rows[0]:
        return Section(
            key="annotation_findings",
            title="Annotation findings",
            rows=rows,
            total=total,
            trend=trend,
            description="Deletion annotations that are missing or disagree with "
            "the observed edges.",
        )
    return _grouped(
        "annotation_findings",
        "Annotation findings",
        rows,
        group_by,
        counts=None,
        total=total,
        trend=trend,
        description="Deletion annotations that are missing or disagree with the observed edges.",
    )


def restoration_log(
    *,
    keys_active: int,
    keys_destroyed: int,
    entries_written: int,
    entries_restored: int,
    entries_expired: int,
    rows: Sequence[Row] = (),
    keys_overdue: int = 0,
    trend: Sequence[Any] = (),
) -> Section:
    """Restoration-log health: keys and entries written, restored and expired.

    Args:
        rows: Key status rows (key_id, created_at, destroy_after, status); never key material.
        keys_overdue: Keys past their 90-day destruction date that still exist (a finding).
        trend: Entries written per run.
    """
    return Section(
        key="restoration_log",
        title="Restoration-log health",
        rows=rows,
        metrics=(
            Metric("active keys", keys_active),
            Metric("destroyed keys", keys_destroyed),
            Metric("keys overdue for destruction", keys_overdue, attention=True),
            Metric("entries written", entries_written),
            Metric("entries restored", entries_restored),
            Metric("entries expired (unreadable)", entries_expired),
        ),
        trend=trend,
        trend_label="entries written",
        description="Encrypted restoration entries and the daily keys that make them expire.",
        findings=False,
    )


REVIEW_COLUMNS = (
    "decided_at",
    "decision",
    "node",
    "cascade",
    "nodes_hidden",
    "reviewer",
    "reason",
)


def exclusions(rows: Sequence[Row]) -> Section:
    """The review decisions the closure applies: who excluded or re-included what, and why."""
    return Section(
        key="review_decisions",
        title="Exclusions and overrides",
        rows=rows,
        columns=REVIEW_COLUMNS,
        description=(
            "Review decisions the closure applies (the latest per node wins). An excluded node is "
            "left out of the lineage, the data map, the policy checks and the residual scans; with "
            "cascade, so is every node it alone reaches (nodes_hidden counts them, the node "
            "included). Decisions are never deleted: an include overrides an earlier exclude."
        ),
        findings=False,
    )


VALIDATION_COLUMNS = (
    "kind",
    "status",
    "expectation",
    "column",
    "parameters",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
)


def input_validation(
    rows: Sequence[Row],
    *,
    rejected_by_kind: Mapping[str, int] | None = None,
    trend: Sequence[Any] = (),
) -> Section:
    """The Great Expectations results of the run date's landing, one group per input kind.

    ``rows`` are ``input_expectations`` rows (kind, expectation, column, parameters, success,
    element_count, unexpected_count); each gets a text ``status`` (passed / failed) and the
    share of unexpected rows. ``rejected_by_kind``: the lines each kind sent to
    ``rejected_inputs`` on the run date (its page lists them with file, line and reason).
    """
    shown = []
    for r in rows:
        n, bad = r.get("element_count") or 0, r.get("unexpected_count") or 0
        shown.append(
            {
                "kind": r.get("kind"),
                "status": "passed" if r.get("success") else "failed",
                "expectation": r.get("expectation"),
                "column": r.get("column") or None,
                "parameters": r.get("parameters") or "{}",
                "element_count": n,
                "unexpected_count": bad,
                "unexpected_percent": percent(bad, n, digits=2),
            }
        )
    failed = Counter(str(r["kind"]) for r in shown if r["status"] == "failed")
    rejected = dict(rejected_by_kind or {})
    metrics = [
        Metric("expectations checked", len(shown)),
        Metric("expectations failed", sum(failed.values()), attention=True),
    ]
    for kind in sorted({str(r["kind"]) for r in shown} | set(rejected)):
        metrics.append(Metric(f"{kind}: lines rejected", rejected.get(kind, 0), group=kind))
    return Section(
        key="input_expectations",
        title="Input validation",
        rows=shown,
        columns=VALIDATION_COLUMNS,
        metrics=tuple(metrics),
        group_by="kind",
        trend=trend,
        trend_label="expectations failed",
        description=(
            "Each input kind's Great Expectations suite, checked against every row as it was "
            "landed (in the pass that routes the rows): every expectation with its parameters, "
            "how many rows it checked and how many did not meet it. Rows "
            "that fail a rule are not landed; each is listed with its file, line and reason on "
            "the Rejected inputs page. Unexpected values themselves are not kept (they may be "
            "personal data)."
        ),
        findings=False,
    )


def percent(part: float, whole: float, *, digits: int = 0) -> str:
    """A share as text that never rounds a non-zero part to 0% nor a shortfall to 100%.

    >>> percent(9976, 10000), percent(1, 40000, digits=2), percent(0, 5), percent(3, 0)
    ('>99%', '<0.01%', '0%', '-')
    """
    if not whole:
        return "-"
    text = f"{100.0 * part / whole:.{digits}f}"
    step = f"{10.0**-digits:.{digits}f}"
    if part and float(text) == 0:
        return f"<{step}%"
    if part < whole and float(text) == 100:
        return f">{100 - 10.0**-digits:.{digits}f}%"
    return f"{text}%"
