"""Review decisions: latest wins, exclude cuts a node, cascade hides its exclusive downstream."""

from __future__ import annotations

from datetime import datetime

import pytest
from chispa import assert_df_equality

from lineage.graph.search import closure
from lineage.review import apply_review, hidden_nodes, latest_decisions

T1 = datetime(2026, 1, 1, 10, 0)
T2 = datetime(2026, 1, 2, 10, 0)

# s feeds x and y; x's downstream: a (-> b, also fed by y), the cycle c <-> d, e -> f, g -> h
# (h is also fed by the independent root k).
EDGES = [
    ("s", "x", 0.9),
    ("s", "y", 0.8),
    ("x", "a", 1.0),
    ("a", "b", 1.0),
    ("y", "b", 1.0),
    ("x", "c", 1.0),
    ("c", "d", 1.0),
    ("d", "c", 1.0),
    ("x", "e", 1.0),
    ("e", "f", 1.0),
    ("x", "g", 1.0),
    ("g", "h", 1.0),
    ("k", "h", 1.0),
]
EDGE_SCHEMA = "src string, dst string, confidence double"
DECISION_SCHEMA = (
    "node string, decision string, cascade boolean, reviewer string, decided_at timestamp"
)
HIDDEN_SCHEMA = "node string, reason string, excluded_by array<string>"


def _eq(actual, expected):
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def _decisions(spark, rows):
    return spark.createDataFrame([(n, d, c, "alice", t) for n, d, c, t in rows], DECISION_SCHEMA)


def _edges_without(spark, dropped):
    return spark.createDataFrame([e for e in EDGES if (e[0], e[1]) not in dropped], EDGE_SCHEMA)


@pytest.fixture(scope="module")
def edges(spark):
    return spark.createDataFrame(EDGES, EDGE_SCHEMA)


def test_latest_decision_wins_and_ties_prefer_include(spark):
    decisions = _decisions(
        spark,
        [
            ("x", "exclude", True, T1),
            ("x", "INCLUDE ", False, T2),
            ("y", "exclude", False, T1),
            ("y", "include", False, T1),
            ("a", "include", False, T1),
            ("a", "exclude", None, T2),
            ("b", "maybe", False, T2),
            ("c", "exclude", True, T1),
            ("c", "exclude", False, T1),
        ],
    )
    expected = spark.createDataFrame(
        [
            ("x", "include", False),
            ("y", "include", False),
            ("a", "exclude", False),
            ("c", "exclude", False),
        ],
        "node string, decision string, cascade boolean",
    )
    _eq(latest_decisions(decisions), expected)


def test_cascade_hides_exactly_the_exclusive_downstream(spark, edges):
    decisions = _decisions(spark, [("x", "exclude", True, T1)])
    expected_hidden = spark.createDataFrame(
        [
            ("x", "excluded", ["x"]),
            ("a", "cascade", ["x"]),
            ("c", "cascade", ["x"]),
            ("d", "cascade", ["x"]),
            ("e", "cascade", ["x"]),
            ("f", "cascade", ["x"]),
            ("g", "cascade", ["x"]),
        ],
        HIDDEN_SCHEMA,
    )
    _eq(hidden_nodes(edges, decisions), expected_hidden)
    expected_edges = spark.createDataFrame(
        [("s", "y", 0.8), ("y", "b", 1.0), ("k", "h", 1.0)], EDGE_SCHEMA
    )
    _eq(apply_review(edges, decisions), expected_edges)


def test_closure_after_cascade_keeps_nodes_reached_another_way(spark, edges):
    decisions = _decisions(spark, [("x", "exclude", True, T1)])
    sources = spark.createDataFrame([("s",), ("c",), ("k",)], "node string")
    got = closure(apply_review(edges, decisions), sources)
    expected = spark.createDataFrame(
        [("s", "y", 1, 0.8), ("s", "b", 2, 0.8), ("k", "h", 1, 1.0)],
        "source string, node string, depth int, confidence double",
    )
    _eq(got, expected)


def test_exclude_without_cascade_cuts_only_the_node(spark, edges):
    decisions = _decisions(spark, [("x", "exclude", False, T1)])
    _eq(
        hidden_nodes(edges, decisions),
        spark.createDataFrame([("x", "excluded", ["x"])], HIDDEN_SCHEMA),
    )
    kept = apply_review(edges, decisions)
    _eq(kept, _edges_without(spark, {("s", "x"), ("x", "a"), ("x", "c"), ("x", "e"), ("x", "g")}))
    # The downstream still answers for itself: c reaches d, but s no longer reaches c.
    sources = spark.createDataFrame([("s",), ("c",)], "node string")
    expected = spark.createDataFrame(
        [("s", "y", 1, 0.8), ("s", "b", 2, 0.8), ("c", "d", 1, 1.0)],
        "source string, node string, depth int, confidence double",
    )
    _eq(closure(kept, sources), expected)


def test_include_protects_a_node_from_a_cascade(spark, edges):
    decisions = _decisions(spark, [("x", "exclude", True, T1), ("e", "include", False, T1)])
    kept = apply_review(edges, decisions)
    expected = spark.createDataFrame(
        [("s", "y", 0.8), ("y", "b", 1.0), ("e", "f", 1.0), ("k", "h", 1.0)], EDGE_SCHEMA
    )
    _eq(kept, expected)


def test_later_include_undoes_an_exclusion(spark, edges):
    decisions = _decisions(spark, [("x", "exclude", True, T1), ("x", "include", False, T2)])
    _eq(hidden_nodes(edges, decisions), spark.createDataFrame([], HIDDEN_SCHEMA))
    _eq(apply_review(edges, decisions), edges)


def test_routes_only_through_excluded_nodes_are_hidden_by_the_cascade(spark, edges):
    decisions = _decisions(spark, [("x", "exclude", True, T1), ("y", "exclude", False, T1)])
    expected_hidden = spark.createDataFrame(
        [
            ("x", "excluded", ["x"]),
            ("y", "excluded", ["y"]),
            ("a", "cascade", ["x"]),
            ("b", "cascade", ["x"]),
            ("c", "cascade", ["x"]),
            ("d", "cascade", ["x"]),
            ("e", "cascade", ["x"]),
            ("f", "cascade", ["x"]),
            ("g", "cascade", ["x"]),
        ],
        HIDDEN_SCHEMA,
    )
    _eq(hidden_nodes(edges, decisions), expected_hidden)
    _eq(apply_review(edges, decisions), spark.createDataFrame([("k", "h", 1.0)], EDGE_SCHEMA))


def test_two_cascades_list_both_excluders(spark):
    edges = spark.createDataFrame(
        [("r", "p", 1.0), ("r", "q", 1.0), ("p", "z", 1.0), ("q", "z", 1.0)], EDGE_SCHEMA
    )
    decisions = _decisions(spark, [("p", "exclude", True, T1), ("q", "exclude", True, T2)])
    expected = spark.createDataFrame(
        [("p", "excluded", ["p"]), ("q", "excluded", ["q"]), ("z", "cascade", ["p", "q"])],
        HIDDEN_SCHEMA,
    )
    _eq(hidden_nodes(edges, decisions), expected)
