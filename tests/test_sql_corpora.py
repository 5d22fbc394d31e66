"""TPC-H (22) and TPC-DS (99) queries wrapped as INSERT: lineage for every output column, no error.

The column-level sources are also cross-checked against sqlglot's own ``lineage()`` (the peer
implementation our walker is built beside): for every output column, the set of source columns
we report on that column (DIRECT edges plus the CONDITIONAL / WINDOW edges of the same column)
must equal the leaves sqlglot's lineage reaches. Columns without any source column in sqlglot's
lineage (``count(*)``, constants) are the only ones allowed to have no column edge.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.lineage import lineage as sqlglot_lineage
from sqlglot.optimizer.qualify import qualify

from lineage.sql.extract import extract_lineage

#: The TPC-H and TPC-DS queries with their schemas, kept with the tests (see its README.md).
CORPORA = Path(__file__).resolve().parent / "fixtures" / "corpora"


@cache
def _corpus(name: str) -> tuple[list[dict], dict]:
    path = CORPORA / f"{name}.jsonl"
    queries = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    schema = json.loads((CORPORA / f"{name}_schema.json").read_text())
    return queries, schema


def _ids(name: str) -> list[str]:
    path = CORPORA / f"{name}.jsonl"
    return [json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()]


def _sqlglot_leaves(sql: str, column: str, schema: dict) -> set[str]:
    select = qualify(sqlglot.parse_one(sql), schema=schema, validate_qualify_columns=False)
    node = sqlglot_lineage(exp.column(column, quoted=True), select, schema=schema)
    leaves = set()
    for n in node.walk():
        if not n.downstream and isinstance(n.expression, exp.Table):
            col = sqlglot.parse_one(n.name)
            leaves.add(f"{n.expression.name.lower()}.{col.name.lower()}")
    return leaves


def _check(name: str, qid: str, *, cross_check: bool) -> None:
    queries, schema = _corpus(name)
    query = next(q for q in queries if q["id"] == qid)
    target = f"out_q{query['n']}"
    result = extract_lineage(f"INSERT INTO {target} {query['sql']}", schema=schema)

    expected_names = qualify(
        sqlglot.parse_one(query["sql"]), schema=schema, validate_qualify_columns=False
    ).named_selects
    # a duplicated output name (TPC-DS q39) is one target column
    assert list(result.target_columns[target]) == list(
        dict.fromkeys(n.lower() for n in expected_names)
    )
    assert result.targets == {target}
    assert result.sources and result.sources <= set(schema)

    for output in dict.fromkeys(expected_names):
        column = output.lower()
        ours = {e.source for e in result.column_edges if e.target_column == column}
        if ours and not cross_check:
            continue
        theirs = _sqlglot_leaves(query["sql"], output, schema)
        assert ours == theirs, f"{qid}.{column}: ours {sorted(ours)} sqlglot {sorted(theirs)}"


@pytest.mark.parametrize("qid", _ids("tpch"))
def test_tpch_every_output_column_has_lineage(qid: str) -> None:
    _check("tpch", qid, cross_check=True)


@pytest.mark.parametrize("qid", _ids("tpcds"))
def test_tpcds_every_output_column_has_lineage(qid: str) -> None:
    _check("tpcds", qid, cross_check=False)


@pytest.mark.slow
@pytest.mark.parametrize("qid", _ids("tpcds"))
def test_tpcds_column_sources_agree_with_sqlglot_lineage(qid: str) -> None:
    _check("tpcds", qid, cross_check=True)
