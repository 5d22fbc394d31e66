"""The input data model of the renderer: small, frozen, plain-Python records.

The renderer is pure: ``jobs/steps/report.py`` reads the Delta tables with Spark, aggregates them into
small results (counts, top-N detail rows, trends over the last runs) and fills these records; the
renderer only turns them into files. Detail rows are ``dict``s whose keys are the column names of
the tables in DESIGN.md section 5 (extra keys are shown as extra columns).

Sequences given as lists are stored as tuples, dates may be given as ``date``/``datetime`` or ISO
strings. Rows are checked by :mod:`reports.safety` before anything is written.

Example:
    >>> from datetime import date
    >>> s = Section(key="new_flows", title="New flows", rows=[{"source_asset": "crm.customers"}])
    >>> s.total
    1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.processing import Register

Row = Mapping[str, Any]
"""One detail row: column name (DESIGN.md section 5) to value."""


def _tuple(value: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(value) if value is not None else ()


def _rows(value: Sequence[Row] | None) -> tuple[dict[str, Any], ...]:
    return tuple(dict(r) for r in (value or ()))


def as_date(value: date | datetime | str | None) -> date | None:
    """Parse a ``date``, ``datetime`` or ISO string into a ``date`` (``None`` stays ``None``)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def as_datetime(value: date | datetime | str | None) -> datetime | None:
    """Parse a ``datetime``, ``date`` or ISO string into a naive-UTC ``datetime``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        out = value
    elif isinstance(value, date):
        out = datetime(value.year, value.month, value.day)
    else:
        out = datetime.fromisoformat(str(value))
    if out.tzinfo is not None:
        out = out.replace(tzinfo=None) - (out.utcoffset() or (out - out))
    return out


@dataclass(frozen=True)
class TrendPoint:
    """One value of a trend series."""

    run_date: date
    """The run date the value belongs to."""
    value: float
    """The value on that run date (a count, a share, ...)."""


def trend(points: Sequence[Any] | None) -> tuple[TrendPoint, ...]:
    """Normalise a trend series, sorted by date.

    Args:
        points: ``TrendPoint``s, ``(run_date, value)`` pairs or dicts with ``run_date`` and
            ``value`` keys, e.g. one row per run of the last 30 ``run_manifest`` dates.

    Returns:
        The points as ``TrendPoint``s, oldest first.
    """
    out = []
    for p in points or ():
        if isinstance(p, TrendPoint):
            out.append(p)
        elif isinstance(p, Mapping):
            out.append(TrendPoint(as_date(p["run_date"]), float(p["value"])))  # type: ignore[arg-type]
        else:
            out.append(TrendPoint(as_date(p[0]), float(p[1])))  # type: ignore[arg-type]
    return tuple(sorted(out, key=lambda t: t.run_date))


@dataclass(frozen=True)
class Metric:
    """One number on the index; it links to its section's detail page."""

    label: str
    """What is counted, e.g. ``"not_started_on_time"`` or ``"assets with lineage"``."""
    value: float
    """The number shown."""
    of: float | None = None
    """The denominator when the number is a share (``12 of 15``)."""
    group: str | None = None
    """The group of the detail rows the number counts; the link goes to that group's anchor."""
    attention: bool = False
    """Whether a non-zero value needs attention (shown highlighted)."""


