"""extract_lineage on the demo company's query logs against the demo's ground-truth flows.

Every SQL log line of every dialect is analysed without a schema; the column edges with a target
must equal the true SQL flows exactly (precision and recall 1.0), and only the injected
unparseable statements may fail.
"""

from __future__ import annotations

import json
import random
from datetime import date

import jobs.demo as demo
import jobs.demo.querylogs as querylogs
import jobs.demo.sql as demo_sql
import jobs.demo.truth as truth
from lineage.sql.extract import SqlLineageError, extract_lineage


def test_demo_query_logs_match_ground_truth_exactly() -> None:
    company = demo.build_company(7)
    files, _ = querylogs.build_query_logs(company, date(2026, 11, 20), 1, random.Random(3))
    expected = {
        (f["source"], f["target"], f["type"], f["subtype"], f["masking"])
        for f in truth.sql_truth(company)["column_flows"]
    }
    unparseable = {sql for _, sql in demo_sql.UNPARSEABLE_SQL}

    got, failed = set(), set()
    for file in files:
        for line in file.lines:
            if not isinstance(line, str):
                continue
            record = json.loads(line)
            if not record.get("sql"):
                continue
            try:
                result = extract_lineage(
                    record["sql"],
                    dialect=record["engine"],
                    default_schema=record.get("default_schema"),
                )
            except SqlLineageError:
                failed.add(record["sql"])
                continue
            got |= {
                (e.source, e.target, e.type, e.subtype, e.masking)
                for e in result.column_edges
                if e.target_table is not None
            }

    assert failed <= unparseable
    assert sorted(got - expected) == []
    assert sorted(expected - got) == []
