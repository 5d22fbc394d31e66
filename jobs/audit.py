"""The audit step: deletion lifecycle anomalies, retention, residual scans, deletion annotations.

Reads the landed deletion events and requests, the lineage closure, the catalog and the audited
company's Delta tables; writes ``deletion_anomalies`` (tracked across nights), ``retention_violations``,
``residual_findings`` and ``annotation_findings``. Every finding table is rewritten whole for the
run (the tracked anomalies keep ``first_detected``), so a rerun for the same date changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import yaml
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, TimestampType

from audits.annotations import annotation_findings
from audits.lifecycle import LifecycleThresholds, lifecycle_anomalies
from audits.lifecycle_tracking import track_anomalies, validate_events
from audits.residual import completions_from_events, identifier_targets, residual_findings, scan_table
from audits.retention import category_retention, delta_retention_violations, retention_violations
from jobs.catalog import Catalog, load_annotations, load_catalog
from jobs.context import JobContext, StepResult
from jobs.pseudonym import hasher, pseudonym_key

TS_COLUMNS = ("created_at", "event_time", "ts", "updated_at")
#: Asset kinds whose rows a residual scan can read.
SCANNABLE_KINDS = ("table", "view", "feature", "log", "file")


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
        F.substring(F.to_json(F.struct("deletion_id", "event", "ts", "points_deleted")), 1, 500).alias("raw"),
        F.lit(ctx.run_date).alias("run_date"), F.lit("deletion_events").alias("kind"),
    ).persist()
    n_rej = rejected.count()
    if n_rej:
        ctx.store.upsert("rejected_inputs", rejected, keys=["source", "location"])
    rejected.unpersist()
    current = lifecycle_anomalies(accepted, cutoff=ctx.cutoff, thresholds=_thresholds(ctx), requests=requests)
    previous = None
    if ctx.store.exists("deletion_anomalies"):
        previous = ctx.store.read("deletion_anomalies").filter(F.col("run_date") < F.lit(ctx.run_date))
        # the state as of the last earlier run: rows are rewritten whole each night
        last = previous.agg(F.max("run_date")).first()[0]
        previous = previous.filter(F.col("run_date") == F.lit(last)) if last else None
    tracked = track_anomalies(previous, current, ctx.run_date)
    return tracked, n_rej


def _ts_column(df: DataFrame) -> str | None:
    for f in df.schema.fields:
        if f.name in TS_COLUMNS and isinstance(f.dataType, (TimestampType, DateType)):
            return f.name
    return None


def retention(ctx: JobContext, catalog: Catalog) -> DataFrame:
    """Rows past their category's retention in the audited tables, plus the product's own tables."""
    parts: list[DataFrame] = []
    for asset in catalog.assets:
        personal = [c for c in asset.columns if c.data_category]
        if not personal or not ctx.audited.exists(asset.name):
            continue
        table = ctx.audited.read(asset.name)
        ts = _ts_column(table)
        if ts is None:
            continue
        for c in personal:
            days = category_retention(c.data_category, catalog.retention_days) or ctx.cfg.retention.default_days
            if c.name in table.columns:
                parts.append(retention_violations(
                    table, table=asset.name, column=c.name, category=c.data_category,
                    retention_days=days, ts_column=ts, cutoff=ctx.cutoff))
    own = delta_retention_violations(_own_tables(ctx), dict(catalog.retention_days))
    rows = [v.to_row() for v in own]
    if rows:
        from audits.retention import RETENTION_COLUMNS  # noqa: PLC0415

        cols = [c for c in RETENTION_COLUMNS]
        like = parts[0] if parts else None
        schema = like.schema if like is not None else None
        own_df = ctx.spark.createDataFrame([tuple(r.get(c) for c in cols) for r in rows], schema)
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
    "purge_journal": ["user.unique_id"],
    "restore_journal": ["user.unique_id"],
}


def _own_tables(ctx: JobContext) -> list[dict]:
    out = []
    for name, cats in PERSONAL_TABLES.items():
        if ctx.store.exists(name):
            out.append({"table": name, "data_categories": cats, "properties": ctx.store.properties(name)})
    return out


def residuals(ctx: JobContext, catalog: Catalog, events: DataFrame, requests: DataFrame) -> DataFrame:
    """Scan every table that lineage says carries an identifier for rows of deleted subjects."""
    identifiers = ctx.spark.createDataFrame(catalog.identifier_columns(), "asset string, column string")
    if ctx.store.exists("lineage_closure"):
        closure = ctx.store.read("lineage_closure").filter(
            (F.col("run_date") == F.lit(ctx.run_date)) & (F.col("level") == "column")
        ).select(F.concat_ws(".", "source_asset", "source_column").alias("source"),
                 F.concat_ws(".", "target_asset", "target_column").alias("node"), "depth", "confidence")
        edges = ctx.store.read("lineage_edges")
    else:
        closure = ctx.spark.createDataFrame([], "source string, node string, depth int, confidence double")
        edges = ctx.spark.createDataFrame([], "source_asset string, source_column string, target_asset string, "
                                              "target_column string, transformation_type string, "
                                              "transformation_subtype string, masking boolean")
    targets = identifier_targets(closure, identifiers, edges).select("asset", "column").distinct().collect()
    completions = completions_from_events(events, ctx.cutoff)
    deleted = requests.join(completions, "deletion_id").select(
        "subject_key", F.col("subject_key").alias("match_value")).distinct()
    key = pseudonym_key(ctx)
    hits: list[DataFrame] = []
    unverifiable: list[tuple[str, str, str]] = []
    kinds = {a.name: a.kind for a in catalog.assets}
    for t in sorted(targets, key=lambda r: (r.asset, r.column)):
        if kinds.get(t.asset, "table") not in SCANNABLE_KINDS:
            continue  # dashboards, models, APIs hold no rows to scan
        if not ctx.audited.exists(t.asset):
            unverifiable.append((t.asset, t.column, "lineage says it holds identifiers but no Delta table exists"))
            continue
        table = ctx.audited.read(t.asset)
        if t.column not in table.columns:
            unverifiable.append((t.asset, t.column, f"column {t.column} not in the table"))
            continue
        values = table.select(F.col(t.column).cast("string").alias("_v"))
        keyed = values.mapInPandas(hasher(key, "_v", "_k"), "_k string").select(F.col("_k").alias(t.column))
        hits.append(scan_table(keyed, asset=t.asset, column=t.column, deleted_subjects=deleted))
    if hits:
        all_hits = hits[0]
        for h in hits[1:]:
            all_hits = all_hits.unionByName(h)
    else:
        all_hits = ctx.spark.createDataFrame([], "subject_key string, asset string, column string, rows_found long")
    unv = ctx.spark.createDataFrame(unverifiable, "asset string, column string, reason string")
    return residual_findings(all_hits, requests, completions, ctx.cutoff, unverifiable=unv).withColumn(
        "run_date", F.lit(ctx.run_date))


def annotations(ctx: JobContext) -> DataFrame | None:
    """Static, dangling-edge and heuristic findings on the deletion annotations."""
    load_annotations(ctx.cfg.inputs.annotations)  # validates, with a one-line ConfigError
    with open(ctx.cfg.inputs.annotations, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    if not ctx.store.exists("landed_edge_inventory"):
        return None
    inventory = ctx.store.read("landed_edge_inventory")
    return annotation_findings(doc, inventory).withColumn("run_date", F.lit(ctx.run_date))


def run_audit(ctx: JobContext) -> StepResult:
    """The audit step."""
    result = StepResult()
    catalog = load_catalog(ctx.cfg.inputs.catalog)
    findings = 0
    if ctx.store.exists("deletion_events") and ctx.store.exists("deletion_requests"):
        events = ctx.store.read("deletion_events").persist()
        requests = ctx.store.read("deletion_requests").persist()
        tracked, n_rej = lifecycle(ctx, events, requests)
        result.rows_rejected += n_rej
        _write(ctx, "deletion_anomalies", tracked, result)
        open_anoms = ctx.store.read("deletion_anomalies").filter(
            (F.col("run_date") == F.lit(ctx.run_date)) & (F.col("status") == "open")).count()
        findings += open_anoms
        res = residuals(ctx, catalog, events, requests)
        findings += _write(ctx, "residual_findings", res, result)
        result.inputs_read += events.count() + requests.count()
        events.unpersist()
        requests.unpersist()
    findings += _write(ctx, "retention_violations", retention(ctx, catalog), result)
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