@dataclass(frozen=True)
class Section:
    """One section of the nightly report: numbers on the index, a detail page with exports."""

    key: str
    """Slug, also the file stem of the detail page and its exports (``details/<key>.html``)."""
    title: str
    """Human title."""
    rows: tuple[dict[str, Any], ...] = ()
    """Detail rows (top-N when the table is large; ``total`` gives the full count)."""
    columns: tuple[str, ...] = ()
    """Column order of the detail table; defaults to the keys of the rows in first-seen order."""
    total: int | None = None
    """Full number of detail rows in the table; defaults to ``len(rows)``."""
    metrics: tuple[Metric, ...] = ()
    """Numbers shown on the index; defaults to one metric: the total."""
    group_by: str | None = None
    """Column whose values split the detail page into groups (anchors ``g-<value>``)."""
    trend: tuple[TrendPoint, ...] = ()
    """The headline number over the last runs (up to 30), oldest first."""
    trend_label: str = ""
    """Y-axis label of the trend chart."""
    description: str = ""
    """One sentence telling the auditor what the section checks."""
    findings: bool = True
    """Whether rows are findings (non-zero total needs attention) or merely information."""
    not_run: str = ""
    """Why the section has no numbers for the run date: the step that writes them did not
    complete (failed, or has not run). Such a check is never shown as a clean zero."""
    nothing_checked: str = ""
    """Why the check ran but had nothing to examine on the run date (for example no query log
    carried an engine's own lineage, so nothing was compared). Shown instead of the numbers:
    neither a clean zero nor a finding."""

    def __post_init__(self) -> None:
        rows = _rows(self.rows)
        object.__setattr__(self, "rows", rows)
        if not self.columns:
            cols: dict[str, None] = {}
            for r in rows:
                cols.update(dict.fromkeys(r))
            object.__setattr__(self, "columns", tuple(cols))
        else:
            object.__setattr__(self, "columns", tuple(self.columns))
        if self.total is None:
            object.__setattr__(self, "total", len(rows))
        object.__setattr__(self, "trend", trend(self.trend))
        metrics = _tuple(self.metrics) or (
            Metric(self.title, self.total or 0, attention=self.findings),
        )
        object.__setattr__(self, "metrics", metrics)

    @property
    def needs_attention(self) -> bool:
        """True when a number flagged ``attention`` is non-zero, or the check did not run."""
        return bool(self.not_run) or any(m.attention and m.value for m in self.metrics)

    @property
    def truncated(self) -> bool:
        """True when only the top-N of more rows were given."""
        return (self.total or 0) > len(self.rows)


@dataclass(frozen=True)
class RunStep:
    """One row of ``run_manifest``: one job run of the nightly pipeline."""

    job: str
    run_date: date
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str = ""
    inputs_read: int | None = None
    rows_written: int | None = None
    rows_rejected: int | None = None
    engine: str = ""
    version: str = ""
    error: str = ""
    """Why the step failed (its one-line message), when it did."""

    @classmethod
    def from_row(cls, row: Row) -> RunStep:
        """Build a step from a ``run_manifest`` row (unknown keys are ignored)."""
        return cls(
            job=str(row["job"]),
            run_date=as_date(row["run_date"]),  # type: ignore[arg-type]
            started_at=as_datetime(row.get("started_at")),
            finished_at=as_datetime(row.get("finished_at")),
            status=str(row.get("status") or ""),
            inputs_read=row.get("inputs_read"),
            rows_written=row.get("rows_written"),
            rows_rejected=row.get("rows_rejected"),
            engine=str(row.get("engine") or ""),
            version=str(row.get("version") or ""),
            error=str(row.get("error") or ""),
        )

    @property
    def duration_s(self) -> float | None:
        """Duration in seconds, when both timestamps are known."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True)
class GraphView:
    """What the lineage drawing needs: edges, the assets they touch, and the violating flows."""

    edges: tuple[dict[str, Any], ...] = ()
    """``lineage_edges`` rows (source_asset, source_column, target_asset, target_column,
    transformation_type, transformation_subtype, masking, confidence)."""
    assets: tuple[dict[str, Any], ...] = ()
    """``assets`` rows (asset_id, kind, name, owner, zone) for the nodes' kind and zone."""
    violations: tuple[dict[str, Any], ...] = ()
    """``policy_violations`` rows; edges on their ``path`` (or source->target) are marked."""
    level: str = "asset"
    """``"asset"`` draws one node per asset, ``"column"`` one per asset column."""
    max_nodes: int = 60
    """Cap of drawn nodes; a note says how many were left out."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", _rows(self.edges))
        object.__setattr__(self, "assets", _rows(self.assets))
        object.__setattr__(self, "violations", _rows(self.violations))


@dataclass(frozen=True)
class DataMap:
    """The GDPR data map: where each personal-data column and category goes.

    ``reach`` rows are ``lineage_closure`` rows from a personal-data column, joined by the job
    with the reached asset and the last hop's edge: keys ``source_asset, source_column,
    data_category, target_asset, target_column, depth, confidence, path, transformation_type,
    transformation_subtype, masking`` (``zone``, ``owner``, ``kind`` are looked up in ``assets``
    when absent). ``personal_columns`` are ``columns`` rows with a ``data_category``, with the
    asset's ``name``/``zone``/``owner`` when the job has them.
    """

    personal_columns: tuple[dict[str, Any], ...] = ()
    reach: tuple[dict[str, Any], ...] = ()
    assets: tuple[dict[str, Any], ...] = ()
    retention_days: Mapping[str, int] = field(default_factory=dict)
    """Retention per data category (longest matching dotted prefix wins)."""
    zone_purposes: Mapping[str, str] = field(default_factory=dict)
    """What each zone is for (policies.yaml), naming a zone without a processing activity."""
    processing: Register = field(default_factory=Register)
    """The declared organisation, systems and processing activities (the catalog's)."""
    graph: GraphView | None = None
    scope: str = "all personal data"
    """What the map covers (``column crm.customers.email``, ``category user.contact``, ...)."""
    run_date: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "personal_columns", _rows(self.personal_columns))
        object.__setattr__(self, "reach", _rows(self.reach))
        object.__setattr__(self, "assets", _rows(self.assets))
        object.__setattr__(self, "retention_days", dict(self.retention_days))
        object.__setattr__(self, "zone_purposes", dict(self.zone_purposes))
        object.__setattr__(self, "run_date", as_date(self.run_date))


