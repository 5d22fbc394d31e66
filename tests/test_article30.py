"""The Article 30 record (reports.article30) on small explicit inputs, and its XLSX export read
back with openpyxl."""

from __future__ import annotations

from datetime import datetime

import openpyxl

from core.processing import Activity, Contact, Organisation, Recipient, Register, System, Transfer
from reports import article30 as a30
from reports.exports import write_exports

ORG = Organisation(
    controller=Contact("Co B.V.", "1 Canal, Amsterdam", "privacy@co.example"),
    dpo=Contact("Dee", email="dpo@co.example"),
    security_measures=("encryption at rest",),
)
CONTROLLER = (
    "controller: Co B.V., 1 Canal, Amsterdam, privacy@co.example; DPO: Dee, dpo@co.example; "
    "representative: none (established in the Union)"
)
ADS = Activity(
    key="ads",
    name="Ad audiences",
    purpose="marketing.advertising.third_party.targeted",
    lawful_basis="consent",
    data_subjects=("customer",),
    data_categories=("user.unique_id",),
    recipients=(Recipient("AdCo Inc.", "third_party", "DSA-7"),),
    transfers=(Transfer("USA", "AdCo Inc.", "standard_contractual_clauses", "SCC 2021/914"),),
    retention_days=90,
    systems=("ad_platform",),
)
PROFILES = Activity(
    key="profiles",
    name="Customer profiles",
    purpose="analytics.reporting",
    lawful_basis="legitimate_interests",
    special_category_condition="explicit_consent",
    data_subjects=("customer",),
    data_categories=("user",),
    zones=("analytics",),
)
REG = Register(
    organisation=ORG,
    systems=(System("ad_platform", "AdCo", zones=("ads",), country="USA"),),
    activities=(ADS, PROFILES),
)
RELIGION_FLOW = a30.Holding(
    asset="ads.audience_segments",
    column="religious_affinity",
    data_category="user.demographic.religious_belief",
    zone="ads",
    owner="growth",
    source_asset="analytics.customer_profile",
    source_column="religion",
    depth=1,
    masked=False,
)
HELD = [
    a30.Holding(
        "analytics.customer_profile",
        "religion",
        "user.demographic.religious_belief",
        "analytics",
        "analytics-team",
    ),
    a30.Holding(
        "analytics.customer_profile", "customer_id", "user.unique_id", "analytics", "analytics-team"
    ),
    RELIGION_FLOW,
    a30.Holding(
        "ads.audience_segments",
        "customer_id",
        "user.unique_id",
        "ads",
        "growth",
        "analytics.customer_profile",
        "customer_id",
        1,
        True,
    ),
    a30.Holding(
        "archive.snapshot",
        "email",
        "user.contact.email",
        "archive",
        "data-eng",
        "crm.customers",
        "email",
        2,
        False,
    ),
]


def test_the_religion_flow_into_ads_is_flagged_for_its_missing_art9_condition():
    rows, _ = a30.record(REG, HELD, {"user": 1095}, {"archive": "long-term snapshots"})
    ads = rows[0]
    assert ads == {
        "activity": "ads",
        "name": "Ad audiences",
        "status": "declaration missing",
        "controller": CONTROLLER,
        "purposes": "marketing.advertising.third_party.targeted (Third Party Targeted Advertising)",
        "lawful_basis": "Art. 6(1)(a) consent",
        "special_category_condition": "declaration missing",
        "data_subjects": ["customer (Customer)"],
        "data_categories": [
            "user.unique_id",
            "declaration missing: user.demographic.religious_belief (observed)",
        ],
        "recipients": ["AdCo Inc. (third party, contract DSA-7)"],
        "transfers": ["USA (AdCo Inc.): Art. 46(2)(c) standard contractual clauses, SCC 2021/914"],
        "retention": ["90 days"],
        "security_measures": ["encryption at rest"],
        "systems": ["ad_platform"],
        "zones": [],
        "observed_assets": ["ads.audience_segments"],
        "observed_flows": 2,
        "observed_categories": ["user.demographic.religious_belief", "user.unique_id"],
        "observed_masking": "1 of 2 flows masked on their path",
        "declarations_missing": [
            "special_category_condition: user.demographic.religious_belief (religious or "
            "philosophical beliefs) reaches it (analytics.customer_profile.religion -> "
            "ads.audience_segments.religious_affinity) with no Art. 9(2) condition",
            "data_categories: user.demographic.religious_belief observed "
            "(analytics.customer_profile.religion -> ads.audience_segments.religious_affinity), "
            "not declared",
        ],
    }


