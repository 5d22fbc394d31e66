"""Configuration, validated once before the first step: the run settings (``settings``), the
catalog and policies, the query-log sources and the input preflight."""

from core.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    "jobs.config.settings",
    (
        "Config",
        "load_config",
    ),
)
