"""The GDPR data map: where personal data goes, from the lineage closure (``compliance datamap``).

Reads the column-level ``lineage_closure`` slice of the latest run date, joins each reached node
with the last hop's edge of ``lineage_edges`` (transformation type/subtype, masking), the reached
asset (zone, owner, kind from ``assets``) and the retention of the source's data category (catalog),
and hands a small :class:`reports.model.DataMap` (with the catalog's declared processing
activities, for the Article 30 record) to the renderer or prints it as JSON/CSV. All
joins and filters run in Spark; only the answer (capped at :data:`MAX_REACH` flows) reaches the
driver.

Scopes:

* ``column="crm.customers.email"``: every place that column reaches;
* ``category="user.contact"``: every personal column of that category (or below it) and its reach;
* ``subject_key="sk_..."``: not a data map but the subject access answer, scanned by
  :mod:`jobs.commands.datamap_subject` (only the scope's label and slug are used here);
* none of them (the nightly report): every personal-data column.

Example:
    >>> datamap(ctx, column="crm.customers.email", category=None, subject_key=None,
    ...         fmt="json", out=None)  # doctest: +SKIP
    '[{"asset": ...}]'
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, TimestampNTZType, TimestampType

from jobs.context import JobContext
from jobs.errors import UsageError
from lineage.flows import last_hops
from lineage.masking import with_path_masking
from reports import datamap as dm_view
from reports.model import DataMap

Format = Literal["html", "json", "csv"]
PERSONAL_PREFIX = "user"
MAX_REACH = 5000
"""Flows shown at most (the nearest and most confident first)."""
REACH_COLUMNS = (
    "source_asset",
    "source_column",
    "data_category",
    "target_asset",
    "target_column",
    "depth",
    "confidence",
    "path",
    "transformation_type",
    "transformation_subtype",
    "masking",
    "masked_on_path",
)


@dataclass(frozen=True)
class Scope:
    """What a data map covers (at most one of the three is set)."""

    column: str | None = None
    category: str | None = None
    subject_key: str | None = None

    @property
    def label(self) -> str:
        """Human description (``DataMap.scope``)."""
        if self.column:
            return f"column {self.column}"
        if self.category:
            return f"category {self.category}"
        if self.subject_key:
            return f"subject {self.subject_key}"
        return "all personal data"

    @property
    def slug(self) -> str:
        """File-system friendly name of the scope (``datamap-<slug>``)."""
        text = self.column or self.category or self.subject_key or "all"
        return re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-") or "all"


def latest_run_date(ctx: JobContext, table: str = "lineage_closure") -> date | None:
    """The latest run date of a per-run-date table, not after ``ctx.run_date`` when possible."""
    df = ctx.store.read(table, missing_ok=True)
    if df is None:
        return None
    row = df.agg(
        F.max(F.when(F.col("run_date") <= F.lit(ctx.run_date), F.col("run_date"))).alias("le"),
        F.max("run_date").alias("any"),
    ).first()
    return row["le"] or row["any"]


def personal_columns(ctx: JobContext) -> DataFrame:
    """``columns`` rows with a personal data category, with the asset's name, zone and owner."""
    cols = ctx.store.read("columns").filter(
        (F.col("data_category") == PERSONAL_PREFIX)
        | F.col("data_category").startswith(PERSONAL_PREFIX + ".")
    )
    return _with_assets(ctx, cols)


def _with_assets(ctx: JobContext, cols: DataFrame) -> DataFrame:
    """``columns`` rows with their asset's name, zone, owner and kind."""
    assets = ctx.store.read("assets").select(
        "asset_id", F.col("asset_id").alias("name"), "zone", "owner", "kind"
    )
    return cols.join(assets, "asset_id", "left").select(
        "asset_id",
        "name",
        "column",
        "data_category",
        "is_identifier",
        "classification",
        "zone",
        "owner",
        "kind",
    )


