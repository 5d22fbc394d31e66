"""Closure benchmark: the project's closure (through Spark) vs networkx and scipy, same run.

Run:  .venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_closure.py
      COMPLIANCE_BENCH_LARGE=1 ... also runs the 10x graph (1M nodes, 1.3M edges).

The graph is lineage-shaped: ten layers (sources, staging, warehouse, marts, dashboards, ...),
most edges go one or two layers down to a nearby node, and a share of edges jump anywhere (joins
of unrelated domains, feedback loops), which creates cycles and a large connected core. Edge
confidences are uniform in [0.5, 1].

What is timed:
* ``project``: ``closure(edges, sources)`` in Spark, from the edges DataFrame to every row written
  to Spark's ``noop`` sink (string node names in and out, depth and best confidence per row), best
  of two warm calls. The first call warms up the JVM and the Python workers and is reported
  separately.
* ``project core``: the same traversal in this process without Spark (one thread, integer ids).
* ``scipy``: ``scipy.sparse.csgraph.breadth_first_order`` per source (reachable sets only) on a
  CSR matrix built beforehand (build time printed apart).
* ``networkx``: ``networkx.descendants`` per source on a DiGraph built beforehand.
* ``Spark row floor``: the same number of closure rows (node names of the same width) emitted by a
  ``mapInArrow`` that searches nothing, best of two: what moving the result from the Python
  workers into Spark rows costs, a lower bound for any closure computed on the executors.
The reachable sets are compared exactly (all sources at 100k; at 1M, reach counts for every
source and exact sets for the networkx sample). Mean reach grows with the graph (its connected core
grows): the 1M graph yields about 33M (source, node) rows from 1000 sources.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from lineage.graph.csr import build_csr, traverse
from lineage.graph.search import closure

nx = pytest.importorskip("networkx")


def lineage_graph(
    n_nodes: int,
    n_edges: int,
    *,
    layers: int = 10,
    spread: float = 0.01,
    jump: float = 0.15,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A layered lineage-like graph as (src ids, dst ids, confidences)."""
    rng = np.random.default_rng(seed)
    per = n_nodes // layers
    src = rng.integers(0, per * (layers - 1), n_edges)
    layer = src // per
    pos = (src % per) / per
    step = np.where(rng.random(n_edges) < 0.85, 1, 2)
    dlayer = np.minimum(layer + step, layers - 1)
    dpos = np.mod(pos + rng.normal(0, spread, n_edges), 1.0)
    dst = dlayer * per + (dpos * per).astype(np.int64)
    jumps = rng.random(n_edges) < jump
    dst[jumps] = rng.integers(0, n_nodes, int(jumps.sum()))
    conf = np.round(rng.uniform(0.5, 1.0, n_edges), 3)
    return src, np.minimum(dst, n_nodes - 1), conf


def _pairs(source_ids: np.ndarray, node_ids: np.ndarray, n: int) -> np.ndarray:
    return np.sort(source_ids.astype(np.int64) * n + node_ids.astype(np.int64))


