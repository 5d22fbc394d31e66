"""A purge and a restore keep every audited table's layout and every row they were not asked for.

The audited tables are written by ``deltalake`` (as another writer of the company would), with
the layouts real warehouses use: partitioned by a date, by two columns (one value with characters
that need escaping, one NULL partition), a generated partition column with a CHECK constraint and
table properties, and no partitioning. The expectations are read back with ``deltalake``'s own
reader (not the product's), so a wrong partition value in the log is seen as it would be by any
other engine.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import deltalake
import pyarrow as pa
import pytest
from deltalake import DeltaTable, Field, Schema

from jobs.commands.purge import purge
from jobs.commands.restore import restore
from jobs.config.settings import load_config
from jobs.context import JobContext, Progress
from jobs.secrets.keyring import FileKeyring
from jobs.secrets.pseudonym import load_or_create
from jobs.store.tables import TableStore

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 30, 0)
FINDINGS = (
    "deletion_id string, subject_key string, asset string, column string, rows_found long, "
    "deleted_at timestamp, days_overdue int, status string, detail string, run_date date"
)
DELETED = {7, 13}  # the subjects with a residual finding; every other subject's rows must stay
N = 40


def _rows() -> pa.Table:
    ids = list(range(N))
    return pa.table(
        {
            "event_id": pa.array(ids, pa.int64()),
            "customer_id": pa.array([i % 20 for i in ids], pa.int64()),
            "ts": pa.array(
                [datetime(2026, 10, 1, 8, 30) + timedelta(days=i % 5, microseconds=i) for i in ids],
                pa.timestamp("us", tz="UTC"),
            ),
            "event_date": pa.array(
                [date(2026, 10, 1) + timedelta(days=i % 5) for i in ids], pa.date32()
            ),
            "region": pa.array(
                [None if i % 7 == 0 else ("us east:1/a b" if i % 2 else "eu") for i in ids],
                pa.string(),
            ),
            "amount": pa.array([i * 1.25 for i in ids], pa.float64()),
        }
    )


def _write_partitioned(path: str) -> None:
    deltalake.write_deltalake(
        path, _rows(), partition_by=["event_date"], configuration={"delta.appendOnly": "false"}
    )


def _write_two_columns(path: str) -> None:
    t = _rows()
    t = t.set_column(
        t.schema.get_field_index("event_date"),
        "dt",
        pa.array([d.isoformat() for d in t.column("event_date").to_pylist()]),
    )
    deltalake.write_deltalake(path, t, partition_by=["dt", "region"])


def _write_generated(path: str) -> None:
    schema = Schema(
        [
            Field("event_id", "long"),
            Field("customer_id", "long"),
            Field("ts", "timestamp"),
            Field(
                "event_date",
                "date",
                metadata={
                    "delta.generationExpression": "CAST(ts AS DATE)",
                    "comment": "day of ts, generated",
                },
            ),
            Field("region", "string"),
            Field("amount", "double"),
        ]
    )
    DeltaTable.create(
        path,
        schema=schema,
        partition_by=["event_date"],
        configuration={"delta.logRetentionDuration": "interval 60 days"},
    )
    t = _rows()
    days = [ts.date() for ts in t.column("ts").to_pylist()]
    t = t.set_column(
        t.schema.get_field_index("event_date"), "event_date", pa.array(days, pa.date32())
    )
    deltalake.write_deltalake(path, t, mode="append")
    DeltaTable(path).alter.add_constraint({"amount_not_negative": "amount >= 0"})


def _write_plain(path: str) -> None:
    rows = _rows()
    for start in range(0, N, 8):  # five files; the third holds no row of a deleted subject
        deltalake.write_deltalake(path, rows.slice(start, 8), mode="append")


LAYOUTS = {
    "shop.by_date": _write_partitioned,
    "shop.by_two": _write_two_columns,
    "shop.generated": _write_generated,
    "shop.plain": _write_plain,
}


@pytest.fixture(params=["delta-rs", "spark"])
def engine(request, spark):
    if request.param == "spark":
        request.getfixturevalue("delta_spark")  # skips (or fails in CI) without the Delta jars
    return request.param


def _snapshot(path: str) -> dict:
    """What must survive a purge, as ``deltalake`` (another engine) sees it."""
    dt = DeltaTable(path)
    meta = dt.metadata()
    return {
        "partition_columns": list(meta.partition_columns),
        "schema": json.loads(dt.schema().to_json()),
        "configuration": dict(meta.configuration),
        "protocol": (dt.protocol().min_reader_version, dt.protocol().min_writer_version),
    }


def _rows_by_id(path: str) -> dict[int, dict]:
    """Every row as ``deltalake`` reads it, keyed by event id (partition values included)."""
    table = DeltaTable(path).to_pyarrow_table()
    return {r["event_id"]: r for r in table.to_pylist()}


def _files_with_partitions(path: str) -> dict[str, dict]:
    actions = pa.table(DeltaTable(path).get_add_actions(flatten=True)).to_pylist()
    return {a["path"]: {k: v for k, v in a.items() if k.startswith("partition.")} for a in actions}


def _context(spark, tmp_path: Path, engine: str):
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine=engine)
    audited = TableStore(spark, cfg.audited_warehouse, engine=engine)
    for name, write in LAYOUTS.items():
        write(audited.path(name))
    pkey = load_or_create(cfg.keys.dir)
    deleted_at = datetime(2026, 11, 1)
    findings = [
        (
            f"del-{c}",
            pkey.subject_key(str(c)),
            table,
            "customer_id",
            2,
            deleted_at,
            21,
            "residual",
            None,
            TODAY,
        )
        for c in sorted(DELETED)
        for table in LAYOUTS
    ]
    store.append("residual_findings", spark.createDataFrame(findings, FINDINGS))
    ctx = JobContext(cfg, spark, store, audited, TODAY, Progress(io.StringIO()))
    return ctx, FileKeyring(cfg.keys.dir)


def test_purge_and_restore_keep_layout_and_every_other_row(spark, tmp_path, engine):
    ctx, keyring = _context(spark, tmp_path, engine)
    paths = {name: ctx.audited.path(name) for name in LAYOUTS}
    before = {
        name: (_snapshot(p), _rows_by_id(p), _files_with_partitions(p)) for name, p in paths.items()
    }
    flagged = {
        name: {i for i, r in rows.items() if r["customer_id"] in DELETED}
        for name, (_, rows, _) in before.items()
    }
    assert all(len(ids) == 4 for ids in flagged.values())  # 2 rows per subject, in every table

    report = purge(
        ctx, deletion_id=None, all_findings=True, dry_run=False, keyring=keyring, now=NOW
    )

    assert report.rows == 4 * len(LAYOUTS)
    for name, path in paths.items():
        snap, rows, files = before[name]
        assert _snapshot(path) == snap, name
        after = _rows_by_id(path)
        assert set(after) == set(rows) - flagged[name], name
        assert all(after[i] == rows[i] for i in after), (
            name
        )  # every other row unchanged, value by value
        now_files = _files_with_partitions(path)
        # files without a flagged row are kept as they are; rewritten files keep partition values
        untouched = {f for f in files if f in now_files}
        assert untouched and len(untouched) < len(files), name
        assert {tuple(v.items()) for v in now_files.values()} <= {
            tuple(v.items()) for v in files.values()
        }
        assert DeltaTable(path).history(1)[0]["operation"] != "CREATE TABLE"

    restored = {}
    for c in sorted(DELETED):
        r = restore(ctx, f"del-{c}", keyring=keyring, now=NOW + timedelta(hours=1))
        restored.update({t.table: restored.get(t.table, 0) + t.inserted for t in r.tables})
    assert restored == {name: 4 for name in LAYOUTS}
    for name, path in paths.items():
        snap, rows, _ = before[name]
        assert _snapshot(path) == snap, name
        assert _rows_by_id(path) == rows, (
            name
        )  # exactly the rows removed came back, with their partitions


def test_the_product_reader_sees_partition_values_and_nulls(spark, tmp_path, engine):
    store = TableStore(spark, str(tmp_path / "wh"), engine=engine)
    _write_two_columns(store.path("shop.by_two"))
    got = {r.event_id: (r.dt, r.region) for r in store.read("shop.by_two").collect()}
    want = {
        r["event_id"]: (r["dt"], r["region"])
        for r in _rows_by_id(store.path("shop.by_two")).values()
    }
    assert got == want
    assert got[0] == ("2026-10-01", None) and got[1] == ("2026-10-02", "us east:1/a b")


def test_an_append_to_a_partitioned_table_commits_partition_values(spark, tmp_path, engine):
    store = TableStore(spark, str(tmp_path / "wh"), engine=engine)
    path = store.path("shop.by_date")
    _write_partitioned(path)
    extra = spark.createDataFrame(
        [
            (100, 1, datetime(2026, 10, 9, 1), date(2026, 10, 9), "eu", 1.0),
            (101, 1, datetime(2026, 10, 9, 2), None, None, 2.0),
        ],
        "event_id long, customer_id long, ts timestamp, event_date date, region string, amount double",
    )
    store.append("shop.by_date", extra)
    rows = _rows_by_id(path)
    assert rows[100]["event_date"] == date(2026, 10, 9) and rows[101]["event_date"] is None
    assert DeltaTable(path).metadata().partition_columns == ["event_date"]
    assert len(rows) == N + 2


def test_a_column_mapped_table_is_refused_not_misread(spark, tmp_path):
    """Its Parquet columns have physical names: reading them as plain Parquet would give NULLs."""
    from jobs.errors import TableError

    store = TableStore(spark, str(tmp_path / "wh"), engine="delta-rs")
    DeltaTable.create(
        store.path("shop.mapped"),
        schema=Schema([Field("a", "long")]),
        configuration={"delta.columnMapping.mode": "name"},
    )
    with pytest.raises(TableError, match="column mapping"):
        store.read("shop.mapped")
