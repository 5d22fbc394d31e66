"""End to end: `compliance nightly` on the demo company, checked against its ground truth.

The demo generator writes the true flows and every injected fault to ground_truth.json; these tests
compare what the product found with it. One nightly run is shared by the session (`demo_run`).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.sql import functions as F


def _flow(asset, column):
    return f"{asset}.{column}" if column else asset


def test_nightly_exits_zero_and_records_every_step(demo_run):
    assert demo_run.exit_code == 0
    steps = {r.job: r.status for r in demo_run.store.read("run_manifest").collect()}
    for step in ("land", "ingest", "closure", "audit"):
        assert steps.get(step) == "ok", steps


def test_every_input_line_is_landed_or_rejected(demo_run):
    counts = demo_run.truth["counts"]
    ledger = (
        demo_run.store.read("landed_files")
        .groupBy("kind")
        .agg(
            F.sum("lines").alias("lines"),
            F.sum("accepted").alias("acc"),
            F.sum("rejected").alias("rej"),
            F.sum("held").alias("held"),
        )
    )
    got = {r.kind: (r.lines, r.acc, r.rej, r.held) for r in ledger.collect()}
    for kind, c in counts.items():
        lines, acc, rej, held = got[kind]
        assert lines == c["lines"], kind
        assert acc + rej + held == lines, kind
    # the landed tables hold exactly the accepted rows
    assert demo_run.store.read("deletion_events").count() == got["deletion_events"][1]
    assert demo_run.store.read("landed_query_logs").count() == got["query_logs"][1]


def test_injected_bad_lines_are_rejected_with_file_line_and_reason(demo_run):
    rejected = {
        (r.source, r.location): r.reason for r in demo_run.store.read("rejected_inputs").collect()
    }
    expected = [
        f
        for f in demo_run.truth["faults"]
        if f.get("expect") == "rejected_inputs" and f.get("line")
    ]
    assert expected
    for fault in expected:
        key = (str(demo_run.home / fault["file"]), f"line {fault['line']}")
        assert key in rejected, fault
        assert rejected[key], fault
    held = {(r.source, r.line) for r in demo_run.store.read("held_inputs").collect()}
    expected = [f for f in demo_run.truth["faults"] if f.get("expect") == "held_inputs"]
    assert expected
    for fault in expected:
        assert (str(demo_run.home / fault["file"]), fault["line"]) in held, fault


def test_raw_subject_ids_never_reach_the_warehouse(demo_run):
    requests = demo_run.store.read("deletion_requests")
    assert "subject_id" not in requests.columns
    assert requests.filter(~F.col("subject_key").startswith("sk_")).count() == 0
    raw_ids = {d["subject_id"] for d in demo_run.truth["deletions"]}
    leaked = (
        demo_run.store.read("rejected_inputs")
        .filter(F.col("kind") == "deletion_requests")
        .filter(F.col("raw").rlike("|".join(f'"{i}"' for i in raw_ids)))
        .count()
    )
    assert leaked == 0


def test_sql_column_lineage_precision_and_recall(demo_run):
    truth = {
        (f["source"], f["target"], f["type"], f["subtype"])
        for f in demo_run.truth["sql"]["column_flows"]
    }
    got = {
        (
            _flow(r.source_asset, r.source_column),
            _flow(r.target_asset, r.target_column),
            r.transformation_type,
            r.transformation_subtype,
        )
        for r in demo_run.store.read("lineage_edges")
        .filter((F.col("signal") == "sql") & F.col("source_column").isNotNull())
        .collect()
    }
    # the whole pipeline (landing, fingerprint grouping, ingest) keeps exactly the true flows, as
    # extract_lineage alone does (tests/test_sql_demo_truth.py): precision and recall 1.0
    assert sorted(got - truth) == []
    assert sorted(truth - got) == []
    assert len(truth) > 500


def test_unparseable_queries_are_rejected_with_the_parser_message(demo_run):
    sql_rejects = demo_run.store.read("rejected_inputs").filter(
        F.col("reason").startswith("SQL not analysed")
    )
    assert sql_rejects.count() >= demo_run.truth["counts"]["query_logs"]["unparseable_sql"]
    assert sql_rejects.filter(~F.col("location").startswith("line ")).count() == 0


def test_policy_violating_flow_is_found_with_its_path(demo_run):
    got = {
        (_flow(r.source_asset, r.source_column), _flow(r.target_asset, r.target_column)): list(
            r.path
        )
        for r in demo_run.store.read("policy_violations").collect()
    }
    for v in demo_run.truth["policy_violations"]:
        assert (v["source"], v["target"]) in got, v
        assert got[(v["source"], v["target"])] == v["path"]


def test_deletion_anomalies_match_the_injected_ones(demo_run):
    got = {
        (r.deletion_id, r.check)
        for r in demo_run.store.read("deletion_anomalies")
        .filter(F.col("status") == "open")
        .collect()
    }
    truth = {(a["deletion_id"], a["check"]) for a in demo_run.truth["deletion_anomalies"]}
    assert got == truth


def test_residual_rows_of_deleted_subjects_are_found_and_nothing_else(demo_run):
    rows = demo_run.store.read("residual_findings").collect()
    got = {(r.deletion_id, r.asset, r.column, r.rows_found) for r in rows if r.status == "residual"}
    truth = {
        (x["deletion_id"], x["table"], x["column"], x["rows"])
        for x in demo_run.truth["residual_rows"]
    }
    assert got == truth
    unverifiable = {r.asset for r in rows if r.status == "unverifiable"}
    assert unverifiable == {x["table"] for x in demo_run.truth["unverifiable_tables"]}
    assert all(r.subject_key.startswith("sk_") for r in rows if r.status == "residual")


def test_the_hashed_copy_of_an_identifier_is_scanned_and_its_residual_row_found(demo_run):
    """ads.lookalike_seed holds only sha256(customer_id) (catalog ``hash: sha256_hex``): its
    residual row is matched through the subject's match key and recorded as a hashed scan."""
    hashed = {
        (x["deletion_id"], x["rows"])
        for x in demo_run.truth["residual_rows"]
        if (x["table"], x["column"]) == ("ads.lookalike_seed", "customer_id_sha256")
    }
    assert hashed, "the demo plants a residual row in the hashed copy"
    scans = (
        demo_run.store.read("residual_scans")
        .filter(
            (F.col("asset") == "ads.lookalike_seed") & (F.col("column") == "customer_id_sha256")
        )
        .collect()
    )
    found = {(r.deletion_id, r.rows_found) for r in scans if r.status == "residual"}
    assert found == hashed
    for r in scans:
        if r.status == "residual":
            assert "sha256_hex hashed" in r.detail
            assert not any(x["subject_id"] in r.detail for x in demo_run.truth["residual_rows"])
    # every other completed deletion's scan of the hashed copy read it and found nothing
    assert {r.status for r in scans} <= {"residual", "clean"}
    assert sum(r.status == "clean" for r in scans) > 0


