"""The compiled traversal behind :func:`lineage.graph.search.closure`: a CSR graph and a layered search.

Everything here is plain numpy (no Spark, no I/O) so that it runs inside ``mapInArrow`` on the
executors, where the :class:`CsrGraph` arrives as a broadcast variable.

The search is a *layered Bellman-Ford* on the max-product semiring, vectorised over a chunk of
sources at once. Round ``k`` relaxes only the out-edges of the (source, node) pairs whose best
confidence improved in round ``k - 1``, and all updates of a round are applied together, so after
round ``k`` the state holds exactly ``best_k(s, v)``, the best confidence over paths of at most
``k`` hops whose confidence is at least ``min_confidence``. From that:

* a node is reached when some path of at most ``max_depth`` hops has confidence
  ``>= min_confidence`` (an *admissible* path);
* ``depth`` is the first round at which the node is reached: the fewest hops over admissible paths;
* ``confidence`` is the best confidence over admissible paths;
* the ``path`` is one admissible path achieving that confidence (ties: the one found first).

Memory per chunk is ``chunk x nodes`` cells (a float64 and an int32 each), which the caller bounds
with ``chunk_cells``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Decimal places kept in the returned confidences, so that equal paths compare equal whichever
#: engine (this one or the Spark joins) computed them.
CONFIDENCE_DECIMALS = 12


@dataclass(frozen=True)
class CsrGraph:
    """A directed graph in compressed sparse row form, nodes numbered by sorted name.

    Attributes:
        names: node names, ``names[i]`` is node ``i`` (sorted, unique; object array of str).
        indptr: ``int64[n + 1]``; the out-edges of node ``i`` are ``indptr[i]:indptr[i + 1]``.
        indices: ``int32[m]``, the target node of each edge.
        weights: ``float64[m]``, the confidence of each edge (in ``(0, 1]``).
    """

    names: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.names.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of (deduplicated) edges."""
        return int(self.indices.shape[0])


@dataclass(frozen=True)
class Reached:
    """The rows one chunk of sources produced (parallel arrays, one entry per row).

    Attributes:
        source: node id of the source.
        node: node id of the reached node.
        depth: fewest hops over admissible paths.
        confidence: best confidence over admissible paths (rounded).
        path_offsets: ``int32[rows + 1]`` offsets into ``path_nodes`` (None unless asked for).
        path_nodes: node ids of the hops, source first and the node last (None unless asked for).
    """

    source: np.ndarray
    node: np.ndarray
    depth: np.ndarray
    confidence: np.ndarray
    path_offsets: np.ndarray | None = None
    path_nodes: np.ndarray | None = None


