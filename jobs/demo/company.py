"""The demo company: about 200 tables, 50 pipelines, 30 dashboards and two ML models.

The structure is fixed (it does not depend on the seed or the scale); the seed drives only the
choices that look arbitrary (dashboard reads, dialect variations) and the data volumes. Flows are
declared as :class:`~jobs.demo.model.Statement` specs in a compact notation::

    "customer_id=c.customer_id"          bare column (IDENTITY)
    "email_sha256=sha2(p.email)"         a function of columns (see model.FUNCTIONS)
    "n_rows=count()"                     count(*)
"""

from __future__ import annotations

import re

from jobs.demo.columns import columns
from jobs.demo.model import (
    Company,
    Expr,
    Join,
    Pipeline,
    Signal,
    Statement,
    StatementKind,
    Table,
)

ZONES: dict[str, str] = {
    "source": "operational source systems (CRM, app database, billing, support)",
    "staging": "raw copies of the source systems in the warehouse",
    "analytics": "curated marts for internal analytics",
    "marketing": "customer audiences and campaign data",
    "ads": "advertising: audiences shared with ad platforms",
    "finance": "revenue, payments and accounting",
    "ml": "feature tables and trained models",
    "archive": "long-term snapshots",
    "bi": "dashboards",
}
SCHEMA_ZONE = {
    "crm": "source",
    "app": "source",
    "billing": "source",
    "support": "source",
    "api": "source",
    "staging": "staging",
    "analytics": "analytics",
    "marketing": "marketing",
    "ads": "ads",
    "finance": "finance",
    "ml": "ml",
    "archive": "archive",
    "dash": "bi",
}
SCHEMA_OWNER = {
    "crm": "crm-team",
    "app": "app-team",
    "billing": "billing-team",
    "support": "support-team",
    "api": "app-team",
    "staging": "data-eng",
    "analytics": "analytics-team",
    "marketing": "growth-team",
    "ads": "growth-team",
    "finance": "finance-team",
    "ml": "ml-team",
    "archive": "data-eng",
    "dash": "bi-team",
}
SYSTEM_DIALECT = {"crm": "trino", "app": "spark", "billing": "hive", "support": "presto"}

# (name, grain, columns) of the source tables holding subject data
_SOURCES: tuple[tuple[str, str, str], ...] = (
    (
        "crm.customers",
        "customer",
        (
            "customer_id email full_name phone country city religion date_of_birth segment created_at"
            " updated_at"
        ),
    ),
    ("crm.contacts", "event", "contact_id customer_id email phone contact_role created_at"),
    (
        "crm.addresses",
        "customer",
        "address_id customer_id street postal_code city country created_at",
    ),
    ("crm.accounts", "customer", "account_id customer_id account_name industry created_at"),
    ("crm.consents", "event", "consent_id customer_id consent_type granted created_at"),
    ("crm.notes", "event", "note_id customer_id note_body created_at"),
    ("crm.campaign_members", "event", "campaign_id customer_id member_status created_at"),
    ("app.users", "customer", "user_id email username country signup_channel created_at"),
    ("app.sessions", "event", "session_id user_id device_id ip_address landing_page created_at"),
    ("app.page_views", "event", "view_id user_id page_path referrer created_at"),
    ("app.devices", "event", "device_id user_id device_model os_version created_at"),
    ("app.posts", "event", "post_id user_id post_text created_at"),
    ("app.comments", "event", "comment_id user_id post_id comment_text created_at"),
    ("app.photos", "event", "photo_id user_id storage_uri created_at"),
    ("app.likes", "event", "like_id user_id post_id created_at"),
    ("app.messages", "event", "message_id user_id message_text created_at"),
    (
        "billing.invoices",
        "event",
        "invoice_id customer_id amount currency invoice_status created_at",
    ),
    ("billing.payments", "event", "payment_id invoice_id customer_id amount card_last4 created_at"),
    (
        "billing.payment_methods",
        "customer",
        "payment_method_id customer_id card_last4 card_brand iban created_at",
    ),
    (
        "billing.subscriptions",
        "customer",
        "subscription_id customer_id plan_id mrr sub_status created_at",
    ),
    ("billing.refunds", "event", "refund_id payment_id customer_id amount created_at"),
    (
        "support.tickets",
        "event",
        "ticket_id customer_id email subject ticket_body priority created_at",
    ),
    (
        "support.ticket_comments",
        "event",
        "ticket_comment_id ticket_id customer_id comment_body created_at",
    ),
    ("support.chats", "event", "chat_id customer_id transcript created_at"),
    ("support.satisfaction", "event", "survey_id ticket_id customer_id score created_at"),
)
_REFS: dict[str, str] = {
    "crm": "products price_books territories sales_reps campaigns industries lead_sources",
    "app": "feature_flags app_versions experiments countries error_codes locales",
    "billing": "plans tax_rates fx_rates discount_codes gateways",
    "support": "agents queues sla_policies tags macros",
}
_REF_COLUMNS = "ref_id name label is_active updated_at"
HOSTILE_TABLE = "analytics.<script>alert(1)</script>"
UNVERIFIABLE_TABLE = "archive.customers_snapshot"
FAILED_RUN_TARGET = "marketing.partner_experiment"