def test_retention_breaches_are_reported_and_nothing_else(demo_run):
    got = {
        (r.table, r.column)
        for r in demo_run.store.read("retention_violations").collect()
        if r.column
    }
    truth = {(x["table"], x["column"]) for x in demo_run.truth["retention_violations"]}
    assert got == truth


def test_annotation_findings_cover_the_injected_mistakes(demo_run):
    rows = demo_run.store.read("annotation_findings").collect()
    edge_types = {r.edge_type for r in rows if r.edge_type}
    object_types = {r.object_type for r in rows if r.finding == "unreachable_object_type"}
    for f in demo_run.truth["annotation_findings"]:
        if f.get("edge_type"):
            assert f["edge_type"] in edge_types, f
        if f["check"] == "unreachable_object_type":
            assert f["object_type"] in object_types, f
    dangling = {r.edge_type for r in rows if r.finding == "dangling_edges"}
    assert dangling == {d["edge_type"] for d in demo_run.truth["dangling_edges"]}


def test_cascading_exclusion_hides_exactly_the_exclusive_downstream(demo_run, spark):
    from lineage.flows import graph_edges
    from lineage.review import hidden_nodes

    table_graph = graph_edges(demo_run.store.read("lineage_edges")).filter(
        F.col("level") == "table"
    )
    for node, hidden in demo_run.truth["review_cascade"]["hidden"].items():
        decisions = spark.createDataFrame(
            [(node, "exclude", True, "test", "false positive", datetime(2026, 11, 22, 9))],
            "node string, decision string, cascade boolean, reviewer string, reason string, decided_at timestamp",
        )
        got = {
            r.node
            for r in hidden_nodes(
                table_graph.select("src", "dst", "confidence"), decisions
            ).collect()
        }
        assert got == {node, *hidden}, node


