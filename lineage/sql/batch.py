"""Vectorised lineage extraction for Spark's ``mapInPandas``: one batch of queries in, edges out.

The ingest job groups query-log lines by (fingerprint, dialect, default_schema), keeps one SQL
text per group and runs the extractor on the executors::

    from lineage.sql.batch import EXTRACT_SCHEMA, make_extractor

    distinct = logs.groupBy("fingerprint", "dialect", "default_schema").agg(F.first("sql").alias("sql"))
    edges = distinct.mapInPandas(make_extractor(catalog_schema), EXTRACT_SCHEMA)

Every input row yields at least one output row, so nothing is lost:

- ``kind = "column"``: one row per column edge (``target_column`` null for an INDIRECT edge into
  the whole target table);
- ``kind = "table"``: one row per (source table, target table) pair, ``transformation_type``
  DIRECT when some column flows directly, else INDIRECT;
- ``kind = "sources"``: a query that writes nothing (a plain SELECT): one row per table read, or
  one row with a null ``source_table`` if it reads no table either;
- ``kind = "schema"``: one row per DDL schema event of the text, in statement order
  (:class:`lineage.sql.extract.SchemaEvent`): ``event`` (``create_table``, ``rename_column``,
  ...), ``source_table`` the table changed, ``source_column`` the column (old name), ``detail``
  the new name or the added column's type;
- ``kind = "error"``: a query that cannot be analysed: ``error`` holds the failure class
  (``parse_error``, ``too_large``, ``too_deep``, ``binary``, ``unknown_dialect``, ...) and
  ``message`` the parser's message with dialect and position.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import pandas as pd

from lineage.sql.extract import extract_lineage
from lineage.sql.guard import MAX_SQL_BYTES, SqlLineageError
from lineage.sql.schema import prepare_schema

#: Spark DDL of the rows produced by :func:`make_extractor`.
EXTRACT_SCHEMA = (
    "fingerprint string, dialect string, default_schema string, kind string, "
    "source_table string, source_column string, target_table string, target_column string, "
    "transformation_type string, transformation_subtype string, masking boolean, "
    "confidence double, event string, detail string, error string, message string"
)

COLUMNS = [part.strip().split(" ")[0] for part in EXTRACT_SCHEMA.split(",")]

Schema = Mapping[str, Sequence[str] | Mapping[str, str]]


def make_extractor(
    schema: Schema | None, *, max_sql_bytes: int = MAX_SQL_BYTES
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """Build the ``mapInPandas`` function that extracts lineage from batches of queries.

    Args:
        schema: Known table columns (catalog plus schemas learned from CREATE statements), as for
            :func:`lineage.sql.extract.extract_lineage`; shipped to the executors with the function.
        max_sql_bytes: Queries larger than this are rejected with ``error = "too_large"``.

    Returns:
        A function from an iterator of pandas DataFrames with columns ``fingerprint``,
        ``dialect``, ``sql`` and ``default_schema`` to an iterator of DataFrames with the
        columns of :data:`EXTRACT_SCHEMA`.
    """
    schema_dict = dict(schema) if schema else None

    def extract(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        prepared = prepare_schema(schema_dict)
        for batch in batches:
            rows: list[tuple] = []
            n = len(batch)
            fps = batch["fingerprint"] if "fingerprint" in batch else [None] * n
            dialects = batch["dialect"] if "dialect" in batch else [None] * n
            defaults = batch["default_schema"] if "default_schema" in batch else [None] * n
            for fp, dialect, sql, default in zip(
                fps, dialects, batch["sql"], defaults, strict=False
            ):
                rows.extend(
                    extract_rows(fp, _clean(dialect), sql, _clean(default), prepared, max_sql_bytes)
                )
            yield pd.DataFrame.from_records(rows, columns=COLUMNS)

    return extract


def extract_rows(
    fingerprint: str | None,
    dialect: str | None,
    sql: object,
    default_schema: str | None,
    schema: object,
    max_sql_bytes: int = MAX_SQL_BYTES,
) -> list[tuple]:
    """The output rows (tuples in :data:`COLUMNS` order) for one query."""
    head = {"fingerprint": fingerprint, "dialect": dialect, "default_schema": default_schema}

    def row(kind: str, **values: object) -> tuple:
        values = {**head, "kind": kind, **values}
        return tuple(values.get(c) for c in COLUMNS)

    try:
        if sql is None or (isinstance(sql, float) and math.isnan(sql)):
            raise SqlLineageError("no SQL text", kind="binary", dialect=dialect)
        result = extract_lineage(
            sql,  # type: ignore[arg-type]
            dialect=dialect,
            schema=schema,  # type: ignore[arg-type]
            default_schema=default_schema,
            max_bytes=max_sql_bytes,
        )
    except SqlLineageError as err:
        return [row("error", error=err.kind, message=str(err))]
    rows = []
    direct_pairs = set()
    for e in result.column_edges:
        if e.target_table is None:
            continue
        if e.type == "DIRECT":
            direct_pairs.add((e.source_table, e.target_table))
        rows.append(
            row(
                "column",
                source_table=e.source_table,
                source_column=e.source_column,
                target_table=e.target_table,
                target_column=e.target_column,
                transformation_type=e.type,
                transformation_subtype=e.subtype,
                masking=e.masking,
                confidence=float(e.confidence),
            )
        )
    for target in sorted(result.targets):
        for source in sorted(result.sources):
            kind = "DIRECT" if (source, target) in direct_pairs else "INDIRECT"
            rows.append(
                row(
                    "table",
                    source_table=source,
                    target_table=target,
                    transformation_type=kind,
                    masking=False,
                    confidence=1.0,
                )
            )
    if not result.targets:
        for source in sorted(result.sources) or [None]:
            rows.append(row("sources", source_table=source, masking=False, confidence=1.0))
    for ev in result.schema_events:
        rows.append(
            row(
                "schema",
                source_table=ev.table,
                source_column=ev.column,
                event=ev.kind,
                detail=ev.detail,
            )
        )
    return rows


def learned_schema(
    sql: str,
    dialect: str | None = None,
    *,
    default_schema: str | None = None,
    schema: Schema | None = None,
) -> dict[str, list[str]]:
    """Table columns declared by the CREATE and ALTER statements of a SQL text.

    ``CREATE TABLE t (a INT, b STRING)`` declares ``t: [a, b]``; ``CREATE TABLE t AS SELECT``
    and ``CREATE VIEW v AS SELECT`` declare the query's output columns (when no unexpanded
    star is left); ``ALTER TABLE t RENAME COLUMN a TO b`` (or ADD / DROP) of a table of known
    columns (in ``schema`` or created earlier in the text) gives its columns after the change.
    Temporary views are not included.

    Args:
        sql: SQL text with one or more statements.
        dialect: sqlglot dialect name.
        default_schema: Schema prefixed to unqualified table names.
        schema: Columns already known (the catalog): they expand ``SELECT *`` of a CTAS and
            give the columns of ``CREATE TABLE t LIKE s`` and of clones.

    Returns:
        ``{table: [columns]}``, lower case; empty when the text creates nothing or cannot be
        analysed (the extractor reports the failure for that query).
    """
    if not isinstance(sql, str) or ("create" not in sql.lower() and "alter" not in sql.lower()):
        return {}
    try:
        result = extract_lineage(
            sql,
            dialect=dialect,
            default_schema=default_schema,
            schema=schema,  # type: ignore[arg-type]
        )
    except SqlLineageError:
        return {}
    return {table: list(cols) for table, cols in result.declared_columns.items()}


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None
