"""``compliance datamap --subject-key K``: subject access (GDPR Art. 15) for one pseudonymous key.

Scans the audited tables that lineage says hold identifiers, with the residual scan's targets
(:func:`jobs.steps.audit_residual.plan`: identifier columns, their value copies, their hashed
copies, tables reached by table-level lineage) and its matching rule
(:func:`audits.residual_match.subject_rows`, one read per table for all its identifier columns,
every table in one Spark job). A hashed copy matches through the subject's match key of that
hash (``subject_match_keys``, recorded when a deletion request of the subject lands); without one
the column is listed as not checked. Only the subject's row counts and column names reach the
driver; the answer is :class:`reports.subject_access.SubjectAccess`.
"""

from __future__ import annotations

import dataclasses
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.residual_match import subject_cells, subject_rows, subjects_by_function
from jobs.context import JobContext
from jobs.errors import UsageError
from jobs.secrets import match_keys
from jobs.secrets.pseudonym import CHECK_TABLE, existing_key, keyer, pseudonym_key
from jobs.steps.audit_residual import Target, plan
from jobs.steps.report_datamap import latest_run_date, personal_columns
from reports.subject_access import (
    ScanColumn,
    SubjectAccess,
    held_tables,
    key_problem,
    not_checked_row,
)

NO_MATCH_KEY = (
    "hashed copy ({fn}) and no {fn} match key of this subject: match keys are recorded when a "
    "deletion request of the subject lands, so only its clear identifier columns can be matched"
)


def check_subject_key(subject_key: str | None) -> None:
    """Raises UsageError (one line) for a key that is not ``sk_`` + 32 hex digits."""
    why = key_problem(subject_key)
    if why:
        raise UsageError(why)


def subject_access(ctx: JobContext, subject_key: str) -> SubjectAccess:
    """What the audited tables hold about the subject of ``subject_key`` (see the module doc).

    Raises:
        UsageError: for a key of the wrong shape.
        KeyLossError: the pseudonymisation key is missing or not the warehouse's.
    """
    check_subject_key(subject_key)
    key = existing_key(ctx.cfg.keys.dir)  # never creates a key
    if ctx.store.exists(CHECK_TABLE):
        key = pseudonym_key(ctx)  # refuses a key that is not the warehouse's
    as_of = latest_run_date(ctx)
    if as_of is not None:
        ctx = dataclasses.replace(ctx, run_date=as_of)
    targets = plan(ctx, ctx.catalog)
    held_keys = _match_keys(ctx, subject_key)
    functions = _functions(held_keys)
    unchecked: list[dict[str, Any]] = []
    by_table: dict[str, list[Target]] = {}
    for t in targets:
        if t.reason is None and t.function is not None and t.function not in functions:
            t.reason = NO_MATCH_KEY.format(fn=t.function)
        if t.reason is None:
            by_table.setdefault(t.asset, []).append(t)
        else:
            unchecked.append(not_checked_row(t.asset, t.column, t.reason, t.via))
    scans: list[DataFrame] = []
    scanned: dict[str, list[ScanColumn]] = {}
    who = ctx.spark.createDataFrame([(subject_key,)], "subject_key string")
    subjects = subjects_by_function(who, functions, held_keys)
    for asset, ts in sorted(by_table.items()):
        if not ctx.audited.exists(asset):
            for t in ts:
                why = "lineage says it holds identifiers but no Delta table exists"
                unchecked.append(not_checked_row(asset, t.column, why, t.via))
            continue
        table = ctx.audited.read(asset)
        present = [t for t in ts if t.column in table.columns]
        for t in ts:
            if t not in present:
                why = f"column {t.column} not in the table"
                unchecked.append(not_checked_row(asset, t.column, why, t.via))
        if present:
            cols = [(t.column, t.function) for t in present]
            scans.append(subject_cells(table, asset, cols))
            scanned[asset] = [ScanColumn(t.column, t.function, t.via) for t in present]
    # every table in one job, its values keyed in one pass; only the subject's (asset, matching
    # columns, rows) come back
    groups = []
    if scans:
        found = subject_rows(reduce(DataFrame.unionByName, scans), subjects, keyer(key))
        groups = [r.asDict() for r in found.collect()]
    hit = sorted({str(g["asset"]) for g in groups})
    personal = _small(personal_columns(ctx), hit, ["asset_id", "column", "data_category"])
    assets = {
        r["asset_id"]: r
        for r in _small(ctx.store.read("assets"), hit, ["asset_id", "zone", "owner"])
    }
    return SubjectAccess(
        subject_key=subject_key,
        lineage_as_of=as_of,
        tables=held_tables(groups, scanned, personal, assets),
        not_checked=sorted(unchecked, key=lambda r: (r["asset"], r["reason"])),
        scanned=len(scanned),
    )


def _match_keys(ctx: JobContext, subject_key: str) -> DataFrame:
    """``subject_match_keys`` of the subject (empty without the table)."""
    if not ctx.store.exists(match_keys.TABLE):
        return ctx.spark.createDataFrame([], match_keys.SCHEMA)
    keys = ctx.store.read(match_keys.TABLE).select("subject_key", "function", "match_key")
    return keys.filter(F.col("subject_key") == F.lit(subject_key))


def _functions(keys: DataFrame) -> list[str]:
    """The hash functions the subject has a match key of (a few names)."""
    return sorted(str(r.function) for r in keys.select("function").distinct().collect())


def _small(df: DataFrame, assets: list[str], columns: list[str]) -> list[dict[str, Any]]:
    """Product catalog rows of a few assets (small tables)."""
    if not assets:
        return []
    rows = df.filter(F.col("asset_id").isin(assets)).select(*columns).collect()
    return [r.asDict() for r in rows]


__all__ = ["NO_MATCH_KEY", "check_subject_key", "subject_access"]
