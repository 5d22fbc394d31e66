"""The ingest step: query logs (and the other landed signals) -> assets, columns, lineage edges.

SQL lineage runs on the executors: log lines are grouped by (fingerprint, dialect, default
schema) inside Spark, each distinct fingerprint is parsed once with ``mapInPandas``, and the edges
are joined back to their lines' statistics. A query that cannot be analysed sends every one of its
log lines to ``rejected_inputs`` with the parser's message. Split READ/WRITE job log lines become
table-level edges. Per-night observations are upserted by (edge_id, run_date) into
``lineage_observations`` and ``lineage_edges`` is recomputed from them, so rerunning a night adds
nothing and ``seen_count`` counts every log line that showed the flow. The DDL of the logs
(tables created, dropped, renamed; columns added, dropped, renamed) is upserted by (event_id,
run_date) into ``schema_events``; the CREATE and ALTER statements also give the columns of tables
the catalog does not declare, for positional INSERTs and unqualified columns over joins.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.querylog_formats import DIALECTS
from jobs.config.catalog import Catalog
from jobs.context import JobContext, StepResult
from jobs.steps.ingest_signals import other_signal_observations
from jobs.store.schemas import SCHEMAS
from lineage.naming import canonical_observations
from lineage.observations import (
    OBS_KEYS,
    edge_id_col,
    job_log_edges,
    merge_observations,
    schema_events,
)
from lineage.sql.batch import EXTRACT_SCHEMA, learned_schema, make_extractor
from lineage.sql.fingerprint import fingerprint_col
from lineage.temporary import resolve_temporary

KNOWN_DIALECTS = DIALECTS
"""SQL dialects the parser reads (a line of another engine is rejected)."""


def catalog_schema(catalog: Catalog) -> dict[str, list[str]]:
    """``{"schema.table": [columns]}`` of the catalog's assets that declare columns."""
    return {a.name: [c.name for c in a.columns] for a in catalog.assets if a.columns}


def _learn_schemas(distinct: DataFrame, base: dict[str, list[str]]) -> dict[str, list[str]]:
    """Add the columns of the tables the logs create, then alter (a few distinct texts).

    Texts are read in the order they were first seen: a ``CREATE TABLE`` declares its columns
    (the catalog's declaration wins), and a later ``ALTER TABLE`` adds, drops or renames columns
    of a table so learned. A text that cannot be parsed is rejected by the extraction itself.
    """
    head = F.lower(F.ltrim("sql"))
    ddl = (
        distinct.filter(head.startswith("create") | head.startswith("alter"))
        .orderBy("first_seen", "fingerprint")
        .select("sql", "dialect", "default_schema")
        .limit(10_000)
        .collect()
    )
    schema = dict(base)
    for row in ddl:
        try:
            learned = learned_schema(
                row.sql, row.dialect, default_schema=row.default_schema, schema=schema
            )
        except Exception:  # noqa: BLE001 - an unparseable text is rejected by extraction itself
            continue
        for table, cols in learned.items():
            if table not in base:
                schema[table] = cols
    return schema


PARSE_GROUP = ("fingerprint", "dialect", "default_schema")
"""What one parse of a statement stands for: its text's fingerprint, dialect and default schema."""


def sql_lines(logs: DataFrame, default_dialect: str) -> DataFrame:
    """The query-log rows whose SQL is parsed (not failed), with their :data:`PARSE_GROUP`."""
    lines = logs.filter(
        F.col("sql").isNotNull() & (F.coalesce(F.col("status"), F.lit("ok")) != "failed")
    )
    return lines.select(
        "source_file",
        "line",
        "query_id",
        "started_at",
        "sql",
        F.lower(F.coalesce(F.col("engine"), F.lit(default_dialect))).alias("dialect"),
        F.lower(F.col("default_schema")).alias("default_schema"),
        fingerprint_col(F.col("sql")).alias("fingerprint"),
    )