@dataclass(frozen=True)
class DeletionCase:
    """Erasure evidence for one deletion request (Art. 17), by pseudonymous subject key.

    ``request`` is a deletion-request row (deletion_id, subject_key, subject_type, requested_at,
    sla_days); the subject is only ever a keyed hash. ``events`` are ``deletion_events`` rows,
    ``anomalies`` ``deletion_anomalies`` rows, ``residuals`` one row per scanned table
    (asset, column, rows_found, deleted_at, days_overdue; ``rows_found`` 0 for a clean table),
    ``history`` purge/restore rows (action, ts, asset, rows, entry_id, key_id, key_status).
    """

    request: dict[str, Any]
    events: tuple[dict[str, Any], ...] = ()
    anomalies: tuple[dict[str, Any], ...] = ()
    residuals: tuple[dict[str, Any], ...] = ()
    history: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "request", dict(self.request))
        for name in ("events", "anomalies", "residuals", "history"):
            object.__setattr__(self, name, _rows(getattr(self, name)))

    @property
    def deletion_id(self) -> str:
        """The deletion id."""
        return str(self.request["deletion_id"])


@dataclass(frozen=True)
class NightlyReport:
    """Everything the nightly report shows; filled by ``jobs/steps/report.py``."""

    run_date: date
    steps: tuple[RunStep, ...] = ()
    """This run's ``run_manifest`` rows."""
    sections: tuple[Section, ...] = ()
    """Sections in display order (see :mod:`reports.sections` for the standard ones)."""
    history: tuple[RunStep, ...] = ()
    """``run_manifest`` rows of the last 30 run dates (for the run history table)."""
    datamap: DataMap | None = None
    deletions: tuple[DeletionCase, ...] = ()
    sla_days_default: int = 30
    """SLA used for a request without ``sla_days``."""
    product_version: str = ""
    generated_at: datetime | None = None
    """When the report was generated (given by the job: the renderer never reads the clock)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_date", as_date(self.run_date))
        object.__setattr__(
            self,
            "steps",
            tuple(s if isinstance(s, RunStep) else RunStep.from_row(s) for s in self.steps),
        )
        object.__setattr__(
            self,
            "history",
            tuple(s if isinstance(s, RunStep) else RunStep.from_row(s) for s in self.history),
        )
        object.__setattr__(self, "sections", _tuple(self.sections))
        object.__setattr__(self, "deletions", _tuple(self.deletions))
        object.__setattr__(self, "generated_at", as_datetime(self.generated_at))


@dataclass(frozen=True)
class ImpactReport:
    """The downstream impact of a schema change (``compliance impact ... --format html``).

    ``impacted`` rows: asset, column, kind, owner, zone, depth, confidence, path, breaking (bool),
    reason. ``changes`` are human strings such as ``"drop column email"``. ``history`` rows:
    the table's schema events seen in the query logs (event, column, detail, first_seen,
    last_seen, seen_count), oldest first.
    """

    table: str
    changes: tuple[str, ...] = ()
    impacted: tuple[dict[str, Any], ...] = ()
    graph: GraphView | None = None
    generated_at: datetime | None = None
    history: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", _tuple(self.changes))
        object.__setattr__(self, "impacted", _rows(self.impacted))
        object.__setattr__(self, "history", _rows(self.history))
        object.__setattr__(self, "generated_at", as_datetime(self.generated_at))
