"""Great Expectations suites for the input kinds, and the row routing they drive.

Each input kind gets one GE :class:`ExpectationSuite` (required fields, types, enumerations,
timestamp ranges). Every timestamp must be on or after 2000-01-01; an event time after the run's
window is not a failure but a *hold* (the line waits for the run whose window contains it); other
timestamps must be before 2100-01-01. Great Expectations validates a whole batch and reports
counts; the landing job
also needs to know *which* rows fail and why, so every expectation of a suite is compiled into a
Spark column predicate (:func:`expectation_failed`) and rows failing any of them are routed to
``rejected_inputs`` with the expectation's reason (:func:`failure_reason`). The suite is validated
in the same pass: the landing's one grouping of the batch also counts each expectation's
unexpected rows (:func:`unexpected_counts`), and :func:`suite_result` gives GE's validation result
of those counts, with GE's semantics (a test checks it against GE's own Spark validation of the
same batch). One Spark job per input kind, where GE's validator runs several per kind.
"""

from __future__ import annotations

from datetime import datetime

import great_expectations as gx
import great_expectations.expectations as gxe
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from audits.inputs import InputKind, requires_column

EARLIEST = datetime(2000, 1, 1)
"""No timestamp of any input may be earlier."""
LATEST = datetime(2100, 1, 1)
"""Timestamps that are not the line's event time (``scheduled_for``) may lie after the run's
window (a deletion scheduled for next week) but not after this."""


def build_suite(kind: InputKind, *, cutoff: datetime) -> gx.ExpectationSuite:
    """The expectation suite of ``kind`` for a run whose cutoff time is ``cutoff`` (UTC)."""
    suite = gx.ExpectationSuite(name=f"inputs.{kind.name}")
    add = suite.add_expectation
    add(
        gxe.ExpectColumnValuesToBeNull(
            column="_parse_error", meta={"reason": "malformed JSON line"}
        )
    )
    add(
        gxe.ExpectColumnValuesToBeNull(
            column="_type_error", meta={"reason": "field of the wrong type"}
        )
    )
    for f in kind.fields:
        label = f.path or f.name
        if f.required:
            add(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=f.name, meta={"reason": f"missing required field '{label}'"}
                )
            )
        if f.allowed:
            add(
                gxe.ExpectColumnValuesToBeInSet(
                    column=f.name,
                    value_set=list(f.allowed),
                    meta={"reason": f"field '{label}' not one of {', '.join(f.allowed)}"},
                )
            )
        if f.non_negative:
            add(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f.name, min_value=0, meta={"reason": f"field '{label}' is negative"}
                )
            )
        if f.maximum is not None:
            add(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f.name,
                    max_value=f.maximum,
                    meta={"reason": f"field '{label}' is over {f.maximum}"},
                )
            )
        if f.type == "timestamp":
            add(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f.name,
                    min_value=EARLIEST,
                    meta={"reason": f"field '{label}' is before 2000-01-01"},
                )
            )
            if not f.sane_time:
                add(
                    gxe.ExpectColumnValuesToBeBetween(
                        column=f.name,
                        max_value=LATEST,
                        meta={"reason": f"field '{label}' is after 2100-01-01"},
                    )
                )
        if f.sane_time:
            # an event after the run's window is not wrong, only early: held, not rejected
            add(
                gxe.ExpectColumnValuesToBeBetween(
                    column=f.name,
                    max_value=cutoff,
                    meta={
                        "hold": True,
                        "reason": f"field '{label}' is after the run's window (ends "
                        f"{cutoff:%Y-%m-%d %H:%M} UTC): held for the run whose window "
                        "holds it",
                    },
                )
            )
    for cond, needed in kind.requires:
        add(
            gxe.ExpectColumnValuesToBeNull(
                column=requires_column(cond),
                meta={"reason": f"a line with '{cond}' also needs " + ", ".join(needed)},
            )
        )
    for group in kind.one_of:
        add(
            gxe.ExpectColumnValuesToNotBeNull(
                column="_" + "_or_".join(group),
                meta={"reason": "missing field " + " or ".join(f"'{g}'" for g in group)},
            )
        )
    return suite


def _kwargs(exp: gxe.Expectation) -> dict:
    return exp.configuration.kwargs


