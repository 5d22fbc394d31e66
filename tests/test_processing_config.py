"""The organisation, systems and processing activities of catalog.yaml: loaded into the typed
model, every problem reported at once with the closest valid name, exit 2 before Spark starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.processing import Activity, Contact, Organisation, Recipient, Register, System, Transfer
from jobs.cli import main
from jobs.config.catalog import check_zones, load_catalog, load_policies
from jobs.errors import ConfigError

ASSETS = """\
retention_days: {user: 1095}
assets:
  - name: crm.customers
    kind: table
    owner: crm-team
    zone: source
    columns:
      - {name: customer_id, type: bigint, data_category: user.unique_id, is_identifier: true}
      - {name: email, type: string, data_category: user.contact.email}
      - {name: religion, type: string, data_category: user.demographic.religious_belief}
  - name: ads.audience
    kind: table
    owner: growth
    zone: ads
    columns:
      - {name: customer_id, type: bigint, data_category: user.unique_id}
"""
PROCESSING = """\
organisation:
  controller: {name: Co B.V., address: "1 Canal, Amsterdam", email: privacy@co.example}
  dpo: {name: Dee, email: dpo@co.example}
  security_measures: [encryption at rest]
systems:
  - {key: ad_platform, name: AdCo audiences, zones: [ads], country: USA, operator: AdCo Inc.}
processing_activities:
  - key: crm
    name: Customer relationship
    purpose: essential.service
    lawful_basis: contract
    special_category_condition: explicit_consent
    data_subjects: [customer]
    data_categories: [user.contact, user.unique_id, user.demographic.religious_belief]
    recipients: [{name: crm-team, kind: internal}]
    assets: ["crm.*"]
  - key: ads
    name: Ad audiences
    purpose: marketing.advertising.third_party.targeted
    lawful_basis: consent
    data_subjects: [customer]
    data_categories: [user.unique_id]
    recipients: [{name: AdCo Inc., kind: third_party, contract: DSA-7}]
    transfers: [{country: USA, recipient: AdCo Inc.}]
    retention_days: 90
    systems: [ad_platform]
"""
POLICIES = """\
zones: {source: sources, ads: advertising}
policies:
  - {name: religion-not-in-ads, data_categories: [user.demographic.religious_belief],
     allowed_zones: [source]}
