"""The nightly ``report`` step: read the Delta tables, reduce them in Spark, render the HTML report.

Every table is reduced to small results before anything reaches the driver: counts and counts per
group (``groupBy``), the top :data:`TOP_N` detail rows of a section (the full count is shown beside
them), and trends as counts per run date over the last :data:`TREND_RUNS` run dates of
``run_manifest``. Finding tables are per-run-date slices; a section shows the run date's slice. A
table that does not exist yet gives an empty section.

Output: ``<reports>/<run_date>/`` (removed first, so a rerun writes the same files) and
``<reports>/latest``, a full copy of it (not a symlink: a copy survives being zipped or synced to
an auditor's share). The step's ``details["report_dir"]`` is ``latest/index.html``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.detection import detection_dates
from jobs.context import VERSION, JobContext, StepResult
from jobs.steps.report_datamap import build_datamap, collect
from jobs.steps.report_deletions import deletion_cases, restoration_section
from jobs.steps.report_provenance import (
    input_files,
    provenance_facts,
    provenance_sections,
    table_versions,
    utc,
)
from reports import article30, render_nightly
from reports import sections as sec
from reports.model import NightlyReport, Section
from reports.provenance import MANIFEST_NAME, previous_run_folder, write_manifest

TOP_N = 500
"""Detail rows shown per section (the total is always the full count)."""
TREND_RUNS = 30
"""Run dates a trend covers."""
MAX_GROUPS = 12
"""Groups (reasons, checks, policies) shown as separate numbers; the rest are summed as
``other``."""
MAX_DECISIONS = 1000
MAX_EXPECTATIONS = 1000
"""Review decisions listed at most (newest first)."""
NOT_RUN = "not run"
"""The status shown for a nightly step with no manifest row for the run date."""
QUERY_NOT_ANALYSED = "SQL not analysed"
"""Prefix of the ``rejected_inputs`` reason of a query log line whose SQL could not be analysed."""


def read(ctx: JobContext, name: str) -> DataFrame | None:
    """Table ``name``, or ``None`` when it does not exist yet."""
    return ctx.store.read(name) if ctx.store.exists(name) else None


def on(df: DataFrame, day: date) -> DataFrame:
    """The rows of one run date."""
    return df.filter(F.col("run_date") == F.lit(day))


def trend_dates(ctx: JobContext) -> list[date]:
    """The last :data:`TREND_RUNS` run dates of ``run_manifest`` up to the run date (included)."""
    dates = {ctx.run_date}
    man = read(ctx, "run_manifest")
    if man is not None:
        rows = (
            man.filter(F.col("run_date") <= F.lit(ctx.run_date))
            .select("run_date")
            .distinct()
            .orderBy(F.desc("run_date"))
            .limit(TREND_RUNS)
            .collect()
        )
        dates |= {r[0] for r in rows}
    return sorted(dates)[-TREND_RUNS:]


def counts_per_date(df: DataFrame | None, dates: list[date]) -> list[tuple[date, int]]:
    """Row counts per run date over ``dates`` (zero where a date has no rows)."""
    if df is None or "run_date" not in df.columns or not dates:
        return [(d, 0) for d in dates]
    got = {
        r[0]: int(r[1])
        for r in df.filter(F.col("run_date").isin(dates)).groupBy("run_date").count().collect()
    }
    return [(d, got.get(d, 0)) for d in dates]


def group_counts(df: DataFrame, column: str) -> dict[str, int]:
    """Counts per value of ``column`` (the :data:`MAX_GROUPS` largest, the rest as ``other``)."""
    rows = (
        df.groupBy(F.coalesce(F.col(column).cast("string"), F.lit("none")).alias("g"))
        .count()
        .orderBy(F.desc("count"), "g")
        .limit(MAX_GROUPS + 1)
        .collect()
    )
    out = {r["g"]: int(r["count"]) for r in rows[:MAX_GROUPS]}
    if len(rows) > MAX_GROUPS:
        total = df.count()
        out["other"] = total - sum(out.values())
    return out


def _slice_rows(
    df: DataFrame | None, day: date, order: list[Any], drop: tuple[str, ...] = ()
) -> tuple[DataFrame | None, list[dict[str, Any]], int]:
    if df is None or "run_date" not in df.columns:
        return None, [], 0
    s = on(df, day).drop(*[c for c in drop if c in df.columns])
    s = s.persist()
    order = [o for o in order if not isinstance(o, str) or o in s.columns]
    return s, collect(s, order, TOP_N), s.count()


def _lineage_touched(ctx: JobContext, edges: DataFrame | None) -> tuple[DataFrame, DataFrame]:
    """Assets [asset_id, _l] and columns [asset_id, column, _lc] that some edge touches."""
    if edges is None:
        return (
            ctx.spark.createDataFrame([], "asset_id string, _l boolean"),
            ctx.spark.createDataFrame([], "asset_id string, column string, _lc boolean"),
        )
    ends = [
        edges.select(
            F.col(f"{side}_asset").alias("asset_id"), F.col(f"{side}_column").alias("column")
        )
        for side in ("source", "target")
    ]
    touched = ends[0].unionByName(ends[1])
    t_assets = touched.select("asset_id").distinct().withColumn("_l", F.lit(True))
    t_cols = touched.filter(F.col("column").isNotNull()).distinct().withColumn("_lc", F.lit(True))
    return t_assets, t_cols


def _per_asset(ctx: JobContext, assets: DataFrame, cols: DataFrame) -> DataFrame:
    """One row per asset: kind, zone, owner, has_lineage, columns, columns_with_lineage."""
    t_assets, t_cols = _lineage_touched(ctx, read(ctx, "lineage_edges"))
    per_col = (
        cols.select("asset_id", "column")
        .join(t_cols, ["asset_id", "column"], "left")
        .groupBy("asset_id")
        .agg(F.count(F.lit(1)).alias("columns"), F.count("_lc").alias("columns_with_lineage"))
    )
    zero = F.lit(0)
    return (
        assets.select("asset_id", "kind", "zone", "owner")
        .join(t_assets, "asset_id", "left")
        .join(per_col, "asset_id", "left")
        .select(
            "asset_id",
            "kind",
            "zone",
            "owner",
            F.coalesce("_l", F.lit(False)).alias("has_lineage"),
            F.coalesce("columns", zero).alias("columns"),
            F.coalesce("columns_with_lineage", zero).alias("columns_with_lineage"),
        )
    )


def _queries(ctx: JobContext) -> tuple[int, int]:
    """(queries landed, queries whose SQL was analysed)."""
    q = read(ctx, "landed_query_logs")
    if q is None:
        return 0, 0
    total = q.filter(F.col("sql").isNotNull()).count() if "sql" in q.columns else q.count()
    rej = read(ctx, "rejected_inputs")
    bad = 0
    if rej is not None and "kind" in rej.columns:
        bad = rej.filter(
            (F.col("kind") == "query_logs") & F.col("reason").startswith(QUERY_NOT_ANALYSED)
        ).count()
    return total, max(total - bad, 0)


def coverage(ctx: JobContext, dates: list[date]) -> tuple[Section, dict[str, Any]]:
    """The lineage coverage section and its numbers (kept in the manifest for the trend).

    The trend of the share of columns with lineage comes from the ``details`` that earlier
    report steps left in ``run_manifest``.
    """
    assets, cols = read(ctx, "assets"), read(ctx, "columns")
    n = dict(assets_total=0, assets_with_lineage=0, columns_total=0, columns_with_lineage=0)
    rows: list[dict[str, Any]] = []
    if assets is not None and cols is not None:
        per_asset = _per_asset(ctx, assets, cols).persist()
        tot = per_asset.agg(
            F.count(F.lit(1)),
            F.sum(F.col("has_lineage").cast("int")),
            F.sum("columns"),
            F.sum("columns_with_lineage"),
        ).first()
        n.update(
            assets_total=int(tot[0]),
            assets_with_lineage=int(tot[1] or 0),
            columns_total=int(tot[2] or 0),
            columns_with_lineage=int(tot[3] or 0),
        )
        rows = collect(per_asset, ["has_lineage", "asset_id"], TOP_N)
        per_asset.unpersist()
    n["queries_total"], n["queries_parsed"] = _queries(ctx)
    pct = (
        round(100.0 * n["columns_with_lineage"] / n["columns_total"], 1)
        if n["columns_total"]
        else 0.0
    )
    history = _manifest_details(ctx, "report", dates)
    trend = [
        (d, history[d]["columns_with_lineage_pct"])
        for d in dates
        if d != ctx.run_date and "columns_with_lineage_pct" in history.get(d, {})
    ]
    trend.append((ctx.run_date, pct))
    section = sec.lineage_coverage(rows=rows, trend=trend, **n)
    return section, {**n, "columns_with_lineage_pct": pct}


def _manifest_details(ctx: JobContext, job: str, dates: list[date]) -> dict[date, dict[str, Any]]:
    man = read(ctx, "run_manifest")
    if man is None:
        return {}
    out = {}
    mine = man.filter((F.col("job") == job) & F.col("run_date").isin(dates))
    for r in mine.select("run_date", "details").collect():
        try:
            out[r[0]] = json.loads(r[1] or "{}")
        except ValueError:
            out[r[0]] = {}
    return out


def finding_sections(ctx: JobContext, dates: list[date]) -> list[Section]:
    """The sections of the per-run-date finding tables, in the index's order."""
    day = ctx.run_date
    out = []

    def add(
        df: DataFrame | None,
        order: list[Any],
        build: Any,
        group: str | None = None,
        drop: tuple[str, ...] = (),
    ) -> None:
        s, rows, total = _slice_rows(df, day, order, drop=drop)
        kw: dict[str, Any] = {"total": total, "trend": counts_per_date(df, dates)}
        if group:
            kw[group] = group_counts(s, _GROUP_COLUMN[group]) if s is not None else {}
        out.append(build(rows, **kw))
        _free(s)

    rej = read(ctx, "rejected_inputs")
    if rej is not None and "reason" in rej.columns:
        rej = rej.withColumn("detail", F.col("reason")).withColumn(
            "reason", reason_class(F.col("reason"))
        )
    add(rej, ["reason", "source", "location"], sec.rejected_inputs, "by_reason", drop=("raw",))
    add(
        read(ctx, "new_flows"),
        ["source_asset", "source_column", "depth", "target_asset", "target_column"],
        sec.new_flows,
    )
    add(
        read(ctx, "lineage_disagreements"),
        ["found_by", "target_asset", "target_column", "source_asset", "source_column"],
        sec.lineage_disagreements,
    )
    out[-1] = with_comparison_scope(out[-1], _manifest_details(ctx, "ingest", [day]).get(day), day)
    add(
        read(ctx, "policy_violations"),
        ["policy", "source_asset", "source_column", "depth", "target_asset", "target_column"],
        sec.policy_violations,
        "by_policy",
    )
    an = read(ctx, "deletion_anomalies")
    if an is not None and "status" in an.columns:
        an = detection_dates(an.filter(F.col("status") == "open"))

    def anomalies(rows: list[dict[str, Any]], **kw: Any) -> Section:
        return sec.deletion_anomalies(rows, run_date=day, **kw)

    add(an, ["check", "first_detected", "deletion_id"], anomalies, "by_check")
    add(
        read(ctx, "residual_findings"),
        ["status", F.desc("days_overdue"), "asset", "column", "deletion_id"],
        sec.residual_findings,
    )
    add(
        read(ctx, "retention_violations"),
        [F.desc("days_over"), "table", "column", "kind"],
        sec.retention_violations,
    )

    def annotations(rows: list[dict[str, Any]], **kw: Any) -> Section:
        return sec.annotation_findings(rows, group_by="finding", **kw)

    add(
        read(ctx, "annotation_findings"),
        ["finding", "edge_type", "object_type", "detail"],
        annotations,
    )
    return out


