"""The renderer: model records in, self-contained HTML files (plus CSV/JSON exports) out.

Pure apart from writing files into the given folder: it never reads a table, the clock or the
environment. Every page inlines its CSS (with a print stylesheet), uses no script and no network,
and embeds charts and graphs as static SVG. Jinja2 autoescaping is on for every template; input
values pass through :class:`reports.safety.Guard` first.

Output of :func:`render_nightly`::

    index.html                    run summary and sections; every number links to a detail page
    details/<section>.html        the section's rows (grouped), with <section>.csv / .json beside
    datamap.html                  GDPR data map, Article 30 record and lineage graph (+ exports;
                                  the record also as datamap-article30.xlsx)
    deletions.html                erasure evidence per deletion request (+ exports)
    certificates/<request>.html   a one-page certificate of erasure, or the record of why none
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports import article30 as a30
from reports import datamap as dm_view
from reports import deletions as del_view
from reports.charts import trend_img
from reports.exports import json_default, write_exports
from reports.graph import draw_lineage
from reports.model import DataMap, DeletionCase, GraphView, ImpactReport, NightlyReport, Section
from reports.safety import Guard
from reports.sections import group_anchor, percent

_ISO_TS = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")
IMPACT_COLUMNS = (
    "asset",
    "column",
    "kind",
    "owner",
    "zone",
    "depth",
    "confidence",
    "breaking",
    "reason",
    "path",
)


def cell(value: Any, column: str = "") -> str:
    """Text of one table cell (escaped later by the template)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and column != "confidence" else f"{value:.2f}"
    if isinstance(value, str) and _ISO_TS.fullmatch(value):
        value = datetime.fromisoformat(value).replace(tzinfo=None)
    if isinstance(value, datetime):
        if value.second or value.microsecond:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        sep = " → " if column == "path" else ", "
        return sep.join(cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, default=json_default, sort_keys=True)
    return str(value)


def number(value: Any) -> str:
    """A headline number: integers without decimals, shares with one."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}" if value is not None else "—"


#: Columns that hold a point in time; the product keeps every one in UTC.
_TIME_COLUMNS = frozenset({"ts", "first_seen", "last_seen"})


def header(column: object) -> str:
    """A column's heading: blanks for underscores, and ``(UTC)`` after a point in time."""
    name = str(column)
    text = name.replace("_", " ")
    return f"{text} (UTC)" if name.endswith("_at") or name in _TIME_COLUMNS else text


def css_string(text: object) -> Markup:
    """``text`` as the inside of a CSS string: every character that is not a letter, digit,
    blank or one of ``.-_:/`` is a CSS escape, so no quote, backslash or ``</style>`` gets out."""
    safe = "".join(c if c.isalnum() or c in " .-_:/" else f"\\{ord(c):x} " for c in str(text))
    return Markup(safe)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "xml", "css"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell
    env.filters["number"] = number
    env.filters["anchor"] = group_anchor
    env.filters["header"] = header
    env.filters["css_string"] = css_string
    env.globals["percent"] = percent
    env.globals["trend_img"] = trend_img
    return env


class _Writer:
    """Collects written paths and shares the environment and the guard of one render."""

    def __init__(self, out_dir: Path | str, generated_at: datetime | None = None) -> None:
        self.out = Path(out_dir)
        self.generated_at = generated_at
        self.out.mkdir(parents=True, exist_ok=True)
        self.env = _env()
        self.guard = Guard()
        self.paths: list[Path] = []

    def page(self, template: str, path: str, **ctx: Any) -> Path:
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        root = "../" * path.count("/")
        html = self.env.get_template(template).render(
            root=root, redactions=self.guard.redactions, **ctx
        )
        target.write_text(html, encoding="utf-8")
        self.paths.append(target)
        return target

    def exports(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str],
        stem: str,
        *,
        sheet: str | None = None,
    ) -> None:
        """CSV and JSON of a table; with ``sheet`` also XLSX (that sheet title)."""
        sub = Path(stem).parent
        self.paths += write_exports(
            rows,
            columns,
            self.out / sub,
            Path(stem).name,
            formats=("csv", "json", "xlsx") if sheet else ("csv", "json"),
            sheet=sheet,
            created=self.generated_at,
        )

    def clean_graph(self, g: GraphView | None, where: str) -> GraphView | None:
        if g is None:
            return None
        return dataclasses.replace(
            g,
            edges=self.guard.rows(g.edges, f"{where}.edges"),
            assets=self.guard.rows(g.assets, f"{where}.assets"),
            violations=self.guard.rows(g.violations, f"{where}.violations"),
        )


