"""One name per table: the naming rules (config, Spark columns), catalog columns in any case, the
"did you mean" hints, and the OpenLineage run merge over nights; plus the event-file splitter."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from audits.json_events import is_document, split_document
from jobs.config.catalog import load_catalog
from jobs.config.catalog_validation import did_you_mean
from jobs.config.naming import parse_naming
from jobs.config.settings import load_config
from jobs.errors import ConfigError
from lineage.naming import NamingRules, canonical_asset
from lineage.signals.openlineage import openlineage_observations

RULES = NamingRules(
    namespaces=(("postgres://db:5432", "postgres"), ("postgres://db:5432/other", "pg_other")),
    catalogs=(("marquez", "postgres"), ("hive", "")),
    paths=(("^(?:/tmp/x/([^/]+))$", "postgres.public.$1"),),
)


# ----------------------------------------------------------------------------- config


def test_naming_rules_are_read_and_anchored():
    rules, problems = parse_naming(
        {
            "openlineage_namespaces": {"postgres://DB:5432": "postgres"},
            "catalogs": {"Marquez": "postgres", "hive": ""},
            "paths": [{"match": "/tmp/x/([^/]+)", "table": "postgres.public.$1"}],
        },
        "conf.yaml",
    )
    assert problems == []
    assert rules == NamingRules(
        namespaces=(("postgres://db:5432", "postgres"),),
        catalogs=(("marquez", "postgres"), ("hive", "")),
        paths=(("^(?:/tmp/x/([^/]+))$", "postgres.public.$1"),),
    )


def test_every_naming_problem_is_reported_at_once(tmp_path: Path):
    conf = tmp_path / "conf.yaml"
    conf.write_text(
        textwrap.dedent(
            """\
            naming:
              namespaces: {}
              catalogs: {marquez: Postgres}
              paths:
                - {match: "/tmp/(", table: a.b}
                - {match: "/tmp/x/([^/]+)", table: "db.$2"}
                - {match: "/tmp/y"}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(conf, env={"COMPLIANCE_HOME": str(tmp_path)})
    lines = str(info.value).splitlines()
    assert lines[0] == "5 configuration problems:"
    assert lines[1:] == [
        f"{conf}: key 'naming.namespaces' is unknown (did you mean 'openlineage_namespaces'?)",
        f"{conf}: key 'naming.catalogs.marquez' is 'Postgres', expected a lower-case catalog "
        'name (letters, digits, _ and -) or "" (drop the catalog)',
        f"{conf}: key 'naming.paths[0].match' is not a valid regular expression (missing ), "
        "unterminated subpattern at position 5)",
        f"{conf}: key 'naming.paths[1].table' refers to $2, but match has 1 group(s)",
        f"{conf}: key 'naming.paths[2]' is {{'match': '/tmp/y'}}, expected a mapping with "
        "exactly match and table",
    ]


def test_without_a_naming_section_there_is_no_rule(tmp_path: Path):
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(tmp_path)})
    assert cfg.naming.empty


# ----------------------------------------------------------------------------- names


def test_canonical_asset(spark):
    names = [
        "postgres.public.customers",
        "Marquez.Public.Customers",
        "/tmp/x/customers",
        "/tmp/x/a/b",  # the rule matches whole names only
        "hive.crm.users",
        "public.customers",
        "my-project.ds.t",
        None,
    ]
    df = spark.createDataFrame([(n,) for n in names], "n string")
    got = [r.c for r in df.select(canonical_asset(F.col("n"), RULES).alias("c")).collect()]
    assert got == [
        "postgres.public.customers",
        "postgres.public.customers",
        "postgres.public.customers",
        "/tmp/x/a/b",
        "crm.users",
        "public.customers",
        "my-project.ds.t",
        None,
    ]


def _ev(etype, when, run, ins=(), outs=(), raw="{}", job="j"):
    ds = [{"namespace": ns, "name": n} for ns, n in ins]
    out = [{"namespace": ns, "name": n} for ns, n in outs]
    return (
        etype,
        datetime.fromisoformat(when),
        run,
        "ns",
        job,
        json.dumps(ds),
        json.dumps(out),
        None,
        raw,
        "f.jsonl",
        1,
        None,
    )


LANDED = (
    "event_type string, event_time timestamp, run_id string, job_namespace string, job_name "
    "string, inputs string, outputs string, extra map<string,string>, raw_json string, "
    "source_file string, line bigint, landed_on date"
)


