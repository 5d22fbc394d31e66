"""dbt artifacts read without Spark: node records, their query-log rows, the meta/tags mapping to
data categories, format detection and the temporary-name rules, against expectations written from
the fixture project (tests/fixtures/dbt/shop: raw -> staging -> mart, dbt 1.8, manifest v12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audits.dbt.artifacts import folder_records, node_records, schema_version
from audits.dbt.categories import column_categories, is_identifier, main_category
from audits.querylog_formats import FileFormat, convert
from audits.querylog_formats.detect import detect
from lineage.sql import extract_lineage
from lineage.temporary import dbt_real, is_dbt_temp

FIX = Path(__file__).parent / "fixtures" / "dbt"
SHOP = FIX / "shop"


def _texts(*names: str) -> dict[str, str]:
    return {str(SHOP / n): (SHOP / n).read_text(encoding="utf-8") for n in names}


def _rows(texts: dict[str, str]) -> dict[tuple[str, int], object]:
    out = {}
    for src, n, value in folder_records(texts, set(texts)):
        c = convert(value, FileFormat("dbt_manifest"), src)
        out[(Path(src).name, n)] = (
            c.error
            and ("error", c.error)
            or c.skip
            and (
                "skip",
                c.skip,
            )
            or c.row
        )
    return out


def test_each_node_becomes_one_record_in_manifest_order():
    rows = _rows(_texts("manifest.json", "catalog.json", "run_results.json"))
    summary = {
        k: (v.get("query_id"), v.get("action"), v.get("table"), v["status"])
        if isinstance(v, dict)
        else v[0]
        for k, v in rows.items()
    }
    assert summary == {
        ("catalog.json", 1): "skip",
        ("run_results.json", 1): "skip",
        ("manifest.json", 1): ("model.shop.stg_customers", None, None, "ok"),
        ("manifest.json", 2): ("model.shop.stg_orders", None, None, "ok"),
        ("manifest.json", 3): ("model.shop.customers", None, None, "ok"),
        ("manifest.json", 4): "skip",  # ephemeral: inlined as a CTE in email_marketing
        ("manifest.json", 5): ("model.shop.email_marketing", None, None, "failed"),
        ("manifest.json", 6): ("snapshot.shop.customers_snapshot", None, None, "ok"),
        ("manifest.json", 7): (
            "seed.shop.country_codes",
            "WRITE",
            "analytics.raw.country_codes",
            "ok",
        ),
        ("manifest.json", 8): "skip",  # a test
        ("manifest.json", 9): (
            "source.shop.raw.customers",
            "READ",
            "analytics.raw.customers",
            "ok",
        ),
        ("manifest.json", 10): ("source.shop.raw.orders", "READ", "analytics.raw.orders", "ok"),
    }
    assert rows[("manifest.json", 4)][1].startswith("an ephemeral model")
    assert rows[("manifest.json", 8)][1] == "a dbt test: it writes no relation"


def test_a_model_row_is_its_compiled_select_written_to_its_relation():
    row = _rows(_texts("manifest.json", "catalog.json", "run_results.json"))[("manifest.json", 1)]
    assert row["sql"].startswith('CREATE VIEW "analytics"."staging"."stg_customers" AS\nselect\n')
    assert row["sql"].endswith('from "analytics"."raw"."customers"')
    assert (row["engine"], row["default_schema"], row["destination"], row["format"]) == (
        "postgres",
        "staging",
        "analytics.staging.stg_customers",
        "dbt_manifest",
    )
    # the execute step of run_results.json is the time of the row
    assert (row["started_at"], row["finished_at"]) == (
        "2026-11-21T02:01:00.000000Z",
        "2026-11-21T02:01:01.500000Z",
    )
    # the compiled SQL parses into the column lineage raw -> staging
    edges = {
        (e.source, e.target) for e in extract_lineage(row["sql"], dialect="postgres").column_edges
    }
    assert ("analytics.raw.customers.email", "analytics.staging.stg_customers.email") in edges
    assert ("analytics.raw.customers.id", "analytics.staging.stg_customers.customer_id") in edges


def test_columns_carry_catalog_types_and_categories_of_meta_and_tags():
    rows = _rows(_texts("manifest.json", "catalog.json", "run_results.json"))
    src = {c["name"]: c for c in rows[("manifest.json", 9)]["columns"]}
    assert {n: (c["type"], c["data_category"], c["is_identifier"]) for n, c in src.items()} == {
        "id": ("integer", "user.unique_id", True),  # meta is_identifier + pii: customer_id
        "email": ("character varying(256)", "user.contact.email", False),  # catalog key EMAIL
        "first_name": ("text", "user.name", False),  # tag pii:name
        "last_name": ("text", "user.name", False),  # meta data_category
        "created_at": ("timestamp without time zone", None, False),
    }
    stg = {c["name"]: c for c in rows[("manifest.json", 1)]["columns"]}
    assert stg["email"]["data_category"] == "user.contact.email"
    assert stg["full_name"]["data_category"] == "user.name"
    mart = {c["name"]: c for c in rows[("manifest.json", 3)]["columns"]}
    assert mart["email"]["categories"] == ["user"]  # meta pii: true
    assert mart["n_orders"]["categories"] == []  # a tag that is no category
    # a column only in catalog.json keeps its type, without category
    assert mart["lifetime_value"] == {
        "name": "lifetime_value",
        "type": "numeric",
        "categories": [],
        "data_category": None,
        "is_identifier": False,
        "index": 5,
    }


def test_a_failed_node_lands_failed_with_the_run_message():
    row = _rows(_texts("manifest.json", "run_results.json"))[("manifest.json", 5)]
    assert row["status"] == "failed"
    assert row["error"].startswith("dbt run status error: Database Error in model email_marketing")
    assert "__dbt__cte__int_opted_in" in row["sql"]


def test_without_companions_the_manifest_time_and_declared_types_are_used():
    row = _rows(_texts("manifest.json"))[("manifest.json", 3)]
    assert (row["started_at"], row["status"], row["finished_at"]) == (
        "2026-11-21T02:05:00.000000Z",
        "ok",
        None,
    )
    assert [c["name"] for c in row["columns"]] == ["customer_id", "email", "n_orders"]


def test_older_manifest_compiled_sql_and_missing_compiled_code():
    doc = json.loads((SHOP / "manifest.json").read_text(encoding="utf-8"))
    doc["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v6.json"
    node = doc["nodes"]["model.shop.stg_orders"]
    node["compiled_sql"] = node.pop("compiled_code")
    del doc["nodes"]["model.shop.customers"]["compiled_code"]  # as `dbt parse` writes it
    recs = {r.get("unique_id"): r for r in node_records(json.dumps(doc))}
    assert recs["model.shop.stg_orders"]["sql"].startswith("select id as order_id")
    assert recs["model.shop.stg_orders"]["manifest_version"] == 6
    c = convert(json.dumps(recs["model.shop.customers"]), FileFormat("dbt_manifest"))
    assert c.row is None
    assert c.error.startswith("dbt manifest: model.shop.customers: no compiled SQL (compiled_code)")


def test_unknown_version_and_truncated_manifest_are_named():
    v99 = (FIX / "bad" / "v99" / "manifest.json").read_bytes()
    found = detect(v99[:65536], complete=False, file_name="v99/manifest.json")
    assert found.name is None
    assert found.problem == (
        "dbt manifest schema v99 is not supported (supported: v5, v6, v7, v8, v9, v10, v11, v12, "
        "v20): the file is not read"
    )
    cut = (FIX / "bad" / "cut" / "manifest.json").read_text(encoding="utf-8")
    assert detect(cut, file_name="cut/manifest.json").name == "dbt_manifest"
    (rec,) = folder_records({"cut/manifest.json": cut}, {"cut/manifest.json"})
    c = convert(rec[2], FileFormat("dbt_manifest"))
    assert rec[:2] == ("cut/manifest.json", 1)
    assert c.error == (
        "dbt manifest: the dbt manifest is not valid JSON: Unterminated string starting at at "
        "character 2988 (the file ends after 3000 characters, before the JSON does: truncated?)"
    )


def test_a_broken_companion_is_rejected_and_the_manifest_still_lands():
    texts = _texts("manifest.json", "run_results.json")
    texts[str(SHOP / "catalog.json")] = (SHOP / "catalog.json").read_text(encoding="utf-8")[:500]
    rows = _rows(texts)
    assert rows[("catalog.json", 1)][0] == "error"
    assert rows[("catalog.json", 1)][1].startswith(
        "dbt catalog: catalog.json: the dbt catalog is not valid JSON"
    )
    assert rows[("manifest.json", 1)]["status"] == "ok"
    assert len([k for k in rows if k[0] == "manifest.json"]) == 10


def test_detection_and_schema_versions():
    assert schema_version((SHOP / "run_results.json").read_text(encoding="utf-8")) == (
        "run-results",
        6,
    )
    for name, fmt in (
        ("manifest.json", "dbt_manifest"),
        ("catalog.json", "dbt_catalog"),
        ("run_results.json", "dbt_run_results"),
    ):
        assert detect((SHOP / name).read_bytes()[:65536], complete=False).name == fmt
    sources = (
        '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json"}}'
    )
    assert detect(sources).problem.startswith("dbt artifact 'sources' (v3) is not one the product")


@pytest.mark.parametrize(
    ("meta", "tags", "expected", "identifier"),
    [
        ({"pii": "email"}, [], ["user.contact.email"], False),
        ({"pii": True}, [], ["user"], False),
        ({"pii": False}, [], [], False),
        ({"pii": "shoe_size"}, [], ["user"], False),  # an unknown word: personal, kind unsaid
        ({"category": "user.contact.email"}, [], ["user.contact.email"], False),
        (
            {"data_categories": ["user.name", "system.operations"]},
            [],
            ["system.operations", "user.name"],
            False,
        ),
        ({"contains_pii": "yes"}, [], ["user"], False),
        ({}, ["pii"], ["user"], False),
        ({}, ["PII-Phone"], ["user.contact.phone_number"], False),
        ({}, ["user.device.ip_address", "nightly"], ["user.device.ip_address"], False),
        ({"is_identifier": True}, [], [], True),
        ({}, ["identifier"], [], True),
        ({"pii": "user_id"}, [], ["user.unique_id"], True),
        (None, None, [], False),
    ],
)
def test_meta_and_tags_mapping(meta, tags, expected, identifier):
    cats = column_categories(meta, tags)
    assert cats == expected
    assert is_identifier(meta, tags, cats) is identifier


def test_main_category_is_the_most_specific():
    assert main_category(["user", "user.contact.email", "user.name"]) == "user.contact.email"
    assert main_category([]) is None


def test_dbt_temporary_names():
    assert is_dbt_temp("analytics.mart.orders__dbt_tmp")
    assert is_dbt_temp("orders__dbt_tmp143501123456")
    assert is_dbt_temp("a.orders__dbt_backup")
    assert not is_dbt_temp("a.orders_tmp")
    assert dbt_real("analytics.mart.orders__dbt_tmp_20261121") == "analytics.mart.orders"
    assert dbt_real("a.b") == "a.b"


def test_a_dbt_temporary_view_never_read_in_its_text_is_written():
    # dbt-snowflake's incremental model: the temporary view is read by the next query-history row
    r = extract_lineage(
        "create or replace temporary view a.m.ltv__dbt_tmp as (select id, v from a.m.customers)",
        dialect="snowflake",
    )
    assert sorted((e.source, e.target) for e in r.column_edges) == [
        ("a.m.customers.id", "a.m.ltv__dbt_tmp.id"),
        ("a.m.customers.v", "a.m.ltv__dbt_tmp.v"),
    ]
    # any other temporary view never read still leaves no edge
    assert not extract_lineage(
        "create temporary view v as select a from s", dialect="spark"
    ).column_edges
