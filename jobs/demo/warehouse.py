"""The audited warehouse: Delta tables of synthetic customer rows, with residual rows of deleted
subjects and rows past their retention, and the truth derived from what was written."""

from __future__ import annotations

import hashlib
import json
import math
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake

from jobs.demo.columns import retention_for
from jobs.demo.deletions import Deletion
from jobs.demo.io import iso
from jobs.demo.model import Company, Table
from jobs.demo.population import Customer, at_age, mix, text_key

ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "int": pa.int32(),
    "string": pa.string(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
# event-grain marts and the source table whose events they copy
_EVENT_BASE = {
    "marketing.campaign_targets": "crm.campaign_members",
    "finance.refund_ledger": "billing.refunds",
    "finance.invoices_fx": "billing.invoices",
}
# where residual rows of a deleted subject are left (downstream copies of the identifier, by
# IDENTITY flows in SQL); event tables keep every row of the subject (one or more)
RESIDUAL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("analytics.customer_profile", "staging.app_sessions"),
    ("ads.audience_segments", "ads.lookalike_seed"),
    ("marketing.campaign_targets", "ml.churn_features"),
    ("staging.crm_customers",),
    ("marketing.email_audience", "analytics.customer_360"),
)
_FIRST = [
    "ada",
    "ben",
    "cleo",
    "dev",
    "emil",
    "fern",
    "gita",
    "hugo",
    "ines",
    "jon",
    "kai",
    "lena",
    "milo",
    "nora",
    "omar",
    "pia",
    "quin",
    "rosa",
]
_LAST = [
    "smith",
    "garcia",
    "muller",
    "rossi",
    "novak",
    "kim",
    "silva",
    "tanaka",
    "okafor",
    "berg",
    "lund",
    "costa",
]
_COUNTRIES = ["de", "fr", "nl", "es", "it", "pl", "se", "us", "gb", "br"]
_CITIES = [
    "berlin",
    "paris",
    "amsterdam",
    "madrid",
    "rome",
    "warsaw",
    "stockholm",
    "austin",
    "london",
    "recife",
]
_RELIGIONS = ["Buddhist", "Christian", "Hindu", "Jewish", "Muslim", "None", "Other"]
_SEGMENTS = ["smb", "mid", "enterprise", "consumer"]


def warehouse_tables(company: Company) -> list[Table]:
    """The catalog tables written to the audited warehouse (every table holding identifiers or a
    hashed copy of one)."""
    return [
        t
        for t in company.tables.values()
        if (t.has_identifier or any(c.hash for c in t.columns))
        and t.kind == "table"
        and t.in_catalog
        and t.in_warehouse
    ]


def _base(t: Table) -> str:
    if t.name in _EVENT_BASE:
        return _EVENT_BASE[t.name]
    if t.schema == "staging":
        system, short = t.short.split("_", 1)
        return f"{system}.{short}"
    return t.name


def _event_age(base: str, seed: int, cid: int, j: int, signup_age: float) -> float:
    r = mix(seed, text_key(base), cid, j)
    frac = (r % 86_000) / 86_400
    if base in ("app.sessions", "app.page_views"):
        if r % 100 == 0 and signup_age > 270:
            return 200 + (r >> 8) % 60 + frac
        return 3 + (r >> 8) % 167 + frac
    cap = 350 if base == "app.devices" else 697
    return 3 + (r >> 8) % int(max(1, min(cap, signup_age - 4))) + frac


def persona(cid: int, seed: int) -> dict[str, Any]:
    """The personal attributes of one customer (the same in every table that copies them)."""
    p = mix(seed, cid, 99)
    first, last = _FIRST[p % len(_FIRST)], _LAST[(p >> 8) % len(_LAST)]
    email = f"{first}.{last}.{cid}@example.com"
    religion = _RELIGIONS[(p >> 24) % len(_RELIGIONS)]
    return {
        "customer_id": cid,
        "user_id": cid,
        "email": email,
        "email_sha256": hashlib.sha256(email.encode()).hexdigest(),
        "customer_id_sha256": hashlib.sha256(str(cid).encode()).hexdigest(),
        "full_name": f"{first.title()} {last.title()}",
        "username": f"{first}{cid}",
        "phone": f"+1-555-{(p >> 16) % 10_000_000:07d}",
        "religion": religion,
        "religious_affinity": religion.lower(),
        "country": _COUNTRIES[(p >> 32) % len(_COUNTRIES)],
        "city": _CITIES[(p >> 32) % len(_CITIES)],
        "segment": _SEGMENTS[(p >> 40) % len(_SEGMENTS)],
        "date_of_birth": date(1950 + p % 50, 1 + (p >> 4) % 12, 1 + (p >> 9) % 28),
        "card_last4": f"{(p >> 12) % 10_000:04d}",
        "iban": f"DE{(p >> 3) % 100:02d}5001{(p >> 10) % 10**10:010d}",
    }


def _value(
    col: str,
    typ: str,
    cid: int,
    key: int,
    created: datetime,
    seed: int,
    latest: datetime,
    person: dict[str, Any],
) -> Any:
    if col in person:
        return person[col]
    if col == "created_at":
        return created
    r = mix(seed, cid, key, text_key(col))
    if typ == "timestamp":
        return min(created + timedelta(seconds=r % (90 * 86400)), latest)
    if typ in ("bigint", "int"):
        return r % (10**9 if col.endswith("_id") else 50)
    if typ == "double":
        return round((r % 1_000_000) / 100, 2)
    if typ == "boolean":
        return r % 2 == 0
    if typ == "date":
        return created.date()
    return f"{col}-{r % 1_000_000}"


