"""Answers without Spark (``jobs.commands.answers``, ``lineage.graph.answers``): the same answers as the Spark
path, no pyspark imported, usage errors before any engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from lineage.graph import answers as la

ROOT = Path(__file__).resolve().parent.parent
DEMO_DATE = "2026-11-22"


def _edge(sa, sc, ta, tc, conf=1.0, t="DIRECT", s="TRANSFORMATION", masking=False):
    return {
        "source_asset": sa,
        "source_column": sc,
        "target_asset": ta,
        "target_column": tc,
        "transformation_type": t,
        "transformation_subtype": s,
        "confidence": conf,
        "masking": masking,
    }


# -- pure logic ----------------------------------------------------------------------------------


def test_graph_edges_levels_and_best_confidence():
    g = la.graph_edges(
        [
            _edge("a.t", "x", "b.u", "y", 0.5),
            _edge("a.t", "x", "b.u", "y", 0.8),
            _edge("a.t", "x", "b.u", "z", 0.9, t="INDIRECT"),  # not a column-level flow
            _edge("a.t", "x", "a.t", "w", 0.7),  # same table: no table-level self-loop
        ]
    )
    assert g == {
        ("a.t.x", "b.u.y"): 0.8,
        ("a.t", "b.u"): 0.9,
        ("a.t.x", "a.t.w"): 0.7,
    }


def test_neighbours_follow_the_closure_semantics():
    # s->a (0.1), a->b (1.0), s->c->d->b (0.9 each): b has depth 2 and confidence 0.729
    g = {
        ("s", "a"): 0.1,
        ("a", "b"): 1.0,
        ("s", "c"): 0.9,
        ("c", "d"): 0.9,
        ("d", "b"): 0.9,
        ("b", "s"): None,  # a cycle back to the source; None reads as 1.0
    }
    down = la.neighbours(g, "s", "down")
    assert down == [("a", 1, 0.1), ("c", 1, 0.9), ("b", 2, 0.729), ("d", 2, 0.81)]
    assert la.neighbours(g, "s", "down", depth=1) == [("a", 1, 0.1), ("c", 1, 0.9)]
    assert la.neighbours(g, "s", "down", depth=0) == []
    assert la.neighbours(g, "b", "up", depth=1) == [("a", 1, 1.0), ("d", 1, 0.9)]
    assert la.neighbours(g, "nowhere", "down") == []
    with pytest.raises(la.GraphError):
        la.neighbours({("a", "b"): 1.5}, "a", "down")


def test_lineage_text():
    assert la.lineage_text("up", "a.t.x", [], date(2026, 1, 2)) == (
        "nothing upstream of a.t.x as of 2026-01-02"
    )
    text = la.lineage_text("down", "a.t.x", [("b.u.y", 1, 0.9)], None)
    assert text.splitlines()[0] == "1 nodes downstream of a.t.x:"
    assert text.splitlines()[1] == f"  {'b.u.y':60} depth 1  confidence 0.90"


def test_review_latest_decision_and_cascade():
    t0 = datetime(2026, 1, 1)
    pairs = [("x", "a"), ("a", "b"), ("b", "c"), ("y", "c"), ("a", "d"), ("d", "e")]
    decisions = [
        {"node": "a", "decision": "exclude", "cascade": True, "decided_at": t0},
        {"node": "e", "decision": "Include", "cascade": False, "decided_at": t0},
        {"node": "z", "decision": "exclude", "cascade": False, "decided_at": t0},
        {"node": "z", "decision": "include", "cascade": False, "decided_at": t0},  # tie: include
        {"node": "q", "decision": "maybe", "cascade": False, "decided_at": t0},
    ]
    # b and d are only reachable through a; c is fed by y; e is confirmed
    assert la.hidden_nodes(pairs, decisions) == {"a", "b", "d"}
    later = decisions + [
        {"node": "a", "decision": "include", "cascade": None, "decided_at": t0 + timedelta(1)}
    ]
    assert la.hidden_nodes(pairs, later) == set()
    g = {p: 1.0 for p in pairs}
    assert set(la.reviewed(g, decisions)) == {("y", "c")}


def test_hidden_nodes_match_spark(spark):
    import random

    from lineage.review import hidden_nodes

    rng = random.Random(3)
    nodes = [f"n{i}" for i in range(40)]
    pairs = sorted({(rng.choice(nodes), rng.choice(nodes)) for _ in range(70)})
    t0 = datetime(2026, 1, 1)
    decisions = [
        {
            "node": rng.choice(nodes),
            "decision": rng.choice(["include", "exclude", "exclude"]),
            "cascade": rng.choice([True, False, None]),
            "decided_at": t0 + timedelta(hours=rng.randint(0, 3)),
        }
        for _ in range(12)
    ]
    edges = spark.createDataFrame(pairs, "src string, dst string")
    dec = spark.createDataFrame(
        [(d["node"], d["decision"], d["cascade"], d["decided_at"]) for d in decisions],
        "node string, decision string, cascade boolean, decided_at timestamp",
    )
    want = {r.node for r in hidden_nodes(edges, dec).collect()}
    assert la.hidden_nodes(pairs, decisions) == want


def test_last_hops_and_reach_rows():
    edges = [
        _edge("a.t", "x", "b.u", "y", 0.5, t="DIRECT", s="IDENTITY", masking=True),
        _edge("a.t", "x", "b.u", "y", 0.9, t="DIRECT", s="TRANSFORMATION", masking=False),
        _edge("b.u", "y", "c.v", "z", 0.9, masking=True),
    ]
    hops = la.last_hops(edges)
    assert hops[("a.t.x", "b.u.y")] == {
        "transformation_type": "DIRECT",
        "transformation_subtype": "TRANSFORMATION",
        "masking": False,  # masked only when every edge of the pair is
    }
    closure = [
        {
            "source_asset": "a.t",
            "source_column": "x",
            "target_asset": t,
            "target_column": c,
            "depth": d,
            "confidence": conf,
            "path": path,
        }
        for t, c, d, conf, path in (
            ("c.v", "z", 2, 0.81, ["a.t.x", "b.u.y", "c.v.z"]),
            ("b.u", "y", 1, 0.9, ["a.t.x", "b.u.y"]),
            ("b.u", "q", 1, 0.95, ["a.t.x", "b.u.q"]),
        )
    ] + [
        {
            "source_asset": "o.t",
            "source_column": "x",
            "target_asset": "b.u",
            "target_column": "y",
            "depth": 1,
            "confidence": 1.0,
            "path": ["o.t.x", "b.u.y"],
        }
    ]
    sources = [{"asset_id": "a.t", "column": "x", "data_category": "user.contact"}]
    rows = la.reach_rows(closure, sources, hops, limit=10)
    assert [(r["target_asset"], r["target_column"]) for r in rows] == [
        ("b.u", "q"),
        ("b.u", "y"),
        ("c.v", "z"),
    ]
    assert [r["masked_on_path"] for r in rows] == [False, False, True]
    assert rows[0]["transformation_type"] is None and rows[2]["masking"] is True
    assert la.reach_rows(closure, sources, hops, limit=1) == rows[:1]
    no_edges = la.reach_rows(closure, sources, None, limit=10)
    assert all(r["masking"] is None and r["masked_on_path"] is None for r in no_edges)


# -- the CLI -------------------------------------------------------------------------------------


def _main(args, capsys, monkeypatch, *, spark_path: bool):
    from jobs.cli import main

    if spark_path:
        monkeypatch.setenv("COMPLIANCE_ANSWERS", "spark")
    else:
        monkeypatch.delenv("COMPLIANCE_ANSWERS", raising=False)
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


DEMO_QUESTIONS = [
    ["datamap", "--column", "crm.customers.email"],
    ["datamap", "--column", "crm.customers.email", "--format", "csv"],
    ["datamap", "--category", "user.contact"],
    ["datamap", "--category", "user", "--format", "csv"],
    ["lineage", "down", "crm.customers.email"],
    ["lineage", "down", "crm.customers", "--depth", "2"],
    ["lineage", "up", "analytics.customer_profile.email"],
    ["lineage", "down", "crm.customers.email", "--as-of", "TODAY"],
    ["tables"],
    ["impact", "crm.customers", "--drop-column", "email"],
    ["impact", "crm.customers", "--rename-column", "email=mail", "--format", "json"],
    [
        "impact",
        "crm.customers",
        "--retype-column",
        "customer_id=string",
        "--depth",
        "2",
        "--format",
        "csv",
    ],
    ["impact", "crm.customers"],
]


@pytest.mark.parametrize("question", DEMO_QUESTIONS, ids=" ".join)
def test_same_answer_as_spark_on_the_demo(demo_run, capsys, monkeypatch, question):
    today = datetime.now(timezone.utc).date().isoformat()
    args = [today if a == "TODAY" else a for a in question]
    args += ["--conf", str(demo_run.conf), "--run-date", DEMO_DATE, "--quiet"]
    fast = _main(args, capsys, monkeypatch, spark_path=False)
    slow = _main(args, capsys, monkeypatch, spark_path=True)
    assert fast[0] == slow[0] == 0, (fast[2], slow[2])
    assert fast[1] == slow[1]
    assert fast[1].strip()
    if question[0] == "datamap" and "csv" not in question:
        assert json.loads(fast[1])


@pytest.mark.parametrize(
    "question",
    [
        ["datamap", "--column", "crm.customers.emial"],
        ["datamap", "--category", "user.contcat"],
        ["lineage", "down", "crm.customer.email"],
        ["lineage", "down", "crm.customers.email", "--as-of", "2001-01-01"],
        ["impact", "crm.customer", "--drop-column", "email"],
        ["impact", "crm.customers", "--drop-column", "emial"],
    ],
    ids=" ".join,
)
def test_same_usage_errors_as_spark_on_the_demo(demo_run, capsys, monkeypatch, question):
    args = question + ["--conf", str(demo_run.conf), "--run-date", DEMO_DATE, "--quiet"]
    fast = _main(args, capsys, monkeypatch, spark_path=False)
    slow = _main(args, capsys, monkeypatch, spark_path=True)
    assert fast[0] == slow[0] == 2
    assert fast[2] == slow[2]
    assert len(fast[2].strip().splitlines()) == 1
    assert "did you mean" in fast[2] or "no lineage as of 2001-01-01" in fast[2]


_PROBE = """
import sys
from jobs.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("pyspark", "py4j") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def _probe(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "COMPLIANCE_ANSWERS"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize(
    "question",
    [
        ["datamap", "--column", "crm.customers.email"],
        ["lineage", "down", "crm.customers.email"],
        ["tables"],
        ["impact", "crm.customers", "--drop-column", "email"],
    ],
    ids=" ".join,
)
def test_no_pyspark_on_the_fast_path(demo_run, question):
    res = _probe(question + ["--conf", str(demo_run.conf), "--run-date", DEMO_DATE])
    assert res.returncode == 0, res.stderr
    assert "HEAVY=\n" in res.stderr  # neither pyspark nor py4j imported: no JVM either
    assert "starting Spark" not in res.stderr
    needle = {"tables": "lineage_edges", "impact": "impact of drop email on crm.customers:"}
    assert needle.get(question[0], "crm.customers.email") in res.stdout


def test_usage_errors_before_any_engine(tmp_path):
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    for question, needle in (
        (["datamap", "--column", "email"], "--column expects TABLE.COLUMN"),
        (["lineage", "down", "a.b", "--depth", "-1"], "--depth must be 0 or more"),
        (["datamap", "--column", "a.b", "--category", "c"], "not allowed with"),
        (["impact", "a.b", "--rename-column", "x"], "--rename-column expects OLD=NEW"),
        (["impact", "a.b", "--depth", "-2"], "--depth must be 0 or more"),
        (["review", "exclude", "a.b", "--reason", " "], "--reason must say why"),
    ):
        res = _probe(question + ["--conf", str(conf)])
        assert res.returncode == 2, res.stderr
        lines = [ln for ln in res.stderr.splitlines() if not ln.startswith("HEAVY=")]
        assert needle in lines[-1]
        assert "HEAVY=\n" in res.stderr or "HEAVY=" not in res.stderr  # argparse exits first


def test_no_lineage_yet_answers_without_spark(tmp_path):
    conf = tmp_path / "conf.yaml"
    (tmp_path / "inputs").mkdir()
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    res = _probe(["lineage", "down", "a.b.c", "--conf", str(conf)])
    assert res.returncode == 2, res.stderr
    assert "no lineage yet" in res.stderr and "HEAVY=\n" in res.stderr


def test_cluster_only_warehouse_falls_back():
    from jobs.commands.answers import DeltaReader, Fallback

    with pytest.raises(Fallback, match="only Spark reads"):
        DeltaReader("hdfs://namenode/warehouse")
    assert DeltaReader("/tmp/wh").path("lineage_edges") == "/tmp/wh/lineage_edges"


def test_graph_edges_contain_a_struct_column_s_field_paths_as_the_spark_rule_does():
    g = la.graph_edges(
        [
            {
                "source_asset": "crm.users",
                "source_column": "profile.address.city",
                "target_asset": "mart.m",
                "target_column": "city",
                "transformation_type": "DIRECT",
                "confidence": 0.9,
            }
        ]
    )
    assert g == {
        ("crm.users.profile.address.city", "mart.m.city"): 0.9,
        ("crm.users", "mart.m"): 0.9,
        ("crm.users.profile", "crm.users.profile.address"): 1.0,
        ("crm.users.profile.address", "crm.users.profile.address.city"): 1.0,
    }
    # whatever classifies the whole struct reaches the field's flow
    assert ("mart.m.city", 3, 0.9) in la.neighbours(g, "crm.users.profile", "down")


def test_impact_html_without_spark(demo_run, tmp_path):
    out = tmp_path / "impact"
    res = _probe(
        ["impact", "crm.customers", "--drop-column", "email", "--format", "html", "--out", str(out)]
        + ["--conf", str(demo_run.conf), "--run-date", DEMO_DATE]
    )
    assert res.returncode == 0, res.stderr
    assert "HEAVY=\n" in res.stderr
    page = (out / "impact.html").read_text(encoding="utf-8")
    assert "crm.customers" in page and "analytics.customer_profile" in page


def test_review_without_spark_appends_the_row_spark_would(demo_run, tmp_path, capsys, monkeypatch):
    """One decision through each path on a copy of the demo: the same row but its time, and the
    Spark-free one imports no pyspark."""
    import shutil

    import deltalake

    home = tmp_path / "home"
    shutil.copytree(demo_run.home, home, symlinks=True)
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {home}\n", encoding="utf-8")
    common = ["--conf", str(conf), "--run-date", DEMO_DATE, "--reviewer", "dpo"]
    before = datetime.now(timezone.utc)
    res = _probe(
        ["review", "exclude", "ADS.Lookalike_Seed", "--cascade", "--reason", "test"] + common
    )
    assert res.returncode == 0, res.stderr
    assert "HEAVY=\n" in res.stderr
    assert res.stdout.strip() == (
        "recorded: exclude ADS.Lookalike_Seed with cascade by dpo; "
        "applied from the next `compliance closure`"
    )
    code, out, err = _main(
        ["review", "exclude", "ADS.Lookalike_Seed", "--cascade", "--reason", "test", *common],
        capsys,
        monkeypatch,
        spark_path=True,
    )
    assert code == 0, err
    assert out == res.stdout
    table = deltalake.DeltaTable(str(home / "warehouse" / "review_decisions"))
    rows = sorted(table.to_pyarrow_table().to_pylist(), key=lambda r: r["decided_at"])
    added = [r for r in rows if r["decided_at"] >= before]
    assert len(added) == 2
    for r in added:
        assert r["decided_at"] <= datetime.now(timezone.utc)
        del r["decided_at"]
    expected = {"node": "ads.lookalike_seed", "decision": "exclude", "cascade": True}
    assert added[0] == added[1] == {**expected, "reviewer": "dpo", "reason": "test"}
