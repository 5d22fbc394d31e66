"""Tests of input landing: the pure parse/validation transforms, line numbering, and the landing
job end to end through the CLI on a temporary home.

The pure transforms (audits/inputs.py, audits/expectations.py) are compared with chispa against
explicit expected DataFrames. The end-to-end tests share ONE module-scoped fixture that runs
``compliance land`` three times (first run, a rerun for the same date, a run after late files
arrived) on the hand-made inputs of ``tests/fixtures/landing/inputs``.
"""

from __future__ import annotations

import gzip
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from audits.expectations import build_suite, split_by_suite
from audits.inputs import DELETION_EVENTS, DELETION_REQUESTS, PROBE_SAMPLES, QUERY_LOGS, parse_lines
from jobs.steps import land_expectations as ge_validation
from jobs.store.files import JSONL_SUFFIXES, list_files, read_lines

FIXTURES = Path(__file__).parent / "fixtures" / "landing" / "inputs"
RAW = "source string, line bigint, value string"
CUTOFF = datetime(2026, 11, 22, 0, 0, 0)


def _maps_as_sorted_entries(df):
    """Map columns cannot be hashed or sorted by Spark: compare them as sorted entry arrays."""
    for f in df.schema.fields:
        if isinstance(f.dataType, MapType):
            df = df.withColumn(f.name, F.array_sort(F.map_entries(F.col(f.name))))
    return df


def eq(actual, expected) -> None:
    assert_df_equality(
        actual,
        expected,
        ignore_row_order=True,
        ignore_nullable=True,
        transforms=[_maps_as_sorted_entries],
    )


@pytest.fixture(scope="module", autouse=True)
def _ge_context(spark):  # expectation suites are built inside GE's context
    ge_validation.ensure_context()


# -- parse_lines ----------------------------------------------------------------------------------

EVENTS_PARSED = (
    "source string, line bigint, value string, deletion_id string, object_id string, object_type string, "
    "event string, ts timestamp, scheduled_for timestamp, points_deleted bigint, detail string, "
    "extra map<string,string>, _parse_error string, _type_error string"
)

VALID = (
    '{"deletion_id":"d1","object_id":"u1","object_type":"user","event":"started",'
    '"ts":"2026-11-20T10:00:00Z","scheduled_for":"2026-11-20T09:30:00Z","points_deleted":5,"detail":null}'
)
EXTRA = '{"deletion_id":"d2","event":"completed","ts":"2026-11-20T11:00:00+01:00","shard":"eu-1","attempt":2}'
TRUNCATED = '{"deletion_id":"d3","event":"sta'
BAD_TS = '{"deletion_id":"d4","event":"progress","ts":"yesterday"}'
BAD_POINTS = (
    '{"deletion_id":"d5","event":"progress","ts":"2026-11-20T10:00:00Z","points_deleted":"many"}'
)
NOT_OBJECT = '["d6", "started"]'


def test_parse_lines_deletion_events(spark):
    raw = spark.createDataFrame(
        [
            ("e.jsonl", 1, VALID),
            ("e.jsonl", 2, EXTRA),
            ("e.jsonl", 4, TRUNCATED),
            ("e.jsonl", 5, BAD_TS),
            ("e.jsonl", 6, BAD_POINTS),
            ("f.jsonl", 1, NOT_OBJECT),
        ],
        RAW,
    )
    expected = spark.createDataFrame(
        [
            (
                "e.jsonl",
                1,
                VALID,
                "d1",
                "u1",
                "user",
                "started",
                datetime(2026, 11, 20, 10, 0),
                datetime(2026, 11, 20, 9, 30),
                5,
                None,
                {},
                None,
                None,
            ),
            # the +01:00 offset is converted to UTC; unknown fields are kept (as text) in `extra`
            (
                "e.jsonl",
                2,
                EXTRA,
                "d2",
                None,
                None,
                "completed",
                datetime(2026, 11, 20, 10, 0),
                None,
                None,
                None,
                {"shard": "eu-1", "attempt": "2"},
                None,
                None,
            ),
            (
                "e.jsonl",
                4,
                TRUNCATED,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "malformed JSON: not a complete JSON object",
                None,
            ),
            (
                "e.jsonl",
                5,
                BAD_TS,
                "d4",
                None,
                None,
                "progress",
                None,
                None,
                None,
                None,
                {},
                None,
                "field 'ts' is not a valid timestamp",
            ),
            (
                "e.jsonl",
                6,
                BAD_POINTS,
                "d5",
                None,
                None,
                "progress",
                datetime(2026, 11, 20, 10, 0),
                None,
                None,
                None,
                {},
                None,
                "field 'points_deleted' is not a valid bigint",
            ),
            (
                "f.jsonl",
                1,
                NOT_OBJECT,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "malformed JSON: not a complete JSON object",
                None,
            ),
        ],
        EVENTS_PARSED,
    )
    eq(parse_lines(raw, DELETION_EVENTS), expected)


