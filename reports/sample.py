"""Small hand-written sample data for the renderer: used by the tests, the browser check and
the README screenshot, and a worked example of how ``jobs/steps/report.py`` fills the model.

Run ``python -m reports.sample OUT_DIR`` to render the sample nightly report.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from core.processing import (
    Activity,
    Contact,
    Organisation,
    Recipient,
    Register,
    System,
    Transfer,
)
from reports import article30
from reports import sections as sec
from reports.model import DataMap, DeletionCase, GraphView, ImpactReport, NightlyReport

RUN_DATE = date(2026, 3, 14)
XSS = "<script>alert(1)</script>"
"""An asset name that must show as text."""

ASSETS = [
    {
        "asset_id": "a1",
        "kind": "table",
        "name": "crm.customers",
        "owner": "crm-team",
        "zone": "crm",
    },
    {
        "asset_id": "a2",
        "kind": "table",
        "name": "dw.dim_customer",
        "owner": "data-eng",
        "zone": "warehouse",
    },
    {
        "asset_id": "a3",
        "kind": "table",
        "name": "dw.orders",
        "owner": "data-eng",
        "zone": "warehouse",
    },
    {
        "asset_id": "a4",
        "kind": "dashboard",
        "name": "bi.revenue_by_city",
        "owner": "finance",
        "zone": "analytics",
    },
    {"asset_id": "a5", "kind": "model", "name": "ml.churn_model", "owner": "ml-team", "zone": "ml"},
    {"asset_id": "a6", "kind": "table", "name": XSS, "owner": "unknown", "zone": "marketing"},
    {"asset_id": "a7", "kind": "table", "name": "app.orders", "owner": "app-team", "zone": "app"},
]

EDGES = [
    ("crm.customers", "email", "dw.dim_customer", "email", "DIRECT", "IDENTITY", False, 1.0),
    ("crm.customers", "city", "dw.dim_customer", "city", "DIRECT", "IDENTITY", False, 1.0),
    (
        "crm.customers",
        "customer_id",
        "dw.dim_customer",
        "customer_id",
        "DIRECT",
        "IDENTITY",
        False,
        1.0,
    ),
    (
        "dw.dim_customer",
        "email",
        "ml.churn_model",
        "email_domain",
        "DIRECT",
        "TRANSFORMATION",
        False,
        0.9,
    ),
    ("dw.dim_customer", "city", "bi.revenue_by_city", "city", "DIRECT", "IDENTITY", False, 0.95),
    ("app.orders", "amount", "dw.orders", "amount", "DIRECT", "IDENTITY", False, 1.0),
    ("dw.orders", "amount", "bi.revenue_by_city", "revenue", "DIRECT", "AGGREGATION", True, 0.95),
    ("dw.dim_customer", "email", XSS, "contact", "DIRECT", "IDENTITY", False, 0.6),
]
COLS = (
    "source_asset",
    "source_column",
    "target_asset",
    "target_column",
    "transformation_type",
    "transformation_subtype",
    "masking",
    "confidence",
)


def edges() -> list[dict]:
    """``lineage_edges`` rows of the sample company."""
    return [dict(zip(COLS, e, strict=True)) for e in EDGES]


VIOLATIONS = [
    {
        "policy": "no_contact_in_marketing",
        "data_category": "user.contact.email",
        "source_asset": "crm.customers",
        "source_column": "email",
        "target_asset": XSS,
        "target_column": "contact",
        "zone": "marketing",
        "path": ["crm.customers.email", "dw.dim_customer.email", f"{XSS}.contact"],
        "run_date": RUN_DATE,
    },
]


def _trend(values: list[float]) -> list[tuple[date, float]]:
    start = RUN_DATE - timedelta(days=len(values) - 1)
    return [(start + timedelta(days=i), v) for i, v in enumerate(values)]


PROCESSING = Register(
    organisation=Organisation(
        controller=Contact("Sample Shop GmbH", "Hauptstr. 1, 10115 Berlin", "privacy@shop.example"),
        dpo=Contact("Dana Schmidt", email="dpo@shop.example"),
        security_measures=("access control by role", "encryption at rest"),
    ),
    systems=(
        System(
            "ml_platform",
            "ML platform",
            owner="ml-team",
            zones=("ml",),
            country="USA",
            operator="CloudML Inc.",
        ),
    ),
    activities=(
        Activity(
            key="customer_accounts",
            name="Customer accounts",
            purpose="essential.service",
            lawful_basis="contract",
            data_subjects=("customer",),
            data_categories=("user.contact", "user.unique_id"),
            recipients=(Recipient("crm-team", "internal"),),
            zones=("crm", "warehouse"),
        ),
        Activity(
            key="revenue_reporting",
            name="Revenue reporting",
            purpose="analytics.reporting",
            lawful_basis="legitimate_interests",
            data_subjects=("customer",),
            data_categories=("user.contact.address",),
            retention_days=365,
            zones=("analytics",),
        ),
        Activity(
            key="churn_prediction",
            name="Churn prediction",
            purpose="train_ai_system",
            lawful_basis="legitimate_interests",
            data_subjects=("customer",),
            data_categories=("user.contact.email",),
            recipients=(Recipient("CloudML Inc.", "processor", "DPA-2025-04"),),
            transfers=(Transfer("USA", "CloudML Inc."),),
            systems=("ml_platform",),
        ),
    ),
)
"""Declared processing of the sample: a transfer without safeguard, and the marketing zone
without an activity."""


def datamap() -> DataMap:
    """A data map of the sample company's personal data."""
    personal = [
        {
            "asset_id": "a1",
            "name": "crm.customers",
            "column": "email",
            "data_category": "user.contact.email",
            "is_identifier": True,
        },
        {
            "asset_id": "a1",
            "name": "crm.customers",
            "column": "city",
            "data_category": "user.contact.address.city",
            "is_identifier": False,
        },
        {
            "asset_id": "a1",
            "name": "crm.customers",
            "column": "customer_id",
            "data_category": "user.unique_id",
            "is_identifier": True,
        },
    ]
    reach = [
        {
            "source_asset": "crm.customers",
            "source_column": "email",
            "target_asset": "dw.dim_customer",
            "target_column": "email",
            "depth": 1,
            "confidence": 1.0,
            "path": ["crm.customers.email", "dw.dim_customer.email"],
            "transformation_type": "DIRECT",
            "transformation_subtype": "IDENTITY",
            "masking": False,
        },
        {
            "source_asset": "crm.customers",
            "source_column": "email",
            "target_asset": "ml.churn_model",
            "target_column": "email_domain",
            "depth": 2,
            "confidence": 0.9,
            "path": ["crm.customers.email", "dw.dim_customer.email", "ml.churn_model.email_domain"],
            "transformation_type": "DIRECT",
            "transformation_subtype": "TRANSFORMATION",
            "masking": False,
        },
        {
            "source_asset": "crm.customers",
            "source_column": "email",
            "target_asset": XSS,
            "target_column": "contact",
            "depth": 2,
            "confidence": 0.6,
            "path": VIOLATIONS[0]["path"],
            "transformation_type": "DIRECT",
            "transformation_subtype": "IDENTITY",
            "masking": False,
        },
        {
            "source_asset": "crm.customers",
            "source_column": "city",
            "target_asset": "dw.dim_customer",
            "target_column": "city",
            "depth": 1,
            "confidence": 1.0,
            "path": ["crm.customers.city", "dw.dim_customer.city"],
            "transformation_type": "DIRECT",
            "transformation_subtype": "IDENTITY",
            "masking": False,
        },
        {
            "source_asset": "crm.customers",
            "source_column": "city",
            "target_asset": "bi.revenue_by_city",
            "target_column": "city",
            "depth": 2,
            "confidence": 0.95,
            "path": ["crm.customers.city", "dw.dim_customer.city", "bi.revenue_by_city.city"],
            "transformation_type": "DIRECT",
            "transformation_subtype": "IDENTITY",
            "masking": False,
        },
    ]
    return DataMap(
        personal_columns=personal,
        reach=reach,
        assets=ASSETS,
        retention_days={"user": 730, "user.contact": 365, "user.unique_id": 1095},
        zone_purposes={
            "crm": "customer relationship",
            "analytics": "business reporting",
            "ml": "churn prediction",
            "warehouse": "analytics storage",
        },
        processing=PROCESSING,
        graph=GraphView(edges=edges(), assets=ASSETS, violations=VIOLATIONS, level="asset"),
        run_date=RUN_DATE,
    )


