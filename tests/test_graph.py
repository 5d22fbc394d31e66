"""Closure of the lineage graph: both engines against hand-written expected closures."""

from __future__ import annotations

import random

import pytest
from chispa import assert_df_equality

from lineage.graph.search import ClosureOptions, GraphError, closure, closure_with_paths

BROADCAST = ClosureOptions(engine="broadcast")
JOINS = ClosureOptions(engine="joins")
# "auto" with a tiny threshold: the graph is too big to broadcast, so the joins take over.
TINY = ClosureOptions(engine="auto", broadcast_max_edges=2)
ENGINES = pytest.mark.parametrize(
    "opts", [BROADCAST, JOINS, TINY], ids=["broadcast", "joins", "auto-fallback"]
)

OUT = "source string, node string, depth int, confidence double"
OUT_PATH = OUT + ", path array<string>"

# a -> b -> d and a -> c -> d (a diamond with different confidences), d -> a closes a cycle,
# d -> d is a self-loop, b -> d appears twice (the best, 0.8, counts), e -> f is elsewhere.
DIAMOND = [
    ("a", "b", 0.9),
    ("a", "c", 0.5),
    ("b", "d", 0.8),
    ("b", "d", 0.4),
    ("c", "d", 1.0),
    ("d", "a", 1.0),
    ("d", "d", 1.0),
    ("e", "f", 1.0),
]

# Shortest and most confident paths differ: s-a-b is 2 hops at 0.1, s-c-d-b is 3 hops at 0.729.
SPLIT = [
    ("s", "a", 0.1),
    ("a", "b", 1.0),
    ("s", "c", 0.9),
    ("c", "d", 0.9),
    ("d", "b", 0.9),
]


def _edges(spark, rows):
    return spark.createDataFrame(rows, "src string, dst string, confidence double")


def _sources(spark, *names):
    return spark.createDataFrame([(n,) for n in names], "node string")


def _check(actual, expected):
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@ENGINES
def test_diamond_cycle_self_loop_duplicates(spark, opts):
    got = closure(_edges(spark, DIAMOND), _sources(spark, "a", "f", "x", None, "a"), options=opts)
    expected = spark.createDataFrame(
        [("a", "b", 1, 0.9), ("a", "c", 1, 0.5), ("a", "d", 2, 0.72)], OUT
    )
    _check(got, expected)


@ENGINES
def test_cycle_member_sources_reach_the_rest_of_the_cycle(spark, opts):
    got = closure(_edges(spark, DIAMOND), _sources(spark, "d", "e"), options=opts)
    expected = spark.createDataFrame(
        [
            ("d", "a", 1, 1.0),
            ("d", "b", 2, 0.9),
            ("d", "c", 2, 0.5),
            ("e", "f", 1, 1.0),
        ],
        OUT,
    )
    _check(got, expected)


@ENGINES
def test_depth_and_confidence_may_come_from_different_paths(spark, opts):
    got = closure(_edges(spark, SPLIT), _sources(spark, "s"), options=opts)
    expected = spark.createDataFrame(
        [("s", "a", 1, 0.1), ("s", "b", 2, 0.729), ("s", "c", 1, 0.9), ("s", "d", 2, 0.81)], OUT
    )
    _check(got, expected)


@ENGINES
def test_min_confidence_prunes_paths_and_lengthens_depth(spark, opts):
    got = closure(_edges(spark, SPLIT), _sources(spark, "s"), min_confidence=0.5, options=opts)
    expected = spark.createDataFrame(
        [("s", "b", 3, 0.729), ("s", "c", 1, 0.9), ("s", "d", 2, 0.81)], OUT
    )
    _check(got, expected)


@ENGINES
def test_max_depth_bounds_the_paths_that_count_for_confidence(spark, opts):
    got = closure(_edges(spark, SPLIT), _sources(spark, "s"), max_depth=2, options=opts)
    expected = spark.createDataFrame(
        [("s", "a", 1, 0.1), ("s", "b", 2, 0.1), ("s", "c", 1, 0.9), ("s", "d", 2, 0.81)], OUT
    )
    _check(got, expected)


@ENGINES
def test_max_depth_and_min_confidence_together(spark, opts):
    got = closure(
        _edges(spark, SPLIT), _sources(spark, "s"), max_depth=2, min_confidence=0.5, options=opts
    )
    expected = spark.createDataFrame([("s", "c", 1, 0.9), ("s", "d", 2, 0.81)], OUT)
    _check(got, expected)


