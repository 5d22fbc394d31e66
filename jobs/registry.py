"""The data flow of the product, declared once: its tables and the nightly steps that use them.

* :data:`TABLES`: every table of the product's warehouse (DESIGN.md §5), with its keys (what an
  upsert matches on), its columns and its run-date slice (the column a nightly run replaces its own rows by).
* :data:`STEPS`: the nightly steps in order, each with the input folders it lands, the tables it
  reads and the tables it writes. ``compliance nightly`` and the single-step commands run them,
  ``run_manifest`` records them, and the OpenLineage RunEvents of each step name these inputs
  and outputs. ``tests/test_registry.py`` runs the nightly and checks that each step touches
  exactly the tables declared here.

Example:
    >>> [s.name for s in STEPS]
    ['land', 'ingest', 'closure', 'audit', 'keys', 'report']
    >>> TABLES["lineage_edges"].keys
    ('edge_id',)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jobs.context import JobContext, StepResult
from jobs.store.schemas import SCHEMAS

Step = Callable[[JobContext], StepResult]


@dataclass(frozen=True)
class TableSpec:
    """One table of the product's warehouse."""

    name: str
    """Its name (``TableStore`` maps it to ``<warehouse>/<name>``)."""
    doc: str
    """What one row is."""
    keys: tuple[str, ...] = ()
    """The columns an upsert matches on (empty: appended or replaced as a whole)."""
    run_date_column: str | None = None
    """The column of its per-run-date slice, when a nightly replaces only its own night."""
    schema: str | None = None
    """Its columns as Spark DDL (:data:`jobs.store.schemas.SCHEMAS`)."""


def _t(name: str, doc: str, keys: tuple[str, ...] = (), run_date: str | None = None) -> TableSpec:
    return TableSpec(name, doc, keys, run_date, SCHEMAS[name])


def _nightly(name: str, doc: str) -> TableSpec:
    """A table whose ``run_date`` slice each nightly run replaces."""
    return _t(name, doc, run_date="run_date")


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        _t(
            "landed_files",
            "an input file landed (the ledger that makes landing idempotent)",
            ("source", "kind"),
        ),
        _t("landed_query_logs", "one query-log line", ("source_file", "line")),
        _t("landed_openlineage", "one OpenLineage event line", ("source_file", "line")),
        _t("landed_training_configs", "one training config file", ("source_file", "line")),
        _t("landed_probe_samples", "one runtime probe sample", ("source_file", "line")),
        _t(
            "landed_edge_inventory",
            "one declared edge of the deletion graph",
            ("source_file", "line"),
        ),
        _t("deletion_events", "one deletion lifecycle event", ("source_file", "line")),
        _t(
            "deletion_requests",
            "one erasure request (subject as a pseudonymous key)",
            ("source_file", "line"),
        ),
        _t(
            "held_inputs",
            "a line whose event time is after the window of the run that read it",
            ("source", "kind", "line"),
        ),
        _t(
            "subject_match_keys",
            "keyed digests of a deleted subject's id (hashed-copy scans)",
            ("subject_key", "function"),
        ),
        _t("pseudonym_key_check", "the check value of the pseudonymisation key in use"),
        _t(
            "rejected_inputs",
            "an input record not landed or not analysed, with the reason",
            ("source", "location"),
        ),
        _t(
            "relandings",
            "a replay of rejected input lines queued for the next landing (compliance reland)",
        ),
        _t(
            "input_expectations",
            "one Great Expectations result per input kind and night",
            ("run_date", "kind", "expectation", "column"),
        ),
        _t("lineage_observations", "an edge as seen on one night", ("edge_id", "run_date")),
        _t("lineage_edges", "a column- or table-level lineage edge over all nights", ("edge_id",)),
        _nightly(
            "lineage_disagreements",
            "a column flow the engine's own lineage and the parsed SQL of a query disagree on",
        ),
        _t(
            "schema_events",
            "a table or column created, dropped or renamed by DDL in the query logs, per night",
            ("event_id", "run_date"),
        ),
        _t(
            "assets",
            "a table, view, dashboard, pipeline, model ... seen or declared",
            ("asset_id",),
        ),
        _t("columns", "a column of an asset with its data category", ("asset_id", "column")),
        _t("probe_flows", "a flow confirmed by runtime probe samples"),
        _t("flows_not_observed", "a declared flow the probes never saw"),
        _nightly(
            "lineage_closure", "a reachable (source, target) pair of one night with its best path"
        ),
        _nightly("policy_violations", "a flow of a protected category into a forbidden zone"),
        _nightly("new_flows", "a flow not in the previous night's closure"),
        _t("review_decisions", "a reviewer's include/exclude decision on a node"),
        _nightly("deletion_anomalies", "a lifecycle anomaly of one deletion on one night"),
        _nightly("retention_violations", "rows kept past their data category's retention"),
        _nightly("residual_findings", "a residual-scan result for one deletion and table"),
        _nightly(
            "residual_scans", "what the residual scan read for one deletion and target column"
        ),
        _nightly("annotation_findings", "a deletion-annotation finding (DELF)"),
        _t(
            "restoration_log",
            "an encrypted removed row (purge), restorable while its key lives",
            ("entry_id",),
        ),
        _nightly("restoration_log_health", "the nightly verification of the restoration log"),
        _t("purge_journal", "a purge attempt per deletion and table", ("purge_id", "deletion_id")),
        _t("restore_journal", "the outcome of restoring one entry"),
        _t("run_manifest", "one nightly step of one run date", ("job", "run_date")),
    )
}


