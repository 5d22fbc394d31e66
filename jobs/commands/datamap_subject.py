"""``compliance datamap --subject-key K``: where one pseudonymous subject's data is.

Two kinds of places, one row each (:data:`SUBJECT_COLUMNS`):

* the tables where the residual scan of the latest run found rows of the subject
  (``residual_findings``, with ``found_rows`` and ``status``);
* every personal-data column of an asset that holds an identifier column, or that an identifier
  column reaches through lineage: rows keyed by the subject's identifier may carry its personal
  data there (``via`` names the identifier column that leads to it).

The subject is only ever the keyed hash ``sk_<hex>``; raw subject ids never enter the product.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F

from jobs.context import JobContext
from jobs.errors import UsageError
from jobs.steps.report_datamap import (
    MAX_REACH,
    collect,
    data_map,
    latest_run_date,
    personal_columns,
    reach,
)
from reports.model import DataMap
from reports.safety import SUBJECT_KEY

SUBJECT_COLUMNS = (
    "asset",
    "column",
    "data_category",
    "kind",
    "zone",
    "owner",
    "retention_days",
    "found_rows",
    "status",
    "via",
)


def subject_map(ctx: JobContext, subject_key: str) -> tuple[DataMap, list[dict[str, Any]]]:
    """The data map of one pseudonymous subject and its place rows (:data:`SUBJECT_COLUMNS`).

    Places are the tables where the residual scan of the latest run found the subject's rows,
    and every personal column of the assets the identifier columns reach (where rows keyed by
    the subject may hold its data).

    Raises:
        UsageError: for a key that is not ``sk_`` and hex digits.
    """
    if not SUBJECT_KEY.fullmatch(subject_key or ""):
        raise UsageError(
            f"--subject-key expects a pseudonymous key 'sk_<hex>', got {subject_key!r}"
        )
    found = _found(ctx, subject_key)
    personal = personal_columns(ctx)
    ident = personal.filter(F.col("is_identifier"))
    run_date = latest_run_date(ctx)
    reached = reach(ctx, ident, run_date)
    via = reached.groupBy(F.col("target_asset").alias("asset_id")).agg(
        F.min(F.concat_ws(".", "source_asset", "source_column")).alias("via")
    )
    holders = ident.select("asset_id", F.concat_ws(".", "asset_id", "column").alias("via"))
    holders = holders.unionByName(via)
    if found:
        hits = sorted({(a, "residual scan") for a, _ in found})
        hit_df = ctx.spark.createDataFrame(hits, "asset_id string, via string")
        holders = holders.unionByName(hit_df)
    holders = holders.groupBy("asset_id").agg(F.min("via").alias("via"))
    cols = personal.join(F.broadcast(holders), "asset_id")
    pcols = collect(cols, ["data_category", "asset_id", "column"], MAX_REACH)
    catalog = ctx.catalog
    places = []
    for c in pcols:
        hit = found.get((c["asset_id"], c["column"]))
        places.append(
            {
                "asset": c["asset_id"],
                "column": c["column"],
                "data_category": c["data_category"],
                "kind": c["kind"],
                "zone": c["zone"],
                "owner": c["owner"],
                "retention_days": catalog.retention_for(c["data_category"]),
                "found_rows": hit["rows_found"] if hit else None,
                "status": hit["status"] if hit else None,
                "via": c["via"],
            }
        )
    listed = {(p["asset"], p["column"]) for p in places}
    for (asset, column), hit in sorted(found.items()):
        if (asset, column) not in listed:
            places.append(
                {
                    "asset": asset,
                    "column": column,
                    "data_category": None,
                    "kind": None,
                    "zone": None,
                    "owner": None,
                    "retention_days": None,
                    "found_rows": hit["rows_found"],
                    "status": hit["status"],
                    "via": "residual scan",
                }
            )
    order = ["source_asset", "source_column", "depth", "target_asset", "target_column"]
    flows = collect(reach(ctx, cols.drop("via"), run_date), order, MAX_REACH)
    names = {p["asset"] for p in places} | {str(f["target_asset"]) for f in flows}
    dm = data_map(ctx, pcols, flows, names, scope=f"subject {subject_key}", run_date=run_date)
    return dm, places


def _found(ctx: JobContext, subject_key: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(asset, column) -> residual_findings row of the subject in the latest run's slice."""
    res = ctx.store.read("residual_findings", missing_ok=True)
    if res is None:
        return {}
    day = latest_run_date(ctx, "residual_findings")
    mine = res.filter((F.col("run_date") == F.lit(day)) & (F.col("subject_key") == subject_key))
    mine = mine.select("asset", "column", "rows_found", "status")
    rows = collect(mine, ["asset", "column"], 1000)
    return {(r["asset"], r["column"]): r for r in rows}


__all__ = ["SUBJECT_COLUMNS", "subject_map"]