def _clean_section(s: Section, guard: Guard) -> Section:
    guard.check_columns(s.columns, s.key)
    return dataclasses.replace(s, rows=guard.rows(s.rows, s.key))


def _clean_datamap(d: DataMap, w: _Writer) -> DataMap:
    g = w.guard
    return dataclasses.replace(
        d,
        personal_columns=g.rows(d.personal_columns, "datamap.personal_columns"),
        reach=g.rows(d.reach, "datamap.reach"),
        assets=g.rows(d.assets, "datamap.assets"),
        graph=w.clean_graph(d.graph, "datamap.graph"),
    )


def _clean_case(c: DeletionCase, g: Guard) -> DeletionCase:
    return DeletionCase(
        request=g.rows([c.request], "deletions.request")[0],
        events=g.rows(c.events, "deletion_events"),
        anomalies=g.rows(c.anomalies, "deletion_anomalies"),
        residuals=g.rows(c.residuals, "residual_findings"),
        history=g.rows(c.history, "deletions.history"),
    )


MANIFEST_COLUMNS = (
    "run_date",
    "job",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "inputs_read",
    "rows_written",
    "rows_rejected",
    "engine",
    "version",
)


def _manifest_section(data: NightlyReport) -> Section:
    """The run_manifest detail page: this run's steps, then the earlier runs of the history."""
    steps = list(data.steps) + [h for h in data.history if h.run_date != data.run_date]
    rows = [
        {
            **{c: getattr(s, c) for c in MANIFEST_COLUMNS if c != "duration_s"},
            "duration_s": s.duration_s,
        }
        for s in steps
    ]
    return Section(
        key="run_manifest",
        title="Run manifest",
        rows=rows,
        columns=MANIFEST_COLUMNS,
        description="One row per job run: this run's steps first, then the earlier runs.",
        findings=False,
    )


def _datamap_pages(w: _Writer, d: DataMap, *, nav: bool, generated_at: Any) -> None:
    flows = dm_view.flows(d)
    columns = dm_view.by_column(d, flows)
    art30, evidence = a30.record_of(d)
    w.exports(flows, dm_view.FLOW_COLUMNS, "datamap-flows")
    w.exports(art30, a30.COLUMNS, "datamap-article30", sheet="Article 30 record")
    w.exports(evidence, a30.EVIDENCE_COLUMNS, "datamap-article30-evidence")
    w.page(
        "datamap.html",
        "datamap.html",
        dm=d,
        flows=flows,
        columns=columns,
        categories=dm_view.by_category(columns),
        art30=art30,
        art30_columns=a30.COLUMNS,
        art30_fields=a30.FIELDS,
        art30_evidence=a30.EVIDENCE,
        art30_missing=a30.findings(art30),
        missing=a30.MISSING,
        evidence_rows=len(evidence),
        organisation=d.processing.organisation,
        category_assets=dm_view.category_assets,
        category_columns=dm_view.CATEGORY_ASSET_COLUMNS,
        flow_columns=dm_view.FLOW_COLUMNS,
        graph=draw_lineage(d.graph or (dm_view.graph_from_reach(d) if d.reach else None)),
        nav=nav,
        generated_at=generated_at,
    )


def _deletion_pages(w: _Writer, data: NightlyReport, cases: Sequence[DeletionCase]) -> None:
    views = [
        del_view.build_case(c, run_date=data.run_date, sla_default=data.sla_days_default)
        for c in cases
    ]
    views.sort(key=lambda v: (not v.attention, str(v.summary["requested_at"]), v.case.deletion_id))
    summary = [v.summary for v in views]
    w.exports(summary, del_view.SUMMARY_COLUMNS, "deletions")

    def flat(attr: str) -> tuple[list[dict[str, Any]], list[str]]:
        rows = [
            {"deletion_id": v.case.deletion_id, **r} for v in views for r in getattr(v.case, attr)
        ]
        cols: dict[str, None] = {"deletion_id": None}
        for r in rows:
            cols.update(dict.fromkeys(r))
        return rows, list(cols)

    for attr, stem in (
        ("events", "deletion-events"),
        ("anomalies", "deletion-anomalies"),
        ("residuals", "deletion-residuals"),
        ("history", "deletion-history"),
    ):
        w.exports(*flat(attr), stem)
    timelines = {
        v.case.deletion_id: del_view.timeline_svg(v, run_date=data.run_date) for v in views
    }
    for v in views:
        w.page(
            "certificate.html",
            v.certificate_path,
            data=data,
            v=v,
            nav=False,
            generated_at=data.generated_at,
        )
    w.page(
        "deletions.html",
        "deletions.html",
        data=data,
        views=views,
        summary=summary,
        summary_columns=del_view.SUMMARY_COLUMNS,
        timelines=timelines,
        nav=True,
        generated_at=data.generated_at,
    )