def engine_disagreements(ctx: JobContext, logs: DataFrame, extracted: DataFrame) -> tuple[int, int]:
    """Tonight's disagreements of engine-computed and parsed lineage -> ``lineage_disagreements``.

    The parse of each row's statement is the one ``sql_observations`` made (``extracted``); both
    sides get the canonical table names before they are compared. Written every night (empty
    when no query log carries engine lineage), replacing tonight's slice.

    Returns:
        ``(disagreements, compared)``: the rows written, and the query-log rows that carried both
        the engine's own lineage and SQL (0 means nothing was compared, which the report says).
    """
    from lineage.signals.engine import EDGE_KEYS, disagreements, engine_row_edges

    engine = engine_row_edges(logs) if "engine_lineage" in logs.columns else None
    compared = 0
    if engine is None:
        found = ctx.spark.createDataFrame([], SCHEMAS["lineage_disagreements"])
    else:
        engine = canonical_observations(engine, ctx.cfg.naming)
        rows = engine.select("source_file", "line").distinct()
        compared = rows.count()
        lines = sql_lines(logs, ctx.cfg.ingest.default_dialect).join(
            rows, ["source_file", "line"], "left_semi"
        )
        groups = list(PARSE_GROUP)
        cols = extracted.filter(
            (F.col("kind") == "column") & (F.col("transformation_type") == "DIRECT")
        )
        parsed = (
            lines.alias("l")
            .join(cols.alias("e"), _null_safe(lines, cols, groups, "l", "e"))
            .select(
                F.col("l.source_file").alias("source_file"),
                F.col("l.line").alias("line"),
                F.lower(F.col("e.source_table")).alias("source_asset"),
                F.lower(F.col("e.source_column")).alias("source_column"),
                F.lower(F.col("e.target_table")).alias("target_asset"),
                F.lower(F.col("e.target_column")).alias("target_column"),
            )
            .filter(F.col("source_column").isNotNull() & F.col("target_column").isNotNull())
        )
        parsed = canonical_observations(parsed, ctx.cfg.naming)
        found = disagreements(engine, parsed).select(
            *EDGE_KEYS,
            "found_by",
            "engine",
            "seen_count",
            "evidence",
            F.lit(ctx.run_date).alias("run_date"),
        )
    found = found.persist()
    try:
        n = found.count()
        ctx.store.replace_where(
            "lineage_disagreements", found, F.col("run_date") == F.lit(ctx.run_date)
        )
        return n, compared
    finally:
        found.unpersist()


def sql_observations(
    ctx: JobContext, logs: DataFrame, schema: dict[str, list[str]]
) -> tuple[DataFrame, DataFrame, DataFrame, DataFrame]:
    """(observations, rejected, schema events, extracted) from the SQL-bearing query log lines.

    ``extracted`` is the persisted output of the parse (each distinct text is parsed once for
    all three results); the caller unpersists it when they are written.
    """
    conf = ctx.cfg.ingest
    lines = sql_lines(logs, conf.default_dialect)
    groups = list(PARSE_GROUP)
    stats = (
        lines.groupBy(*groups)
        .agg(
            F.first("sql").alias("sql"),
            F.count("*").alias("n"),
            F.min("started_at").alias("first_seen"),
            F.max("started_at").alias("last_seen"),
            F.slice(F.sort_array(F.collect_set("query_id")), 1, 5).alias("evidence"),
        )
        .persist()
    )
    schema = _learn_schemas(stats, schema)
    to_parse = stats.select(
        *groups,
        F.when(F.col("dialect").isin(*KNOWN_DIALECTS), F.col("sql")).alias("sql"),
        F.col("dialect").isin(*KNOWN_DIALECTS).alias("_known"),
    )
    extracted = (
        to_parse.filter("_known")
        .drop("_known")
        .mapInPandas(make_extractor(schema, max_sql_bytes=conf.max_sql_bytes), EXTRACT_SCHEMA)
        .persist()
    )
    unknown = to_parse.filter(~F.col("_known")).select(
        *groups,
        F.lit("error").alias("kind"),
        F.lit("unknown_dialect").alias("error"),
        F.concat(F.lit("unknown SQL dialect '"), F.col("dialect"), F.lit("'")).alias("message"),
    )
    errors = (
        extracted.filter(F.col("kind") == "error")
        .select(*groups, "kind", "error", "message")
        .unionByName(unknown)
    )
    rejected = lines.join(errors, _null_safe(lines, errors, groups), "inner").select(
        lines["source_file"].alias("source"),
        F.concat(F.lit("line "), lines["line"].cast("string")).alias("location"),
        F.concat(
            F.lit("SQL not analysed ("),
            errors["error"],
            F.lit(", "),
            lines["dialect"],
            F.lit("): "),
            F.substring(errors["message"], 1, 500),
        ).alias("reason"),
        F.substring(lines["sql"], 1, conf.raw_truncate).alias("raw"),
        F.lit(ctx.run_date).alias("run_date"),
        F.lit("query_logs").alias("kind"),
    )
    edges = (
        extracted.filter(F.col("kind").isin("column", "table"))
        .alias("e")
        .join(
            stats.alias("s"), _null_safe(extracted.alias("e"), stats.alias("s"), groups, "e", "s")
        )
    )
    obs = edges.select(
        F.lower(F.col("e.source_table")).alias("source_asset"),
        F.lower(F.col("e.source_column")).alias("source_column"),
        F.lower(F.col("e.target_table")).alias("target_asset"),
        F.lower(F.col("e.target_column")).alias("target_column"),
        F.col("e.transformation_type").alias("transformation_type"),
        F.col("e.transformation_subtype").alias("transformation_subtype"),
        F.coalesce(F.col("e.masking"), F.lit(False)).alias("masking"),
        F.lit("sql").alias("signal"),
        (F.coalesce(F.col("e.confidence"), F.lit(1.0)) * F.lit(conf.confidence.sql)).alias(
            "confidence"
        ),
        F.col("s.evidence").alias("evidence"),
        F.col("s.first_seen").alias("first_seen"),
        F.col("s.last_seen").alias("last_seen"),
        F.col("s.n").alias("seen_count"),
    )
    return obs, rejected, schema_events(extracted, stats, ctx.run_date), extracted


