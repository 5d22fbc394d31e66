"""The two storage engines behind :class:`jobs.store.tables.TableStore`.

Both engines keep table data on the executors: Spark reads and writes every Parquet data file;
only file names, sizes and the transaction log pass through the driver.

The delta-rs engine writes each batch of new files into a fresh sub-folder of the table
(``<table>/part-<uuid>/part-*.parquet``) and then commits add/remove actions with ``deltalake``.
A failed write leaves only unreferenced files, which VACUUM removes; a version is either fully
committed or absent. Upserts and deletes are copy-on-write: only the files that hold matching rows
are rewritten, and their removal is committed in the same transaction as the new files.

The delta-spark engine lives in :mod:`jobs.store.spark_tables`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import reduce
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from jobs.errors import CommitConflictError, TableError
from jobs.store import local_rows


def _nullable(schema: StructType) -> StructType:
    """The same schema with every field nullable (Parquet files written by Spark are)."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: fix(v) for k, v in node.items()}
            if "nullable" in out:
                out["nullable"] = True
            if "containsNull" in out:
                out["containsNull"] = True
            if "valueContainsNull" in out:
                out["valueContainsNull"] = True
            return out
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return StructType.fromJson(fix(json.loads(schema.json())))


def _local(uri: str) -> str:
    """A ``file:`` URI as a plain local path; plain paths and other URIs unchanged."""
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    return uri


def _spark_file_key(uri: str) -> str:
    """The path Spark's ``input_file_name()`` URI designates, comparable with :attr:`_File.path`.

    Spark gives a URL-encoded URI (``file:///t/x%20y/p=a%253Ab/f.parquet``); a data file's
    path is the table root joined with the decoded log path (``/t/x y/p=a%3Ab/f.parquet``).
    """
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    if "://" in uri:
        u = urlparse(uri)
        return f"{u.scheme}://{u.netloc}{unquote(u.path)}"
    return uri


@dataclass(frozen=True)
class _File:
    """One live data file of a Delta table, as the delta-rs engine reads and rewrites it."""

    rel: str
    """Its path as written in the Delta log (relative to the table, URL-encoded)."""
    path: str
    """Where Spark reads it: the table root joined with the decoded ``rel``."""
    size: int
    """Size in bytes (for the remove action)."""
    partition: tuple[Any, ...]
    """Its partition values, in the order of the table's partition columns (typed, or None)."""


def _partition_dirs(rel_dir: str) -> dict[str, str | None]:
    """Partition values of a file written by ``DataFrameWriter.partitionBy`` from its folders.

    Spark names each folder ``column=value`` with the value escaped as %XX
    (``ExternalCatalogUtils.escapePathName``) and nulls as ``__HIVE_DEFAULT_PARTITION__``.
    The values are Delta's partition value strings (dates ``yyyy-MM-dd``, timestamps
    ``yyyy-MM-dd HH:mm:ss[.ffffff]`` in the session time zone, which is UTC).
    """
    values: dict[str, str | None] = {}
    for part in [p for p in rel_dir.split("/") if p]:
        name, _, value = part.partition("=")
        raw = unquote(value)
        values[unquote(name)] = None if raw == "__HIVE_DEFAULT_PARTITION__" else raw
    return values


def _null_safe_on(left: str, right: str, keys: list[str]) -> Column:
    cond = None
    for k in keys:
        c = F.col(f"{left}.`{k}`").eqNullSafe(F.col(f"{right}.`{k}`"))
        cond = c if cond is None else cond & c
    assert cond is not None
    return cond


