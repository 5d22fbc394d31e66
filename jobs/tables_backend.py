"""The two storage engines behind :class:`jobs.tables.TableStore`.

Both engines keep table data on the executors: Spark reads and writes every Parquet data file;
only file names, sizes and the transaction log pass through the driver.

The delta-rs engine writes each batch of new files into a fresh sub-folder of the table
(``<table>/part-<uuid>/part-*.parquet``) and then commits add/remove actions with ``deltalake``.
A failed write leaves only unreferenced files, which VACUUM removes; a version is either fully
committed or absent. Upserts and deletes are copy-on-write: only the files that hold matching rows
are rewritten, and their removal is committed in the same transaction as the new files.

The delta-spark engine lives in :mod:`jobs.tables_spark`.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from jobs.errors import CommitConflictError, TableError


def delta_classes_loaded(spark: SparkSession) -> bool:
    """True when delta-spark's JVM classes and session extension are available."""
    try:
        spark.sparkContext._jvm.java.lang.Class.forName("io.delta.tables.DeltaTable")  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - py4j raises a generic error for a missing class
        return False
    return "DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions", "")


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
    """A file URI or URL-encoded local path as a plain local path; other URIs unchanged."""
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    if "://" not in uri:
        return unquote(uri)
    return uri


def _sql_of(cond: Column) -> str:
    """The SQL text of a column expression (for delta-spark's replaceWhere option)."""
    return cond._jc.expr().sql()  # type: ignore[attr-defined]


def _null_safe_on(left: str, right: str, keys: list[str]) -> Column:
    cond = None
    for k in keys:
        c = F.col(f"{left}.`{k}`").eqNullSafe(F.col(f"{right}.`{k}`"))
        cond = c if cond is None else cond & c
    assert cond is not None
    return cond


class Backend(Protocol):
    """What an engine must do; :class:`jobs.tables.TableStore` adds naming and schema checks."""

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
    """Spark writes the Parquet files; ``deltalake`` commits the log and lists the files."""

    def __init__(self, spark: SparkSession, storage_options: dict[str, str], max_retries: int) -> None:
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

    def _frame(self, dt: Any, uris: list[str] | None = None) -> DataFrame:
        schema = self._schema_of(dt)
        files = [_local(u) for u in dt.file_uris()] if uris is None else uris
        if not files:
            return self.spark.createDataFrame([], schema)
        return self.spark.read.schema(schema).parquet(*files)

    def read(self, path: str, *, version: int | None, as_of: datetime | None) -> DataFrame:
        if as_of is not None:
            version = self._version_as_of(path, as_of)
        dt = self._table(path, version)
        if version is not None or as_of is not None:
            missing = [u for u in dt.file_uris() if not self.fs.exists(_local(u))]
            if missing:
                raise TableError(
                    f"version {dt.version()} of table at {path} is no longer readable: VACUUM removed "
                    f"{len(missing)} of its data files (time travel is kept for the vacuum retention only)"
                )
        return self._frame(dt)

    def _version_as_of(self, path: str, as_of: datetime) -> int:
        """The latest version committed at or before ``as_of`` (naive = UTC)."""
        limit_ms = int((as_of if as_of.tzinfo else as_of.replace(tzinfo=timezone.utc)).timestamp() * 1000)
        versions = [int(h["version"]) for h in self._table(path).history() if int(h.get("timestamp", 0)) <= limit_ms]
        if not versions:
            raise TableError(f"table at {path} has no version as of {as_of.isoformat()} (it did not exist yet)")
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
    def _write_files(self, path: str, df: DataFrame) -> list[Any]:
        sub = f"part-{uuid.uuid4().hex}"
        df.write.mode("errorifexists").parquet(f"{path}/{sub}")
        return [
            self._dl.transaction.AddAction(
                path=f"{sub}/{name}", size=size, partition_values={},
                modification_time=mtime, data_change=True, stats="{}",
            )
            for name, size, mtime in self.fs.list_files(f"{path}/{sub}")
        ]

    def _delta_schema(self, df: DataFrame) -> Any:
        return self._dl.Schema.from_json(_nullable(df.schema).json())

    def _props(self) -> Any:
        return self._dl.CommitProperties(max_commit_retries=self.max_retries)

    def _create_or(self, path: str, df: DataFrame, mode: str) -> int:
        adds = self._write_files(path, df)
        schema = self._delta_schema(df)
        for _attempt in range(self.max_retries):
            try:
                if mode == "append" and self.exists(path):
                    self._table(path).create_write_transaction(
                        adds, mode="append", schema=schema, commit_properties=self._props()
                    )
                else:
                    keep = self.properties(path) if mode == "overwrite" and self.exists(path) else None
                    self._dl.transaction.create_table_with_add_actions(
                        path, schema, adds, mode="overwrite" if mode == "overwrite" else "error",
                        configuration=keep, storage_options=self.opts, commit_properties=self._props(),
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

    def overwrite(self, path: str, df: DataFrame) -> int:
        return self._create_or(path, df, "overwrite")

    def _rel_paths(self, dt: Any) -> dict[str, tuple[str, int]]:
        """Map of every live file's absolute URI path -> (relative path, size)."""
        actions = pa.table(dt.get_add_actions(flatten=True))
        rels = actions.column("path").to_pylist()
        sizes = actions.column("size_bytes").to_pylist()
        return {_local(uri): (rel, size) for uri, rel, size in zip(dt.file_uris(), rels, sizes)}

    def _rewrite(self, path: str, touched_of: Any, rewrite: Any, untouched: Any = None) -> int:
        """Copy-on-write in one commit: the files holding ``touched_of(frame)`` rows are removed
        and ``rewrite(rows of those files)`` is added; ``untouched()`` runs when no file matches."""
        for _attempt in range(self.max_retries):
            dt = self._table(path)
            frame = self._frame(dt).withColumn("_file", F.input_file_name())
            touched_uris = [r[0] for r in touched_of(frame).select("_file").distinct().collect()]
            if not touched_uris:
                return untouched() if untouched else int(dt.version())
            live = self._rel_paths(dt)
            touched = [live[_local(u)] for u in touched_uris]
            old = self._frame(dt, [_local(u) for u in touched_uris])
            adds = self._write_files(path, rewrite(old))
            now_ms = int(time.time() * 1000)
            removes = [self._dl.transaction.RemoveAction(rel, True, now_ms, size) for rel, size in touched]
            try:
                dt.create_write_transaction(
                    adds + removes, mode="append", schema=dt.schema(), commit_properties=self._props()
                )
                return self.version(path)
            except self._dl.exceptions.CommitFailedError:
                continue  # someone else changed the same files: recompute against the new version
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
            path, lambda fr: fr.filter(hit), lambda old: old.filter(~hit).unionByName(df),
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
                retention_hours=retention_hours, dry_run=False,
                enforce_retention_duration=False, full=True,
            )
        )
