"""Tests of the Delta table store (jobs/store/tables.py) on a temporary warehouse.

The delta-rs engine is covered fully (it is what ``auto`` resolves to embedded);
the spark engine's tests skip with a stated reason where the Delta JVM classes are absent.
Every comparison is against an explicit expected DataFrame written by hand.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.errors import SchemaMismatchError, TableError
from jobs.store.spark_tables import delta_classes_loaded
from jobs.store.tables import TableStore

SCHEMA = "id bigint, name string, score double"


def eq(actual, expected) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.fixture
def store(spark, tmp_path) -> TableStore:
    return TableStore(spark, str(tmp_path / "warehouse"), engine="delta-rs")


def rows(spark, data, schema=SCHEMA):
    return spark.createDataFrame(data, schema)


# -- engine selection --------------------------------------------------------------------------


def test_auto_engine_resolves_to_delta_rs_embedded_with_or_without_delta_jars(spark, tmp_path):
    assert spark.sparkContext.master.startswith("local")
    assert TableStore(spark, str(tmp_path)).engine == "delta-rs"


def test_spark_engine_without_delta_jars_raises_a_clear_table_error(spark, tmp_path):
    if delta_classes_loaded(spark):
        pytest.skip("the Delta JVM classes are loaded here")
    with pytest.raises(TableError) as err:
        TableStore(spark, str(tmp_path), engine="spark")
    msg = str(err.value)
    assert "Delta JVM classes" in msg and "classpath" in msg and "delta-rs" in msg


def test_unknown_engine_raises_table_error(spark, tmp_path):
    with pytest.raises(TableError, match="unknown storage engine 'hive'"):
        TableStore(spark, str(tmp_path), engine="hive")  # type: ignore[arg-type]


# -- round trips --------------------------------------------------------------------------------


def test_append_then_read_round_trip(spark, store):
    assert not store.exists("people")
    v0 = store.append("people", rows(spark, [(1, "ann", 1.5), (2, "bob", None)]))
    v1 = store.append("people", rows(spark, [(3, None, 3.0)]))
    assert (v0, v1) == (0, 1)
    assert store.exists("people") and store.version("people") == 1
    expected = rows(spark, [(1, "ann", 1.5), (2, "bob", None), (3, None, 3.0)])
    eq(store.read("people"), expected)
    eq(store.read("people", version=0), rows(spark, [(1, "ann", 1.5), (2, "bob", None)]))
    assert [f.name for f in store.schema("people").fields] == ["id", "name", "score"]


def test_overwrite_replaces_contents_and_history_keeps_the_old_version(spark, store):
    old = rows(spark, [(1, "ann", 1.0), (2, "bob", 2.0)])
    new = rows(spark, [(7, "zed", 7.0)])
    store.append("t", old)
    time.sleep(1.1)
    between = datetime.now(timezone.utc)
    time.sleep(1.1)
    assert store.overwrite("t", new) == 1
    eq(store.read("t"), rows(spark, [(7, "zed", 7.0)]))
    # time travel by version and by time
    eq(store.read("t", version=0), rows(spark, [(1, "ann", 1.0), (2, "bob", 2.0)]))
    eq(store.read("t", as_of=between), rows(spark, [(1, "ann", 1.0), (2, "bob", 2.0)]))
    eq(store.read("t", as_of=datetime.now(timezone.utc)), rows(spark, [(7, "zed", 7.0)]))
    hist = store.history("t")
    assert [h["version"] for h in hist] == [1, 0]  # newest first
    assert len(store.history("t", limit=1)) == 1


def test_reading_a_version_that_does_not_exist_raises_table_error(spark, store):
    store.append("t", rows(spark, [(1, "a", 1.0)]))
    with pytest.raises(TableError):
        store.read("t", version=5)


# -- upsert -------------------------------------------------------------------------------------


def test_upsert_inserts_replaces_by_key_and_is_idempotent(spark, store):
    store.append("t", rows(spark, [(1, "ann", 1.0), (2, "bob", 2.0), (3, "cy", 3.0)]))
    incoming = rows(spark, [(2, "BOB", 20.0), (4, "dee", 4.0)])
    store.upsert("t", incoming, keys=["id"])
    expected = rows(spark, [(1, "ann", 1.0), (2, "BOB", 20.0), (3, "cy", 3.0), (4, "dee", 4.0)])
    eq(store.read("t"), expected)
    store.upsert("t", incoming, keys=["id"])
    eq(
        store.read("t"),
        rows(spark, [(1, "ann", 1.0), (2, "BOB", 20.0), (3, "cy", 3.0), (4, "dee", 4.0)]),
    )


def test_upsert_creates_a_missing_table(spark, store):
    store.upsert("fresh", rows(spark, [(1, "a", 1.0)]), keys=["id"])
    eq(store.read("fresh"), rows(spark, [(1, "a", 1.0)]))


def test_upsert_with_null_keys_is_idempotent(spark, store):
    schema = "a string, b bigint, v string"
    store.append(
        "t", spark.createDataFrame([(None, 1, "x"), ("k", None, "y"), (None, None, "z")], schema)
    )
    incoming = spark.createDataFrame([(None, 1, "X"), (None, None, "Z"), ("k", 2, "new")], schema)
    store.upsert("t", incoming, keys=["a", "b"])
    expected = spark.createDataFrame(
        [(None, 1, "X"), ("k", None, "y"), (None, None, "Z"), ("k", 2, "new")], schema
    )
    eq(store.read("t"), expected)
    store.upsert("t", incoming, keys=["a", "b"])
    store.upsert("t", incoming, keys=["a", "b"])
    eq(
        store.read("t"),
        spark.createDataFrame(
            [(None, 1, "X"), ("k", None, "y"), (None, None, "Z"), ("k", 2, "new")], schema
        ),
    )


def test_upsert_deduplicates_identical_incoming_rows(spark, store):
    store.append("t", rows(spark, [(1, "ann", 1.0)]))
    incoming = rows(spark, [(2, "bob", 2.0), (2, "bob", 2.0), (1, "ANN", 1.0), (1, "ANN", 1.0)])
    store.upsert("t", incoming, keys=["id"])
    eq(store.read("t"), rows(spark, [(1, "ANN", 1.0), (2, "bob", 2.0)]))
    # also when the upsert creates the table
    store.upsert("t2", incoming, keys=["id"])
    eq(store.read("t2"), rows(spark, [(1, "ANN", 1.0), (2, "bob", 2.0)]))


def test_upsert_keeps_one_row_per_key_for_conflicting_incoming_duplicates(spark, store):
    store.append("t", rows(spark, [(1, "ann", 1.0)]))
    store.upsert("t", rows(spark, [(5, "p", 1.0), (5, "q", 2.0)]), keys=["id"])
    got = {(r.id, r.name) for r in store.read("t").collect()}
    assert len(got) == 2 and (1, "ann") in got
    assert got - {(1, "ann")} in ({(5, "p")}, {(5, "q")})


def test_upsert_rewrites_only_the_files_holding_matching_keys(spark, store):
    from deltalake import DeltaTable

    store.append("t", rows(spark, [(1, "a", 1.0)]).coalesce(1))
    store.append("t", rows(spark, [(2, "b", 2.0)]).coalesce(1))
    path = store.path("t")
    before = set(DeltaTable(path).get_add_actions(flatten=True).column("path").to_pylist())
    store.upsert("t", rows(spark, [(1, "A", 1.0)]), keys=["id"])
    after = set(DeltaTable(path).get_add_actions(flatten=True).column("path").to_pylist())
    assert len(before) == 2
    assert len(before & after) == 1  # the file of id 2 is untouched, the one of id 1 replaced
    eq(store.read("t"), rows(spark, [(1, "A", 1.0), (2, "b", 2.0)]))


def test_upsert_without_keys_or_with_unknown_key_is_refused(spark, store):
    store.append("t", rows(spark, [(1, "a", 1.0)]))
    with pytest.raises(TableError, match="key"):
        store.upsert("t", rows(spark, [(1, "a", 1.0)]), keys=[])
    with pytest.raises(SchemaMismatchError, match="nope"):
        store.upsert("t", rows(spark, [(1, "a", 1.0)]), keys=["nope"])


# -- schema checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "data", "words"),
    [
        ("id bigint, name string", [(1, "a")], ["missing", "score"]),
        (
            "id bigint, name string, score double, extra int",
            [(1, "a", 1.0, 9)],
            ["unexpected", "extra"],
        ),
        (
            "id string, name string, score double",
            [("1", "a", 1.0)],
            ["wrong type", "id", "string", "bigint"],
        ),
    ],
    ids=["missing", "unexpected", "wrong-type"],
)
@pytest.mark.parametrize("op", ["append", "overwrite", "upsert"])
def test_schema_mismatch_names_the_table_and_the_offending_columns(
    spark, store, schema, data, words, op
):
    store.append("crm.customers", rows(spark, [(1, "a", 1.0)]))
    bad = spark.createDataFrame(data, schema)
    with pytest.raises(SchemaMismatchError) as err:
        if op == "upsert":
            store.upsert("crm.customers", bad, keys=["id"])
        else:
            getattr(store, op)("crm.customers", bad)
    msg = str(err.value)
    assert "crm.customers" in msg
    for w in words:
        assert w in msg, (w, msg)
    assert store.version("crm.customers") == 0  # nothing was committed
    eq(store.read("crm.customers"), rows(spark, [(1, "a", 1.0)]))


def test_column_order_differences_are_accepted(spark, store):
    store.append("t", rows(spark, [(1, "ann", 1.5)]))
    reordered = spark.createDataFrame([(2.5, "bob", 2)], "score double, name string, id bigint")
    store.append("t", reordered)
    store.upsert(
        "t",
        spark.createDataFrame([("ANN", 1, 9.0)], "name string, id bigint, score double"),
        keys=["id"],
    )
    eq(store.read("t"), rows(spark, [(1, "ANN", 9.0), (2, "bob", 2.5)]))
    assert [f.name for f in store.schema("t").fields] == ["id", "name", "score"]


# -- deletes and vacuum -------------------------------------------------------------------------


def test_delete_where_removes_exactly_the_matching_rows(spark, store):
    store.append(
        "t",
        rows(spark, [(1, "a", 1.0), (2, "b", 2.0), (3, None, 0.5), (4, "d", None), (5, "e", 5.0)]),
    )
    store.delete_where("t", "score >= 2 AND id < 5")  # a null score does not match
    eq(store.read("t"), rows(spark, [(1, "a", 1.0), (3, None, 0.5), (4, "d", None), (5, "e", 5.0)]))
    # a Column condition: the row whose name is null is not matched (null is not true)
    store.delete_where("t", F.col("name") == "a")
    eq(store.read("t"), rows(spark, [(3, None, 0.5), (4, "d", None), (5, "e", 5.0)]))
    v = store.version("t")
    assert store.delete_where("t", "id = 99") == v  # nothing matches: no new version
    eq(store.read("t"), rows(spark, [(3, None, 0.5), (4, "d", None), (5, "e", 5.0)]))


def test_delete_matching_removes_rows_equal_to_a_key_row(spark, store):
    schema = "tenant string, uid bigint, v string"
    store.append(
        "t",
        spark.createDataFrame(
            [("a", 1, "x"), ("a", 2, "y"), ("b", 1, "z"), (None, 3, "n"), ("c", 4, "w")], schema
        ),
    )
    keys = spark.createDataFrame(
        [("a", 1, "ignored"), ("b", 1, "ignored"), ("b", 1, "dup"), (None, 3, "q")], schema
    )
    store.delete_matching("t", keys, on=["tenant", "uid"])
    eq(store.read("t"), spark.createDataFrame([("a", 2, "y"), ("c", 4, "w")], schema))


def test_vacuum_after_overwrite_removes_the_old_files(spark, store):
    store.append("t", rows(spark, [(1, "old", 1.0)]))
    store.overwrite("t", rows(spark, [(2, "new", 2.0)]))
    eq(store.read("t", version=0), rows(spark, [(1, "old", 1.0)]))  # readable before VACUUM
    removed = store.vacuum("t", retention_hours=0)
    assert any(p.endswith(".parquet") for p in removed)
    with pytest.raises(TableError, match="no longer readable"):
        store.read("t", version=0).collect()
    eq(store.read("t"), rows(spark, [(2, "new", 2.0)]))


def test_set_properties_round_trip(spark, store):
    store.append("t", rows(spark, [(1, "a", 1.0)]))
    store.set_properties("t", {"delta.deletedFileRetentionDuration": "interval 7 days"})
    assert store.properties("t")["delta.deletedFileRetentionDuration"] == "interval 7 days"


# -- names and listing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["<script>", "a/b", "../x", "a..b", ".a", "a.", "", "Crm", "a b", "-a", "a.-b", "x;drop", None],
)
def test_invalid_table_names_raise_table_error(spark, store, tmp_path, name):
    with pytest.raises(TableError, match="invalid table name"):
        store.read(name)
    with pytest.raises(TableError, match="invalid table name"):
        store.append(name, rows(spark, [(1, "a", 1.0)]))
    with pytest.raises(TableError, match="invalid table name"):
        store.exists(name)
    assert not (tmp_path / "x").exists()


def test_a_table_name_with_a_dash_is_written_and_read(spark, store, tmp_path):
    # a BigQuery project id: the catalog accepts it, so the audited store must read it
    store.overwrite("my-project.ds.t", rows(spark, [(1, "a", 1.0)]))
    assert store.exists("my-project.ds.t")
    assert (tmp_path / "warehouse" / "my-project" / "ds" / "t" / "_delta_log").is_dir()
    assert [tuple(r) for r in store.read("my-project.ds.t").collect()] == [(1, "a", 1.0)]
    assert "my-project.ds.t" in store.list_tables()


def test_reading_a_missing_table_names_it(store):
    with pytest.raises(TableError, match="'crm.nothing_here'"):
        store.read("crm.nothing_here")
    with pytest.raises(TableError, match="'nothing'"):
        store.version("nothing")


def test_list_tables_finds_nested_dotted_tables(spark, store):
    assert store.list_tables() == []
    one = rows(spark, [(1, "a", 1.0)])
    store.append("crm.customers", one)
    store.append("crm.orders", one)
    store.append("run_manifest", one)
    store.append("app.events.clicks", one)
    assert store.list_tables() == [
        "app.events.clicks",
        "crm.customers",
        "crm.orders",
        "run_manifest",
    ]
    info = store.info("crm.customers")
    assert (info.name, info.version) == ("crm.customers", 0) and info.files >= 1


# -- concurrency and interoperability -----------------------------------------------------------


def test_concurrent_appends_from_two_threads_all_land(spark, store):
    per_thread = 3
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(per_thread):
                batch = 100 * t + i
                # two rows in two partitions: two data files that must commit together
                df = spark.createDataFrame(
                    [(batch, "r1"), (batch, "r2")], "batch bigint, row string"
                ).repartition(2)
                store.append("c", df)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in (1, 2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    expected = spark.createDataFrame(
        [(100 * t + i, r) for t in (1, 2) for i in range(per_thread) for r in ("r1", "r2")],
        "batch bigint, row string",
    )
    eq(store.read("c"), expected)
    assert store.version("c") == 2 * per_thread - 1
    assert len(store.history("c")) == 2 * per_thread
    for v in range(2 * per_thread):
        got = store.read("c", version=v).groupBy("batch").count().collect()
        assert len(got) == v + 1, f"version {v} holds {len(got)} batches"
        assert all(r["count"] == 2 for r in got), f"version {v} holds a half-written batch: {got}"


def test_tables_written_by_the_store_are_real_delta_tables(spark, store):
    from deltalake import DeltaTable

    store.append("crm.customers", rows(spark, [(1, "ann", 1.5), (2, None, None)]))
    store.upsert("crm.customers", rows(spark, [(2, "bob", 2.0), (3, "cy", 3.0)]), keys=["id"])
    store.delete_where("crm.customers", "id = 1")
    table = DeltaTable(str(store.path("crm.customers"))).to_pyarrow_table()
    assert table.column_names == ["id", "name", "score"]
    direct = spark.createDataFrame(table.to_pylist(), SCHEMA)
    eq(direct, rows(spark, [(2, "bob", 2.0), (3, "cy", 3.0)]))
    eq(store.read("crm.customers"), rows(spark, [(2, "bob", 2.0), (3, "cy", 3.0)]))
    assert DeltaTable(store.path("crm.customers")).version() == store.version("crm.customers") == 2


# -- bugs found by these tests, fixed: regression tests -------------------------------------


def test_warehouse_root_with_a_space_is_readable(spark, tmp_path):
    store = TableStore(spark, str(tmp_path / "my warehouse"), engine="delta-rs")
    store.append("t", rows(spark, [(1, "a", 1.0)]))
    eq(store.read("t"), rows(spark, [(1, "a", 1.0)]))


def test_upsert_and_delete_under_a_root_with_a_space(spark, tmp_path):
    store = TableStore(spark, str(tmp_path / "my warehouse"), engine="delta-rs")
    store.append("crm.customers", rows(spark, [(1, "a", 1.0), (2, "b", 2.0)]))
    store.upsert("crm.customers", rows(spark, [(2, "B", 2.5), (3, "c", 3.0)]), keys=["id"])
    store.delete_where("crm.customers", "id = 1")
    store.delete_matching("crm.customers", spark.createDataFrame([(3,)], "id bigint"), on=["id"])
    eq(store.read("crm.customers"), rows(spark, [(2, "B", 2.5)]))
    eq(store.read("crm.customers", version=0), rows(spark, [(1, "a", 1.0), (2, "b", 2.0)]))
    assert store.list_tables() == ["crm.customers"]


def test_overwrite_keeps_table_properties(spark, store):
    store.append("t", rows(spark, [(1, "a", 1.0)]))
    store.set_properties("t", {"delta.deletedFileRetentionDuration": "interval 7 days"})
    store.overwrite("t", rows(spark, [(2, "b", 2.0)]))
    assert store.properties("t").get("delta.deletedFileRetentionDuration") == "interval 7 days"


def test_a_table_cannot_nest_inside_another_tables_folder(spark, store):
    """'crm' and 'crm.customers' would share a folder; VACUUM of one would destroy the other."""
    store.append("crm", rows(spark, [(1, "outer", 1.0)]))
    with pytest.raises(TableError, match="'crm' is a table"):
        store.append("crm.customers", rows(spark, [(2, "inner", 2.0)]))
    store.append("app.users", rows(spark, [(3, "inner", 3.0)]))
    with pytest.raises(TableError, match="holds table"):
        store.append("app", rows(spark, [(4, "outer", 4.0)]))
    assert store.list_tables() == ["app.users", "crm"]


# -- the spark engine (delta-spark) -------------------------------------------------------------


class TestSparkEngine:
    """The same round trip through delta-spark (tests/test_table_engines.py has the contract)."""

    @pytest.fixture
    def sstore(self, delta_spark, tmp_path):
        return TableStore(delta_spark, str(tmp_path / "warehouse"), engine="spark")

    def test_append_overwrite_upsert_round_trip(self, spark, sstore):
        assert sstore.engine == "spark"
        sstore.append("t", rows(spark, [(1, "a", 1.0), (2, "b", 2.0)]))
        sstore.upsert("t", rows(spark, [(2, "B", 20.0), (3, "c", 3.0)]), keys=["id"])
        sstore.upsert("t", rows(spark, [(2, "B", 20.0), (3, "c", 3.0)]), keys=["id"])
        eq(sstore.read("t"), rows(spark, [(1, "a", 1.0), (2, "B", 20.0), (3, "c", 3.0)]))
        sstore.overwrite("t", rows(spark, [(9, "z", 9.0)]))
        eq(sstore.read("t"), rows(spark, [(9, "z", 9.0)]))
        eq(sstore.read("t", version=0), rows(spark, [(1, "a", 1.0), (2, "b", 2.0)]))
        with pytest.raises(SchemaMismatchError, match="'t'"):
            sstore.append("t", spark.createDataFrame([(1,)], "id bigint"))
        sstore.delete_where("t", "id = 9")
        assert sstore.read("t").count() == 0