def test_parse_lines_probe_samples_array_and_nested_values(spark):
    good = '{"request_id":"p1","ts":"2026-11-20T10:00:00Z","role":"sink","asset":"a.b","field":null,"value_hashes":["h1","h2"]}'
    not_array = '{"request_id":"p2","ts":"2026-11-20T10:00:00Z","role":"sink","asset":"a.b","value_hashes":"h1"}'
    raw = spark.createDataFrame([("p.jsonl", 1, good), ("p.jsonl", 2, not_array)], RAW)
    expected = spark.createDataFrame(
        [
            (
                "p.jsonl",
                1,
                good,
                "p1",
                datetime(2026, 11, 20, 10),
                "sink",
                "a.b",
                None,
                ["h1", "h2"],
                {},
                None,
                None,
            ),
            (
                "p.jsonl",
                2,
                not_array,
                "p2",
                datetime(2026, 11, 20, 10),
                "sink",
                "a.b",
                None,
                None,
                {},
                None,
                "field 'value_hashes' is not a valid array<string>",
            ),
        ],
        "source string, line bigint, value string, request_id string, ts timestamp, role string, asset string, "
        "field string, value_hashes array<string>, extra map<string,string>, _parse_error string, _type_error string",
    )
    eq(parse_lines(raw, PROBE_SAMPLES), expected)


# -- split_by_suite: one reason per rule ----------------------------------------------------------


def reasons(spark, kind, lines, cutoff=CUTOFF):
    raw = spark.createDataFrame([("in.jsonl", i + 1, v) for i, v in enumerate(lines)], RAW)
    split = split_by_suite(parse_lines(raw, kind), build_suite(kind, cutoff=cutoff))
    return split.select("line", "_reject_reason")


REASONS = "line bigint, _reject_reason string"
HELD = (
    "field 'ts' is after the run's window (ends 2026-11-22 00:00 UTC): held for the run whose "
    "window holds it"
)


