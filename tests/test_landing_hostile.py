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
def _ge_context(spark):  # expectation suites are built inside GE's context
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
        "run": {"runId": "0190c2a1-6c3e-7b7a-9d51-0c8f3e2b1a01"},  # the spec's format: uuid
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
        ol(run={"runId": "r1"}),  # 11 a run id that is not a UUID
        ol(run={}),  # 12 no run id
    ]
    not_uuid = (
        "field 'run.runId' is missing or not a UUID (the OpenLineage spec's format: uuid, e.g. "
        "01890e70-7d2b-7d2e-9c1e-3a5b0f6c2d41)"
    )
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
            (11, not_uuid),
            (12, not_uuid),
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


def test_documents_that_are_not_utf8_or_explode_are_one_reason_each():
    from audits.documents import MAX_NODES, document_as_json

    assert document_as_json("a.yaml", b"model_name: churn\nfeatures: [x]\n") == (
        '{"features": ["x"], "model_name": "churn"}',
        None,
    )
    assert document_as_json("a.json", b'{"b": 1, "a": [true]}') == ('{"a": [true], "b": 1}', None)
    value, reason = document_as_json("c.yaml", "model_name: caf\xe9\n".encode("latin-1"))
    assert reason == (
        "not UTF-8 text (byte 15 is 0xe9); a YAML training config must be UTF-8: re-encode the file"
    )
    assert value == "model_name: caf\ufffd\n"
    _, reason = document_as_json("r.JSON", b"\xa4\x00\x17")
    assert reason.startswith("not UTF-8 text (byte 0 is 0xa4); a JSON training config")
    _, reason = document_as_json("n.json", b'{"a": 1}\x00')
    assert reason == "not a JSON text file (it holds NUL bytes)"
    # nine levels of nine aliases: a few hundred bytes of YAML, 9**9 strings once written out
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = ("\n".join(levels) + "\n").encode()
    assert len(bomb) < 600
    _, reason = document_as_json("bomb.yaml", bomb)
    assert reason == (
        f"YAML document too large once its aliases are expanded (over {MAX_NODES:,} values): "
        "an alias bomb?"
    )
    # a few shared aliases well under the limit are fine, written out in full
    value, reason = document_as_json("ok.yaml", b"x: &x [1, 2]\ny: *x\n")
    assert (value, reason) == ('{"x": [1, 2], "y": [1, 2]}', None)
    _, reason = document_as_json("bad.yaml", b"a: [1, 2\n")
    assert reason.startswith("unparseable YAML: ")


