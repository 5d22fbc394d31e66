"""A tiny audited company for the purge / restore / log-audit tests (tests/test_purge.py etc.).

Two audited Delta tables:

* ``crm.customers`` (customer_id bigint, email string, created_at timestamp): customer 2 has two
  identical rows (an exact duplicate), customer 3's row has a microsecond timestamp;
* ``app.orders`` (order_id bigint, customer_id bigint, amount decimal(10,2), receipt binary).

Two completed deletions with residual findings computed with ``jobs.secrets.pseudonym``:

* ``del-2``: customer 2, matched on ``crm.customers.customer_id`` and ``app.orders.customer_id``;
* ``del-3``: customer 3, matched on ``crm.customers.email``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from jobs.config.settings import load_config
from jobs.context import JobContext, Progress
from jobs.secrets.keyring import FileKeyring, Keyring
from jobs.secrets.pseudonym import load_or_create
from jobs.store.tables import TableStore

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 30, 0)

CUSTOMERS = "customer_id bigint, email string, created_at timestamp"
ORDERS = "order_id bigint, customer_id bigint, amount decimal(10,2), receipt binary"
FINDINGS = (
    "deletion_id string, subject_key string, asset string, column string, rows_found long, "
    "deleted_at timestamp, days_overdue int, status string, detail string, run_date date"
)

T1 = datetime(2026, 1, 2, 3, 4, 5)
T2 = datetime(2026, 2, 3, 4, 5, 6)
T3 = datetime(2026, 3, 4, 5, 6, 7, 123456)
T4 = datetime(2026, 4, 5, 6, 7, 8)

CUSTOMER_ROWS = [
    (1, "ann@example.com", T1),
    (2, "bob@example.com", T2),
    (2, "bob@example.com", T2),
    (3, "cy@example.com", T3),
    (4, "dee@example.com", T4),
]
ORDER_ROWS = [
    (10, 1, Decimal("9.99"), b"\x00\x01"),
    (11, 2, Decimal("20.00"), b"\xff"),
    (12, 2, Decimal("5.50"), None),
    (13, 4, Decimal("1.00"), b"r"),
]


def eq(actual: DataFrame, expected: DataFrame) -> None:
    """Whole-DataFrame equality, any row order, nullability ignored."""
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@dataclass
class World:
    """The context, keyring and log stream of one test."""

    ctx: JobContext
    keyring: Keyring
    logs: io.StringIO

    def customers(self) -> DataFrame:
        """The audited customers table now."""
        return self.ctx.audited.read("crm.customers")

    def orders(self) -> DataFrame:
        """The audited orders table now."""
        return self.ctx.audited.read("app.orders")

    def df(self, rows: list, schema: str) -> DataFrame:
        """A DataFrame of explicit rows."""
        return self.ctx.spark.createDataFrame(rows, schema)


def build_world(
    spark: SparkSession, tmp_path: Path, *, keyring: Keyring | None = None, conf: str | None = None
) -> World:
    """Write the audited tables and tonight's residual findings; return the job context.

    Args:
        spark: the test session.
        tmp_path: the test's folder (COMPLIANCE_HOME).
        keyring: a keyring to use instead of the ``FileKeyring`` of ``keys.dir``.
        conf: YAML text overriding configuration keys.
    """
    path = None
    if conf is not None:
        path = tmp_path / "conf.yaml"
        path.write_text(conf, encoding="utf-8")
    cfg = load_config(path, env={"COMPLIANCE_HOME": str(tmp_path)})
    store = TableStore(spark, cfg.warehouse, engine="delta-rs")
    audited = TableStore(spark, cfg.audited_warehouse, engine="delta-rs")
    audited.append("crm.customers", spark.createDataFrame(CUSTOMER_ROWS, CUSTOMERS))
    audited.append("app.orders", spark.createDataFrame(ORDER_ROWS, ORDERS))
    pkey = load_or_create(cfg.keys.dir)
    deleted_at = datetime(2026, 11, 1)
    findings = [
        (
            "del-2",
            pkey.subject_key("2"),
            "crm.customers",
            "customer_id",
            2,
            deleted_at,
            21,
            "residual",
            None,
            TODAY,
        ),
        (
            "del-2",
            pkey.subject_key("2"),
            "app.orders",
            "customer_id",
            2,
            deleted_at,
            21,
            "residual",
            None,
            TODAY,
        ),
        (
            "del-3",
            pkey.subject_key("cy@example.com"),
            "crm.customers",
            "email",
            1,
            deleted_at,
            21,
            "residual",
            None,
            TODAY,
        ),
        (
            "del-9",
            None,
            "crm.gone",
            "email",
            None,
            deleted_at,
            21,
            "unverifiable",
            "no table",
            TODAY,
        ),
    ]
    store.append("residual_findings", spark.createDataFrame(findings, FINDINGS))
    logs = io.StringIO()
    ctx = JobContext(cfg, spark, store, audited, TODAY, Progress(logs))
    return World(ctx, keyring or FileKeyring(cfg.keys.dir), logs)
