"""The lineage graph: the transitive closure (``closure``), its CSR search, node names, impact
and the on-demand answers."""

from lineage.graph.search import (
    CLOSURE_PATH_SCHEMA,
    CLOSURE_SCHEMA,
    ClosureOptions,
    clean_edges,
    closure,
    closure_with_paths,
)

__all__ = [
    "CLOSURE_SCHEMA",
    "CLOSURE_PATH_SCHEMA",
    "ClosureOptions",
    "closure",
    "closure_with_paths",
    "clean_edges",
]
