"""Two processes committing to one table at once, on each engine, on a local path and on the S3
endpoint (moto on loopback): no lost update.

The second writer is a real other process: a Python worker of the Spark session, which commits
with ``deltalake`` (its own transaction-log writer) while the store's upsert is between reading
the table and committing. The race is so made deterministic: the worker's commit always lands in
the window. Delta's conflict check must reject the store's first commit; the store then retries
on the new version (the other writer's update survives), or, with no retry left, raises
CommitConflictError naming the table.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from jobs.errors import CommitConflictError
from jobs.store.tables import TableStore

SCHEMA = "id bigint, name string, score double"


def eq(actual, expected) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.fixture(params=["delta-rs", "spark"])
def engine(request):
    if request.param == "spark":
        request.getfixturevalue("delta_spark")
    return request.param


@pytest.fixture(params=["local", "s3"])
def where(request, tmp_path):
    """Where the table lives: ``(warehouse root, delta-rs storage options or None)``."""
    if request.param == "local":
        return str(tmp_path / "wh"), None
    s3 = request.getfixturevalue("s3")
    root = f"s3a://{s3.bucket}/{uuid.uuid4().hex[:8]}/warehouse"
    return root, s3.store.delta_rs_options()


def _racing_rows(spark, table_path: str, marker: Path, options: dict | None):
    """The incoming row (1, 'mine', 1.5); computing it makes another process commit first.

    The other writer (the Python worker evaluating the UDF) rewrites the whole table once with
    ``deltalake``: row 2 becomes 'theirs'. Whoever then commits a rewrite of the old file loses.
    """

    def side_effect(name: str) -> str:
        import os

        import pyarrow as pa
        from deltalake import write_deltalake

        try:
            fd = os.open(str(marker), os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return name
        os.close(fd)
        theirs = pa.table(
            {
                "id": pa.array([1, 2, 3], pa.int64()),
                "name": pa.array(["a", "theirs", "c"], pa.string()),
                "score": pa.array([1.0, 2.0, 3.0], pa.float64()),
            }
        )
        write_deltalake(table_path, theirs, mode="overwrite", storage_options=options)
        return name

    racing = F.udf(side_effect, StringType()).asNondeterministic()
    return spark.createDataFrame([(1, "mine", 1.5)], SCHEMA).withColumn("name", racing("name"))


def _table(spark, where, engine: str, retries: int) -> TableStore:
    root, options = where
    store = TableStore(
        spark, root, engine=engine, max_retries=retries, storage_options=options or {}
    )
    store.append(
        "crm.customers",
        spark.createDataFrame([(1, "a", 1.0), (2, "b", 2.0), (3, "c", 3.0)], SCHEMA).coalesce(1),
    )
    return store


def _theirs_path(store: TableStore, where) -> str:
    """The table as the other process (delta-rs) names it: ``s3://`` on the object store."""
    path = store.path("crm.customers")
    return path.replace("s3a://", "s3://", 1) if where[1] else path


def test_a_conflicting_commit_is_retried_and_loses_no_update(spark, tmp_path, engine, where):
    store = _table(spark, where, engine, retries=3)
    marker = tmp_path / "raced"
    racing = _racing_rows(spark, _theirs_path(store, where), marker, where[1])
    store.upsert("crm.customers", racing, keys=["id"])
    assert marker.exists()  # the other process did commit in between
    # both updates are there: row 1 from this writer, row 2 from the other process
    eq(
        store.read("crm.customers"),
        spark.createDataFrame([(1, "mine", 1.5), (2, "theirs", 2.0), (3, "c", 3.0)], SCHEMA),
    )
    assert store.version("crm.customers") == 2


def test_a_conflict_with_no_retry_left_names_the_table(spark, tmp_path, engine, where):
    store = _table(spark, where, engine, retries=1)
    marker = tmp_path / "raced"
    racing = _racing_rows(spark, _theirs_path(store, where), marker, where[1])
    with pytest.raises(CommitConflictError, match=r"'crm\.customers'.*concurrent"):
        store.upsert("crm.customers", racing, keys=["id"])
    # the other process's commit stands; this writer's update was not half applied
    eq(
        store.read("crm.customers"),
        spark.createDataFrame([(1, "a", 1.0), (2, "theirs", 2.0), (3, "c", 3.0)], SCHEMA),
    )