def test_an_activity_with_its_condition_and_a_zone_without_activity():
    rows, evidence = a30.record(REG, HELD, {"user": 1095}, {"archive": "long-term snapshots"})
    profiles, archive = rows[1], rows[2]
    assert profiles["special_category_condition"] == "Art. 9(2)(a) explicit consent"
    assert profiles["status"] == "complete" and profiles["declarations_missing"] == []
    assert profiles["retention"] == [
        "user.demographic.religious_belief: 1095 days (catalog)",
        "user.unique_id: 1095 days (catalog)",
    ]
    assert profiles["recipients"] == ["analytics-team (internal, owner of covered assets)"]
    assert archive == {
        "activity": "undeclared.zone.archive",
        "name": "no processing activity declared for zone archive (long-term snapshots)",
        "status": "declaration missing",
        "controller": CONTROLLER,
        "purposes": "declaration missing",
        "lawful_basis": "declaration missing",
        "special_category_condition": "not applicable (no special category)",
        "data_subjects": ["declaration missing"],
        "data_categories": ["declaration missing: user.contact.email (observed)"],
        "recipients": ["declaration missing"],
        "transfers": ["declaration missing"],
        "retention": ["declaration missing"],
        "security_measures": ["declaration missing"],
        "systems": [],
        "zones": ["archive"],
        "observed_assets": ["archive.snapshot"],
        "observed_flows": 1,
        "observed_categories": ["user.contact.email"],
        "observed_masking": "0 of 1 flows masked on their path",
        "declarations_missing": [
            "processing_activity: personal data in zone archive (1 asset(s), 1 flow(s) into it, "
            "e.g. crm.customers.email -> archive.snapshot.email) and no processing activity "
            "covers it"
        ],
    }
    assert a30.findings(rows) == 3
    assert [(e["activity"], e["target_asset"], e["target_column"]) for e in evidence] == [
        ("ads", "ads.audience_segments", "customer_id"),
        ("ads", "ads.audience_segments", "religious_affinity"),
        ("profiles", "analytics.customer_profile", "customer_id"),
        ("profiles", "analytics.customer_profile", "religion"),
        ("undeclared.zone.archive", "archive.snapshot", "email"),
    ]
    assert evidence[1]["special_category"] == "religious or philosophical beliefs"
    assert a30.flag_rows(rows)[2] == {
        "activity": "undeclared.zone.archive",
        "name": "no processing activity declared for zone archive (long-term snapshots)",
        "field": "processing_activity",
        "detail": "personal data in zone archive (1 asset(s), 1 flow(s) into it, e.g. "
        "crm.customers.email -> archive.snapshot.email) and no processing activity covers it",
    }


def test_transfers_without_safeguard_declared_or_observed():
    vendor = System("helpdesk", "Helpdesk", assets=("support.*",), country="IND")
    support = Activity(
        key="support",
        name="Support",
        purpose="essential.service.operations.support",
        lawful_basis="contract",
        data_subjects=("customer",),
        data_categories=("user.contact",),
        transfers=(Transfer("USA", "Chat Inc."),),
        security_measures=("access control",),
        systems=("helpdesk",),
    )
    reg = Register(organisation=None, systems=(vendor,), activities=(support,))
    held = [a30.Holding("support.tickets", "email", "user.contact.email", "source", "support")]
    (row,), _ = a30.record(reg, held, {})
    assert row["transfers"] == [
        "USA (Chat Inc.): declaration missing (no safeguard)",
        "IND (system helpdesk): declaration missing (observed, not declared)",
    ]
    assert row["controller"] == "declaration missing"
    assert row["retention"] == ["user.contact.email: declaration missing"]
    assert row["recipients"] == ["support (internal, owner of covered assets)"]
    assert row["declarations_missing"] == [
        "controller: no organisation block (controller, DPO, representative)",
        "transfers: to USA (Chat Inc.) with no safeguard (Art. 45-49)",
        "transfers: personal data reach system helpdesk in IND (support.tickets.email) with no "
        "declared transfer",
        "retention: no time limit for erasure of user.contact.email",
    ]