class Backend(Protocol):
    """What an engine must do; :class:`jobs.store.tables.TableStore` adds naming and schema checks."""

    def exists(self, path: str) -> bool: ...
    def list_tables(self, root: str) -> list[str]: ...
    def read(self, path: str, *, version: int | None, as_of: datetime | None) -> DataFrame: ...
    def schema(self, path: str) -> StructType: ...
    def version(self, path: str) -> int: ...
    def file_count(self, path: str) -> int: ...
    def history(self, path: str, limit: int | None) -> list[dict[str, Any]]: ...
    def properties(self, path: str) -> dict[str, str]: ...
    def set_properties(self, path: str, props: dict[str, str]) -> None: ...
    def append(self, path: str, df: DataFrame) -> int: ...
    def overwrite(self, path: str, df: DataFrame) -> int: ...
    def upsert(self, path: str, df: DataFrame, keys: list[str]) -> int: ...
    def delete_where(self, path: str, cond: Column) -> int: ...
    def replace_where(self, path: str, df: DataFrame, cond: Column) -> int: ...
    def delete_matching(self, path: str, keys_df: DataFrame, on: list[str]) -> int: ...
    def vacuum(self, path: str, retention_hours: int) -> list[str]: ...


class _HadoopFs:
    """Directory listing through Spark's Hadoop FileSystem (works for any URI Spark reads)."""

    def __init__(self, spark: SparkSession) -> None:
        self._jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]

    def _fs(self, path: str) -> tuple[Any, Any]:
        p = self._jvm.org.apache.hadoop.fs.Path(path)
        return p.getFileSystem(self._conf), p

    def list_files(self, path: str) -> list[tuple[str, int, int]]:
        """(name, size, mtime ms) of the Parquet files directly under ``path``."""
        fs, p = self._fs(path)
        out = []
        for st in fs.listStatus(p):
            name = st.getPath().getName()
            if st.isFile() and name.endswith(".parquet"):
                out.append((name, int(st.getLen()), int(st.getModificationTime())))
        return sorted(out)

    def list_files_recursive(self, path: str) -> list[tuple[str, int, int]]:
        """(path relative to ``path``, size, mtime ms) of every Parquet file below ``path``.

        Relative paths are built from the literal folder and file names (as on storage).
        """
        fs, root = self._fs(path)
        out: list[tuple[str, int, int]] = []

        def walk(dir_path: Any, rel: str) -> None:
            for st in fs.listStatus(dir_path):
                name = st.getPath().getName()
                if st.isDirectory():
                    walk(st.getPath(), f"{rel}{name}/")
                elif name.endswith(".parquet"):
                    out.append((f"{rel}{name}", int(st.getLen()), int(st.getModificationTime())))

        walk(root, "")
        return sorted(out)

    def exists(self, path: str) -> bool:
        """Whether a file or folder exists."""
        fs, p = self._fs(path)
        return bool(fs.exists(p))

    def find_tables(self, root: str, depth: int = 3) -> list[str]:
        fs, p = self._fs(root)
        if not fs.exists(p):
            return []
        found: list[str] = []

        def walk(dir_path: Any, rel: str, level: int) -> None:
            children = [s for s in fs.listStatus(dir_path) if s.isDirectory()]
            names = {s.getPath().getName() for s in children}
            if "_delta_log" in names and rel:
                found.append(rel)
                return
            if level >= depth:
                return
            for s in children:
                name = s.getPath().getName()
                if not name.startswith(("_", ".", "part-")):
                    walk(s.getPath(), f"{rel}/{name}" if rel else name, level + 1)

        walk(p, "", 0)
        return found