def _null_safe(
    left: DataFrame, right: DataFrame, cols: list[str], la: str | None = None, ra: str | None = None
):
    cond = None
    for c in cols:
        lc = F.col(f"{la}.{c}") if la else left[c]
        rc = F.col(f"{ra}.{c}") if ra else right[c]
        cond = lc.eqNullSafe(rc) if cond is None else cond & lc.eqNullSafe(rc)
    return cond


def write_catalog(
    ctx: JobContext, catalog: Catalog, edges: DataFrame, dbt: DataFrame | None = None
) -> int:
    """Upsert ``assets`` (catalog plus every table seen in lineage or declared by dbt) and
    ``columns`` (the catalog's, plus the dbt columns it does not declare)."""
    cat_assets = ctx.spark.createDataFrame(
        [(a.name, a.kind, a.owner, a.zone) for a in catalog.assets],
        "name string, kind string, owner string, zone string",
    )
    seen = (
        edges.select(F.col("source_asset").alias("name"), "first_seen", "last_seen")
        .unionByName(edges.select(F.col("target_asset").alias("name"), "first_seen", "last_seen"))
        .groupBy("name")
        .agg(F.min("first_seen").alias("first_seen"), F.max("last_seen").alias("last_seen"))
    )
    if dbt is not None:  # dbt relations without an edge (a source nothing reads yet) too
        only_dbt = (
            dbt.select(F.col("asset_id").alias("name"))
            .distinct()
            .join(seen.select("name"), "name", "left_anti")
            .select(
                "name",
                *[F.lit(None).cast("timestamp").alias(c) for c in ("first_seen", "last_seen")],
            )
        )
        seen = seen.unionByName(only_dbt)
    assets = cat_assets.join(seen, "name", "full_outer").select(
        F.col("name").alias("asset_id"),
        F.coalesce("kind", F.lit("table")).alias("kind"),
        "name",
        "owner",
        "zone",
        "first_seen",
        "last_seen",
    )
    ctx.store.upsert("assets", assets, keys=["asset_id"])
    cols = ctx.spark.createDataFrame(
        [
            (a.name, c.name, c.type, c.data_category, c.is_identifier, c.classification)
            for a in catalog.assets
            for c in a.columns
        ],
        "asset_id string, column string, data_type string, data_category string, "
        "is_identifier boolean, classification string",
    )
    if dbt is not None:
        from jobs.steps.ingest_dbt import undeclared

        cols = cols.unionByName(undeclared(dbt, cols))
    ctx.store.upsert("columns", cols, keys=["asset_id", "column"])
    return assets.count()