def ev(**fields) -> str:
    import json

    base = {"deletion_id": "d1", "event": "progress", "ts": "2026-11-21T10:00:00Z"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def test_split_reasons_for_deletion_event_rules(spark):
    lines = [
        ev(),  # 1 accepted
        ev(event="deleted"),  # 2 bad enum
        ev(ts="2026-11-22T00:00:01Z"),  # 3 one second after the cutoff
        ev(ts="2026-11-22T00:00:00Z"),  # 4 exactly at the cutoff: accepted
        ev(ts="2026-11-22T01:00:00+01:00"),  # 5 the cutoff, written with an offset: accepted
        ev(ts="1999-12-31T23:59:59Z"),  # 6 before 2000
        ev(points_deleted=-1),  # 7 negative
        ev(points_deleted=0),  # 8 zero is fine
        ev(deletion_id=...),  # 9 required field absent
        ev(deletion_id=None),  # 10 required field null
        ev(ts=...),  # 11 required timestamp absent
        TRUNCATED,  # 12 malformed
        BAD_TS,  # 13 wrong type
        ev(event="exception", shard="x"),  # 14 extra fields do not reject
    ]
    expected = spark.createDataFrame(
        [
            (1, None),
            (
                2,
                "field 'event' not one of scheduled, started, progress, rerun, exception, completed",
            ),
            (3, None),  # after the cutoff: held, not rejected (test_the_cutoff_moves_with_the_run)
            (4, None),
            (5, None),
            (6, "field 'ts' is before 2000-01-01"),
            (7, "field 'points_deleted' is negative"),
            (8, None),
            (9, "missing required field 'deletion_id'"),
            (10, "missing required field 'deletion_id'"),
            (11, "missing required field 'ts'"),
            (12, "malformed JSON: not a complete JSON object"),
            (13, "field 'ts' is not a valid timestamp"),
            (14, None),
        ],
        REASONS,
    )
    eq(reasons(spark, DELETION_EVENTS, lines), expected)


def test_split_reasons_for_query_logs(spark):
    lines = [
        '{"query_id":"q1","started_at":"2026-11-20T01:00:00Z","sql":"SELECT 1","status":"ok"}',
        '{"job_id":"j2","started_at":"2026-11-20T01:00:00Z","action":"WRITE","table":"t"}',
        '{"query_id":"q3","job_id":"j3","started_at":"2026-11-20T01:00:00Z","status":"ok"}',
        '{"query_id":"q4","started_at":"2026-11-20T01:00:00Z","sql":"SELECT 1","status":"running"}',
        '{"job_id":"j5","started_at":"2026-11-20T01:00:00Z","action":"DELETE","table":"t"}',
        '{"query_id":"q6","sql":"SELECT 1"}',
        '{"query_id":"q7","started_at":"2026-11-20T01:00:00Z","sql":null,"action":null}',
    ]
    expected = spark.createDataFrame(
        [
            (1, None),
            (2, None),
            (3, "missing field 'sql' or 'action'"),
            (4, "field 'status' not one of ok, failed"),
            (5, "field 'action' not one of READ, WRITE"),
            (6, "missing required field 'started_at'"),
            (7, "missing field 'sql' or 'action'"),
        ],
        REASONS,
    )
    eq(reasons(spark, QUERY_LOGS, lines), expected)


def test_split_reasons_for_deletion_requests(spark):
    lines = [
        '{"deletion_id":"r1","subject_id":"s1","requested_at":"2026-11-20T08:00:00Z","sla_days":30}',
        '{"deletion_id":"r2","subject_id":"s2","requested_at":"2026-11-20T08:00:00Z","sla_days":-3}',
        '{"deletion_id":"r3","requested_at":"2026-11-20T08:00:00Z"}',
        '{"deletion_id":"r4","subject_id":"s4","requested_at":"2026-11-20T08:00:00Z","sla_days":"soon"}',
    ]
    expected = spark.createDataFrame(
        [
            (1, None),
            (2, "field 'sla_days' is negative"),
            (3, "missing required field 'subject_id'"),
            (4, "field 'sla_days' is not a valid int"),
        ],
        REASONS,
    )
    eq(reasons(spark, DELETION_REQUESTS, lines), expected)


def test_the_request_handling_facts_are_typed_and_checked(spark):
    base = '"deletion_id":"r{n}","subject_id":"s","requested_at":"2026-11-20T08:00:00Z"'
    lines = [
        "{" + base.format(n=1) + ',"channel":"web_form","identity_verification":"id_document",'
        '"decision":"refused","exemption":"legal_claims","approved_by":"dpo",'
        '"recipients_notified_at":"2026-11-20T09:00:00Z"}',
        "{" + base.format(n=2) + ',"channel":"carrier pigeon"}',  # descriptive: any label
        "{" + base.format(n=3) + ',"decision":"maybe"}',
        "{" + base.format(n=4) + ',"subject_informed_at":"yesterday"}',
        "{" + base.format(n=5) + "}",  # every fact optional
    ]
    expected = spark.createDataFrame(
        [
            (1, None),
            (2, None),
            (3, "field 'decision' not one of accepted, partially_accepted, refused"),
            (4, "field 'subject_informed_at' is not a valid timestamp"),
            (5, None),
        ],
        REASONS,
    )
    eq(reasons(spark, DELETION_REQUESTS, lines), expected)
    raw = spark.createDataFrame([("r.jsonl", 1, lines[0])], RAW)
    row = parse_lines(raw, DELETION_REQUESTS).collect()[0]
    assert (row.channel, row.identity_verification, row.decision, row.exemption) == (
        "web_form",
        "id_document",
        "refused",
        "legal_claims",
    )
    assert row.recipients_notified_at == datetime(2026, 11, 20, 9, 0)


def test_the_cutoff_moves_with_the_run(spark):
    raw = spark.createDataFrame([("in.jsonl", 1, ev(ts="2026-11-22T12:00:00Z"))], RAW)
    schema = "line bigint, _reject_reason string, _held_reason string"
    for cutoff, held in ((CUTOFF, HELD), (datetime(2026, 11, 23), None)):
        suite = build_suite(DELETION_EVENTS, cutoff=cutoff)
        split = split_by_suite(parse_lines(raw, DELETION_EVENTS), suite)
        eq(
            split.select("line", "_reject_reason", "_held_reason"),
            spark.createDataFrame([(1, None, held)], schema),
        )


# -- read_lines -------------------------------------------------------------------------------------


def test_read_lines_numbers_lines_across_gzip_and_plain_files(spark, tmp_path):
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write("first\n\nthird\n   \nfifth\n")
    plain = tmp_path / "b.jsonl"
    plain.write_text("one\ntwo\n\n\nfive\r\nsix", encoding="utf-8")
    (tmp_path / "ignored.txt").write_text("not an input\n", encoding="utf-8")
    files = list_files(spark, str(tmp_path), JSONL_SUFFIXES)
    assert [f.path for f in files] == [str(gz), str(plain)]
    expected = spark.createDataFrame(
        [
            (str(gz), 1, "first"),
            (str(gz), 3, "third"),
            (str(gz), 5, "fifth"),
            (str(plain), 1, "one"),
            (str(plain), 2, "two"),
            (str(plain), 5, "five"),
            (str(plain), 6, "six"),
        ],
        RAW,
    )
    eq(read_lines(spark, files), expected)


def test_read_lines_source_matches_the_listed_path_under_a_folder_with_a_space(spark, tmp_path):
    folder = tmp_path / "my inputs"
    folder.mkdir()
    (folder / "a.jsonl").write_text("x\n", encoding="utf-8")
    files = list_files(spark, str(folder), JSONL_SUFFIXES)
    assert [f.path for f in files] == [str(folder / "a.jsonl")]
    eq(read_lines(spark, files), spark.createDataFrame([(str(folder / "a.jsonl"), 1, "x")], RAW))


def test_read_lines_numbers_lines_of_a_file_split_across_partitions(spark, tmp_path):
    path = tmp_path / "big.jsonl"
    lines = [("" if i % 7 == 0 else f'{{"n":{i},"pad":"{"x" * (i % 13)}"}}') for i in range(1, 121)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    small = tmp_path / "small.jsonl"
    small.write_text('{"n":1}\n\n{"n":3}\n', encoding="utf-8")
    old = {
        k: spark.conf.get(k)
        for k in ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")
    }
    spark.conf.set("spark.sql.files.maxPartitionBytes", "256")
    spark.conf.set("spark.sql.files.openCostInBytes", "1")
    try:
        files = list_files(spark, str(tmp_path), JSONL_SUFFIXES)
        got = read_lines(spark, files)
        expected = spark.createDataFrame(
            [(str(path), i, v) for i, v in enumerate(lines, start=1) if v]
            + [(str(small), 1, '{"n":1}'), (str(small), 3, '{"n":3}')],
            RAW,
        )
        eq(got, expected)
        assert spark.read.text(str(path)).rdd.getNumPartitions() > 3  # the file really was split
    finally:
        for k, v in old.items():
            spark.conf.set(k, v)


# -- landing end to end through the CLI -----------------------------------------------------------

KINDS_TABLES = {
    "query_logs": "landed_query_logs",
    "openlineage": "landed_openlineage",
    "probe_samples": "landed_probe_samples",
    "deletion_events": "deletion_events",
    "deletion_requests": "deletion_requests",
    "edge_inventory": "landed_edge_inventory",
    "training_configs": "landed_training_configs",
}
# non-blank lines (documents for training configs) per kind in tests/fixtures/landing/inputs
LINES_READ = {
    "query_logs": 5,
    "openlineage": 3,
    "probe_samples": 3,
    "deletion_events": 4,
    "deletion_requests": 6,
    "edge_inventory": 3,
    "training_configs": 3,
}
RAW_SUBJECT_IDS = ["alice@example.com", "bob-4242", "carol-secret-99", "dave-77"]


def _land(home: Path, run_date: str) -> int:
    from jobs.cli import main

    return main(["land", "--conf", str(home / "conf.yaml"), "--run-date", run_date, "--quiet"])


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    """Three landing runs on one home; versions are recorded after each so tests can time-travel."""
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("landing")
    inputs = home / "inputs"
    shutil.copytree(FIXTURES, inputs)
    # probe samples arrive gzip-compressed
    probes = inputs / "probe_samples" / "probes.jsonl"
    with (
        open(probes, "rb") as src,
        gzip.open(inputs / "probe_samples" / "probes.jsonl.gz", "wb") as dst,
    ):
        dst.write(src.read())
    probes.unlink()
    (inputs / "catalog.yaml").write_text("", encoding="utf-8")
    (home / "conf.yaml").write_text(
        f"home: {home}\nstorage:\n  engine: delta-rs\n", encoding="utf-8"
    )

    rc1 = _land(home, "2026-11-21")
    store = TableStore(spark, str(home / "warehouse"), engine="delta-rs")
    v1 = {name: store.version(name) for name in store.list_tables()}
    manifest1 = [r.asDict() for r in store.read("run_manifest").collect()]

    rc2 = _land(home, "2026-11-21")
    v2 = {name: store.version(name) for name in store.list_tables()}

    # a late file, and a line appended to a file that was already landed
    (inputs / "deletion_events" / "late.jsonl").write_text(
        '{"deletion_id":"d2","event":"scheduled","ts":"2026-11-22T06:00:00Z"}\n'
        '{"deletion_id":"d2","event":"vanished","ts":"2026-11-22T06:00:00Z"}\n',
        encoding="utf-8",
    )
    with open(inputs / "query_logs" / "queries.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"query_id":"q7","started_at":"2026-11-22T01:00:00Z","sql":"SELECT 7"}\n')
    rc3 = _land(home, "2026-11-22")
    v3 = {name: store.version(name) for name in store.list_tables()}
    return SimpleNamespace(
        home=home,
        inputs=inputs,
        store=store,
        rc=(rc1, rc2, rc3),
        v1=v1,
        v2=v2,
        v3=v3,
        manifest1=manifest1,
    )


def src(landed, rel: str) -> str:
    return str(landed.inputs / rel)


def test_every_run_exits_zero_and_lands_every_kind(landed):
    assert landed.rc == (0, 0, 0)
    for table in [*KINDS_TABLES.values(), "rejected_inputs", "landed_files", "run_manifest"]:
        assert table in landed.v1, f"{table} missing after the first run: {sorted(landed.v1)}"


def test_rows_read_equal_landed_plus_rejected_for_every_kind(landed):
    store, v1 = landed.store, landed.v1
    rejected = store.read("rejected_inputs", version=v1["rejected_inputs"])
    held = store.read("held_inputs", version=v1["held_inputs"])
    for kind, table in KINDS_TABLES.items():
        n_landed = store.read(table, version=v1[table]).count()
        n_rejected = rejected.filter(F.col("kind") == kind).count()
        n_held = held.filter(F.col("kind") == kind).count()
        assert n_landed + n_rejected + n_held == LINES_READ[kind], (kind, n_landed, n_rejected)
    (row,) = [r for r in landed.manifest1 if r["job"] == "land"]
    assert row["inputs_read"] == sum(LINES_READ.values()) == 27
    assert row["rows_written"] == 10 and row["rows_rejected"] == 16  # and one line held


def test_rejected_inputs_have_file_line_and_reason(spark, landed):
    store, v1 = landed.store, landed.v1
    got = store.read("rejected_inputs", version=v1["rejected_inputs"]).select(
        "source", "location", "reason", "kind"
    )
    s = lambda rel: src(landed, rel)  # noqa: E731
    expected = spark.createDataFrame(
        [
            (
                s("query_logs/queries.jsonl"),
                "line 4",
                "malformed JSON: not a complete JSON object",
                "query_logs",
            ),
            (
                s("query_logs/queries.jsonl"),
                "line 5",
                "missing field 'sql' or 'action'",
                "query_logs",
            ),
            (
                s("query_logs/queries.jsonl"),
                "line 6",
                "field 'status' not one of ok, failed",
                "query_logs",
            ),
            (
                s("openlineage/events.jsonl"),
                "line 2",
                "field 'eventType' not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER",
                "openlineage",
            ),
            (
                s("openlineage/events.jsonl"),
                "line 3",
                "missing required field 'job.name'",
                "openlineage",
            ),
            (
                s("probe_samples/probes.jsonl.gz"),
                "line 3",
                "missing required field 'value_hashes'",
                "probe_samples",
            ),
            (
                s("probe_samples/probes.jsonl.gz"),
                "line 4",
                "field 'role' not one of source, sink",
                "probe_samples",
            ),
            (
                s("deletion_events/events.jsonl"),
                "line 3",
                "field 'points_deleted' is negative",
                "deletion_events",
            ),
            (
                s("deletion_requests/requests.jsonl"),
                "line 3",
                "field 'requested_at' is not a valid timestamp",
                "deletion_requests",
            ),
            (
                s("deletion_requests/requests.jsonl"),
                "line 4",
                "malformed JSON: not a complete JSON object",
                "deletion_requests",
            ),
            (
                s("deletion_requests/requests.jsonl"),
                "line 5",
                "field 'sla_days' is negative",
                "deletion_requests",
            ),
            # JSON Lines are strict JSON: a single-quoted line is malformed (and its subject id redacted)
            (
                s("deletion_requests/requests.jsonl"),
                "line 6",
                "malformed JSON: not a complete JSON object",
                "deletion_requests",
            ),
            (
                s("edge_inventory/edges.jsonl"),
                "line 2",
                "missing required field 'dst_id'",
                "edge_inventory",
            ),
            (
                s("edge_inventory/edges.jsonl"),
                "line 3",
                "field 'deleted_src' is not a valid boolean",
                "edge_inventory",
            ),
            (
                s("training_configs/nomodel.json"),
                "line 1",
                "missing required field 'output_model'",
                "training_configs",
            ),
        ],
        "source string, location string, reason string, kind string",
    )
    broken = got.filter(F.col("source") == s("training_configs/broken.json")).collect()
    assert len(broken) == 1 and broken[0].location == "line 1"
    assert broken[0].reason.startswith("unparseable JSON: "), broken[0].reason
    eq(got.filter(F.col("source") != s("training_configs/broken.json")), expected)


def test_rejected_raw_text_and_run_date(landed):
    store, v1 = landed.store, landed.v1
    rows = {
        (r.source, r.location): r
        for r in store.read("rejected_inputs", version=v1["rejected_inputs"]).collect()
    }
    r = rows[(src(landed, "query_logs/queries.jsonl"), "line 6")]
    assert (
        r.raw
        == '{"query_id":"q5","started_at":"2026-11-20T05:00:00Z","sql":"SELECT 2","status":"running"}'
    )
    assert all(x.run_date == date(2026, 11, 21) for x in rows.values())


def test_landed_rows_are_typed_and_keep_their_origin(spark, landed):
    store, v1 = landed.store, landed.v1
    got = store.read("deletion_events", version=v1["deletion_events"]).select(
        "deletion_id", "event", "ts", "points_deleted", "source_file", "line", "landed_on"
    )
    f = src(landed, "deletion_events/events.jsonl")
    expected = spark.createDataFrame(
        [
            ("d1", "started", datetime(2026, 11, 20, 10), None, f, 1, date(2026, 11, 21)),
            ("d1", "completed", datetime(2026, 11, 22, 0), 0, f, 4, date(2026, 11, 21)),
        ],
        "deletion_id string, event string, ts timestamp, points_deleted bigint, source_file string, "
        "line bigint, landed_on date",
    )
    eq(got, expected)
    # the object id lands only as its keyed pseudonym, the same one for the same object
    events = store.read("deletion_events", version=v1["deletion_events"])
    assert "object_id" not in events.columns
    keys = {r.object_key for r in events.select("object_key").collect()}
    assert len(keys) == 1 and next(iter(keys)).startswith("sk_") and "u1" not in next(iter(keys))
    raws = [
        r.raw
        for r in store.read("rejected_inputs").collect()
        if r.source == f and r.raw and "object_id" in r.raw
    ]
    assert raws and all('"object_id":"<redacted>"' in r and '"u1"' not in r for r in raws)
    q = store.read("landed_query_logs", version=v1["landed_query_logs"]).select(
        "query_id", "job_id", "action", "extra", "line"
    )
    eq(
        q,
        spark.createDataFrame(
            [("q1", "j1", None, {}, 1), (None, "j2", "READ", {"cluster": "c7"}, 2)],
            "query_id string, job_id string, action string, extra map<string,string>, line bigint",
        ),
    )


def test_deletion_requests_land_with_subject_keys_and_no_raw_subject_id(spark, landed):
    from jobs.secrets.pseudonym import load_or_create

    store, v1 = landed.store, landed.v1
    table = store.read("deletion_requests", version=v1["deletion_requests"])
    assert "subject_id" not in table.columns
    key = load_or_create(str(landed.home / "keys"))
    alice = key.subject_key("alice@example.com")
    assert re.fullmatch(r"sk_[0-9a-f]{32}", alice)
    expected = spark.createDataFrame(
        [
            ("r1", alice, "user", datetime(2026, 11, 19, 8), 30, None, {}, 1),
            ("r2", alice, "user", datetime(2026, 11, 20, 8), None, "web", {}, 2),
        ],
        "deletion_id string, subject_key string, subject_type string, requested_at timestamp, sla_days int, "
        "channel string, extra map<string,string>, line bigint",
    )
    eq(
        table.select(
            "deletion_id",
            "subject_key",
            "subject_type",
            "requested_at",
            "sla_days",
            "channel",
            "extra",
            "line",
        ),
        expected,
    )


def _tables_containing(store, versions, needle: str) -> list[str]:
    hits = []
    for name, v in versions.items():
        df = store.read(name, version=v)
        blob = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
        if df.filter(blob.contains(needle)).count():
            hits.append(name)
    return hits


@pytest.mark.parametrize("subject_id", RAW_SUBJECT_IDS)
def test_no_raw_subject_id_in_any_table(landed, subject_id):
    assert _tables_containing(landed.store, landed.v3, subject_id) == []
    assert _tables_containing(landed.store, landed.v1, subject_id) == []


def test_no_raw_subject_id_from_a_single_quoted_malformed_line(landed):
    assert _tables_containing(landed.store, landed.v1, "erin-55") == []


def test_ledger_records_each_file_with_its_counts(spark, landed):
    store, v1 = landed.store, landed.v1
    got = store.read("landed_files", version=v1["landed_files"]).select(
        "source", "kind", "run_date", "lines", "accepted", "rejected"
    )
    d = date(2026, 11, 21)
    s = lambda rel: src(landed, rel)  # noqa: E731
    expected = spark.createDataFrame(
        [
            (s("query_logs/queries.jsonl"), "query_logs", d, 5, 2, 3),
            (s("openlineage/events.jsonl"), "openlineage", d, 3, 1, 2),
            (s("probe_samples/probes.jsonl.gz"), "probe_samples", d, 3, 1, 2),
            (s("deletion_events/events.jsonl"), "deletion_events", d, 4, 2, 1),  # and 1 held
            (s("deletion_requests/requests.jsonl"), "deletion_requests", d, 6, 2, 4),
            (s("edge_inventory/edges.jsonl"), "edge_inventory", d, 3, 1, 2),
            (s("training_configs/model.yaml"), "training_configs", d, 1, 1, 0),
            (s("training_configs/broken.json"), "training_configs", d, 1, 0, 1),
            (s("training_configs/nomodel.json"), "training_configs", d, 1, 0, 1),
        ],
        "source string, kind string, run_date date, lines bigint, accepted bigint, rejected bigint",
    )
    eq(got, expected)


def test_second_run_for_the_same_date_changes_no_data_table(landed):
    store, v1, v2 = landed.store, landed.v1, landed.v2
    assert sorted(v1) == sorted(v2)
    for name in v1:
        if name == "run_manifest":
            continue
        eq(store.read(name, version=v2[name]), store.read(name, version=v1[name]))
        assert v2[name] == v1[name], f"{name} got a new version on a rerun"


def test_rerun_keeps_one_manifest_row_per_step_and_date(spark, landed):
    store, v2 = landed.store, landed.v2
    got = store.read("run_manifest", version=v2["run_manifest"]).select(
        "job", "run_date", "status", "engine"
    )
    eq(
        got,
        spark.createDataFrame(
            [("land", date(2026, 11, 21), "ok", "delta-rs")],
            "job string, run_date date, status string, engine string",
        ),
    )


def test_run_manifest_has_a_row_for_land_per_run_date(spark, landed):
    store = landed.store
    got = store.read("run_manifest").select("job", "run_date", "status", "engine", "error")
    expected = spark.createDataFrame(
        [
            ("land", date(2026, 11, 21), "ok", "delta-rs", None),
            ("land", date(2026, 11, 22), "ok", "delta-rs", None),
        ],
        "job string, run_date date, status string, engine string, error string",
    )
    eq(got, expected)
    for r in store.read("run_manifest").collect():
        assert r.started_at <= r.finished_at and r.version


def test_late_file_is_landed_by_the_next_run_without_duplicates(spark, landed):
    store, v1, v3 = landed.store, landed.v1, landed.v3
    late = src(landed, "deletion_events/late.jsonl")
    now = store.read("deletion_events").select("deletion_id", "event", "source_file", "line")
    before = store.read("deletion_events", version=v1["deletion_events"]).select(
        "deletion_id", "event", "source_file", "line"
    )
    # earlier rows unchanged, the line held by the first run landed, one new row from the late file
    held = spark.createDataFrame(
        [("d1", "progress", src(landed, "deletion_events/events.jsonl"), 2)],
        "deletion_id string, event string, source_file string, line bigint",
    )
    eq(now.filter(F.col("source_file") != late), before.unionByName(held))
    assert store.read("held_inputs").count() == 0
    eq(
        now.filter(F.col("source_file") == late),
        spark.createDataFrame(
            [("d2", "scheduled", late, 1)],
            "deletion_id string, event string, source_file string, line bigint",
        ),
    )
    late_rejects = (
        store.read("rejected_inputs")
        .filter(F.col("source") == late)
        .select("location", "reason", "run_date")
    )
    eq(
        late_rejects,
        spark.createDataFrame(
            [
                (
                    "line 2",
                    "field 'event' not one of scheduled, started, progress, rerun, exception, completed",
                    date(2026, 11, 22),
                )
            ],
            "location string, reason string, run_date date",
        ),
    )
    # kinds without new files were not rewritten by the third run
    for name in ("deletion_requests", "landed_openlineage", "landed_edge_inventory"):
        assert v3[name] == v1[name], name


def test_a_grown_file_is_relanded_without_duplicating_lines(spark, landed):
    store = landed.store
    q = store.read("landed_query_logs").select("query_id", "source_file", "line")
    f = src(landed, "query_logs/queries.jsonl")
    eq(
        q,
        spark.createDataFrame(
            [("q1", f, 1), (None, f, 2), ("q7", f, 7)],
            "query_id string, source_file string, line bigint",
        ),
    )
    rejected = store.read("rejected_inputs")
    # the late file's bad line; re-read query log lines are not duplicated
    assert rejected.count() == 16 + 1
    assert rejected.select("source", "location").distinct().count() == rejected.count()


def test_deletion_requests_land_hashed_match_keys_of_their_subjects(spark, landed):
    import hashlib
    import hmac as hmac_lib

    secret = (landed.home / "keys" / "pseudonym.key").read_bytes()

    def keyed(text):
        return (
            "sk_"
            + hmac_lib.new(  # noqa: E731
                secret, text.encode(), hashlib.sha256
            ).hexdigest()[:32]
        )

    got = (
        landed.store.read("subject_match_keys", version=landed.v1["subject_match_keys"])
        .where(F.col("function").isin("sha256_hex", "md5_hex"))
        .select("subject_key", "function", "match_key")
    )
    alice = "alice@example.com"
    expected = spark.createDataFrame(
        [
            (keyed(alice), "sha256_hex", keyed(hashlib.sha256(alice.encode()).hexdigest())),
            (keyed(alice), "md5_hex", keyed(hashlib.md5(alice.encode()).hexdigest())),
        ],  # noqa: S324
        "subject_key string, function string, match_key string",
    )
    eq(got, expected)
