"""The audit step: deletion lifecycle anomalies, retention, residual scans, deletion annotations.

Reads the landed deletion events and requests, the lineage closure, the catalog and the audited
company's Delta tables; writes ``deletion_anomalies`` (tracked across nights), ``retention_violations``,
``residual_findings``, ``residual_scans`` (what the residual scan read per deletion and table) and
``annotation_findings``. Every finding table is rewritten whole for the
run (the tracked anomalies keep ``first_detected``), so a rerun for the same date changes nothing.
"""

from __future__ import annotations

import os
from datetime import timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.annotations.checks import annotation_findings
from audits.lifecycle.rules import LifecycleThresholds, lifecycle_anomalies
from audits.lifecycle.tracking import track_anomalies, validate_events
from audits.residual import scannable
from audits.retention import (
    RETENTION_COLUMNS,
    category_retention,
    delta_retention_violations,
    not_checked_row,
    table_retention_violations,
    time_column,
)
from jobs.config.catalog import Catalog, load_annotations
from jobs.context import JobContext, StepResult
from jobs.steps import audit_residual as residual_scan

RETENTION_SCHEMA = (
    "table string, column string, data_category string, oldest timestamp, "
    "rows_over long, days_over long, kind string, detail string"
)


def _thresholds(ctx: JobContext) -> LifecycleThresholds:
    d = ctx.cfg.deletion
    return LifecycleThresholds(
        start_within=timedelta(hours=d.start_within_hours),
        idle_after=timedelta(hours=d.idle_after_hours),
        progress_events=d.progress_events,
        complete_within=timedelta(days=d.complete_within_days),
        max_exceptions=d.max_exceptions,
        default_sla_days=d.default_sla_days,
    )


def lifecycle(ctx: JobContext, events: DataFrame, requests: DataFrame) -> tuple[DataFrame, int]:
    """Validate events, reject the bad ones, and track tonight's lifecycle anomalies."""
    accepted, rejected = validate_events(events, requests.select("deletion_id"), ctx.cutoff)
    rejected = rejected.select(
        F.col("source_file").alias("source"),
        F.concat(F.lit("line "), F.col("line").cast("string")).alias("location"),
        F.concat(F.lit("deletion event rejected: "), F.col("reason")).alias("reason"),
        F.substring(
            F.to_json(F.struct("deletion_id", "event", "ts", "points_deleted")), 1, 500
        ).alias("raw"),
        F.lit(ctx.run_date).alias("run_date"),
        F.lit("deletion_events").alias("kind"),
    ).persist()
    n_rej = rejected.count()
    if n_rej:
        ctx.store.upsert("rejected_inputs", rejected, keys=["source", "location"])
    rejected.unpersist()
    current = lifecycle_anomalies(
        accepted, cutoff=ctx.cutoff, thresholds=_thresholds(ctx), requests=requests
    )
    previous = None
    if ctx.store.exists("deletion_anomalies"):
        previous = ctx.store.read("deletion_anomalies").filter(
            F.col("run_date") < F.lit(ctx.run_date)
        )
        # the state as of the last earlier run: rows are rewritten whole each night
        last = previous.agg(F.max("run_date")).first()[0]
        previous = previous.filter(F.col("run_date") == F.lit(last)) if last else None
    tracked = track_anomalies(previous, current, ctx.run_date)
    return tracked, n_rej


def retention(ctx: JobContext, catalog: Catalog) -> DataFrame:
    """Rows past their category's retention in the audited tables, plus the product's own tables.

    A catalog table with personal columns that cannot be checked (no Delta table, no usable time
    column) gets one ``not_checked`` row saying why.
    """
    parts: list[DataFrame] = []
    rows: list[dict] = []
    for asset in catalog.assets:
        personal = [c for c in asset.columns if c.data_category]
        if not personal or not scannable(asset.kind):
            continue
        cats = [c.data_category for c in personal]
        if not ctx.audited.exists(asset.name):
            rows.append(not_checked_row(asset.name, cats, "no Delta table exists"))
            continue
        table = ctx.audited.read(asset.name)
        ts, why = time_column(
            [(f.name, f.dataType.simpleString()) for f in table.schema.fields], asset.time_column
        )
        if ts is None:
            rows.append(not_checked_row(asset.name, cats, str(why)))
            continue
        cols = [
            (
                c.name,
                c.data_category,
                category_retention(c.data_category, catalog.retention_days)
                or ctx.cfg.retention.default_days,
            )
            for c in personal
            if c.name in table.columns
        ]
        if cols:  # one aggregation per table for all its personal columns
            parts.append(
                table_retention_violations(
                    table, table=asset.name, columns=cols, ts_column=ts, cutoff=ctx.cutoff
                )
            )
    own = delta_retention_violations(_own_tables(ctx), dict(catalog.retention_days))
    rows += [v.to_row() for v in own]
    if rows:
        own_df = ctx.spark.createDataFrame(
            [tuple(r.get(c) for c in RETENTION_COLUMNS) for r in rows], RETENTION_SCHEMA
        )
        parts.append(own_df)
    if not parts:
        return ctx.spark.createDataFrame([], "table string")
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out.withColumn("run_date", F.lit(ctx.run_date))


