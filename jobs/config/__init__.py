"""Configuration, validated once before the first step: the run settings (``settings``), the
catalog and policies, the query-log sources and the input preflight."""

from jobs.config.settings import (
    Config,
    load_config,
)

__all__ = [
    "Config",
    "load_config",
]
