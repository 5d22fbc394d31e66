"""The delta-spark engine: Delta's own JVM code commits every change.

Same methods and the same observable behaviour as :class:`jobs.store.backend.DeltaRsBackend`:
upserts are Delta ``MERGE`` (matched rows updated, others inserted), deletes are ``DELETE`` or a
``MERGE ... WHEN MATCHED THEN DELETE``, ``replace_where`` is the ``replaceWhere`` overwrite, time
travel is ``versionAsOf`` (a timestamp resolves to the latest version committed at or before it,
as with delta-rs), ``vacuum`` returns the removed files relative to the table folder, and a
version whose files VACUUM removed raises :class:`TableError` when read. Delta's optimistic
concurrency rejects a conflicting commit; the operation is then recomputed against the new
version, up to ``max_retries`` times, before :class:`CommitConflictError` names the table.

Columns are written nullable (as the delta-rs engine does) and deletion vectors are off, so a
table written by one engine reads the same through the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlparse

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from jobs.errors import CommitConflictError, ComplianceError, TableError
from jobs.store.backend import _HadoopFs, _local, _null_safe_on

#: Session settings the engine relies on (set once when the engine is created).
SESSION_CONF = {
    # VACUUM takes the retention it is given (the product checks it), like delta-rs.
    "spark.databricks.delta.retentionDurationCheck.enabled": "false",
    # Plain copy-on-write files, readable by any Delta reader (and by the delta-rs engine).
    "spark.databricks.delta.properties.defaults.enableDeletionVectors": "false",
    # replace_where replaces the matching rows by the given ones, whatever they hold.
    "spark.databricks.delta.replaceWhere.constraintCheck.enabled": "false",
}
_CONFLICT_WORDS = ("Concurrent", "ProtocolChanged", "MetadataChanged")


def delta_class(spark: SparkSession) -> Any:
    """delta-spark's ``DeltaTable`` JVM class, or None.

    Looked up through the thread's context class loader, which holds the jars added with
    ``spark.jars`` (``Class.forName`` from py4j only sees the JVM's own classpath).
    """
    try:
        jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
        return (
            jvm.java.lang.Thread.currentThread()
            .getContextClassLoader()
            .loadClass("io.delta.tables.DeltaTable")
        )
    except Exception:  # noqa: BLE001 - py4j raises a generic error for a missing class
        return None


def delta_classes_loaded(spark: SparkSession) -> bool:
    """True when delta-spark's JVM classes and session extension are available."""
    if delta_class(spark) is None:
        return False
    return "DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions", "")


def auto_engine(spark: SparkSession) -> str:
    """What ``engine: auto`` uses: delta-spark on a cluster with the Delta classes, else delta-rs.

    Embedded (a ``local`` master) delta-rs is the default even with the jars loaded: on the demo
    nightly it is several times faster (README, "Storage engines"); ``engine: spark`` still
    picks delta-spark there.
    """
    if spark.sparkContext.master.startswith("local") or not delta_classes_loaded(spark):
        return "delta-rs"
    return "spark"


def _conflict_types() -> tuple[type[BaseException], ...]:
    from delta import exceptions as dx

    names = (
        "DeltaConcurrentModificationException",
        "ConcurrentWriteException",
        "MetadataChangedException",
        "ProtocolChangedException",
        "ConcurrentAppendException",
        "ConcurrentDeleteReadException",
        "ConcurrentDeleteDeleteException",
        "ConcurrentTransactionException",
    )
    return tuple(getattr(dx, n) for n in names if hasattr(dx, n))