class DeltaRsBackend:
    """Spark writes the Parquet files; ``deltalake`` commits the log and lists the files.

    Partitioned tables keep their layout: the partition columns are not stored in the data files
    but taken from each file's ``partitionValues`` when reading, and every write of a
    partitioned table goes through ``partitionBy`` with the partition values committed in the
    add actions. Appends and rewrites commit against the table's own schema (column metadata
    such as generation expressions, comments and nullability) and keep its properties
    (constraints among them). Tables whose files Spark cannot read as plain Parquet (column
    mapping, deletion vectors in use) are refused with a :class:`TableError`.
    """

    def __init__(
        self, spark: SparkSession, storage_options: dict[str, str], max_retries: int
    ) -> None:
        import deltalake

        self._dl = deltalake
        self.spark = spark
        self.opts = storage_options or None
        self.max_retries = max_retries
        self.fs = _HadoopFs(spark)

    # -- reading ----------------------------------------------------------------------------
    def _table(self, path: str, version: int | None = None) -> Any:
        try:
            return self._dl.DeltaTable(path, version=version, storage_options=self.opts)
        except Exception as exc:  # noqa: BLE001 - deltalake raises several unrelated types
            raise TableError(f"cannot open Delta table at {path}: {exc}") from None

    def exists(self, path: str) -> bool:
        return bool(self._dl.DeltaTable.is_deltatable(path, storage_options=self.opts))

    def list_tables(self, root: str) -> list[str]:
        return self.fs.find_tables(root)

    def _schema_of(self, dt: Any) -> StructType:
        return StructType.fromJson(json.loads(dt.schema().to_json()))

    @staticmethod
    def _partition_columns(dt: Any) -> list[str]:
        return list(dt.metadata().partition_columns or [])

    def _check_plain_parquet(self, path: str, dt: Any, actions: pa.Table) -> None:
        """Refuse tables whose rows are not exactly the rows of their Parquet files."""
        mode = dt.metadata().configuration.get("delta.columnMapping.mode", "none")
        if mode not in (None, "none"):
            raise TableError(
                f"table at {path} uses column mapping ({mode}), which the delta-rs engine cannot "
                "read through Spark; use storage.engine: spark (delta-spark) for this warehouse"
            )
        dv = [c for c in actions.column_names if c.startswith("deletionVector")]
        if dv and any(v is not None for v in actions.column(dv[0]).to_pylist()):
            raise TableError(
                f"table at {path} has deletion vectors, which the delta-rs engine cannot apply "
                "when Spark reads its files; use storage.engine: spark (delta-spark), or purge "
                "them (REORG TABLE ... APPLY (PURGE)) first"
            )

    def _files(self, path: str, dt: Any) -> list[_File]:
        """The live data files of ``dt`` with their partition values."""
        actions = pa.table(dt.get_add_actions(flatten=True))
        self._check_plain_parquet(path, dt, actions)
        parts = self._partition_columns(dt)
        root = _local(path).rstrip("/")
        rels = actions.column("path").to_pylist()
        sizes = actions.column("size_bytes").to_pylist()
        values = [actions.column(f"partition.{c}").to_pylist() for c in parts]
        return [
            _File(rel, f"{root}/{unquote(rel)}", int(size), tuple(v[i] for v in values))
            for i, (rel, size) in enumerate(zip(rels, sizes, strict=False))
        ]

    def _frame(self, dt: Any, path: str, files: list[_File] | None = None) -> DataFrame:
        """The rows of ``files`` (default: every live file) with the table's schema."""
        schema = self._schema_of(dt)
        files = self._files(path, dt) if files is None else files
        if not files:
            return self.spark.createDataFrame([], schema)
        parts = self._partition_columns(dt)
        if not parts:
            return self.spark.read.schema(schema).parquet(*[f.path for f in files])
        data_schema = StructType([f for f in schema.fields if f.name not in parts])
        groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for f in files:
            groups[f.partition].append(f.path)
        frames = []
        for values, paths in groups.items():
            const = dict(zip(parts, values, strict=False))
            df = self.spark.read.schema(data_schema).parquet(*paths)
            frames.append(
                df.select(
                    *[
                        F.lit(const[f.name]).cast(f.dataType).alias(f.name)
                        if f.name in const
                        else F.col(f"`{f.name}`")
                        for f in schema.fields
                    ]
                )
            )
        return reduce(DataFrame.unionByName, frames)

    def read(self, path: str, *, version: int | None, as_of: datetime | None) -> DataFrame:
        if as_of is not None:
            version = self._version_as_of(path, as_of)
        dt = self._table(path, version)
        files = self._files(path, dt)
        if version is not None or as_of is not None:
            missing = [f for f in files if not self.fs.exists(f.path)]
            if missing:
                raise TableError(
                    f"version {dt.version()} of table at {path} is no longer readable: VACUUM removed "
                    f"{len(missing)} of its data files (time travel is kept for the vacuum retention only)"
                )
        return self._frame(dt, path, files)

    def _version_as_of(self, path: str, as_of: datetime) -> int:
        """The latest version committed at or before ``as_of`` (naive = UTC)."""
        limit_ms = int(
            (as_of if as_of.tzinfo else as_of.replace(tzinfo=timezone.utc)).timestamp() * 1000
        )
        versions = [
            int(h["version"])
            for h in self._table(path).history()
            if int(h.get("timestamp", 0)) <= limit_ms
        ]
        if not versions:
            raise TableError(
                f"table at {path} has no version as of {as_of.isoformat()} (it did not exist yet)"
            )
        return max(versions)

    def schema(self, path: str) -> StructType:
        return self._schema_of(self._table(path))

    def version(self, path: str) -> int:
        return int(self._table(path).version())

    def file_count(self, path: str) -> int:
        return len(self._table(path).file_uris())

    def history(self, path: str, limit: int | None) -> list[dict[str, Any]]:
        return list(self._table(path).history(limit))

    def properties(self, path: str) -> dict[str, str]:
        return dict(self._table(path).metadata().configuration)

    def set_properties(self, path: str, props: dict[str, str]) -> None:
        self._table(path).alter.set_table_properties(props, raise_if_not_exists=False)

    # -- writing ----------------------------------------------------------------------------
    def _write_files(self, path: str, df: DataFrame, partition_by: list[str]) -> list[Any]:
        """Write ``df`` as new Parquet files under a fresh sub-folder; their add actions.

        With ``partition_by``, Spark writes one folder per partition value and leaves the
        partition columns out of the files, as Delta stores them; the values go to the actions.
        """
        sub = f"part-{uuid.uuid4().hex}"
        writer = df.write.mode("errorifexists")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(f"{path}/{sub}")
        adds = []
        for rel, size, mtime in self.fs.list_files_recursive(f"{path}/{sub}"):
            folder = rel.rpartition("/")[0]
            values = _partition_dirs(folder) if partition_by else {}
            adds.append(
                self._dl.transaction.AddAction(
                    path=f"{sub}/{rel}",
                    size=size,  # delta-rs URL-encodes action paths itself
                    partition_values={c: values.get(c) for c in partition_by},
                    modification_time=mtime,
                    data_change=True,
                    stats="{}",
                )
            )
        return adds

    def _delta_schema(self, df: DataFrame) -> Any:
        return self._dl.Schema.from_json(_nullable(df.schema).json())

    def _props(self) -> Any:
        return self._dl.CommitProperties(max_commit_retries=self.max_retries)

    def _create_or(self, path: str, df: DataFrame, mode: str) -> int:
        existing = self._table(path) if self.exists(path) else None
        parts = self._partition_columns(existing) if existing is not None else []
        if mode == "overwrite":
            parts = [c for c in parts if c in df.columns]
        adds = self._write_files(path, df, parts)
        for _attempt in range(self.max_retries):
            try:
                if mode == "append" and self.exists(path):
                    dt = self._table(path)
                    # the table's own schema: keeps column metadata, comments and nullability
                    dt.create_write_transaction(
                        adds,
                        mode="append",
                        schema=dt.schema(),
                        partition_by=self._partition_columns(dt) or None,
                        commit_properties=self._props(),
                    )
                else:
                    keep = (
                        self.properties(path) if mode == "overwrite" and self.exists(path) else None
                    )
                    self._dl.transaction.create_table_with_add_actions(
                        path,
                        self._delta_schema(df),
                        adds,
                        mode="overwrite" if mode == "overwrite" else "error",
                        partition_by=parts or None,
                        configuration=keep,
                        storage_options=self.opts,
                        commit_properties=self._props(),
                    )
                return self.version(path)
            except self._dl.exceptions.CommitFailedError:
                continue
            except self._dl.exceptions.DeltaError as exc:
                if mode == "append" and "exists" in str(exc).lower():
                    continue  # another writer created the table first: append to it
                raise TableError(f"commit to {path} failed: {exc}") from None
        raise CommitConflictError(f"commit to {path} kept conflicting with concurrent writers")

    def append(self, path: str, df: DataFrame) -> int:
        return self._create_or(path, df, "append")

    def merge_rows(self, path: str, table: pa.Table, keys: list[str]) -> int:
        """Upsert a few driver-built rows (Arrow) by ``keys`` natively (jobs.store.local_rows)."""
        return local_rows.merge(self._dl, self._table, path, table, keys, self.max_retries)

    def append_rows(self, path: str, table: pa.Table) -> int:
        """Append (or create the table with) a few driver-built rows natively."""
        return local_rows.append(
            self._dl,
            self._table,
            path,
            table,
            create=not self.exists(path),
            opts=self.opts,
            retries=self.max_retries,
        )

    def overwrite(self, path: str, df: DataFrame) -> int:
        return self._create_or(path, df, "overwrite")

    def _rewrite(self, path: str, touched_of: Any, rewrite: Any, untouched: Any = None) -> int:
        """Copy-on-write in one commit: the files holding ``touched_of(frame)`` rows are removed
        and ``rewrite(rows of those files)`` is added (partitioned like the table, so each kept row
        keeps its partition values); ``untouched()`` runs when no file matches. Files without a
        matching row are not read again, not rewritten and not removed."""
        for _attempt in range(self.max_retries):
            dt = self._table(path)
            files = self._files(path, dt)
            by_key = {f.path: f for f in files}
            frame = self._frame(dt, path, files).withColumn("_file", F.input_file_name())
            hit_uris = [r[0] for r in touched_of(frame).select("_file").distinct().collect()]
            if not hit_uris:
                return untouched() if untouched else int(dt.version())
            touched = [by_key[_spark_file_key(u)] for u in hit_uris]
            old = self._frame(dt, path, touched)
            adds = self._write_files(path, rewrite(old), self._partition_columns(dt))
            now_ms = int(time.time() * 1000)
            removes = [
                self._dl.transaction.RemoveAction(unquote(f.rel), True, now_ms, f.size)
                for f in touched
            ]  # decoded: delta-rs encodes action paths itself
            try:
                dt.create_write_transaction(
                    adds + removes,
                    mode="append",
                    schema=dt.schema(),
                    partition_by=self._partition_columns(dt) or None,
                    commit_properties=self._props(),
                )
                return self.version(path)
            except self._dl.exceptions.CommitFailedError:
                continue  # someone else changed the same files: recompute against the new version
            except self._dl.exceptions.DeltaError as exc:
                raise TableError(f"commit to {path} failed: {exc}") from None
        raise CommitConflictError(f"commit to {path} kept conflicting with concurrent writers")

    def upsert(self, path: str, df: DataFrame, keys: list[str]) -> int:
        incoming_keys = df.select(*keys).distinct().alias("i")

        def touched(frame: DataFrame) -> DataFrame:
            return frame.alias("e").join(incoming_keys, _null_safe_on("e", "i", keys), "left_semi")

        def rewrite(old: DataFrame) -> DataFrame:
            kept = old.alias("e").join(incoming_keys, _null_safe_on("e", "i", keys), "left_anti")
            return kept.unionByName(df)

        return self._rewrite(path, touched, rewrite, untouched=lambda: self.append(path, df))

    def replace_where(self, path: str, df: DataFrame, cond: Column) -> int:
        hit = F.coalesce(cond, F.lit(False))
        return self._rewrite(
            path,
            lambda fr: fr.filter(hit),
            lambda old: old.filter(~hit).unionByName(df),
            untouched=lambda: self.append(path, df),
        )

    def delete_where(self, path: str, cond: Column) -> int:
        hit = F.coalesce(cond, F.lit(False))
        return self._rewrite(path, lambda fr: fr.filter(hit), lambda old: old.filter(~hit))

    def delete_matching(self, path: str, keys_df: DataFrame, on: list[str]) -> int:
        k = keys_df.alias("k")
        return self._rewrite(
            path,
            lambda fr: fr.alias("e").join(k, _null_safe_on("e", "k", on), "left_semi"),
            lambda old: old.alias("e").join(k, _null_safe_on("e", "k", on), "left_anti"),
        )

    def vacuum(self, path: str, retention_hours: int) -> list[str]:
        return list(
            self._table(path).vacuum(
                retention_hours=retention_hours,
                dry_run=False,
                enforce_retention_duration=False,
                full=True,
            )
        )
