"""End to end: OpenLineage files as producers write them, landed and ingested with naming rules.

ONE module-scoped run of the landing and ingest steps on a copy of tests/fixtures/openlineage (a
JSON array of one run's START/RUNNING/COMPLETE events, pretty-printed Spark events with path
datasets and the symlinks facet, JSON Lines with a non-UUID run id, a failed run, a run without a
terminal event, an event without eventType, a Trino dataset, a JobEvent, a DatasetEvent, a line
that is no event, and ``bad/``: a JSON array cut short), plus one SQL query log and one training
config that name the table ``postgres.public.customers`` in their own ways. The naming rules are
tests/fixtures/openlineage_naming/naming.yaml.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

FIX = Path(__file__).parent / "fixtures"
RUN_DATE = date(2026, 11, 21)
CUSTOMERS = "postgres.public.customers"


@pytest.fixture(scope="module")
def landed(spark, tmp_path_factory):
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress
    from jobs.steps.ingest import ingest
    from jobs.steps.land import land_inputs
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("openlineage")
    inputs = home / "inputs"
    shutil.copytree(FIX / "openlineage", inputs / "openlineage")
    (inputs / "query_logs").mkdir()
    sql = "INSERT INTO postgres.public.customer_report SELECT id FROM postgres.public.customers"
    (inputs / "query_logs" / "pg.jsonl").write_text(
        json.dumps(
            {
                "query_id": "q-1",
                "engine": "postgres",
                "user": "etl",
                "started_at": "2026-11-21T01:00:00Z",
                "sql": sql,
                "status": "ok",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    (inputs / "training_configs").mkdir()
    (inputs / "training_configs" / "churn.json").write_text(
        json.dumps(
            {
                "model_name": "ml.churn",
                "input_dataset": "asset://warehouse.table/Marquez.Public.Customers",
                "features": ["country"],
                "output_model": "asset://mlflow.model/ml.churn",
            }
        ),
        encoding="utf-8",
    )
    (inputs / "catalog.yaml").write_text("assets: []\n", encoding="utf-8")
    cfg = load_config(
        FIX / "openlineage_naming" / "naming.yaml", env={"COMPLIANCE_HOME": str(home)}
    )
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, RUN_DATE, Progress(io.StringIO()))
    landing = land_inputs(ctx)
    ingest(ctx)
    return SimpleNamespace(folder=inputs / "openlineage", store=store, landing=landing)


def _name(landed, path: str) -> str:
    return str(Path(path).relative_to(landed.folder))


def _edges(landed, signal: str = "openlineage") -> set[tuple]:
    rows = landed.store.read("lineage_edges").collect()
    return {
        (r.source_asset, r.source_column, r.target_asset, r.target_column)
        for r in rows
        if r.signal == signal
    }


def test_arrays_and_pretty_printed_events_land_one_row_per_event(landed):
    files = {
        _name(landed, r.source): (r.accepted, r.rejected)
        for r in landed.store.read("landed_files").collect()
        if "/openlineage/" in r.source
    }
    assert files == {
        "marquez_seed.json": (3, 0),
        "spark_events.json": (2, 0),
        "events.jsonl": (8, 2),
        "bad/cut_array.json": (1, 1),
    }
    lines = {
        (_name(landed, r.source_file), r.line)
        for r in landed.store.read("landed_openlineage").collect()
    }
    # each event is numbered by the line where it starts
    seed = Path(landed.folder / "marquez_seed.json").read_text().splitlines()
    starts = [i for i, text in enumerate(seed, start=1) if text == "  {"]
    assert {n for f, n in lines if f == "marquez_seed.json"} == set(starts)
    assert ("spark_events.json", 1) in lines


def test_rejections_name_file_line_and_reason(landed):
    got = {
        (_name(landed, r.source), r.location): r.reason
        for r in landed.store.read("rejected_inputs").collect()
        if "/openlineage/" in r.source
    }
    assert set(got) == {
        ("events.jsonl", "line 1"),
        ("events.jsonl", "line 10"),
        ("bad/cut_array.json", "line 31"),
    }
    assert "'run.runId' is missing or not a UUID" in got[("events.jsonl", "line 1")]
    assert "not an OpenLineage event" in got[("events.jsonl", "line 10")]
    assert "JSON" in got[("bad/cut_array.json", "line 31")]


def test_runs_merge_their_events_and_only_completed_runs_count(landed):
    got = _edges(landed)
    table_level = {(s, t) for s, sc, t, tc in got if sc is None and tc is None}
    assert table_level == {
        # START carried the input, COMPLETE the output (the Marquez seed's shape)
        ("postgres.public.orders", "postgres.public.order_totals"),
        # the input named by its symlink, the output by the path rule
        (CUSTOMERS, "postgres.public.customer_stats"),
        # an event without eventType merged into its run
        ("postgres.public.accounts", "postgres.public.account_daily"),
        # Trino's catalog through the namespace rule, then the catalog rule
        (CUSTOMERS, "postgres.public.customer_segments"),
        # the JobEvent's declared lineage
        ("postgres.public.orders", "postgres.public.refunds"),
        # the first event of the cut array
        ("postgres.public.orders", "postgres.public.cut_ok"),
    }
    columns = {e for e in got if e[1] is not None}
    assert columns == {
        ("postgres.public.orders", "amount", "postgres.public.order_totals", "total"),
        # the DatasetEvent's column lineage
        (CUSTOMERS, "country", "postgres.public.customer_segments", "segment"),
    }


def test_one_table_under_four_names_is_one_node(landed):
    # SQL: postgres.public.customers; OpenLineage Spark: the path /warehouse/public/customers
    # (symlink public.customers in postgres://...); Trino: marquez.public.customers in trino://...;
    # training config: asset://warehouse.table/Marquez.Public.Customers
    rows = landed.store.read("lineage_edges").collect()
    by_signal: dict[str, set[str]] = {}
    names = set()
    for r in rows:
        names |= {r.source_asset, r.target_asset}
        if r.source_asset == CUSTOMERS:
            by_signal.setdefault(r.signal, set()).add(r.target_asset)
    assert {"sql", "openlineage", "config"} <= set(by_signal)
    assert "postgres.public.customer_report" in by_signal["sql"]
    assert "ml.churn" in by_signal["config"]
    aliases = {"public.customers", "marquez.public.customers", "/warehouse/public/customers"}
    assert not names & aliases
    assert not any(n.startswith("/") or n.startswith("marquez.") for n in names)
