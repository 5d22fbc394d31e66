"""A step that fails still leaves a report: its error in the run summary, the steps after it
"not run", and the checks they feed "not run" instead of a green zero (not recorded as done)."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.registry import STEPS
from jobs.steps.report import mark_not_run, with_comparison_scope, with_steps_not_run
from jobs.store.tables import TableStore
from reports import sections as sec

CATALOG = """\
assets:
  - name: crm.customers
    kind: table
    owner: crm-team
    zone: source
    columns:
      - {name: email, type: string, data_category: user.contact.email}
"""
POLICIES = """\
zones:
  source: operational source systems
policies: []
"""
DAY = "2026-11-21"


def test_steps_without_a_row_are_not_run_and_their_sections_say_so():
    from datetime import date

    day = date(2026, 11, 21)
    steps = [
        {"job": "land", "run_date": day, "status": "ok"},
        {"job": "ingest", "run_date": day, "status": "ok"},
        {"job": "closure", "run_date": day, "status": "failed", "error": "Crash: disk full"},
    ]
    got = with_steps_not_run(steps, day, STEPS)
    assert [(r["job"], r["status"]) for r in got] == [
        ("land", "ok"),
        ("ingest", "ok"),
        ("closure", "failed"),
        ("audit", "not run"),
        ("keys", "not run"),
    ]
    trend = [(date(2026, 11, 20), 3), (day, 0)]
    sections = [
        sec.rejected_inputs([], total=0, trend=trend),
        sec.new_flows([], total=0, trend=trend),
        sec.residual_findings([], total=0, trend=trend),
    ]
    marked = {s.key: s.not_run for s in mark_not_run(sections, got, STEPS)}
    assert marked == {
        "rejected_inputs": "",
        "new_flows": "the closure step failed for this run date: Crash: disk full",
        "residual_findings": "the audit step has not run for this run date",
    }
    assert [s.needs_attention for s in mark_not_run(sections, got, STEPS)] == [False, True, True]
    # a check that did not run has no point for the run date in its trend
    assert [len(s.trend) for s in mark_not_run(sections, got, STEPS)] == [2, 1, 1]


def test_a_night_that_compared_nothing_says_so_instead_of_a_clean_zero(tmp_path):
    from datetime import date

    from reports import render_nightly
    from reports.model import NightlyReport

    day = date(2026, 11, 21)
    trend = [(date(2026, 11, 20), 2), (day, 0)]
    zero = sec.lineage_disagreements([], total=0, trend=trend)
    none = with_comparison_scope(zero, {"engine_lineage_compared": 0}, day)
    some = with_comparison_scope(zero, {"engine_lineage_compared": 4}, day)
    older = with_comparison_scope(zero, {}, day)  # an ingest that did not record it
    assert "no query was compared" in none.nothing_checked
    assert [p.run_date for p in none.trend] == [date(2026, 11, 20)]
    assert not none.needs_attention
    assert (some.nothing_checked, len(some.trend)) == ("", 2)
    assert older == zero

    render_nightly(NightlyReport(run_date=day, sections=[none]), tmp_path / "none")
    render_nightly(NightlyReport(run_date=day, sections=[some]), tmp_path / "some")
    page = BeautifulSoup((tmp_path / "none/index.html").read_text(encoding="utf-8"), "html.parser")
    card = page.find(id="lineage_disagreements")
    assert "clean" not in card["class"]
    assert "Nothing checked" in card.get_text()
    assert card.find("ul", class_="metrics") is None  # no 0 shown as a result
    toc = page.find("ul", class_="toc").get_text()
    assert "Engine and SQL lineage disagree (nothing checked)" in " ".join(toc.split())
    detail = (tmp_path / "none/details/lineage_disagreements.html").read_text(encoding="utf-8")
    assert "Nothing checked" in detail
    page = BeautifulSoup((tmp_path / "some/index.html").read_text(encoding="utf-8"), "html.parser")
    card = page.find(id="lineage_disagreements")
    assert "clean" in card["class"] and "Nothing checked" not in card.get_text()


def test_a_nightly_failing_in_the_audit_still_renders_a_report_that_says_so(
    spark, tmp_path, monkeypatch
):
    import jobs.steps.audit

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (inputs / "policies.yaml").write_text(POLICIES, encoding="utf-8")
    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")

    def crash(*_a, **_k):
        raise RuntimeError("injected: the audited warehouse went away")

    monkeypatch.setattr(jobs.steps.audit, "annotations", crash)
    assert main(["nightly", "--conf", str(conf), "--run-date", DAY, "--quiet"]) == 3

    page = Path(tmp_path / "reports" / DAY / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    rows = {
        tr.find_all("td")[0].get_text(): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in soup.select("#steps tbody tr")
    }
    assert {job: r[1] for job, r in rows.items()} == {
        "land": "ok",
        "ingest": "ok",
        "closure": "ok",
        "audit": "failed",
        "keys": "not run",
    }
    assert rows["audit"][-1] == "RuntimeError: injected: the audited warehouse went away"
    status = soup.select_one("#run .summary").get_text(" ", strip=True)
    assert "1 step(s) failed" in status and "1 step(s) not run" in status
    assert "all steps succeeded" not in status
    for key in ("deletion_anomalies", "residual_findings", "retention_violations"):
        card = soup.select_one(f"section#{key}")
        note = card.select_one(".not-run").get_text(" ", strip=True)
        assert note.startswith("Not run: the audit step failed for this run date: RuntimeError")
        assert not card.select("ul.metrics"), key  # no number: not a clean zero
        assert "clean" not in card["class"]
    for key in ("rejected_inputs", "new_flows", "policy_violations"):  # their steps ran
        assert soup.select_one(f"section#{key} ul.metrics") is not None, key
    toc = {li.find("a")["href"]: li.get_text(" ", strip=True) for li in soup.select("ul.toc li")}
    assert toc["#residual_findings"].endswith("( not run )")

    manifest = TableStore(spark, str(tmp_path / "warehouse"), engine="delta-rs").read(
        "run_manifest"
    )
    assert manifest.filter(F.col("job") == "report").count() == 0  # a resumed run renders again