def test_a_run_started_last_night_counts_when_its_complete_lands(spark):
    pg = "postgres://db:5432"
    yesterday = [
        _ev("START", "2026-11-20 23:50:00", "r1", ins=[(pg, "public.orders")]),
        _ev("START", "2026-11-20 23:55:00", "r2", ins=[(pg, "public.orders")]),
    ]
    tonight = [
        _ev("COMPLETE", "2026-11-21 00:10:00", "r1", outs=[(pg, "public.totals")]),
        _ev("FAIL", "2026-11-21 00:11:00", "r2", outs=[(pg, "public.lost")]),
        # a START only: nothing until its COMPLETE comes
        _ev("START", "2026-11-21 00:12:00", "r3", ins=[(pg, "a.b")], outs=[(pg, "a.c")]),
    ]
    events = spark.createDataFrame(tonight, LANDED)
    history = spark.createDataFrame(yesterday + tonight, LANDED)
    obs = openlineage_observations(events, confidence=0.9, history=history, rules=RULES)
    got = [
        (r.source_asset, r.target_asset, r.evidence, r.seen_count, r.first_seen)
        for r in obs.collect()
    ]
    assert got == [
        (
            "postgres.public.orders",
            "postgres.public.totals",
            ["r1"],
            1,
            datetime(2026, 11, 21, 0, 10),
        )
    ]
    # without the earlier nights the run has no input: no flow
    assert openlineage_observations(events, confidence=0.9, rules=RULES).count() == 0


def test_namespace_rules_prefer_the_longest_prefix(spark):
    events = spark.createDataFrame(
        [
            _ev(
                "COMPLETE",
                "2026-11-21 00:10:00",
                "r1",
                ins=[("postgres://db:5432/other", "s.a"), ("elsewhere", "cat.s.b")],
                outs=[("postgres://db:5432", "s.c")],
            )
        ],
        LANDED,
    )
    got = {
        (r.source_asset, r.target_asset)
        for r in openlineage_observations(events, confidence=0.9, rules=RULES).collect()
    }
    # an unmapped namespace keeps the default naming (the last two parts)
    assert got == {("pg_other.s.a", "postgres.s.c"), ("s.b", "postgres.s.c")}


# ----------------------------------------------------------------------------- catalog


def test_catalog_columns_match_in_any_case(tmp_path: Path):
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "assets:\n  - {name: crm.users, kind: table, owner: o, zone: z, time_column: CreatedAt,"
        " columns: [{name: normalizedEmail, type: string, data_category: contact.email},"
        " {name: CreatedAt, type: timestamp}]}\n",
        encoding="utf-8",
    )
    asset = load_catalog(path).assets[0]
    assert [c.name for c in asset.columns] == ["normalizedemail", "createdat"]
    assert asset.time_column == "createdat"
    assert asset.column("normalizedEmail") is asset.column("normalizedemail") is not None
    path.write_text(
        "assets:\n  - {name: crm.users, kind: table, owner: o, zone: z,"
        " columns: [{name: Email, type: string}, {name: email, type: string}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="duplicate column 'email' in crm.users"):
        load_catalog(path)


def test_did_you_mean_never_suggests_the_rejected_string():
    assert did_you_mean("crm.users", ["crm.users", "crm.user"]) == " (did you mean 'crm.user'?)"
    assert did_you_mean("crm.users", ["crm.users"]) == ""
    assert did_you_mean("Crm.Users", ["crm.users"]) == (
        " (did you mean 'crm.users'? names are lower case)"
    )


# ----------------------------------------------------------------------------- event files


def test_is_document():
    assert is_document('[{"a": 1}]')
    assert is_document('{\n  "eventType": "START"\n}\n')
    assert is_document("{\n")
    assert not is_document('{"a": 1}\n{"b": 2}\n')
    assert not is_document('{"a": 1')  # a cut JSON line: JSON Lines, rejected line by line
    assert not is_document("query,started\n")


def test_split_document_numbers_events_by_their_first_line():
    lines = [(1, "{"), (2, '  "a": 1'), (3, "}"), (4, ""), (5, "{"), (6, '  "b":'), (7, "{")]
    lines += [(8, '  "c": 2'), (9, "}")]
    assert split_document(lines) == [(1, '{"a":1}'), (5, '{\n  "b":'), (7, '{"c":2}')]
    arr = [(1, "["), (2, '{"a": 1},'), (3, '{"b": [1,'), (4, "2]}"), (5, "]"), (6, "tail")]
    assert split_document(arr) == [(2, '{"a":1}'), (3, '{"b":[1,2]}'), (6, "tail")]
    assert split_document([(1, "["), (2, '{"a": 1},')]) == [
        (2, '{"a":1}'),
        (2, "] missing: the JSON array is cut short"),
    ]


def test_the_documented_example_loads(tmp_path: Path):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "naming.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    conf = tmp_path / "conf.yaml"
    conf.write_text(example, encoding="utf-8")
    rules = load_config(conf, env={"COMPLIANCE_HOME": str(tmp_path)}).naming
    assert rules.catalogs == (("marquez", "postgres"),)
    assert len(rules.namespaces) == 2 and len(rules.paths) == 1
