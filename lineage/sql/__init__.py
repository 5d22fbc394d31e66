"""SQL lineage: statements of a query log to column edges (``extract_lineage``), with sqlglot."""

from lineage.sql.extract import (
    MAX_SQL_BYTES,
    POSITIONAL_GUESS,
    ColumnEdge,
    LineageResult,
    SchemaEvent,
    SqlLineageError,
    extract_lineage,
)

__all__ = [
    "MAX_SQL_BYTES",
    "POSITIONAL_GUESS",
    "ColumnEdge",
    "LineageResult",
    "SchemaEvent",
    "SqlLineageError",
    "extract_lineage",
]
