"""Tests of lineage.signals.merge: OpenLineage, training-config and probe observations, signal merging."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lineage.signals.merge import (
    MERGED_SCHEMA,
    OBSERVATION_SCHEMA,
    config_observations,
    flows_not_observed,
    merge_signals,
    openlineage_observations,
    probe_observations,
)

LANDED_OPENLINEAGE = (
    "event_type string, event_time timestamp, run_id string, job_namespace string, job_name string, "
    "inputs string, outputs string, extra map<string,string>, raw_json string, source_file string, "
    "line bigint, landed_on date"
)
LANDED_CONFIGS = (
    "model_name string, input_dataset string, features string, output_model string, "
    "extra map<string,string>, source_file string, line bigint, landed_on date"
)
LANDED_PROBES = (
    "request_id string, ts timestamp, role string, asset string, field string, "
    "value_hashes array<string>, extra map<string,string>, source_file string, line bigint, landed_on date"
)
PROBE_OBS_SCHEMA = OBSERVATION_SCHEMA + ", match string"
DAY = date(2026, 11, 20)


def t(text: str) -> datetime:
    """A naive UTC datetime (the test session's time zone is UTC)."""
    return datetime.fromisoformat(text)


def _eq(actual, expected) -> None:
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


# ---------------------------------------------------------------------------------------- OpenLineage


def _ds(ns: str, name: str, facets: dict | None = None) -> dict:
    return {"namespace": ns, "name": name, "facets": facets or {}}


def _field(
    name: str, column: str, *transformations: tuple[str, str, bool], ns: str = "warehouse"
) -> dict:
    entry: dict = {"namespace": ns, "name": name, "field": column}
    if transformations:
        entry["transformations"] = [
            {"type": ty, "subtype": st, "description": "", "masking": m}
            for ty, st, m in transformations
        ]
    return entry


def _event(event_type: str, when: str, run: str, inputs: list, outputs: list) -> tuple:
    return (
        event_type,
        t(when),
        run,
        "airflow",
        "etl.job",
        json.dumps(inputs),
        json.dumps(outputs),
        None,
        "{}",
        "events.jsonl",
        1,
        DAY,
    )


CLEAN_FACET = {
    "columnLineage": {
        "fields": {
            "Email": {
                "inputFields": [
                    _field(
                        "crm.customers",
                        "email",
                        ("DIRECT", "TRANSFORMATION", True),
                        ("INDIRECT", "FILTER", False),
                    )
                ]
            },
            "id": {"inputFields": [_field("crm.customers", "customer_id")]},
        },
        "dataset": [_field("crm.accounts", "account_id", ("INDIRECT", "JOIN", False))],
    }
}
LEGACY_FACET = {
    "columnLineage": {
        "fields": {
            "phone": {
                "inputFields": [
                    {"namespace": "warehouse", "name": "crm.customers", "field": "phone"}
                ],
                "transformationType": "MASKED",
                "transformationDescription": "sha2",
            }
        }
    }
}


def test_openlineage_observations(spark):
    clean_in = [_ds("warehouse", "crm.customers"), _ds("warehouse", "crm.accounts")]
    clean_out = [_ds("warehouse", "Staging.Customers_Clean", CLEAN_FACET)]
    events = spark.createDataFrame(
        [
            # r1: START ignored; COMPLETE sent twice -> one observation per flow for the run
            _event(
                "START",
                "2026-11-19 01:00:00",
                "r1",
                clean_in,
                [_ds("warehouse", "staging.customers_clean")],
            ),
            _event("COMPLETE", "2026-11-19 01:03:00", "r1", clean_in, clean_out),
            _event("COMPLETE", "2026-11-19 01:04:00", "r1", clean_in, clean_out),
            # r2: catalog-qualified name in another namespace, no facets, a self-edge
            _event(
                "COMPLETE",
                "2026-11-20 01:03:00",
                "r2",
                [
                    _ds("hive://metastore", "hive.crm.customers"),
                    _ds("warehouse", "staging.customers_clean"),
                ],
                [_ds("warehouse", "staging.customers_clean")],
            ),
            # r3: a failed run adds nothing
            _event(
                "START",
                "2026-11-20 02:00:00",
                "r3",
                [_ds("warehouse", "crm.customers")],
                [_ds("warehouse", "ads.x")],
            ),
            _event(
                "FAIL",
                "2026-11-20 02:03:00",
                "r3",
                [_ds("warehouse", "crm.customers")],
                [_ds("warehouse", "ads.x")],
            ),
            # r4: 1-0 facet with a field-level transformationType
            _event(
                "complete",
                "2026-11-20 03:03:00",
                "r4",
                [_ds("warehouse", "crm.customers")],
                [_ds("superset", "marts.phones", LEGACY_FACET)],
            ),
        ],
        LANDED_OPENLINEAGE,
    )

    actual = openlineage_observations(events, confidence=0.9)

    ol = "openlineage"
    expected = spark.createDataFrame(
        [
            (
                "crm.customers",
                None,
                "staging.customers_clean",
                None,
                "DIRECT",
                "TRANSFORMATION",
                False,
                ol,
                0.9,
                ["r1", "r2"],
                t("2026-11-19 01:03:00"),
                t("2026-11-20 01:03:00"),
                2,
            ),
            (
                "crm.accounts",
                None,
                "staging.customers_clean",
                None,
                "DIRECT",
                "TRANSFORMATION",
                False,
                ol,
                0.9,
                ["r1"],
                t("2026-11-19 01:03:00"),
                t("2026-11-19 01:04:00"),
                1,
            ),
            (
                "crm.customers",
                "email",
                "staging.customers_clean",
                "email",
                "DIRECT",
                "TRANSFORMATION",
                True,
                ol,
                0.9,
                ["r1"],
                t("2026-11-19 01:03:00"),
                t("2026-11-19 01:04:00"),
                1,
            ),
            (
                "crm.customers",
                "email",
                "staging.customers_clean",
                "email",
                "INDIRECT",
                "FILTER",
                False,
                ol,
                0.9,
                ["r1"],
                t("2026-11-19 01:03:00"),
                t("2026-11-19 01:04:00"),
                1,
            ),
            (
                "crm.customers",
                "customer_id",
                "staging.customers_clean",
                "id",
                "DIRECT",
                "IDENTITY",
                False,
                ol,
                0.9,
                ["r1"],
                t("2026-11-19 01:03:00"),
                t("2026-11-19 01:04:00"),
                1,
            ),
            (
                "crm.accounts",
                "account_id",
                "staging.customers_clean",
                None,
                "INDIRECT",
                "JOIN",
                False,
                ol,
                0.9,
                ["r1"],
                t("2026-11-19 01:03:00"),
                t("2026-11-19 01:04:00"),
                1,
            ),
            (
                "crm.customers",
                None,
                "marts.phones",
                None,
                "DIRECT",
                "TRANSFORMATION",
                False,
                ol,
                0.9,
                ["r4"],
                t("2026-11-20 03:03:00"),
                t("2026-11-20 03:03:00"),
                1,
            ),
            (
                "crm.customers",
                "phone",
                "marts.phones",
                "phone",
                "DIRECT",
                "TRANSFORMATION",
                True,
                ol,
                0.9,
                ["r4"],
                t("2026-11-20 03:03:00"),
                t("2026-11-20 03:03:00"),
                1,
            ),
        ],
        OBSERVATION_SCHEMA,
    )
    _eq(actual, expected)


def test_openlineage_ignores_unparseable_and_empty_arrays(spark):
    events = spark.createDataFrame(
        [
            (
                "COMPLETE",
                t("2026-11-19 01:00:00"),
                "r1",
                "airflow",
                "j",
                None,
                None,
                None,
                "{}",
                "f",
                1,
                DAY,
            ),
            (
                "COMPLETE",
                t("2026-11-19 01:00:00"),
                "r2",
                "airflow",
                "j",
                "not json",
                "[]",
                None,
                "{}",
                "f",
                2,
                DAY,
            ),
            (
                "COMPLETE",
                t("2026-11-19 01:00:00"),
                "r3",
                "airflow",
                "j",
                "[]",
                json.dumps([_ds("warehouse", "a.b")]),
                None,
                "{}",
                "f",
                3,
                DAY,
            ),
        ],
        LANDED_OPENLINEAGE,
    )
    actual = openlineage_observations(events, confidence=0.9)
    _eq(actual, spark.createDataFrame([], OBSERVATION_SCHEMA))


# ---------------------------------------------------------------------------------------- configs


def _config(
    model: str | None, dataset: str | None, features: list, output: str | None, file: str
) -> tuple:
    return (model, dataset, json.dumps(features), output, None, file, None, DAY)


def test_config_observations(spark):
    churn_features = [
        "n_sessions",
        {"name": "mrr", "sources": ["ml.churn_features.mrr"]},
        {"name": "n_tickets", "sources": ["churn_features.n_tickets"]},
    ]
    configs = spark.createDataFrame(
        [
            _config(
                "ml.churn_model",
                "asset://warehouse.table/ml.churn_features",
                churn_features,
                "asset://mlflow.model/ml.churn_model",
                "churn_model.json",
            ),
            _config(
                "ml.churn_model",
                "asset://warehouse.table/ml.churn_features",
                ["n_sessions"],
                "asset://mlflow.model/ml.churn_model",
                "churn_model_v2.yaml",
            ),
            # no output_model: the model name; sources: another table, a bare column, two sources
            _config(
                "ML.LTV_Model",
                "asset://warehouse.table/ml.ltv_features",
                [
                    {"name": "Amount", "sources": ["total_amount"]},
                    {"name": "geo", "sources": ["ml.ltv_features.country", "crm.addresses.city"]},
                ],
                None,
                "ltv_model.yaml",
            ),
            # broken: no input dataset, a bare feature -> nothing to link it to
            _config(
                "ml.broken_model",
                None,
                ["x"],
                "asset://mlflow.model/ml.broken_model",
                "broken_model.json",
            ),
        ],
        LANDED_CONFIGS,
    )

    actual = config_observations(configs, confidence=0.8)

    d20 = t("2026-11-20 00:00:00")

    def row(sa, sc, ta, tc, files):
        return (
            sa,
            sc,
            ta,
            tc,
            "DIRECT",
            "TRANSFORMATION",
            False,
            "config",
            0.8,
            files,
            d20,
            d20,
            len(files),
        )

    both = ["churn_model.json", "churn_model_v2.yaml"]
    expected = spark.createDataFrame(
        [
            row("ml.churn_features", None, "ml.churn_model", None, both),
            row("ml.churn_features", None, "ml.churn_model", "n_sessions", both),
            row("ml.churn_features", "mrr", "ml.churn_model", "mrr", ["churn_model.json"]),
            row(
                "ml.churn_features",
                "n_tickets",
                "ml.churn_model",
                "n_tickets",
                ["churn_model.json"],
            ),
            row("ml.ltv_features", None, "ml.ltv_model", None, ["ltv_model.yaml"]),
            row("ml.ltv_features", "total_amount", "ml.ltv_model", "amount", ["ltv_model.yaml"]),
            row("ml.ltv_features", "country", "ml.ltv_model", "geo", ["ltv_model.yaml"]),
            row("crm.addresses", "city", "ml.ltv_model", "geo", ["ltv_model.yaml"]),
        ],
        OBSERVATION_SCHEMA,
    )
    _eq(actual, expected)


# ---------------------------------------------------------------------------------------- probes


def _probe(
    req: str, when: str, role: str, asset: str, field: str | None, hashes: list | None
) -> tuple:
    return (req, t(when), role, asset, field, hashes, None, "probes.jsonl", None, DAY)


def test_probe_observations(spark):
    probes = spark.createDataFrame(
        [
            _probe("req-1", "2026-11-19 10:00:00", "source", "api.signup", "email", ["h1", "h1"]),
            _probe("req-1", "2026-11-19 10:00:00", "source", "api.signup", "full_name", ["h2"]),
            _probe("req-1", "2026-11-19 10:00:01", "sink", "app.users", "email", ["h1"]),
            _probe(
                "req-1",
                "2026-11-19 10:00:01",
                "sink",
                "support.tickets",
                "body",
                ["h9", "h2", "h1"],
            ),
            _probe("req-1", "2026-11-19 10:00:01", "sink", "logs.signup", None, ["h8"]),
            # req-2: the sink written twice, an empty source, a mixed-case asset, an unknown role
            _probe("req-2", "2026-11-19 11:00:00", "source", "api.signup", "email", ["h5"]),
            _probe("req-2", "2026-11-19 11:00:00", "source", "api.signup", "full_name", []),
            _probe("req-2", "2026-11-19 11:00:01", "sink", "App.Users", "email", ["h5"]),
            _probe("req-2", "2026-11-19 11:00:05", "sink", "app.users", "email", ["h5"]),
            _probe("req-2", "2026-11-19 11:00:05", "middle", "app.cache", "email", ["h5"]),
            # req-3: a sink without any source
            _probe("req-3", "2026-11-19 12:00:00", "sink", "app.users", "email", ["h7"]),
        ],
        LANDED_PROBES,
    )

    actual = probe_observations(probes, match_confidence=0.95, no_match_confidence=0.2)

    def row(sc, ta, tc, match, reqs, first, last):
        subtype = "IDENTITY" if match == "EXACT_MATCH" else "TRANSFORMATION"
        conf = 0.2 if match == "NO_MATCH" else 0.95
        return (
            "api.signup",
            sc,
            ta,
            tc,
            "DIRECT",
            subtype,
            False,
            "probe",
            conf,
            [f"{match}:{r}" for r in reqs],
            t(first),
            t(last),
            len(reqs),
            match,
        )

    expected = spark.createDataFrame(
        [
            row(
                "email",
                "app.users",
                "email",
                "EXACT_MATCH",
                ["req-1", "req-2"],
                "2026-11-19 10:00:00",
                "2026-11-19 11:00:05",
            ),
            row(
                "email",
                "support.tickets",
                "body",
                "CONTAINS",
                ["req-1"],
                "2026-11-19 10:00:00",
                "2026-11-19 10:00:01",
            ),
            row(
                "email",
                "logs.signup",
                None,
                "NO_MATCH",
                ["req-1"],
                "2026-11-19 10:00:00",
                "2026-11-19 10:00:01",
            ),
            row(
                "full_name",
                "app.users",
                "email",
                "NO_MATCH",
                ["req-1", "req-2"],
                "2026-11-19 10:00:00",
                "2026-11-19 11:00:05",
            ),
            row(
                "full_name",
                "support.tickets",
                "body",
                "CONTAINS",
                ["req-1"],
                "2026-11-19 10:00:00",
                "2026-11-19 10:00:01",
            ),
            row(
                "full_name",
                "logs.signup",
                None,
                "NO_MATCH",
                ["req-1"],
                "2026-11-19 10:00:00",
                "2026-11-19 10:00:01",
            ),
        ],
        PROBE_OBS_SCHEMA,
    )
    _eq(actual, expected)


def test_probe_evidence_keeps_ten_smallest_requests(spark):
    rows = []
    for k in range(12, 0, -1):
        rows.append(
            _probe(
                f"req-{k:02d}", f"2026-11-{k + 1:02d} 10:00:00", "source", "api.a", "x", [f"h{k}"]
            )
        )
        rows.append(
            _probe(f"req-{k:02d}", f"2026-11-{k + 1:02d} 10:00:00", "sink", "db.t", "x", [f"h{k}"])
        )
    actual = probe_observations(
        spark.createDataFrame(rows, LANDED_PROBES), match_confidence=0.9, no_match_confidence=0.1
    )
    expected = spark.createDataFrame(
        [
            (
                "api.a",
                "x",
                "db.t",
                "x",
                "DIRECT",
                "IDENTITY",
                False,
                "probe",
                0.9,
                [f"EXACT_MATCH:req-{k:02d}" for k in range(1, 11)],
                t("2026-11-02 10:00:00"),
                t("2026-11-13 10:00:00"),
                12,
                "EXACT_MATCH",
            ),
        ],
        PROBE_OBS_SCHEMA,
    )
    _eq(actual, expected)


def test_probe_payloads_are_compared_line_by_line(spark):
    probes = spark.createDataFrame(
        [
            _probe("req-1", "2026-11-19 10:00:00", "source", "api.a", "x", ["h1"]),
            _probe("req-1", "2026-11-19 10:00:01", "sink", "db.t", "x", ["h1"]),  # the value itself
            _probe("req-1", "2026-11-19 10:00:02", "sink", "db.t", "x", ["h2"]),  # another write
            _probe("req-2", "2026-11-19 11:00:00", "source", "api.a", "x", ["h3", "h4"]),
            _probe(
                "req-2", "2026-11-19 11:00:01", "sink", "db.t", "x", ["h3"]
            ),  # only a part each:
            _probe(
                "req-2", "2026-11-19 11:00:02", "sink", "db.t", "x", ["h4"]
            ),  # no payload matches
        ],
        LANDED_PROBES,
    )
    actual = probe_observations(probes, match_confidence=0.9, no_match_confidence=0.1)
    expected = spark.createDataFrame(
        [
            (
                "api.a",
                "x",
                "db.t",
                "x",
                "DIRECT",
                "IDENTITY",
                False,
                "probe",
                0.9,
                ["EXACT_MATCH:req-1"],
                t("2026-11-19 10:00:00"),
                t("2026-11-19 10:00:02"),
                1,
                "EXACT_MATCH",
            ),
            (
                "api.a",
                "x",
                "db.t",
                "x",
                "DIRECT",
                "TRANSFORMATION",
                False,
                "probe",
                0.1,
                ["NO_MATCH:req-2"],
                t("2026-11-19 11:00:00"),
                t("2026-11-19 11:00:02"),
                1,
                "NO_MATCH",
            ),
        ],
        PROBE_OBS_SCHEMA,
    )
    _eq(actual, expected)


def test_flows_not_observed(spark):
    def obs(sa, ta, match, last):
        return (
            sa,
            "c",
            ta,
            "c",
            "DIRECT",
            "IDENTITY",
            False,
            "probe",
            0.9,
            [],
            t(last),
            t(last),
            1,
            match,
        )

    probe_obs = spark.createDataFrame(
        [
            obs("api.signup", "app.users", "EXACT_MATCH", "2026-11-20 10:00:00"),
            obs("api.signup", "recs.feed", "NO_MATCH", "2026-11-20 10:00:00"),
            obs("api.signup", "crm.customers", "EXACT_MATCH", "2026-11-01 10:00:00"),
            obs("api.signup", "crm.customers", "NO_MATCH", "2026-11-20 10:00:00"),
            obs("api.checkout", "billing.payments", "CONTAINS", "2026-11-20 10:00:00"),
            obs("api.old", "billing.payments", "EXACT_MATCH", "2026-11-01 10:00:00"),
        ],
        PROBE_OBS_SCHEMA,
    )

    def edge(sa, sc, ta, tc, signal):
        return (
            sa,
            sc,
            ta,
            tc,
            "DIRECT",
            "IDENTITY",
            False,
            signal,
            0.9,
            [],
            t("2026-11-20 00:00:00"),
            t("2026-11-20 00:00:00"),
            1,
        )

    static = spark.createDataFrame(
        [
            edge("api.signup", "email", "app.users", "email", "sql"),  # observed
            edge("api.signup", "email", "recs.feed", "email", "sql"),  # gated
            edge("api.signup", "religion", "recs.feed", "religion", "openlineage"),  # same pair
            edge("api.signup", None, "crm.customers", None, "config"),  # seen only before window
            edge("api.checkout", None, "app.users", None, "sql"),  # gated
            edge("api.old", None, "billing.payments", None, "sql"),  # api.old not probed lately
            edge("crm.customers", None, "staging.crm_customers", None, "sql"),  # not probed
            edge("app.users", None, "recs.feed", None, "sql"),  # app.users never a source
            edge("api.checkout", None, "recs.feed", None, "probe"),  # probe edges are not static
        ],
        OBSERVATION_SCHEMA,
    )

    actual = flows_not_observed(static, probe_obs, window_start=datetime(2026, 11, 15))
    expected = spark.createDataFrame(
        [
            ("api.signup", "recs.feed", "not observed"),
            ("api.signup", "crm.customers", "not observed"),
            ("api.checkout", "app.users", "not observed"),
        ],
        "source_asset string, target_asset string, status string",
    )
    _eq(actual, expected)


# ---------------------------------------------------------------------------------------- merging


def test_merge_signals(spark):
    def o(sc, tc, subtype, masking, signal, conf, ev, first, last, n):
        return (
            "crm.customers",
            sc,
            "staging.c",
            tc,
            "DIRECT",
            subtype,
            masking,
            signal,
            conf,
            ev,
            t(first),
            t(last),
            n,
        )

    sql = spark.createDataFrame(
        [
            o(
                "email",
                "email",
                "IDENTITY",
                False,
                "sql",
                0.95,
                ["q1", "q2"],
                "2026-11-18 00:00:00",
                "2026-11-19 00:00:00",
                2,
            ),
            o(
                "email",
                "email",
                "TRANSFORMATION",
                True,
                "sql",
                0.95,
                ["q3"],
                "2026-11-18 00:00:00",
                "2026-11-18 00:00:00",
                1,
            ),
            o(
                None,
                None,
                "TRANSFORMATION",
                False,
                "x",
                0.5,
                [f"e{k:02d}" for k in range(10)],
                "2026-11-10 00:00:00",
                "2026-11-10 00:00:00",
                10,
            ),
        ],
        OBSERVATION_SCHEMA,
    )
    others = spark.createDataFrame(
        [
            o(
                "email",
                "email",
                "IDENTITY",
                True,
                "openlineage",
                0.9,
                ["r1"],
                "2026-11-17 00:00:00",
                "2026-11-18 00:00:00",
                1,
            ),
            o(
                None,
                None,
                "TRANSFORMATION",
                False,
                "config",
                0.8,
                ["f0", "f1", "f2"],
                "2026-11-20 00:00:00",
                "2026-11-20 00:00:00",
                3,
            ),
        ],
        OBSERVATION_SCHEMA,
    )
    probes = spark.createDataFrame(
        [
            o(
                "email",
                "email",
                "IDENTITY",
                False,
                "probe",
                0.97,
                ["EXACT_MATCH:req-1"],
                "2026-11-20 10:00:00",
                "2026-11-20 10:00:00",
                3,
            )
            + ("EXACT_MATCH",),
        ],
        PROBE_OBS_SCHEMA,
    )

    actual = merge_signals([sql, others, probes])

    expected = spark.createDataFrame(
        [
            (
                "crm.customers",
                "email",
                "staging.c",
                "email",
                "DIRECT",
                "IDENTITY",
                False,
                ["openlineage", "probe", "sql"],
                0.97,
                ["openlineage:r1", "probe:EXACT_MATCH:req-1", "sql:q1", "sql:q2"],
                t("2026-11-17 00:00:00"),
                t("2026-11-20 10:00:00"),
                6,
            ),
            (
                "crm.customers",
                "email",
                "staging.c",
                "email",
                "DIRECT",
                "TRANSFORMATION",
                True,
                ["sql"],
                0.95,
                ["sql:q3"],
                t("2026-11-18 00:00:00"),
                t("2026-11-18 00:00:00"),
                1,
            ),
            (
                "crm.customers",
                None,
                "staging.c",
                None,
                "DIRECT",
                "TRANSFORMATION",
                False,
                ["config", "x"],
                0.8,
                ["config:f0", "config:f1", "config:f2"] + [f"x:e{k:02d}" for k in range(7)],
                t("2026-11-10 00:00:00"),
                t("2026-11-20 00:00:00"),
                13,
            ),
        ],
        MERGED_SCHEMA,
    )
    _eq(actual, expected)


# ---------------------------------------------------------------------------------------- the demo company

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    from jobs.demo import generate_demo

    out = tmp_path_factory.mktemp("signals_demo")
    generate_demo(out, as_of=AS_OF)
    return out


def _truth(demo: Path) -> dict:
    return json.loads((demo / "ground_truth.json").read_text(encoding="utf-8"))


def _landed_probes(spark, demo: Path):
    raw = spark.read.json(
        str(demo / "inputs" / "probe_samples"),
        mode="PERMISSIVE",
        schema=(
            "request_id string, ts string, role string, asset string, field string, value_hashes array<string>"
        ),
    )
    return raw.select(
        "request_id",
        F.try_to_timestamp(F.col("ts")).alias("ts"),
        "role",
        "asset",
        "field",
        "value_hashes",
        F.lit(None).cast("map<string,string>").alias("extra"),
        F.lit("probes.jsonl").alias("source_file"),
        F.lit(None).cast("bigint").alias("line"),
        F.lit(AS_OF).alias("landed_on"),
    ).filter(
        F.col("request_id").isNotNull()
        & F.col("ts").isNotNull()
        & F.col("role").isin("source", "sink")
        & F.col("asset").isNotNull()
        & F.col("value_hashes").isNotNull()
    )


def test_probe_precision_recall_on_demo(spark, demo):
    truth = _truth(demo)
    probes = _landed_probes(spark, demo)
    obs = probe_observations(probes, match_confidence=0.95, no_match_confidence=0.2)
    kinds = {"EXACT_MATCH": "EXACT", "CONTAINS": "CONTAINS"}
    found = {
        (
            f"{r.source_asset}.{r.source_column}",
            f"{r.target_asset}.{r.target_column}",
            kinds[r.match],
        ): r.seen_count
        for r in obs.filter(F.col("match") != "NO_MATCH").collect()
    }  # a few dozen flows
    true = {(f["source"], f["target"], f["match"]): f["observations"] for f in truth["probe_flows"]}
    hits = set(found) & set(true)
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(true)
    print(
        f"\nprobe EXACT/CONTAINS flows: found {len(found)}, true {len(true)}, "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    assert precision >= 0.95 and recall >= 0.95
    # the observation counts agree too, and every NO_MATCH pair of the truth is a NO_MATCH flow
    assert {k: found[k] for k in hits} == {k: true[k] for k in hits}
    no_match = {
        (f"{r.source_asset}.{r.source_column}", f"{r.target_asset}.{r.target_column}"): r.seen_count
        for r in obs.filter(F.col("match") == "NO_MATCH").collect()
    }
    assert no_match == {
        (f["source"], f["target"]): f["observations"] for f in truth["probe_no_match_pairs"]
    }


def test_openlineage_on_demo(spark, demo):
    truth = _truth(demo)["openlineage"]
    text = spark.read.text(str(demo / "inputs" / "openlineage"))

    def j(path: str):
        return F.get_json_object("value", path)

    events = text.select(
        j("$.eventType").alias("event_type"),
        F.try_to_timestamp(j("$.eventTime")).alias("event_time"),
        j("$.run.runId").alias("run_id"),
        j("$.job.namespace").alias("job_namespace"),
        j("$.job.name").alias("job_name"),
        j("$.inputs").alias("inputs"),
        j("$.outputs").alias("outputs"),
        F.lit(None).cast("map<string,string>").alias("extra"),
        F.col("value").alias("raw_json"),
        F.lit("x.jsonl").alias("source_file"),
        F.lit(None).cast("bigint").alias("line"),
        F.lit(AS_OF).alias("landed_on"),
    ).filter(F.col("event_time").isNotNull() & F.col("run_id").isNotNull())
    obs = openlineage_observations(events, confidence=0.9).collect()  # a few hundred flows
    tables = {
        (r.source_asset, r.target_asset)
        for r in obs
        if r.source_column is None and r.target_column is None
    }
    assert tables == {(f["source"], f["target"]) for f in truth["table_flows"]}
    columns = {
        (
            f"{r.source_asset}.{r.source_column}",
            f"{r.target_asset}.{r.target_column}" if r.target_column else r.target_asset,
            r.transformation_type,
            r.transformation_subtype,
            r.masking,
        )
        for r in obs
        if r.source_column is not None
    }
    assert columns == {
        (f["source"], f["target"], f["type"], f["subtype"], f["masking"])
        for f in truth["column_flows"]
    }
    failed = {(f["source"], f["target"]) for f in truth["ignored_runs"]}
    assert not failed & tables


def test_configs_on_demo(spark, demo):
    truth = _truth(demo)["config_flows"]
    rows = []
    for path in sorted((demo / "inputs" / "training_configs").iterdir()):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not doc.get("input_dataset"):
            continue  # the landing step rejects it
        rows.append(
            _config(
                doc.get("model_name"),
                doc["input_dataset"],
                doc.get("features", []),
                doc.get("output_model"),
                path.name,
            )
        )
    obs = config_observations(spark.createDataFrame(rows, LANDED_CONFIGS), confidence=0.8).collect()
    found = {
        (
            r.source_asset + (f".{r.source_column}" if r.source_column else ""),
            r.target_asset + (f".{r.target_column}" if r.target_column else ""),
        )
        for r in obs
    }
    declared = {(f["source"], f["target"]) for f in truth}
    assert declared <= found
    # the rest are the features without declared sources, linked to the input dataset
    assert found - declared == {
        ("ml.churn_features", "ml.churn_model.n_sessions"),
        ("ml.ltv_features", "ml.ltv_model.n_invoices"),
    }
