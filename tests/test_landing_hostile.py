"""Hostile input lines and files: each one a rejection naming file, line and problem, none lost.

The pure rules (audits/inputs.py + audits/expectations.py) are checked line by line against
explicit expected reasons; the file-level cases (a bare CR, invalid UTF-8, files that are not
read) go through ``compliance land`` on a tiny home.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality

from audits.expectations import build_suite, split_by_suite
from audits.inputs import DELETION_EVENTS, MAX_LINE_CHARS, OPENLINEAGE, QUERY_LOGS, parse_lines
from jobs.steps import land_expectations as ge_validation

RAW = "source string, line bigint, value string"
REASONS = "line bigint, _reject_reason string"
CUTOFF = datetime(2026, 11, 22)
TS = "2026-11-20T01:00:00Z"


@pytest.fixture(scope="module", autouse=True)
def _ge_context():
    ge_validation.ensure_context()


def reasons(spark, kind, lines):
    raw = spark.createDataFrame([("in.jsonl", i + 1, v) for i, v in enumerate(lines)], RAW)
    return split_by_suite(parse_lines(raw, kind), build_suite(kind, cutoff=CUTOFF)).select(
        "line", "_reject_reason"
    )


def q(**fields) -> str:
    return json.dumps({"query_id": "q1", "started_at": TS, "sql": "SELECT 1", **fields})


def test_query_log_lines_that_used_to_be_coerced_or_half_read(spark):
    big = q(sql="SELECT '" + "x" * (MAX_LINE_CHARS + 10) + "'")
    lines = [
        q(),  # 1 fine
        q() + q(query_id="q2"),  # 2 two objects glued together
        q() + "," + q(query_id="q2"),  # 3 two objects, comma separated
        q() + " trailing words",  # 4 garbage after the object
        q(sql={"text": "SELECT 1"}),  # 5 sql is an object
        q(query_id=42),  # 6 query_id is a number
        q(engine=["trino"]),  # 7 engine is a list
        big,  # 8 a huge SQL string in valid JSON
        q(started_at="1900-01-01T00:00:00Z"),  # 9 long ago
        q(sql="SELECT 1;").replace(";", "\r"),  # 10 a bare CR inside the record
        q(engine=None, query_id="q11"),  # 11 null is fine for an optional field
    ]
    expected = spark.createDataFrame(
        [
            (1, None),
            (2, "malformed JSON: more than one JSON object on the line"),
            (3, "malformed JSON: more than one JSON object on the line"),
            (4, "malformed JSON: text after the end of the JSON object"),
            (5, "field 'sql' is an object, expected a string"),
            (6, "field 'query_id' is a number, expected a string"),
            (7, "field 'engine' is a list, expected a string"),
            (8, f"line too large: {len(big)} characters (at most {MAX_LINE_CHARS} are read)"),
            (9, "field 'started_at' is before 2000-01-01"),
            (
                10,
                "a bare carriage return (CR) inside the line: a record split or joined by mistake?",
            ),
            (11, None),
        ],
        REASONS,
    )
    assert_df_equality(
        reasons(spark, QUERY_LOGS, lines), expected, ignore_row_order=True, ignore_nullable=True
    )


def ol(**fields) -> str:
    base = {
        "eventType": "COMPLETE",
        "eventTime": TS,
        "run": {"runId": "r1"},
        "job": {"namespace": "n", "name": "j"},
        "inputs": [{"namespace": "n", "name": "a"}],
        "outputs": [{"namespace": "n", "name": "b"}],
    }
    return json.dumps({**base, **fields})


def out(column_lineage) -> list:
    return [{"namespace": "n", "name": "b", "facets": {"columnLineage": column_lineage}}]


def test_openlineage_events_whose_lineage_would_be_lost_without_a_word(spark):
    good_facet = {"fields": {"c": {"inputFields": [{"namespace": "n", "name": "a", "field": "c"}]}}}
    shape = (
        "field 'outputs' has a columnLineage facet of the wrong shape (expected "
        "fields.<column>.inputFields as a list): its column lineage would be lost"
    )
    lines = [
        ol(),  # 1 fine
        ol(outputs=out(good_facet)),  # 2 fine, with a facet
        ol(inputs="n.a"),  # 3 inputs as a string
        ol(outputs={"namespace": "n", "name": "b"}),  # 4 outputs as an object
        ol(outputs=out({"fields": {"c": {"inputFields": "n.a.c"}}})),  # 5 inputFields a string
        ol(outputs=out([good_facet])),  # 6 the facet is a list
        ol(outputs=out({"fields": ["c"]})),  # 7 fields is a list
        ol(outputs=out({"fields": {"c": "n.a.c"}})),  # 8 a field is a string
        ol(outputs=out({"dataset": {"name": "a"}})),  # 9 dataset is an object
        ol(outputs=out(None)),  # 10 a null facet is absent
    ]
    expected = spark.createDataFrame(
        [
            (1, None),
            (2, None),
            (3, "field 'inputs' is a string, expected a list"),
            (4, "field 'outputs' is an object, expected a list"),
            (5, shape),
            (6, shape),
            (7, shape),
            (8, shape),
            (9, shape),
            (10, None),
        ],
        REASONS,
    )
    assert_df_equality(
        reasons(spark, OPENLINEAGE, lines), expected, ignore_row_order=True, ignore_nullable=True
    )


def ev(**fields) -> str:
    return json.dumps({"deletion_id": "d1", "event": "scheduled", "ts": TS, **fields})


def test_every_timestamp_field_is_range_checked_and_late_events_are_held(spark):
    lines = [
        ev(scheduled_for="2026-12-01T00:00:00Z"),  # 1 scheduled after the window: fine
        ev(scheduled_for="0001-01-01T00:00:00Z"),  # 2 year 1
        ev(scheduled_for="9999-12-31T00:00:00Z"),  # 3 year 9999
        ev(ts="1900-01-01T00:00:00Z"),  # 4 the event time, long ago
        ev(ts="2026-11-25T00:00:00Z"),  # 5 the event time after the window: held
    ]
    raw = spark.createDataFrame([("in.jsonl", i + 1, v) for i, v in enumerate(lines)], RAW)
    suite = build_suite(DELETION_EVENTS, cutoff=CUTOFF)
    split = split_by_suite(parse_lines(raw, DELETION_EVENTS), suite)
    held = (
        "field 'ts' is after the run's window (ends 2026-11-22 00:00 UTC): held for the run "
        "whose window holds it"
    )
    expected = spark.createDataFrame(
        [
            (1, None, None),
            (2, "field 'scheduled_for' is before 2000-01-01", None),
            (3, "field 'scheduled_for' is after 2100-01-01", None),
            (4, "field 'ts' is before 2000-01-01", None),
            (5, None, held),
        ],
        "line bigint, _reject_reason string, _held_reason string",
    )
    assert_df_equality(
        split.select("line", "_reject_reason", "_held_reason"),
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
    )


# -- files ----------------------------------------------------------------------------------------


def test_bare_cr_invalid_utf8_and_unread_files_are_each_recorded(spark, tmp_path):
    from deltalake import DeltaTable

    from jobs.cli import main
    from jobs.store.tables import TableStore

    folder = tmp_path / "inputs" / "query_logs"
    folder.mkdir(parents=True)
    good = [q(query_id=f"q{i}").encode() for i in (1, 3, 5)]
    cr = q(query_id="q2", sql="SELECT 2;").replace(";", "\r").encode()  # a raw CR byte
    bad_utf8 = q(query_id="q4").encode().replace(b"SELECT 1", b"SELECT \xff\xfe 1")
    lines = [good[0], cr, good[1], bad_utf8, good[2]]
    (folder / "a.jsonl").write_bytes(b"\n".join(lines) + b"\r\n")
    for name in ("_hidden.jsonl", ".dot.jsonl", "x.json", "y.jsonl.bz2"):
        (folder / name).write_bytes(good[0] + b"\n")
    (tmp_path / "inputs" / "catalog.yaml").write_text("", encoding="utf-8")
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")
    assert main(["land", "--conf", str(conf), "--run-date", "2026-11-21", "--quiet"]) == 0

    store = TableStore(spark, str(tmp_path / "warehouse"), engine="delta-rs")
    landed = sorted(
        (Path(r.source_file).name, r.query_id, r.line)
        for r in store.read("landed_query_logs").collect()
    )
    # the CR did not shift the line numbers; a query-log file is read whatever its name ends
    # with when its content is a known format (x.json holds the product's own lines)
    assert landed == [("a.jsonl", "q1", 1), ("a.jsonl", "q3", 3), ("a.jsonl", "q5", 5)] + [
        ("x.json", "q1", 1)
    ]
    got = {
        (Path(r.source).name, r.location): r.reason for r in store.read("rejected_inputs").collect()
    }
    hidden = (
        "file not read: its name or folder starts with '_' or '.' (hidden, as Hadoop tools "
        "treat it); rename it to land it"
    )
    unreadable = got.pop(("y.jsonl.bz2", "file"))  # named bzip2 but not compressed
    assert unreadable.startswith("file not read: no text could be read from its ")
    assert got == {
        (
            "a.jsonl",
            "line 2",
        ): "a bare carriage return (CR) inside the line: a record split or joined by mistake?",
        ("a.jsonl", "line 4"): "invalid UTF-8 bytes in the line",
        ("_hidden.jsonl", "file"): hidden,
        (".dot.jsonl", "file"): hidden,
    }
    # the kept raw text is valid UTF-8: delta-rs (arrow) reads the table
    table = DeltaTable(str(tmp_path / "warehouse" / "rejected_inputs")).to_pyarrow_table()
    raws = table.column("raw")
    assert any("SELECT \ufffd" in (r or "") for r in raws.to_pylist())
    # a second run records nothing again
    version = store.version("rejected_inputs")
    assert main(["land", "--conf", str(conf), "--run-date", "2026-11-21", "--quiet"]) == 0
    assert store.version("rejected_inputs") == version