def deletions() -> list[DeletionCase]:
    """Three deletion requests: one clean, one late with residuals, one overdue."""

    def case(
        did: str,
        subject_key: str,
        requested_at: str,
        sla_days: int | None,
        events: Sequence[tuple[Any, ...]],
        anomalies: Sequence[dict[str, Any]] = (),
        handling: Mapping[str, Any] | None = None,
        **rest: Any,
    ) -> DeletionCase:
        """A customer's deletion request; each event is (event, day after 2026-02-01, fields)."""
        request = {
            "deletion_id": did,
            "subject_key": subject_key,
            "subject_type": "customer",
            "requested_at": requested_at,
            "sla_days": sla_days,
            **(handling or {}),
        }
        rows = [
            {
                "deletion_id": did,
                "object_key": "sk_0b1ec7",
                "object_type": "user",
                "event": e[0],
                "ts": datetime(2026, 2, 1) + timedelta(days=e[1]),
                **(e[2] if len(e) > 2 else {}),
            }
            for e in events
        ]
        found = [{"deletion_id": did, **a} for a in anomalies]
        return DeletionCase(request=request, events=rows, anomalies=found, **rest)

    return [
        case(
            "del-001",
            "sk_3f9a1c0d7e2b4a61c0ffee0011223344",
            "2026-02-01T00:00:00",
            30,
            [
                ("scheduled", 0),
                ("started", 1),
                ("progress", 2, {"points_deleted": 120}),
                ("completed", 3, {"points_deleted": 12}),
            ],
            handling={
                "channel": "web_form",
                "identity_verification": "account_login",
                "decision": "accepted",
                "approved_by": "privacy-office",
                "executed_by": "deletion-service",
                "recipients_notified_at": datetime(2026, 2, 4, 9, 0),
                "subject_informed_at": datetime(2026, 2, 4, 10, 0),
            },
            residuals=[
                {
                    "asset": "dw.dim_customer",
                    "column": "customer_id",
                    "rows_found": 0,
                    "status": "clean",
                },
                {
                    "asset": "ml.churn_model",
                    "column": "customer_id",
                    "rows_found": 0,
                    "status": "clean",
                },
            ],
        ),
        case(
            "del-002",
            "sk_8b2e77aa01c94f3d5566778899aabbcc",
            "2026-02-01T00:00:00",
            14,
            [
                ("scheduled", 0),
                ("started", 5),
                (
                    "exception",
                    6,
                    {"detail": "timeout writing to dw.dim_customer (contact jane@example.com)"},
                ),
                ("rerun", 7),
                ("completed", 20, {"points_deleted": 40}),
            ],
            anomalies=[
                {
                    "check": "not_started_on_time",
                    "detail": "started 5 days after scheduling",
                    "first_detected": "2026-02-04",
                    "run_date": RUN_DATE,
                }
            ],
            residuals=[
                {
                    "asset": "dw.dim_customer",
                    "column": "customer_id",
                    "rows_found": 2,
                    "deleted_at": "2026-02-21",
                    "days_overdue": 21,
                    "status": "residual",
                },
                {"asset": XSS, "column": "customer_id", "rows_found": 0, "status": "clean"},
            ],
            history=[
                {
                    "action": "purged",
                    "ts": "2026-03-14T02:10:00",
                    "asset": "dw.dim_customer",
                    "rows": 2,
                    "entry_id": "re-77",
                    "key_id": "k-2026-03-14",
                    "key_status": "active",
                }
            ],
        ),
        case(
            "del-003",
            "sk_51d0c3e9aa7f2b18deadbeef01234567",
            "2026-02-20T09:00:00",
            None,
            [("scheduled", 19.5)],
            anomalies=[
                {
                    "check": "not_completed",
                    "detail": "no completion 22 days after request",
                    "first_detected": "2026-03-12",
                    "run_date": RUN_DATE,
                }
            ],
        ),
    ]