_EXPR = re.compile(r"^(\w+)=(?:(\w+)\((.*)\)|(\w+)\.(\w+))$")


def parse_expr(text: str) -> Expr:
    """Parse the compact notation ``target=func(a.x, b.y)`` / ``target=a.x`` into an Expr."""
    m = _EXPR.match(text.replace(" ", ""))
    if not m:
        raise ValueError(f"bad expression spec {text!r}")
    target, func, args, alias, col = m.groups()
    if func is None:
        return Expr(target, None, ((alias, col),))
    refs = tuple(tuple(a.split(".")) for a in args.split(",") if a)
    return Expr(target, func, refs)  # type: ignore[arg-type]


def stmt(
    target: str,
    kind: StatementKind,
    source: str,
    exprs: str,
    *,
    joins: tuple[Join, ...] = (),
    filters: tuple[tuple[str, str, str], ...] = (),
    merge_key: str | None = None,
    cte: bool = False,
    column_list: bool = False,
    union: tuple[Statement, ...] = (),
) -> Statement:
    """Build a Statement from ``"table alias"`` and a comma-free, space separated exprs list."""
    table, alias = source.split()
    return Statement(
        target=target,
        kind=kind,
        source=table,
        alias=alias,
        exprs=tuple(parse_expr(e) for e in exprs.split()),
        joins=joins,
        filters=filters,
        merge_key=merge_key,
        cte=cte,
        column_list=column_list,
        union=union,
    )


def join(table_alias: str, left: str, right: str, how: str = "LEFT") -> Join:
    """``join("staging.x x", "c.customer_id", "x.customer_id")``."""
    table, alias = table_alias.split()
    lt, lc = left.split(".")
    rt, rc = right.split(".")
    return Join(table, alias, (lt, lc), (rt, rc), how)


def make_table(
    name: str, cols: str, grain: str = "none", *, kind: str = "table", **kw: object
) -> Table:
    """A table of the company with owner and zone derived from its schema.

    Args:
        name: qualified table name.
        cols: space separated column names (see :mod:`jobs.demo.columns`).
        grain: ``customer``, ``event`` or ``none`` (rows in the audited warehouse).
        kind: ``table`` or ``view``.
        **kw: further :class:`Table` fields (``in_catalog``, ``in_warehouse``).
    """
    schema = name.split(".", 1)[0]
    return Table(
        name=name,
        columns=columns(*cols.split()),
        owner=SCHEMA_OWNER[schema],
        zone=SCHEMA_ZONE[schema],
        kind=kind,
        grain=grain,
        **kw,  # type: ignore[arg-type]
    )


def _id_col(cols: str) -> str:
    return "user_id" if "user_id" in cols.split() else "customer_id"


