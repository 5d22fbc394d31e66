"""Pure tests of the query-log format adapters (audits/querylog_formats), without Spark.

Each fixture under tests/fixtures/querylogs is a small file in an engine's own format, written from
that engine's record definition; every record of it is converted and compared with a hand-written
expected row (or skip / error). Detection and the ``query_log_sources`` settings are tested here
too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audits.querylog_formats import FileFormat, SourceSettings, convert
from audits.querylog_formats.common import ROW_FIELDS, iso_time, looks_like_sql
from audits.querylog_formats.detect import detect, for_configured
from jobs.errors import ConfigError

FIX = Path(__file__).parent / "fixtures" / "querylogs"


def _records(path: Path, csv: bool) -> list[tuple[int, str]]:
    """(first physical line, text) of each record: lines, or CSV records by quote parity."""
    out, cur, start, quotes = [], [], 0, 0
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not csv:
            if line.strip():
                out.append((n, line))
            continue
        if not cur:
            start = n
        cur.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            if "".join(cur).strip():
                out.append((start, "\n".join(cur)))
            cur, quotes = [], 0
    return out


def _convert_file(name: str, settings: SourceSettings | None = None):
    path = FIX / name
    found = detect(path.read_bytes(), file_name=str(path))
    assert found.problem is None, found.problem
    fmt = FileFormat(
        found.name,
        csv=found.csv,
        header=found.header,
        header_line=found.header_line,
        settings=settings or SourceSettings(),
    )
    got = []
    for line, text in _records(path, found.csv):
        if line == found.header_line:
            continue
        c = convert(text, fmt, str(path))
        row = {k: v for k, v in (c.row or {}).items() if v is not None}
        got.append((line, c.skip or c.error or row, c.ends))
    return found.name, got


def row(**kw):
    assert set(kw) <= set(ROW_FIELDS)
    return kw


def test_trino_query_completed_events():
    name, got = _convert_file("trino_events.json")
    assert name == "trino"
    common = dict(
        engine="trino",
        user="ana",
        started_at="2026-11-21T08:00:00.125000Z",
        finished_at="2026-11-21T08:00:02.625000Z",
        default_schema="crm",
        format="trino",
    )
    assert got == [
        (
            1,
            row(
                query_id="20261121_080000_00001_abcde",
                sql="INSERT INTO marts.customer_emails SELECT id AS customer_id, lower(email) AS email FROM customers",
                status="ok",
                destination="marts.customer_emails",
                engine_lineage=[
                    {
                        "source": "crm.customers",
                        "source_column": "id",
                        "target": "marts.customer_emails",
                        "target_column": "customer_id",
                        "type": "DIRECT",
                        "subtype": "TRANSFORMATION",
                    },
                    {
                        "source": "crm.customers",
                        "source_column": "email",
                        "target": "marts.customer_emails",
                        "target_column": "email",
                        "type": "DIRECT",
                        "subtype": "IDENTITY",
                    },
                ],
                **common,
            ),
            False,
        ),
        (
            2,
            row(
                query_id="20261121_080500_00002_abcde",
                sql="INSERT INTO marts.customer_emails SELECT nope FROM crm.customers",
                status="failed",
                error="COLUMN_NOT_FOUND: line 1:50: Column 'nope' cannot be resolved",
                **common,
            ),
            False,
        ),
    ]


def test_trino_truncated_event_names_the_expected_format():
    _name, got = _convert_file("bad/trino_truncated.json")
    assert got[0][1]["query_id"] == "20261121_081000_00003_abcde"
    line, reason, _ends = got[1]
    assert line == 2
    assert reason.startswith(
        "not a Trino/Presto QueryCompletedEvent (format 'trino', detected from the file's "
        "content): not a complete JSON object (Unterminated string"
    )


BQ = dict(
    engine="bigquery",
    user="bob@acme.example",
    started_at="2026-11-21T07:00:01.250000Z",
    finished_at="2026-11-21T07:00:04.500000Z",
    format="bigquery",
)


def test_bigquery_jobs_json_lines():
    name, got = _convert_file("bigquery_jobs.json")
    assert name == "bigquery"
    assert got == [
        (
            1,
            row(
                query_id="bquxjob_5e1f0c2a_18c9a1",
                # a SELECT with a (named) destination table is a write to it
                sql="CREATE TABLE `marts`.`customer_totals` AS\nSELECT customer_id, SUM(amount) AS total"
                "\nFROM shop.orders\nGROUP BY customer_id",
                status="ok",
                destination="marts.customer_totals",
                **BQ,
            ),
            False,
        ),
        (
            2,
            row(
                query_id="bquxjob_5e1f0c2a_18c9a2",
                sql="SELECT amnt FROM shop.orders",
                status="failed",
                error="invalidQuery: Unrecognized name: amnt at [1:8]",
                **BQ,
            ),
            False,
        ),
        (  # the anonymous result table of a plain SELECT is no destination
            3,
            row(
                query_id="bquxjob_5e1f0c2a_18c9a3",
                sql="SELECT id FROM shop.orders WHERE amount > 100",
                status="ok",
                **BQ,
            ),
            False,
        ),
    ]


def test_bigquery_jobs_csv_with_flattened_records():
    name, got = _convert_file("bigquery_jobs.csv")
    assert name == "bigquery"
    assert got == [
        (
            2,
            row(
                query_id="bquxjob_77aa01",
                sql="INSERT INTO marts.order_facts (order_id, amount)\nSELECT id, amount FROM shop.orders",
                status="ok",
                destination="marts.order_facts",
                engine="bigquery",
                user="bob@acme.example",
                started_at="2026-11-21T07:30:00.500000Z",
                finished_at="2026-11-21T07:30:03.000000Z",
                format="bigquery",
            ),
            False,
        )
    ]


def test_bigquery_destination_in_another_project_keeps_the_project():
    fmt = FileFormat("bigquery")
    text = (
        '{"job_id":"j","project_id":"acme-prod","creation_time":"2026-11-21T07:00:00Z",'
        '"statement_type":"SELECT","state":"DONE","query":"SELECT 1 AS x",'
        '"destination_table":{"project_id":"acme-shared","dataset_id":"out","table_id":"t"}}'
    )
    c = convert(text, fmt)
    assert c.row["destination"] == "acme-shared.out.t"
    assert c.row["sql"].startswith("CREATE TABLE `acme-shared`.`out`.`t` AS\n")
    running = text.replace('"DONE"', '"RUNNING"')
    assert convert(running, fmt).skip.startswith("job state RUNNING")


def test_snowflake_query_history_csv_with_a_multi_line_query():
    name, got = _convert_file("snowflake_query_history.csv")
    assert name == "snowflake"
    sf = dict(engine="snowflake", user="CARL", default_schema="crm", format="snowflake")
    assert got == [
        (
            2,
            row(
                query_id="01b0c3d2-0000-4a1b-0000-0001",
                sql="INSERT INTO marts.vip_customers (customer_id, email)\nSELECT id, email\n"
                "FROM crm.customers\nWHERE country = 'DE'",
                status="ok",
                started_at="2026-11-21T14:00:00.000000Z",
                finished_at="2026-11-21T14:00:02.000000Z",
                **sf,
            ),
            False,
        ),
        (
            6,
            row(
                query_id="01b0c3d2-0000-4a1b-0000-0002",
                sql="SELECT * FROM missing_table",
                status="failed",
                error="002003: SQL compilation error:\nObject 'MISSING_TABLE' does not exist or not authorized.",
                started_at="2026-11-21T14:01:00.000000Z",
                finished_at="2026-11-21T14:01:00.200000Z",
                **sf,
            ),
            False,
        ),
        (8, "QUERY_TYPE SHOW: reads or writes no table", False),
    ]


def _edge(source, source_column, target, target_column, sub):
    return {
        "source": source,
        "source_column": source_column,
        "target": target,
        "target_column": target_column,
        "type": "DIRECT",
        "subtype": sub,
    }


def test_snowflake_access_history_alone_is_a_write_with_the_engine_s_column_lineage():
    name, got = _convert_file("snowflake_access_history.json")
    assert name == "snowflake"
    sf = dict(engine="snowflake", format="snowflake", status="ok", action="WRITE")
    assert got == [
        (
            1,
            row(
                query_id="01b0c3d2-0000-4a1b-0000-0009",
                job_id="01b0c3d2-0000-4a1b-0000-0009",
                user="CARL",
                started_at="2026-11-21T14:00:00.000000Z",
                table="marts.vip_customers",
                destination="marts.vip_customers",
                engine_lineage=[
                    _edge("crm.customers", "email", "marts.vip_customers", "email", "IDENTITY"),
                    _edge(
                        "crm.customers",
                        "id",
                        "marts.vip_customers",
                        "customer_id",
                        "TRANSFORMATION",
                    ),
                ],
                **sf,
            ),
            False,
        ),
        (2, "an ACCESS_HISTORY row of a query that modified no table", False),
        (
            3,  # OBJECTS_MODIFIED as JSON text (a CSV cell); the stage is not a table
            row(
                query_id="01b0c3d2-0000-4a1b-0000-0011",
                job_id="01b0c3d2-0000-4a1b-0000-0011",
                user="CARL",
                started_at="2026-11-21T14:02:00.000000Z",
                table="ads.audience",
                destination="ads.audience",
                engine_lineage=[
                    _edge(
                        "marts.vip_customers",
                        "email",
                        "ads.audience",
                        "email_sha",
                        "TRANSFORMATION",
                    )
                ],
                **sf,
            ),
            False,
        ),
    ]


def test_snowflake_query_history_joined_with_access_history_carries_both():
    name, got = _convert_file("snowflake_query_access_history.csv")
    assert name == "snowflake"
    first = got[0][1]
    assert first["sql"].startswith("INSERT INTO marts.contacts (customer_id, mail)")
    assert (first["status"], first["destination"], first["default_schema"]) == (
        "ok",
        "marts.contacts",
        "crm",
    )
    assert first["engine_lineage"] == [
        _edge("crm.customers", "email", "marts.contacts", "mail", "TRANSFORMATION"),
        _edge("crm.customers", "id", "marts.contacts", "customer_id", "TRANSFORMATION"),
    ]
    assert "engine_lineage" not in got[1][1] and "destination" not in got[1][1]  # modified nothing


def test_snowflake_objects_modified_that_is_not_json_is_named():
    fmt = FileFormat("snowflake")
    bad = '{"QUERY_ID": "q", "QUERY_START_TIME": "2026-11-21 06:00:00", "OBJECTS_MODIFIED": "[{"}'
    got = convert(bad, fmt, "x.json")
    assert got.error.startswith("not a Snowflake QUERY_HISTORY row (format 'snowflake', detected")
    assert "OBJECTS_MODIFIED is not JSON" in got.error


def test_databricks_query_history_json_lines():
    name, got = _convert_file("databricks_query_history.json")
    assert name == "databricks"
    dbx = dict(engine="databricks", user="etl-service", format="databricks")
    assert got == [
        (
            1,
            row(
                query_id="7a99b43c-b46c-432b-b0a7-814217701909",
                sql="INSERT INTO marts.dbx_customers (customer_id, email) SELECT id, email "
                "FROM crm.customers WHERE country = 'DE'",
                status="ok",
                started_at="2026-11-21T06:00:00.000000Z",
                finished_at="2026-11-21T06:00:03.512000Z",
                **dbx,
            ),
            False,
        ),
        (
            2,
            row(
                query_id="8b10c54d-c57d-543c-c1b8-925328812a10",
                sql="INSERT INTO marts.dbx_customers (customer_id, phone) SELECT id, nope "
                "FROM crm.customers",
                status="failed",
                error="[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have "
                "permission SELECT on table 'crm.customers'.",
                started_at="2026-11-21T06:05:00.000000Z",
                finished_at="2026-11-21T06:05:00.412000Z",
                **dbx,
            ),
            False,
        ),
        (3, "statement_type SHOW: reads or writes no table", False),
        (
            4,  # a cancelled statement's effects are rolled back: failed, no flow
            row(
                query_id="ad32e76f-e79f-765e-e3da-147540034c32",
                sql="CREATE OR REPLACE TABLE marts.big AS SELECT * FROM crm.orders",
                status="failed",
                error="canceled",
                started_at="2026-11-21T06:10:00.000000Z",
                finished_at="2026-11-21T06:40:00.000000Z",
                **dbx,
            ),
            False,
        ),
    ]


def test_databricks_query_history_csv_with_settings():
    settings = SourceSettings(schema="Sales", dialect="spark")
    name, got = _convert_file("databricks_query_history.csv", settings)
    assert name == "databricks"
    assert got[0][0] == 2 and got[0][1]["sql"].startswith("MERGE INTO marts.dbx_contacts t\nUSING")
    assert (got[0][1]["engine"], got[0][1]["default_schema"], got[0][1]["status"]) == (
        "spark",
        "sales",
        "ok",
    )
    assert got[1] == (5, "execution_status RUNNING: not finished", False)


def test_databricks_hidden_statement_text_is_named():
    got = convert(
        '{"statement_id": "s", "statement_text": "", "execution_status": "FINISHED"}',
        FileFormat("databricks"),
        "x.json",
    )
    assert "'statement_text' is empty (customer-managed keys hide it)" in got.error


def test_snowflake_csv_missing_a_required_column_is_a_file_problem():
    found = detect((FIX / "bad" / "snowflake_no_start_time.csv").read_bytes())
    assert found.name == "snowflake"
    assert found.problem == (
        "CSV header has no column 'START_TIME' (a snowflake export needs QUERY_TEXT, START_TIME)"
    )


def test_postgres_csvlog():
    name, got = _convert_file("postgresql-2026-11-21.csv")
    assert name == "postgres_csvlog"
    pg = dict(job_id="673ee3a0.1092", engine="postgres", user="app", default_schema="public")
    update = "UPDATE shop.orders SET amount = 'x' WHERE id = 1"
    assert got == [
        (1, "LOG message without a statement", False),
        (
            2,
            row(
                query_id="673ee3a0.1092:2",
                sql="INSERT INTO reporting.order_archive (id, amount)\nSELECT id, amount FROM shop.orders",
                status="ok",
                started_at="2026-11-21T05:00:01.123000Z",
                format="postgres_csvlog",
                **pg,
            ),
            False,
        ),
        (
            4,
            row(
                query_id="673ee3a0.1092:3",
                sql=update,
                status="ok",
                started_at="2026-11-21T05:00:02.123000Z",
                format="postgres_csvlog",
                **pg,
            ),
            False,
        ),
        (  # the ERROR ends the statement above (the landing pairs them by session and text)
            5,
            row(
                query_id="673ee3a0.1092:4",
                sql=update,
                status="failed",
                error='22P02: invalid input syntax for type numeric: "x"',
                started_at="2026-11-21T05:00:02.123000Z",
                finished_at="2026-11-21T05:00:02.123000Z",
                format="postgres_csvlog",
                **pg,
            ),
            True,
        ),
        (6, "LOG message without a statement", False),
    ]


def test_postgres_settings_give_dialect_and_schema():
    fmt = FileFormat(
        "postgres_csvlog", csv=True, settings=SourceSettings(dialect="redshift", schema="App")
    )
    text = _records(FIX / "postgresql-2026-11-21.csv", True)[1][1]
    c = convert(text, fmt)
    assert (c.row["engine"], c.row["default_schema"]) == ("redshift", "app")


def test_spark_event_log():
    name, got = _convert_file("app-20261121040000-0007")
    assert name == "spark_eventlog"
    assert got == [
        (1, "SparkListenerLogStart: not a SQL execution", False),
        (2, "SparkListenerApplicationStart: not a SQL execution", False),
        (
            3,
            row(
                query_id="app-20261121040000-0007:0",
                engine="spark",
                started_at="2026-11-21T04:01:00.000000Z",
                sql="INSERT INTO marts.country_counts SELECT country, count(*) AS n FROM crm.customers GROUP BY country",
                format="spark_eventlog",
            ),
            False,
        ),
        (4, "SparkListenerJobStart: not a SQL execution", False),
        (5, "SparkListenerJobEnd: not a SQL execution", False),
        (
            6,
            row(status="ok", finished_at="2026-11-21T04:01:01.500000Z", format="spark_eventlog"),
            True,
        ),
        (
            7,
            "a DataFrame action without SQL text ('count at NativeMethodAccessorImpl.java:0')",
            False,
        ),
        (
            8,
            row(status="ok", finished_at="2026-11-21T04:01:10.500000Z", format="spark_eventlog"),
            True,
        ),
        (
            9,
            row(
                query_id="app-20261121040000-0007:2",
                engine="spark",
                started_at="2026-11-21T04:01:20.000000Z",
                sql="INSERT INTO marts.country_counts SELECT nope FROM crm.customers",
                format="spark_eventlog",
            ),
            False,
        ),
        (
            10,
            row(
                status="failed",
                finished_at="2026-11-21T04:01:20.200000Z",
                error="[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name "
                "`nope` cannot be resolved.",
                format="spark_eventlog",
            ),
            True,
        ),
    ]


def test_hive_lineage_logger_after_a_log_prefix():
    name, got = _convert_file("hive-lineage.log")
    assert name == "hive_lineage"
    edge = dict(source="sales.orders", target="sales.daily_revenue")
    assert got == [
        (
            1,
            row(
                query_id="7c3f5b2a9e8d1c0f4a6b2d8e0c1f3a5b",
                job_id="job_1763700000000_0007",
                engine="hive",
                user="hive",
                started_at="2026-11-21T05:05:00.000000Z",
                sql="INSERT OVERWRITE TABLE daily_revenue SELECT o.order_date, sum(o.amount) FROM orders o "
                "WHERE o.status = 'paid' GROUP BY o.order_date",
                default_schema="sales",
                status="ok",
                destination="sales.daily_revenue",
                format="hive_lineage",
                engine_lineage=[
                    {
                        **edge,
                        "source_column": "order_date",
                        "target_column": "order_date",
                        "type": "DIRECT",
                        "subtype": "IDENTITY",
                    },
                    {
                        **edge,
                        "source_column": "amount",
                        "target_column": "revenue",
                        "type": "DIRECT",
                        "subtype": "TRANSFORMATION",
                    },
                    {
                        **edge,
                        "source_column": "status",
                        "target_column": None,
                        "type": "INDIRECT",
                        "subtype": "FILTER",
                    },
                ],
            ),
            False,
        )
    ]


# -- detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("own.jsonl", "jsonl"),
        ("trino_events.json", "trino"),
        ("bigquery_jobs.json", "bigquery"),
        ("bigquery_jobs.csv", "bigquery"),
        ("snowflake_query_history.csv", "snowflake"),
        ("snowflake_access_history.json", "snowflake"),
        ("snowflake_query_access_history.csv", "snowflake"),
        ("databricks_query_history.json", "databricks"),
        ("databricks_query_history.csv", "databricks"),
        ("postgresql-2026-11-21.csv", "postgres_csvlog"),
        ("app-20261121040000-0007", "spark_eventlog"),
        ("hive-lineage.log", "hive_lineage"),
    ],
)
def test_detection_from_content(name, expected):
    assert detect((FIX / name).read_bytes(), file_name=name).name == expected


def test_unknown_format_says_what_the_file_looks_like():
    found = detect((FIX / "bad" / "notes.txt").read_bytes(), file_name="notes.txt")
    assert found.name is None
    assert found.problem.startswith(
        "unknown format: its first line is 'Nightly export notes' (known: Trino"
    )
    unknown_json = detect(b'{"a": 1, "b": 2}\n', file_name="x.json")
    assert unknown_json.problem.startswith(
        "unknown format: a JSON object with keys a, b, of no known query-log format"
    )
    # the product's own suffix keeps its meaning: its lines are judged one by one
    assert detect(b"garbage\n", file_name="q.jsonl").name == "jsonl"


def test_a_truncated_first_event_is_still_recognised():
    text = (FIX / "bad" / "trino_truncated.json").read_text().splitlines()[1]
    assert detect(text, complete=False).name == "trino"


def test_configured_csv_format_reads_its_header():
    found = for_configured("snowflake", (FIX / "snowflake_query_history.csv").read_bytes())
    assert (found.csv, found.header_line, found.header[:2]) == (True, 1, ("query_id", "query_text"))


# -- helpers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-21 06:00:00.000 -0800", "2026-11-21T14:00:00.000000Z"),
        ("2026-11-21 07:00:00.123456 UTC", "2026-11-21T07:00:00.123456Z"),
        ("2026-11-21T08:00:00.125Z", "2026-11-21T08:00:00.125000Z"),
        ("2026-11-21T08:00:00.123456789Z", "2026-11-21T08:00:00.123456Z"),
        (1795233660000, "2026-11-21T04:01:00.000000Z"),
        (1795237500, "2026-11-21T05:05:00.000000Z"),
        ("yesterday", "yesterday"),
        (None, None),
    ],
)
def test_iso_time(value, expected):
    assert iso_time(value) == expected


def test_looks_like_sql():
    assert looks_like_sql("-- nightly\nINSERT INTO t SELECT 1")
    assert looks_like_sql("(SELECT 1)")
    assert not looks_like_sql("count at NativeMethodAccessorImpl.java:0")


# -- query_log_sources ------------------------------------------------------------------------------


def test_sources_are_validated_all_at_once(tmp_path):
    from jobs.config.settings import load_config

    conf = tmp_path / "c.yaml"
    conf.write_text(
        "query_log_sources:\n"
        "  bq/: {format: bigqeury, catalog: acme-prod}\n"
        "  pg: {dialet: postgres}\n"
        "  /abs: {format: trino}\n"
        "  sf: {format: snowflake, dialect: snowflak}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as exc:
        load_config(conf, env={})
    lines = str(exc.value).splitlines()
    assert lines[0] == "4 configuration problems:"
    assert lines[1].startswith(
        f"{conf}: key 'query_log_sources.bq/.format' is 'bigqeury' (did you mean 'bigquery'?)"
    )
    assert lines[2].startswith(
        f"{conf}: key 'query_log_sources.pg.dialet': unknown key (did you mean 'dialect'?)"
    )
    assert "expected a path relative to inputs.query_logs" in lines[3]
    assert "'snowflak' (did you mean 'snowflake'?)" in lines[4]


def test_sources_settings_longest_path_wins(tmp_path):
    from jobs.config.querylog_sources import settings_for
    from jobs.config.settings import load_config

    conf = tmp_path / "c.yaml"
    conf.write_text(
        "query_log_sources:\n"
        "  bq: {format: bigquery, catalog: acme-prod}\n"
        "  bq/eu/jobs.csv: {schema: eu_marts}\n",
        encoding="utf-8",
    )
    sources = load_config(conf, env={}).query_log_sources
    assert settings_for("bq/us/a.json", sources) == SourceSettings("bigquery", None, "acme-prod")
    assert settings_for("bq/eu/jobs.csv", sources) == SourceSettings(schema="eu_marts")
    assert settings_for("other.json", sources) == SourceSettings()


def test_parquet_exports_are_detected_from_their_columns():
    from audits.querylog_formats.detect import detect_columns, is_parquet

    assert is_parquet(b"PAR1\x15\x04") and not is_parquet(b'{"a": 1}') and not is_parquet("PAR1")
    snow = ["QUERY_ID", "QUERY_TEXT", "EXECUTION_STATUS", "START_TIME"]
    assert detect_columns(snow).name == "snowflake"
    assert detect_columns(["statement_id", "statement_text", "start_time"]).name == "databricks"
    assert detect_columns(["sql", "started_at"]).name == "jsonl"
    unknown = detect_columns(["a", "b"])
    assert unknown.name is None
    assert unknown.problem == (
        "unknown format: a Parquet file with columns a, b, of no known query log"
    )
    assert detect_columns(["x"], configured="bigquery").name == "bigquery"
    wrong = detect_columns(snow, configured="trino")
    assert wrong.name is None and "format 'trino' named in query_log_sources" in wrong.problem


def test_a_damaged_parquet_file_is_named_with_the_reason(spark, tmp_path):
    from jobs.errors import InputError
    from jobs.store.files import parquet_columns

    good = Path(__file__).parent / "fixtures" / "querylogs" / "snowflake_query_history.parquet"
    assert parquet_columns(spark, str(good))[:2] == ["QUERY_ID", "QUERY_TEXT"]
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError) as err:
        parquet_columns(spark, str(cut))
    assert str(err.value).startswith(f"{cut}: unreadable as Parquet (")
