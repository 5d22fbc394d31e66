"""Query fingerprints: folding rules, and Python / Spark implementations agree."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lineage.sql.fingerprint import fingerprint, fingerprint_col, normalize

QUERIES = [
    "SELECT a FROM t WHERE id = 42",
    "select a\n  from t\twhere id=7  ",
    "SELECT a FROM t WHERE name = 'O''Brien' -- comment",
    "SELECT a FROM t WHERE name = 'it\\'s' /* multi\nline */ AND x IN (1, 2, 3)",
    "SELECT a FROM t WHERE x IN (4)",
    'SELECT "Weird Col", t2.c3 FROM db1.t2 WHERE c3 > 1.5e3',
    "INSERT INTO out_q1 SELECT sum(x) * 1.2 FROM t WHERE d BETWEEN '2020-01-01' AND '2020-12-31';",
    "SELECT '--not a comment' AS s, b FROM t",
    "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    "SELECT naïve, 'héllo' FROM ünïcode WHERE x = -5",
    "",
]


def test_literals_whitespace_case_and_comments_fold() -> None:
    assert fingerprint(QUERIES[0]) == fingerprint(QUERIES[1])
    assert fingerprint("SELECT a FROM t WHERE x IN (1, 2, 3)") == fingerprint(
        "select a from t where x in (9)"
    )
    assert fingerprint("SELECT a FROM t -- x\n") == fingerprint("SELECT a FROM t /* y */")
    assert fingerprint("SELECT a FROM t;") == fingerprint("SELECT a FROM t")


def test_structure_and_identifiers_do_not_fold() -> None:
    assert fingerprint("SELECT a FROM t1") != fingerprint("SELECT a FROM t2")
    assert fingerprint("SELECT a FROM t") != fingerprint("SELECT b FROM t")
    assert fingerprint('SELECT "x" FROM t') != fingerprint('SELECT "y" FROM t')
    assert fingerprint("SELECT a FROM t WHERE x = 1") != fingerprint("SELECT a FROM t WHERE y = 1")


def test_comment_markers_inside_strings_are_literals() -> None:
    assert normalize("SELECT '--x' AS s, b FROM t") == "select ? as s,b from t"


def test_normalized_text() -> None:
    assert normalize("SELECT  a ,b FROM t WHERE id IN (1, 2) AND n = 'x' -- c") == (
        "select a,b from t where id in(?)and n=?"
    )
    assert normalize("INSERT INTO t VALUES (1, 'a'), (2, 'b')") == "insert into t values(?)"


def test_fingerprint_is_sha256_hex() -> None:
    fp = fingerprint("SELECT 1")
    assert len(fp) == 64 and set(fp) <= set("0123456789abcdef")


@pytest.mark.parametrize("sql", QUERIES)
def test_normalize_is_idempotent_in_meaning(sql: str) -> None:
    assert fingerprint(normalize(sql)) == fingerprint(sql)


def test_spark_column_agrees_with_python(spark) -> None:
    rows = [(i, q) for i, q in enumerate(QUERIES)] + [(len(QUERIES), None)]
    df = spark.createDataFrame(rows, "id int, sql string")
    actual = df.select("id", fingerprint_col(F.col("sql")).alias("fp"))
    expected = spark.createDataFrame(
        [(i, fingerprint(q)) for i, q in enumerate(QUERIES)] + [(len(QUERIES), None)],
        "id int, fp string",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)
