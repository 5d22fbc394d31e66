"""The renderer's parts: safety guard, exports, graph drawing, section builders, data map."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from bs4 import BeautifulSoup

from jobs.errors import ComplianceError
from reports import render_nightly, sample
from reports import sections as sec
from reports.datamap import by_column, category_assets, flows, retention_for
from reports.exports import csv_cell, write_exports
from reports.graph import draw_lineage
from reports.model import DataMap, GraphView, NightlyReport, Section, TrendPoint, trend
from reports.safety import Guard, ReportDataError


@pytest.mark.parametrize(
    "column", ["ciphertext", "iv", "mac", "key", "Key_Material", "subject_id", "raw"]
)
def test_forbidden_columns_refuse_the_render(tmp_path, column):
    s = Section(key="restoration_log", title="t", rows=[{"entry_id": "e1", column: "x"}])
    with pytest.raises(ReportDataError, match=column):
        render_nightly(NightlyReport(run_date="2026-03-14", sections=[s]), tmp_path)
    assert not (tmp_path / "index.html").exists()


def test_key_material_value_refuses_the_render(tmp_path):
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ...\n-----END PRIVATE KEY-----"
    s = Section(key="new_flows", title="t", rows=[{"detail": pem}])
    with pytest.raises(ReportDataError) as info:
        render_nightly(NightlyReport(run_date="2026-03-14", sections=[s]), tmp_path)
    assert isinstance(info.value, ComplianceError)
    assert "MIIEvQ" not in str(info.value)


def test_guard_redacts_emails_in_nested_values_and_counts():
    g = Guard()
    out = g.rows(
        [
            {
                "detail": "mail a.b@example.org now",
                "path": ["x", "c@d.io"],
                "n": 3,
                "subject_key": "sk_0123456789abcdef",
            }
        ],
        "t",
    )
    assert g.rows([{"subject_key": None}], "t") == [{"subject_key": None}]
    assert out == [
        {
            "detail": "mail [redacted e-mail] now",
            "path": ["x", "[redacted e-mail]"],
            "n": 3,
            "subject_key": "sk_0123456789abcdef",
        }
    ]
    assert g.redactions == 2


def test_raw_subject_id_as_subject_key_refuses_the_render(tmp_path):
    case = sample.deletions()[0]
    bad = type(case)(request=dict(case.request, subject_key="alice@example.com"))
    with pytest.raises(ReportDataError, match="not pseudonymous") as info:
        render_nightly(NightlyReport(run_date="2026-03-14", deletions=[bad]), tmp_path)
    assert "alice" not in str(info.value)


def test_guard_turns_pandas_and_numpy_values_into_plain_python():
    from datetime import datetime
    from decimal import Decimal

    import numpy as np
    import pandas as pd

    g = Guard()
    row = {
        "a": np.int64(3),
        "b": float("nan"),
        "c": pd.NaT,
        "d": np.array(["x", "y"]),
        "e": Decimal(2),
        "f": Decimal("0.5"),
        "g": pd.Timestamp("2026-03-14T10:00:00+01:00").to_pydatetime(),
    }
    out = g.rows([row], "t")[0]
    assert out == {
        "a": 3,
        "b": None,
        "c": None,
        "d": ["x", "y"],
        "e": 2,
        "f": 0.5,
        "g": datetime(2026, 3, 14, 9, 0),
    }
    assert type(out["a"]) is int


def test_rejected_inputs_builder_drops_raw_and_counts_by_reason():
    s = sec.rejected_inputs(
        [
            {"source": "f", "location": "line 1", "reason": "bad_json", "raw": "{secret}"},
            {"source": "f", "location": "line 2", "reason": "bad_json", "raw": "x"},
        ]
    )
    assert "raw" not in s.columns
    assert [(m.label, m.value, m.group) for m in s.metrics] == [
        ("total", 2, None),
        ("bad_json", 2, "bad_json"),
    ]
    assert s.group_by == "reason" and s.needs_attention


def test_section_defaults_and_trend_normalisation():
    s = Section(
        key="k",
        title="T",
        rows=[{"a": 1}, {"b": 2, "a": 3}],
        trend=[("2026-01-02", 2), {"run_date": "2026-01-01", "value": 1}],
    )
    assert s.columns == ("a", "b") and s.total == 2 and not s.truncated
    assert [t.value for t in s.trend] == [1.0, 2.0]
    assert s.metrics[0].value == 2 and s.needs_attention
    assert trend([TrendPoint(s.trend[0].run_date, 5)])[0].value == 5
    empty = sec.retention_violations([])
    assert empty.total == 0 and not empty.needs_attention


def test_restoration_log_section_flags_only_overdue_keys():
    ok = sec.restoration_log(
        keys_active=90, keys_destroyed=3, entries_written=1, entries_restored=0, entries_expired=2
    )
    assert not ok.needs_attention
    bad = sec.restoration_log(
        keys_active=90,
        keys_destroyed=3,
        entries_written=1,
        entries_restored=0,
        entries_expired=2,
        keys_overdue=1,
    )
    assert bad.needs_attention


def test_csv_cells_and_exports(tmp_path):
    assert csv_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert csv_cell("-3.5") == "-3.5"
    assert csv_cell(None) == "" and csv_cell(True) == "true"
    assert csv_cell(["a", "b"]) == '["a", "b"]'
    rows = [{"a": 1, "b": "x", "c": "ignored"}, {"a": None, "b": "@sum"}]
    paths = write_exports(rows, ["b", "a"], tmp_path, "t")
    assert [p.name for p in paths] == ["t.csv", "t.json"]
    with paths[0].open(newline="") as fh:
        assert list(csv.reader(fh)) == [["b", "a"], ["x", "1"], ["'@sum", ""]]
    assert json.loads(paths[1].read_text()) == [{"a": 1, "b": "x"}, {"a": None, "b": "@sum"}]


def test_exported_points_in_time_say_they_are_utc(tmp_path):
    """A CSV/JSON timestamp carries its zone: naive readings are the product's UTC, aware ones are
    converted; a date stays a date."""
    cet = timezone(timedelta(hours=1))
    rows = [
        {"at": datetime(2026, 11, 22, 3, 0, 5), "day": date(2026, 11, 22)},
        {"at": datetime(2026, 11, 22, 4, 0, 5, 250000, tzinfo=cet), "day": None},
        {"at": datetime(2026, 11, 22, 3, 0, 5, 7), "day": None},
    ]
    paths = write_exports(rows, ["at", "day"], tmp_path, "t")
    with paths[0].open(newline="") as fh:
        assert list(csv.reader(fh)) == [
            ["at", "day"],
            ["2026-11-22T03:00:05Z", "2026-11-22"],
            ["2026-11-22T03:00:05.250Z", ""],
            ["2026-11-22T03:00:05.000007Z", ""],
        ]
    assert [r["at"] for r in json.loads(paths[1].read_text())] == [
        "2026-11-22T03:00:05Z",
        "2026-11-22T03:00:05.250Z",
        "2026-11-22T03:00:05.000007Z",
    ]


def _svg(markup: str) -> BeautifulSoup:
    return BeautifulSoup(str(markup), "html.parser")


def test_graph_is_layered_left_to_right_with_violations_marked():
    doc = _svg(draw_lineage(sample.datamap().graph))
    nodes = {g["data-node"]: g for g in doc.select("g.node")}
    assert set(nodes) == {a["name"] for a in sample.ASSETS}
    x = {n: float(g.rect["x"]) for n, g in nodes.items()}
    assert x["crm.customers"] < x["dw.dim_customer"] < x["ml.churn_model"]
    assert x["app.orders"] < x["dw.orders"] < x["bi.revenue_by_city"]
    violating = {(e["data-src"], e["data-dst"]) for e in doc.select("polyline.violating")}
    assert violating == {("crm.customers", "dw.dim_customer"), ("dw.dim_customer", sample.XSS)}
    assert {e["data-dst"] for e in doc.select("polyline.masked")} == {"bi.revenue_by_city"}
    assert nodes["ml.churn_model"]["data-kind"] == "model"
    assert nodes["dw.orders"]["data-zone"] == "warehouse"
    assert doc.find("script") is None
    legend = doc.select_one("ul.legend").get_text(" ")
    assert "zone marketing" in legend and "policy violation" in legend
    assert doc.select_one("p.truncated") is None


def test_graph_is_capped_with_a_note():
    chain = [{"source_asset": f"t{i}", "target_asset": f"t{i + 1}"} for i in range(30)]
    doc = _svg(draw_lineage(GraphView(edges=chain, max_nodes=10)))
    assert len(doc.select("g.node")) == 10
    assert "10 of 31 nodes" in doc.select_one("p.truncated").get_text()


def test_graph_column_level_and_cycles():
    edges = [
        {"source_asset": "a", "source_column": "x", "target_asset": "b", "target_column": "y"},
        {"source_asset": "b", "source_column": "y", "target_asset": "a", "target_column": "x"},
        {"source_asset": "b", "source_column": "y", "target_asset": "c", "target_column": None},
    ]
    doc = _svg(draw_lineage(GraphView(edges=edges, level="column")))
    assert {g["data-node"] for g in doc.select("g.node")} == {"a.x", "b.y", "c"}
    assert len(doc.select("polyline.edge")) == 3
    assert "No lineage edges" in str(draw_lineage(GraphView()))


def test_datamap_helpers():
    assert retention_for("user.contact.email", {"user": 730, "user.contact": 365}) == 365
    assert retention_for("system.log", {"user": 730}) is None
    assert retention_for("system.log", {"": 30}) == 30
    dm = sample.datamap()
    f = flows(dm)
    assert {r["data_category"] for r in f} == {"user.contact.email", "user.contact.address.city"}
    assert all(r["zone"] for r in f)
    cols = by_column(dm, f)
    assert [(c.asset, c.column, len(c.flows)) for c in cols] == [
        ("crm.customers", "city", 2),
        ("crm.customers", "email", 3),
        ("crm.customers", "customer_id", 0),
    ]
    masked = [dict(f, masking=f["target_asset"] == "dw.dim_customer") for f in flows(dm)]
    cats = {r["target_asset"]: r for r in category_assets(by_column(dm, masked))}
    assert cats["dw.dim_customer"]["masking"] == "yes"
    assert cats["dw.dim_customer"]["from_columns"] == ["crm.customers.city", "crm.customers.email"]
    assert cats["dw.dim_customer"]["retention_days"] == 365
    # reach rows keyed by asset_id resolve to names
    by_id = DataMap(
        personal_columns=[
            {"asset_id": "a1", "column": "email", "data_category": "user.contact.email"}
        ],
        reach=[
            {
                "source_asset": "a1",
                "source_column": "email",
                "target_asset": "a2",
                "target_column": "email",
                "depth": 1,
            }
        ],
        assets=sample.ASSETS,
    )
    f = flows(by_id)
    assert (f[0]["source_asset"], f[0]["target_asset"], f[0]["owner"]) == (
        "crm.customers",
        "dw.dim_customer",
        "data-eng",
    )
    assert by_column(by_id, f)[0].flows == tuple(f)


def test_trend_chart_svg_has_whole_number_axis_and_alt_text():
    from reports.charts import _sparkline, trend_img, trend_svg

    pts = trend([("2026-03-01", 0), ("2026-03-02", 3), ("2026-03-03", 6)])
    svg = BeautifulSoup(trend_svg(pts, y_title="findings"), "html.parser")
    labels = {t.get_text() for t in svg.find_all("text")}
    assert {"0", "2", "4", "6", "03-01", "03-03", "findings"} <= labels
    assert "0.5" not in labels
    assert trend_svg(()) == "" and str(trend_img((), label="x")) == ""
    img = BeautifulSoup(str(trend_img(pts, label="<b>x</b>")), "html.parser").img
    assert img["alt"] == "Trend of <b>x</b> over 3 runs: 0 on 2026-03-01 to 6 on 2026-03-03"
    spark = BeautifulSoup(_sparkline(pts, "#000"), "html.parser")
    assert len(spark.polyline["points"].split()) == 3


def test_datamap_graph_is_drawn_from_reach_paths_when_not_given(tmp_path):
    import dataclasses

    from reports import render_datamap

    dm = dataclasses.replace(sample.datamap(), graph=None)
    render_datamap(dm, tmp_path)
    doc = BeautifulSoup((tmp_path / "datamap.html").read_text(), "html.parser")
    edges = {(e["data-src"], e["data-dst"]) for e in doc.select("svg.lineage polyline")}
    assert edges == {
        ("crm.customers", "dw.dim_customer"),
        ("dw.dim_customer", "ml.churn_model"),
        ("dw.dim_customer", sample.XSS),
        ("dw.dim_customer", "bi.revenue_by_city"),
    }
    kinds = {g["data-node"]: g["data-kind"] for g in doc.select("svg.lineage g.node")}
    assert kinds["bi.revenue_by_city"] == "dashboard"


def test_input_validation_rows_statuses_shares_and_attention():
    from reports.sections import input_validation

    s = input_validation(
        [
            {
                "kind": "query_logs",
                "expectation": "expect_column_values_to_not_be_null",
                "column": "sql",
                "parameters": '{"mostly": 1.0}',
                "success": True,
                "element_count": 4000,
                "unexpected_count": 0,
            },
            {
                "kind": "deletion_events",
                "expectation": "expect_column_values_to_be_in_set",
                "column": "event_type",
                "parameters": '{"value_set": ["requested", "completed"]}',
                "success": False,
                "element_count": 40000,
                "unexpected_count": 1,
            },
            {
                "kind": "deletion_events",
                "expectation": "expect_column_values_to_match_regex",
                "column": "ts",
                "parameters": None,
                "success": False,
                "element_count": 3,
                "unexpected_count": 2,
            },
        ],
        rejected_by_kind={"deletion_events": 3, "openlineage": 1},
    )
    assert [(r["status"], r["unexpected_percent"]) for r in s.rows] == [
        ("passed", "0.00%"),
        ("failed", "<0.01%"),  # one bad row of 40,000 is not shown as 0%
        ("failed", "66.67%"),
    ]
    assert s.rows[2]["parameters"] == "{}"
    assert s.needs_attention and s.group_by == "kind"
    assert [(m.label, m.value, m.group) for m in s.metrics] == [
        ("expectations checked", 3, None),
        ("expectations failed", 2, None),
        ("deletion_events: lines rejected", 3, "deletion_events"),
        ("openlineage: lines rejected", 1, "openlineage"),
        ("query_logs: lines rejected", 0, "query_logs"),
    ]
    clean = input_validation([{**s.rows[0], "success": True}])
    assert not clean.needs_attention


def test_expectation_parameters_are_the_rule_s_own_arguments():
    from jobs.steps.land_expectations import parameters

    assert parameters({"column": "ts", "min_value": "2026-01-01", "max_value": None}) == (
        '{"min_value": "2026-01-01"}'
    )
    assert parameters({"column": "x", "value_set": ["b", "a"], "result_format": "BASIC"}) == (
        '{"value_set": ["b", "a"]}'
    )
    assert parameters({"column": "x"}) == "{}"


def _luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_graphics_reach_3_to_1_and_text_4_5_to_1_against_their_backgrounds():
    import re
    from pathlib import Path

    from reports.deletions import EVENT_COLOURS
    from reports.graph import NO_ZONE, VIOLATION, ZONE_COLOURS

    for colour in (*ZONE_COLOURS, NO_ZONE, VIOLATION, *EVENT_COLOURS.values()):
        assert _contrast(colour, "#ffffff") >= 3.0, colour
    css = (Path(__file__).resolve().parents[1] / "reports/templates/style.css").read_text()
    var = dict(re.findall(r"--(\w+):(#[0-9a-f]{6})", css))
    for fg, bg in [
        ("ink", "bg"),
        ("muted", "bg"),
        ("bad", "badbg"),
        ("ok", "okbg"),
        ("accent", "badbg"),
        ("muted", "badbg"),
    ]:
        assert _contrast(var[fg], var[bg]) >= 4.5, (fg, bg)
    assert _contrast(var["muted"], "#eef1f4") >= 4.5  # table headers


def test_a_share_never_rounds_to_zero_or_to_a_hundred():
    from reports.sections import percent

    assert percent(9976, 10000) == ">99%"  # not "100%" while 24 of 10,000 lack lineage
    assert percent(10000, 10000) == "100%"
    assert percent(1, 1000) == "<1%"
    assert percent(0, 1000) == "0%"
    assert percent(1, 3, digits=2) == "33.33%"
    assert percent(5, 0) == "-"


def test_the_print_header_is_a_css_string_nothing_escapes():
    from reports.render import css_string

    text = str(css_string('a "b" \\ </style><script>'))
    assert '"' not in text and "<" not in text
    assert text.startswith("a \\22 b\\22  \\5c  \\3c /style\\3e ")


def _case(**request):
    from reports.model import DeletionCase

    base = {
        "deletion_id": "del-9",
        "subject_key": "sk_" + "ab" * 16,
        "requested_at": "2026-02-01T00:00:00",
        "sla_days": 10,
    }
    events = request.pop("events", ())
    residuals = request.pop("residuals", ())
    return DeletionCase(request={**base, **request}, events=events, residuals=residuals)


def test_the_erasure_record_says_not_recorded_for_facts_the_inputs_lack():
    from datetime import date, datetime

    from reports.deletions import HANDLING, build_case

    done = [{"event": "completed", "ts": datetime(2026, 2, 5)}]
    clean = [{"asset": "crm.c", "column": "id", "status": "clean", "rows_found": 0}]
    v = build_case(
        _case(
            channel="email",
            recipients_notified_at=datetime(2026, 2, 6),
            events=done,
            residuals=clean,
        ),
        run_date=date(2026, 3, 1),
        sla_default=30,
    )
    facts = dict(v.summary["handling"])
    assert len(facts) == len(HANDLING)
    assert facts["Channel"] == "email"
    assert facts["Recipients notified (Art. 19)"] == datetime(2026, 2, 6)
    assert facts["Identity verification (Art. 12(6))"] == "not recorded"
    assert v.summary["status"] == "completed on time" and v.summary["days_late"] is None
    assert v.certified and v.summary["certificate"] == "issued" and v.why_not_certified == []


def test_overdue_late_refused_and_uncertifiable_records():
    from datetime import date, datetime

    from reports.deletions import build_case

    run = date(2026, 3, 1)
    overdue = build_case(_case(), run_date=run, sla_default=30)
    assert overdue.summary["status"] == "overdue"
    assert overdue.summary["days_late"] == 18  # due 2026-02-11, still open at the end of 03-01
    assert overdue.why_not_certified == [
        "the request is overdue",
        "no table was scanned for residual data",
    ]
    late = build_case(
        _case(
            events=[{"event": "completed", "ts": datetime(2026, 2, 14, 12)}],
            residuals=[
                {"asset": "a.t", "column": "id", "status": "residual", "rows_found": 2},
                {"asset": "a.u", "column": "id", "status": "unverifiable", "rows_found": None},
            ],
        ),
        run_date=run,
        sla_default=30,
    )
    assert (late.summary["status"], late.summary["days_late"]) == ("completed late", 3)
    assert not late.certified
    assert late.why_not_certified == [
        "2 residual row(s) were found",
        "1 table(s) could not be verified",
    ]
    refused = build_case(
        _case(decision="refused", exemption="legal_claims"), run_date=run, sla_default=30
    )
    assert refused.summary["status"] == "refused" and refused.summary["days_late"] is None
    assert dict(refused.summary["handling"])["Exemption or refusal ground (Art. 17(3), 12(5))"] == (
        "legal_claims"
    )


def test_each_request_gets_a_certificate_page_that_states_only_what_was_recorded(tmp_path):
    from bs4 import BeautifulSoup

    from reports import render_nightly, sample

    render_nightly(sample.nightly(), tmp_path)
    pages = sorted(p.name for p in (tmp_path / "certificates").iterdir())
    assert pages == ["d-del-001.html", "d-del-002.html", "d-del-003.html"]

    def text(name):
        html = (tmp_path / "certificates" / name).read_text(encoding="utf-8")
        return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())

    clean = text("d-del-001.html")
    assert "Certificate of erasure" in clean and "found no row of the subject" in clean
    assert (
        "Channel web_form" in clean
        and "Exemption or refusal ground (Art. 17(3), 12(5)) not recorded" in clean
    )
    late = text("d-del-002.html")
    assert "Erasure record: no certificate" in late and "2 residual row(s) were found" in late
    assert "found no row" not in late
    index = BeautifulSoup((tmp_path / "deletions.html").read_text(encoding="utf-8"), "html.parser")
    links = {a["href"] for a in index.select("section.case h2 a")}
    assert links == {f"certificates/{p}" for p in pages}


def test_headings_say_that_points_in_time_are_utc():
    from reports.render import header

    assert header("started_at") == "started at (UTC)"
    assert header("ts") == "ts (UTC)" and header("last_seen") == "last seen (UTC)"
    assert header("run_date") == "run date" and header("days_late") == "days late"