def nightly() -> NightlyReport:
    """The sample nightly report (run date 2026-03-14)."""
    t0 = datetime(2026, 3, 14, 2, 0)
    steps = []
    for i, (job, read, written, rejected) in enumerate(
        [
            ("land", 1847, 1846, 1),
            ("ingest", 1840, 1790, 5),
            ("closure", 1790, 412, 0),
            ("audit", 620, 9, 0),
            ("report", 421, 0, 0),
        ]
    ):
        steps.append(
            {
                "job": job,
                "run_date": RUN_DATE,
                "started_at": t0 + timedelta(minutes=3 * i),
                "finished_at": t0 + timedelta(minutes=3 * i + 2, seconds=17),
                "status": "succeeded",
                "inputs_read": read,
                "rows_written": written,
                "rows_rejected": rejected,
                "engine": "delta-rs",
                "version": "0.1.0",
            }
        )
    history = [dict(s, run_date=RUN_DATE - timedelta(days=d)) for d in range(3) for s in steps[:1]]
    rejected = [
        {
            "source": "logs/queries-0314.jsonl",
            "location": "line 17",
            "reason": "unparseable_sql",
            "raw": "SELEC * FROM",
            "run_date": RUN_DATE,
        },
        {
            "source": "logs/queries-0314.jsonl",
            "location": "line 230",
            "reason": "unparseable_sql",
            "raw": "...",
            "run_date": RUN_DATE,
        },
        {
            "source": "events/deletions.jsonl",
            "location": "line 3",
            "reason": "missing_field:ts",
            "raw": '{"subject_id": "x"}',
            "run_date": RUN_DATE,
        },
    ]
    anomalies = [a for c in deletions() for a in c.anomalies]
    residuals = [
        dict(r, deletion_id="del-002") for r in deletions()[1].residuals if r["rows_found"]
    ]
    record, _ = article30.record_of(datamap())
    sections = [
        sec.lineage_coverage(
            assets_total=7,
            assets_with_lineage=6,
            columns_total=40,
            columns_with_lineage=29,
            queries_total=1200,
            queries_parsed=1187,
            rows=[
                {"asset_id": a["asset_id"], "name": a["name"], "kind": a["kind"], "zone": a["zone"]}
                for a in ASSETS
            ],
            trend=_trend([60, 61, 65, 66, 70, 72.5]),
        ),
        sec.rejected_inputs(
            rejected,
            total=6,
            by_reason={"unparseable_sql": 5, "missing_field:ts": 1},
            trend=_trend([9, 4, 7, 6, 5, 6]),
        ),
        sec.new_flows(
            [
                {
                    "source_asset": "dw.dim_customer",
                    "source_column": "email",
                    "target_asset": XSS,
                    "target_column": "contact",
                    "depth": 1,
                    "confidence": 0.6,
                    "run_date": RUN_DATE,
                }
            ],
            trend=_trend([0, 0, 2, 0, 1]),
        ),
        sec.lineage_disagreements(
            [
                {
                    "source_asset": "app.orders",
                    "source_column": "amount",
                    "target_asset": "dw.orders",
                    "target_column": "amount",
                    "found_by": "engine",
                    "engine": "trino",
                    "seen_count": 2,
                    "evidence": ["20261121_060000_00001_abcde", "20261121_061500_00002_abcde"],
                    "run_date": RUN_DATE,
                }
            ],
            trend=_trend([0, 1]),
        ),
        sec.policy_violations(VIOLATIONS, trend=_trend([0, 0, 0, 1, 1, 1])),
        sec.article30_record(
            article30.flag_rows(record), activities=len(record), trend=_trend([3, 2, 2])
        ),
        sec.deletion_anomalies(anomalies, run_date=RUN_DATE, trend=_trend([1, 1, 2, 2])),
        sec.residual_findings(residuals, trend=_trend([0, 1, 1])),
        sec.retention_violations([], trend=_trend([0, 0, 0])),
        sec.annotation_findings(
            [
                {
                    "check": "missing_annotation",
                    "object_type": "order_note",
                    "edge_type": "user_to_note",
                    "detail": "no annotation",
                }
            ]
        ),
        sec.restoration_log(
            keys_active=90,
            keys_destroyed=12,
            entries_written=3,
            entries_restored=0,
            entries_expired=14,
            rows=[
                {
                    "key_id": "k-2026-03-14",
                    "created_at": "2026-03-14",
                    "destroy_after": "2026-06-12",
                    "status": "active",
                }
            ],
            trend=_trend([1, 0, 4, 3]),
        ),
        sec.input_validation(
            [
                {
                    "kind": "query_logs",
                    "expectation": "expect_column_values_to_not_be_null",
                    "column": "sql",
                    "parameters": "{}",
                    "success": True,
                    "element_count": 1204,
                    "unexpected_count": 0,
                },
                {
                    "kind": "deletion_events",
                    "expectation": "expect_column_values_to_be_in_set",
                    "column": "event_type",
                    "parameters": '{"value_set": ["requested", "completed", "failed"]}',
                    "success": False,
                    "element_count": 412,
                    "unexpected_count": 1,
                },
            ],
            rejected_by_kind={"query_logs": 5, "deletion_events": 1},
            trend=_trend([0, 1, 0, 1]),
        ),
    ]
    return NightlyReport(
        run_date=RUN_DATE,
        steps=steps,
        sections=sections,
        history=history,
        datamap=datamap(),
        deletions=deletions(),
        product_version="0.1.0",
        generated_at=datetime(2026, 3, 14, 2, 14, 5),
    )


