"""Spark event logs (``spark.eventLog.enabled``): one JSON listener event per line.

Record definition (Spark's ``JsonProtocol`` and the SQL listener events, serialised by Jackson):
every line has ``Event``, the event's class name. ``SparkListenerSQLExecutionStart``
(``org.apache.spark.sql.execution.ui``) has ``executionId``, ``rootExecutionId`` (3.4+),
``description`` (the job description: the statement for the ``spark-sql`` shell and the Thrift
server, else a call site such as ``count at <file>:12``), ``details`` (the long call site),
``physicalPlanDescription`` and ``time`` (epoch ms); ``SparkListenerSQLExecutionEnd`` has
``executionId``, ``time`` and ``errorMessage`` (3.4+, set when the execution failed).

Mapping: an execution start whose ``description`` (or else ``details``) is SQL text is a query row
(status ok) paired by ``executionId`` with its end, which sets the status (``errorMessage`` ->
failed) and ``finished_at``. Sub-executions (``rootExecutionId`` another execution) and
DataFrame actions without SQL text carry no statement of their own; they, the end records and
every other event (jobs, stages, tasks, executors, ...) are skipped.
"""

from __future__ import annotations

from audits.querylog_formats.common import (
    Converted,
    RecordContext,
    RecordError,
    iso_time,
    load_object,
    looks_like_sql,
    query_row,
)

NAME = "spark_eventlog"
WHAT = "a Spark listener event"
START = "SparkListenerSQLExecutionStart"
END = "SparkListenerSQLExecutionEnd"


def looks_like(obj: dict) -> bool:
    """Detection: an ``Event`` naming a Spark listener event."""
    return isinstance(obj.get("Event"), str) and "SparkListener" in obj["Event"]


def convert(text: str, ctx: RecordContext) -> Converted:
    """One event line -> a query row (execution start), an end record, or a skip."""
    obj = load_object(text, WHAT)
    if not looks_like(obj):
        raise RecordError("no 'Event' naming a SparkListener event")
    event = obj["Event"].rsplit(".", 1)[-1]
    if event not in (START, END):
        return Converted(skip=f"{event}: not a SQL execution")
    if obj.get("executionId") is None:
        raise RecordError(f"{event} without 'executionId'")
    exec_id = str(obj["executionId"])
    if event == END:
        failed = bool(obj.get("errorMessage"))
        row = query_row(
            NAME,
            status="failed" if failed else "ok",
            finished_at=iso_time(obj.get("time")),
            error=str(obj["errorMessage"])[:2000] if failed else None,
        )
        return Converted(row=row, pair_key=exec_id, ends=True)
    root = obj.get("rootExecutionId")
    if root is not None and str(root) != exec_id:
        return Converted(skip=f"a sub-execution of execution {root}")
    sql = next((obj[k] for k in ("description", "details") if looks_like_sql(obj.get(k))), None)
    if sql is None:
        what = str(obj.get("description") or "")[:60]
        return Converted(skip=f"a DataFrame action without SQL text ({what!r})")
    stem = ctx.file_name.rsplit("/", 1)[-1]
    return Converted(
        row=query_row(
            NAME,
            query_id=f"{stem}:{exec_id}",
            engine=ctx.settings.dialect or "spark",
            started_at=iso_time(obj.get("time")),
            sql=sql,
            default_schema=ctx.settings.schema.lower() if ctx.settings.schema else None,
        ),
        pair_key=exec_id,
    )
