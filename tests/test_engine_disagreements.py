"""Engine-computed lineage against the parsed SQL of the same query: disagreements are findings.

The rules of :mod:`lineage.signals.engine` (``engine_row_edges``, ``disagreements``) on explicit
frames, with the expected findings written out by hand from the cases' meaning.
"""

from __future__ import annotations

import json

from chispa import assert_df_equality

from lineage.signals.engine import disagreements, engine_row_edges

LOG_SCHEMA = (
    "query_id string, sql string, status string, format string, engine string, "
    "engine_lineage string, source_file string, line bigint"
)
ROW_EDGE_SCHEMA = (
    "source_file string, line bigint, source_asset string, source_column string, "
    "target_asset string, target_column string"
)
OUT_SCHEMA = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "found_by string, engine string, seen_count bigint, evidence array<string>"
)


def _edge(src, scol, dst, dcol, type_="DIRECT", sub="IDENTITY"):
    return {
        "source": src,
        "source_column": scol,
        "target": dst,
        "target_column": dcol,
        "type": type_,
        "subtype": sub,
    }


def test_engine_row_edges_keeps_direct_column_flows_of_rows_with_sql(spark):
    lin = json.dumps(
        [
            _edge("Sales.Orders", "Amount", "sales.daily", "revenue", "DIRECT", "AGGREGATION"),
            _edge("sales.orders", "status", "sales.daily", "revenue", "INDIRECT", "FILTER"),
            _edge("sales.orders", None, "sales.daily", None),  # table level: not compared
        ]
    )
    logs = spark.createDataFrame(
        [
            ("q1", "INSERT ...", "ok", "hive_lineage", "hive", lin, "h.log", 1),
            ("q2", "INSERT ...", "failed", "hive_lineage", "hive", lin, "h.log", 2),  # failed
            ("q3", None, "ok", "snowflake", "snowflake", lin, "a.json", 1),  # no SQL to compare
            (None, "INSERT ...", None, None, "trino", lin, "t.json", 7),  # no id: file:line
        ],
        LOG_SCHEMA,
    )
    expected = spark.createDataFrame(
        [
            ("h.log", 1, "q1", "hive_lineage", "sales.orders", "amount", "sales.daily", "revenue"),
            ("t.json", 7, "t.json:7", "trino", "sales.orders", "amount", "sales.daily", "revenue"),
        ],
        "source_file string, line bigint, query string, engine string, source_asset string, "
        "source_column string, target_asset string, target_column string",
    )
    assert_df_equality(
        engine_row_edges(logs), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_disagreements_in_both_directions_and_only_on_reported_targets(spark):
    engine = spark.createDataFrame(
        [
            # row 1: engine says amount -> revenue and order_date -> order_date
            ("h.log", 1, "q1", "hive_lineage", "s.o", "amount", "s.d", "revenue"),
            ("h.log", 1, "q1", "hive_lineage", "s.o", "order_date", "s.d", "order_date"),
            # row 2, the same statement again: amount -> revenue
            ("h.log", 2, "q2", "hive_lineage", "s.o", "amount", "s.d", "revenue"),
            # row 3: full agreement
            ("t.json", 1, "t1", "trino", "c.c", "id", "m.e", "customer_id"),
        ],
        "source_file string, line bigint, query string, engine string, source_asset string, "
        "source_column string, target_asset string, target_column string",
    )
    parsed = spark.createDataFrame(
        [
            # row 1: the parser finds order_date, plus a second source of order_date the
            # engine does not list, plus a flow into a column the engine does not report
            ("h.log", 1, "s.o", "order_date", "s.d", "order_date"),
            ("h.log", 1, "s.o", "ts", "s.d", "order_date"),
            ("h.log", 1, "s.o", "amount", "s.d", "_c1"),
            # row 2: the parser finds nothing
            ("t.json", 1, "c.c", "id", "m.e", "customer_id"),
        ],
        ROW_EDGE_SCHEMA,
    )
    expected = spark.createDataFrame(
        [
            ("s.o", "amount", "s.d", "revenue", "engine", "hive_lineage", 2, ["q1", "q2"]),
            ("s.o", "ts", "s.d", "order_date", "sql", "hive_lineage", 1, ["q1"]),
        ],
        OUT_SCHEMA,
    )
    assert_df_equality(
        disagreements(engine, parsed), expected, ignore_row_order=True, ignore_nullable=True
    )


def test_evidence_keeps_the_ten_smallest_queries_and_counts_all(spark):
    rows = [
        ("h.log", i, f"q{i:02d}", "hive_lineage", "s.o", "amount", "s.d", "revenue")
        for i in range(12)
    ]
    engine = spark.createDataFrame(
        rows,
        "source_file string, line bigint, query string, engine string, source_asset string, "
        "source_column string, target_asset string, target_column string",
    )
    parsed = spark.createDataFrame([], ROW_EDGE_SCHEMA)
    got = disagreements(engine, parsed).collect()
    assert len(got) == 1
    assert got[0].seen_count == 12
    assert got[0].evidence == [f"q{i:02d}" for i in range(10)]
