"""BigQuery ``INFORMATION_SCHEMA.JOBS`` (``JOBS_BY_PROJECT``/``_BY_USER``/``_BY_ORGANIZATION``)
exports, as JSON lines (``bq query --format=json``, ``EXPORT DATA ... format='JSON'``) or CSV.

Record definition (the view's documented columns, the ones read here): ``job_id``,
``project_id``, ``user_email``, ``job_type`` (QUERY, LOAD, EXTRACT, COPY), ``statement_type``
(SELECT, INSERT, CREATE_TABLE_AS_SELECT, MERGE, ...), ``state`` (PENDING, RUNNING, DONE),
``creation_time``, ``start_time``, ``end_time``, ``query``, ``error_result`` (RECORD ``reason``,
``location``, ``message``), ``destination_table`` and ``referenced_tables`` (RECORD
``project_id``, ``dataset_id``, ``table_id``). A CSV export cannot hold RECORD columns as they
are: they are read from columns ``destination_table.dataset_id`` (or ``destination_table_dataset_id``)
and the like, or from one column holding the record as JSON or as ``project.dataset.table``.

Mapping: ``state`` DONE without ``error_result`` -> ok, DONE with it -> failed; a job not DONE
has no outcome yet and is skipped (the next export has it), as are non-QUERY jobs. A table in
the job's own project is named ``dataset.table`` (as the query names it with its default
project), another project's ``project.dataset.table``. **A SELECT with a destination table is a
write to it**: unless the destination is an anonymous result table (a dataset whose id starts
with ``_``, where BigQuery caches every query's result), the row's SQL becomes
``CREATE TABLE <destination> AS <query>`` so that the SQL lineage gets the target columns.
"""

from __future__ import annotations

import json
from typing import Any

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    query_row,
)
from audits.querylog_formats.csv_records import table_row

NAME = "bigquery"
WHAT = "a BigQuery INFORMATION_SCHEMA.JOBS row"
REQUIRED_COLUMNS = ("job_id", "query", "creation_time")
"""Columns a CSV export must have (``state`` and ``error_result`` give the outcome when present)."""
TABLE_PARTS = ("project_id", "dataset_id", "table_id")


def looks_like(keys: set[str]) -> bool:
    """Detection from an object's keys or a CSV header (lower case)."""
    return "job_id" in keys and bool(
        keys & {"statement_type", "creation_time", "referenced_tables", "total_bytes_processed"}
    )


def _table(rec: dict[str, Any], col: str) -> dict[str, Any] | None:
    """A RECORD column from JSON (object/JSON text/dotted text) or flattened CSV columns."""
    value = rec.get(col)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                raise RecordError(f"field '{col}' is not a JSON record: {text[:60]}") from None
        elif text:
            parts = text.replace("`", "").replace(":", ".").split(".")
            value = dict(zip(TABLE_PARTS[-len(parts) :], parts, strict=False))
    if value is None:
        flat = {p: rec.get(f"{col}.{p}") or rec.get(f"{col}_{p}") for p in TABLE_PARTS}
        value = flat if any(flat.values()) else None
    if value is not None and not isinstance(value, dict):
        raise RecordError(
            f"field '{col}' is {value!r}, expected a record of {', '.join(TABLE_PARTS)}"
        )
    return value or None


def _name(table: dict[str, Any], project: str | None) -> str | None:
    ds, tb = table.get("dataset_id"), table.get("table_id")
    if not ds or not tb:
        return None
    proj = table.get("project_id")
    parts = [ds, tb] if not proj or proj == project else [proj, ds, tb]
    return ".".join(str(p).lower() for p in parts)


def _quoted(name: str) -> str:
    return ".".join(f"`{p}`" for p in name.split("."))


def convert_fields(rec: dict[str, Any], ctx: RecordContext) -> Converted:
    """One JOBS row (JSON object or CSV fields by lower-case column) -> a query row."""
    rec = {str(k).lower(): v for k, v in rec.items()}
    job_type = str(rec.get("job_type") or "QUERY").upper()
    if job_type != "QUERY":
        return Converted(skip=f"a {job_type} job: no query")
    for col in ("job_id", "query"):
        if rec.get(col) in (None, ""):
            raise RecordError(f"field '{col}' is missing")
    state = str(rec.get("state") or "DONE").upper()
    if state != "DONE":
        return Converted(skip=f"job state {state}: not finished, a later export has its outcome")
    error = rec.get("error_result")
    if error is None and (rec.get("error_result.message") or rec.get("error_result_message")):
        error = {
            "reason": rec.get("error_result.reason") or rec.get("error_result_reason"),
            "message": rec.get("error_result.message") or rec.get("error_result_message"),
        }
    if isinstance(error, str):
        try:
            error = json.loads(error) if error.strip().startswith("{") else {"message": error}
        except ValueError:
            error = {"message": error}
    project = rec.get("project_id") or ctx.settings.catalog
    dest = _table(rec, "destination_table")
    destination = None
    if dest and not str(dest.get("dataset_id") or "").startswith("_"):
        destination = _name(dest, project)
    sql = str(rec["query"])
    stmt = str(rec.get("statement_type") or "").upper()
    if destination and stmt == "SELECT":
        sql = f"CREATE TABLE {_quoted(destination)} AS\n{sql}"
    default = rec.get("default_dataset")
    default = _table({"d": default}, "d") if default else None
    default_schema = (default or {}).get("dataset_id") or ctx.settings.schema
    message = None
    if isinstance(error, dict) and error:
        message = ": ".join(str(error[k]) for k in ("reason", "message") if error.get(k)) or "error"
    return Converted(
        row=query_row(
            NAME,
            query_id=str(rec["job_id"]),
            engine=ctx.settings.dialect or "bigquery",
            user=rec.get("user_email"),
            started_at=iso_time(rec.get("start_time") or rec.get("creation_time")),
            finished_at=iso_time(rec.get("end_time")),
            sql=sql,
            default_schema=str(default_schema).lower() if default_schema else None,
            status="failed" if message else "ok",
            error=message,
            destination=destination,
        )
    )


def convert(text: str, ctx: RecordContext) -> Converted:
    """A JSON line or (with ``ctx.header``) a CSV record -> a query row."""
    return convert_fields(
        table_row(
            text, ctx, WHAT, looks_like, "no 'job_id' with 'creation_time' or 'statement_type'"
        ),
        ctx,
    )