def with_comparison_scope(
    section: Section, ingest_details: dict[str, Any] | None, day: date
) -> Section:
    """The disagreement section, saying "nothing checked" when the run date's ingest recorded
    that no query-log row carried an engine's own lineage (so a 0 is not read as "compared, none
    found"). Without an ingest record the section is left as it is (``mark_not_run`` says why).
    """
    if (ingest_details or {}).get("engine_lineage_compared") != 0:
        return section
    return replace(
        section,
        nothing_checked="no query-log row of this run date carried an engine's own column "
        "lineage (Trino, BigQuery, Snowflake ACCESS_HISTORY or OpenLineage facets), so no "
        "query was compared",
        trend=without_day(section, day),
    )


def without_day(section: Section, day: date | None) -> tuple[Any, ...]:
    """The section's trend without a point for ``day`` (a check with no value for it)."""
    return tuple(p for p in section.trend if p.run_date != day)


_GROUP_COLUMN = {"by_reason": "reason", "by_policy": "policy", "by_check": "check"}


def reason_class(reason: F.Column) -> F.Column:
    """The class of a rejection reason, for grouping: the text before the first ``:``, quoted
    names and allowed-value lists elided (the full reason stays in the ``detail`` column).

    ``field 'ts' is not a valid timestamp`` -> ``field '…' is not a valid timestamp``;
    ``SQL not analysed (parse_error, hive): Expecting )`` ->
    ``SQL not analysed (parse_error, hive)``.
    """
    head = F.split(reason, ":").getItem(0)
    head = F.regexp_replace(head, r"'[^']*'", "'…'")
    head = F.regexp_replace(head, r" not one of .*$", " not one of the allowed values")
    return F.regexp_replace(head, r" is outside .*$", " is out of range")


