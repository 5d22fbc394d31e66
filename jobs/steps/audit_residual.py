"""The residual scan of the audit step: which tables to read, how to match each column, and a
record of what was scanned per (deletion, table).

Targets (all small metadata lists, collected on the driver):

- value copies: identifier columns and the columns lineage carries their value into
  (:func:`audits.residual.identifier_targets`); matched by keying the column's values with the
  pseudonym key and joining on the subject keys;
- hashed copies: columns fed by a masked hash of an identifier
  (:func:`audits.residual.hashed_targets`), or identifier columns declaring ``hash``; matched on
  the subjects' hashed match keys (:mod:`jobs.secrets.match_keys`) when the catalog names the function
  (``columns[].hash``, on the column or on the hashed column it copies), else unverifiable;
- tables reached only by table-level lineage (:func:`audits.residual.table_level_targets`): their
  columns declared as identifiers (``is_identifier`` or the identifier's data category) or named
  like the source table's identifier columns are scanned; with none, and no column list in the
  catalog, the table is unverifiable.

Writes nothing itself: returns tonight's ``residual_findings`` (residual and unverifiable rows, as
before) and ``residual_scans`` (:data:`audits.residual.SCAN_COLUMNS`: every completed deletion x
target table, ``residual``, ``clean`` or ``unverifiable`` with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.residual import (
    column_closure,
    completions_from_events,
    hashed_targets,
    identifier_targets,
    residual_findings,
    scan_statuses,
    scannable,
    table_closure,
    table_level_targets,
)
from audits.residual_match import scan_values, subjects_by_function, target_values
from jobs.config.catalog import Catalog
from jobs.context import JobContext
from jobs.secrets import match_keys
from jobs.secrets.pseudonym import keyer, pseudonym_key

EDGES_SCHEMA = (
    "source_asset string, source_column string, target_asset string, "
    "target_column string, transformation_type string, "
    "transformation_subtype string, masking boolean"
)
ALL_COLUMNS = "*"
HITS_SCHEMA = "subject_key string, asset string, column string, rows_found long"


@dataclass
class Target:
    """One column the scan means to read."""

    asset: str
    column: str
    function: str | None = None
    """The hash the values are matched through (None: the value itself)."""
    reason: str | None = None
    """Why it cannot be read or matched (None: scan it)."""
    via: str | None = None
    """The lineage that says the column holds an identifier (provenance for subject access)."""


def _via_copy(column: str, source: str) -> str:
    return "identifier column (catalog)" if column == source else f"value copy of {source}"


def _closures(ctx: JobContext) -> tuple[DataFrame, DataFrame, DataFrame]:
    if not ctx.store.exists("lineage_closure"):
        empty = ctx.spark.createDataFrame(
            [], "source string, node string, depth int, confidence double"
        )
        tables = ctx.spark.createDataFrame([], "source_asset string, target_asset string")
        return empty, tables, ctx.spark.createDataFrame([], EDGES_SCHEMA)
    stored = ctx.store.read("lineage_closure")
    columns = column_closure(stored, ctx.run_date)
    tables = table_closure(stored, ctx.run_date)
    edges = (
        ctx.store.read("lineage_edges")
        if ctx.store.exists("lineage_edges")
        else ctx.spark.createDataFrame([], EDGES_SCHEMA)
    )
    return columns, tables, edges


def plan(ctx: JobContext, catalog: Catalog) -> list[Target]:
    """Every column the scan means to read, with its match function or why it cannot."""
    idents = catalog.identifier_columns()
    ident_df = ctx.spark.createDataFrame(idents, "asset string, column string")
    closure_df, table_closure, edges = _closures(ctx)
    declared = catalog.hash_columns()
    kinds = {a.name: a.kind for a in catalog.assets}
    out: dict[tuple[str, str], Target] = {}
    copies = identifier_targets(closure_df, ident_df, edges).collect()
    # deterministic provenance: a catalog identifier names itself, else the first source
    own = lambda r: (r.source_identifier != f"{r.asset}.{r.column}", r.source_identifier)  # noqa: E731
    for r in sorted(copies, key=own):
        src = tuple(r.source_identifier.rsplit(".", 1))
        fn = declared.get((r.asset, r.column)) or declared.get(src)  # type: ignore[arg-type]
        via = _via_copy(f"{r.asset}.{r.column}", r.source_identifier)
        out.setdefault((r.asset, r.column), Target(r.asset, r.column, fn, via=via))
    for r in hashed_targets(closure_df, ident_df, edges).collect():
        if (r.asset, r.column) in out:
            continue
        origin = tuple(r.hash_origin.rsplit(".", 1))
        fn = declared.get((r.asset, r.column)) or declared.get(origin)  # type: ignore[arg-type]
        why = (
            None
            if fn
            else (
                f"hashed copy of {r.source_identifier} (masked lineage edge into {r.hash_origin}) "
                f"and the hash function is unknown: declare columns[].hash in the catalog"
            )
        )
        via = f"hashed copy of {r.source_identifier} (masked lineage edge into {r.hash_origin})"
        out[(r.asset, r.column)] = Target(r.asset, r.column, fn, why, via)
    ident_assets = ctx.spark.createDataFrame(sorted({(a,) for a, _ in idents}), "asset string")
    for r in table_level_targets(table_closure, ident_assets, edges).collect():
        for t in _table_level(ctx, catalog, r.asset, r.source_asset, declared):
            out.setdefault((t.asset, t.column), t)
    return [t for _, t in sorted(out.items()) if scannable(kinds.get(t.asset))]


def _table_level(
    ctx: JobContext, catalog: Catalog, asset: str, source: str, declared: dict[tuple[str, str], str]
) -> list[Target]:
    """The columns to scan in a table reached only by table-level lineage from ``source``."""
    via = f"reached only by table-level lineage from {source} (no column lineage)"
    src = catalog.asset(source)
    src_idents = [c for c in (src.columns if src else ()) if c.is_identifier]
    cats = {c.data_category for c in src_idents if c.data_category}
    names = {c.name for c in src_idents}
    spec = catalog.asset(asset)
    chosen = {
        c.name
        for c in (spec.columns if spec else ())
        if c.is_identifier or (c.data_category and c.data_category in cats)
    }
    if not chosen and spec is not None and spec.columns:
        return []  # the catalog lists its columns and none holds an identifier
    if not ctx.audited.exists(asset):
        return [Target(asset, ALL_COLUMNS, None, f"{via}; no Delta table exists", via)]
    chosen |= names & set(ctx.audited.schema(asset).fieldNames())
    if chosen:
        return [Target(asset, c, declared.get((asset, c)), via=via) for c in sorted(chosen)]
    return [
        Target(
            asset,
            ALL_COLUMNS,
            None,
            f"{via}; the catalog declares none of its columns and none is named "
            f"{', '.join(sorted(names)) or 'like an identifier'}",
            via,
        )
    ]


def residuals(
    ctx: JobContext, catalog: Catalog, events: DataFrame, requests: DataFrame
) -> tuple[DataFrame, DataFrame]:
    """Tonight's ``residual_findings`` and ``residual_scans`` (without ``run_date``)."""
    targets = plan(ctx, catalog)
    completions = completions_from_events(events, ctx.cutoff)
    done = requests.join(completions, "deletion_id").select("deletion_id", "subject_key")
    keys = (
        ctx.store.read(match_keys.TABLE).select("subject_key", "function", "match_key")
        if ctx.store.exists(match_keys.TABLE)
        else ctx.spark.createDataFrame([], match_keys.SCHEMA)
    )
    key = pseudonym_key(ctx)
    by_table: dict[str, list[Target]] = {}
    for t in targets:
        if t.reason is None:
            by_table.setdefault(t.asset, []).append(t)
    values: list[DataFrame] = []
    for asset, ts in sorted(by_table.items()):
        if not ctx.audited.exists(asset):
            for t in ts:
                t.reason = "lineage says it holds identifiers but no Delta table exists"
            continue
        table = ctx.audited.read(asset)
        present = []
        for t in ts:
            if t.column in table.columns:
                present.append(t)
            else:
                t.reason = f"column {t.column} not in the table"
        if present:
            # one read of the table for all its target columns
            values.append(target_values(table, asset, [(t.column, t.function) for t in present]))
    if values:
        # the purge's rule (audits.residual_match.matched_values) for every table in one job: each
        # distinct match text keyed once, joined with the subjects' match values, rows counted
        subjects = subjects_by_function(done, [t.function for t in targets if t.function], keys)
        found = scan_values(reduce(DataFrame.unionByName, values), subjects, keyer(key)).collect()
    else:
        found = []
    # the hits are a row per (subject, column) where a deleted subject was found: small, and read
    # by both the findings and the scan statuses, so computed once
    all_hits = ctx.spark.createDataFrame(found, HITS_SCHEMA)
    target_df = ctx.spark.createDataFrame(
        [(t.asset, t.column, t.function, t.reason) for t in targets],
        "asset string, column string, function string, reason string",
    )
    unv = target_df.where(F.col("reason").isNotNull()).select("asset", "column", "reason")
    findings = residual_findings(all_hits, requests, completions, ctx.cutoff, unverifiable=unv)
    scans = scan_statuses(done, target_df, all_hits, keys.select("subject_key", "function"))
    return findings, scans
