"""Run a Great Expectations suite over a landed batch and record its results.

The landing step routes rows with the suite's compiled predicates; this module lets GE itself
validate the same batch and stores GE's counts per expectation in ``input_expectations``, next to
the number of rows the landing routed for the same reason, so the report can show both.
"""

from __future__ import annotations

import json
import logging
import os

from pyspark.sql import DataFrame

from jobs.context import JobContext
from jobs.store.schemas import SCHEMAS

SCHEMA = SCHEMAS["input_expectations"]

#: Expectation arguments that are not the rule's parameters.
_NOT_PARAMETERS = frozenset({"column", "batch_id", "result_format", "catch_exceptions"})

_CONTEXT = None

#: GE's result format: element and unexpected counts, no unexpected values.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


def ensure_context():
    """Create GE's ephemeral context once (suites can only be built inside one)."""
    _context()


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        from pyspark.sql import SparkSession

        if SparkSession.getActiveSession() is None:
            # GE's Spark source would start a session of its own, without the job's settings
            raise RuntimeError("the Great Expectations context needs the job's Spark session first")
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = ctx.data_sources.add_spark("landing")
        _CONTEXT = source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("whole")
    return _CONTEXT


def validate(df: DataFrame, suite) -> list[tuple[str, str, bool, int, int, str]]:
    """(expectation, column, success, element_count, unexpected_count, parameters) per expectation.

    ``expectation`` is GE's type, with the bounds a range expectation has (``(min_value)``) and
    `` [hold]`` for the after-the-window rule, so that two range rules of one column stay apart.
    ``parameters`` is the rule's arguments as sorted JSON (value sets, bounds, patterns: the
    configuration, never input values).
    """
    batch = _context().get_batch(batch_parameters={"dataframe": df})
    # counts only: GE's default also collects up to 20 unexpected values per expectation to the
    # driver, one Spark job each (raw input values the landing must not hold; the rejected rows
    # are in rejected_inputs already). With none asked for, Spark plans LIMIT 0 as empty.
    result = batch.validate(suite, result_format=RESULT_FORMAT)
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


def record(ctx: JobContext, kind: str, batch: DataFrame, suite) -> None:
    """Validate ``batch`` with ``suite`` and upsert the results into ``input_expectations``."""
    rows = [
        (ctx.run_date, kind, name, column or "", *rest)
        for name, column, *rest in validate(batch, suite)
    ]
    if ctx.store.exists("input_expectations"):  # tables of releases before ``parameters``
        ctx.store.add_columns("input_expectations", {"parameters": "string"})
    ctx.store.upsert_rows(
        "input_expectations", rows, SCHEMA, keys=["run_date", "kind", "expectation", "column"]
    )
