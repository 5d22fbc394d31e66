"""dbt artifacts as a query-log format: each node of a ``manifest.json`` -> a query-log row.

The landing splits the artifacts of one folder into node records (:mod:`audits.dbt.artifacts`,
with the ``catalog.json`` column types and the ``run_results.json`` outcome beside it); this
adapter turns one record into the product's query-log row:

- a model or snapshot with compiled SQL: ``CREATE TABLE|VIEW <relation_name> AS <compiled SQL>``
  (dbt models are SELECTs whose target is the node's relation; a ``view`` materialisation is a
  view, every other one a table), dialect from ``metadata.adapter_type``, default schema the
  node's schema, ``destination`` the relation, ``columns`` the node's columns with types and the
  data categories of their ``meta``/``tags`` (:mod:`audits.dbt.categories`);
- a seed: a ``WRITE`` of its relation, a source: a ``READ`` of its relation (no SQL: their
  columns and categories only; a READ or WRITE alone adds no edge);
- ``run_results.json`` beside the manifest: a node whose status is not ``success`` (``error``,
  ``skipped``, ...) lands with status ``failed`` and the message: its SQL did not run in that
  invocation, so the ingest draws no edge from it (edges of earlier nights stay); the node's
  ``execute`` start time is the row's time, else the manifest's ``generated_at``;
- a test, analysis, operation or ephemeral model: counted as a record without a query;
- a model without compiled SQL (a manifest of ``dbt parse``), an unreadable manifest: rejected
  with the reason.
"""

from __future__ import annotations

import json
from typing import Any

from audits.querylog_formats.common import Converted, RecordContext, RecordError, query_row

NAME = "dbt_manifest"
CATALOG = "dbt_catalog"
RUN_RESULTS = "dbt_run_results"
NAMES = (NAME, CATALOG, RUN_RESULTS)
WHAT = "a node of a dbt manifest.json"


def _quoted(relation: str, dialect: str | None) -> str:
    q = "`" if dialect in ("bigquery", "databricks", "spark", "mysql") else '"'
    return ".".join(f"{q}{p}{q}" for p in relation.split("."))


def statement(rec: dict[str, Any], dialect: str | None) -> str:
    """The SQL of a model or snapshot node: its compiled SELECT as a write to its relation."""
    target = rec.get("relation_name") or _quoted(rec["relation"], dialect)
    what = "VIEW" if rec.get("materialized") == "view" else "TABLE"
    return f"CREATE {what} {target} AS\n{rec['sql']}"


def convert(text: str, ctx: RecordContext) -> Converted:
    """One node record (a JSON object made by the landing) -> a converted record."""
    try:
        rec = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"not a node record ({exc.msg})") from None
    if not isinstance(rec, dict):
        raise RecordError("not a node record")
    kind = rec.get("dbt")
    if kind == "skip":
        return Converted(skip=rec.get("reason") or "a dbt node that writes no relation")
    if kind == "error":
        where = f"{rec['unique_id']}: " if rec.get("unique_id") else ""
        what = rec.get("what") or "dbt manifest"
        return Converted(error=f"{what}: {where}{rec.get('reason')}")
    uid = rec.get("unique_id")
    if not rec.get("relation"):
        return Converted(error=f"dbt manifest: {uid}: no database/schema/alias: no relation")
    dialect = ctx.settings.dialect or rec.get("dialect")
    run = rec.get("run") or {}
    status = run.get("status")
    failed = status is not None and status not in ("success", "pass")
    error = f"dbt run status {status}: {run.get('message') or 'no message'}" if failed else None
    common = {
        "query_id": uid,
        "engine": dialect,
        "started_at": run.get("started_at") or rec.get("generated_at"),
        "finished_at": run.get("completed_at"),
        "default_schema": rec.get("schema") or ctx.settings.schema,
        "status": "failed" if failed else "ok",
        "error": error,
        "columns": rec.get("columns") or None,
    }
    rtype = rec.get("resource_type")
    if rtype in ("model", "snapshot"):
        if not rec.get("sql"):
            return Converted(
                error=(
                    f"dbt manifest: {uid}: no compiled SQL (compiled_code): the manifest was "
                    "written by a command that does not compile (dbt parse?); land the one of "
                    "dbt compile, run or build to get its lineage"
                )
            )
        return Converted(
            row=query_row(NAME, sql=statement(rec, dialect), destination=rec["relation"], **common)
        )
    action = "WRITE" if rtype == "seed" else "READ"
    return Converted(
        row=query_row(NAME, job_id=uid, action=action, table=rec["relation"], **common)
    )
