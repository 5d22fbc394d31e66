"""HTML audit reports: a pure renderer from plain-Python records to self-contained files.

``jobs/steps/report.py`` reads the Delta tables with Spark, reduces them to small results (counts,
top-N rows, 30-run trends), fills the records of :mod:`reports.model` and calls a renderer; the
renderer never reads a table, the clock or the environment. Rows are plain dicts keyed by the
column names of DESIGN.md section 5 (``Row.asDict()`` output is fine; pandas/numpy values too).

Example (the shapes ``jobs/steps/report.py`` passes; see :mod:`reports.sample` for a complete one)::

    from reports import render_nightly, sections
    from reports.model import NightlyReport, DataMap, DeletionCase, GraphView

    data = NightlyReport(
        run_date=run_date,
        steps=manifest_rows_of_this_run,            # run_manifest rows (dicts)
        history=manifest_rows_of_last_30_dates,     # run_manifest rows
        sections=[
            sections.lineage_coverage(assets_total=..., assets_with_lineage=..., ...),
            sections.rejected_inputs(top_rows, total=n, by_reason={...}, trend=[(d, n), ...]),
            sections.new_flows(rows, trend=...),
            sections.policy_violations(rows, trend=...),
            sections.deletion_anomalies(rows, run_date=run_date, by_check={...}, trend=...),
            sections.residual_findings(rows, trend=...),
            sections.retention_violations(rows, trend=...),
            sections.annotation_findings(rows, trend=...),
            sections.restoration_log(keys_active=..., keys_destroyed=..., entries_written=...,
                                     entries_restored=..., entries_expired=..., rows=key_rows),
        ],
        datamap=DataMap(personal_columns=..., reach=..., assets=..., retention_days=...,
                        zone_purposes=..., processing=catalog.processing,
                        graph=GraphView(edges=..., assets=..., violations=...)),
        deletions=[DeletionCase(request=..., events=..., anomalies=..., residuals=...,
                                history=...)],
        generated_at=now_utc,
    )
    paths = render_nightly(data, reports_dir / run_date.isoformat())

Public API: :func:`render_nightly`, :func:`render_datamap`, :func:`render_impact`.
"""

from __future__ import annotations

from reports.render import render_datamap, render_impact, render_nightly

__all__ = ["render_datamap", "render_impact", "render_nightly"]