def _normalise_delta_log(path: Path, table: str, seed: int, ts_ms: int) -> None:
    """Make a freshly written one-commit Delta table byte-deterministic.

    delta-rs stamps the commit with the wall clock, a random table id and random data file names.
    This rewrites exactly those fields (commit and creation time, modification time, table id,
    data file names, execution time) with values derived from the seed, the table name and
    ``as_of``, and writes the actions with sorted keys (delta-rs emits them in hash order), so
    the whole table is reproducible. Nothing else in the log changes.
    """
    log = path / "_delta_log" / "00000000000000000000.json"
    actions = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    n = 0
    for action in actions:
        if "commitInfo" in action:
            action["commitInfo"]["timestamp"] = ts_ms
            metrics = action["commitInfo"].get("operationMetrics")
            if isinstance(metrics, dict) and "execution_time_ms" in metrics:
                metrics["execution_time_ms"] = 0
        elif "metaData" in action:
            action["metaData"]["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{seed}/{table}"))
            action["metaData"]["createdTime"] = ts_ms
        elif "add" in action:
            add = action["add"]
            token = uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{seed}/{table}/{n}")
            new_name = f"part-{n:05d}-{token}-c000.snappy.parquet"
            (path / add["path"]).rename(path / new_name)
            add["path"] = new_name
            add["modificationTime"] = ts_ms
            if isinstance(add.get("stats"), str):  # delta-rs emits stats keys in hash order
                add["stats"] = json.dumps(
                    json.loads(add["stats"]), sort_keys=True, separators=(",", ":")
                )
            n += 1
    log.write_text(
        "".join(json.dumps(a, sort_keys=True, separators=(",", ":")) + "\n" for a in actions),
        encoding="utf-8",
    )


def build_warehouse(
    company: Company,
    customers: list[Customer],
    deletions: list[Deletion],
    as_of: date,
    seed: int,
    rng: random.Random,
    out: Path,
) -> dict[str, Any]:
    """Write the audited Delta tables under ``<out>/company``; return residual/retention truth."""
    midnight = datetime.combine(as_of, time(), tzinfo=UTC)
    gone = {d.customer.customer_id: d for d in deletions if d.completed}
    people = {c.customer_id: persona(c.customer_id, seed) for c in customers}
    latest = midnight - timedelta(days=2)
    ts_ms = int((midnight - timedelta(days=1)).timestamp() * 1000)  # the commit time of the tables
    tables = warehouse_tables(company)
    names = {t.name for t in tables}
    # residual placements: (customer id, table) pairs kept although the subject was deleted
    residual: dict[tuple[int, str], str] = {}
    residual_deletions = [d for d in deletions if d.scenario == "residual"]
    start = rng.randrange(len(RESIDUAL_GROUPS))
    for i, d in enumerate(residual_deletions):
        for t in RESIDUAL_GROUPS[(start + i) % len(RESIDUAL_GROUPS)]:
            if t in names:
                residual[(d.customer.customer_id, t)] = d.deletion_id
    by_id = {d.deletion_id: d for d in deletions}
    residual_hits: list[dict[str, Any]] = []
    retention: list[dict[str, Any]] = []
    written: dict[str, int] = {}
    for t in tables:
        base = _base(t)
        bkey = text_key(base)
        cols: dict[str, list[Any]] = {c.name: [] for c in t.columns}
        per_subject: dict[int, int] = {}
        for c in customers:
            if c.customer_id in gone and (c.customer_id, t.name) not in residual:
                continue
            signup_age = c.age_days(as_of)
            if t.grain == "customer":
                rows = [(0, c.signup)]
            else:
                k = mix(seed, bkey, c.customer_id, 7) % 4
                if (c.customer_id, t.name) in residual:
                    k = max(k, 1)
                rows = [
                    (j, at_age(as_of, _event_age(base, seed, c.customer_id, j, signup_age)))
                    for j in range(k)
                ]
            person = people[c.customer_id]
            for j, created in rows:
                for col in t.columns:
                    cols[col.name].append(
                        _value(
                            col.name,
                            col.type,
                            c.customer_id,
                            bkey + j,
                            created,
                            seed,
                            latest,
                            person,
                        )
                    )
            if rows:
                per_subject[c.customer_id] = len(rows)
        schema = pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in t.columns])
        table = pa.table(cols, schema=schema)
        path = out / "company" / t.schema / t.short
        path.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(path), table, mode="overwrite")
        _normalise_delta_log(path, t.name, seed, ts_ms)
        written[t.name] = table.num_rows
        for (cid, tname), did in sorted(residual.items()):
            if tname == t.name:
                id_col = next(c.name for c in t.columns if c.is_identifier or c.hash)
                done = by_id[did].completed_at
                residual_hits.append(
                    {
                        "deletion_id": did,
                        "subject_id": str(cid),
                        "table": t.name,
                        "column": id_col,
                        "rows": per_subject.get(cid, 0),
                        "deleted_at": iso(done) if done else None,
                    }
                )
        created_col = cols.get("created_at", [])
        for col in t.columns:
            ret = retention_for(col.data_category)
            if ret is None or not created_col:
                continue
            cutoff = midnight - timedelta(days=ret)
            over = [ts for ts in created_col if ts < cutoff]
            if over:
                oldest = min(over)
                late = (cutoff - oldest).total_seconds() / 86400
                retention.append(
                    {
                        "table": t.name,
                        "column": col.name,
                        "data_category": col.data_category,
                        "retention_days": ret,
                        "rows_over": len(over),
                        "oldest": iso(oldest),
                        "days_over": math.ceil(late),
                    }
                )
    return {
        "residual_rows": residual_hits,
        "retention_violations": retention,
        "rows_per_table": written,
    }
