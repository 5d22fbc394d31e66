"""Writes of a few rows built on the driver (ledgers, manifests, check results) without Spark.

The product's own bookkeeping tables get a handful of rows per step (one manifest row, one ledger
row per file, one result per expectation). Through Spark each such upsert costs a join, a
shuffle and a Parquet write job (~3 s on a laptop, whatever the row count); delta-rs merges an
Arrow table of those rows natively in ~0.1 s and rewrites only the files holding matching keys,
like the Spark path. Table-sized data never comes here: only rows that already sit in a Python
list on the driver.

Used by the delta-rs backend's ``merge_rows`` / ``append_rows`` (behind
:meth:`jobs.store.tables.TableStore.upsert_rows` / ``append_rows``); the delta-spark engine
takes the same rows through ``spark.createDataFrame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from jobs.errors import CommitConflictError, TableError

if TYPE_CHECKING:
    from pyspark.sql.types import StructType


def arrow_schema(schema: StructType) -> pa.Schema:
    """``schema`` in Arrow types, every column nullable (as the product's tables are);
    timestamps in UTC (the session's time zone)."""
    from pyspark.sql.pandas.types import to_arrow_schema  # only pyspark's type mapping, no JVM

    return pa.schema([f.with_nullable(True) for f in to_arrow_schema(schema)])


def arrow_table(rows: Sequence[Sequence[Any]], schema: StructType) -> pa.Table:
    """The rows (tuples in ``schema``'s column order) as an Arrow table of ``schema``'s types.

    Naive datetimes are read as UTC, as Spark does with ``spark.sql.session.timeZone=UTC``.
    """
    target = arrow_schema(schema)
    columns = list(zip(*rows, strict=False)) if rows else [() for _ in target]
    if len(columns) != len(target):
        raise TableError(f"rows have {len(columns)} values, the schema {len(target)} columns")
    return pa.Table.from_arrays(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, target, strict=True)],
        schema=target,
    )


def last_per_key(
    rows: Sequence[Sequence[Any]], names: Sequence[str], keys: Sequence[str]
) -> list[Sequence[Any]]:
    """One row per key (the last one given), in the order given, as an upsert keeps one per key."""
    at = [list(names).index(k) for k in keys]
    last = {tuple(r[i] for i in at): n for n, r in enumerate(rows)}
    return [rows[n] for n in sorted(last.values())]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def null_safe_predicate(keys: Sequence[str]) -> str:
    """The merge predicate: every key equal, NULL equal to NULL (as the Spark path's join)."""
    return " AND ".join(f"(t.{_quoted(k)} IS NOT DISTINCT FROM s.{_quoted(k)})" for k in keys)


def merge(
    dl: Any, open_table: Any, path: str, table: pa.Table, keys: Sequence[str], retries: int
) -> int:
    """Upsert ``table`` into the Delta table at ``path`` by ``keys``; the new version."""
    props = dl.CommitProperties(max_commit_retries=retries)
    for _attempt in range(retries):
        dt = open_table(path)
        try:
            (
                dt.merge(
                    table,
                    null_safe_predicate(keys),
                    source_alias="s",
                    target_alias="t",
                    commit_properties=props,
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
            return int(open_table(path).version())
        except dl.exceptions.CommitFailedError:
            continue
        except dl.exceptions.DeltaError as exc:
            raise TableError(f"merge into {path} failed: {exc}") from None
    raise CommitConflictError(f"commit to {path} kept conflicting with concurrent writers")


def append(
    dl: Any, open_table: Any, path: str, table: pa.Table, *, create: bool, opts: Any, retries: int
) -> int:
    """Append ``table`` (creating the table when ``create``); the new version."""
    props = dl.CommitProperties(max_commit_retries=retries)
    try:
        if create:
            dl.write_deltalake(
                path, table, mode="error", storage_options=opts, commit_properties=props
            )
        else:
            dt = open_table(path)
            dl.write_deltalake(dt, table, mode="append", commit_properties=props)
    except dl.exceptions.CommitFailedError:
        raise CommitConflictError(
            f"commit to {path} kept conflicting with concurrent writers"
        ) from None
    except dl.exceptions.DeltaError as exc:
        if create and "exists" in str(exc).lower():  # another writer created it first
            return append(dl, open_table, path, table, create=False, opts=opts, retries=retries)
        raise TableError(f"write to {path} failed: {exc}") from None
    return int(open_table(path).version())