def impact() -> ImpactReport:
    """Impact of dropping ``crm.customers.email``."""
    return ImpactReport(
        table="crm.customers",
        changes=["drop column email"],
        impacted=[
            {
                "asset": "dw.dim_customer",
                "column": "email",
                "kind": "table",
                "owner": "data-eng",
                "zone": "warehouse",
                "depth": 1,
                "confidence": 1.0,
                "breaking": True,
                "reason": "column selected by name",
                "path": ["crm.customers.email", "dw.dim_customer.email"],
            },
            {
                "asset": "ml.churn_model",
                "column": "email_domain",
                "kind": "model",
                "owner": "ml-team",
                "zone": "ml",
                "depth": 2,
                "confidence": 0.9,
                "breaking": False,
                "reason": "derived from a breaking column",
            },
        ],
        graph=GraphView(
            edges=[e for e in edges() if e["source_column"] == "email"],
            assets=ASSETS,
            level="column",
        ),
        generated_at=datetime(2026, 3, 14, 9, 0),
    )


if __name__ == "__main__":  # pragma: no cover
    from reports.render import render_impact, render_nightly

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "sample-report")
    paths = render_nightly(nightly(), out)
    paths += render_impact(impact(), out / "impact")
    print("\n".join(str(p) for p in paths))
