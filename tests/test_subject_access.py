"""Subject access (GDPR Art. 15): ``compliance subject-key`` and ``compliance datamap --subject-key``.

On the session's demo nightly (``demo_run``, read only: the answer writes nothing there): the
tables and row counts reported for a subject are those the demo's ground truth plants for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from chispa import assert_df_equality

from audits.residual_match import subject_cells, subject_rows, subjects_by_function
from jobs.cli import main

RUN_DATE = "2026-11-22"
REPO = Path(__file__).resolve().parents[1]


def _keyed(secret: bytes, text: str) -> str:
    return "sk_" + hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


# -- the matching rule, on small frames -----------------------------------------------------------


def test_subject_rows_counts_a_row_once_whatever_columns_match(spark):
    def keyer(values):
        from pyspark.sql import functions as F

        return values.withColumn("_k", F.concat(F.lit("key:"), F.col("_v")))

    table = spark.createDataFrame(
        [("a", "a"), ("a", None), (None, "a"), ("b", "a"), ("b", "b"), ("c", None)],
        "id string, copy string",
    )
    subject = spark.createDataFrame([("sk_a",)], "subject_key string")
    keys = spark.createDataFrame(
        [("sk_a", "sha256_hex", "key:a")], "subject_key string, function string, match_key string"
    )
    wanted = subjects_by_function(subject, ["sha256_hex"], keys)
    # the subject's value key is its subject key: make the toy keyer map "a" to it
    wanted = wanted.replace("sk_a", "key:a", subset=["match_value"])
    cells = subject_cells(table, "t", [("id", None), ("copy", "sha256_hex")])
    got = subject_rows(cells, wanted, keyer)
    expected = spark.createDataFrame(
        [("sk_a", "t", ["copy"], 2), ("sk_a", "t", ["id"], 1), ("sk_a", "t", ["copy", "id"], 1)],
        "subject_key string, asset string, columns array<string>, rows long",
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


# -- compliance subject-key -----------------------------------------------------------------------


def test_subject_key_prints_only_the_landing_key_without_spark(demo_run):
    deletion = next(d for d in demo_run.truth["deletions"] if d["scenario"] == "residual")
    raw = deletion["subject_id"]
    secret = (demo_run.home / "keys" / "pseudonym.key").read_bytes()
    landed = {
        r.deletion_id: r.subject_key
        for r in demo_run.store.read("deletion_requests")
        .select("deletion_id", "subject_key")
        .collect()
    }
    probe = (
        "import sys\n"
        "from jobs.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "assert 'pyspark' not in sys.modules, 'subject-key imported pyspark'\n"
        "sys.exit(code)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for argv, stdin in ((["--id", "-"], raw + "\n"), (["--id", raw], "")):
        done = subprocess.run(
            [sys.executable, "-c", probe, "subject-key", "--conf", str(demo_run.conf), *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == _keyed(secret, raw) + "\n"
        assert done.stdout.strip() == landed[deletion["deletion_id"]]
        assert done.stderr == ""


def test_subject_key_without_key_material_is_one_line_exit_2(tmp_path, capsys):
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    assert main(["subject-key", "--conf", str(conf), "--id", "100021"]) == 2
    err = capsys.readouterr()
    assert err.out == ""
    assert err.err.count("\n") == 1 and "pseudonym.key" in err.err
    assert "100021" not in err.err
    assert not (tmp_path / "keys" / "pseudonym.key").exists()  # never created


@pytest.mark.parametrize("key", ["100021", "sk_12ab", "sk_" + "A" * 32, "sk_" + "0" * 33, ""])
def test_a_subject_key_of_the_wrong_shape_is_one_line_exit_2_before_spark(tmp_path, capsys, key):
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    assert main(["datamap", "--conf", str(conf), "--subject-key", key]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sk_" in err and "32" in err
    assert not (tmp_path / "warehouse").exists()  # nothing started


# -- compliance datamap --subject-key on the demo -------------------------------------------------


def _expected_holdings(truth) -> dict[str, dict[str, int]]:
    """Raw subject id -> {table: rows} from the ground truth's planted residual rows."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for r in truth["residual_rows"]:
        out[r["subject_id"]][r["table"]] = r["rows"]
    return dict(out)