def reach(ctx: JobContext, sources: DataFrame, run_date: date | None) -> DataFrame:
    """Closure rows (column level) from ``sources`` [asset_id, column, data_category] with the
    last hop's transformation and masking; the reach rows of :class:`DataMap`."""
    closure = ctx.store.read("lineage_closure", missing_ok=True)
    if closure is None or run_date is None:
        return ctx.spark.createDataFrame(
            [],
            ", ".join(
                f"{c} {t}"
                for c, t in zip(
                    REACH_COLUMNS,
                    (
                        "string",
                        "string",
                        "string",
                        "string",
                        "string",
                        "int",
                        "double",
                        "array<string>",
                        "string",
                        "string",
                        "boolean",
                        "boolean",
                    ),
                    strict=True,
                )
            ),
        )
    src = sources.select(
        F.col("asset_id").alias("source_asset"),
        F.col("column").alias("source_column"),
        "data_category",
    ).distinct()
    rows = closure.filter(
        (F.col("run_date") == F.lit(run_date)) & (F.col("level") == "column")
    ).join(F.broadcast(src), ["source_asset", "source_column"])
    n = F.size("path")
    rows = rows.withColumn("_src", F.when(n >= 2, F.element_at("path", -2))).withColumn(
        "_dst", F.element_at("path", -1)
    )
    edges = ctx.store.read("lineage_edges", missing_ok=True)
    if edges is not None:
        hops = last_hops(edges)
        rows = rows.join(hops, ["_src", "_dst"], "left")
        if "masked_on_path" not in rows.columns:  # a closure written before it was recorded
            masks = hops.select(F.col("_src").alias("src"), F.col("_dst").alias("dst"), "masking")
            rows = rows.transform(with_path_masking(masks)).drop("last_hop_masked")
    else:
        rows = rows.select(
            "*",
            *[
                F.lit(None).cast(t).alias(c)
                for c, t in (
                    ("transformation_type", "string"),
                    ("transformation_subtype", "string"),
                    ("masking", "boolean"),
                    ("masked_on_path", "boolean"),
                )
                if c not in rows.columns
            ],
        )
    return rows.select(*REACH_COLUMNS)


SHOWN_FROM, SHOWN_UNTIL = "1900-01-01", "9999-12-30"
"""Dates and times a page shows; one outside (a year-1 ``scheduled_for`` that landed before
timestamps were range-checked) is shown empty instead of failing the report every night."""


def displayable(df: DataFrame) -> DataFrame:
    """``df`` with every top-level date or timestamp outside the shown range set to NULL."""
    cols = []
    for f in df.schema.fields:
        c = F.col(f"`{f.name}`")
        if isinstance(f.dataType, DateType | TimestampType | TimestampNTZType):
            lo, hi = F.lit(SHOWN_FROM).cast(f.dataType), F.lit(SHOWN_UNTIL).cast(f.dataType)
            c = F.when(c.between(lo, hi), c)
        cols.append(c.alias(f.name))
    return df.select(*cols)


