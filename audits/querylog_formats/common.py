"""What every query-log format adapter shares: the settings of a source, the result of converting
one record, and the helpers that turn an engine's values into the product's query-log row.

A converted record is one of:

- a **query** (``row``): the product's query-log fields (``query_id``, ``engine``, ``user``,
  ``started_at``, ``finished_at``, ``sql``, ``default_schema``, ``status``, ``error``,
  ``destination``, ``engine_lineage``; ``action``/``table`` for a row without SQL) as JSON-ready
  values;
- an **end** record (``ends``) that completes the query of the same ``pair_key`` earlier in the
  file (a Spark ``SQLExecutionEnd``, a PostgreSQL ``ERROR`` after its ``statement:``): its row
  holds ``status``/``finished_at``/``error``, and the whole row when it can stand alone;
- a record that carries no query (``skip``, e.g. a Spark task event): counted, not landed;
- not a record of the format at all (``error``): rejected with the expected format named.

Pure Python: no Spark, no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

ROW_FIELDS = (
    "query_id",
    "job_id",
    "engine",
    "user",
    "started_at",
    "finished_at",
    "sql",
    "default_schema",
    "status",
    "error",
    "destination",
    "format",
    "engine_lineage",
    "action",
    "table",
    "columns",
)
"""Keys of a converted row (the product's query-log fields; ``action``/``table`` only for a
table-level row without SQL, e.g. a Snowflake ACCESS_HISTORY export; ``columns`` only for dbt
nodes: their columns with types and data categories)."""


@dataclass(frozen=True)
class SourceSettings:
    """Per-source settings of ``query_log_sources`` (all optional)."""

    format: str = "auto"
    """A format name of :data:`audits.querylog_formats.FORMATS`, or ``auto`` (from the content)."""
    dialect: str | None = None
    """SQL dialect of the source's statements (default: the format's engine)."""
    catalog: str | None = None
    """Default catalog: Trino catalog, BigQuery project, Snowflake or PostgreSQL database."""
    schema: str | None = None
    """Default schema: BigQuery dataset, Snowflake/PostgreSQL schema, Hive/Spark database."""


@dataclass(frozen=True)
class Converted:
    """The outcome of converting one record (see the module docstring)."""

    row: dict[str, Any] | None = None
    error: str | None = None
    skip: str | None = None
    pair_key: str | None = None
    ends: bool = False


@dataclass(frozen=True)
class RecordContext:
    """What an adapter knows besides the record: the file and its source's settings."""

    file_name: str = ""
    settings: SourceSettings = field(default_factory=SourceSettings)
    header: tuple[str, ...] = ()
    """CSV formats: the file's header columns (lower case); empty for headerless csvlog."""


class RecordError(ValueError):
    """Raised by an adapter when the record is not a record of its format."""


def query_row(fmt: str, **values: Any) -> dict[str, Any]:
    """A converted row: every :data:`ROW_FIELDS` key, ``format`` set, lists kept as lists."""
    row: dict[str, Any] = dict.fromkeys(ROW_FIELDS)
    unknown = set(values) - set(ROW_FIELDS)
    if unknown:  # pragma: no cover - a programming error in an adapter
        raise KeyError(f"unknown row fields {sorted(unknown)}")
    row.update(values)
    row["format"] = fmt
    if not row["engine_lineage"]:
        row["engine_lineage"] = None
    return row


def to_json(row: dict[str, Any]) -> str:
    """The row as one JSON line (sorted keys: deterministic)."""
    return json.dumps(row, sort_keys=True, default=str)


_TZ_WORD = re.compile(r"\s+(UTC|GMT|Z)$", re.IGNORECASE)
_SPACE_OFFSET = re.compile(r"\s+([+-]\d{2}):?(\d{2})$")


def iso_time(value: Any) -> str | None:
    """An engine's timestamp as ISO-8601 UTC (``2026-11-21T10:00:00.123000Z``).

    Accepted: ISO-8601 with ``T`` or a space, an offset (``+01:00``, ``-0700``, `` -07:00``), ``Z``
    or `` UTC``; epoch seconds or milliseconds (numbers or digit strings). A value that is none of
    these is returned as it is (the landing rules then reject it as not a valid timestamp);
    ``None`` and ``""`` give ``None``.

    Example: ``iso_time("2026-11-21 10:00:00.5 -0700")`` -> ``"2026-11-21T17:00:00.500000Z"``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        n = float(value)
        seconds = n / 1000.0 if n > 1e11 else n
        return _fmt(datetime.fromtimestamp(seconds, tz=timezone.utc))
    text = str(value).strip()
    text = _TZ_WORD.sub("+00:00", text)
    text = _SPACE_OFFSET.sub(r"\1:\2", text)
    text = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        # fractions of more than 6 digits (nanoseconds) are cut to microseconds
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        ts = datetime.fromisoformat(text)
    except ValueError:
        return str(value)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return _fmt(ts)


def _fmt(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def table_name(*parts: Any) -> str | None:
    """``schema.table`` (the product's asset naming) from non-empty parts, lower case."""
    kept = [str(p).strip().lower() for p in parts if p not in (None, "")]
    return ".".join(kept) if kept else None


def lineage_edge(
    source: str,
    source_column: str | None,
    target: str,
    target_column: str | None,
    kind: str,
    subtype: str | None = None,
) -> dict[str, Any]:
    """One engine-computed lineage edge. ``kind``: DIRECT or INDIRECT; ``subtype`` in the
    OpenLineage vocabulary (IDENTITY, TRANSFORMATION, FILTER, ...)."""
    return {
        "source": source,
        "source_column": source_column.lower() if source_column else None,
        "target": target,
        "target_column": target_column.lower() if target_column else None,
        "type": kind,
        "subtype": subtype,
    }


_SQL_START = re.compile(
    r"^\s*(\(\s*)*(select|with|insert|create|merge|update|delete|replace|alter|drop|truncate|"
    r"copy|unload|from|values|cache|uncache|refresh|msck|load|optimize|vacuum|set|use|show|"
    r"describe|desc|explain|grant|revoke|call|begin|commit|rollback|analyze)\b",
    re.IGNORECASE,
)


def looks_like_sql(text: str | None) -> bool:
    """Whether ``text`` starts like a SQL statement (after comments)."""
    if not text:
        return False
    stripped = re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))+", "", text, flags=re.DOTALL)
    return bool(_SQL_START.match(stripped))


def get(obj: Any, path: str) -> Any:
    """``obj`` at a dotted ``path`` of dict keys (``None`` where a step is missing)."""
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def load_object(text: str, what: str) -> dict[str, Any]:
    """The record as a JSON object, or :class:`RecordError` naming what was expected."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise RecordError(
            f"not a complete JSON object ({exc.msg} at character {exc.pos})"
        ) from None
    if not isinstance(obj, dict):
        raise RecordError(f"a JSON {type(obj).__name__}, expected an object ({what})")
    return obj


def need(obj: dict[str, Any], *paths: str) -> None:
    """:class:`RecordError` naming the first missing field of ``paths``."""
    for p in paths:
        if get(obj, p) in (None, ""):
            raise RecordError(f"field '{p}' is missing")
