"""``compliance datamap`` (jobs.commands.datamap.datamap) on the demo company, against the Delta tables.

Shares the demo warehouse built once per process by ``test_report_job.demo_warehouse``.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pyspark.sql import functions as F
from test_report_job import RUN_DATE, demo_warehouse, make_context

from jobs.commands.datamap import datamap
from jobs.errors import UsageError
from reports.datamap import FLOW_COLUMNS

EMAIL = "crm.customers.email"


@pytest.fixture(scope="module")
def ctx(spark, tmp_path_factory, demo_run):
    return make_context(spark, demo_warehouse(tmp_path_factory.getbasetemp(), demo_run))


def closure_from(ctx, asset: str, column: str) -> set[tuple[str, str | None]]:
    rows = (
        ctx.store.read("lineage_closure")
        .filter(
            (F.col("run_date") == F.lit(RUN_DATE))
            & (F.col("level") == "column")
            & (F.col("source_asset") == asset)
            & (F.col("source_column") == column)
        )
        .select("target_asset", "target_column")
        .collect()
    )
    return {(r.target_asset, r.target_column) for r in rows}


def call(ctx, **kw):
    args = {"column": None, "category": None, "subject_key": None, "fmt": "json", "out": None, **kw}
    t0 = time.monotonic()
    out = datamap(ctx, **args)
    return out, time.monotonic() - t0


def test_column_json_matches_the_closure(ctx):
    out, seconds = call(ctx, column=EMAIL)
    rows = json.loads(out)
    expected = closure_from(ctx, "crm.customers", "email")
    assert expected
    assert {(r["target_asset"], r["target_column"]) for r in rows} == expected
    assert all(r["source_asset"] == "crm.customers" and r["source_column"] == "email" for r in rows)
    assert all(r["data_category"] == "user.contact.email" and r["retention_days"] for r in rows)
    zones = {r.asset_id: (r.zone, r.owner) for r in ctx.store.read("assets").collect()}
    for r in rows:
        assert (r["zone"], r["owner"]) == zones[r["target_asset"]]
        assert r["path"][0] == EMAIL and r["transformation_type"] in {"DIRECT", "INDIRECT"}
    assert seconds < 60, f"datamap took {seconds:.1f}s"


def test_last_hop_transformation_and_masking(ctx):
    rows = json.loads(call(ctx, column=EMAIL)[0])
    edges = (
        ctx.store.read("lineage_edges")
        .select(
            F.concat_ws(".", "source_asset", "source_column").alias("src"),
            F.when(F.col("target_column").isNull(), F.col("target_asset"))
            .otherwise(F.concat_ws(".", "target_asset", "target_column"))
            .alias("dst"),
            "transformation_subtype",
            "confidence",
            F.coalesce("masking", F.lit(False)).alias("m"),
            # the edges the closure walks: DIRECT column edges and INDIRECT ones into a table
            ((F.col("transformation_type") == "DIRECT") | F.col("target_column").isNull()).alias(
                "w"
            ),
        )
        .collect()
    )
    by_hop: dict[tuple[str, str], list] = {}
    walked: dict[tuple[str, str], list] = {}
    for e in edges:
        by_hop.setdefault((e.src, e.dst), []).append(e)
        if e.w:
            walked.setdefault((e.src, e.dst), []).append(e)
    assert rows
    for r in rows:
        path = r["path"]
        last = by_hop[(path[-2], path[-1])]
        best = max(e.confidence for e in last)  # the most confident edge (any of a tie)
        assert r["transformation_subtype"] in {
            e.transformation_subtype for e in last if e.confidence == best
        }
        # a hop is masked when every edge between its two nodes is; a flow when some hop is
        assert r["masking"] is all(e.m for e in last)
        hops = [walked.get((a, b), []) for a, b in zip(path, path[1:], strict=False)]
        assert r["masked_on_path"] is any(h and all(e.m for e in h) for h in hops)


def test_csv_format(ctx, tmp_path):
    text = call(ctx, column=EMAIL, fmt="csv")[0]
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == FLOW_COLUMNS
    assert len(rows) - 1 == len(closure_from(ctx, "crm.customers", "email"))
    path = call(ctx, column=EMAIL, fmt="csv", out=tmp_path / "email.csv")[0]
    assert Path(path).read_text(encoding="utf-8") == text


def test_category_covers_every_column_of_it(ctx):
    rows = json.loads(call(ctx, category="user.contact")[0])
    assert rows and all(r["data_category"].startswith("user.contact") for r in rows)
    cols = ctx.store.read("columns").filter(F.col("data_category").startswith("user.contact."))
    reaching = {
        (c.asset_id, c.column) for c in cols.collect() if closure_from(ctx, c.asset_id, c.column)
    }
    assert {(r["source_asset"], r["source_column"]) for r in rows} == reaching


def test_html_rendered(ctx, tmp_path):
    path = call(ctx, column=EMAIL, fmt="html", out=tmp_path / "map")[0]
    assert path == tmp_path / "map" / "datamap.html"
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    body = " ".join(soup.get_text(" ").split())
    assert "column crm.customers.email" in body and "Article 30" in body
    assert soup.find("svg") is not None
    default = call(ctx, category="user.contact.email", fmt="html")[0]
    assert default == Path(ctx.cfg.reports) / "datamap-user.contact.email" / "datamap.html"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"column": "crm.customers.emial"}, "did you mean crm.customers.email"),
        ({"category": "user.contacts"}, "did you mean user.contact"),
        ({"column": "email"}, "TABLE.COLUMN"),
        ({}, "exactly one of"),
        ({"column": EMAIL, "category": "user"}, "exactly one of"),
        ({"subject_key": "100021"}, "sk_"),
        ({"column": EMAIL, "fmt": "xml"}, "--format"),
    ],
)
def test_usage_errors(ctx, kw, message):
    with pytest.raises(UsageError, match=message) as err:
        call(ctx, **kw)
    assert "\n" not in str(err.value)
