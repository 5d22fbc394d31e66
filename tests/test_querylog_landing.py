"""End to end: one folder holding a fixture of every query-log format, landed and ingested.

ONE module-scoped run of the landing and ingest steps on a copy of tests/fixtures/querylogs (the
product's own JSONL beside Trino, BigQuery JSON and CSV, Snowflake CSV (QUERY_HISTORY, alone and
joined with ACCESS_HISTORY) and ACCESS_HISTORY JSON, Databricks query history JSON and CSV,
PostgreSQL csvlog, a Spark event log without extension, Hive LineageLogger output, a Snowflake
QUERY_HISTORY unloaded as Parquet, and a ``bad/`` folder: an unknown format,
a truncated Trino event, a Snowflake CSV without START_TIME). The tests read its tables.
"""

from __future__ import annotations

import io
import shutil
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

FIX = Path(__file__).parent / "fixtures" / "querylogs"
RUN_DATE = date(2026, 11, 21)


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress
    from jobs.steps.ingest import ingest
    from jobs.steps.land import land_inputs
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("querylogs")
    folder = home / "inputs" / "query_logs"
    shutil.copytree(FIX, folder)
    (home / "inputs" / "catalog.yaml").write_text("assets: []\n", encoding="utf-8")
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(home)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, RUN_DATE, Progress(io.StringIO()))
    landing = land_inputs(ctx)
    ingested = ingest(ctx)
    return SimpleNamespace(folder=folder, store=store, landing=landing, ingested=ingested)


def _name(landed, path: str) -> str:
    return str(Path(path).relative_to(landed.folder))


def test_every_record_is_landed_rejected_or_counted(landed):
    files = {
        _name(landed, r.source): (r.lines, r.accepted, r.rejected, r.skipped)
        for r in landed.store.read("landed_files").collect()
    }
    assert files == {
        "own.jsonl": (1, 1, 0, 0),
        "trino_events.json": (2, 2, 0, 0),
        "bigquery_jobs.json": (3, 3, 0, 0),
        "bigquery_jobs.csv": (1, 1, 0, 0),  # the header is not a record
        "snowflake_query_history.csv": (2, 2, 0, 1),  # SHOW TABLES: no table read or written
        "postgresql-2026-11-21.csv": (2, 2, 0, 3),  # a connection, a duration, the paired ERROR
        "app-20261121040000-0007": (2, 2, 0, 8),  # listener events without a SQL statement
        "hive-lineage.log": (1, 1, 0, 0),
        "databricks_query_history.json": (3, 3, 0, 1),  # SHOW TABLES
        "databricks_query_history.csv": (1, 1, 0, 1),  # a statement still RUNNING
        "snowflake_access_history.json": (2, 2, 0, 1),  # a query that modified nothing
        "snowflake_query_access_history.csv": (2, 2, 0, 0),
        "bad/trino_truncated.json": (2, 1, 1, 0),
        # rows of a Parquet unload: SHOW skipped, a row without its text rejected
        "snowflake_query_history.parquet": (3, 2, 1, 1),
    }
    q = landed.landing.details["query_logs"]
    assert (q["accepted"], q["rejected"], q["skipped"], q["files_not_read"]) == (25, 2, 16, 2)


def test_rejections_name_the_file_and_the_problem(landed):
    got = {
        (_name(landed, r.source), r.location): r.reason
        for r in landed.store.read("rejected_inputs").collect()
    }
    assert set(got) == {
        ("bad/notes.txt", "file"),
        ("bad/snowflake_no_start_time.csv", "file"),
        ("bad/trino_truncated.json", "line 2"),
        ("snowflake_query_history.parquet", "line 4"),
    }
    assert got[("bad/notes.txt", "file")].startswith(
        "unknown format: its first line is 'Nightly export notes'"
    )
    assert got[("bad/snowflake_no_start_time.csv", "file")] == (
        "CSV header has no column 'START_TIME' (a snowflake export needs QUERY_TEXT, START_TIME)"
    )
    assert got[("bad/trino_truncated.json", "line 2")].startswith(
        "not a Trino/Presto QueryCompletedEvent (format 'trino', detected from the file's "
        "content): not a complete JSON object"
    )
    assert got[("snowflake_query_history.parquet", "line 4")] == (
        "not a Snowflake QUERY_HISTORY row (format 'snowflake', detected from the file's "
        "content): field 'QUERY_TEXT' is missing"
    )
    assert landed.ingested.rows_rejected == 0


