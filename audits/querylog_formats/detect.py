"""Which query-log format a file holds, from its first bytes (``format: auto``).

The rule, on the first non-blank lines of the file (at most :data:`SAMPLE_BYTES`):

1. The first line that is a JSON object (after a log-line prefix, for the Hive hook) decides by
   its keys: ``metadata.queryId``/``query`` beside ``context`` -> ``trino``; ``Event`` naming a
   ``SparkListener`` event -> ``spark_eventlog``; ``queryText`` beside ``edges``/``vertices`` ->
   ``hive_lineage``; ``job_id`` with ``creation_time``/``statement_type``/... -> ``bigquery``;
   ``QUERY_TEXT`` with ``QUERY_ID``/``EXECUTION_STATUS``/... (any case) -> ``snowflake``;
   ``statement_text`` with ``statement_id``/``execution_status``/... -> ``databricks``;
   ``sql``/``action``/``started_at``/``query_id`` -> ``jsonl`` (the product's own).
   A first line that does not parse (a truncated event) is matched by the same keys in its text.
2. Otherwise the first CSV record: the fixed csvlog layout (a timestamp, then a severity in the
   12th field) -> ``postgres_csvlog``; a header naming the QUERY_HISTORY columns ->
   ``snowflake``; the system.query.history columns -> ``databricks``; the INFORMATION_SCHEMA.JOBS
   columns -> ``bigquery``.
0. Before all: a dbt artifact names its schema in ``metadata.dbt_schema_version``
   (``https://schemas.getdbt.com/dbt/manifest/v12.json``): ``dbt_manifest``, ``dbt_catalog``
   or ``dbt_run_results``; an artifact of another kind or of a schema version the product does
   not read is not read, with that reason.
3. Otherwise the format is unknown and the file is not read (one ``rejected_inputs`` row says
   what its first line looks like). A ``.jsonl``/``.ndjson`` file of no recognised format is
   read as the product's own JSON Lines, as before detection existed: its lines are judged one
   by one.
"""

from __future__ import annotations

import json
import re

from audits.dbt.artifacts import schema_version, version_problem
from audits.querylog_formats import (
    bigquery,
    databricks,
    hive,
    postgres,
    snowflake,
    spark_events,
    trino,
)
from audits.querylog_formats.common import RecordError
from audits.querylog_formats.csv_records import header_of, split_record

SAMPLE_BYTES = 64 * 1024
"""Bytes read from the start of each file to detect its format."""
MAX_SAMPLE_LINES = 50
PRODUCT_KEYS = frozenset({"sql", "action", "started_at", "query_id"})
_TEXT_HINTS = (
    (re.compile(r'"metadata"\s*:\s*\{[^{}]*"(queryId|query)"'), "trino"),
    (re.compile(r'"Event"\s*:\s*"[\w.]*SparkListener'), "spark_eventlog"),
    (re.compile(r'"queryText"\s*:'), "hive_lineage"),
)
_CSV_REQUIRED = {
    "bigquery": bigquery.REQUIRED_COLUMNS,
    "snowflake": snowflake.REQUIRED_COLUMNS,
    "databricks": databricks.REQUIRED_COLUMNS,
}


class Detected:
    """The outcome: a format name (``csv``/``header`` for CSV ones) or why none was found."""

    def __init__(
        self,
        name: str | None,
        *,
        csv: bool = False,
        header: tuple[str, ...] = (),
        header_line: int = 0,
        problem: str | None = None,
    ) -> None:
        self.name = name
        self.csv = csv
        self.header = header
        self.header_line = header_line
        self.problem = problem

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Detected({self.name!r}, csv={self.csv}, problem={self.problem!r})"


def sample_lines(sample: bytes | str, *, complete: bool = True) -> list[tuple[int, str]]:
    """(physical line number, text) of the sample's lines; the cut last line is dropped."""
    text = sample.decode("utf-8", errors="replace") if isinstance(sample, bytes) else sample
    lines = text.split("\n")
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    return [(i + 1, ln.rstrip("\r")) for i, ln in enumerate(lines[: MAX_SAMPLE_LINES * 4])]


def _json_format(obj: dict) -> str | None:
    keys = {str(k).lower() for k in obj}
    if trino.looks_like(obj):
        return "trino"
    if spark_events.looks_like(obj):
        return "spark_eventlog"
    if hive.looks_like(obj):
        return "hive_lineage"
    if bigquery.looks_like(keys):
        return "bigquery"
    if snowflake.looks_like(keys):
        return "snowflake"
    if databricks.looks_like(keys):
        return "databricks"
    if keys & PRODUCT_KEYS:
        return "jsonl"
    return None


def _object(line: str) -> dict | None:
    for text in (line, hive.json_part(line)):
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _describe(line: str) -> str:
    shown = line.strip()[:60]
    return f"its first line is {shown!r}" if shown else "it is empty"


