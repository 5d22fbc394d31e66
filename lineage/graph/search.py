"""Transitive closure of the lineage graph: who reaches whom, in how many hops, with what confidence.

The public contract (DESIGN.md section 6)::

    closure(edges, sources, *, max_depth=None, min_confidence=0.0)
    # edges: DataFrame[src string, dst string, confidence double]; sources: DataFrame[node string]
    # -> DataFrame[source string, node string, depth int, confidence double]

Semantics, precisely:

* The confidence of a path is the product of its edge confidences. A path is *admissible* when it
  has at most ``max_depth`` hops (any number when None) and its confidence is at least
  ``min_confidence``. Because confidences are at most 1, every prefix of an admissible path is
  admissible: this is a traversal that stops at ``max_depth`` hops and stops following a path as
  soon as its confidence drops below ``min_confidence``.
* There is one row per (source, node) such that an admissible path leads from the source to the
  node, the source itself excluded (even on a cycle back to it).
* ``depth`` is the fewest hops over admissible paths; ``confidence`` is the best confidence over
  admissible paths. The two can come from different paths: with ``s->a (0.1), a->b (1.0)`` and
  ``s->c (0.9), c->d (0.9), d->b (0.9)``, ``b`` has depth 2 and confidence 0.729. With
  ``min_confidence=0.5`` the 2-hop path is not admissible and ``b`` has depth 3.
  ``max_depth=0`` gives no rows.
* Edges: null ``src``/``dst`` are ignored; a missing ``confidence`` column or a null confidence
  means 1.0; duplicate edges keep the best confidence; an edge of confidence 0 carries no flow;
  self-loops and cycles are allowed. A confidence outside ``[0, 1]`` raises :class:`GraphError`.
* Sources: null and duplicate names are ignored; a source that is not in the graph, or has no
  out-edges, reaches nothing (no rows).
* Confidences are rounded to 12 decimal places so that both engines agree exactly.

Engines. ``closure`` eagerly runs one Spark job that collects the edge columns (at most
``ClosureOptions.broadcast_max_edges`` edges, as Arrow) and builds a compact CSR adjacency on the
driver (node names encoded to ints by Arrow, duplicates reduced), and a second one that collects
the source names (a list of columns: small next to the graph, which is already on the driver)
and looks up their node ids. The adjacency, the node names and the source ids are broadcast to the
executors, which search from their share of the sources inside ``mapInArrow`` over
``spark.range`` (:mod:`lineage.graph.csr`, memory bounded by chunking the sources; no shuffle)
and decode the ids back to names there. The returned DataFrame is lazy: every action re-runs the
search, so cache or write it once.
A graph with more edges falls back to semi-naive iterative joins in Spark
(:mod:`lineage.graph.spark_closure`). Both give identical rows; only the choice among equally good paths
may differ.

Example:
    >>> rows = closure(edges_df, spark.createDataFrame([("crm.customers.email",)], "node string"))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lineage.graph.csr import CsrGraph, build_csr, traverse
from lineage.graph.errors import GraphError  # noqa: F401 - re-exported
from lineage.graph.spark_closure import closure_by_joins

CLOSURE_SCHEMA = "source string, node string, depth int, confidence double"
CLOSURE_PATH_SCHEMA = CLOSURE_SCHEMA + ", path array<string>"


@dataclass(frozen=True)
class ClosureOptions:
    """Tuning knobs of the closure; the defaults suit a laptop and a modest cluster alike.

    Attributes:
        engine: ``"auto"`` broadcasts when the graph has at most ``broadcast_max_edges`` edges and
            joins otherwise; ``"broadcast"`` and ``"joins"`` force one engine (``"broadcast"``
            still falls back when the graph is too large).
        broadcast_max_edges: the most edges (before deduplication) collected and broadcast.
        chunk_cells: memory bound of one search on an executor, in ``sources x nodes`` cells
            (12 bytes each): 4M cells is about 48 MB per task.
        partitions: partitions of the sources (None: the default parallelism).
    """

    engine: Literal["auto", "broadcast", "joins"] = "auto"
    broadcast_max_edges: int = 5_000_000
    chunk_cells: int = 4_000_000
    partitions: int | None = None


def closure(
    edges: DataFrame,
    sources: DataFrame,
    *,
    max_depth: int | None = None,
    min_confidence: float = 0.0,
    options: ClosureOptions | None = None,
) -> DataFrame:
    """Every node reachable from each source, with the shortest depth and best path confidence.

    Args:
        edges: ``[src string, dst string, confidence double]`` (confidence optional).
        sources: ``[node string]``, the nodes to start from.
        max_depth: the most hops of an admissible path (None: unbounded).
        min_confidence: the least confidence of an admissible path, in ``[0, 1]``.
        options: engine and memory knobs (:class:`ClosureOptions`).

    Returns:
        ``DataFrame[source string, node string, depth int, confidence double]``; see the module
        docstring for the exact semantics.

    Raises:
        GraphError: a bad argument or an edge confidence outside ``[0, 1]``.
    """
    return _closure(edges, sources, max_depth, min_confidence, options, with_paths=False)


def closure_with_paths(
    edges: DataFrame,
    sources: DataFrame,
    *,
    max_depth: int | None = None,
    min_confidence: float = 0.0,
    options: ClosureOptions | None = None,
) -> DataFrame:
    """Like :func:`closure`, plus ``path array<string>``: the hops of the best admissible path.

    The path starts with the source and ends with the node; its confidence is the row's
    ``confidence`` and it has at most ``max_depth`` hops (it may be longer than ``depth`` when the
    best-confidence path is not the shortest). Among equally confident paths the choice is
    deterministic but unspecified. This is what the nightly ``lineage_closure`` table stores.
    """
    return _closure(edges, sources, max_depth, min_confidence, options, with_paths=True)


def _closure(
    edges: DataFrame,
    sources: DataFrame,
    max_depth: int | None,
    min_confidence: float,
    options: ClosureOptions | None,
    *,
    with_paths: bool,
) -> DataFrame:
    opts = options or ClosureOptions()
    _check_args(max_depth, min_confidence, opts)
    schema = CLOSURE_PATH_SCHEMA if with_paths else CLOSURE_SCHEMA
    spark = edges.sparkSession
    if max_depth == 0:
        return spark.createDataFrame([], schema)
    if opts.engine != "joins":
        # Raw (not yet deduplicated) edges: build_csr keeps the best duplicate, which saves a
        # shuffle; a graph with more raw edges than the threshold goes to the joins.
        table = _edge_columns(edges).limit(opts.broadcast_max_edges + 1).toArrow()
        if table.num_rows <= opts.broadcast_max_edges:
            graph = _graph_from_arrow(table)
            return _closure_broadcast(
                sources, graph, max_depth, min_confidence, opts, with_paths, schema
            )
    starts = (
        sources.select(F.col("node").cast("string").alias("source"))
        .where(F.col("source").isNotNull())
        .distinct()
    )
    clean = clean_edges(edges)
    _check_confidences_spark(clean)
    clean = clean.where(F.col("confidence") > 0)
    return closure_by_joins(
        clean, starts, max_depth=max_depth, min_confidence=min_confidence, with_paths=with_paths
    )


def _edge_columns(edges: DataFrame) -> DataFrame:
    conf = (
        F.coalesce(F.col("confidence").cast("double"), F.lit(1.0))
        if "confidence" in edges.columns
        else F.lit(1.0)
    )
    return edges.select(
        F.col("src").cast("string").alias("src"),
        F.col("dst").cast("string").alias("dst"),
        conf.alias("confidence"),
    ).where(F.col("src").isNotNull() & F.col("dst").isNotNull())


def clean_edges(edges: DataFrame) -> DataFrame:
    """Edges as ``[src, dst, confidence]``: nulls dropped, null confidence 1.0, best duplicate.

    Args:
        edges: ``[src, dst]`` and optionally ``confidence``.

    Returns:
        One row per distinct ``(src, dst)`` with its best confidence.
    """
    return _edge_columns(edges).groupBy("src", "dst").agg(F.max("confidence").alias("confidence"))


def _check_args(max_depth: int | None, min_confidence: float, opts: ClosureOptions) -> None:
    if max_depth is not None and (not isinstance(max_depth, int) or max_depth < 0):
        raise GraphError(f"max_depth must be None or an integer >= 0, got {max_depth!r}")
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise GraphError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
    if opts.engine not in ("auto", "broadcast", "joins"):
        raise GraphError(f"engine must be auto, broadcast or joins, got {opts.engine!r}")
    if opts.broadcast_max_edges < 0 or opts.chunk_cells < 1:
        raise GraphError("broadcast_max_edges must be >= 0 and chunk_cells >= 1")


def _bad_confidence(src: str, dst: str, value: float) -> GraphError:
    return GraphError(
        f"edge {src} -> {dst} has confidence {value!r}; lineage_edges.confidence must lie in [0, 1]"
    )


def _check_confidences_spark(clean: DataFrame) -> None:
    bad = clean.where((F.col("confidence") < 0) | (F.col("confidence") > 1)).limit(1).collect()
    if bad:
        raise _bad_confidence(bad[0]["src"], bad[0]["dst"], bad[0]["confidence"])


def _graph_from_arrow(table: pa.Table) -> CsrGraph:
    src, dst = table.column("src"), table.column("dst")
    conf = table.column("confidence").to_numpy().astype(np.float64)
    bad = np.flatnonzero((conf < 0) | (conf > 1) | np.isnan(conf))
    if bad.size:
        i = int(bad[0])
        raise _bad_confidence(src[i].as_py(), dst[i].as_py(), float(conf[i]))
    return build_csr(src, dst, conf)


def _source_ids(sources: DataFrame, names: pa.Array) -> np.ndarray:
    """The distinct graph node ids of the sources, looked up on the driver.

    The sources are a list of columns, small next to the graph that is already on the driver, so
    collecting their names is cheaper than shuffling them (no ``distinct``, no ``repartition``).
    """
    starts = sources.select(F.col("node").cast("string").alias("node")).toArrow()
    ids = pc.index_in(starts.column("node"), value_set=names).drop_null().to_numpy()
    return np.unique(ids.astype(np.int64))


def _closure_broadcast(
    sources: DataFrame,
    graph: CsrGraph,
    max_depth: int | None,
    min_confidence: float,
    opts: ClosureOptions,
    with_paths: bool,
    schema: str,
) -> DataFrame:
    spark = sources.sparkSession
    names = pa.array(graph.names.tolist(), type=pa.string())
    ids = _source_ids(sources, names)
    try:
        context = spark.sparkContext
    except NotImplementedError:  # Spark Connect: no SparkContext, ship the graph in the closure.
        context = None
    default_parallelism = context.defaultParallelism if context is not None else 2
    partitions = max(1, min(opts.partitions or default_parallelism, ids.size))
    # Sources in a fixed shuffled order: each task's range of positions is a random share of them,
    # so no task gets all the sources with a large reach.
    ids = ids[np.random.default_rng(0).permutation(ids.size)]
    payload = (graph, names, ids)
    if context is not None:
        shipped = context.broadcast(payload)

        def fetch() -> tuple[CsrGraph, pa.Array, np.ndarray]:
            return shipped.value  # only the broadcast handle is pickled with the function

    else:

        def fetch() -> tuple[CsrGraph, pa.Array, np.ndarray]:
            return payload

    chunk_cells = opts.chunk_cells

    def search(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        csr, node_names, source_ids = fetch()
        for batch in batches:
            for part in traverse(
                csr,
                source_ids[batch.column(0).to_numpy()],
                max_depth=max_depth,
                min_confidence=min_confidence,
                with_paths=with_paths,
                chunk_cells=chunk_cells,
            ):
                if part.node.size == 0:
                    continue
                cols = [
                    node_names.take(pa.array(part.source)),
                    node_names.take(pa.array(part.node)),
                    pa.array(part.depth, type=pa.int32()),
                    pa.array(part.confidence, type=pa.float64()),
                ]
                fields = ["source", "node", "depth", "confidence"]
                if with_paths:
                    hops = node_names.take(pa.array(part.path_nodes))
                    cols.append(pa.ListArray.from_arrays(pa.array(part.path_offsets), hops))
                    fields.append("path")
                yield pa.RecordBatch.from_arrays(cols, names=fields)

    if ids.size == 0:
        return spark.createDataFrame([], schema)
    # One batch per task: ``traverse`` chunks the sources itself.
    positions = spark.range(0, int(ids.size), numPartitions=partitions)
    return positions.mapInArrow(search, schema)
