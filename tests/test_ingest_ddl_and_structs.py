"""The ingest and closure steps on DDL and struct fields in query logs (one tiny home).

The logs create a table, rename one of its columns a day later, then fill it with a positional
INSERT and copy it with ``SELECT *``: the schema the ingest learns from the logs must follow the
rename. A query reads one field of a struct column the catalog classifies as a whole: the closure
must reach that query's target from the struct column.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from pyspark.sql import functions as F

RUN_DATE = date(2026, 11, 21)

CATALOG = """
assets:
  - {name: crm.users, kind: table, owner: crm, zone: core, columns: [
      {name: id, type: bigint},
      {name: profile, type: "struct<email:string,city:string>", data_category: user.contact}]}
  - {name: ads.seed, kind: table, owner: ads, zone: ads}
"""

POLICIES = """
zones: {core: operational systems, ads: advertising}
policies:
  - {name: contact-never-in-ads, data_categories: [user.contact], allowed_zones: [core]}
"""

LINES = [
    ("q1", "2026-11-20T08:00:00Z", "CREATE TABLE stage.accounts (id BIGINT, mail STRING)"),
    ("q2", "2026-11-20T09:00:00Z", "ALTER TABLE stage.accounts RENAME COLUMN mail TO email"),
    (
        "q3",
        "2026-11-20T10:00:00Z",
        "INSERT INTO stage.accounts SELECT user_id, addr FROM raw.signups",
    ),
    ("q4", "2026-11-20T11:00:00Z", "INSERT INTO mart.accounts_copy SELECT * FROM stage.accounts"),
    (
        "q5",
        "2026-11-20T12:00:00Z",
        "INSERT INTO ads.seed SELECT u.profile.email AS e FROM crm.users u",
    ),
    ("q6", "2026-11-20T13:00:00Z", "DROP TABLE IF EXISTS stage.old_accounts"),
]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress
    from jobs.steps.closure import run_closure
    from jobs.steps.ingest import ingest
    from jobs.steps.land import land_inputs
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("ddl")
    logs = home / "inputs" / "query_logs"
    logs.mkdir(parents=True)
    records = [
        {"query_id": q, "engine": "spark", "user": "etl", "started_at": at, "sql": sql}
        for q, at, sql in LINES
    ]
    (logs / "etl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (home / "inputs" / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (home / "inputs" / "policies.yaml").write_text(POLICIES, encoding="utf-8")
    cfg = load_config(None, env={"COMPLIANCE_HOME": str(home)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    ctx = JobContext(cfg, spark, store, audited, RUN_DATE, Progress(io.StringIO()))
    land_inputs(ctx)
    ingested = ingest(ctx)
    run_closure(ctx)
    return store, ingested, ctx


def _edges(store):
    rows = store.read("lineage_edges").filter(F.col("signal") == "sql").collect()
    return {
        (f"{r.source_asset}.{r.source_column}", f"{r.target_asset}.{r.target_column}")
        for r in rows
        if r.source_column is not None and r.target_column is not None
    }


def test_the_logs_ddl_is_stored_as_schema_events(run):
    store, ingested, _ = run
    events = store.read("schema_events").collect()
    got = sorted((r.asset, r.event, r.column, r.detail, r.seen_count) for r in events)
    assert got == [
        ("stage.accounts", "create_table", None, None, 1),
        ("stage.accounts", "rename_column", "mail", "email", 1),
        ("stage.old_accounts", "drop_table", None, None, 1),
    ]
    rename = next(r for r in events if r.event == "rename_column")
    assert rename.first_seen == datetime(2026, 11, 20, 9, 0)
    assert rename.run_date == RUN_DATE and rename.dialect == "spark"
    assert ingested.details["schema_events"] == 3


def test_the_learned_schema_follows_a_rename_seen_later_in_the_logs(run):
    store, _, _ = run
    edges = _edges(store)
    # positional INSERT into the created-then-renamed table: its columns by position
    assert {
        ("raw.signups.user_id", "stage.accounts.id"),
        ("raw.signups.addr", "stage.accounts.email"),
    } <= edges
    # SELECT * of it expands to the columns after the rename
    assert {
        ("stage.accounts.id", "mart.accounts_copy.id"),
        ("stage.accounts.email", "mart.accounts_copy.email"),
    } <= edges
    assert not {e for e in edges if e[0].endswith(".mail") and e[1] != "stage.accounts.email"}
    assert not {e for e in edges if e[1].endswith((".user_id", ".addr", ".*"))}


def test_a_field_of_a_classified_struct_is_traced_from_the_struct(run):
    store, _, _ = run
    assert ("crm.users.profile.email", "ads.seed.e") in _edges(store)
    closure = store.read("lineage_closure").filter(F.col("level") == "column").collect()
    reach = {
        (f"{r.source_asset}.{r.source_column}", f"{r.target_asset}.{r.target_column}")
        for r in closure
    }
    assert ("crm.users.profile", "ads.seed.e") in reach
    assert ("crm.users.profile", "crm.users.profile.email") in reach


def test_a_field_of_a_classified_struct_reaching_a_forbidden_zone_is_a_violation(run):
    store, _, _ = run
    got = {
        (r.policy, r.source_asset, r.source_column, r.target_asset, r.target_column)
        for r in store.read("policy_violations").collect()
    }
    assert got == {("contact-never-in-ads", "crm.users", "profile", "ads.seed", "e")}


def test_the_impact_of_a_change_lists_the_table_s_schema_history(run, tmp_path):
    from jobs.commands.explore import run_impact
    from jobs.commands.impact_report import write_impact_html

    _, _, ctx = run
    answer = run_impact(ctx, "stage.accounts", drop=["email"], rename=[], retype=[])
    assert [a["asset"] for a in answer.rows] == ["mart.accounts_copy"]
    text = answer.text()
    assert "schema changes of stage.accounts seen in the query logs:" in text
    assert "column mail renamed to email: first seen 2026-11-20 09:00 UTC, 1 time(s)" in text
    assert "created: first seen 2026-11-20 08:00 UTC, 1 time(s)" in text
    history = json.loads(answer.json())["schema_history"]
    assert [(h["event"], h["column"], h["detail"]) for h in history] == [
        ("create_table", None, None),
        ("rename_column", "mail", "email"),
    ]
    page = write_impact_html(ctx.cfg.reports, answer, str(tmp_path / "impact")).read_text()
    section = page[page.index('id="history"') :]
    assert "rename_column" in section and "mail" in section and "create_table" in section
