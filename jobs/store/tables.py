"""The Delta table store: every table the product reads or writes goes through here.

Tables are addressed by name (``lineage_edges``, ``crm.customers``); a name maps to the folder
``<root>/<name with dots as slashes>``. Two engines sit behind the same methods (DESIGN.md §4):

* ``spark``: delta-spark, when the Delta JVM classes are on the Spark classpath;
* ``delta-rs``: Spark executors write the Parquet data files in parallel and the ``deltalake``
  package commits the transaction log (add/remove actions); reads hand Spark the table's current
  file list. Table data never goes through the driver in either engine.

``engine="auto"`` picks ``spark`` on a cluster where the Delta classes load, else ``delta-rs``
(embedded, delta-rs is faster: see :func:`jobs.store.spark_tables.auto_engine`).

Example:
    >>> store = TableStore(spark, "/data/warehouse")
    >>> store.upsert("assets", df, keys=["asset_id"])
    >>> store.read("assets", version=3).count()
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, overload

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from jobs.errors import CommitConflictError, SchemaMismatchError, TableError, TableNotFoundError
from jobs.store import local_rows
from jobs.store.backend import Backend, DeltaRsBackend
from jobs.store.spark_tables import SparkDeltaBackend, auto_engine, delta_classes_loaded

Engine = Literal["auto", "spark", "delta-rs"]
_DDL: dict[str, StructType] = {}
_NAME = re.compile(r"^[a-z_][a-z0-9_-]*(\.[a-z_][a-z0-9_-]*)*$")
"""Dot-separated lower-case identifiers; ``-`` inside a part (BigQuery project ids such as
``my-project.ds.t``), never first (no part looks like an option or a relative path)."""


@dataclass(frozen=True)
class TableInfo:
    """What ``compliance tables`` shows for one table."""

    name: str
    """Table name, dotted for nested folders."""
    version: int
    """Current Delta version."""
    files: int
    """Number of live data files."""


def _plain(schema: StructType) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in schema.fields}


def check_schema(table: str, expected: StructType, actual: StructType) -> None:
    """Raise :class:`SchemaMismatchError` naming the table and offending columns.

    Column order and nullability are ignored; names and types must match.
    """
    want, got = _plain(expected), _plain(actual)
    missing = [c for c in want if c not in got]
    extra = [c for c in got if c not in want]
    retyped = [
        f"{c} ({got[c]}, expected {want[c]})" for c in want if c in got and got[c] != want[c]
    ]
    if missing or extra or retyped:
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if extra:
            parts.append("unexpected columns: " + ", ".join(extra))
        if retyped:
            parts.append("wrong types: " + ", ".join(retyped))
        raise SchemaMismatchError(
            f"write to table {table!r} does not match its schema: " + "; ".join(parts)
        )


class TableStore:
    """Read and write Delta tables by name under one root path or URI.

    Args:
        spark: the session whose executors read and write the data files.
        root: warehouse root (local path or URI Spark and delta-rs can both reach).
        engine: ``auto`` (default), ``spark`` or ``delta-rs``.
        storage_options: options for delta-rs object stores (credentials, endpoints).
        max_retries: commit attempts before a concurrent-commit conflict is reported.
    """

    def __init__(
        self,
        spark: SparkSession,
        root: str,
        *,
        engine: Engine = "auto",
        storage_options: dict[str, str] | None = None,
        max_retries: int = 5,
    ) -> None:
        self.spark = spark
        self.root = root.rstrip("/")
        if engine not in ("auto", "spark", "delta-rs"):
            raise TableError(f"unknown storage engine {engine!r}; expected auto, spark or delta-rs")
        if engine == "auto":
            engine = auto_engine(spark)  # type: ignore[assignment]
        elif engine == "spark" and not delta_classes_loaded(spark):
            raise TableError(
                "storage.engine is 'spark' but the Delta JVM classes are not on the Spark classpath; "
                "add io.delta:delta-spark to spark.jars(.packages) or use engine 'delta-rs'"
            )
        self.engine: Literal["spark", "delta-rs"] = engine
        backend_cls = SparkDeltaBackend if engine == "spark" else DeltaRsBackend
        self._backend: Backend = backend_cls(spark, storage_options or {}, max_retries)
        self._touched: set[tuple[str, str]] = set()

    # -- what was touched -----------------------------------------------------------------------
    def touched(self, *, reset: bool = False) -> dict[str, list[str]]:
        """Tables read and written through this store (``{"read": [...], "written": [...]}``).

        Existence checks do not count as reads. ``reset`` starts a new tally (the nightly runner
        takes one per step and records it in ``run_manifest``).
        """
        out = {op: sorted(n for o, n in self._touched if o == op) for op in ("read", "written")}
        if reset:
            self._touched = set()
        return out

    def _note(self, op: str, name: str) -> None:
        self._touched.add((op, name))

    def __repr__(self) -> str:
        return f"TableStore(root={self.root!r}, engine={self.engine!r})"

    # -- naming -----------------------------------------------------------------------------
    def path(self, name: str) -> str:
        """The folder of table ``name``; rejects names that are not plain dotted identifiers."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise TableError(
                f"invalid table name {name!r}: expected lower-case identifiers separated by dots "
                "(letters, digits, _ and -, not starting with a digit or -)"
            )
        return f"{self.root}/{name.replace('.', '/')}"

    def exists(self, name: str) -> bool:
        """Whether table ``name`` has a Delta log."""
        return self._backend.exists(self.path(name))

    def list_tables(self) -> list[str]:
        """Names of every Delta table under the root, sorted."""
        return sorted(p.replace("/", ".") for p in self._backend.list_tables(self.root))

    # -- reads ------------------------------------------------------------------------------
    @overload
    def read(
        self,
        name: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        missing_ok: Literal[False] = False,
    ) -> DataFrame: ...

    @overload
    def read(
        self,
        name: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        missing_ok: Literal[True],
    ) -> DataFrame | None: ...

    def read(
        self,
        name: str,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        missing_ok: bool = False,
    ) -> DataFrame | None:
        """The table as a DataFrame, optionally at a version or as of a time (time travel).

        Raises:
            TableNotFoundError: the table does not exist (with ``missing_ok``: ``None`` instead).
        """
        path = self.path(name)
        if not self._backend.exists(path):
            if missing_ok:
                return None
            raise TableNotFoundError(f"table {name!r} does not exist under {self.root}")
        self._note("read", name)
        return self._backend.read(path, version=version, as_of=as_of)

    def schema(self, name: str) -> StructType:
        """The table's current schema."""
        return self._backend.schema(self._existing(name))

    def version(self, name: str) -> int:
        """The table's current version."""
        return self._backend.version(self._existing(name))

    def history(self, name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Commit history, newest first (version, timestamp, operation, parameters)."""
        return self._backend.history(self._existing(name), limit)

    def properties(self, name: str) -> dict[str, str]:
        """The table's Delta configuration (e.g. ``delta.deletedFileRetentionDuration``)."""
        return self._backend.properties(self._existing(name))

    def info(self, name: str) -> TableInfo:
        """Version and live file count of one table."""
        path = self._existing(name)
        return TableInfo(name, self._backend.version(path), self._backend.file_count(path))

    # -- writes -----------------------------------------------------------------------------
    def append(self, name: str, df: DataFrame) -> int:
        """Append rows; creates the table on first write. Returns the new version."""
        path = self.path(name)
        df = self._conform(name, path, df)
        self._note("written", name)
        return self._named(name, self._backend.append, path, df)

    def overwrite(self, name: str, df: DataFrame, *, allow_schema_change: bool = False) -> int:
        """Replace the table's contents atomically (old files stay for time travel until VACUUM)."""
        path = self.path(name)
        self._note("written", name)
        if not allow_schema_change:
            df = self._conform(name, path, df)
        return self._named(name, self._backend.overwrite, path, df)

    def upsert(self, name: str, df: DataFrame, keys: Sequence[str]) -> int:
        """Insert or replace rows by key columns; idempotent for the same input.

        Incoming rows are deduplicated on ``keys`` (one row per key is kept); existing rows with a
        matching key (null-safe equality) are replaced. Only the data files that hold matching keys
        are rewritten.
        """
        if not keys:
            raise TableError(f"upsert into {name!r} needs at least one key column")
        path = self.path(name)
        missing = [k for k in keys if k not in df.columns]
        if missing:
            raise SchemaMismatchError(
                f"upsert into {name!r}: key columns not in the data: {', '.join(missing)}"
            )
        df = self._conform(name, path, df).dropDuplicates(list(keys))
        self._note("written", name)
        if not self._backend.exists(path):
            return self._named(name, self._backend.append, path, df)
        return self._named(name, self._backend.upsert, path, df, list(keys))

    def upsert_rows(
        self,
        name: str,
        rows: Sequence[Sequence[Any]],
        schema: StructType | str,
        keys: Sequence[str],
    ) -> int:
        """:meth:`upsert` of a few rows built on the driver (tuples in ``schema``'s order).

        For the product's bookkeeping (manifest, ledgers, check results): on the delta-rs engine
        the rows are merged by delta-rs natively, without a Spark job (see
        :mod:`jobs.store.local_rows`); the last row given for a key is kept.
        """
        struct = self._struct(schema)
        missing = [k for k in keys if k not in struct.fieldNames()]
        if not keys or missing:
            raise SchemaMismatchError(
                f"upsert into {name!r}: key columns not in the data: {', '.join(missing) or '(none)'}"
            )
        rows = local_rows.last_per_key(rows, struct.fieldNames(), keys)
        if not isinstance(self._backend, DeltaRsBackend):
            return self.upsert(name, self.spark.createDataFrame(rows, struct), keys)
        path = self.path(name)
        table = self._arrow(name, path, rows, struct)
        self._note("written", name)
        backend = self._backend
        if not backend.exists(path):
            return self._named(name, backend.append_rows, path, table)
        if table.num_rows == 0:
            return backend.version(path)  # nothing to write: no commit
        return self._named(name, backend.merge_rows, path, table, list(keys))

    def append_rows(
        self, name: str, rows: Sequence[Sequence[Any]], schema: StructType | str
    ) -> int:
        """:meth:`append` of a few rows built on the driver, without a Spark job on delta-rs."""
        struct = self._struct(schema)
        if not isinstance(self._backend, DeltaRsBackend):
            return self.append(name, self.spark.createDataFrame(list(rows), struct))
        path = self.path(name)
        table = self._arrow(name, path, rows, struct)
        self._note("written", name)
        return self._named(name, self._backend.append_rows, path, table)

    def replace_where(self, name: str, df: DataFrame, condition: Column | str) -> int:
        """Atomically replace the rows matching ``condition`` by ``df`` (one commit).

        Used for per-run-date slices (e.g. tonight's closure): a rerun replaces its own slice and
        leaves the other nights untouched.
        """
        path = self.path(name)
        df = self._conform(name, path, df)
        self._note("written", name)
        if not self._backend.exists(path):
            return self._named(name, self._backend.append, path, df)
        cond = F.expr(condition) if isinstance(condition, str) else condition
        return self._named(name, self._backend.replace_where, path, df, cond)

    def delete_where(self, name: str, condition: Column | str) -> int:
        """Delete the rows matching ``condition``; returns the new version (unchanged if none)."""
        path = self._existing(name)
        cond = F.expr(condition) if isinstance(condition, str) else condition
        self._note("written", name)
        return self._named(name, self._backend.delete_where, path, cond)

    def delete_matching(self, name: str, keys_df: DataFrame, on: Sequence[str]) -> int:
        """Delete the rows whose ``on`` columns equal a row of ``keys_df`` (a distributed join)."""
        path = self._existing(name)
        self._note("written", name)
        keys = keys_df.select(*on).distinct()
        return self._named(name, self._backend.delete_matching, path, keys, list(on))

    def vacuum(self, name: str, retention_hours: int) -> list[str]:
        """Physically remove files no longer referenced and older than the retention."""
        return self._backend.vacuum(self._existing(name), retention_hours)

    def add_columns(self, name: str, columns: dict[str, str]) -> bool:
        """Add the ``columns`` (name -> Spark SQL type) the table lacks, NULL in existing rows.

        One overwrite commit (the old version stays readable by time travel); returns whether the
        table changed. Used when a product table gains columns between releases.
        """
        have = set(self.schema(name).fieldNames())
        missing = {c: t for c, t in columns.items() if c not in have}
        if not missing:
            return False
        df = self.read(name)
        df = df.select("*", *[F.lit(None).cast(t).alias(c) for c, t in missing.items()])
        self.overwrite(name, df, allow_schema_change=True)
        return True

    def set_properties(self, name: str, props: dict[str, str]) -> None:
        """Set Delta table properties (e.g. retention durations)."""
        self._backend.set_properties(self._existing(name), props)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _named(name: str, write: Any, *args: Any) -> int:
        """Run a backend write; a conflict that outlived the retries names the table."""
        try:
            return write(*args)
        except CommitConflictError as exc:
            raise CommitConflictError(f"table {name!r}: {exc}") from None

    def _existing(self, name: str) -> str:
        path = self.path(name)
        if not self._backend.exists(path):
            raise TableNotFoundError(f"table {name!r} does not exist under {self.root}")
        return path

    def _check_nesting(self, name: str) -> None:
        """Refuse a new table nested in another table's folder, or holding other tables."""
        parts = name.split(".")
        for i in range(1, len(parts)):
            outer = ".".join(parts[:i])
            if self._backend.exists(self.path(outer)):
                raise TableError(
                    f"cannot create table {name!r}: {outer!r} is a table and would contain it"
                )
        inner = self._backend.list_tables(self.path(name))
        if inner:
            raise TableError(
                f"cannot create table {name!r}: its folder holds table(s) {', '.join(inner)}"
            )

    def _struct(self, schema: StructType | str) -> StructType:
        if isinstance(schema, StructType):
            return schema
        if schema not in _DDL:
            _DDL[schema] = self.spark.createDataFrame([], schema).schema  # parsed, no job
        return _DDL[schema]

    def _arrow(
        self, name: str, path: str, rows: Sequence[Sequence[Any]], struct: StructType
    ) -> pa.Table:
        """The rows as Arrow, checked against and ordered like the table's schema when it exists."""
        table = local_rows.arrow_table(list(rows), struct)
        if not self._backend.exists(path):
            self._check_nesting(name)
            return table
        expected = self._backend.schema(path)
        check_schema(name, expected, struct)
        return table.select(expected.fieldNames()).cast(local_rows.arrow_schema(expected))

    def _conform(self, name: str, path: str, df: DataFrame) -> DataFrame:
        """Check ``df`` against the table's schema and reorder its columns to match."""
        if not self._backend.exists(path):
            self._check_nesting(name)
            return df
        expected = self._backend.schema(path)
        check_schema(name, expected, df.schema)
        return df.select(
            *[F.col(f"`{f.name}`").cast(f.dataType).alias(f.name) for f in expected.fields]
        )
