"""The landing's one-pass validation of a Great Expectations suite, against GE's own validation.

The landing counts each expectation's unexpected rows in the same Spark job that routes the rows
(``unexpected_counts``) and turns the counts into GE's result (``suite_result``). Here the same
batch goes through GE's own Spark validator too (its ephemeral context, a dataframe asset): the
stored rows must be the same, and equal to counts worked out by hand for the lines below.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from audits.expectations import build_suite, suite_result, unexpected_counts
from audits.inputs import DELETION_EVENTS, parse_lines
from jobs.steps import land_expectations as ge_validation

RAW = "source string, line bigint, value string"
CUTOFF = datetime(2026, 11, 22)


def ev(**fields) -> str:
    base = {"deletion_id": "d1", "event": "completed", "ts": "2026-11-20T01:00:00Z"}
    return json.dumps({k: v for k, v in {**base, **fields}.items() if v is not ...})


LINES = [
    ev(points_deleted=5),  # 1 fine
    '{"deletion_id": "d2", "event": ',  # 2 malformed: every field is null too
    ev(deletion_id=...),  # 3 no deletion_id
    ev(event="erased"),  # 4 not an allowed event
    ev(event=...),  # 5 no event (the value-set rule ignores nulls, as GE does)
    ev(ts="1990-01-01T00:00:00Z"),  # 6 before 2000
    ev(ts="2026-11-25T00:00:00Z"),  # 7 after the run's window: the hold rule
    ev(points_deleted=-3),  # 8 negative
    ev(points_deleted="many"),  # 9 the wrong type
    ev(scheduled_for="2200-01-01T00:00:00Z"),  # 10 after 2100
    ev(ts=...),  # 11 no ts
]

#: (expectation, column) -> unexpected lines of LINES, worked out from the comments above.
BY_HAND = {
    ("expect_column_values_to_be_null", "_parse_error"): 1,
    ("expect_column_values_to_be_null", "_type_error"): 1,
    ("expect_column_values_to_not_be_null", "deletion_id"): 2,
    ("expect_column_values_to_not_be_null", "event"): 2,
    ("expect_column_values_to_be_in_set", "event"): 1,
    ("expect_column_values_to_not_be_null", "ts"): 2,
    ("expect_column_values_to_be_between(min_value)", "ts"): 1,
    ("expect_column_values_to_be_between(max_value) [hold]", "ts"): 1,
    ("expect_column_values_to_be_between(min_value)", "scheduled_for"): 0,
    ("expect_column_values_to_be_between(max_value)", "scheduled_for"): 1,
    ("expect_column_values_to_be_between(min_value)", "points_deleted"): 1,
}


@pytest.fixture(scope="module")
def batch(spark):
    ge_validation.ensure_context()
    raw = spark.createDataFrame([("in.jsonl", i + 1, v) for i, v in enumerate(LINES)], RAW)
    return parse_lines(raw, DELETION_EVENTS).localCheckpoint()


def one_pass(batch, suite):
    row = batch.agg(*unexpected_counts(suite)).collect()[0]
    n = batch.count()
    return suite_result(suite, n, [row[f"_unexpected_{i}"] for i in range(len(suite.expectations))])


def ge_own(batch, suite):
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    source = ctx.data_sources.add_spark("oracle")
    definition = source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("all")
    found = definition.get_batch(batch_parameters={"dataframe": batch})
    return found.validate(suite, result_format={"result_format": "BASIC"})


def test_one_pass_counts_are_the_hand_counts_and_ge_own_validation(batch):
    suite = build_suite(DELETION_EVENTS, cutoff=CUTOFF)
    ours = ge_validation.result_rows(one_pass(batch, suite))
    by_hand = {(name, column): bad for name, column, _ok, _n, bad, _p in ours}
    assert by_hand == BY_HAND
    assert {n for *_x, n, _b, _p in ours} == {len(LINES)}
    assert [ok for _n, _c, ok, *_r in ours] == [BY_HAND[(n, c)] == 0 for n, c, *_r in ours]
    assert ours == ge_validation.result_rows(ge_own(batch, suite))


def test_the_suite_result_is_gx_s_with_its_statistics(batch):
    suite = build_suite(DELETION_EVENTS, cutoff=CUTOFF)
    result = one_pass(batch.filter("line = 1"), suite)
    assert result.success and result.statistics["unsuccessful_expectations"] == 0
    result = one_pass(batch, suite)
    failing = sum(1 for bad in BY_HAND.values() if bad)
    assert not result.success
    assert result.statistics["unsuccessful_expectations"] == failing
    assert result.statistics["evaluated_expectations"] == len(BY_HAND)
    with pytest.raises(ValueError):
        suite_result(suite, 3, [0])
