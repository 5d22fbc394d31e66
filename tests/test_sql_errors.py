"""Hostile and broken input: every failure is a SqlLineageError with a reason, never anything else."""

from __future__ import annotations

import random

import pytest

from jobs.errors import ComplianceError
from lineage.sql.extract import SqlLineageError, extract_lineage


def _error(sql, **kwargs) -> SqlLineageError:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage(sql, **kwargs)
    return info.value


def test_error_is_a_compliance_error() -> None:
    assert issubclass(SqlLineageError, ComplianceError)


def test_one_megabyte_query_is_rejected_by_size() -> None:
    sql = "SELECT a FROM t WHERE b IN (" + ", ".join(["123456"] * 130_000) + ")"
    assert len(sql) > 1_000_000
    err = _error(sql, dialect="trino")
    assert err.kind == "too_large"
    assert "exceeds the limit" in str(err) and "trino" in str(err)


def test_size_limit_is_configurable() -> None:
    sql = "INSERT INTO t SELECT a FROM s WHERE b = '" + "x" * 500 + "'"
    assert extract_lineage(sql, max_bytes=10_000).targets == {"t"}
    assert _error(sql, max_bytes=100).kind == "too_large"


def test_200_level_nested_subquery_is_rejected_as_too_deep() -> None:
    n = 200
    sql = "SELECT a FROM " + "(SELECT a FROM " * n + "t" + ") x" * n
    err = _error(sql, dialect="spark")
    assert err.kind == "too_deep"
    assert err.line == 1 and err.col is not None


def test_deep_but_allowed_nesting_still_works() -> None:
    n = 60
    sql = "INSERT INTO o SELECT a FROM " + "(SELECT a FROM " * n + "t" + ") x" * n
    result = extract_lineage(sql)
    assert [(e.source, e.target, e.subtype) for e in result.column_edges] == [
        ("t.a", "o.a", "IDENTITY")
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_binary_garbage_is_rejected(seed: int) -> None:
    data = random.Random(seed).randbytes(4000)
    err = _error(data)
    assert err.kind == "binary"
    err = _error(data.decode("latin-1"), dialect="hive")
    assert err.kind == "binary" and "hive" in str(err)


def test_non_text_is_rejected() -> None:
    assert _error(None).kind == "binary"
    assert _error(12345).kind == "binary"


def test_unknown_dialect_is_named() -> None:
    err = _error("SELECT 1", dialect="nosuchengine")
    assert err.kind == "unknown_dialect"
    assert "nosuchengine" in str(err)


def test_parse_error_carries_dialect_and_position() -> None:
    err = _error("SELECT a\nFROM t WHERE (", dialect="trino")
    assert err.kind == "parse_error"
    assert err.dialect == "trino" and err.line == 2
    assert "line 2" in str(err) and "trino" in str(err)


def test_unterminated_string_is_a_parse_error() -> None:
    err = _error("SELECT 'abc FROM t", dialect="presto")
    assert err.kind == "parse_error" and err.line == 1


def test_unsupported_write_syntax_is_not_silently_dropped() -> None:
    # sqlglot falls back to an opaque Command for syntax it does not know
    err = _error("INSERT INTO t ?? garbage ??")
    assert err.kind in {"parse_error", "unsupported"}


@pytest.mark.parametrize(
    "sql",
    ["", "   ", "-- only a comment\n", ";", "SHOW TABLES", "SET x = 1", "USE db1"],
)
def test_statements_without_lineage_yield_nothing(sql: str) -> None:
    result = extract_lineage(sql, dialect="spark")
    assert (result.sources, result.targets, result.column_edges) == (set(), set(), [])


def test_random_fuzz_never_raises_another_exception_type() -> None:
    rng = random.Random(7)
    words = [
        "SELECT",
        "FROM",
        "WHERE",
        "(",
        ")",
        ",",
        "a",
        "b",
        "t.c",
        "1",
        "'x'",
        "JOIN",
        "ON",
        "=",
        "INSERT",
        "INTO",
        "CASE",
        "WHEN",
        "END",
        "*",
        "UNION",
    ]
    for _ in range(300):
        sql = " ".join(rng.choice(words) for _ in range(rng.randint(1, 25)))
        try:
            extract_lineage(sql, dialect=rng.choice(["trino", "spark", "hive", None]))
        except SqlLineageError:
            pass


@pytest.mark.parametrize("n", [1500])
def test_long_chains_do_not_hit_the_recursion_limit(n: int) -> None:
    union = "INSERT INTO t " + " UNION ALL ".join(f"SELECT a FROM s{i}" for i in range(n))
    assert len(extract_lineage(union).column_edges) == n
    where = "INSERT INTO t SELECT a FROM s WHERE " + " AND ".join(f"c{i} = {i}" for i in range(n))
    assert len(extract_lineage(where).column_edges) == n + 1
    ctes = ", ".join(f"c{i} AS (SELECT a FROM {f'c{i - 1}' if i else 's'})" for i in range(300))
    chained = f"INSERT INTO t WITH {ctes} SELECT a FROM c299"
    assert [e.source for e in extract_lineage(chained).column_edges] == ["s.a"]