def test_damaged_gzip_odd_names_and_bad_documents_leave_the_rest_of_the_night_landed(
    spark, tmp_path
):
    """One bad file is one row naming it (issue 20, item 9); every good line still lands."""
    import gzip
    import os

    from jobs.cli import main
    from jobs.store.tables import TableStore

    inputs = tmp_path / "inputs"
    for kind in ("query_logs", "deletion_events", "training_configs"):
        (inputs / kind).mkdir(parents=True)
    (inputs / "query_logs" / "good.jsonl").write_text(q() + "\n", encoding="utf-8")
    (inputs / "query_logs" / "a:b.jsonl").write_text(q(query_id="q9") + "\n", encoding="utf-8")
    lines = "\n".join(
        q(query_id=f"z{i}", sql="SELECT '" + os.urandom(40).hex() + "'") for i in range(3000)
    )
    packed = gzip.compress((lines + "\n").encode())
    cut = packed[: len(packed) // 2]  # its head reads fine: only the read to the end fails
    (inputs / "query_logs" / "cut.jsonl.gz").write_bytes(cut)
    (inputs / "deletion_events" / "cut.jsonl.gz").write_bytes(cut)
    event = {"deletion_id": "d1", "event": "progress", "ts": TS}
    (inputs / "deletion_events" / "e.jsonl").write_text(json.dumps(event) + "\n", encoding="utf-8")
    configs = inputs / "training_configs"
    (configs / "random.json").write_bytes(b"\xa4" + os.urandom(1000))
    (configs / "latin1.yaml").write_bytes("model_name: caf\xe9\n".encode("latin-1"))
    (inputs / "catalog.yaml").write_text("", encoding="utf-8")
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")
    assert main(["land", "--conf", str(conf), "--run-date", "2026-11-21", "--quiet"]) == 0

    store = TableStore(spark, str(tmp_path / "warehouse"), engine="delta-rs")
    assert [r.query_id for r in store.read("landed_query_logs").collect()] == ["q1"]
    assert [r.deletion_id for r in store.read("deletion_events").collect()] == ["d1"]
    got = {
        (Path(r.source).parent.name, Path(r.source).name, r.location): r.reason
        for r in store.read("rejected_inputs").collect()
    }
    damaged = (
        "file not read: its compressed content is cut short or damaged (EOFException: "
        "Unexpected end of input stream); no line of it is landed: replace the file to land it"
    )
    assert got == {
        ("query_logs", "a:b.jsonl", "file"): (
            "file not read: its name holds ':', which Hadoop and Spark paths cannot read; "
            "rename it to land it"
        ),
        ("query_logs", "cut.jsonl.gz", "file"): damaged,
        ("deletion_events", "cut.jsonl.gz", "file"): damaged,
        ("training_configs", "random.json", "line 1"): (
            "not UTF-8 text (byte 0 is 0xa4); a JSON training config must be UTF-8: re-encode "
            "the file"
        ),
        ("training_configs", "latin1.yaml", "line 1"): (
            "not UTF-8 text (byte 15 is 0xe9); a YAML training config must be UTF-8: re-encode "
            "the file"
        ),
    }


def test_a_file_and_a_folder_without_read_permission_are_named_and_the_rest_lands(spark):
    """``chmod 000`` on a file and on a sub-folder: each is one row naming it; the rest lands.

    Permission bits do not stop root, so as root the land runs in a child process without the
    capabilities that let root read any file (``setpriv``, util-linux).
    """
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    from jobs.store.tables import TableStore

    home = Path(tempfile.mkdtemp(prefix="compliance-perm-", dir="/tmp"))
    try:
        logs = home / "inputs" / "query_logs"
        (logs / "locked").mkdir(parents=True)
        (logs / "good.jsonl").write_text(q(query_id="g1") + "\n", encoding="utf-8")
        (logs / "denied.jsonl").write_text(q(query_id="d1") + "\n", encoding="utf-8")
        (logs / "locked" / "inside.jsonl").write_text(q(query_id="i1") + "\n", encoding="utf-8")
        (home / "inputs" / "catalog.yaml").write_text("", encoding="utf-8")
        conf = home / "conf.yaml"
        conf.write_text(f"home: {home}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")
        os.chmod(logs / "denied.jsonl", 0)
        os.chmod(logs / "locked", 0)
        argv = ["land", "--conf", str(conf), "--run-date", "2026-11-21", "--quiet"]
        code = f"from jobs.cli import main; raise SystemExit(main({argv!r}))"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "SPARK_"))}
        env["HOME"] = str(home)
        drop = []  # root reads any file: the child drops the capabilities that allow it
        if os.geteuid() == 0:
            drop = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
        run = subprocess.run(
            [*drop, sys.executable, "-c", code],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr[-3000:]

        store = TableStore(spark, str(home / "warehouse"), engine="delta-rs")
        assert [r.query_id for r in store.read("landed_query_logs").collect()] == ["g1"]
        got = {
            (Path(r.source).name, r.location): r.reason
            for r in store.read("rejected_inputs").collect()
        }
        assert sorted(got) == [("denied.jsonl", "file"), ("locked", "file")]
        denied, locked = got[("denied.jsonl", "file")], got[("locked", "file")]
        assert denied.startswith("file not read: Spark cannot read it (") and "ermission" in denied
        assert denied.endswith("); no line of it is landed: make it readable to land it")
        assert locked.startswith("folder not read: it cannot be listed (")
        assert locked.endswith("); no file under it is landed: make it readable to land them")
    finally:
        os.chmod(home / "inputs" / "query_logs" / "locked", 0o755)
        shutil.rmtree(home, ignore_errors=True)
