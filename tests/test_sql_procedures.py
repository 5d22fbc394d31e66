"""Bad procedural input: unbalanced blocks and huge procedures are rejected clearly, never hang.

The lineage of well-formed procedures is in ``tests/fixtures/lineage/procedures.sql``.
"""

from __future__ import annotations

import time

import pytest

from lineage.sql.extract import SqlLineageError, extract_lineage


def _error(sql: str, **kwargs) -> SqlLineageError:
    with pytest.raises(SqlLineageError) as info:
        extract_lineage(sql, **kwargs)
    return info.value


def test_begin_without_end_is_rejected_at_the_begin() -> None:
    sql = (
        "CREATE PROCEDURE p AS\nBEGIN\n  INSERT INTO t (a) SELECT a FROM s;\n"
        "  BEGIN\n    DELETE FROM t WHERE a = 1;\nEND"
    )
    err = _error(sql, dialect="tsql")
    assert err.reason == "unbalanced BEGIN/END: BEGIN without END"
    # the END closes the inner block: the procedure's own BEGIN is the unmatched one
    assert (err.dialect, err.line, err.col) == ("tsql", 2, 1)


def test_end_without_begin_is_rejected_at_the_end() -> None:
    sql = "DECLARE x INT64;\nINSERT INTO d.t (a) SELECT a FROM d.s;\nEND my_block;"
    err = _error(sql, dialect="bigquery")
    assert err.reason == "unbalanced BEGIN/END: END without BEGIN"
    assert (err.dialect, err.line, err.col) == ("bigquery", 3, 1)


def test_a_procedure_with_10000_statements_is_rejected_quickly() -> None:
    body = "\n".join(f"  INSERT INTO t{i % 50} (a) SELECT a FROM s{i % 70};" for i in range(10_000))
    sql = f"CREATE PROCEDURE p AS\nBEGIN\n{body}\nEND"
    began = time.perf_counter()
    err = _error(sql, dialect="tsql", max_bytes=1_000_000)
    assert err.kind == "too_large" and err.reason == "more than 5000 statements in one text"
    assert time.perf_counter() - began < 20  # tokenised once, nothing parsed