def test_status_and_destination_as_the_engines_give_them(landed):
    rows = {
        (_name(landed, r.source_file), r.line): (r.format, r.status, r.destination)
        for r in landed.store.read("landed_query_logs").collect()
    }
    assert rows[("trino_events.json", 2)] == ("trino", "failed", None)
    assert rows[("bigquery_jobs.json", 1)] == ("bigquery", "ok", "marts.customer_totals")
    assert rows[("bigquery_jobs.json", 2)] == ("bigquery", "failed", None)
    assert rows[("snowflake_query_history.csv", 6)] == ("snowflake", "failed", None)
    assert rows[("postgresql-2026-11-21.csv", 4)] == ("postgres_csvlog", "failed", None)
    assert rows[("app-20261121040000-0007", 3)] == ("spark_eventlog", "ok", None)
    assert rows[("app-20261121040000-0007", 9)] == ("spark_eventlog", "failed", None)
    assert rows[("own.jsonl", 1)] == (None, "ok", None)
    assert rows[("databricks_query_history.json", 1)] == ("databricks", "ok", None)
    assert rows[("databricks_query_history.json", 2)] == ("databricks", "failed", None)
    assert rows[("databricks_query_history.json", 4)] == ("databricks", "failed", None)
    assert rows[("snowflake_access_history.json", 1)] == ("snowflake", "ok", "marts.vip_customers")
    assert rows[("snowflake_access_history.json", 3)] == ("snowflake", "ok", "ads.audience")
    assert rows[("snowflake_query_access_history.csv", 2)] == ("snowflake", "ok", "marts.contacts")
    assert rows[("snowflake_query_history.parquet", 1)] == ("snowflake", "ok", None)
    assert rows[("snowflake_query_history.parquet", 3)] == ("snowflake", "failed", None)


def test_a_parquet_unload_keeps_its_times_user_and_error(landed):
    row = {
        r.line: r
        for r in landed.store.read("landed_query_logs").collect()
        if r.source_file.endswith(".parquet")
    }
    assert sorted(row) == [1, 3]
    # 07:00:00 and 07:00:02 UTC in the file, as the session's UTC wall clock
    assert (row[1].started_at, row[1].finished_at) == (
        datetime(2026, 11, 21, 7, 0, 0),
        datetime(2026, 11, 21, 7, 0, 2),
    )
    assert (row[1].user, row[1].default_schema, row[1].query_id) == (
        "CARL",
        "crm",
        "01b0c3d2-0000-4a1b-0000-0030",
    )
    assert row[3].error == (
        "000904: SQL compilation error: error line 1 at position 42 invalid identifier 'MAIL'"
    )