@dataclass(frozen=True)
class StepSpec:
    """One nightly step: what it runs, lands, reads and writes."""

    name: str
    """The step (and single-step command) name."""
    run: Step
    """The function that runs it."""
    reads: tuple[str, ...]
    """Tables of the product's warehouse it reads (when they exist)."""
    writes: tuple[str, ...]
    """Tables it writes."""
    inputs: tuple[str, ...] = ()
    """Input folders it lands (``inputs.<kind>``)."""
    outputs: tuple[str, ...] = ()
    """Outputs that are not tables (``reports``)."""

    def __post_init__(self) -> None:
        unknown = [t for t in (*self.reads, *self.writes) if t not in TABLES]
        if unknown:
            raise ValueError(f"step {self.name}: undeclared tables {unknown}")


def _land(ctx: JobContext) -> StepResult:
    from jobs.steps.land import land_inputs

    return land_inputs(ctx)


def _ingest(ctx: JobContext) -> StepResult:
    from jobs.steps.ingest import ingest

    return ingest(ctx)


def _closure(ctx: JobContext) -> StepResult:
    from jobs.steps.closure import run_closure

    return run_closure(ctx)


def _audit(ctx: JobContext) -> StepResult:
    from jobs.steps.audit import run_audit

    return run_audit(ctx)


def _keys(ctx: JobContext) -> StepResult:
    from jobs.secrets.keyring import FileKeyring
    from jobs.steps.keys import rotate_keys_step

    return rotate_keys_step(ctx, FileKeyring(ctx.cfg.keys.dir))


def _report(ctx: JobContext) -> StepResult:
    from jobs.steps.report import run_report

    return run_report(ctx, STEPS)


LANDED = (
    "landed_query_logs",
    "landed_openlineage",
    "landed_training_configs",
    "landed_probe_samples",
    "landed_edge_inventory",
    "deletion_events",
    "deletion_requests",
)

STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        "land",
        _land,
        reads=("landed_files", "held_inputs", "run_manifest", "pseudonym_key_check", *LANDED),
        writes=(
            *LANDED,
            "landed_files",
            "held_inputs",
            "rejected_inputs",
            "input_expectations",
            "subject_match_keys",
            "pseudonym_key_check",
            "run_manifest",
        ),
        inputs=(
            "inputs.query_logs",
            "inputs.openlineage",
            "inputs.training_configs",
            "inputs.probe_samples",
            "inputs.deletion_events",
            "inputs.deletion_requests",
            "inputs.edge_inventory",
        ),
    ),
    StepSpec(
        "ingest",
        _ingest,
        reads=(
            "landed_query_logs",
            "landed_openlineage",
            "landed_training_configs",
            "landed_probe_samples",
            "lineage_observations",
            "lineage_edges",
            "schema_events",
        ),
        writes=(
            "lineage_observations",
            "lineage_edges",
            "schema_events",
            "lineage_disagreements",
            "assets",
            "columns",
            "rejected_inputs",
            "probe_flows",
            "flows_not_observed",
        ),
    ),
    StepSpec(
        "closure",
        _closure,
        reads=(
            "lineage_edges",
            "columns",
            "assets",
            "review_decisions",
            "lineage_closure",
            "policy_violations",
            "new_flows",
        ),
        writes=("lineage_closure", "policy_violations", "new_flows"),
    ),
    StepSpec(
        "audit",
        _audit,
        reads=(
            "deletion_events",
            "deletion_requests",
            "lineage_closure",
            "lineage_edges",
            "landed_edge_inventory",
            "deletion_anomalies",
            "subject_match_keys",
            "pseudonym_key_check",
            "retention_violations",
            "residual_findings",
            "residual_scans",
            "annotation_findings",
        ),
        writes=(
            "deletion_anomalies",
            "retention_violations",
            "residual_findings",
            "residual_scans",
            "annotation_findings",
            "rejected_inputs",
        ),
    ),
    StepSpec(
        "keys",
        _keys,
        reads=("restoration_log", "purge_journal", "restore_journal", "restoration_log_health"),
        writes=("restoration_log", "restoration_log_health"),
    ),
    StepSpec(
        "report",
        _report,
        reads=(
            "run_manifest",
            "landed_query_logs",
            "lineage_closure",
            "lineage_edges",
            "assets",
            "columns",
            "policy_violations",
            "new_flows",
            "lineage_disagreements",
            "deletion_anomalies",
            "residual_findings",
            "deletion_requests",
            "deletion_events",
            "retention_violations",
            "annotation_findings",
            "rejected_inputs",
            "purge_journal",
            "residual_scans",
            "restoration_log",
            "restore_journal",
            "restoration_log_health",
            "landed_files",
            "review_decisions",
            "input_expectations",
        ),
        writes=(),
        outputs=("reports",),
    ),
)

STEP_BY_NAME: dict[str, StepSpec] = {s.name: s for s in STEPS}
