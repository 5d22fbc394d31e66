"""Record a landed batch's Great Expectations results in ``input_expectations``.

The landing step routes rows with the suite's compiled predicates and, in the same Spark job,
counts each expectation's unexpected rows (``audits.expectations.unexpected_counts``); GE's
validation result of those counts (``audits.expectations.suite_result``) is stored here per
expectation, next to the number of rows the landing routed for the same reason, so the report can
show both.
"""

from __future__ import annotations

import json
import logging
import os

from jobs.context import JobContext
from jobs.store.schemas import SCHEMAS

SCHEMA = SCHEMAS["input_expectations"]

#: Expectation arguments that are not the rule's parameters.
_NOT_PARAMETERS = frozenset({"column", "batch_id", "result_format", "catch_exceptions"})

_CONTEXT = None


def ensure_context() -> None:
    """Create GE's ephemeral context once (suites can only be built inside one)."""
    global _CONTEXT
    if _CONTEXT is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        _CONTEXT = gx.get_context(mode="ephemeral")


def result_rows(result) -> list[tuple[str, str, bool, int, int, str]]:
    """(expectation, column, success, element_count, unexpected_count, parameters) per expectation
    of a GE suite validation result.

    ``expectation`` is GE's type, with the bounds a range expectation has (``(min_value)``) and
    `` [hold]`` for the after-the-window rule, so that two range rules of one column stay apart.
    ``parameters`` is the rule's arguments as sorted JSON (value sets, bounds, patterns: the
    configuration, never input values).
    """
    out = []
    for r in result.results:
        cfg = r.expectation_config
        bounds = [b for b in ("min_value", "max_value") if cfg.kwargs.get(b) is not None]
        name = cfg.type + (f"({', '.join(bounds)})" if bounds else "")
        if (cfg.meta or {}).get("hold"):
            name += " [hold]"
        out.append(
            (
                name,
                cfg.kwargs.get("column"),
                bool(r.success),
                int(r.result.get("element_count") or 0),
                int(r.result.get("unexpected_count") or 0),
                parameters(cfg.kwargs),
            )
        )
    return out


def parameters(kwargs: dict) -> str:
    """An expectation's own arguments as sorted, compact JSON (``{}`` when it has none)."""
    own = {k: v for k, v in kwargs.items() if k not in _NOT_PARAMETERS and v is not None}
    return json.dumps(own, sort_keys=True, default=str, separators=(", ", ": "))


def record(ctx: JobContext, kind: str, result) -> None:
    """Upsert the suite validation ``result`` of ``kind``'s batch into ``input_expectations``."""
    rows = [
        (ctx.run_date, kind, name, column or "", *rest)
        for name, column, *rest in result_rows(result)
    ]
    if ctx.store.exists("input_expectations"):  # tables of releases before ``parameters``
        ctx.store.add_columns("input_expectations", {"parameters": "string"})
    ctx.store.upsert_rows(
        "input_expectations", rows, SCHEMA, keys=["run_date", "kind", "expectation", "column"]
    )