def _run(spark, n_nodes: int, n_edges: int, n_sources: int, sample: int | None) -> None:
    """Time the three, then compare: per-source reach counts for every source, and the exact
    reachable sets on ``sample`` sources (all of them when None)."""
    src, dst, conf = lineage_graph(n_nodes, n_edges)
    names = np.array([f"wh.t{i:07d}.c" for i in range(n_nodes)], dtype=object)
    rng = np.random.default_rng(1)
    # Sources are drawn among nodes with out-edges (a column nobody reads is not interesting).
    source_ids = rng.choice(np.unique(src), n_sources, replace=False)
    edges = spark.createDataFrame(
        pd.DataFrame({"src": names[src], "dst": names[dst], "confidence": conf})
    )
    sources = spark.createDataFrame(pd.DataFrame({"node": names[source_ids]}))
    edges.cache().count()
    sources.cache().count()

    def project() -> float:
        t0 = time.perf_counter()
        closure(edges, sources).write.format("noop").mode("overwrite").save()
        return time.perf_counter() - t0

    t_cold = project()
    t_project = min(project(), project())

    # The project's core without Spark, in this process, one thread.
    graph = build_csr(names[src], names[dst], conf)
    core_sources = pd.Index(graph.names).get_indexer(names[source_ids])
    t0 = time.perf_counter()
    core_rows = sum(part.node.size for part in traverse(graph, core_sources))
    t_core = time.perf_counter() - t0

    # scipy: BFS per source on an unweighted CSR matrix over the original ids.
    t0 = time.perf_counter()
    matrix = sp.csr_matrix((np.ones(n_edges), (src, dst)), shape=(n_nodes, n_nodes))
    t_scipy_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    scipy_sets = [breadth_first_order(matrix, s, return_predecessors=False) for s in source_ids]
    t_scipy = time.perf_counter() - t0

    # networkx: descendants per source (on a sample when given, extrapolated).
    t0 = time.perf_counter()
    digraph = nx.DiGraph()
    digraph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=False))
    t_nx_build = time.perf_counter() - t0
    sample_ids = source_ids if sample is None else source_ids[:sample]
    t0 = time.perf_counter()
    nx_sets = [nx.descendants(digraph, int(s)) for s in sample_ids]
    t_nx = (time.perf_counter() - t0) * (len(source_ids) / len(sample_ids))

    # Spark's row floor: the same number of (source, node, depth, confidence) rows with node names
    # of the same width, emitted by a mapInArrow that does no search at all (the cost of moving
    # the result from Python workers into Spark rows, which any closure producing it pays).
    t_floor = _spark_row_floor(spark, names, int(core_rows))

    # Reach counts of every source: project vs scipy.
    counts = closure(edges, sources).groupBy("source").count().toPandas()
    got_counts = dict(zip(counts["source"], counts["count"], strict=False))
    scipy_counts = {names[s]: len(r) - 1 for s, r in zip(source_ids, scipy_sets, strict=False)}
    assert {k: v for k, v in scipy_counts.items() if v} == got_counts
    rows = sum(got_counts.values())

    # Exact reachable sets on the sample: project vs scipy vs networkx (sources excluded).
    sample_df = spark.createDataFrame(pd.DataFrame({"source": names[sample_ids]}))
    got = closure(edges, sources).join(sample_df, "source").select("source", "node").toPandas()
    position = pd.Index(names)
    got_pairs = _pairs(
        position.get_indexer(got["source"]), position.get_indexer(got["node"]), n_nodes
    )
    in_sample = np.isin(source_ids, sample_ids)
    scipy_src = np.concatenate(
        [
            np.full(len(r) - 1, i)
            for i, r, k in zip(source_ids, scipy_sets, in_sample, strict=False)
            if k
        ]
    )
    scipy_dst = np.concatenate([r[1:] for r, k in zip(scipy_sets, in_sample, strict=False) if k])
    nx_src = np.concatenate([np.full(len(r), i) for i, r in zip(sample_ids, nx_sets, strict=False)])
    nx_dst = np.concatenate([np.fromiter(r, dtype=np.int64, count=len(r)) for r in nx_sets])
    np.testing.assert_array_equal(got_pairs, _pairs(scipy_src, scipy_dst, n_nodes))
    np.testing.assert_array_equal(got_pairs, _pairs(nx_src, nx_dst, n_nodes))
    assert core_rows == rows

    print(
        f"\nclosure benchmark: {n_nodes:,} nodes, {n_edges:,} edges, {n_sources:,} sources, "
        f"{rows:,} (source, node) rows, mean reach {rows / n_sources:,.0f}"
    )
    print(
        f"  project (Spark, warm)      {t_project:8.2f} s   (cold first call {t_cold:.2f} s, "
        "driver: edges collected + CSR built + source ids, then the search on the executors)"
    )
    print(f"  project core (no Spark)    {t_core:8.2f} s   ({core_rows:,} rows, 1 thread)")
    print(
        f"  Spark row floor            {t_floor:8.2f} s   (same rows emitted by mapInArrow, "
        "no search)"
    )
    print(f"  scipy BFS                  {t_scipy:8.2f} s   (+ {t_scipy_build:.2f} s CSR build)")
    note = "" if sample is None else f", extrapolated from {len(sample_ids)} sources"
    print(f"  networkx descendants       {t_nx:8.2f} s   (+ {t_nx_build:.2f} s build{note})")
    print(f"  project / scipy            {t_project / t_scipy:8.2f} x   (target <= 2)")
    print(f"  networkx / project         {t_nx / t_project:8.2f} x   (target >= 10)")
    print(f"  project core / scipy       {t_core / t_scipy:8.2f} x")
    print(
        f"  Spark row floor / scipy    {t_floor / t_scipy:8.2f} x   (lower bound of project / scipy)"
    )
    print(f"  sets compared exactly on {len(sample_ids)} sources, reach counts on all")


def _spark_row_floor(spark, names: np.ndarray, rows: int) -> float:
    """Seconds for Spark to take ``rows`` closure-shaped rows from a search-free mapInArrow."""
    import pyarrow as pa

    from lineage.graph.search import CLOSURE_SCHEMA

    name_arr = pa.array(names.tolist(), pa.string())
    tasks = spark.sparkContext.defaultParallelism
    step = 262_144

    def emit(batches):
        n = len(name_arr)
        for batch in batches:
            for task in batch.column(0).to_pylist():
                count = rows // tasks + (task < rows % tasks)
                for start in range(0, count, step):
                    idx = np.arange(start, min(count, start + step), dtype=np.int64)
                    k = idx.size
                    yield pa.RecordBatch.from_arrays(
                        [
                            name_arr.take(pa.array((idx // 6_583 + task * 997) % n)),
                            name_arr.take(pa.array((idx * 7_919) % n)),
                            pa.array(np.ones(k, dtype=np.int32)),
                            pa.array(np.full(k, 0.5)),
                        ],
                        names=["source", "node", "depth", "confidence"],
                    )

    plan = spark.range(tasks, numPartitions=tasks).mapInArrow(emit, CLOSURE_SCHEMA)
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        plan.write.format("noop").mode("overwrite").save()
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.bench
def test_bench_closure_100k(spark):
    _run(spark, 100_000, 130_000, 1_000, sample=None)


@pytest.mark.bench
@pytest.mark.skipif(
    os.environ.get("COMPLIANCE_BENCH_LARGE") != "1", reason="set COMPLIANCE_BENCH_LARGE=1"
)
def test_bench_closure_1m(spark):
    _run(spark, 1_000_000, 1_300_000, 1_000, sample=50)
