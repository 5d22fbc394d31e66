"""End to end: dbt artifacts and a query log of dbt's runtime SQL landed and ingested.

ONE module-scoped run of the landing and ingest steps on a small home: the query-log folder holds
the fixture project's ``target/`` (tests/fixtures/dbt/shop: manifest v12, catalog, run results),
a manifest of an unknown schema version and a truncated one, and a query log of the statements
dbt and a hand-written job run (tests/fixtures/dbt/runtime: a ``__dbt_tmp`` built and RENAMEd
into place, an incremental MERGE from a temporary view, a Snowflake SWAP WITH). The tests read
its tables.
"""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

FIX = Path(__file__).parent / "fixtures" / "dbt"
RUN_DATE = date(2026, 11, 21)


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress
    from jobs.steps.ingest import ingest
    from jobs.steps.land import land_inputs
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("dbt")
    folder = home / "inputs" / "query_logs"
    shutil.copytree(FIX / "shop", folder / "dbt" / "target")
    shutil.copytree(FIX / "bad", folder / "dbt_bad")
    shutil.copytree(FIX / "runtime", folder / "runtime")
    (home / "inputs" / "catalog.yaml").write_text("assets: []\n", encoding="utf-8")
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(home)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, RUN_DATE, Progress(io.StringIO()))
    landing = land_inputs(ctx)
    ingested = ingest(ctx)
    return SimpleNamespace(folder=folder, store=store, landing=landing, ingested=ingested)


def _name(landed, path: str) -> str:
    return str(Path(path).relative_to(landed.folder))


def test_every_record_is_landed_rejected_or_counted(landed):
    files = {
        _name(landed, r.source): (r.lines, r.accepted, r.rejected, r.skipped)
        for r in landed.store.read("landed_files").collect()
    }
    assert files == {
        # 10 records: 6 nodes with a relation and 2 sources land, an ephemeral model and a test
        # are counted (``lines`` counts the landed, rejected and held ones, as for every file)
        "dbt/target/manifest.json": (8, 8, 0, 2),
        "dbt/target/catalog.json": (0, 0, 0, 1),  # read with the manifest
        "dbt/target/run_results.json": (0, 0, 0, 1),
        "dbt_bad/cut/manifest.json": (1, 0, 1, 0),
        "runtime/queries.jsonl": (9, 9, 0, 0),
    }
    q = landed.landing.details["query_logs"]
    assert (q["accepted"], q["rejected"], q["skipped"], q["files_not_read"]) == (17, 1, 4, 1)


def test_bad_manifests_are_named_with_their_problem(landed):
    got = {
        (_name(landed, r.source), r.location): r.reason
        for r in landed.store.read("rejected_inputs").collect()
    }
    assert got == {
        ("dbt_bad/v99/manifest.json", "file"): (
            "dbt manifest schema v99 is not supported (supported: v5, v6, v7, v8, v9, v10, v11, "
            "v12, v20): the file is not read"
        ),
        ("dbt_bad/cut/manifest.json", "line 1"): (
            "dbt manifest: the dbt manifest is not valid JSON: Unterminated string starting at at "
            "character 2988 (the file ends after 3000 characters, before the JSON does: truncated?)"
        ),
    }


def _edges(landed) -> set[tuple[str, str]]:
    return {
        (f"{r.source_asset}.{r.source_column}", f"{r.target_asset}.{r.target_column}")
        for r in landed.store.read("lineage_edges").collect()
        if r.source_column and r.target_column
    }


def test_column_lineage_flows_raw_to_staging_to_mart(landed):
    edges = _edges(landed)
    assert {
        ("analytics.raw.customers.email", "analytics.staging.stg_customers.email"),
        ("analytics.staging.stg_customers.email", "analytics.mart.customers.email"),
        ("analytics.raw.orders.amount", "analytics.staging.stg_orders.amount"),
        ("analytics.staging.stg_orders.amount", "analytics.mart.customers.lifetime_value"),
        ("analytics.raw.customers.email", "analytics.snapshots.customers_snapshot.email"),
    } <= edges
    # email_marketing failed in run_results.json: its SQL did not run, no edge into it
    assert not any(t.startswith("analytics.mart.email_marketing") for _s, t in edges)
    failed = (
        landed.store.read("landed_query_logs")
        .filter("query_id = 'model.shop.email_marketing'")
        .collect()
    )
    assert [(r.status, r.format) for r in failed] == [("failed", "dbt_manifest")]


def test_temporary_names_end_at_the_real_table(landed):
    edges = _edges(landed)
    # __dbt_tmp built, old table renamed to __dbt_backup, __dbt_tmp renamed into place
    assert ("analytics.staging.stg_orders.amount", "analytics.mart.orders_daily.revenue") in edges
    # a temporary view in one log line, MERGEd from in the next
    assert (
        "analytics.mart.customers.lifetime_value",
        "analytics.mart.customer_ltv.lifetime_value",
    ) in edges
    # built as kpis_stage, SWAPped WITH kpis, then dropped
    assert ("analytics.mart.customers.lifetime_value", "analytics.mart.kpis.revenue") in edges
    # the chain raw -> staging -> mart -> kpis, hop by hop
    assert ("analytics.raw.orders.amount", "analytics.staging.stg_orders.amount") in edges
    assert (
        "analytics.staging.stg_orders.amount",
        "analytics.mart.customers.lifetime_value",
    ) in edges
    names = {
        n
        for r in landed.store.read("lineage_edges").select("source_asset", "target_asset").collect()
        for n in r
    }
    assert not [n for n in names if "__dbt_" in n or n.endswith("_stage")]
    assert {r.asset_id for r in landed.store.read("assets").collect()} >= {
        "analytics.mart.orders_daily",
        "analytics.mart.kpis",
        "analytics.raw.country_codes",  # a seed: no edge, its columns only
    }
    # the renames themselves (t.c -> t.c once folded) are not edges
    loops = [
        (e.source_asset, e.source_column)
        for e in landed.store.read("lineage_edges").collect()
        if e.target_asset == e.source_asset
        and e.source_column == e.target_column
        and e.source_column is not None
    ]
    assert loops == []


def _obs(spark, rows):
    return spark.createDataFrame(
        rows, "source_asset string, source_column string, target_asset string, target_column string"
    )


def _events(spark, rows):
    return spark.createDataFrame(rows, "asset string, event string, detail string")


def test_temporary_rules_leave_real_tables_alone(spark):
    from lineage.temporary import resolve_temporary

    obs = _obs(
        spark,
        [
            ("s.src", "a", "m.t_new", "a"),  # built ...
            ("m.t_new", "a", "m.t", "a"),  # ... and renamed into place
            ("m.keep", "a", "m.keep_v2", "a"),  # a rename of a table not written tonight
            ("m.x", "a", "m.y", "a"),  # a swap without a drop: both stay
            ("m.y", "a", "m.x", "a"),
            ("m.t", "a", "m.t", "a"),  # a self-loop before any folding stays
        ],
    )
    events = _events(
        spark,
        [
            ("m.t_new", "rename_table", "m.t"),
            ("m.keep", "rename_table", "m.keep_v2"),
            ("m.x", "rename_table", "m.y"),
            ("m.y", "rename_table", "m.x"),
        ],
    )
    got = sorted(tuple(r) for r in resolve_temporary(obs, events).collect())
    assert got == [
        ("m.keep", "a", "m.keep_v2", "a"),
        ("m.t", "a", "m.t", "a"),
        ("m.x", "a", "m.y", "a"),
        ("m.y", "a", "m.x", "a"),
        ("s.src", "a", "m.t", "a"),
    ]
