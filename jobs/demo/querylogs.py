"""Query logs of the demo company: nightly ETL SQL in trino/presto/spark/hive, ad-hoc BI
SELECTs, split READ/WRITE audit lines, and the injected bad lines and unparseable statements."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from jobs.demo.io import JsonlFile, iso, truncated, without
from jobs.demo.model import Company
from jobs.demo.sql import UNPARSEABLE_SQL, render_statement

_ANALYSTS = ("ana", "bo", "chen", "dara", "eli", "fatima", "gus")
_ADHOC: tuple[tuple[str, str], ...] = (
    (
        "trino",
        (
            "SELECT country, sum(total_amount) AS revenue FROM analytics.country_kpis "
            "WHERE total_amount > {n} GROUP BY country ORDER BY revenue DESC LIMIT {k}"
        ),
    ),
    (
        "presto",
        (
            "SELECT month, total_amount FROM finance.monthly_revenue "
            "WHERE month >= DATE '{d}' AND currency = 'EUR'"
        ),
    ),
    (
        "trino",
        (
            "SELECT segment, count(*) FROM analytics.customer_360 WHERE n_sessions >= {k} "
            "GROUP BY segment"
        ),
    ),
    (
        "presto",
        (
            "SELECT day, n_tickets FROM analytics.ticket_backlog WHERE day >= DATE '{d}' "
            "AND priority <= {k}"
        ),
    ),
    (
        "trino",
        (
            "SELECT device_model, n_customers FROM analytics.device_models "
            "ORDER BY n_customers DESC LIMIT {k}"
        ),
    ),
)


def _ts(day: date, hour: int, minute: int, second: int) -> datetime:
    return datetime.combine(day, time(hour % 24, minute % 60, second % 60), tzinfo=UTC)


def build_query_logs(
    company: Company, as_of: date, scale: int, rng: random.Random
) -> tuple[list[JsonlFile], dict[str, Any]]:
    """Build the query-log files.

    Args:
        company: the company model.
        as_of: run date the demo is built for; nightly runs cover the days before it.
        scale: volume multiplier (number of nightly runs and ad-hoc queries).
        rng: the seeded generator.

    Returns:
        The files, and truth about them: ``unparseable`` query ids, read/write jobs.
    """
    days = 14 * scale
    files = {
        "trino": JsonlFile("query_logs", "trino.jsonl"),
        "presto": JsonlFile("query_logs", "presto.jsonl"),
        "spark": JsonlFile("query_logs", "spark.jsonl"),
        "hive": JsonlFile("query_logs", "hive.jsonl.gz", gz=True),
    }
    rw = JsonlFile("query_logs", "hive_audit.jsonl")
    qn = 0

    def qid() -> str:
        nonlocal qn
        qn += 1
        return f"q-{qn:07d}-{rng.getrandbits(32):08x}"

    rw_jobs: list[dict[str, Any]] = []
    for k in range(days, 0, -1):
        day = as_of - timedelta(days=k)
        run_date = (day - timedelta(days=1)).isoformat()
        for p in company.pipelines:
            if p.signal not in ("sql", "read_write"):
                continue
            minute = rng.randint(0, 20)
            for i, st in enumerate(p.statements):
                started = _ts(day, p.hour, minute + i, rng.randint(0, 59))
                if p.signal == "sql":
                    files[p.dialect].add(
                        {
                            "query_id": qid(),
                            "job_id": p.name,
                            "engine": p.dialect,
                            "user": "svc_airflow",
                            "started_at": iso(started),
                            "sql": render_statement(st, p.dialect, run_date, p.default_schema),
                            "default_schema": p.default_schema,
                            # a few nightly runs fail; the same statement succeeds on other nights
                            "status": "failed" if k > 1 and rng.random() < 0.02 else "ok",
                            "elapsed_ms": rng.randint(800, 240_000),
                        }
                    )  # an extra field
                else:
                    job = f"{p.name}/{i}/{day.isoformat()}"
                    for src in st.sources:
                        rw.add(
                            {
                                "job_id": job,
                                "action": "READ",
                                "table": src,
                                "started_at": iso(started),
                                "engine": "hive",
                            }
                        )
                    rw.add(
                        {
                            "job_id": job,
                            "action": "WRITE",
                            "table": st.target,
                            "started_at": iso(started + timedelta(seconds=30)),
                            "engine": "hive",
                        }
                    )
                    rw_jobs.append({"job_id": job, "pipeline": p.name})
        for d in company.dashboards:
            if d.signal != "read_write":
                continue
            job = f"bi.refresh.{d.name.split('.', 1)[1]}/{day.isoformat()}"
            started = _ts(day, 7, rng.randint(0, 59), rng.randint(0, 59))
            for table, _ in d.reads:
                rw.add(
                    {
                        "job_id": job,
                        "action": "READ",
                        "table": table,
                        "started_at": iso(started),
                        "engine": "hive",
                    }
                )
            rw.add(
                {
                    "job_id": job,
                    "action": "WRITE",
                    "table": d.name,
                    "started_at": iso(started + timedelta(seconds=5)),
                    "engine": "hive",
                }
            )
        for _ in range(rng.randint(4, 8)):
            dialect, template = rng.choice(_ADHOC)
            sql = template.format(
                n=rng.randint(100, 99999),
                k=rng.randint(1, 50),
                d=(day - timedelta(days=rng.randint(1, 90))).isoformat(),
            )
            files[dialect].add(
                {
                    "query_id": qid(),
                    "job_id": None,
                    "engine": dialect,
                    "user": rng.choice(_ANALYSTS),
                    "started_at": iso(
                        _ts(day, rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59))
                    ),
                    "sql": sql,
                    "default_schema": None,
                    "status": rng.choice(["ok"] * 9 + ["failed"]),
                }
            )

    # unparseable statements: valid lines whose SQL no parser accepts (rejected at ingest)
    unparseable: list[dict[str, Any]] = []
    for dialect, sql in UNPARSEABLE_SQL:
        q = qid()
        f = files[dialect]
        f.lines.insert(
            rng.randint(0, len(f.lines)),
            json.dumps(
                {
                    "query_id": q,
                    "job_id": "adhoc",
                    "engine": dialect,
                    "user": "intern",
                    "started_at": iso(_ts(as_of - timedelta(days=2), 11, 0, 0)),
                    "sql": sql,
                    "default_schema": None,
                    "status": "ok",
                },
                sort_keys=True,
                separators=(", ", ": "),
            ),
        )
        unparseable.append({"query_id": q, "engine": dialect, "file": f.rel})

    # malformed lines: landing must reject each with a reason
    for dialect in ("trino", "spark", "hive"):
        f = files[dialect]
        sample = {
            "query_id": qid(),
            "job_id": "etl.broken",
            "engine": dialect,
            "user": "svc",
            "started_at": iso(_ts(as_of - timedelta(days=3), 2, 0, 0)),
            "sql": "SELECT 1",
            "default_schema": None,
            "status": "ok",
        }
        f.inject_json(rng, truncated(sample), "truncated_json", "line cut in the middle")
        # each fault's query id is drawn just before it is injected (the order of rng calls)
        missing = dict(without(sample, "started_at"), query_id=qid())
        f.inject_json(rng, missing, "missing_field", "required field started_at absent")
        bad_ts = dict(sample, query_id=qid(), started_at="2026-13-45T25:61:00Z")
        f.inject_json(rng, bad_ts, "bad_timestamp", "started_at is not a timestamp")
        bad_enum = dict(sample, query_id=qid(), status="finished-ish")
        f.inject_json(rng, bad_enum, "bad_enum", "status not in ok|failed|null")
    rw_sample = {
        "job_id": "etl.broken/0",
        "table": "staging.crm_notes",
        "engine": "hive",
        "started_at": iso(_ts(as_of - timedelta(days=3), 2, 0, 0)),
    }
    rw.inject_all(
        rng,
        [
            (dict(rw_sample, action="DELETE"), "bad_enum", "action not in READ|WRITE"),
            (
                without(dict(rw_sample, action="READ"), "started_at"),
                "missing_field",
                "required field started_at absent",
            ),
        ],
    )
    out = [*files.values(), rw]
    return out, {"unparseable_sql": unparseable, "nightly_days": days}
