"""Non-SQL lineage signals of the demo company: OpenLineage RunEvents, ML training configs and
privacy-probe samples (keyed hashes), with the true flows each one shows."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from jobs.demo.company import FAILED_RUN_TARGET
from jobs.demo.io import JsonlFile, iso, iso_ms, truncated, without, write_yaml
from jobs.demo.model import Company, Statement
from jobs.demo.sql import statement_flows

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
COLUMN_FACET_URL = (
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet"
)
SCHEMA_FACET_URL = (
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)
TABLE_NS = "warehouse"
API_NS = "app-service"
SERVICE_JOB = "svc.signup_handler"
# static lineage the signup service declares: api.signup field -> (table: [(field, column)])
_SERVICE_FLOWS: dict[str, tuple[tuple[str, str], ...]] = {
    "app.users": (("email", "email"), ("country", "country")),
    "crm.customers": (("full_name", "full_name"), ("religion", "religion")),
}
# ... of which the probes never observe this one (a gated flow, seed 000)
NOT_OBSERVED = (
    {"source": "api.signup.country", "target": "app.users.country", "static_signal": "openlineage"},
)
BI_NS = "superset"


def _run_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _dataset(ns: str, name: str, facets: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"namespace": ns, "name": name, "facets": facets or {}}


def _column_facet(st: Statement) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    dataset: list[dict[str, Any]] = []
    for f in statement_flows(st):
        table, col = f.source.rsplit(".", 1)
        tr = {"type": f.type, "subtype": f.subtype, "description": "", "masking": f.masking}
        entry = {"namespace": TABLE_NS, "name": table, "field": col, "transformations": [tr]}
        if f.type == "DIRECT":
            fields.setdefault(f.target.rsplit(".", 1)[1], {"inputFields": []})[
                "inputFields"
            ].append(entry)
        else:
            dataset.append(entry)
    return _lineage_facet(fields, dataset)


def _lineage_facet(fields: dict[str, Any], dataset: list[dict[str, Any]]) -> dict[str, Any]:
    """An OpenLineage column lineage dataset facet."""
    return {
        "_producer": PRODUCER,
        "_schemaURL": COLUMN_FACET_URL,
        "fields": fields,
        "dataset": dataset,
    }


def _identity_flow(
    fields: dict[str, Any],
    column_flows: dict[tuple[str, str, str, str], dict[str, Any]],
    source: tuple[str, str, str],
    target: tuple[str, str],
    job: str,
) -> None:
    """Declare ``source`` (namespace, table, field) copied as is into ``target`` (table, column).

    Adds the input field to the facet's ``fields`` and the flow to the ground truth.
    """
    ns, table, field = source
    tr = {"type": "DIRECT", "subtype": "IDENTITY", "description": "", "masking": False}
    entry = {"namespace": ns, "name": table, "field": field, "transformations": [tr]}
    fields.setdefault(target[1], {"inputFields": []})["inputFields"].append(entry)
    src, dst = f"{table}.{field}", f"{target[0]}.{target[1]}"
    column_flows[(src, dst, "DIRECT", "IDENTITY")] = {
        "source": src,
        "target": dst,
        "type": "DIRECT",
        "subtype": "IDENTITY",
        "masking": False,
        "job": job,
    }


def _events(
    job: str,
    ns: str,
    run: str,
    start: datetime,
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
    end_type: str = "COMPLETE",
) -> list[dict[str, Any]]:
    base = {
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "job": {"namespace": ns, "name": job, "facets": {}},
    }
    bare_out = [_dataset(o["namespace"], o["name"]) for o in outputs]
    return [
        dict(
            base,
            eventType="START",
            eventTime=iso_ms(start),
            run={"runId": run, "facets": {}},
            inputs=[_dataset(i["namespace"], i["name"]) for i in inputs],
            outputs=bare_out,
        ),
        dict(
            base,
            eventType=end_type,
            eventTime=iso_ms(start + timedelta(minutes=3, seconds=7)),
            run={"runId": run, "facets": {}},
            inputs=inputs,
            outputs=outputs,
        ),
    ]


def build_openlineage(
    company: Company, as_of: date, scale: int, rng: random.Random
) -> tuple[list[JsonlFile], dict[str, Any]]:
    """OpenLineage RunEvents (START + COMPLETE, a failed run, bad lines) and their truth."""
    airflow = JsonlFile("openlineage", "airflow.jsonl")
    superset = JsonlFile("openlineage", "superset.jsonl")
    table_flows: set[tuple[str, str, str]] = set()
    column_flows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    days = 7 * scale
    for k in range(days, 0, -1):
        day = as_of - timedelta(days=k)
        for p in company.pipelines:
            if p.signal not in ("openlineage", "openlineage_columns"):
                continue
            for i, st in enumerate(p.statements):
                start = datetime.combine(day, time(p.hour, i % 60, rng.randint(0, 59)), tzinfo=UTC)
                facets: dict[str, Any] = {}
                if p.signal == "openlineage_columns":
                    facets["columnLineage"] = _column_facet(st)
                    for f in statement_flows(st):
                        column_flows[(f.source, f.target, f.type, f.subtype)] = dict(
                            f.as_dict(), job=p.name
                        )
                facets["schema"] = {
                    "_producer": PRODUCER,
                    "_schemaURL": SCHEMA_FACET_URL,
                    "fields": [{"name": e.target} for e in st.exprs],
                }
                job = f"{p.name}.{st.target.split('.', 1)[1]}"
                for ev in _events(
                    job,
                    "airflow",
                    _run_id(rng),
                    start,
                    [_dataset(TABLE_NS, s) for s in st.sources],
                    [_dataset(TABLE_NS, st.target, facets)],
                ):
                    airflow.add(ev)
                for s in st.sources:
                    table_flows.add((s, st.target, p.name))
        for d in company.dashboards:
            if d.signal != "openlineage_columns":
                continue
            start = datetime.combine(
                day, time(7, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC
            )
            fields: dict[str, Any] = {}
            for table, cols in d.reads:
                table_flows.add((table, d.name, f"bi.refresh.{d.name.split('.', 1)[1]}"))
                for c in cols:
                    _identity_flow(fields, column_flows, (TABLE_NS, table, c), (d.name, c), d.name)
            facet = {"columnLineage": _lineage_facet(fields, [])}
            for ev in _events(
                f"bi.refresh.{d.name.split('.', 1)[1]}",
                BI_NS,
                _run_id(rng),
                start,
                [_dataset(TABLE_NS, t) for t, _ in d.reads],
                [_dataset(BI_NS, d.name, facet)],
            ):
                superset.add(ev)
        # the signup service declares its writes (static lineage of API fields into tables)
        start = datetime.combine(day, time(12, rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC)
        outputs = []
        for target, cols in sorted(_SERVICE_FLOWS.items()):
            fields = {}
            for src, col in cols:
                source = (API_NS, "api.signup", src)
                _identity_flow(fields, column_flows, source, (target, col), SERVICE_JOB)
            table_flows.add(("api.signup", target, SERVICE_JOB))
            outputs.append(
                _dataset(TABLE_NS, target, {"columnLineage": _lineage_facet(fields, [])})
            )
        for ev in _events(
            SERVICE_JOB,
            "app-service",
            _run_id(rng),
            start,
            [_dataset(API_NS, "api.signup")],
            outputs,
        ):
            airflow.add(ev)
    # a run that failed: its flows must not count (only COMPLETE events do)
    failed_day = as_of - timedelta(days=2)
    for ev in _events(
        "etl.partner_experiment",
        "airflow",
        _run_id(rng),
        datetime.combine(failed_day, time(9, 15), tzinfo=UTC),
        [_dataset(TABLE_NS, "analytics.customer_profile")],
        [_dataset(TABLE_NS, FAILED_RUN_TARGET)],
        end_type="FAIL",
    ):
        airflow.add(ev)
    # malformed lines
    sample = _events(
        "etl.broken",
        "airflow",
        _run_id(rng),
        datetime.combine(failed_day, time(3, 0), tzinfo=UTC),
        [_dataset(TABLE_NS, "staging.crm_notes")],
        [_dataset(TABLE_NS, "analytics.crm_notes_daily")],
    )[1]
    airflow.inject_all(
        rng,
        [
            (truncated(sample, 3), "truncated_json", "line cut in the middle"),
            (without(sample, "eventTime"), "missing_field", "eventTime absent"),
            (
                dict(sample, eventTime="yesterday at noon"),
                "bad_timestamp",
                "eventTime is not ISO-8601",
            ),
        ],
    )
    types = "START|RUNNING|COMPLETE|ABORT|FAIL|OTHER"
    superset.inject_json(
        rng, dict(sample, eventType="FINISHED"), "bad_enum", f"eventType not in {types}"
    )
    truth = {
        "table_flows": [{"source": s, "target": t, "job": j} for s, t, j in sorted(table_flows)],
        "column_flows": [column_flows[k] for k in sorted(column_flows)],
        "not_observed_by_probes": list(NOT_OBSERVED),
        "ignored_runs": [
            {
                "job": "etl.partner_experiment",
                "eventType": "FAIL",
                "source": "analytics.customer_profile",
                "target": FAILED_RUN_TARGET,
            }
        ],
    }
    return [airflow, superset], truth


def write_training_configs(company: Company, out: Path) -> dict[str, Any]:
    """One config per model (json or yaml) plus one broken config; returns truth and counts."""
    root = out / "inputs" / "training_configs"
    root.mkdir(parents=True, exist_ok=True)
    flows: list[dict[str, Any]] = []
    files: list[str] = []
    for m in company.models:
        feats: list[Any] = [
            name if not srcs else {"name": name, "sources": list(srcs)} for name, srcs in m.features
        ]
        cfg = {
            "model_name": m.name,
            "input_dataset": f"asset://warehouse.table/{m.input_table}",
            "features": feats,
            "output_model": f"asset://mlflow.model/{m.name}",
            "hyperparameters": {"max_depth": 6, "learning_rate": 0.1},
        }
        short = m.name.split(".", 1)[1]
        if m.config_format == "json":
            path = root / f"{short}.json"
            path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        else:
            path = root / f"{short}.yaml"
            write_yaml(path, cfg)
        files.append(f"inputs/training_configs/{path.name}")
        flows.append({"source": m.input_table, "target": m.name, "level": "table"})
        for name, srcs in m.features:
            for s in srcs:
                flows.append({"source": s, "target": f"{m.name}.{name}", "level": "feature"})
    broken = root / "broken_model.json"
    broken.write_text(
        json.dumps(
            {
                "model_name": "ml.broken_model",
                "features": ["x"],
                "output_model": "asset://mlflow.model/ml.broken_model",
            },
            indent=2,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    return {
        "files": len(files) + 1,
        "lines": len(files) + 1,
        "bad_lines": 1,
        "flows": flows,
        "bad": [
            {
                "file": "inputs/training_configs/broken_model.json",
                "line": None,
                "reason": "missing_field",
                "detail": "input_dataset absent",
            }
        ],
    }


# (request kind, source fields, sinks: (asset, field, source fields it carries, how))
_PROBES: tuple[
    tuple[str, tuple[str, ...], tuple[tuple[str, str, tuple[str, ...], str], ...]], ...
] = (
    (
        "api.signup",
        ("email", "full_name", "religion", "country"),
        (
            ("app.users", "email", ("email",), "EXACT"),
            ("crm.customers", "full_name", ("full_name",), "EXACT"),
            ("crm.customers", "religion", ("religion",), "EXACT"),
            ("app.sessions", "landing_page", (), "NONE"),
        ),
    ),
    (
        "api.support_form",
        ("email", "message"),
        (
            ("support.tickets", "email", ("email",), "EXACT"),
            ("support.tickets", "ticket_body", ("email", "message"), "CONTAINS"),
        ),
    ),
    (
        "api.checkout",
        ("card_last4", "full_name"),
        (
            ("billing.payments", "card_last4", ("card_last4",), "EXACT"),
            ("billing.invoices", "currency", (), "NONE"),
        ),
    ),
)
PROBE_API_COLUMNS = {
    "api.signup": "email full_name religion country",
    "api.support_form": "email message",
    "api.checkout": "card_last4 full_name",
}


def probe_key(seed: int) -> bytes:
    """The demo probe's HMAC key (the product never needs it: it compares hashes only)."""
    return hashlib.sha256(f"demo-probe-key/{seed}".encode()).digest()


