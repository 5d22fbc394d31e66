"""Column names of the ``lineage_closure`` table that the closure, the policy and the on-demand
answers share (no Spark import: the answers read them without a session)."""

#: One reached flow of a ``lineage_closure`` row: its ends, depth, confidence and node path.
CLOSURE_FLOW_COLUMNS: tuple[str, ...] = (
    "source_asset",
    "source_column",
    "target_asset",
    "target_column",
    "depth",
    "confidence",
    "path",
)
