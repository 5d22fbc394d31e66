"""SQL lineage: statements of a query log to column edges (``extract_lineage``), with sqlglot."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    "lineage.sql.extract",
    (
        "ColumnEdge",
        "LineageResult",
        "SchemaEvent",
        "SqlLineageError",
        "extract_lineage",
    ),
)
