"""Render every report page from small hand-written data and check the parsed HTML."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from reports import render_datamap, render_impact, render_nightly, sample
from reports import sections as sec
from reports.model import NightlyReport

PAGES = ("index.html", "datamap.html", "deletions.html")


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def table_rows(table) -> tuple[list[str], list[list[str]]]:
    """Header column names (data-col) and body cell texts of a rendered table."""
    cols = [th.get("data-col") or th.get_text(strip=True) for th in table.thead.find_all("th")]
    rows = [
        [td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")
    ]
    return cols, rows


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("nightly")
    return out, render_nightly(sample.nightly(), out)


def test_render_nightly_writes_every_page_and_export(report):
    out, paths = report
    names = {p.relative_to(out).as_posix() for p in paths}
    for page in PAGES:
        assert page in names
    for key in sec.SECTION_ORDER:
        assert {f"details/{key}.html", f"details/{key}.csv", f"details/{key}.json"} <= names
    assert all(p.exists() for p in paths)
    assert paths[0].suffix == ".html"


def test_every_index_number_links_to_an_existing_detail_anchor(report):
    out, _ = report
    index = soup(out / "index.html")
    numbers = index.select("ul.metrics a.num")
    # 3 coverage + 3 rejected + 1 new flows + 1 engine/SQL disagreement + 2 violations + 3 anomalies + 2 residual + 1 + 2 + 6
    # + 4 input validation (checked, failed, rejected lines of each of 2 kinds)
    # + 4 Article 30 record (declarations missing, record rows, 2 activities flagged)
    assert len(numbers) == 32
    for a in numbers:
        href = a["href"]
        page, _, anchor = href.partition("#")
        assert page.startswith("details/"), href
        target = out / page
        assert target.exists(), href
        if anchor:
            assert soup(target).find(id=anchor) is not None, href


def test_every_link_of_every_page_resolves(report):
    _, paths = report
    for page in (p for p in paths if p.suffix == ".html"):
        doc = soup(page)
        for a in doc.find_all("a", href=True):
            target, _, anchor = a["href"].partition("#")
            file = (page.parent / target).resolve() if target else page
            assert file.exists(), (page.name, a["href"])
            if anchor and file.suffix == ".html":
                assert soup(file).find(id=anchor) is not None, (page.name, a["href"])


def test_run_summary_numbers_link_to_the_manifest(report):
    out, _ = report
    run = soup(out / "index.html").find("section", id="run")
    links = {a.get_text(): a["href"] for a in run.select(".summary a")}
    assert links == {
        "1,847": "details/run_manifest.html",  # the lines the landing read, not a sum of steps
        "4,057": "details/run_manifest.html",
        "6": "details/rejected_inputs.html",
    }
    cols, rows = table_rows(soup(out / "details" / "run_manifest.html").select_one("#rows table"))
    assert [(r[cols.index("run_date")], r[cols.index("job")]) for r in rows][:5] == [
        ("2026-03-14", "land"),
        ("2026-03-14", "ingest"),
        ("2026-03-14", "closure"),
        ("2026-03-14", "audit"),
        ("2026-03-14", "report"),
    ]
    assert rows[5][cols.index("run_date")] == "2026-03-13"
    assert len(rows) == 7
    assert json.loads((out / "details" / "run_manifest.json").read_text())[0]["duration_s"] == 137


def test_index_numbers_match_sections(report):
    out, _ = report
    index = soup(out / "index.html")
    card = index.find("section", id="rejected_inputs")
    values = {
        li.select_one(".label").get_text(strip=True): li.select_one("a.num").get_text()
        for li in card.select("ul.metrics li")
    }
    assert values == {"total": "6", "unparseable_sql": "5", "missing_field:ts": "1"}
    assert "attention" in card["class"]
    assert "clean" in index.find("section", id="retention_violations")["class"]
    cov = index.find("section", id="lineage_coverage")
    assert "of 7 (86%)" in cov.get_text(" ", strip=True)
    steps = index.find("table", id="steps")
    _, rows = table_rows(steps)
    assert [r[0] for r in rows] == ["land", "ingest", "closure", "audit", "report"]
    assert rows[0][3] == "137"  # duration in seconds
    summary = index.find("div", class_="summary").get_text(" ", strip=True)
    assert "delta-rs" in summary and "Input lines read 1,847" in summary


def test_detail_page_rows_groups_and_exports_agree(report):
    out, _ = report
    page = soup(out / "details" / "rejected_inputs.html")
    groups = {h3["id"]: h3 for h3 in page.select("h3[id]")}
    assert set(groups) == {"g-unparseable-sql", "g-missing-field-ts"}
    html_rows = []
    for table in page.select("#rows table"):
        cols, rows = table_rows(table)
        html_rows += [dict(zip(cols, r, strict=True)) for r in rows]
    assert "raw" not in cols
    with (out / "details" / "rejected_inputs.csv").open(newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    data = json.loads((out / "details" / "rejected_inputs.json").read_text())
    assert len(html_rows) == len(csv_rows) == len(data) == 3

    def key(r):
        return r["location"]

    for h, c, j in zip(
        sorted(html_rows, key=key), sorted(csv_rows, key=key), sorted(data, key=key), strict=True
    ):
        assert h["source"] == c["source"] == j["source"]
        assert h["reason"] == c["reason"] == j["reason"]
        assert j["run_date"] == "2026-03-14" == c["run_date"] == h["run_date"]
    # the truncation note: total 6 but only 3 rows given
    assert "first 3 of 6 rows" in page.find("p", class_="note").get_text()
    assert page.select_one(".exports a[href='rejected_inputs.csv']") is not None


def test_policy_violation_path_and_anomaly_age(report):
    out, _ = report
    page = soup(out / "details" / "policy_violations.html")
    cols, rows = table_rows(page.select_one("#rows table"))
    path = rows[0][cols.index("path")]
    assert path == "crm.customers.email → dw.dim_customer.email → <script>alert(1)</script>.contact"
    page = soup(out / "details" / "deletion_anomalies.html")
    section = page.find(id="g-not-completed").find_next("table")
    cols, rows = table_rows(section)
    assert rows[0][cols.index("age_days")] == "2"
    assert rows[0][cols.index("deletion_id")] == "del-003"


def test_no_script_and_no_network_in_any_page(report):
    _, paths = report
    for p in (p for p in paths if p.suffix == ".html"):
        doc = soup(p)
        assert doc.find_all("script") == [], p
        assert doc.find_all("link") == [], p
        for tag in doc.find_all(src=True):
            assert tag["src"].startswith("data:"), p
        for a in doc.find_all("a", href=True):
            assert not a["href"].startswith(("http:", "https:", "//")), (p, a["href"])
        style = doc.find("style").get_text()
        assert "@media print" in style
        assert p.read_text().count(sample.XSS) == 0, p


def test_xss_asset_name_shows_as_text(report):
    out, _ = report
    for page in ("datamap.html", "deletions.html", "details/policy_violations.html"):
        doc = soup(out / page)
        assert sample.XSS in doc.get_text(), page
    graph = soup(out / "datamap.html").select_one("svg.lineage")
    labels = [t.get_text() for t in graph.find_all("text")]
    assert sample.XSS in labels


def test_trend_charts_are_static_svg_images(report):
    out, _ = report
    imgs = soup(out / "index.html").select("img.trend")
    assert len(imgs) == 11  # one per section with a trend (annotation findings has none)
    svg = base64.b64decode(imgs[0]["src"].split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    assert "Trend of Lineage coverage over 6 runs" in imgs[0]["alt"]


def test_datamap_page_article30_and_columns(report):
    out, _ = report
    doc = soup(out / "datamap.html")
    table = doc.find("table", id="art30-table")
    cols = [th["data-col"] for th in table.thead.find_all("th")]
    art = {
        tr["id"]: {
            c: [d.get_text(strip=True) for d in td.find_all("div")] or td.get_text(strip=True)
            for c, td in zip(cols, tr.find_all("td"), strict=True)
        }
        for tr in table.tbody.find_all("tr")
    }
    assert list(art) == [
        "pa-g-customer-accounts",
        "pa-g-revenue-reporting",
        "pa-g-churn-prediction",
        "pa-g-undeclared-zone-marketing",
    ]
    accounts = art["pa-g-customer-accounts"]
    assert accounts["status"] == "complete"
    assert accounts["lawful_basis"] == "Art. 6(1)(b) performance of a contract"
    assert accounts["observed_assets"] == ["crm.customers", "dw.dim_customer"]
    assert "user.unique_id: 1095 days (catalog)" in accounts["retention"]
    churn = art["pa-g-churn-prediction"]
    assert churn["transfers"] == ["USA (CloudML Inc.): declaration missing (no safeguard)"]
    assert art["pa-g-undeclared-zone-marketing"]["observed_assets"] == [sample.XSS]
    flagged = {td["class"][0] for td in table.select("td.flagged")}
    assert flagged == {
        "col-status",
        "col-transfers",
        "col-purposes",
        "col-lawful_basis",
        "col-data_subjects",
        "col-data_categories",
        "col-recipients",
        "col-retention",
        "col-security_measures",
    }
    assert "2 declarations missing in 2 of 4 rows" in doc.find(id="art30-missing").get_text()
    assert "Sample Shop GmbH" in doc.find(id="controller").get_text()
    cat = doc.find(id="cat-g-user-contact-email").find_next("table")
    ccols, crows = table_rows(cat)
    assert [(r[0], r[ccols.index("masking")], r[ccols.index("min_depth")]) for r in crows] == [
        (sample.XSS, "no", "2"),
        ("dw.dim_customer", "no", "1"),
        ("ml.churn_model", "no", "2"),
    ]
    empty = doc.find(id="cat-g-user-unique-id").find_next("table")
    assert "stays in its source" in empty.get_text()
    block = doc.find(id="c-crm-customers-email")
    _, flows = table_rows(block.find("table"))
    assert [f[0] for f in flows] == ["dw.dim_customer", sample.XSS, "ml.churn_model"]
    exported = json.loads((out / "datamap-flows.json").read_text())
    assert len(exported) == len(table_rows(doc.find("table", id="flows-table"))[1]) == 5
    assert {e["retention_days"] for e in exported if e["source_column"] == "city"} == {365}


def test_deletions_page_status_timeline_and_residuals(report):
    out, _ = report
    doc = soup(out / "deletions.html")
    cols, rows = table_rows(doc.find("table", id="requests"))
    status = {r[0]: r[cols.index("status")] for r in rows}
    assert status == {
        "del-001": "completed on time",
        "del-002": "completed late",
        "del-003": "in progress",
    }
    assert [r[0] for r in rows][:2] == ["del-002", "del-003"]  # needing attention first
    case = doc.find("section", id="d-del-002")
    events = [li.b.get_text() for li in case.select("ol.timeline li")]
    assert events == [
        "requested",
        "scheduled",
        "started",
        "exception",
        "rerun",
        "SLA due",
        "completed",
    ]
    assert "[redacted e-mail]" in case.get_text() and "jane@example.com" not in doc.get_text()
    residual = case.find("h3", string="Residual scan per table").find_next("table")
    rcols, rrows = table_rows(residual)
    assert [(r[0], r[rcols.index("rows_found")]) for r in rrows] == [
        ("dw.dim_customer", "2"),
        (sample.XSS, "0"),
    ]
    assert case.select("svg.timeline line.sla")
    exported = json.loads((out / "deletion-residuals.json").read_text())
    assert {(e["deletion_id"], e["asset"], e["rows_found"]) for e in exported} == {
        ("del-001", "dw.dim_customer", 0),
        ("del-001", "ml.churn_model", 0),
        ("del-002", "dw.dim_customer", 2),
        ("del-002", sample.XSS, 0),
    }
    assert "e-mail address(es)" in doc.find("footer").get_text()


def test_overdue_when_run_date_passes_sla(tmp_path):
    data = NightlyReport(run_date="2026-04-01", deletions=sample.deletions())
    render_nightly(data, tmp_path)
    cols, rows = table_rows(soup(tmp_path / "deletions.html").find("table", id="requests"))
    assert {r[0]: r[cols.index("status")] for r in rows}["del-003"] == "overdue"
    # an empty report still renders every page
    assert soup(tmp_path / "index.html").find("table", id="steps").get_text().count("No run") == 1
    assert soup(tmp_path / "datamap.html").find(id="columns").get_text().count("No personal") == 1


def test_render_datamap_alone(tmp_path):
    paths = render_datamap(sample.datamap(), tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        [
            "datamap.html",
            "datamap-flows.csv",
            "datamap-flows.json",
            "datamap-article30.csv",
            "datamap-article30.json",
            "datamap-article30.xlsx",
            "datamap-article30-evidence.csv",
            "datamap-article30-evidence.json",
        ]
    )
    doc = soup(tmp_path / "datamap.html")
    assert doc.find("nav") is None  # on-demand page: no links to pages that do not exist
    assert len(doc.select("svg.lineage polyline.violating")) == 2


def test_render_impact(tmp_path):
    paths = render_impact(sample.impact(), tmp_path)
    assert {p.name for p in paths} == {"impact.html", "impact.csv", "impact.json"}
    doc = soup(tmp_path / "impact.html")
    cols, rows = table_rows(doc.select_one("#impacted table"))
    assert [r[0] for r in rows] == ["dw.dim_customer", "ml.churn_model"]
    assert rows[0][cols.index("breaking")] == "yes"
    assert "bad" in doc.select_one("#impacted tbody tr")["class"]
    assert doc.select_one("ul.metrics li.bad .num").get_text() == "1"
    with (tmp_path / "impact.csv").open(newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert [e["asset"] for e in exported] == [r[0] for r in rows]
    assert json.loads(exported[0]["path"]) == ["crm.customers.email", "dw.dim_customer.email"]
    nodes = {g["data-node"] for g in doc.select("svg.lineage g.node")}
    assert "crm.customers.email" in nodes and "ml.churn_model.email_domain" in nodes


def test_attention_banner_and_escaped_metric_labels(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    s = sec.rejected_inputs([{"source": "f", "location": "1", "reason": evil}])
    render_nightly(NightlyReport(run_date="2026-03-14", sections=[s, sec.new_flows([])]), tmp_path)
    for page in ("index.html", "details/rejected_inputs.html"):
        doc = soup(tmp_path / page)
        assert doc.find_all("img") == [], page
        assert evil in doc.get_text(), page
    banner = soup(tmp_path / "index.html").find(id="attention")
    assert [a.get_text() for a in banner.find_all("a")] == ["Rejected inputs", "1"]
    clean = NightlyReport(run_date="2026-03-14", sections=[sec.new_flows([])])
    render_nightly(clean, tmp_path / "clean")
    assert (
        "No section needs attention"
        in soup(tmp_path / "clean" / "index.html").find(id="attention").get_text()
    )


def test_the_attention_banner_counts_what_needs_attention_not_every_row(tmp_path):
    rows = [
        {"kind": "query_logs", "expectation": "e1", "column": "sql", "success": True},
        {"kind": "query_logs", "expectation": "e2", "column": "ts", "success": False},
        {"kind": "query_logs", "expectation": "e3", "column": "id", "success": True},
    ]
    s = sec.input_validation(rows, rejected_by_kind={"query_logs": 4})
    render_nightly(NightlyReport(run_date="2026-03-14", sections=[s]), tmp_path)
    banner = soup(tmp_path / "index.html").find(id="attention")
    # one expectation failed (of three checked)
    assert [a.get_text() for a in banner.find_all("a")] == ["Input validation", "1"]