def expectation_failed(exp: gxe.Expectation) -> Column:
    """A predicate that is true for the rows ``exp`` counts as unexpected.

    GE ignores nulls in the value-set and range expectations (``mostly`` semantics), so do we.
    """
    kw = _kwargs(exp)
    col = F.col(kw["column"])
    kind = exp.expectation_type
    if kind == "expect_column_values_to_be_null":
        return col.isNotNull()
    if kind == "expect_column_values_to_not_be_null":
        return col.isNull()
    if kind == "expect_column_values_to_be_in_set":
        return col.isNotNull() & ~col.isin(*kw["value_set"])
    if kind == "expect_column_values_to_be_between":
        bad = F.lit(False)
        if kw.get("min_value") is not None:
            bad = bad | (col < F.lit(kw["min_value"]))
        if kw.get("max_value") is not None:
            bad = bad | (col > F.lit(kw["max_value"]))
        return col.isNotNull() & bad
    raise ValueError(f"no row predicate for expectation {kind}")


def failure_reason(suite: gx.ExpectationSuite) -> Column:
    """The reason of the first failing expectation of a row (null when the row passes).

    Hold expectations (``meta.hold``: an event after the run's window) are not failures.
    """
    reasons = []
    for exp in suite.expectations:
        if exp.meta.get("hold"):
            continue
        reason = exp.meta["reason"]
        if exp.expectation_type == "expect_column_values_to_be_null":
            # the flag columns carry their own detailed message
            reasons.append(F.when(expectation_failed(exp), F.col(_kwargs(exp)["column"])))
        else:
            reasons.append(F.when(expectation_failed(exp), F.lit(reason)))
    return F.coalesce(*reasons)


def hold_reason(suite: gx.ExpectationSuite) -> Column:
    """Why a row waits for a later run (the first failing hold expectation), or null."""
    holds = [
        F.when(expectation_failed(e), F.lit(e.meta["reason"]))
        for e in suite.expectations
        if e.meta.get("hold")
    ]
    return F.coalesce(*holds) if holds else F.lit(None).cast("string")


def split_by_suite(parsed: DataFrame, suite: gx.ExpectationSuite) -> DataFrame:
    """``parsed`` with ``_reject_reason`` (null for rows that pass) and ``_held_reason`` (rows
    that pass every rule but whose event time is after the run's window: null otherwise)."""
    out = parsed.withColumn("_reject_reason", failure_reason(suite))
    return out.withColumn(
        "_held_reason", F.when(F.col("_reject_reason").isNull(), hold_reason(suite))
    )


def unexpected_counts(suite: gx.ExpectationSuite) -> list[Column]:
    """Aggregate columns counting, per expectation of ``suite`` in its order, the rows it counts
    as unexpected (``_unexpected_0``, ``_unexpected_1``, ...): added to the landing's own
    grouping of the batch, they validate the suite in the same Spark job that routes the rows."""
    return [
        F.sum(F.when(expectation_failed(exp), 1).otherwise(0)).alias(f"_unexpected_{i}")
        for i, exp in enumerate(suite.expectations)
    ]


def suite_result(
    suite: gx.ExpectationSuite, element_count: int, unexpected: list[int]
) -> gx.core.ExpectationSuiteValidationResult:
    """Great Expectations' validation result of ``suite`` over a batch of ``element_count`` rows
    of which ``unexpected[i]`` failed expectation ``i`` (from :func:`unexpected_counts`).

    GE's own semantics: an expectation succeeds when no row is unexpected (no ``mostly``), the
    suite when every expectation does; nulls are unexpected only to the null checks. A count
    list of another length than the suite's raises ``ValueError`` (``zip(strict=True)``).
    """
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    results = [
        ExpectationValidationResult(
            success=bad == 0,
            expectation_config=exp.configuration,
            result={"element_count": element_count, "unexpected_count": bad},
        )
        for exp, bad in zip(suite.expectations, unexpected, strict=True)
    ]
    passed = sum(r.success for r in results)
    return ExpectationSuiteValidationResult(
        success=passed == len(results),
        results=results,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": len(results),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(results) - passed,
            "success_percent": 100.0 * passed / len(results) if results else None,
        },
    )
