"""The report's "Exclusions and overrides" section reads ``review_decisions`` (issue 13, item 6)."""

from __future__ import annotations

import io
from datetime import date, datetime

from jobs.config.settings import load_config
from jobs.context import JobContext, Progress
from jobs.steps.report import review_section
from jobs.store.tables import TableStore

EDGES = (
    "source_asset string, source_column string, target_asset string, target_column string, "
    "transformation_type string, confidence double, masking boolean"
)
DECISIONS = (
    "node string, decision string, cascade boolean, reviewer string, reason string, "
    "decided_at timestamp"
)


def test_review_section_lists_each_decision_with_the_nodes_it_hides(spark, tmp_path):
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    # a -> b -> c and a -> d (table level)
    store.append(
        "lineage_edges",
        spark.createDataFrame(
            [
                ("s.a", None, "s.b", None, "DIRECT", 0.9, False),
                ("s.b", None, "s.c", None, "DIRECT", 0.9, False),
                ("s.a", None, "s.d", None, "DIRECT", 0.9, False),
            ],
            EDGES,
        ),
    )
    store.append(
        "review_decisions",
        spark.createDataFrame(
            [
                ("s.b", "exclude", True, "ann", "test copy", datetime(2026, 11, 20, 9)),
                ("s.d", "exclude", False, "bob", "false positive", datetime(2026, 11, 21, 9)),
            ],
            DECISIONS,
        ),
    )
    ctx = JobContext(cfg, spark, store, store, date(2026, 11, 22), Progress(io.StringIO()))
    section = review_section(ctx)
    assert section.key == "review_decisions" and section.findings is False
    got = [
        (r["node"], r["decision"], r["cascade"], r["nodes_hidden"], r["reason"])
        for r in section.rows
    ]
    assert got == [
        ("s.d", "exclude", False, 1, "false positive"),  # newest first
        ("s.b", "exclude", True, 2, "test copy"),  # b and, by cascade, c
    ]
    assert section.columns[0] == "decided_at" and "reviewer" in section.columns


def test_without_decisions_the_section_is_empty_not_missing(spark, tmp_path):
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, store, date(2026, 11, 22), Progress(io.StringIO()))
    section = review_section(ctx)
    assert section.title == "Exclusions and overrides" and section.rows == ()