#: The product's own tables that hold personal data (pseudonymous keys count as personal data).
PERSONAL_TABLES = {
    "deletion_requests": ["user.unique_id"],
    "residual_findings": ["user.unique_id"],
    "restoration_log": ["user"],
    "landed_probe_samples": ["user"],
    "subject_match_keys": ["user.unique_id"],
    "residual_scans": ["user.unique_id"],
    "purge_journal": ["user.unique_id"],
    "restore_journal": ["user.unique_id"],
}


def _own_tables(ctx: JobContext) -> list[dict]:
    out = []
    for name, cats in PERSONAL_TABLES.items():
        if ctx.store.exists(name):
            out.append(
                {"table": name, "data_categories": cats, "properties": ctx.store.properties(name)}
            )
    return out


def residuals(
    ctx: JobContext, catalog: Catalog, events: DataFrame, requests: DataFrame
) -> tuple[DataFrame, DataFrame]:
    """Tonight's ``residual_findings`` and ``residual_scans`` (see :mod:`jobs.steps.audit_residual`)."""
    findings, scans = residual_scan.residuals(ctx, catalog, events, requests)
    day = F.lit(ctx.run_date)
    return findings.withColumn("run_date", day), scans.withColumn("run_date", day)


def annotations(ctx: JobContext) -> DataFrame | None:
    """Static, dangling-edge and heuristic findings on the deletion annotations (none when the
    optional annotations file is absent: the preflight notes it)."""
    if not os.path.exists(ctx.cfg.inputs.annotations):
        return None
    model = load_annotations(ctx.cfg.inputs.annotations)  # validated once, one-line ConfigError
    inventory = ctx.store.read("landed_edge_inventory", missing_ok=True)
    if inventory is None:
        return None
    return annotation_findings(model, inventory).withColumn("run_date", F.lit(ctx.run_date))


def run_audit(ctx: JobContext) -> StepResult:
    """The audit step."""
    result = StepResult()
    catalog = ctx.catalog
    findings = 0
    if ctx.store.exists("deletion_events") and ctx.store.exists("deletion_requests"):
        events = ctx.store.read("deletion_events").persist()
        requests = ctx.store.read("deletion_requests").persist()
        tracked, n_rej = lifecycle(ctx, events, requests)
        result.rows_rejected += n_rej
        _write(ctx, "deletion_anomalies", tracked, result)
        open_anoms = (
            ctx.store.read("deletion_anomalies")
            .filter((F.col("run_date") == F.lit(ctx.run_date)) & (F.col("status") == "open"))
            .count()
        )
        findings += open_anoms
        res, scans = residuals(ctx, catalog, events, requests)
        findings += _write(ctx, "residual_findings", res, result)
        _write(ctx, "residual_scans", scans, result)
        result.inputs_read += events.count() + requests.count()
        events.unpersist()
        requests.unpersist()
    _write(ctx, "retention_violations", retention(ctx, catalog), result)
    if ctx.store.exists("retention_violations"):  # tables not checked are reported, not counted
        findings += (
            ctx.store.read("retention_violations")
            .filter((F.col("run_date") == F.lit(ctx.run_date)) & (F.col("kind") != "not_checked"))
            .count()
        )
    ann = annotations(ctx)
    if ann is not None:
        findings += _write(ctx, "annotation_findings", ann, result)
    result.findings = findings
    return result


def _write(ctx: JobContext, table: str, df: DataFrame, result: StepResult) -> int:
    """Replace tonight's slice of a finding table; returns its row count."""
    if "run_date" not in df.columns:
        return 0
    ctx.store.replace_where(table, df, F.col("run_date") == F.lit(ctx.run_date))
    n = ctx.store.read(table).filter(F.col("run_date") == F.lit(ctx.run_date)).count()
    result.rows_written += n
    result.details[table] = n
    ctx.log(f"audit: {table}: {n} rows")
    return n
