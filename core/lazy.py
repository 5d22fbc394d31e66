"""Public names a package re-exports from one of its modules, imported on first use (PEP 562).

A package such as ``lineage.graph`` keeps its public path (``lineage.graph.closure``) while its
light modules (``lineage.graph.answers``, ``lineage.graph.errors``) stay importable without
loading Spark: the module holding the names is imported only when one of them is used.

Example:
    >>> __getattr__, __all__ = lazy_exports("lineage.graph", "lineage.graph.search", ("closure",))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import import_module


def lazy_exports(
    package: str, module: str, names: Sequence[str]
) -> tuple[Callable[[str], object], list[str]]:
    """A module ``__getattr__`` serving ``names`` from ``module``, and the package's ``__all__``."""
    public = list(names)

    def __getattr__(name: str) -> object:
        if name in public:
            return getattr(import_module(module), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, public