def build_probes(
    as_of: date, seed: int, scale: int, rng: random.Random
) -> tuple[JsonlFile, dict[str, Any]]:
    """Probe samples: per request a few source observations and sink observations."""
    key = probe_key(seed)

    def h(value: str) -> str:
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    f = JsonlFile("probe_samples", "probes.jsonl")
    counts: dict[tuple[str, str, str], int] = {}
    n = 0
    for k in range(7 * scale, 0, -1):
        day = as_of - timedelta(days=k)
        for _ in range(20):
            api, src_fields, sinks = _PROBES[rng.randrange(len(_PROBES))]
            n += 1
            req = f"req-{n:07d}"
            ts = datetime.combine(
                day, time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC
            )
            values = {fld: [f"{fld}:{req}:{rng.getrandbits(40):x}"] for fld in src_fields}
            values["message"] = [f"word{j}:{req}:{rng.getrandbits(30):x}" for j in range(3)]
            for fld in src_fields:
                f.add(
                    {
                        "request_id": req,
                        "ts": iso(ts),
                        "role": "source",
                        "asset": api,
                        "field": fld,
                        "value_hashes": [h(v) for v in values[fld]],
                    }
                )
            for asset, fld, carried, how in sinks:
                if carried:
                    raw = [v for c in carried for v in values[c]]
                else:
                    raw = [f"unrelated:{req}:{rng.getrandbits(40):x}"]
                f.add(
                    {
                        "request_id": req,
                        "ts": iso(ts + timedelta(milliseconds=250)),
                        "role": "sink",
                        "asset": asset,
                        "field": fld,
                        "value_hashes": sorted(h(v) for v in raw),
                    }
                )
                for c in src_fields:
                    match = "NO_MATCH"
                    if how == "EXACT" and carried == (c,):
                        match = "EXACT"
                    elif how == "CONTAINS" and c in carried:
                        match = "CONTAINS"
                    key3 = (f"{api}.{c}", f"{asset}.{fld}", match)
                    counts[key3] = counts.get(key3, 0) + 1
    sample = {
        "request_id": "req-bad",
        "ts": iso(datetime.combine(as_of - timedelta(days=1), time(12), tzinfo=UTC)),
        "role": "sink",
        "asset": "app.users",
        "field": "email",
        "value_hashes": [h("x")],
    }
    f.inject_all(
        rng,
        [
            (json.dumps(sample, sort_keys=True)[:40], "truncated_json", "line cut in the middle"),
            (dict(sample, role="middle"), "bad_enum", "role not in source|sink"),
            (without(sample, "request_id"), "missing_field", "request_id absent"),
            (dict(sample, ts="32/11/2026"), "bad_timestamp", "ts is not ISO-8601"),
        ],
    )
    flows = [
        {"source": s, "target": t, "match": m, "observations": c}
        for (s, t, m), c in sorted(counts.items())
    ]
    return f, {
        "probe_flows": [x for x in flows if x["match"] != "NO_MATCH"],
        "no_match_pairs": [x for x in flows if x["match"] == "NO_MATCH"],
        "requests": n,
    }