def render_nightly(data: NightlyReport, out_dir: Path | str) -> list[Path]:
    """Render the nightly audit report into ``out_dir``.

    Args:
        data: Everything the report shows (see :mod:`reports.model`).
        out_dir: Folder to write into (created if missing); the job picks one per run date.

    Returns:
        Every file written, pages first in the order written.

    Raises:
        reports.safety.ReportDataError: if the data holds key material or raw personal data.
    """
    w = _Writer(out_dir, data.generated_at)
    sections = [_clean_section(s, w.guard) for s in data.sections]
    if not any(s.key == "run_manifest" for s in sections):
        sections.append(_clean_section(_manifest_section(data), w.guard))
    datamap = _clean_datamap(data.datamap or DataMap(run_date=data.run_date), w)
    cases = [_clean_case(c, w.guard) for c in data.deletions]
    for s in sections:
        w.exports(s.rows, s.columns, f"details/{s.key}")
    # Pages are rendered after every value went through the guard, so the redaction count in
    # each footer is the report's total.
    _datamap_pages(w, datamap, nav=True, generated_at=data.generated_at)
    _deletion_pages(w, data, cases)
    for s in sections:
        groups: dict[str, list[dict[str, Any]]] = {}
        if s.group_by:
            for r in s.rows:
                groups.setdefault(str(r.get(s.group_by)), []).append(r)
        w.page(
            "detail.html",
            f"details/{s.key}.html",
            s=s,
            groups=groups,
            nav=True,
            data=data,
            generated_at=data.generated_at,
        )
    keys = {s.key for s in sections}
    w.page(
        "index.html",
        "index.html",
        data=data,
        sections=[s for s in sections if s.key != "run_manifest"],
        rejected_page="rejected_inputs" if "rejected_inputs" in keys else "run_manifest",
        has_datamap=True,
        cases=len(cases),
        nav=True,
        generated_at=data.generated_at,
    )
    pages = [p for p in w.paths if p.suffix == ".html"]
    return pages + [p for p in w.paths if p.suffix != ".html"]


def render_datamap(
    data: DataMap, out_dir: Path | str, *, generated_at: datetime | None = None
) -> list[Path]:
    """Render the GDPR data map alone (``compliance datamap ... --format html``).

    Returns:
        ``datamap.html`` and its CSV/JSON (and for the Article 30 record XLSX) exports.
    """
    w = _Writer(out_dir, generated_at)
    _datamap_pages(w, _clean_datamap(data, w), nav=False, generated_at=generated_at)
    return w.paths


HISTORY_COLUMNS = ("event", "column", "detail", "first_seen", "last_seen", "seen_count")


def render_impact(data: ImpactReport, out_dir: Path | str) -> list[Path]:
    """Render the impact report of a schema change (``compliance impact ... --format html``).

    Returns:
        ``impact.html`` and ``impact.csv`` / ``impact.json``.
    """
    w = _Writer(out_dir)
    rows = w.guard.rows(data.impacted, "impact")
    rows.sort(key=lambda r: (not r.get("breaking"), r.get("depth") or 0, str(r.get("asset"))))
    extra = [c for r in rows for c in r if c not in IMPACT_COLUMNS]
    columns = list(IMPACT_COLUMNS) + list(dict.fromkeys(extra))
    w.exports(rows, columns, "impact")
    w.page(
        "impact.html",
        "impact.html",
        data=data,
        rows=rows,
        columns=columns,
        breaking=sum(1 for r in rows if r.get("breaking")),
        history=w.guard.rows(data.history, "impact.history"),
        history_columns=HISTORY_COLUMNS,
        graph=draw_lineage(w.clean_graph(data.graph, "impact.graph")),
        nav=False,
        generated_at=data.generated_at,
    )
    return w.paths


__all__ = ["cell", "number", "render_datamap", "render_impact", "render_nightly"]
