"""The lineage graph: the transitive closure (``closure``), its CSR search, node names, impact
and the on-demand answers."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    "lineage.graph.search",
    (
        "ClosureOptions",
        "closure",
        "closure_with_paths",
        "clean_edges",
    ),
)