def add_sources_and_staging(company: Company) -> None:
    """Add the source systems, their staging copies and dimension views, and the pipelines
    that load them (one main and one reference-data loader per system, one dims pipeline)."""
    for system in ("crm", "app", "billing", "support"):
        dialect = SYSTEM_DIALECT[system]
        main: list[Statement] = []
        for name, grain, cols in _SOURCES:
            if not name.startswith(system + "."):
                continue
            company.add(make_table(name, cols, grain))
            target = f"staging.{system}_{name.split('.')[1]}"
            company.add(make_table(target, cols, grain))
            exprs = []
            for c in cols.split():
                func = {"email": "lower_trim", "phone": "trim", "full_name": "trim"}.get(c)
                exprs.append(f"{c}={func}(s.{c})" if func else f"{c}=s.{c}")
            kind: StatementKind = "insert" if dialect in ("trino", "presto") else "insert_overwrite"
            main.append(
                stmt(
                    target,
                    kind,
                    f"{name} s",
                    " ".join(exprs),
                    filters=(("s", "created_at", "date"),),
                    column_list=dialect == "trino",
                )
            )
        company.pipelines.append(
            Pipeline(
                f"etl.stage_{system}",
                dialect,
                "sql",
                tuple(main),
                hour=1,
                owner="data-eng",
                default_schema=None,
            )
        )
        refs: list[Statement] = []
        dims: list[Statement] = []
        for ref in _REFS[system].split():
            src, stg, dim = f"{system}.{ref}", f"staging.{system}_{ref}", f"analytics.dim_{ref}"
            company.add(make_table(src, _REF_COLUMNS))
            company.add(make_table(stg, _REF_COLUMNS))
            company.add(make_table(dim, "ref_id name label", kind="view"))
            exprs = " ".join(f"{c}=r.{c}" for c in _REF_COLUMNS.split())
            refs.append(stmt(stg, "ctas", f"{src} r", exprs))
            dims.append(
                stmt(
                    dim,
                    "view",
                    f"{stg} r",
                    "ref_id=r.ref_id name=r.name label=upper(r.label)",
                    filters=(("r", "is_active", "true"),),
                )
            )
        ref_signal: Signal = {
            "crm": "sql",
            "app": "openlineage_columns",
            "billing": "openlineage",
            "support": "read_write",
        }[system]  # type: ignore[assignment]
        company.pipelines.append(
            Pipeline(f"etl.stage_{system}_refs", dialect, ref_signal, tuple(refs), hour=0)
        )
        company.pipelines.append(
            Pipeline(
                f"etl.dims_{system}",
                dialect,
                "sql",
                tuple(dims),
                hour=3,
                default_schema="analytics" if system == "crm" else None,
            )
        )


def add_aggregates(company: Company) -> None:
    """Add the daily and monthly aggregates of every event table and their pipelines."""
    signals: dict[str, Signal] = {
        "crm": "read_write",
        "app": "sql",
        "billing": "openlineage_columns",
        "support": "openlineage",
    }
    for system in ("crm", "app", "billing", "support"):
        daily: list[Statement] = []
        monthly: list[Statement] = []
        for name, grain, cols in _SOURCES:
            if not name.startswith(system + ".") or grain != "event":
                continue
            short = name.split(".")[1]
            stg, d, m = (
                f"staging.{system}_{short}",
                f"analytics.{system}_{short}_daily",
                f"analytics.{system}_{short}_monthly",
            )
            company.add(make_table(d, "day n_rows n_subjects"))
            company.add(make_table(m, "month n_rows n_subjects"))
            idc = _id_col(cols)
            daily.append(
                stmt(
                    d,
                    "insert",
                    f"{stg} s",
                    f"day=cast_date(s.created_at) n_rows=count() "
                    f"n_subjects=count_distinct(s.{idc})",
                    filters=(("s", "created_at", "date"),),
                )
            )
            monthly.append(
                stmt(
                    m,
                    "ctas",
                    f"{d} d",
                    "month=month_trunc(d.day) n_rows=sum(d.n_rows) n_subjects=max(d.n_subjects)",
                    cte=system == "crm",
                )
            )
        dialect = SYSTEM_DIALECT[system]
        company.pipelines.append(
            Pipeline(f"etl.daily_{system}", dialect, signals[system], tuple(daily), hour=4)
        )
        company.pipelines.append(
            Pipeline(f"etl.monthly_{system}", dialect, "sql", tuple(monthly), hour=5)
        )