def test_every_field_of_every_row_is_filled_or_flagged():
    rows, _ = a30.record(REG, HELD, {"user": 1095})
    for r in rows:
        for field in a30.FIELDS:
            assert r[field] not in (None, "", []), (r["activity"], field)
            if a30.MISSING in str(r[field]):
                assert r["status"] == a30.MISSING and r["declarations_missing"]


def test_the_xlsx_export_reads_back_cell_by_cell(tmp_path):
    rows, _ = a30.record(REG, HELD, {"user": 1095}, {"archive": "long-term snapshots"})
    (path,) = write_exports(
        rows,
        a30.COLUMNS,
        tmp_path,
        "record",
        formats=("xlsx",),
        sheet="Article 30 record",
        created=datetime(2026, 11, 23, 2, 0),
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Article 30 record"]
    ws = wb["Article 30 record"]
    got = [[c.value for c in row] for row in ws.iter_rows()]
    assert got[0] == [
        "activity",
        "name",
        "status",
        "controller",
        "purposes",
        "lawful_basis",
        "special_category_condition",
        "data_subjects",
        "data_categories",
        "recipients",
        "transfers",
        "retention",
        "security_measures",
        "systems",
        "zones",
        "observed_assets",
        "observed_flows",
        "observed_categories",
        "observed_masking",
        "declarations_missing",
    ]
    assert got[1] == [
        "ads",
        "Ad audiences",
        "declaration missing",
        CONTROLLER,
        "marketing.advertising.third_party.targeted (Third Party Targeted Advertising)",
        "Art. 6(1)(a) consent",
        "declaration missing",
        "customer (Customer)",
        "user.unique_id\ndeclaration missing: user.demographic.religious_belief (observed)",
        "AdCo Inc. (third party, contract DSA-7)",
        "USA (AdCo Inc.): Art. 46(2)(c) standard contractual clauses, SCC 2021/914",
        "90 days",
        "encryption at rest",
        "ad_platform",
        None,
        "ads.audience_segments",
        2,
        "user.demographic.religious_belief\nuser.unique_id",
        "1 of 2 flows masked on their path",
        "special_category_condition: user.demographic.religious_belief (religious or "
        "philosophical beliefs) reaches it (analytics.customer_profile.religion -> "
        "ads.audience_segments.religious_affinity) with no Art. 9(2) condition\n"
        "data_categories: user.demographic.religious_belief observed "
        "(analytics.customer_profile.religion -> ads.audience_segments.religious_affinity), "
        "not declared",
    ]
    assert [r[0] for r in got[1:]] == ["ads", "profiles", "undeclared.zone.archive"]
    assert isinstance(ws["Q2"].value, int) and ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert wb.properties.created == datetime(2026, 11, 23, 2, 0)


def test_xlsx_text_is_never_a_formula_and_the_bytes_are_stable(tmp_path):
    rows = [{"a": '=HYPERLINK("http://x")', "b": ["+1", "-2"], "c": None, "d": True}]
    first = write_exports(rows, "abcd", tmp_path / "1", "t", formats=("xlsx",))[0]
    second = write_exports(rows, "abcd", tmp_path / "2", "t", formats=("xlsx",))[0]
    assert first.read_bytes() == second.read_bytes()
    ws = openpyxl.load_workbook(first).active
    assert [c.value for c in ws[2]] == ['=HYPERLINK("http://x")', "+1\n-2", None, True]
    assert ws["A2"].data_type == "s" and ws["B2"].data_type == "s"


def test_a_declared_system_without_activity_and_an_uncatalogued_asset_get_their_own_rows():
    reg = Register(organisation=ORG, systems=(System("crm", "CRM", assets=("crm.*",)),))
    held = [
        a30.Holding("crm.customers", "email", "user.contact.email", "source", "crm-team"),
        a30.Holding("tmp.copy", "email", "user.contact.email", None, "", "crm.customers", "email"),
    ]
    rows, evidence = a30.record(reg, held, {}, {"source": "operational systems"})
    assert [(r["activity"], r["name"], r["systems"], r["zones"]) for r in rows] == [
        (
            "undeclared.asset.tmp.copy",
            "no processing activity declared for asset tmp.copy (not in the catalog)",
            [],
            [],
        ),
        (
            "undeclared.system.crm",
            "no processing activity declared for system crm",
            ["crm"],
            ["source"],
        ),
    ]
    assert [e["activity"] for e in evidence] == [
        "undeclared.asset.tmp.copy",
        "undeclared.system.crm",
    ]
    assert a30.findings(rows) == 2