def test_lineage_of_every_format(landed):
    edges = {
        (r.signal, f"{r.source_asset}.{r.source_column}", f"{r.target_asset}.{r.target_column}")
        for r in landed.store.read("lineage_edges").filter("source_column IS NOT NULL").collect()
    }
    expected = {
        # Trino: parsed SQL and the engine's own ioMetadata
        ("sql", "crm.customers.id", "marts.customer_emails.customer_id"),
        ("engine_lineage", "crm.customers.id", "marts.customer_emails.customer_id"),
        ("engine_lineage", "crm.customers.email", "marts.customer_emails.email"),
        # BigQuery: a SELECT with a destination table writes it; the CSV export
        ("sql", "shop.orders.customer_id", "marts.customer_totals.customer_id"),
        ("sql", "shop.orders.amount", "marts.customer_totals.total"),
        ("sql", "shop.orders.id", "marts.order_facts.order_id"),
        # Snowflake (a query over four lines of a CSV field)
        ("sql", "crm.customers.id", "marts.vip_customers.customer_id"),
        ("sql", "crm.customers.email", "marts.vip_customers.email"),
        # PostgreSQL csvlog
        ("sql", "shop.orders.id", "reporting.order_archive.id"),
        ("sql", "shop.orders.amount", "reporting.order_archive.amount"),
        # Spark event log
        ("sql", "crm.customers.country", "marts.country_counts.country"),
        # Hive LineageLogger: the engine names the target column the SQL alone cannot
        ("engine_lineage", "sales.orders.amount", "sales.daily_revenue.revenue"),
        ("engine_lineage", "sales.orders.order_date", "sales.daily_revenue.order_date"),
        # the product's own JSONL
        ("sql", "crm.customers.email", "marts.emails.email"),
        # Databricks query history (JSON lines and CSV)
        ("sql", "crm.customers.id", "marts.dbx_customers.customer_id"),
        ("sql", "crm.customers.email", "marts.dbx_customers.email"),
        ("sql", "crm.customers.email", "marts.dbx_contacts.email"),
        # Snowflake ACCESS_HISTORY alone: the engine's column lineage, no SQL
        ("engine_lineage", "crm.customers.id", "marts.vip_customers.customer_id"),
        ("engine_lineage", "crm.customers.email", "marts.vip_customers.email"),
        ("engine_lineage", "marts.vip_customers.email", "ads.audience.email_sha"),
        # QUERY_HISTORY joined with ACCESS_HISTORY: both signals of one query
        ("sql", "crm.customers.email", "marts.contacts.mail"),
        ("engine_lineage", "crm.customers.email", "marts.contacts.mail"),
        ("engine_lineage", "crm.customers.id", "marts.contacts.customer_id"),
        # Snowflake QUERY_HISTORY unloaded as Parquet
        ("sql", "crm.customers.id", "marts.pq_contacts.customer_id"),
        ("sql", "crm.customers.email", "marts.pq_contacts.email"),
    }
    assert expected <= edges
    # failed queries give no lineage
    assert not [e for e in edges if e[1].endswith((".nope", ".amnt"))]
    engine = landed.store.read("lineage_edges").filter("signal = 'engine_lineage'")
    assert {r.confidence for r in engine.collect()} == {0.95}


def test_engine_and_sql_disagreements_are_findings(landed):
    """Where the engine's own lineage and the parsed SQL of one query differ, a finding (neither
    overrides the other). The fixtures agree but for Hive's positional ``INSERT OVERWRITE TABLE
    daily_revenue SELECT o.order_date, sum(o.amount)``: without the table's schema the parser
    cannot name the column ``sum(o.amount)`` fills, the LineageLogger edge says ``revenue``."""
    rows = landed.store.read("lineage_disagreements").collect()
    got = {
        (
            r.found_by,
            r.engine,
            f"{r.source_asset}.{r.source_column}",
            f"{r.target_asset}.{r.target_column}",
        )
        for r in rows
    }
    assert got == {("engine", "hive_lineage", "sales.orders.amount", "sales.daily_revenue.revenue")}
    assert [(r.seen_count, r.run_date) for r in rows] == [(1, RUN_DATE)]
    assert landed.ingested.details["lineage_disagreements"] == 1
    # the rows compared: those carrying both the engine's lineage and SQL, failed queries aside
    logs = landed.store.read("landed_query_logs").toPandas()
    both = logs[logs["engine_lineage"].notna() & logs["sql"].notna() & (logs["status"] != "failed")]
    assert len(both) > 1
    assert landed.ingested.details["engine_lineage_compared"] == len(both)
