"""Query-log formats: each engine's log record, as the engine writes it, -> the product's
query-log row.

One module per format, each written from the engine's own record definition (see its
docstring): :mod:`.trino`, :mod:`.bigquery`, :mod:`.snowflake`, :mod:`.databricks`, :mod:`.postgres`,
:mod:`.spark_events`, :mod:`.hive`, :mod:`.dbt` (dbt artifacts); ``jsonl`` is the product's own
JSON Lines (DESIGN.md §5b), landed as it is. A file's format is named per source in the config
or detected from its first records (:mod:`.detect`); :func:`convert` turns one record of a file into a
:class:`~audits.querylog_formats.common.Converted`.

Pure Python (no Spark, no I/O): the landing job runs :func:`convert` on the executors.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from audits.querylog_formats import (
    bigquery,
    databricks,
    dbt,
    hive,
    postgres,
    snowflake,
    spark_events,
    trino,
)
from audits.querylog_formats.common import Converted, RecordContext, RecordError, SourceSettings

JSONL = "jsonl"
AUTO = "auto"
ADAPTERS: dict[str, ModuleType] = {
    **{m.NAME: m for m in (trino, bigquery, snowflake, databricks, postgres, spark_events, hive)},
    **dict.fromkeys(dbt.NAMES, dbt),
}
FORMATS: tuple[str, ...] = (JSONL, *ADAPTERS)
"""Every format name a source may name (besides ``auto``)."""
CSV_CAPABLE = ("bigquery", "snowflake", "databricks")
"""Formats exported as CSV with a header row, or as JSON lines."""
PAIRED = ("postgres_csvlog", "spark_eventlog")
"""Formats whose end records complete a query of an earlier record of the file."""
DBT = dbt.NAMES
"""dbt artifacts: a folder's manifest, catalog and run results are read together, whole."""

DIALECTS = frozenset(
    {
        "trino",
        "presto",
        "spark",
        "spark2",
        "hive",
        "databricks",
        "bigquery",
        "snowflake",
        "postgres",
        "mysql",
        "redshift",
        "duckdb",
        "athena",
        "oracle",
        "tsql",
        "sqlite",
        "clickhouse",
        "teradata",
    }
)
"""SQL dialects the lineage parser reads."""


@dataclass(frozen=True)
class FileFormat:
    """How one file is read: its format, whether it is CSV, its header, where it came from."""

    name: str
    csv: bool = False
    header: tuple[str, ...] = ()
    header_line: int = 0
    """Physical line of the CSV header row (0: none)."""
    detected: bool = True
    """From the content (``format: auto``) rather than named in the config."""
    settings: SourceSettings = SourceSettings()
    parquet: bool = False
    """A Parquet file: each row is read as a JSON object of its columns."""

    @property
    def how(self) -> str:
        """How the format was chosen, for messages."""
        return "detected from the file's content" if self.detected else "named in query_log_sources"


def expected(fmt: FileFormat) -> str:
    """What a record of ``fmt`` is, for messages: ``a Trino/Presto QueryCompletedEvent``."""
    adapter = ADAPTERS.get(fmt.name)
    return adapter.WHAT if adapter else "a JSON object"


def convert(text: str, fmt: FileFormat, file_name: str = "") -> Converted:
    """One record of a file of format ``fmt`` -> a converted record (never raises)."""
    adapter = ADAPTERS[fmt.name]
    ctx = RecordContext(file_name=file_name, settings=fmt.settings, header=fmt.header)
    try:
        return adapter.convert(text, ctx)
    except RecordError as exc:
        return Converted(error=f"not {adapter.WHAT} (format '{fmt.name}', {fmt.how}): {exc}")


__all__ = [
    "ADAPTERS",
    "AUTO",
    "CSV_CAPABLE",
    "DBT",
    "DIALECTS",
    "FORMATS",
    "JSONL",
    "PAIRED",
    "Converted",
    "FileFormat",
    "RecordContext",
    "RecordError",
    "SourceSettings",
    "convert",
    "expected",
]
