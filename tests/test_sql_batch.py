"""The mapInPandas extractor: every query yields rows (edges, table edges, sources or an error)."""

from __future__ import annotations

import pandas as pd
from chispa import assert_df_equality

from lineage.sql.batch import COLUMNS, EXTRACT_SCHEMA, extract_rows, learned_schema, make_extractor

SCHEMA = {"crm.customers": ["id", "email", "name"], "app.orders": ["id", "customer_id", "amount"]}


def test_extractor_on_spark(spark) -> None:
    queries = spark.createDataFrame(
        [
            (
                "f1",
                "trino",
                "INSERT INTO mart.c SELECT id, md5(email) AS h FROM crm.customers WHERE id > 0",
                None,
            ),
            ("f2", "spark", "SELECT * FROM orders", "app"),
            ("f3", "hive", "SELECT FROM WHERE (", None),
            ("f4", "nosuchdb", "SELECT 1", None),
            ("f5", "trino", "SELECT 1", None),
        ],
        "fingerprint string, dialect string, sql string, default_schema string",
    )
    actual = queries.mapInPandas(make_extractor(SCHEMA), EXTRACT_SCHEMA).drop(
        "message", "event", "detail"
    )
    c = "column"
    expected = spark.createDataFrame(
        [
            (
                "f1",
                "trino",
                None,
                c,
                "crm.customers",
                "id",
                "mart.c",
                "id",
                "DIRECT",
                "IDENTITY",
                False,
                0.8,  # positional INSERT into a table of unknown columns
                None,
            ),
            (
                "f1",
                "trino",
                None,
                c,
                "crm.customers",
                "email",
                "mart.c",
                "h",
                "DIRECT",
                "TRANSFORMATION",
                True,
                0.8,
                None,
            ),
            (
                "f1",
                "trino",
                None,
                c,
                "crm.customers",
                "id",
                "mart.c",
                None,
                "INDIRECT",
                "FILTER",
                False,
                1.0,
                None,
            ),
            (
                "f1",
                "trino",
                None,
                "table",
                "crm.customers",
                None,
                "mart.c",
                None,
                "DIRECT",
                None,
                False,
                1.0,
                None,
            ),
            (
                "f2",
                "spark",
                "app",
                "sources",
                "app.orders",
                None,
                None,
                None,
                None,
                None,
                False,
                1.0,
                None,
            ),
            (
                "f3",
                "hive",
                None,
                "error",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "parse_error",
            ),
            (
                "f4",
                "nosuchdb",
                None,
                "error",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "unknown_dialect",
            ),
            ("f5", "trino", None, "sources", None, None, None, None, None, None, False, 1.0, None),
        ],
        EXTRACT_SCHEMA.replace(", message string", "").replace(", event string, detail string", ""),
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_error_rows_carry_the_message() -> None:
    rows = extract_rows("f", "hive", "SELECT FROM WHERE (", None, None)
    assert len(rows) == 1
    assert rows[0][3] == "error" and rows[0][-2] == "parse_error"
    assert "hive" in rows[0][-1] and "line 1" in rows[0][-1]


def test_missing_sql_is_an_error_row_not_a_crash() -> None:
    extract = make_extractor(None)
    batch = pd.DataFrame(
        {"fingerprint": ["a"], "dialect": [None], "sql": [None], "default_schema": [None]}
    )
    (out,) = list(extract(iter([batch])))
    assert out[["kind", "error"]].values.tolist() == [["error", "binary"]]


def test_star_resolved_with_learned_schema() -> None:
    learned = learned_schema(
        "CREATE TABLE stage.t (a INT, b STRING); CREATE TABLE stage.v AS SELECT a AS x FROM stage.t",
        "spark",
    )
    assert learned == {"stage.t": ["a", "b"], "stage.v": ["x"]}
    rows = extract_rows("f", "spark", "INSERT INTO out SELECT * FROM stage.t", None, learned)
    edges = sorted((r[4], r[5], r[6], r[7]) for r in rows if r[3] == "column")
    assert edges == [("stage.t", "a", "out", "a"), ("stage.t", "b", "out", "b")]


def test_learned_schema_of_text_without_create_is_empty() -> None:
    assert learned_schema("INSERT INTO t SELECT a FROM s") == {}
    assert learned_schema("CREATE TABLE (((", "trino") == {}


def test_ddl_yields_one_schema_row_per_event_in_statement_order() -> None:
    sql = (
        "CREATE TABLE crm.c (id INT, email STRING); "
        "ALTER TABLE crm.c RENAME COLUMN email TO email_address; "
        "ALTER TABLE crm.c ADD COLUMNS (phone STRING); "
        "ALTER TABLE crm.c RENAME TO crm.c2; DROP TABLE crm.old"
    )
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in extract_rows("f", "spark", sql, None, None)]
    events = [
        (r["event"], r["source_table"], r["source_column"], r["detail"])
        for r in rows
        if r["kind"] == "schema"
    ]
    assert events == [
        ("create_table", "crm.c", None, None),
        ("rename_column", "crm.c", "email", "email_address"),
        ("add_column", "crm.c", "phone", "TEXT"),  # the type as sqlglot spells it
        ("rename_table", "crm.c", None, "crm.c2"),
        ("drop_table", "crm.old", None, None),
    ]
    assert all(r["fingerprint"] == "f" and r["dialect"] == "spark" for r in rows)
