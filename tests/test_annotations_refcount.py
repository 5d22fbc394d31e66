"""Refcount annotations compared with observed edges; no deep suggested into not_deleted types."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chispa import assert_df_equality

from audits.annotations.checks import FINDINGS_SCHEMA
from audits.annotations.heuristics import (
    HeuristicOptions,
    edge_features,
    heuristic_findings,
    predict_annotations,
)

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
D = timedelta(days=1)
INVENTORY = (
    "edge_type string, src_type string, src_key string, dst_type string, dst_key string, "
    "created_at timestamp, deleted_src boolean"
)


def _inventory(spark):
    # users appear on day 0 (through "member"); every "uploads" and "archives" target is created
    # after its user and referenced by that user only (new and owned: truly deep); the "tags"
    # targets are shared by both users (many_to_one: shallow)
    rows = [
        ("member", "user", "u1", "team", "t1", T0, False),
        ("member", "user", "u2", "team", "t1", T0, False),
        ("uploads", "user", "u1", "file", "f1", T0 + D, False),
        ("uploads", "user", "u1", "file", "f2", T0 + 2 * D, False),
        ("uploads", "user", "u2", "file", "f3", T0 + 3 * D, False),
        ("archives", "user", "u1", "archive", "a1", T0 + D, False),
        ("archives", "user", "u2", "archive", "a2", T0 + 2 * D, False),
        ("tags", "user", "u1", "label", "l1", T0 + 4 * D, False),
        ("tags", "user", "u2", "label", "l1", T0 + 4 * D, False),
    ]
    return spark.createDataFrame(rows, INVENTORY)


def test_refcount_declared_but_truly_deep_is_a_finding(spark):
    annotations = {
        "objects": {
            "user": "directly",
            "team": "not_deleted",
            "file": "by_any",
            "archive": "not_deleted",
            "label": "by_any",
        },
        "edges": {
            "member": {"src": "user", "dst": "team", "deletion": "shallow"},
            "uploads": {"src": "user", "dst": "file", "deletion": "refcount"},
            # looks owned, but the archive type is annotated not_deleted: no deep suggestion
            "archives": {"src": "user", "dst": "archive", "deletion": "shallow"},
            # refcount on shared targets agrees with what is observed
            "tags": {"src": "user", "dst": "label", "deletion": "refcount"},
        },
    }
    predictions = predict_annotations(
        edge_features(_inventory(spark)), HeuristicOptions(min_edges=1)
    )
    want = spark.createDataFrame(
        [
            (
                "refcount_looks_deep",
                "uploads",
                "file",
                "declared refcount, observed edges suggest deep (new_owned; 3 edges: 100.0% new and "
                "owned, 0.0% shared targets, 0.0% older targets)",
            )
        ],
        FINDINGS_SCHEMA,
    )
    assert_df_equality(
        heuristic_findings(predictions, annotations),
        want,
        ignore_row_order=True,
        ignore_nullable=True,
    )


def test_deep_is_suggested_when_the_target_type_is_deletable(spark):
    annotations = {
        "objects": {
            "user": "directly",
            "team": "not_deleted",
            "file": "by_any",
            "archive": "by_any",
            "label": "by_any",
        },
        "edges": {"archives": {"src": "user", "dst": "archive", "deletion": "shallow"}},
    }
    predictions = predict_annotations(
        edge_features(_inventory(spark)), HeuristicOptions(min_edges=1)
    )
    got = heuristic_findings(predictions, annotations).select("finding", "edge_type")
    want = spark.createDataFrame(
        [("heuristic_predicts_deep", "archives")], "finding string, edge_type string"
    )
    assert_df_equality(got, want, ignore_nullable=True)