def test_impact_of_dropping_an_identifier_lists_the_dashboards(demo_run, capsys):
    from jobs.cli import main

    code = main(
        [
            "impact",
            "crm.customers",
            "--drop-column",
            "customer_id",
            "--format",
            "json",
            "--conf",
            str(demo_run.conf),
            "--run-date",
            "2026-11-22",
            "--quiet",
        ]
    )
    assert code == 0
    import json

    answer = json.loads(capsys.readouterr().out)
    kinds = {a["asset"]: a["kind"] for a in answer["affected"]}
    dashboards = {a for a, k in kinds.items() if k == "dashboard"}
    truth = set(demo_run.truth["downstream"]["crm.customers.customer_id"]["dashboards"])
    assert truth, "the demo's ground truth names the dashboards fed by crm.customers.customer_id"
    assert truth <= dashboards


def test_impact_of_rename_and_retype_and_a_malformed_spec(demo_run, capsys):
    import json

    from jobs.cli import main

    common = ["--conf", str(demo_run.conf), "--run-date", "2026-11-22", "--quiet"]
    assert (
        main(
            [
                "impact",
                "crm.customers",
                "--rename-column",
                "email=mail",
                "--retype-column",
                "customer_id=bigint",
                "--format",
                "json",
                *common,
            ]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["changes"] == ["rename email to mail", "retype customer_id to bigint"]
    assert answer["affected"]
    assert main(["impact", "crm.customers", "--retype-column", "customer_id", *common]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["compliance: error: --retype-column expects COLUMN=TYPE, got 'customer_id'"]
    # a typo in a column name is a usage error with the closest names, not "38 assets affected"
    assert main(["impact", "crm.customers", "--drop-column", "emial", *common]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "compliance: error: not a column of crm.customers: 'emial' (did you mean email?)"
    ]


def test_openlineage_export_is_valid(demo_run, tmp_path):
    import json

    from openlineage.client.event_v2 import RunState

    from jobs.cli import main

    out = tmp_path / "ol.jsonl"
    assert (
        main(
            [
                "export",
                "openlineage",
                "--out",
                str(out),
                "--conf",
                str(demo_run.conf),
                "--run-date",
                "2026-11-22",
                "--quiet",
            ]
        )
        == 0
    )
    events = [json.loads(line) for line in out.read_text().splitlines()]
    targets = {
        r.target_asset
        for r in demo_run.store.read("lineage_edges").select("target_asset").distinct().collect()
    }
    assert {e["outputs"][0]["name"] for e in events} == targets
    for e in events:
        assert e["eventType"] in {s.value for s in RunState}
        assert e["schemaURL"].startswith("https://openlineage.io/spec/")
        assert e["run"]["runId"] and e["job"]["name"].startswith("discovered.")
    with_facet = [e for e in events if "columnLineage" in e["outputs"][0]["facets"]]
    assert with_facet


@pytest.mark.slow  # a purge, two whole audits, a restore, report and export: run by .ci/run
def test_purge_then_scan_finds_none_and_restore_brings_them_back(demo_run, tmp_path, capsys):
    """Then, after the nightly, purge, restore, audit, report and export: no raw personal id
    (object ids, e-mails pasted into free text and unknown fields, quoted subject ids) in any
    product table, log, report, export or printed line."""
    import shutil

    from jobs.cli import main
    from jobs.store.tables import TableStore

    home = tmp_path / "copy"
    shutil.copytree(demo_run.home, home)
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    args = ["--conf", str(conf), "--run-date", "2026-11-22", "--quiet"]
    store = TableStore(demo_run.store.spark, str(home / "warehouse"))

    def residual_tables():
        return {
            (r.deletion_id, r.asset)
            for r in store.read("residual_findings").filter(F.col("status") == "residual").collect()
        }

    before = residual_tables()
    assert before == {(x["deletion_id"], x["table"]) for x in demo_run.truth["residual_rows"]}
    assert main(["purge", "--all-findings", *args]) == 0
    assert store.read("restoration_log").count() == sum(
        x["rows"] for x in demo_run.truth["residual_rows"]
    )
    assert main(["audit", *args]) == 0
    assert residual_tables() == set()
    restored_id = sorted(before)[0][0]
    assert main(["restore", restored_id, *args]) == 0
    assert main(["audit", *args]) == 0
    assert residual_tables() == {t for t in before if t[0] == restored_id}

    assert main(["report", *args]) == 0
    assert main(["export", "openlineage", *args]) == 0
    printed = capsys.readouterr()
    _assert_no_raw_personal_data(demo_run.truth, home, store, printed.out + printed.err)


def _assert_no_raw_personal_data(truth, home, store, printed):
    texts = {f["text"] for f in truth["faults"] if f["kind"] == "personal_text"}
    assert {f["where"] for f in truth["faults"] if f["kind"] == "personal_text"} == {
        "deletion_events.detail",
        "deletion_requests.extra",
    }
    raw = sorted(texts | {d["object_id"] for d in truth["deletions"]})
    quoted = [f'"{d["subject_id"]}"' for d in truth["deletions"]]
    inputs = "".join(p.read_text(encoding="utf-8") for p in (home / "inputs").rglob("*.jsonl"))
    assert all(r in inputs for r in raw), "the demo's inputs carry every raw id"
    tables = store.list_tables()
    assert {"deletion_events", "deletion_requests", "restoration_log", "rejected_inputs"} <= set(
        tables
    )
    for name in tables:
        df = store.read(name)
        blob = F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))
        hit = F.lit(False)
        for needle in raw + quoted:
            hit = hit | blob.contains(needle)
        assert df.filter(hit).count() == 0, name
    outputs = [
        p
        for folder in ("reports", "export", "logs")
        if (home / folder).exists()
        for p in (home / folder).rglob("*")
        if p.is_file()
    ] + [p for p in home.glob("*.log")]
    assert any(p.suffix == ".html" for p in outputs) and any("export" in p.parts for p in outputs)
    for p in outputs:
        text = p.read_text(encoding="utf-8", errors="replace")
        assert not [r for r in raw if r in text], p
    assert not [r for r in raw if r in printed]


def test_lineage_down_now_and_as_of_a_date_before_any_lineage(demo_run, capsys):
    from datetime import date

    from jobs.cli import main

    args = ["--conf", str(demo_run.conf), "--run-date", "2026-11-22", "--quiet"]
    assert main(["lineage", "down", "crm.customers.email", "--depth", "2", *args]) == 0
    now = capsys.readouterr().out
    assert "staging.crm_customers.email" in now
    assert (
        main(
            [
                "lineage",
                "down",
                "crm.customers.email",
                "--depth",
                "2",
                "--as-of",
                date.today().isoformat(),
                *args,
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines()[1:] == now.splitlines()[1:]
    assert main(["lineage", "down", "crm.customers.email", "--as-of", "2001-01-01", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2001-01-01" in err[0]