def build_csr(src: Any, dst: Any, confidence: Any) -> CsrGraph:
    """Build a :class:`CsrGraph` from edge arrays, keeping the best confidence of duplicates.

    Edges with a confidence of 0 or less carry no flow and are dropped (their nodes stay).
    Node names are encoded by Arrow's hash kernel and numbered in sorted order.

    Args:
        src: source node names (Arrow string array or a sequence/array of str).
        dst: target node names (same).
        confidence: edge confidences, already checked to lie in ``[0, 1]``.

    Returns:
        The graph, nodes numbered in sorted name order.
    """
    src_arr, dst_arr = _strings(src), _strings(dst)
    conf = np.asarray(
        confidence.to_numpy(zero_copy_only=False)
        if isinstance(confidence, pa.Array)
        else confidence,
        dtype=np.float64,
    )
    encoded = pa.concat_arrays([src_arr, dst_arr]).dictionary_encode()
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    codes = rank[encoded.indices.to_numpy()]
    names = encoded.dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)
    n = len(names)
    s = codes[: len(src_arr)]
    d = codes[len(src_arr) :]
    keep = conf > 0.0
    # One int64 key per (src, dst), sorted; duplicates keep their best confidence.
    key = s[keep] * max(n, 1) + d[keep]
    conf = conf[keep]
    order = np.argsort(key, kind="stable")
    key, conf = key[order], conf[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    conf = np.maximum.reduceat(conf, starts) if starts.size else conf
    key = key[starts]
    s, d = key // max(n, 1), key % max(n, 1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(s, minlength=n), out=indptr[1:])
    return CsrGraph(
        names=np.asarray(names, dtype=object),
        indptr=indptr,
        indices=d.astype(np.int32),
        weights=conf,
    )


def _strings(values: Any) -> pa.Array:
    """``values`` as a (non-large) Arrow string array without nulls."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    arr = values if isinstance(values, pa.Array) else pa.array(np.asarray(values, dtype=object))
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    if arr.null_count:
        raise ValueError("node names must not be null")
    return arr


def chunk_size(n_nodes: int, chunk_cells: int) -> int:
    """How many sources to search together so that ``chunk x n_nodes <= chunk_cells``."""
    return max(1, min(1024, chunk_cells // max(1, n_nodes)))


def traverse(
    graph: CsrGraph,
    sources: np.ndarray,
    *,
    max_depth: int | None = None,
    min_confidence: float = 0.0,
    with_paths: bool = False,
    chunk_cells: int = 4_000_000,
) -> Iterator[Reached]:
    """Search from every source, one chunk of sources at a time.

    Args:
        graph: the graph.
        sources: distinct node ids to search from.
        max_depth: the most hops of an admissible path (None: unbounded).
        min_confidence: the least confidence of an admissible path.
        with_paths: also return the best path of every row.
        chunk_cells: memory bound, in ``sources x nodes`` cells (16 bytes each), of one chunk.

    Yields:
        One :class:`Reached` per chunk of sources (rows in no particular order).
    """
    sources = np.asarray(sources, dtype=np.int64)
    step = chunk_size(graph.n_nodes, chunk_cells)
    cells = min(step, max(1, len(sources))) * graph.n_nodes
    # Dense state, allocated once and reset entry by entry (work stays proportional to reach).
    state = _State(
        best=np.zeros(cells, dtype=np.float64),
        depth=np.full(cells, -1, dtype=np.int32),
        slot=np.zeros(cells, dtype=np.int64),
    )
    for start in range(0, len(sources), step):
        yield _search_chunk(
            graph, sources[start : start + step], state, max_depth, min_confidence, with_paths
        )


@dataclass(frozen=True)
class _State:
    best: np.ndarray
    depth: np.ndarray
    slot: np.ndarray


def _last_of_each(keys: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each distinct key (no sort: a scatter and a gather)."""
    pos = np.arange(keys.size)
    slot[keys] = pos
    return pos[slot[keys] == pos]


def _search_chunk(
    graph: CsrGraph,
    sources: np.ndarray,
    state: _State,
    max_depth: int | None,
    min_confidence: float,
    with_paths: bool,
) -> Reached:
    n_nodes = graph.n_nodes
    best, depth = state.best, state.depth
    start_keys = np.arange(len(sources), dtype=np.int64) * n_nodes + sources
    best[start_keys] = 1.0
    depth[start_keys] = 0
    records: list[tuple[np.ndarray, int, np.ndarray]] = []
    reached_parts: list[np.ndarray] = []
    frontier = start_keys
    rounds = 0
    while frontier.size and (max_depth is None or rounds < max_depth):
        row = frontier // n_nodes
        node = frontier - row * n_nodes
        first = graph.indptr[node]
        count = graph.indptr[node + 1] - first
        total = int(count.sum())
        if total == 0:
            break
        rounds += 1
        edge = np.arange(total) + np.repeat(first - (np.cumsum(count) - count), count)
        cand = np.repeat(best[frontier], count) * graph.weights[edge]
        key = np.repeat(frontier - node, count) + graph.indices[edge]
        mask = cand > best[key]
        if min_confidence > 0.0:
            mask &= cand >= min_confidence
        better = np.flatnonzero(mask)
        if not better.size:
            break
        key, cand = key[better], cand[better]
        np.maximum.at(best, key, cand)
        won = np.flatnonzero(cand == best[key])
        pick = won[_last_of_each(key[won], state.slot)]
        improved = key[pick]
        fresh = improved[depth[improved] < 0]
        depth[fresh] = rounds
        reached_parts.append(fresh)
        if with_paths:
            pred = np.repeat(node, count)[better[pick]]
            records.append((improved, rounds, pred))
        frontier = improved
    reached = np.concatenate(reached_parts) if reached_parts else np.zeros(0, dtype=np.int64)
    row = reached // n_nodes
    result = Reached(
        source=sources[row],
        node=reached - row * n_nodes,
        depth=depth[reached].copy(),
        confidence=np.round(best[reached], CONFIDENCE_DECIMALS),
    )
    best[reached] = 0.0
    depth[reached] = -1
    best[start_keys] = 0.0
    depth[start_keys] = -1
    if not with_paths:
        return result
    offsets, hops = _paths(records, reached, row, sources, n_nodes, rounds)
    return Reached(result.source, result.node, result.depth, result.confidence, offsets, hops)


def _paths(
    records: list[tuple[np.ndarray, int, np.ndarray]],
    reached: np.ndarray,
    row: np.ndarray,
    sources: np.ndarray,
    n_nodes: int,
    rounds: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Walk the per-round predecessor records back from every reached (source, node) pair.

    A record ``(key, k, pred)`` says that the state of ``key`` changed in round ``k`` and came from
    ``pred``'s state at the end of round ``k - 1``; following the latest record of each hop that is
    not newer than the round its successor was set in gives a path with exactly the recorded
    confidence and at most ``rounds`` hops.
    """
    if not records:
        return np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int64)
    span = rounds + 2
    rec_key = np.concatenate([r[0] for r in records])
    rec_round = np.concatenate([np.full(r[0].size, r[1], dtype=np.int64) for r in records])
    rec_pred = np.concatenate([r[2] for r in records])
    order = np.argsort(rec_key * span + rec_round, kind="stable")
    composite = (rec_key * span + rec_round)[order]
    rec_round, rec_pred = rec_round[order], rec_pred[order]
    source_node = sources[row]
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    active = np.arange(reached.size)
    cur_key = reached.copy()
    cur_round = np.full(reached.size, rounds + 1, dtype=np.int64)
    while active.size:
        at = np.searchsorted(composite, cur_key * span + cur_round, side="right") - 1
        pred = rec_pred[at]
        steps.append((active, pred))
        go_on = pred != source_node[active]
        active = active[go_on]
        cur_key = row[active] * n_nodes + pred[go_on]
        cur_round = rec_round[at][go_on] - 1
    length = np.ones(reached.size, dtype=np.int64)
    for idx, _ in steps:
        length[idx] += 1
    offsets = np.zeros(reached.size + 1, dtype=np.int64)
    np.cumsum(length, out=offsets[1:])
    hops = np.empty(int(offsets[-1]), dtype=np.int64)
    hops[offsets[1:] - 1] = reached - row * n_nodes
    for back, (idx, pred) in enumerate(steps, start=2):
        hops[offsets[idx + 1] - back] = pred
    return offsets.astype(np.int32), hops