def ingest(ctx: JobContext) -> StepResult:
    """The ingest step (after landing): signals -> lineage_observations -> lineage_edges."""
    catalog = ctx.catalog
    result = StepResult()
    result.details["engine_lineage_compared"] = 0  # no query log: nothing compared
    parts: list[DataFrame] = []
    extracted: DataFrame | None = None  # the persisted parse, released when all is written
    dbt: DataFrame | None = None  # the columns dbt declares (landed with its nodes)
    if ctx.store.exists("landed_query_logs"):
        logs = ctx.store.read("landed_query_logs").filter(F.col("landed_on") == F.lit(ctx.run_date))
        obs, rejected, events, extracted = sql_observations(ctx, logs, catalog_schema(catalog))
        result.details["schema_events"] = write_schema_events(ctx, events)
        rejected = rejected.persist()
        n_rej = rejected.count()
        if n_rej:
            ctx.store.upsert("rejected_inputs", rejected, keys=["source", "location"])
        rejected.unpersist()
        result.rows_rejected += n_rej
        result.inputs_read += logs.count()
        parts += [obs, job_log_edges(logs, confidence=ctx.cfg.ingest.confidence.job_log)]
        if "engine_lineage" in logs.columns:  # landed by the engine-native formats
            from lineage.signals.engine import engine_lineage_observations

            conf = ctx.cfg.ingest.confidence.engine_lineage
            parts.append(engine_lineage_observations(logs, confidence=conf))
        if "columns" in logs.columns:  # landed by the dbt format
            from jobs.steps.ingest_dbt import dbt_columns

            dbt = dbt_columns(logs, ctx.cfg.naming)
        n_dis, n_compared = engine_disagreements(ctx, logs, extracted)
        result.details["lineage_disagreements"] = n_dis
        result.details["engine_lineage_compared"] = n_compared
    parts += other_signal_observations(ctx, catalog)
    if not parts:
        ctx.log("ingest: no landed signals")
        return result
    try:
        return _write_edges(ctx, catalog, parts, result, dbt)
    finally:
        if extracted is not None:
            extracted.unpersist()


def write_schema_events(ctx: JobContext, events: DataFrame) -> int:
    """Upsert tonight's schema events (a rerun replaces them); return how many."""
    events = events.persist()
    try:
        n = events.count()
        if n or not ctx.store.exists("schema_events"):
            ctx.store.upsert("schema_events", events, keys=["event_id", "run_date"])
        return n
    finally:
        events.unpersist()


def _tonight_ddl(ctx: JobContext) -> DataFrame | None:
    """Tonight's table DDL events (created, renamed, dropped) with canonical names, or None."""
    if not ctx.store.exists("schema_events"):
        return None
    events = (
        ctx.store.read("schema_events")
        .filter(
            (F.col("run_date") == F.lit(ctx.run_date))
            & F.col("event").isin("create_table", "rename_table", "drop_table")
        )
        .select("asset", "event", "detail")
    )
    rules = ctx.cfg.naming
    if rules.empty:
        return events
    from lineage.naming import canonical_asset

    return events.withColumn("asset", canonical_asset(F.col("asset"), rules)).withColumn(
        "detail",
        F.when(F.col("event") == "rename_table", canonical_asset(F.col("detail"), rules)).otherwise(
            F.col("detail")
        ),
    )


def _write_edges(
    ctx: JobContext,
    catalog: Catalog,
    parts: list[DataFrame],
    result: StepResult,
    dbt: DataFrame | None = None,
) -> StepResult:
    """Tonight's observations -> ``lineage_observations`` -> ``lineage_edges``, assets, columns."""
    obs = parts[0]
    for p in parts[1:]:
        obs = obs.unionByName(p)
    obs = canonical_observations(obs, ctx.cfg.naming)  # one name per table (lineage.naming)
    obs = resolve_temporary(obs, _tonight_ddl(ctx))  # x__dbt_tmp, build-and-swap: the real table
    obs = obs.withColumn("edge_id", edge_id_col()).withColumn("run_date", F.lit(ctx.run_date))
    obs = merge_observations(obs, OBS_KEYS)
    ctx.store.upsert("lineage_observations", obs, keys=OBS_KEYS)
    edges = merge_observations(ctx.store.read("lineage_observations"), ["edge_id"]).persist()
    ctx.store.upsert("lineage_edges", edges, keys=["edge_id"])
    result.rows_written = edges.count()
    result.details["assets"] = write_catalog(ctx, catalog, edges, dbt)
    result.details["edges_by_signal"] = {
        r.signal: r["count"] for r in edges.groupBy("signal").count().collect()
    }
    edges.unpersist()
    ctx.log(f"ingest: {result.rows_written} edges, {result.rows_rejected} queries rejected")
    return result
