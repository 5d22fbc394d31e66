"""The hand-written marts, ML features, dashboards and models of the demo company.

The policy-violating flow lives here: ``crm.customers.religion`` reaches
``ads.audience_segments.religious_affinity`` through staging and ``analytics.customer_profile``
(policy ``religion-never-in-ads``). No other column of a religion or financial category leaves its
allowed zones, and views never hold identifier columns.
"""

from __future__ import annotations

import random

from jobs.demo.company import (
    FAILED_RUN_TARGET,
    HOSTILE_TABLE,
    UNVERIFIABLE_TABLE,
    add_aggregates,
    add_sources_and_staging,
    join,
    make_table,
    stmt,
)
from jobs.demo.model import Company, Dashboard, Model, Pipeline, Statement

DATE = (("s", "created_at", "date"),)


def _marts() -> list[tuple[str, str, str, list[tuple[Statement, str, str]]]]:
    """(pipeline, dialect, signal, [(statement, grain, catalog columns)]) of the marts."""
    s = stmt
    return [
        (
            "etl.customer_profile",
            "trino",
            "sql",
            [
                (
                    s(
                        "analytics.customer_profile",
                        "insert",
                        "staging.crm_customers c",
                        "customer_id=c.customer_id email=c.email full_name=c.full_name country=c.country "
                        "city=a.city postal_code=a.postal_code religion=c.religion "
                        "date_of_birth=c.date_of_birth segment=upper(c.segment) created_at=c.created_at",
                        joins=(join("staging.crm_addresses a", "c.customer_id", "a.customer_id"),),
                        filters=(("c", "updated_at", "date"),),
                        column_list=True,
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.customer_revenue",
            "hive",
            "sql",
            [
                (
                    s(
                        "analytics.customer_revenue",
                        "insert_overwrite",
                        "staging.billing_invoices i",
                        "customer_id=i.customer_id total_amount=sum(i.amount) n_invoices=count(i.invoice_id) "
                        "last_invoice_at=max(i.created_at) created_at=c.created_at",
                        joins=(
                            join(
                                "staging.crm_customers c", "i.customer_id", "c.customer_id", "INNER"
                            ),
                        ),
                        filters=(("i", "invoice_status", "eq:paid"),),
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.customer_engagement",
            "spark",
            "sql",
            [
                (
                    s(
                        "analytics.customer_engagement",
                        "ctas",
                        "staging.app_sessions s",
                        "customer_id=s.user_id n_sessions=count(s.session_id) "
                        "last_seen_at=max(s.created_at) created_at=min(s.created_at)",
                    ),
                    "customer",
                    "",
                ),
                (
                    s(
                        "analytics.content_activity",
                        "ctas",
                        "staging.app_posts p",
                        "customer_id=p.user_id n_posts=count(p.post_id) created_at=min(p.created_at)",
                    ),
                    "customer",
                    "",
                ),
            ],
        ),
        (
            "etl.support_summary",
            "presto",
            "sql",
            [
                (
                    s(
                        "analytics.support_summary",
                        "insert",
                        "staging.support_tickets t",
                        "customer_id=t.customer_id n_tickets=count_distinct(t.ticket_id) "
                        "avg_priority=avg(t.priority) avg_score=avg(x.score) created_at=min(t.created_at)",
                        joins=(
                            join("staging.support_satisfaction x", "t.ticket_id", "x.ticket_id"),
                        ),
                        filters=(("t", "created_at", "date"),),
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.subscription_status",
            "spark",
            "sql",
            [
                (
                    s(
                        "analytics.subscription_status",
                        "merge",
                        "staging.billing_subscriptions s",
                        "customer_id=s.customer_id plan_id=s.plan_id mrr=round2(s.mrr) "
                        "sub_status=lower(s.sub_status) created_at=s.created_at",
                        merge_key="customer_id",
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.customer_360",
            "spark",
            "sql",
            [
                (
                    s(
                        "analytics.customer_360",
                        "insert_overwrite",
                        "analytics.customer_profile p",
                        "customer_id=p.customer_id email_sha256=sha2(p.email) country=p.country "
                        "segment=p.segment total_amount=coalesce0(r.total_amount) "
                        "n_sessions=coalesce0(e.n_sessions) last_seen_at=e.last_seen_at "
                        "created_at=p.created_at",
                        joins=(
                            join("analytics.customer_revenue r", "p.customer_id", "r.customer_id"),
                            join(
                                "analytics.customer_engagement e", "p.customer_id", "e.customer_id"
                            ),
                        ),
                    ),
                    "customer",
                    "",
                ),
                (
                    s(
                        "analytics.churn_signals",
                        "view",
                        "analytics.customer_360 x",
                        "segment=x.segment sub_status=v.sub_status n_customers=count(x.customer_id) "
                        "mrr=sum(v.mrr)",
                        joins=(
                            join(
                                "analytics.subscription_status v", "x.customer_id", "v.customer_id"
                            ),
                        ),
                    ),
                    "none",
                    "view",
                ),
            ],
        ),
        (
            "etl.country_kpis",
            "trino",
            "sql",
            [
                (
                    s(
                        "analytics.country_kpis",
                        "ctas",
                        "analytics.customer_360 x",
                        "country=x.country n_customers=count_distinct(x.customer_id) "
                        "total_amount=sum(x.total_amount)",
                        filters=(("x", "created_at", "date"),),
                        cte=True,
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.email_audience",
            "trino",
            "sql",
            [
                (
                    s(
                        "marketing.email_audience",
                        "insert",
                        "analytics.customer_profile p",
                        "customer_id=p.customer_id email=p.email full_name=p.full_name country=p.country "
                        "created_at=p.created_at",
                        joins=(
                            join(
                                "staging.crm_consents k", "p.customer_id", "k.customer_id", "INNER"
                            ),
                        ),
                        filters=(("k", "consent_type", "eq:email"), ("k", "granted", "true")),
                        column_list=True,
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.campaign_targets",
            "hive",
            "sql",
            [
                (
                    s(
                        "marketing.campaign_targets",
                        "insert_overwrite",
                        "marketing.email_audience a",
                        "customer_id=a.customer_id email=a.email campaign_id=m.campaign_id "
                        "member_status=m.member_status created_at=m.created_at",
                        joins=(
                            join(
                                "staging.crm_campaign_members m",
                                "a.customer_id",
                                "m.customer_id",
                                "INNER",
                            ),
                        ),
                    ),
                    "event",
                    "",
                ),
                (
                    s(
                        "marketing.campaign_stats",
                        "ctas",
                        "marketing.campaign_targets t",
                        "campaign_id=t.campaign_id n_customers=count_distinct(t.customer_id)",
                    ),
                    "none",
                    "",
                ),
            ],
        ),
        (
            "etl.ads_audience",
            "spark",
            "sql",
            [
                (
                    s(
                        "ads.audience_segments",
                        "insert_overwrite",
                        "analytics.customer_profile p",
                        "customer_id=p.customer_id email_sha256=sha2(p.email) "
                        "religious_affinity=lower(p.religion) country=p.country created_at=p.created_at",
                    ),
                    "customer",
                    "",
                ),
                (
                    s(
                        "ads.lookalike_seed",
                        "ctas",
                        "ads.audience_segments a",
                        "customer_id_sha256=sha2(a.customer_id) email_sha256=a.email_sha256 "
                        "country=a.country created_at=a.created_at",
                    ),
                    "customer",
                    "",
                ),
            ],
        ),
        (
            "etl.finance_revenue",
            "hive",
            "sql",
            [
                (
                    s(
                        "finance.revenue_by_customer",
                        "insert_overwrite",
                        "staging.billing_payments p",
                        "customer_id=p.customer_id card_last4=m.card_last4 total_amount=sum(p.amount) "
                        "created_at=min(p.created_at)",
                        joins=(
                            join(
                                "staging.billing_payment_methods m",
                                "p.customer_id",
                                "m.customer_id",
                            ),
                        ),
                    ),
                    "customer",
                    "",
                ),
                (
                    s(
                        "finance.monthly_revenue",
                        "ctas",
                        "staging.billing_invoices i",
                        "month=month_trunc(i.created_at) currency=i.currency total_amount=sum(i.amount) "
                        "n_invoices=count(i.invoice_id)",
                        filters=(("i", "invoice_status", "eq:paid"),),
                    ),
                    "none",
                    "",
                ),
            ],
        ),
        (
            "etl.refund_ledger",
            "trino",
            "sql",
            [
                (
                    s(
                        "finance.refund_ledger",
                        "insert",
                        "staging.billing_refunds r",
                        "refund_id=r.refund_id customer_id=r.customer_id refund_amount=r.amount "
                        "card_last4=p.card_last4 created_at=r.created_at",
                        joins=(
                            join(
                                "staging.billing_payments p",
                                "r.payment_id",
                                "p.payment_id",
                                "INNER",
                            ),
                        ),
                        filters=(("r", "created_at", "date"),),
                    ),
                    "event",
                    "",
                )
            ],
        ),
        (
            "etl.ml_churn_features",
            "spark",
            "sql",
            [
                (
                    s(
                        "ml.churn_features",
                        "insert_overwrite",
                        "analytics.customer_engagement e",
                        "customer_id=e.customer_id n_sessions=e.n_sessions mrr=v.mrr "
                        "n_tickets=coalesce0(t.n_tickets) created_at=e.created_at",
                        joins=(
                            join(
                                "analytics.subscription_status v",
                                "e.customer_id",
                                "v.customer_id",
                                "INNER",
                            ),
                            join("analytics.support_summary t", "e.customer_id", "t.customer_id"),
                        ),
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.ml_ltv_features",
            "spark",
            "sql",
            [
                (
                    s(
                        "ml.ltv_features",
                        "ctas",
                        "analytics.customer_revenue r",
                        "customer_id=r.customer_id total_amount=r.total_amount n_invoices=r.n_invoices "
                        "country=p.country segment=p.segment created_at=p.created_at",
                        joins=(
                            join(
                                "analytics.customer_profile p",
                                "r.customer_id",
                                "p.customer_id",
                                "INNER",
                            ),
                        ),
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.archive_customers",
            "hive",
            "sql",
            [
                (
                    s(
                        UNVERIFIABLE_TABLE,
                        "ctas",
                        "staging.crm_customers c",
                        "customer_id=c.customer_id email=c.email full_name=c.full_name "
                        "created_at=c.created_at",
                    ),
                    "customer",
                    "missing",
                )
            ],
        ),
        (
            "etl.support_backlog",
            "presto",
            "sql",
            [
                (
                    s(
                        "analytics.ticket_backlog",
                        "ctas",
                        "staging.support_tickets t",
                        "day=cast_date(t.created_at) priority=t.priority n_tickets=count(t.ticket_id)",
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.chat_summary",
            "trino",
            "sql",
            [
                (
                    s(
                        "analytics.chat_summary",
                        "insert",
                        "staging.support_chats c",
                        "customer_id=c.customer_id n_rows=count(c.chat_id) created_at=min(c.created_at)",
                        filters=(("c", "created_at", "date"),),
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.comment_activity",
            "spark",
            "sql",
            [
                (
                    s(
                        "analytics.comment_activity",
                        "insert_overwrite",
                        "staging.app_comments c",
                        "customer_id=c.user_id n_posts=count_distinct(p.post_id) n_rows=count(c.comment_id) "
                        "created_at=min(c.created_at)",
                        joins=(join("staging.app_posts p", "c.post_id", "p.post_id", "INNER"),),
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.device_models",
            "hive",
            "sql",
            [
                (
                    s(
                        "analytics.device_models",
                        "insert_overwrite",
                        "staging.app_devices d",
                        "device_model=d.device_model os_version=d.os_version "
                        "n_customers=count_distinct(d.user_id)",
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.page_funnel",
            "spark",
            "sql",
            [
                (
                    s(
                        "analytics.page_funnel",
                        "insert",
                        "staging.app_page_views v",
                        "page_path=v.page_path day=cast_date(v.created_at) n_views=count(v.view_id) "
                        "n_subjects=count_distinct(v.user_id)",
                        filters=(("v", "created_at", "date"),),
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.country_report",
            "trino",
            "sql",
            [
                (
                    s(
                        HOSTILE_TABLE,
                        "ctas",
                        "analytics.country_kpis k",
                        "country=k.country n_customers=k.n_customers",
                    ),
                    "none",
                    "hostile",
                )
            ],
        ),
        (
            "etl.account_health",
            "trino",
            "sql",
            [
                (
                    s(
                        "analytics.account_health",
                        "insert",
                        "staging.crm_accounts a",
                        "account_id=a.account_id account_name=a.account_name industry=a.industry "
                        "total_amount=coalesce0(r.total_amount)",
                        joins=(
                            join("analytics.customer_revenue r", "a.customer_id", "r.customer_id"),
                        ),
                        column_list=True,
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.agent_load",
            "presto",
            "sql",
            [
                (
                    s(
                        "analytics.agent_load",
                        "ctas",
                        "staging.support_tickets t",
                        "name=g.name n_tickets=count(t.ticket_id)",
                        joins=(
                            join("staging.support_agents g", "t.priority", "g.ref_id", "INNER"),
                        ),
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.invoices_fx",
            "hive",
            "sql",
            [
                (
                    s(
                        "finance.invoices_fx",
                        "insert_overwrite",
                        "staging.billing_invoices i",
                        "invoice_id=i.invoice_id customer_id=i.customer_id amount=round2(i.amount) "
                        "currency=i.currency label=f.label created_at=i.created_at",
                        joins=(join("staging.billing_fx_rates f", "i.currency", "f.name"),),
                        filters=(("i", "created_at", "date"),),
                    ),
                    "event",
                    "",
                )
            ],
        ),
        (
            "etl.contactable_emails",
            "trino",
            "sql",
            [
                (
                    s(
                        "marketing.contactable_emails",
                        "insert",
                        "staging.crm_contacts c",
                        "customer_id=c.customer_id email=lower(c.email) created_at=c.created_at",
                        filters=(("c", "created_at", "date"),),
                        column_list=True,
                        union=(
                            s(
                                "marketing.contactable_emails",
                                "insert",
                                "staging.app_users u",
                                "customer_id=u.user_id email=lower(u.email) created_at=u.created_at",
                                filters=(("u", "created_at", "date"),),
                            ),
                        ),
                    ),
                    "event",
                    "",
                )
            ],
        ),
        (
            "etl.newsletter_sync",
            "spark",
            "openlineage_columns",
            [
                (
                    s(
                        "marketing.newsletter_list",
                        "insert",
                        "marketing.email_audience a",
                        "customer_id=a.customer_id email=a.email created_at=a.created_at",
                    ),
                    "customer",
                    "",
                )
            ],
        ),
        (
            "etl.mrr_daily",
            "spark",
            "openlineage_columns",
            [
                (
                    s(
                        "finance.mrr_daily",
                        "insert",
                        "analytics.subscription_status v",
                        "day=cast_date(v.created_at) sub_status=v.sub_status mrr=sum(v.mrr)",
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.partner_feed",
            "spark",
            "openlineage",
            [
                (
                    s(
                        "marketing.partner_feed",
                        "insert",
                        "marketing.campaign_stats c",
                        "campaign_id=c.campaign_id n_customers=c.n_customers",
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.exec_summary",
            "hive",
            "read_write",
            [
                (
                    s(
                        "analytics.exec_summary",
                        "insert_overwrite",
                        "analytics.country_kpis k",
                        "country=k.country n_customers=k.n_customers total_amount=sum(m.total_amount)",
                        joins=(join("finance.monthly_revenue m", "k.country", "m.currency"),),
                    ),
                    "none",
                    "",
                )
            ],
        ),
        (
            "etl.consent_rates",
            "hive",
            "read_write",
            [
                (
                    s(
                        "marketing.consent_rates",
                        "insert_overwrite",
                        "staging.crm_consents k",
                        "consent_type=k.consent_type n_customers=count_distinct(k.customer_id)",
                    ),
                    "none",
                    "",
                )
            ],
        ),
    ]


# Columns a dashboard may read: marts without religion or financial data.
_DASHBOARD_SOURCES: tuple[tuple[str, str], ...] = (
    ("analytics.customer_360", "customer_id country segment total_amount n_sessions"),
    ("analytics.customer_revenue", "customer_id total_amount n_invoices"),
    ("analytics.country_kpis", "country n_customers total_amount"),
    ("analytics.churn_signals", "segment sub_status n_customers mrr"),
    ("analytics.support_summary", "customer_id n_tickets avg_score"),
    ("analytics.ticket_backlog", "day priority n_tickets"),
    ("analytics.page_funnel", "day n_views n_subjects"),
    ("analytics.device_models", "device_model n_customers"),
    ("analytics.account_health", "account_name industry total_amount"),
    ("finance.monthly_revenue", "month currency total_amount n_invoices"),
    ("finance.mrr_daily", "day sub_status mrr"),
    ("marketing.campaign_stats", "campaign_id n_customers"),
    ("analytics.app_sessions_daily", "day n_rows n_subjects"),
    ("analytics.billing_invoices_monthly", "month n_rows n_subjects"),
    ("analytics.support_tickets_daily", "day n_rows n_subjects"),
)
_DASHBOARDS = [
    "revenue_overview",
    "customer_health",
    "executive_kpis",
    "churn_watch",
    "support_quality",
    "ticket_backlog",
    "web_funnel",
    "device_mix",
    "account_health",
    "finance_monthly",
    "mrr_tracker",
    "campaign_performance",
    "app_engagement",
    "billing_trends",
    "support_volume",
    "country_growth",
    "segment_mix",
    "sales_pipeline",
    "retention_cohorts",
    "product_usage",
    "nps_trends",
    "payments_ops",
    "marketing_reach",
    "board_pack",
    "ops_daily",
    "customer_success",
    "data_quality",
    "growth_weekly",
    "regional_sales",
    "investor_update",
]


def build_company(seed: int) -> Company:
    """Build the whole company; ``seed`` drives dashboard reads only (structure is fixed).

    Args:
        seed: the generator seed.

    Returns:
        The :class:`Company` with tables, pipelines, dashboards and models.
    """
    company = Company()
    add_sources_and_staging(company)
    add_aggregates(company)
    for name, dialect, signal, stmts in _marts():
        for st, grain, flag in stmts:
            cols = " ".join(e.target for e in st.exprs)
            company.add(
                make_table(
                    st.target,
                    cols,
                    grain,
                    kind="view" if flag == "view" else "table",
                    in_catalog=flag != "hostile",
                    in_warehouse=flag != "missing",
                )
            )
        company.pipelines.append(
            Pipeline(
                name,
                dialect,
                signal,
                tuple(st for st, _, _ in stmts),  # type: ignore[arg-type]
                hour=6 + len(company.pipelines) % 4,
                owner="data-eng",
            )
        )
    rng = random.Random(f"dashboards-{seed}")
    for i, dname in enumerate(_DASHBOARDS):
        picks = [_DASHBOARD_SOURCES[i % len(_DASHBOARD_SOURCES)]]
        picks += rng.sample(_DASHBOARD_SOURCES, rng.randint(0, 2))
        reads: dict[str, tuple[str, ...]] = {}
        for table, cols in picks:
            names = cols.split()
            chosen = set(rng.sample(names, min(len(names), 2)))
            if "customer_id" in names and i % 2 == 0:
                chosen.add("customer_id")  # some dashboards list customers
            reads[table] = tuple(sorted(set(reads.get(table, ())) | chosen))
        company.dashboards.append(
            Dashboard(
                f"dash.{dname}",
                tuple(sorted(reads.items())),
                "openlineage_columns" if i < 18 else "read_write",
                "bi-team",
            )
        )
    company.models.append(
        Model(
            "ml.churn_model",
            "ml.churn_features",
            (
                ("n_sessions", ()),
                ("mrr", ("ml.churn_features.mrr",)),
                ("n_tickets", ("ml.churn_features.n_tickets",)),
            ),
            "ml-team",
            "json",
        )
    )
    company.models.append(
        Model(
            "ml.ltv_model",
            "ml.ltv_features",
            (
                ("total_amount", ("ml.ltv_features.total_amount",)),
                ("n_invoices", ()),
                ("country", ("ml.ltv_features.country",)),
            ),
            "ml-team",
            "yaml",
        )
    )
    return company


__all__ = ["FAILED_RUN_TARGET", "build_company"]