"""


def _write(root: Path, processing: str = PROCESSING) -> Path:
    inputs = root / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / "catalog.yaml").write_text(ASSETS + processing, encoding="utf-8")
    (inputs / "policies.yaml").write_text(POLICIES, encoding="utf-8")
    conf = root / "conf.yaml"
    conf.write_text(f"home: {root}\n", encoding="utf-8")
    return inputs / "catalog.yaml"


def test_the_blocks_load_into_the_typed_model(tmp_path):
    cat = load_catalog(_write(tmp_path))
    assert cat.processing == Register(
        organisation=Organisation(
            controller=Contact("Co B.V.", "1 Canal, Amsterdam", "privacy@co.example"),
            dpo=Contact("Dee", email="dpo@co.example"),
            security_measures=("encryption at rest",),
        ),
        systems=(
            System(
                "ad_platform", "AdCo audiences", zones=("ads",), country="USA", operator="AdCo Inc."
            ),
        ),
        activities=(
            Activity(
                key="crm",
                name="Customer relationship",
                purpose="essential.service",
                lawful_basis="contract",
                special_category_condition="explicit_consent",
                data_subjects=("customer",),
                data_categories=(
                    "user.contact",
                    "user.unique_id",
                    "user.demographic.religious_belief",
                ),
                recipients=(Recipient("crm-team", "internal"),),
                assets=("crm.*",),
            ),
            Activity(
                key="ads",
                name="Ad audiences",
                purpose="marketing.advertising.third_party.targeted",
                lawful_basis="consent",
                data_subjects=("customer",),
                data_categories=("user.unique_id",),
                recipients=(Recipient("AdCo Inc.", "third_party", "DSA-7"),),
                transfers=(Transfer("USA", "AdCo Inc."),),
                retention_days=90,
                systems=("ad_platform",),
            ),
        ),
    )
    assert [a.key for a in cat.processing.covering("ads.audience", "ads")] == ["ads"]
    assert [a.key for a in cat.processing.covering("crm.customers", "source")] == ["crm"]
    check_zones(cat, load_policies(tmp_path / "inputs" / "policies.yaml"))


def test_a_catalog_without_the_blocks_declares_nothing(tmp_path):
    assert load_catalog(_write(tmp_path, processing="")).processing == Register()


def test_every_problem_of_the_blocks_at_once_with_the_closest_name(tmp_path):
    bad = (
        PROCESSING.replace("lawful_basis: consent", "lawful_basis: consnt")
        .replace("purpose: essential.service", "purpose: essential.servce")
        .replace(
            "data_subjects: [customer]\n    data_categories: [user.unique_id]",
            "data_subjects: [custmer]\n    data_categories: [user.unique_idd]",
        )
        .replace('assets: ["crm.*"]', 'assets: ["crm.*", ads.audiense, "crn.*"]')
        .replace("systems: [ad_platform]", "systems: [ad_platfrom]")
        .replace("contract: DSA-7", "contract: null")
        .replace("{country: USA, recipient: AdCo Inc.}", "{country: NLD, safeguard: scc}")
    )
    path = _write(tmp_path, bad)
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    acts = f"{path}: processing_activities"
    expected = [
        f"{acts}[0].purpose: expected a declared fideslang data use, got 'essential.servce' "
        "(did you mean 'essential.service'?)",
        f"{acts}[0].assets[1]: expected a declared catalog asset, got 'ads.audiense' "
        "(did you mean 'ads.audience'?)",
        f"{acts}[0].assets[2]: expected a pattern matching a catalog asset, got 'crn.*' "
        "(did you mean 'crm.*'?)",
        f"{acts}[1].lawful_basis: expected one of consent|contract|legal_obligation|"
        "vital_interests|public_interest|legitimate_interests, got 'consnt' "
        "(did you mean 'consent'?)",
        f"{acts}[1].data_subjects[0]: expected a declared fideslang data subject, got 'custmer' "
        "(did you mean 'customer'?)",
        f"{acts}[1].data_categories[0]: expected a declared data category of the catalog's "
        "columns (or a prefix of one), got 'user.unique_idd' (did you mean 'user.unique_id'?)",
        f"{acts}[1].systems[0]: expected a declared system (see systems), got 'ad_platfrom' "
        "(did you mean 'ad_platform'?)",
        f"{acts}[1].recipients[0].contract: missing key (a third party needs the reference of "
        "its contract)",
        f"{acts}[1].transfers[0].country: NLD is in the EEA: not a third-country transfer",
        f"{acts}[1].transfers[0].safeguard: expected one of adequacy_decision|"
        "standard_contractual_clauses|binding_corporate_rules|code_of_conduct|certification|"
        "ad_hoc_clauses|derogation, got 'scc'",
    ]
    assert str(err.value) == (
        f"{len(expected)} problems in the processing activities: " + " | ".join(expected)
    )


def test_zones_are_checked_against_the_policies(tmp_path):
    path = _write(tmp_path, PROCESSING.replace("zones: [ads]", "zones: [adz]"))
    zones = load_policies(tmp_path / "inputs" / "policies.yaml").zones
    with pytest.raises(
        ConfigError,
        match=r"systems\[0\]\.zones\[0\]: expected a declared zone "
        r"\(see policies\.yaml\), got 'adz' \(did you mean 'ads'\?\)",
    ):
        load_catalog(path, zones=zones)
    cat = load_catalog(path)  # without the zones the load cannot tell; check_zones does
    with pytest.raises(ConfigError, match=r"got 'adz'"):
        check_zones(cat, load_policies(tmp_path / "inputs" / "policies.yaml"))


def _nightly(tmp_path, capsys, processing: str) -> tuple[int, list[str]]:
    _write(tmp_path, processing)
    code = main(
        ["nightly", "--conf", str(tmp_path / "conf.yaml"), "--run-date", "2026-11-21", "--quiet"]
    )
    return code, capsys.readouterr().err.strip().splitlines()


def test_an_unknown_lawful_basis_stops_the_nightly_with_one_line(tmp_path, capsys):
    code, err = _nightly(tmp_path, capsys, PROCESSING.replace("basis: consent", "basis: consnt"))
    assert code == 2 and len(err) == 1
    assert err[0] == (
        f"compliance: error: {tmp_path / 'inputs' / 'catalog.yaml'}: processing_activities[1]."
        "lawful_basis: expected one of consent|contract|legal_obligation|vital_interests|"
        "public_interest|legitimate_interests, got 'consnt' (did you mean 'consent'?)"
    )
    assert not (tmp_path / "warehouse").exists()  # stopped before any step


def test_an_activity_naming_an_unknown_zone_stops_the_nightly_with_one_line(tmp_path, capsys):
    bad = PROCESSING.replace('assets: ["crm.*"]', "zones: [sourse]")
    code, err = _nightly(tmp_path, capsys, bad)
    assert code == 2 and len(err) == 1
    assert err[0] == (
        f"compliance: error: {tmp_path / 'inputs' / 'catalog.yaml'}: processing_activities[0]."
        "zones[0]: expected a declared zone (see policies.yaml), got 'sourse' "
        "(did you mean 'source'?)"
    )
    assert not (tmp_path / "warehouse").exists()