def detect(sample: bytes | str, *, complete: bool = True, file_name: str = "") -> Detected:
    """The format of a file from its first bytes (see the module docstring for the rule)."""
    lines = [(n, t) for n, t in sample_lines(sample, complete=complete) if t.strip()]
    if not lines:
        return Detected(None, problem="unknown format: the file has no non-blank line")
    first_no, first = lines[0]
    dbt = _dbt(sample)
    if dbt is not None:
        return dbt
    objects = [o for o in (_object(t) for _n, t in lines[:MAX_SAMPLE_LINES]) if o is not None]
    for obj in objects[:5]:
        name = _json_format(obj)
        if name:
            return Detected(name)
    if first.lstrip().startswith("{") or objects:
        for pattern, name in _TEXT_HINTS:
            if any(pattern.search(t) for _n, t in lines[:5]):
                return Detected(name)
        keys = sorted(objects[0])[:6] if objects else []
        shape = f"a JSON object with keys {', '.join(keys)}" if keys else "JSON that does not parse"
        return _unknown(f"{shape}, of no known query-log format", file_name)
    text = "\n".join(t for _n, t in lines)
    try:
        fields = split_record(_first_record(text))
    except RecordError:
        fields = []
    if fields and postgres.looks_like(fields):
        return Detected("postgres_csvlog", csv=True)
    header = header_of(text)
    name = _table_format(set(header)) if header else None
    if name:
        return _with_header(name, header, first_no)
    return _unknown(_describe(first), file_name)


def _table_format(cols: set[str]) -> str | None:
    """The export format (CSV header or Parquet columns, lower case) whose columns these are."""
    for name, looks in (
        ("snowflake", snowflake.looks_like),
        ("databricks", databricks.looks_like),
        ("bigquery", bigquery.looks_like),
    ):
        if looks(cols):
            return name
    return None


_DBT_FORMATS = {
    "manifest": "dbt_manifest",
    "catalog": "dbt_catalog",
    "run-results": "dbt_run_results",
}


def _dbt(sample: bytes | str) -> Detected | None:
    """A dbt artifact (by its ``metadata.dbt_schema_version``), or None for any other file."""
    text = sample.decode("utf-8", errors="replace") if isinstance(sample, bytes) else sample
    found = schema_version(text)
    if found is None:
        return None
    problem = version_problem(*found)
    if problem:
        return Detected(None, problem=f"{problem}: the file is not read")
    return Detected(_DBT_FORMATS[found[0]])


def _first_record(text: str) -> str:
    out, quotes = [], 0
    for line in text.split("\n"):
        out.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            break
    return "\n".join(out)


def _required(name: str, header: tuple[str, ...]) -> tuple[str, ...]:
    """The columns a CSV export of ``name`` with this header must have (a Snowflake
    ACCESS_HISTORY export needs other columns than a QUERY_HISTORY one)."""
    if name == "snowflake" and snowflake.is_access_history(set(header)):
        return snowflake.ACCESS_HISTORY_COLUMNS
    return _CSV_REQUIRED.get(name, ())


def _with_header(name: str, header: tuple[str, ...], line: int) -> Detected:
    required = _required(name, header)
    missing = [c for c in required if c not in header]
    if missing:
        return Detected(
            name,
            csv=True,
            header=header,
            header_line=line,
            problem=(
                f"CSV header has no column {', '.join(repr(m.upper()) for m in missing)} "
                f"(a {name} export needs {', '.join(c.upper() for c in required)})"
            ),
        )
    return Detected(name, csv=True, header=header, header_line=line)


def _unknown(what: str, file_name: str) -> Detected:
    if file_name.lower().endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json.gz")):
        return Detected("jsonl")  # the product's own suffix: lines are judged one by one
    return Detected(
        None,
        problem=(
            f"unknown format: {what} (known: Trino QueryCompletedEvent, BigQuery JOBS, "
            "Snowflake QUERY_HISTORY/ACCESS_HISTORY, Databricks query history, PostgreSQL "
            "csvlog, Spark event log, Hive LineageLogger, dbt artifacts, "
            "the product's JSON Lines); name the format under query_log_sources to read it"
        ),
    )


def for_configured(name: str, sample: bytes | str, *, complete: bool = True) -> Detected:
    """A format named in the config: only whether it is CSV, and its header, from the content."""
    lines = [(n, t) for n, t in sample_lines(sample, complete=complete) if t.strip()]
    if name == "postgres_csvlog":
        return Detected(name, csv=True)
    if name in _CSV_REQUIRED and lines and not lines[0][1].lstrip().startswith("{"):
        header = header_of("\n".join(t for _n, t in lines))
        if header:
            return _with_header(name, header, lines[0][0])
    return Detected(name)


PARQUET_MAGIC = b"PAR1"
"""The first (and last) four bytes of a Parquet file."""
_COLUMNAR = ("snowflake", "databricks", "bigquery")
"""Formats exported as tables (CSV or Parquet): detected from their column names."""


def is_parquet(sample: bytes | str) -> bool:
    """Whether a file's first bytes are Parquet's magic number."""
    return isinstance(sample, bytes) and sample[:4] == PARQUET_MAGIC


def detect_columns(columns: list[str], *, configured: str | None = None) -> Detected:
    """The format of a Parquet export from its column names (any case).

    A Parquet query history (Snowflake ``COPY INTO ... FILE_FORMAT = (TYPE = PARQUET)``, a
    Databricks or BigQuery table export) is read row by row as JSON objects: its format is the
    one whose columns it has. ``configured`` is a format named in the config: it must be one of
    those exported as tables.
    """
    cols = {str(c).lower() for c in columns}
    if configured is not None:
        if configured in _COLUMNAR or configured == "jsonl":
            return Detected(configured)
        return Detected(
            None,
            problem=f"a Parquet file, but format '{configured}' named in query_log_sources is "
            f"written as text lines (Parquet holds {', '.join(_COLUMNAR)} or jsonl exports)",
        )
    name = _table_format(cols)
    if name:
        return Detected(name)
    if cols & PRODUCT_KEYS:
        return Detected("jsonl")
    shown = ", ".join(sorted(cols)[:6])
    return Detected(
        None, problem=f"unknown format: a Parquet file with columns {shown}, of no known query log"
    )