def validation_section(ctx: JobContext, dates: list[date]) -> Section:
    """The run date's input validation results per kind, and the lines each kind rejected."""
    results = read(ctx, "input_expectations")
    if results is None:
        return sec.input_validation([])
    day = on(results, ctx.run_date)
    cols = [
        c
        for c in ("kind", "expectation", "column", "parameters", "success")
        if c in results.columns
    ]
    rows = collect(
        day.select(*cols, "element_count", "unexpected_count"),
        ["kind", "expectation", "column"],
        MAX_EXPECTATIONS,
    )
    rejected: dict[str, int] = {}
    rej = read(ctx, "rejected_inputs")
    if rej is not None and "kind" in rej.columns:
        rejected = group_counts(on(rej, ctx.run_date), "kind")
    trend = counts_per_date(results.filter(~F.col("success")), dates)
    return sec.input_validation(rows, rejected_by_kind=rejected, trend=trend)


def review_section(ctx: JobContext) -> Section:
    """Every review decision, newest first, with how many nodes each exclusion hides tonight."""
    decisions = read(ctx, "review_decisions")
    if decisions is None:
        return sec.exclusions([])
    hidden: dict[str, int] = {}
    edges = read(ctx, "lineage_edges")
    if edges is not None:
        from lineage.flows import graph_edges  # noqa: PLC0415
        from lineage.review import hidden_nodes  # noqa: PLC0415

        by = hidden_nodes(graph_edges(edges).select("src", "dst"), decisions)
        per = by.select(F.explode("excluded_by").alias("node")).groupBy("node").count()
        hidden = {r["node"]: int(r["count"]) for r in per.collect()}  # one row per decision
    rows = [
        {**r, "nodes_hidden": hidden.get(r["node"], 0) if r["decision"] == "exclude" else None}
        for r in collect(
            decisions.select(*[c for c in sec.REVIEW_COLUMNS if c != "nodes_hidden"]),
            [F.desc("decided_at"), "node"],
            MAX_DECISIONS,
        )
    ]
    return sec.exclusions(rows)