def collect(df: DataFrame, order: list[Any], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of ``df`` in ``order`` as dicts (small results only), dates
    outside what a page can show set to None (see :func:`displayable`)."""
    rows = displayable(df.orderBy(*order).limit(limit)).collect()
    return [r.asDict(recursive=True) for r in rows]


def _assets_rows(ctx: JobContext, names: set[str]) -> list[dict[str, Any]]:
    if not names or not ctx.store.exists("assets"):
        return []
    wanted = ctx.spark.createDataFrame([(n,) for n in sorted(names)], "asset_id string")
    return collect(
        ctx.store.read("assets")
        .join(F.broadcast(wanted), "asset_id")
        .select("asset_id", F.col("asset_id").alias("name"), "kind", "owner", "zone"),
        ["asset_id"],
        len(names),
    )


def build_datamap(
    ctx: JobContext, scope: Scope | None = None, *, violations: list[dict[str, Any]] | None = None
) -> DataMap:
    """The :class:`DataMap` of a scope (default: all personal data), reduced in Spark.

    Args:
        ctx: the job context.
        scope: what to map; ``None`` maps every personal-data column.
        violations: ``policy_violations`` rows to mark on the drawn graph.

    Raises:
        UsageError: for an unknown column or category, with close matches.
    """
    scope = scope or Scope()
    catalog = ctx.catalog
    policies = ctx.policies
    run_date = latest_run_date(ctx)
    if not ctx.store.exists("columns") or not ctx.store.exists("assets"):
        if scope.column or scope.category:
            raise UsageError(
                "no catalog tables yet: run `compliance nightly` (or `compliance ingest`) first"
            )
        return DataMap(
            retention_days=catalog.retention_days,
            zone_purposes=policies.zones,
            processing=catalog.processing,
            scope=scope.label,
            run_date=run_date or ctx.run_date,
        )
    personal = personal_columns(ctx)
    if scope.column:
        sources = column_sources(ctx, scope.column)
    elif scope.category:
        sources = category_sources(ctx, personal, scope.category)
    else:
        sources = personal
    pcols = collect(sources, ["data_category", "asset_id", "column"], MAX_REACH)
    flows = collect(
        reach(ctx, sources, run_date),
        [
            "source_asset",
            "source_column",
            "depth",
            F.desc("confidence"),
            "target_asset",
            "target_column",
        ],
        MAX_REACH,
    )
    names = {str(c["asset_id"]) for c in pcols} | {str(f["target_asset"]) for f in flows}
    dm = data_map(ctx, pcols, flows, names, scope=scope.label, run_date=run_date)
    if flows:
        touched = {str(f["target_asset"]) for f in flows}
        marks = tuple(v for v in (violations or []) if str(v.get("target_asset")) in touched)
        dm = replace(dm, graph=dm_view.graph_from_reach(dm, marks))
    return dm


def data_map(
    ctx: JobContext,
    personal_columns: list[dict[str, Any]],
    reach: list[dict[str, Any]],
    asset_names: set[str],
    *,
    scope: str,
    run_date: date | None,
) -> DataMap:
    """The data map of these personal columns and flows, with the run's catalog and policies."""
    return DataMap(
        personal_columns=personal_columns,
        reach=reach,
        assets=_assets_rows(ctx, asset_names),
        retention_days=ctx.catalog.retention_days,
        zone_purposes=ctx.policies.zones,
        processing=ctx.catalog.processing,
        scope=scope,
        run_date=run_date or ctx.run_date,
    )


def _all_column_names(ctx: JobContext) -> list[str]:
    return [
        r[0]
        for r in ctx.store.read("columns")
        .select(F.concat_ws(".", "asset_id", "column").alias("n"))
        .distinct()
        .collect()
    ]


def column_sources(ctx: JobContext, column: str) -> DataFrame:
    """The catalog row of ``T.C`` as a one-row source set.

    Raises:
        UsageError: when no such column exists, suggesting close matches.
    """
    table, _, col = column.strip().lower().rpartition(".")
    if not table or not col:
        raise UsageError(
            f"--column expects TABLE.COLUMN (e.g. crm.customers.email), got {column!r}"
        )
    cols = ctx.store.read("columns").filter((F.col("asset_id") == table) & (F.col("column") == col))
    found = _with_assets(ctx, cols)
    if found.limit(1).count() == 0:
        names = _all_column_names(ctx)
        raise UsageError(f"unknown column {column!r}" + _suggest(column.lower(), names))
    return found


def category_sources(ctx: JobContext, personal: DataFrame, category: str) -> DataFrame:
    """Personal columns of ``category`` or below it.

    Raises:
        UsageError: when no column has that category, suggesting close matches.
    """
    cat = category.strip().lower().rstrip(".")
    cats = F.col("data_category")
    found = personal.filter((cats == cat) | cats.startswith(cat + "."))
    if found.limit(1).count() == 0:
        known = [
            r[0]
            for r in ctx.store.read("columns").select("data_category").distinct().collect()
            if r[0]
        ]
        prefixes = sorted(
            {".".join(k.split(".")[:i]) for k in known for i in range(1, k.count(".") + 2)}
        )
        raise UsageError(f"unknown data category {category!r}" + _suggest(cat, prefixes))
    return found


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if not close:  # e.g. a bare column name: match on the last part
        tail = word.rpartition(".")[2]
        close = sorted(c for c in choices if c.rpartition(".")[2] == tail)[:3]
    if close:
        return f"; did you mean {', '.join(close)}?"
    return "; see `compliance tables` for what exists"


def _violations(ctx: JobContext, run_date: date | None = None) -> list[dict[str, Any]]:
    """Policy violations of the run date (default: the latest), for marking the graph."""
    pv = ctx.store.read("policy_violations", missing_ok=True)
    if pv is None or "run_date" not in pv.columns:
        return []
    day = run_date or latest_run_date(ctx, "policy_violations")
    order = ["policy", "source_asset", "source_column", "target_asset", "target_column"]
    return collect(pv.filter(F.col("run_date") == F.lit(day)), order, 500)


__all__ = ["Scope", "build_datamap", "collect", "latest_run_date", "personal_columns", "reach"]
