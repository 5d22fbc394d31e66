"""The delta-spark engine: used where the Delta JVM classes are on Spark's classpath (a cluster).

Same methods as :class:`jobs.tables_backend.DeltaRsBackend`; delta-spark's optimistic concurrency
handles conflicts, retried a few times before :class:`CommitConflictError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql.types import StructType

from jobs.errors import CommitConflictError
from jobs.tables_backend import _HadoopFs, _null_safe_on, _sql_of


class SparkDeltaBackend:
    """delta-spark: used where the Delta JVM classes are on the classpath (a cluster)."""

    def __init__(self, spark: SparkSession, storage_options: dict[str, str], max_retries: int) -> None:
        from delta.tables import DeltaTable

        self.DeltaTable = DeltaTable
        self.spark = spark
        self.max_retries = max_retries
        self.fs = _HadoopFs(spark)
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        spark.conf.set("spark.databricks.delta.properties.defaults.enableDeletionVectors", "false")

    def _dt(self, path: str) -> Any:
        return self.DeltaTable.forPath(self.spark, path)

    def exists(self, path: str) -> bool:
        return bool(self.DeltaTable.isDeltaTable(self.spark, path))

    def list_tables(self, root: str) -> list[str]:
        return self.fs.find_tables(root)

    def read(self, path: str, *, version: int | None, as_of: datetime | None) -> DataFrame:
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        if as_of is not None:
            reader = reader.option("timestampAsOf", as_of.strftime("%Y-%m-%d %H:%M:%S"))
        return reader.load(path)

    def schema(self, path: str) -> StructType:
        return self._dt(path).toDF().schema

    def version(self, path: str) -> int:
        return int(self._dt(path).history(1).select("version").first()[0])

    def file_count(self, path: str) -> int:
        return int(self._dt(path).detail().select("numFiles").first()[0])

    def history(self, path: str, limit: int | None) -> list[dict[str, Any]]:
        rows = self._dt(path).history(limit) if limit else self._dt(path).history()
        return [r.asDict(recursive=True) for r in rows.collect()]

    def properties(self, path: str) -> dict[str, str]:
        return dict(self._dt(path).detail().select("properties").first()[0] or {})

    def set_properties(self, path: str, props: dict[str, str]) -> None:
        settings = ", ".join(f"'{k}' = '{v}'" for k, v in props.items())
        self.spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({settings})")

    def _retry(self, action: Any) -> int:
        for _attempt in range(self.max_retries):
            try:
                action()
                return 0
            except Exception as exc:  # noqa: BLE001 - delta raises ConcurrentModificationException subclasses
                if "Concurrent" not in type(exc).__name__ and "Concurrent" not in str(exc):
                    raise
        raise CommitConflictError("commit kept conflicting with concurrent writers")

    def append(self, path: str, df: DataFrame) -> int:
        self._retry(lambda: df.write.format("delta").mode("append").save(path))
        return self.version(path)

    def overwrite(self, path: str, df: DataFrame) -> int:
        self._retry(
            lambda: df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
        )
        return self.version(path)

    def upsert(self, path: str, df: DataFrame, keys: list[str]) -> int:
        def merge() -> None:
            (self._dt(path).alias("t").merge(df.alias("s"), _null_safe_on("t", "s", keys))
             .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())

        self._retry(merge)
        return self.version(path)

    def replace_where(self, path: str, df: DataFrame, cond: Column) -> int:
        self._retry(lambda: df.write.format("delta").mode("overwrite").option("replaceWhere", _sql_of(cond)).save(path))
        return self.version(path)

    def delete_where(self, path: str, cond: Column) -> int:
        self._retry(lambda: self._dt(path).delete(cond))
        return self.version(path)

    def delete_matching(self, path: str, keys_df: DataFrame, on: list[str]) -> int:
        def merge() -> None:
            (self._dt(path).alias("t").merge(keys_df.alias("s"), _null_safe_on("t", "s", on))
             .whenMatchedDelete().execute())

        self._retry(merge)
        return self.version(path)

    def vacuum(self, path: str, retention_hours: int) -> list[str]:
        self._dt(path).vacuum(retention_hours)
        return []