@ENGINES
def test_paths_follow_the_best_confidence(spark, opts):
    got = closure_with_paths(_edges(spark, SPLIT), _sources(spark, "s", "c"), options=opts)
    expected = spark.createDataFrame(
        [
            ("s", "a", 1, 0.1, ["s", "a"]),
            ("s", "b", 2, 0.729, ["s", "c", "d", "b"]),
            ("s", "c", 1, 0.9, ["s", "c"]),
            ("s", "d", 2, 0.81, ["s", "c", "d"]),
            ("c", "d", 1, 0.9, ["c", "d"]),
            ("c", "b", 2, 0.81, ["c", "d", "b"]),
        ],
        OUT_PATH,
    )
    _check(got, expected)


@ENGINES
def test_paths_respect_max_depth(spark, opts):
    got = closure_with_paths(_edges(spark, SPLIT), _sources(spark, "s"), max_depth=2, options=opts)
    expected = spark.createDataFrame(
        [
            ("s", "a", 1, 0.1, ["s", "a"]),
            ("s", "b", 2, 0.1, ["s", "a", "b"]),
            ("s", "c", 1, 0.9, ["s", "c"]),
            ("s", "d", 2, 0.81, ["s", "c", "d"]),
        ],
        OUT_PATH,
    )
    _check(got, expected)


@ENGINES
def test_null_and_zero_confidences(spark, opts):
    edges = spark.createDataFrame(
        [("a", "b", None), ("b", "c", 0.0), ("a", "d", 0.5), ("d", "c", 0.5)],
        "src string, dst string, confidence double",
    )
    got = closure(edges, _sources(spark, "a"), options=opts)
    # A null confidence counts as 1.0; a zero-confidence edge carries no flow.
    expected = spark.createDataFrame(
        [("a", "b", 1, 1.0), ("a", "d", 1, 0.5), ("a", "c", 2, 0.25)], OUT
    )
    _check(got, expected)


def test_graph_without_confidence_column(spark):
    edges = spark.createDataFrame([("a", "b"), ("b", "c")], "src string, dst string")
    got = closure(edges, _sources(spark, "a"))
    expected = spark.createDataFrame([("a", "b", 1, 1.0), ("a", "c", 2, 1.0)], OUT)
    _check(got, expected)


def test_max_depth_zero_gives_no_rows(spark):
    got = closure(_edges(spark, SPLIT), _sources(spark, "s"), max_depth=0)
    _check(got, spark.createDataFrame([], OUT))


@pytest.mark.parametrize("opts", [BROADCAST, JOINS], ids=["broadcast", "joins"])
def test_confidence_out_of_range_is_rejected(spark, opts):
    with pytest.raises(GraphError, match="a -> b has confidence 1.5"):
        closure(_edges(spark, [("a", "b", 1.5)]), _sources(spark, "a"), options=opts).collect()


@pytest.mark.parametrize("kwargs", [{"max_depth": -1}, {"min_confidence": 1.2}, {"max_depth": 1.5}])
def test_bad_arguments_are_rejected(spark, kwargs):
    with pytest.raises(GraphError):
        closure(_edges(spark, SPLIT), _sources(spark, "s"), **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"max_depth": 3}, {"min_confidence": 0.2}])
def test_both_engines_agree_on_a_random_graph(spark, kwargs):
    rnd = random.Random(7)
    nodes = [f"db.t{i}.c" for i in range(40)]
    rows = [
        (rnd.choice(nodes), rnd.choice(nodes), round(rnd.uniform(0.3, 1.0), 6)) for _ in range(70)
    ]
    edges = _edges(spark, rows)
    sources = _sources(spark, *nodes[:12])
    fast = closure_with_paths(edges, sources, options=BROADCAST, **kwargs)
    # Small chunks: several chunks per partition must give the same rows as one.
    chunked = closure_with_paths(
        edges, sources, options=ClosureOptions(engine="broadcast", chunk_cells=50), **kwargs
    )
    slow = closure_with_paths(edges, sources, options=JOINS, **kwargs)
    assert fast.count() > 20
    _check(fast, slow)
    _check(chunked, slow)


@pytest.mark.parametrize("opts", [BROADCAST, JOINS], ids=["broadcast", "joins"])
def test_empty_graph_and_empty_sources(spark, opts):
    empty = spark.createDataFrame([], OUT)
    got = closure(_edges(spark, []), _sources(spark, "a"), options=opts)
    _check(got, empty)
    no_sources = spark.createDataFrame([], "node string")
    _check(closure(_edges(spark, SPLIT), no_sources, options=opts), empty)