def _free(df: DataFrame | None) -> None:
    if df is not None:
        df.unpersist()


def manifest(
    ctx: JobContext, dates: list[date], nightly: Sequence[StepTables]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """This run's ``run_manifest`` rows (a ``not run`` row for each step of ``nightly`` without
    one) and those of the earlier trend dates."""
    man = read(ctx, "run_manifest")
    if man is None:
        return with_steps_not_run([], ctx.run_date, nightly), []
    cols = [
        c
        for c in (
            "job",
            "run_date",
            "started_at",
            "finished_at",
            "status",
            "inputs_read",
            "rows_written",
            "rows_rejected",
            "engine",
            "version",
            "error",
        )
        if c in man.columns
    ]
    rows = collect(
        man.filter(F.col("run_date").isin(dates)).select(*cols),
        [F.desc("run_date"), "started_at", "job"],
        TREND_RUNS * 20,
    )
    steps = [r for r in rows if r["run_date"] == ctx.run_date and r["job"] != "report"]
    return with_steps_not_run(steps, ctx.run_date, nightly), [
        r for r in rows if r["run_date"] != ctx.run_date
    ]


class StepTables(Protocol):
    """What the report needs of a nightly step (:class:`jobs.registry.StepSpec`)."""

    name: str
    writes: tuple[str, ...]


def with_steps_not_run(
    steps: list[dict[str, Any]], day: date, nightly: Sequence[StepTables]
) -> list[dict[str, Any]]:
    """``steps`` (this run date's manifest rows) and a ``not run`` row for every step of
    ``nightly`` before the report that has none: the run summary lists every step, never only
    those that ran."""
    recorded = {r["job"] for r in steps}
    missing = [
        {"job": spec.name, "run_date": day, "status": NOT_RUN}
        for spec in nightly
        if spec.name != "report" and spec.name not in recorded
    ]
    return steps + missing


def mark_not_run(
    sections: list[Section], steps: list[dict[str, Any]], nightly: Sequence[StepTables]
) -> list[Section]:
    """Each section whose table's writing step did not complete ``ok`` for the run date says so
    (``not_run``, naming the step and its error) instead of showing a clean zero."""
    status = {r["job"]: r for r in steps}
    writer = {}
    for spec in nightly:
        for table in spec.writes:
            writer.setdefault(table, spec.name)  # the first step that writes it (land: rejects)
    out = []
    for s in sections:
        step = writer.get(s.key)
        row = status.get(step) if step else None
        if row is None or row.get("status") == "ok":
            out.append(s)
            continue
        why = (
            f"the {step} step failed for this run date: {row.get('error') or 'no message'}"
            if row.get("status") != NOT_RUN
            else f"the {step} step has not run for this run date"
        )
        day = row.get("run_date")  # the run date has no value: its trend point goes too
        out.append(replace(s, not_run=why, trend=without_day(s, day)))
    return out


def build_report(
    ctx: JobContext,
    *,
    nightly: Sequence[StepTables],
    generated_at: datetime,
    provenance: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> tuple[NightlyReport, dict[str, Any]]:
    """Everything the nightly report shows, and the numbers kept in the manifest's details.

    ``nightly`` is the nightly's steps (``jobs.registry.STEPS``): a step without a manifest row
    is shown "not run", and so are the sections of the tables it writes. ``provenance`` is the
    run's (input files, table versions) when the caller has them already.
    """
    dates = trend_dates(ctx)
    cov, numbers = coverage(ctx, dates)
    inputs, tables = provenance or (input_files(ctx), table_versions(ctx))
    sections = [
        cov,
        *finding_sections(ctx, dates),
        restoration_section(ctx, dates),
        validation_section(ctx, dates),
        review_section(ctx),
        *provenance_sections(inputs, tables),
    ]
    violations = next((list(s.rows) for s in sections if s.key == "policy_violations"), [])
    dm = build_datamap(ctx, violations=violations)
    record, _ = article30.record_of(dm)
    missing = article30.findings(record)
    numbers["article30_missing"] = missing
    history = _manifest_details(ctx, "report", dates)
    trend = [
        (d, history[d]["article30_missing"])
        for d in dates
        if d != ctx.run_date and "article30_missing" in history.get(d, {})
    ]
    at = next(i for i, s in enumerate(sections) if s.key == "policy_violations") + 1
    sections.insert(
        at,
        sec.article30_record(
            article30.flag_rows(record),
            activities=len(record),
            trend=[*trend, (ctx.run_date, missing)],
        ),
    )
    steps, history = manifest(ctx, dates, nightly)
    sections = mark_not_run(sections, steps, nightly)
    data = NightlyReport(
        run_date=ctx.run_date,
        steps=steps,
        history=history,
        sections=sections,
        datamap=dm,
        deletions=deletion_cases(ctx),
        sla_days_default=int(ctx.cfg.deletion.default_sla_days),
        product_version=VERSION,
        generated_at=generated_at,
    )
    return data, numbers


def _generated_at(ctx: JobContext) -> datetime:
    """The report's timestamp: the end of the last step of the run, so reruns are identical."""
    man = read(ctx, "run_manifest")
    if man is not None:
        steps = on(man, ctx.run_date).filter(F.col("job") != "report")
        last = steps.agg(F.max("finished_at")).first()[0]
        if last is not None:
            return last
    return datetime.combine(ctx.run_date + timedelta(days=1), datetime.min.time())


def run_report(ctx: JobContext, nightly: Sequence[StepTables]) -> StepResult:
    """The ``report`` step: render ``<reports>/<run_date>/`` and copy it to ``<reports>/latest``.

    ``nightly``: the nightly's steps (``jobs.registry.STEPS``), to name those that did not run.

    Returns:
        ``rows_written`` = files written; ``details["report_dir"]`` = ``latest/index.html``;
        ``findings`` = the declarations the Article 30 record misses (the other numbers needing
        attention are counted by the steps that produced them).
    """
    root = Path(ctx.cfg.reports)
    folder = root / ctx.run_date.isoformat()
    inputs, tables = input_files(ctx), table_versions(ctx)
    data, numbers = build_report(
        ctx, nightly=nightly, generated_at=_generated_at(ctx), provenance=(inputs, tables)
    )
    if folder.exists():
        shutil.rmtree(folder)
    paths = render_nightly(data, folder)
    facts = provenance_facts(ctx, inputs=inputs, tables=tables)
    facts["generated_at"] = utc(data.generated_at)
    write_manifest(folder, facts=facts, previous=previous_run_folder(root, ctx.run_date))
    paths.append(folder / MANIFEST_NAME)
    latest = root / "latest"
    tmp = root / ".latest.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(folder, tmp)
    if latest.is_symlink() or latest.is_file():
        latest.unlink()
    elif latest.exists():
        shutil.rmtree(latest)
    tmp.rename(latest)
    ctx.log(f"report: {len(paths)} files in {folder}; latest at {latest / 'index.html'}")
    return StepResult(
        inputs_read=sum(s.total or 0 for s in data.sections),
        rows_written=len(paths),
        findings=int(numbers["article30_missing"]),
        details={"report_dir": str(latest / "index.html"), "run_dir": str(folder), **numbers},
    )


__all__ = ["build_report", "run_report"]
