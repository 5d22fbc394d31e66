"""The demo company's declared processing: its organisation, systems and processing activities.

Written into the demo ``catalog.yaml`` beside the assets. They are what a careful but imperfect
DPO would declare, so the Article 30 record shows each kind of finding once:

* ``ads_audiences`` declares no Art. 9(2) condition (nor religious belief among its categories),
  yet ``crm.customers.religion`` reaches ``ads.audience_segments.religious_affinity`` through
  ``analytics.customer_profile`` (the flow policy ``religion-never-in-ads`` also reports);
* no activity covers the ``archive`` zone, where ``archive.customers_snapshot`` keeps copies, nor
  the table missing from the catalog (``analytics.<script>...``) that personal data flow into;
* every other zone has an activity, and the transfers to the US platforms have a safeguard.
"""

from __future__ import annotations

from typing import Any

from jobs.demo.io import Flow

ORGANISATION: dict[str, Any] = {
    "controller": {
        "name": "Demo Company B.V.",
        "address": "Keizersgracht 100, 1015 CJ Amsterdam, Netherlands",
        "email": "privacy@demo-company.example",
        "phone": "+31 20 555 0100",
    },
    "dpo": {"name": "Data Protection Officer", "email": "dpo@demo-company.example"},
    "contact": {"email": "privacy@demo-company.example"},
    "security_measures": [
        "role-based access to the warehouse, reviewed quarterly",
        "encryption at rest and in transit",
        "pseudonymised subject keys in every audit table",
        "nightly lineage and deletion verification (this product)",
    ],
}


def _system(key: str, name: str, owner: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "name": name, "owner": owner, **more}


SYSTEMS: list[dict[str, Any]] = [
    _system("crm", "CRM", "crm-team", assets=["crm.*"]),
    _system("app", "Customer app", "app-team", assets=["app.*", "api.*"]),
    _system("billing", "Billing", "billing-team", assets=["billing.*"]),
    _system(
        "support_desk",
        "Support desk (SaaS)",
        "support-team",
        assets=["support.*"],
        country="USA",
        operator="HelpDesk Inc.",
    ),
    _system(
        "ad_platform",
        "AdReach audiences",
        "growth-team",
        zones=["ads"],
        country="USA",
        operator="AdReach Inc.",
    ),
    _system("ml_platform", "ML platform", "ml-team", zones=["ml"]),
]


def _activity(key: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "name": name, **fields}


def _internal(*teams: str) -> list[Flow]:
    return [Flow(name=t, kind="internal") for t in teams]


def _with(team: str, name: str, contract: str, kind: str = "processor") -> list[Flow]:
    """The owning team and one external recipient under a contract."""
    return [*_internal(team), Flow(name=name, kind=kind, contract=contract)]


def _to_usa(recipient: str, safeguard: str, reference: str) -> list[Flow]:
    return [Flow(country="USA", recipient=recipient, safeguard=safeguard, reference=reference)]


ACTIVITIES: list[dict[str, Any]] = [
    _activity(
        "customer_accounts",
        "Customer accounts and relationship management",
        purpose="essential.service",
        description="keep the customer's account, contact details and preferences",
        lawful_basis="contract",
        special_category_condition="explicit_consent",
        data_subjects=["customer"],
        data_categories=[
            "user.unique_id",
            "user.contact",
            "user.name",
            "user.demographic",
            "user.content",
        ],
        recipients=_internal("crm-team", "data-eng"),
        systems=["crm"],
    ),
    _activity(
        "customer_app",
        "The customer app and its sign-up",
        purpose="essential.service",
        lawful_basis="contract",
        special_category_condition="explicit_consent",
        data_subjects=["customer"],
        data_categories=[
            "user.unique_id",
            "user.contact",
            "user.name",
            "user.demographic",
            "user.behavior",
            "user.device",
            "user.content",
            "user.financial",
        ],
        recipients=_internal("app-team", "data-eng"),
        systems=["app"],
    ),
    _activity(
        "billing",
        "Invoicing and payments",
        purpose="essential.service.payment_processing",
        lawful_basis="contract",
        data_subjects=["customer"],
        data_categories=["user.unique_id", "user.financial", "user.contact"],
        recipients=_with("billing-team", "PayCo Payments B.V.", "DPA-2023-004"),
        systems=["billing"],
    ),
    _activity(
        "customer_support",
        "Customer support",
        purpose="essential.service.operations.support",
        lawful_basis="contract",
        data_subjects=["customer"],
        data_categories=["user.unique_id", "user.contact", "user.content"],
        recipients=_with("support-team", "HelpDesk Inc.", "DPA-2024-019"),
        transfers=_to_usa(
            "HelpDesk Inc.",
            "standard_contractual_clauses",
            "SCC 2021/914 module 2, signed 2024-05-02",
        ),
        systems=["support_desk"],
    ),
    _activity(
        "customer_analytics",
        "Customer analytics and dashboards",
        purpose="analytics.reporting",
        lawful_basis="legitimate_interests",
        special_category_condition="explicit_consent",
        data_subjects=["customer"],
        data_categories=["user"],
        recipients=_internal("analytics-team", "bi-team", "data-eng"),
        zones=["staging", "analytics", "bi"],
    ),
    _activity(
        "email_marketing",
        "Newsletters and e-mail campaigns",
        purpose="marketing.communications.email",
        lawful_basis="consent",
        data_subjects=["customer", "prospect"],
        data_categories=["user.unique_id", "user.contact", "user.name", "user.behavior"],
        recipients=_with("growth-team", "MailBlast GmbH", "DPA-2025-002"),
        zones=["marketing"],
    ),
    _activity(
        "ads_audiences",
        "Audiences shared with ad platforms",
        purpose="marketing.advertising.third_party.targeted",
        lawful_basis="consent",
        data_subjects=["customer"],
        data_categories=["user.unique_id", "user.contact", "user.behavior"],
        recipients=_with("growth-team", "AdReach Inc.", "DSA-2025-017", "third_party"),
        transfers=_to_usa(
            "AdReach Inc.",
            "adequacy_decision",
            "EU-US Data Privacy Framework, Commission decision 2023/1795",
        ),
        retention_days=180,
        systems=["ad_platform"],
    ),
    _activity(
        "finance",
        "Accounting and revenue reporting",
        purpose="finance",
        lawful_basis="legal_obligation",
        data_subjects=["customer"],
        data_categories=["user.unique_id", "user.financial", "user.contact"],
        recipients=_internal("finance-team"),
        retention="7 years after the financial year (bookkeeping law)",
        zones=["finance"],
    ),
    _activity(
        "churn_models",
        "Churn and lifetime-value models",
        purpose="train_ai_system",
        lawful_basis="legitimate_interests",
        data_subjects=["customer"],
        data_categories=["user.unique_id", "user.behavior", "user.contact", "user.financial"],
        recipients=_internal("ml-team"),
        systems=["ml_platform"],
    ),
]


def processing_blocks() -> dict[str, Any]:
    """The ``organisation``, ``systems`` and ``processing_activities`` blocks of catalog.yaml."""
    return {
        "organisation": ORGANISATION,
        "systems": [dict(s) for s in SYSTEMS],
        "processing_activities": [dict(a) for a in ACTIVITIES],
    }
