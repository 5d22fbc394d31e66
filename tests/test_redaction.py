"""Personal data is redacted by value, not only by key (audits/inputs.py, used by the landing step).

The pure rules are checked with chispa against frames written by hand; one landing run on a tiny
home then greps every table it wrote for the raw identifiers and e-mail addresses it was given.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from audits.inputs import DELETION_EVENTS, DELETION_REQUESTS, parse_lines
from audits.redaction import REDACTED, redact_keys, redact_personal, redact_values

R = REDACTED


def test_redact_keys_matches_any_case_and_the_escaped_underscore(spark):
    lines = [
        ('{"Subject_ID":"u-123","x":1}',),
        ('{"subject\\u005fid": "u-456"}',),
        ("{'SUBJECT_id': 'u-789', 'y': 2}",),
        ('{"subject_identity":"keep"}',),  # another key that only starts the same
    ]
    df = spark.createDataFrame(lines, "raw string")
    got = df.select(redact_keys(F.col("raw"), ["subject_id"]).alias("raw"))
    want = spark.createDataFrame(
        [
            (f'{{"Subject_ID":"{R}","x":1}}',),
            (f'{{"subject\\u005fid": "{R}"}}',),
            (f"{{'SUBJECT_id': \"{R}\", 'y': 2}}",),
            ('{"subject_identity":"keep"}',),
        ],
        "raw string",
    )
    assert_df_equality(got, want)


def test_redact_values_removes_emails_and_the_lines_own_ids(spark):
    df = spark.createDataFrame(
        [
            ("mail Bob.Smith+x@mail.example.co.uk re u-123, see u-123", "u-123"),
            ("object 7 gone", "7"),  # too short to redact by value: kept
            (None, "u-1"),
            ("nothing here", None),
            ("key -----BEGIN PRIVATE KEY-----\nab/c+\n-----END PRIVATE KEY----- end", None),
            ("cut -----BEGIN EC PRIVATE KEY-----\nab", None),  # no END line: to the end
            ("our PRIVATE KEY leaked", None),
        ],
        "text string, id string",
    )
    got = df.select(redact_values(F.col("text"), [F.col("id")]).alias("text"))
    k = "<redacted key material>"
    want = spark.createDataFrame(
        [
            (f"mail {R} re {R}, see {R}",),
            ("object 7 gone",),
            (None,),
            ("nothing here",),
            (f"key {k} end",),
            (f"cut {k}",),
            (f"our {k} leaked",),
        ],
        "text string",
    )
    assert_df_equality(got, want)


def test_redact_personal_cleans_free_text_and_extra_of_a_parsed_line(spark):
    raw = spark.createDataFrame(
        [
            (
                "f",
                1,
                '{"deletion_id":"d1","subject_id":"cust-42","requested_at":"2026-11-01T00:00:00Z",'
                '"Subject_ID":"cust-42b","note":"asked by ann@example.com for cust-42","n":3}',
            )
        ],
        "source string, line bigint, value string",
    )
    parsed = parse_lines(raw, DELETION_REQUESTS).transform(redact_personal(DELETION_REQUESTS))
    extra = parsed.select(F.map_entries("extra").alias("e")).first().e
    assert sorted((x.key, x.value) for x in extra) == [
        ("Subject_ID", R),
        ("n", "3"),
        ("note", f"asked by {R} for {R}"),
    ]
    ev = spark.createDataFrame(
        [
            (
                "g",
                1,
                '{"deletion_id":"d1","object_id":"user:991","event":"exception",'
                '"ts":"2026-11-02T00:00:00Z","detail":"retry for user:991 <bob@example.com>"}',
            )
        ],
        "source string, line bigint, value string",
    )
    got = parse_lines(ev, DELETION_EVENTS).transform(redact_personal(DELETION_EVENTS))
    assert got.select("detail").first().detail == f"retry for {R} <{R}>"
    # the identifier itself is still there for the pseudonym hasher, which replaces it next
    assert got.select("object_id").first().object_id == "user:991"


RAW_IDS = ("cust-0042", "user:9001", "ann.lee@example.com", "escaped-77", "cased-88")


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    from jobs.cli import main
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("redaction")
    inputs = home / "inputs"
    for kind in ("deletion_requests", "deletion_events"):
        (inputs / kind).mkdir(parents=True)
    (inputs / "catalog.yaml").write_text("", encoding="utf-8")
    (inputs / "deletion_requests" / "r.jsonl").write_text(
        # accepted, with an unknown field holding an e-mail
        '{"deletion_id":"d1","subject_id":"cust-0042","requested_at":"2026-11-01T00:00:00Z",'
        '"contact":"ann.lee@example.com"}\n'
        # rejected (no requested_at): the subject id under an escaped key, the object as a value
        '{"deletion_id":"d2","subject\\u005fid":"escaped-77","other":"escaped-77"}\n'
        # rejected (bad timestamp): the id under its own key and under another spelling
        '{"deletion_id":"d3","subject_id":"cased-88","Subject_ID":"cased-88",'
        '"requested_at":"yesterday"}\n'
        # rejected: an SLA of 200,000,000 days (it overflowed the audit's arithmetic)
        '{"deletion_id":"d4","subject_id":"cust-0043","requested_at":"2026-11-01T00:00:00Z",'
        '"sla_days":200000000}\n',
        encoding="utf-8",
    )
    (inputs / "deletion_events" / "e.jsonl").write_text(
        '{"deletion_id":"d1","object_id":"user:9001","event":"exception",'
        '"ts":"2026-11-02T00:00:00Z","detail":"user:9001 mailed ann.lee@example.com"}\n'
        '{"deletion_id":"d1","object_id":"user:9001","event":"completed","ts":"not a time",'
        '"detail":"user:9001 done"}\n'
        # accepted: key material pasted into a detail (the report refuses to show it)
        '{"deletion_id":"d1","object_id":"user:9002","event":"exception",'
        '"ts":"2026-11-03T00:00:00Z","detail":"see -----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n'
        '-----END RSA PRIVATE KEY----- attached"}\n',
        encoding="utf-8",
    )
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")
    code = main(["land", "--conf", str(conf), "--run-date", "2026-11-22", "--quiet"])
    return code, TableStore(spark, str(home / "warehouse"), engine="delta-rs"), home


def test_landing_keeps_no_raw_id_or_email_in_any_table(landed):
    code, store, _home = landed
    assert code == 0
    assert store.read("deletion_requests").count() == 1
    assert store.read("deletion_events").count() == 2
    assert store.read("rejected_inputs").count() == 4
    for name in store.list_tables():
        df = store.read(name)
        blob = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
        for raw in RAW_IDS:
            assert df.filter(blob.contains(raw)).count() == 0, (name, raw)


def test_the_redacted_places_still_say_what_was_there(landed):
    _code, store, _home = landed
    details = sorted(r.detail for r in store.read("deletion_events").collect())
    assert details == [f"{R} mailed {R}", "see <redacted key material> attached"]
    req = store.read("deletion_requests").first()
    assert dict(req.extra) == {"contact": R}
    raws = sorted(r.raw for r in store.read("rejected_inputs").collect())
    assert all(R in r for r in raws) and len(raws) == 4


def test_an_absurd_sla_is_rejected_with_the_line_and_the_bound(landed):
    _code, store, _home = landed
    row = store.read("rejected_inputs").filter(F.col("reason").contains("sla_days")).collect()
    assert [(r.location, r.reason) for r in row] == [("line 4", "field 'sla_days' is over 3650")]


def test_no_key_material_lands_anywhere(landed):
    _code, store, _home = landed
    for name in store.list_tables():
        df = store.read(name)
        blob = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
        assert df.filter(blob.contains("PRIVATE KEY") | blob.contains("MIIEow")).count() == 0


def test_log_files_hold_no_raw_id(landed):
    _code, _store, home = landed
    for p in Path(home).rglob("*.log"):
        text = p.read_text(encoding="utf-8", errors="replace")
        assert not any(raw in text for raw in RAW_IDS), p


def test_what_the_landing_redacts_is_all_the_report_refuses():
    """One rule (core.key_material): after the landing's redaction no report marker is left."""
    import re

    from core.key_material import KEY_MARKER, KEY_MATERIAL

    texts = [
        "a -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- b",
        "-----BEGIN CERTIFICATE-----\nMIIB",
        "two PRIVATE KEY words, PRIVATE KEY",
    ]
    for text in texts:
        assert re.search(KEY_MARKER, text)
        assert not re.search(KEY_MARKER, re.sub(KEY_MATERIAL, "<redacted key material>", text))
