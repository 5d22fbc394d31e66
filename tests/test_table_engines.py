"""The TableStore contract, run once per storage engine (delta-rs and delta-spark).

Both engines live in the one session of tests/conftest.py. Every expectation is written by hand
from the contract in jobs/store/tables.py, not from either engine's output.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.errors import SchemaMismatchError, TableError
from jobs.store.tables import TableStore

SCHEMA = "id bigint, name string, score double"


def eq(actual, expected) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def rows(spark, data, schema=SCHEMA):
    return spark.createDataFrame(data, schema)


@pytest.fixture(params=["delta-rs", "spark"])
def store(request, spark, tmp_path) -> TableStore:
    if request.param == "spark":
        request.getfixturevalue("delta_spark")
    st = TableStore(spark, str(tmp_path / "warehouse"), engine=request.param)
    assert st.engine == request.param
    return st


class TestStoreContract:
    def test_append_read_and_version_numbers(self, spark, store):
        assert not store.exists("people")
        assert store.append("people", rows(spark, [(1, "ann", 1.5), (2, "bob", None)])) == 0
        assert store.append("people", rows(spark, [(3, None, 3.0)])) == 1
        eq(store.read("people"), rows(spark, [(1, "ann", 1.5), (2, "bob", None), (3, None, 3.0)]))
        eq(store.read("people", version=0), rows(spark, [(1, "ann", 1.5), (2, "bob", None)]))
        assert [f.name for f in store.schema("people").fields] == ["id", "name", "score"]
        assert store.info("people").version == 1 and store.info("people").files >= 1

    def test_time_travel_by_version_and_timestamp(self, spark, store):
        store.append("t", rows(spark, [(1, "old", 1.0)]))
        time.sleep(1.1)
        between = datetime.now(timezone.utc)
        time.sleep(1.1)
        store.overwrite("t", rows(spark, [(2, "new", 2.0)]))
        eq(store.read("t", as_of=between), rows(spark, [(1, "old", 1.0)]))
        eq(store.read("t", as_of=between.replace(tzinfo=None)), rows(spark, [(1, "old", 1.0)]))
        eq(
            store.read("t", as_of=datetime.now(timezone.utc) + timedelta(hours=1)),
            rows(spark, [(2, "new", 2.0)]),
        )
        with pytest.raises(TableError, match="no version as of"):
            store.read("t", as_of=between - timedelta(days=1))
        with pytest.raises(TableError):
            store.read("t", version=7)

    def test_history_newest_first_with_millisecond_timestamps(self, spark, store):
        t0 = int(time.time() * 1000) - 1000
        store.append("t", rows(spark, [(1, "a", 1.0)]))
        store.append("t", rows(spark, [(2, "b", 2.0)]))
        hist = store.history("t")
        assert [h["version"] for h in hist] == [1, 0]
        assert all(t0 <= int(h["timestamp"]) <= time.time() * 1000 + 1000 for h in hist)
        assert [h["version"] for h in store.history("t", limit=1)] == [1]

    def test_upsert_replaces_by_key_null_safely_and_is_idempotent(self, spark, store):
        schema = "a string, b bigint, v string"
        store.append(
            "t",
            spark.createDataFrame([(None, 1, "x"), ("k", None, "y"), (None, None, "z")], schema),
        )
        incoming = spark.createDataFrame(
            [(None, 1, "X"), (None, None, "Z"), ("k", 2, "new"), ("k", 2, "new")], schema
        )
        expected = [(None, 1, "X"), ("k", None, "y"), (None, None, "Z"), ("k", 2, "new")]
        store.upsert("t", incoming, keys=["a", "b"])
        eq(store.read("t"), spark.createDataFrame(expected, schema))
        store.upsert("t", incoming, keys=["a", "b"])
        eq(store.read("t"), spark.createDataFrame(expected, schema))

    def test_upsert_creates_a_missing_table_and_reorders_columns(self, spark, store):
        store.upsert(
            "t",
            spark.createDataFrame([("a", 1, 1.0)], "name string, id bigint, score double"),
            ["id"],
        )
        assert [f.name for f in store.schema("t").fields] == ["name", "id", "score"]
        store.upsert("t", rows(spark, [(1, "A", 2.0), (2, "b", 3.0)]), ["id"])
        eq(
            store.read("t").select("id", "name", "score"),
            rows(spark, [(1, "A", 2.0), (2, "b", 3.0)]),
        )

    def test_upsert_rows_is_the_upsert_of_those_rows(self, spark, store):
        """Rows from the driver: null-safe keys, the last row of a key kept, types round-trip."""
        schema = "a string, b bigint, at timestamp, on_day date, v string"
        day, at = date(2026, 11, 21), datetime(2026, 11, 21, 23, 59, 59, 123456)
        store.append_rows("t", [(None, 1, at, day, "x"), ("k", None, None, None, "y")], schema)
        store.upsert_rows(
            "t",
            [(None, 1, at, day, "first"), (None, 1, at, day, "X"), ("k", 2, None, day, "new")],
            schema,
            keys=["a", "b"],
        )
        expected = spark.createDataFrame(
            [(None, 1, at, day, "X"), ("k", None, None, None, "y"), ("k", 2, None, day, "new")],
            schema,
        )
        eq(store.read("t"), expected)
        version = store.version("t")
        store.upsert_rows("t", [], schema, keys=["a", "b"])
        assert store.version("t") == version  # nothing to write: no commit
        store.upsert_rows("t", [("k", 2, None, day, "new")], schema, keys=["a", "b"])
        eq(store.read("t"), expected)

    def test_rows_writes_check_the_schema_and_keep_the_partitioning(self, spark, store):
        import deltalake
        import pyarrow as pa

        first = pa.table({"day": ["2026-11-20"], "id": pa.array([1], pa.int64()), "v": ["a"]})
        deltalake.write_deltalake(store.path("p"), first, partition_by=["day"])
        with pytest.raises(SchemaMismatchError, match="'p'.*wrong types: id"):
            store.upsert_rows(
                "p", [("2026-11-21", "1", "b")], "day string, id string, v string", ["id"]
            )
        assert store.version("p") == 0
        store.upsert_rows(
            "p",
            [("v2", 2, "2026-11-21"), ("A", 1, "2026-11-20")],
            "v string, id bigint, day string",
            keys=["id"],
        )
        eq(
            store.read("p").select("day", "id", "v"),
            spark.createDataFrame(
                [("2026-11-20", 1, "A"), ("2026-11-21", 2, "v2")], "day string, id bigint, v string"
            ),
        )
        assert deltalake.DeltaTable(store.path("p")).metadata().partition_columns == ["day"]

    def test_replace_where_replaces_only_the_matching_slice(self, spark, store):
        schema = "night date, k string, n bigint"
        d1, d2 = datetime(2026, 11, 21).date(), datetime(2026, 11, 22).date()
        store.append(
            "s",
            spark.createDataFrame(
                [(d1, "a", 1), (d2, "a", 2), (d2, "b", 3), (None, "c", 4)], schema
            ),
        )
        store.replace_where(
            "s", spark.createDataFrame([(d2, "z", 9)], schema), F.col("night") == F.lit(d2)
        )
        eq(
            store.read("s"),
            spark.createDataFrame([(d1, "a", 1), (d2, "z", 9), (None, "c", 4)], schema),
        )
        store.replace_where(
            "s", spark.createDataFrame([(d2, "z", 9)], schema), "night = DATE'2026-11-22'"
        )
        eq(
            store.read("s"),
            spark.createDataFrame([(d1, "a", 1), (d2, "z", 9), (None, "c", 4)], schema),
        )

    def test_delete_where_and_delete_matching(self, spark, store):
        store.append(
            "t", rows(spark, [(1, "a", 1.0), (2, "b", 2.0), (3, None, 0.5), (4, "d", None)])
        )
        store.delete_where("t", "score >= 2")  # a null score does not match
        eq(store.read("t"), rows(spark, [(1, "a", 1.0), (3, None, 0.5), (4, "d", None)]))
        v = store.version("t")
        assert store.delete_where("t", "id = 99") == v  # nothing matches: no new version
        keys = spark.createDataFrame([(1, "x"), (1, "y"), (None, "z")], "id bigint, other string")
        store.delete_matching("t", keys, on=["id"])
        eq(store.read("t"), rows(spark, [(3, None, 0.5), (4, "d", None)]))

    def test_vacuum_removes_old_files_and_time_travel_then_fails_clearly(self, spark, store):
        store.append("t", rows(spark, [(1, "old", 1.0)]))
        store.overwrite("t", rows(spark, [(2, "new", 2.0)]))
        assert store.vacuum("t", retention_hours=10_000) == []  # nothing is that old
        eq(store.read("t", version=0), rows(spark, [(1, "old", 1.0)]))
        removed = store.vacuum("t", retention_hours=0)
        # the overwritten data files (delta-rs also lists their .crc checksums), table-relative
        assert [p for p in removed if p.endswith(".parquet")]
        assert not [p for p in removed if p.startswith(("/", "file:"))]
        assert not any((Path(store.path("t")) / p).exists() for p in removed)
        with pytest.raises(TableError, match="no longer readable"):
            store.read("t", version=0).collect()
        eq(store.read("t"), rows(spark, [(2, "new", 2.0)]))

    def test_properties_set_and_kept_by_overwrite(self, spark, store):
        store.append("t", rows(spark, [(1, "a", 1.0)]))
        props = {
            "delta.deletedFileRetentionDuration": "interval 7 days",
            "delta.logRetentionDuration": "interval 30 days",
        }
        store.set_properties("t", props)
        store.overwrite("t", rows(spark, [(2, "b", 2.0)]))
        got = store.properties("t")
        assert {k: got.get(k) for k in props} == props

    @pytest.mark.parametrize("op", ["append", "overwrite", "upsert", "replace_where"])
    def test_schema_mismatch_commits_nothing(self, spark, store, op):
        store.append("crm.customers", rows(spark, [(1, "a", 1.0)]))
        bad = spark.createDataFrame([("1", "a", 1.0)], "id string, name string, score double")
        with pytest.raises(SchemaMismatchError, match="'crm.customers'.*wrong types: id"):
            if op == "upsert":
                store.upsert("crm.customers", bad, keys=["id"])
            elif op == "replace_where":
                store.replace_where("crm.customers", bad, "id = 1")
            else:
                getattr(store, op)("crm.customers", bad)
        assert store.version("crm.customers") == 0

    def test_nullable_columns_accept_nulls_after_a_non_null_first_write(self, spark, store):
        first = spark.range(2).select(
            F.col("id"), F.lit("x").alias("name"), F.lit(1.0).alias("score")
        )
        assert not first.schema["name"].nullable
        store.append("t", first)
        store.append("t", rows(spark, [(5, None, None)]))
        eq(store.read("t"), rows(spark, [(0, "x", 1.0), (1, "x", 1.0), (5, None, None)]))

    def test_list_tables_and_missing_table_errors(self, spark, store):
        one = rows(spark, [(1, "a", 1.0)])
        store.append("crm.customers", one)
        store.append("app.events.clicks", one)
        assert store.list_tables() == ["app.events.clicks", "crm.customers"]
        with pytest.raises(TableError, match="'crm.nothing'"):
            store.read("crm.nothing")


def test_one_session_serves_both_engines_on_one_table(delta_spark, tmp_path):
    """A table written by delta-spark reads the same through delta-rs, and the other way round."""
    spark = delta_spark
    root = str(tmp_path / "wh")
    ds, rs = TableStore(spark, root, engine="spark"), TableStore(spark, root, engine="delta-rs")
    ds.append("t", rows(spark, [(1, "a", 1.0), (2, "b", 2.0)]))
    rs.upsert("t", rows(spark, [(2, "B", 20.0), (3, "c", 3.0)]), keys=["id"])
    ds.delete_where("t", "id = 1")
    expected = rows(spark, [(2, "B", 20.0), (3, "c", 3.0)])
    eq(ds.read("t"), expected)
    eq(rs.read("t"), expected)
    assert ds.version("t") == rs.version("t") == 2