def _raw_ids(home: Path) -> set[str]:
    lines = (home / "inputs" / "deletion_requests").rglob("*.jsonl")
    ids = set()
    for p in lines:
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                ids.add(str(json.loads(line)["subject_id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return {i for i in ids if len(i) >= 4}


def _datamap(demo_run, capsys, key: str, *extra: str) -> str:
    argv = ["datamap", "--conf", str(demo_run.conf), "--run-date", RUN_DATE, "--quiet"]
    assert main([*argv, "--subject-key", key, *extra]) == 0
    return capsys.readouterr().out


def _context(spark, demo_run):
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress

    cfg = load_config(str(demo_run.conf))
    return JobContext(
        cfg=cfg,
        spark=spark,
        store=demo_run.store,
        audited=demo_run.audited,
        run_date=date.fromisoformat(RUN_DATE),
        log=Progress(quiet=True),
    )


def test_subject_access_lists_exactly_the_planted_tables_and_rows(spark, demo_run, tmp_path):
    from jobs.commands.answers import flow_text
    from jobs.commands.datamap_subject import subject_access
    from reports.subject_access import COLUMNS, render_subject_access

    secret = (demo_run.home / "keys" / "pseudonym.key").read_bytes()
    holdings = _expected_holdings(demo_run.truth)
    # the residual subject whose rows include a hashed copy (ads.lookalike_seed), else any
    hashed = {
        r["subject_id"] for r in demo_run.truth["residual_rows"] if r["column"].endswith("sha256")
    }
    raw = sorted(hashed)[0] if hashed else sorted(holdings)[0]
    key = _keyed(secret, raw)
    t0 = time.monotonic()
    answer = subject_access(_context(spark, demo_run), key)  # one scan, shown three ways
    seconds = time.monotonic() - t0
    rows = json.loads(flow_text(answer.rows(), COLUMNS, "json"))
    held = {r["asset"]: r["rows"] for r in rows if r["status"] == "held"}
    assert held == holdings[raw]
    for t, c in ((r["table"], r["column"]) for r in demo_run.truth["residual_rows"]):
        if t in held:  # the planted identifier column is among those that matched
            row = next(r for r in rows if r["asset"] == t)
            assert c in {m.split(":")[0] for m in row["matched_on"]}
    for r in rows:
        if r["status"] == "held":
            assert r["lineage"] and r["data_categories"] and r["zone"]
    by_asset = {r["asset"]: r for r in rows}
    if hashed:
        seed = by_asset["ads.lookalike_seed"]
        assert any("sha256_hex hash" in m for m in seed["matched_on"])
        assert any("hashed copy of" in v for v in seed["lineage"])
    # the table lineage names but the warehouse lacks is reported, not silently skipped
    unverifiable = {x["table"] for x in demo_run.truth["unverifiable_tables"]}
    assert unverifiable <= {r["asset"] for r in rows if r["status"] == "not checked"}
    # the HTML page (Jinja2, autoescaped) shows the same tables and counts
    render_subject_access(answer, tmp_path / "html")
    page = tmp_path / "html" / "subject-access.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    assert soup.find(id="subject-key").get_text() == key
    shown = {
        tr.find("td", class_="col-asset").get_text(): int(
            tr.find("td", class_="col-rows").get_text()
        )
        for tr in soup.find(id="held-table").find("tbody").find_all("tr")
    }
    assert shown == holdings[raw]
    texts = [p.read_text(encoding="utf-8") for p in (tmp_path / "html").iterdir()]
    assert len(texts) == 3  # the page, its CSV and JSON
    raw_ids = _raw_ids(demo_run.home)
    assert raw in raw_ids
    for text in [*texts, json.dumps(rows)]:
        assert not [i for i in raw_ids if i in text]
    print(f"subject access scan: {answer.scanned} tables in {seconds:.1f}s")


def test_a_deleted_clean_subject_is_held_nowhere(demo_run, capsys):
    secret = (demo_run.home / "keys" / "pseudonym.key").read_bytes()
    residual = {r["subject_id"] for r in demo_run.truth["residual_rows"]}
    clean = sorted(
        d["subject_id"]
        for d in demo_run.truth["deletions"]
        if d["completed"] and d["scenario"] == "normal" and d["subject_id"] not in residual
    )
    assert clean
    out = _datamap(demo_run, capsys, _keyed(secret, clean[0]), "--format", "csv")
    lines = out.splitlines()
    assert lines[0].split(",")[:3] == ["asset", "status", "rows"]
    assert [line for line in lines[1:] if ",held," in line] == []
    assert not [i for i in _raw_ids(demo_run.home) if i in out]