def _is_conflict(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    if isinstance(exc, types):
        return True
    text = f"{type(exc).__name__} {str(exc)[:2000]}"
    if any(w in text for w in _CONFLICT_WORDS):
        return True
    # two writers creating a table at once: the loser finds 00000000000000000000.json taken
    return "FileAlreadyExistsException" in text and "_delta_log" in text


def _sql_text(spark: SparkSession, cond: Column) -> str:
    """The SQL text of a column expression, for delta-spark's ``replaceWhere`` option.

    Through the Catalyst expression, whose literals print as SQL (``DATE '2026-11-22'``): Spark 4
    builds it with the session's ``expression(Column)``; Spark 3's Column held it (``expr()``).
    Spark 4's ``Column.node().sql()`` is not used: it prints a date literal unquoted.
    """
    jc = cond._jc  # type: ignore[attr-defined]
    try:
        return str(spark._jsparkSession.expression(jc).sql())  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - py4j: no such method before Spark 4
        return str(jc.expr().sql())


def _rel(uri: str, table: str) -> str:
    """A file URI as a path relative to the table folder (delta-rs's VACUUM output)."""
    path = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
    root = _local(table).rstrip("/") + "/"
    return path[len(root) :] if path.startswith(root) else path


class SparkDeltaBackend:
    """delta-spark: used where the Delta JVM classes and session extension are loaded."""

    def __init__(
        self, spark: SparkSession, storage_options: dict[str, str], max_retries: int
    ) -> None:
        from delta.tables import DeltaTable

        self.DeltaTable = DeltaTable
        self.spark = spark
        self.max_retries = max(1, max_retries)
        self.fs = _HadoopFs(spark)
        self._conflicts = _conflict_types()
        for key, value in SESSION_CONF.items():
            spark.conf.set(key, value)
        if spark.sparkContext.master.startswith("local"):
            # Delta's default of 50 partitions for the log state is made for clusters: embedded,
            # each commit would run 50 tiny tasks per state rebuild.
            spark.conf.set(
                "spark.databricks.delta.snapshotPartitions",
                str(max(1, spark.sparkContext.defaultParallelism)),
            )

    def _dt(self, path: str) -> Any:
        return self.DeltaTable.forPath(self.spark, path)

    # -- reading ----------------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return bool(self.DeltaTable.isDeltaTable(self.spark, path))

    def list_tables(self, root: str) -> list[str]:
        return self.fs.find_tables(root)

    def _commits(self, path: str) -> list[tuple[int, int]]:
        """(version, commit time in ms) of every commit still in the log, newest first."""
        rows = (
            self._dt(path)
            .history()
            .select("version", F.unix_millis("timestamp").alias("ms"))
            .orderBy(F.desc("version"))
            .collect()
        )
        return [(int(r.version), int(r.ms)) for r in rows]

    def _version_as_of(self, path: str, as_of: datetime) -> int:
        """The latest version committed at or before ``as_of`` (naive = UTC)."""
        aware = as_of if as_of.tzinfo else as_of.replace(tzinfo=timezone.utc)
        limit_ms = int(aware.timestamp() * 1000)
        versions = [v for v, ms in self._commits(path) if ms <= limit_ms]
        if not versions:
            raise TableError(
                f"table at {path} has no version as of {as_of.isoformat()} (it did not exist yet)"
            )
        return max(versions)

    def read(self, path: str, *, version: int | None, as_of: datetime | None) -> DataFrame:
        if as_of is not None:
            version = self._version_as_of(path, as_of)
        if version is None:
            return self.spark.read.format("delta").load(path)
        latest = self.version(path)
        if version < 0 or version > latest:
            raise TableError(f"table at {path} has no version {version} (latest is {latest})")
        try:
            df = self.spark.read.format("delta").option("versionAsOf", version).load(path)
            files = df.inputFiles()
        except Exception as exc:  # noqa: BLE001 - py4j wraps Delta's errors
            raise TableError(
                f"version {version} of table at {path} cannot be read: {str(exc)[:300]}"
            ) from None
        missing = [f for f in files if not self.fs.exists(f)]
        if missing:
            raise TableError(
                f"version {version} of table at {path} is no longer readable: VACUUM removed "
                f"{len(missing)} of its data files (time travel is kept for the vacuum retention "
                "only)"
            )
        return df

    def schema(self, path: str) -> StructType:
        return self.spark.read.format("delta").load(path).schema

    def version(self, path: str) -> int:
        return int(self._dt(path).history(1).select("version").first()[0])

    def file_count(self, path: str) -> int:
        return int(self._dt(path).detail().select("numFiles").first()[0])

    def history(self, path: str, limit: int | None) -> list[dict[str, Any]]:
        """Newest first, in delta-rs's shape: ``timestamp`` in epoch milliseconds."""
        hist = self._dt(path).history(limit) if limit else self._dt(path).history()
        hist = hist.withColumn("timestamp", F.unix_millis("timestamp")).orderBy(F.desc("version"))
        return [r.asDict(recursive=True) for r in hist.collect()]

    def properties(self, path: str) -> dict[str, str]:
        return dict(self._dt(path).detail().select("properties").first()[0] or {})

    def set_properties(self, path: str, props: dict[str, str]) -> None:
        def quote(text: str) -> str:
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

        settings = ", ".join(f"{quote(k)} = {quote(v)}" for k, v in props.items())
        self._retry(
            path,
            lambda: self.spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({settings})"),
        )

    # -- writing ----------------------------------------------------------------------------
    def _retry(self, path: str, action: Callable[[], Any]) -> None:
        """Run ``action`` until it commits; a lost race is retried on the new version."""
        for _attempt in range(self.max_retries):
            try:
                action()
                return
            except ComplianceError:
                raise
            except Exception as exc:  # noqa: BLE001 - delta raises ConcurrentModificationException subclasses
                if not _is_conflict(exc, self._conflicts):
                    raise TableError(
                        f"commit to {path} failed: {str(exc).splitlines()[0][:300]}"
                    ) from None
        raise CommitConflictError(
            f"commit to {path} kept conflicting with concurrent writers "
            f"({self.max_retries} attempts)"
        )

    def append(self, path: str, df: DataFrame) -> int:
        self._retry(path, lambda: df.write.format("delta").mode("append").save(path))
        return self.version(path)

    def overwrite(self, path: str, df: DataFrame) -> int:
        self._retry(
            path,
            lambda: (
                df.write.format("delta")
                .mode("overwrite")
                .option("overwriteSchema", "true")
                .save(path)
            ),
        )
        return self.version(path)

    def upsert(self, path: str, df: DataFrame, keys: list[str]) -> int:
        def merge() -> None:
            (
                self._dt(path)
                .alias("t")
                .merge(df.alias("s"), _null_safe_on("t", "s", keys))
                .whenMatchedUpdateAll()
                .whenNotMatchedInsertAll()
                .execute()
            )

        self._retry(path, merge)
        return self.version(path)

    def replace_where(self, path: str, df: DataFrame, cond: Column) -> int:
        where = _sql_text(self.spark, F.coalesce(cond, F.lit(False)))
        self._retry(
            path,
            lambda: (
                df.write.format("delta").mode("overwrite").option("replaceWhere", where).save(path)
            ),
        )
        return self.version(path)

    def delete_where(self, path: str, cond: Column) -> int:
        self._retry(path, lambda: self._dt(path).delete(F.coalesce(cond, F.lit(False))))
        return self.version(path)

    def delete_matching(self, path: str, keys_df: DataFrame, on: list[str]) -> int:
        def merge() -> None:
            (
                self._dt(path)
                .alias("t")
                .merge(keys_df.alias("s"), _null_safe_on("t", "s", on))
                .whenMatchedDelete()
                .execute()
            )

        self._retry(path, merge)
        return self.version(path)

    def vacuum(self, path: str, retention_hours: int) -> list[str]:
        """Remove unreferenced files older than the retention; their paths, table-relative."""
        sql = f"VACUUM delta.`{path}` RETAIN {int(retention_hours)} HOURS"
        # VACUUM lists the table's folders with one task per folder up to this setting (10,000
        # by default, thousands of empty tasks on a small table): bound it by the cores.
        key = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
        before = self.spark.conf.get(key)
        self.spark.conf.set(key, str(max(1, self.spark.sparkContext.defaultParallelism)))
        try:
            doomed = [_rel(r[0], path) for r in self.spark.sql(sql + " DRY RUN").collect()]
            self.spark.sql(sql).collect()
        finally:
            self.spark.conf.set(key, before)
        return sorted(doomed)
