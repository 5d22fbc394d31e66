"""The demo company generator (issue 2 item 5).

``generate_demo(out, as_of=date(2026, 11, 22))`` builds a 30-person company like seed 001's (about
190 tables and views across crm/app/billing/support, staging, marts and ML features; 50 pipelines;
30 dashboards; two models) and writes::

    <out>/inputs/query_logs/        trino.jsonl presto.jsonl spark.jsonl hive.jsonl.gz (nightly ETL
                                    SQL over 14*scale days, ad-hoc SELECTs) + hive_audit.jsonl
                                    (split READ/WRITE lines)
    <out>/inputs/openlineage/       airflow.jsonl superset.jsonl (START+COMPLETE RunEvents, some
                                    with the columnLineage facet, one FAIL run)
    <out>/inputs/training_configs/  churn_model.json ltv_model.yaml broken_model.json
    <out>/inputs/probe_samples/     probes.jsonl (HMAC-SHA256 value hashes)
    <out>/inputs/deletion_events/   events.jsonl      <out>/inputs/deletion_requests/ requests.jsonl
    <out>/inputs/edge_inventory/    edges.jsonl (DELF object graph)
    <out>/inputs/catalog.yaml policies.yaml annotations.yaml
    <out>/company/<schema>/<table>  the audited warehouse (Delta, one commit each)
    <out>/ground_truth.json         true flows per signal, injected faults, expected findings

Deterministic: the same seed, ``as_of`` and scale give byte-identical files, Delta tables included
(their commit time is ``as_of`` minus one day, their ids and file names derive from the seed). No
clock is read: every timestamp is relative to ``as_of``. ``scale`` multiplies customers, nightly
runs, events and probe requests; scale 10 takes about 10-20 s on 2 cores.

Example:
    >>> summary = generate_demo(Path("/tmp/demo"), as_of=date(2026, 11, 22))  # doctest: +SKIP
    >>> summary.counts["query_logs"]["lines"]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jobs.demo.configs import catalog as _catalog_doc
from jobs.demo.configs import write_configs
from jobs.demo.deletions import build_deletions, personal_text, write_deletion_inputs
from jobs.demo.delf import build_edge_inventory, expected_findings
from jobs.demo.io import JsonlFile, iso
from jobs.demo.marts import build_company
from jobs.demo.population import population
from jobs.demo.querylogs import build_query_logs
from jobs.demo.signals import build_openlineage, build_probes, write_training_configs
from jobs.demo.truth import (
    CONVENTIONS,
    direct_closure,
    exclusive_downstream,
    faults,
    policy_violations,
    read_write_truth,
    sql_truth,
)
from jobs.demo.warehouse import build_warehouse
from jobs.errors import ConfigError

INPUT_KINDS = (
    "query_logs",
    "openlineage",
    "training_configs",
    "probe_samples",
    "deletion_events",
    "deletion_requests",
    "edge_inventory",
)


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo` wrote.

    Attributes:
        out: the output root.
        as_of: the run date the demo is built for.
        seed: generator seed.
        scale: volume multiplier.
        counts: per input kind: files, lines, bad_lines.
        tables: rows written per audited Delta table.
        ground_truth: path of the manifest.
    """

    out: Path
    as_of: date
    seed: int
    scale: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    ground_truth: Path | None = None

    def __str__(self) -> str:
        lines = sum(c["lines"] for c in self.counts.values())
        bad = sum(c["bad_lines"] for c in self.counts.values())
        return (
            f"{lines} input lines ({bad} injected bad) in {len(self.counts)} kinds, "
            f"{len(self.tables)} audited tables ({sum(self.tables.values())} rows), "
            f"as of {self.as_of}, seed {self.seed}, scale {self.scale}; "
            f"ground truth in {self.ground_truth}"
        )


def _rng(seed: int, part: str) -> random.Random:
    return random.Random(f"{seed}/{part}")


def generate_demo(out: Path, *, as_of: date, seed: int = 7, scale: int = 1) -> DemoSummary:
    """Generate the demo company's inputs, audited warehouse and ground truth under ``out``.

    Replaces ``<out>/inputs``, ``<out>/company`` and ``<out>/ground_truth.json`` if present and
    leaves anything else in ``out`` alone.

    Args:
        out: output directory (created if missing).
        as_of: the run date the demo is built for; every timestamp is relative to it.
        seed: generator seed.
        scale: volume multiplier (log lines, events, rows); 1 is a few thousand rows per kind.

    Returns:
        A :class:`DemoSummary`.

    Raises:
        ConfigError: for a scale below 1.
    """
    if scale < 1:
        raise ConfigError(f"demo scale must be a positive integer, got {scale}")
    out = Path(out)
    for sub in ("inputs", "company"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "ground_truth.json").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    company = build_company(seed)
    customers = population(as_of, seed, scale)
    files: list[JsonlFile] = []
    qfiles, qtruth = build_query_logs(company, as_of, scale, _rng(seed, "query_logs"))
    files += qfiles
    olfiles, oltruth = build_openlineage(company, as_of, scale, _rng(seed, "openlineage"))
    files += olfiles
    probe_file, probe_truth = build_probes(as_of, seed, scale, _rng(seed, "probes"))
    files.append(probe_file)
    deletions = build_deletions(customers, as_of, scale, _rng(seed, "deletions"))
    dfiles, anomalies = write_deletion_inputs(deletions, as_of, _rng(seed, "deletion_files"))
    files += dfiles
    edge_file, delf_truth = build_edge_inventory(customers, deletions, as_of, _rng(seed, "delf"))
    files.append(edge_file)

    written = [dict(f.write(out), kind=f.kind) for f in files]
    config_truth = write_training_configs(company, out)
    write_configs(company, out)
    wh = build_warehouse(company, customers, deletions, as_of, seed, _rng(seed, "warehouse"), out)

    counts: dict[str, dict[str, int]] = {
        k: {"files": 0, "lines": 0, "bad_lines": 0} for k in INPUT_KINDS
    }
    for w in written:
        c = counts[w["kind"]]
        c["files"] += 1
        c["lines"] += w["lines"]
        c["bad_lines"] += w["bad_lines"]
    counts["training_configs"] = {k: config_truth[k] for k in ("files", "lines", "bad_lines")}
    counts["query_logs"]["unparseable_sql"] = len(qtruth["unparseable_sql"])

    sql = sql_truth(company)
    direct = [f for f in sql["column_flows"] + oltruth["column_flows"] if f["type"] == "DIRECT"]
    direct += [{"source": p["source"], "target": p["target"]} for p in probe_truth["probe_flows"]]
    catalog_columns = {
        f"{a['name']}.{c['name']}": c["data_category"]
        for a in _catalog_doc(company)["assets"]
        for c in a.get("columns", [])
        if a["kind"] in ("table", "view", "api")
    }
    violations = policy_violations(company, direct, catalog_columns)
    extra = {
        "unparseable_sql": qtruth["unparseable_sql"],
        "ignored_runs": oltruth["ignored_runs"],
        "hostile_details": [d.deletion_id for d in deletions if d.scenario == "exception_loop"],
        "personal_text": personal_text(deletions),
        "deletion_anomalies": anomalies,
        "residual_rows": wh["residual_rows"],
        "retention_violations": wh["retention_violations"],
        "annotation_findings": expected_findings(),
        "dangling": delf_truth["dangling"],
        "policy_violations": violations,
    }
    truth: dict[str, Any] = {
        "format": 1,
        "as_of": as_of.isoformat(),
        "seed": seed,
        "scale": scale,
        "conventions": CONVENTIONS,
        "counts": counts,
        "assets": {
            "tables": sum(1 for t in company.tables.values() if t.kind == "table"),
            "views": sum(1 for t in company.tables.values() if t.kind == "view"),
            "pipelines": len(company.pipelines),
            "dashboards": len(company.dashboards),
            "models": len(company.models),
        },
        "sql": sql,
        "table_flows": {
            "sql": sql["table_flows"],
            "read_write": read_write_truth(company),
            "openlineage": oltruth["table_flows"],
            "config": [f for f in config_truth["flows"] if f["level"] == "table"],
            "probe": sorted(
                {
                    (p["source"].rsplit(".", 1)[0], p["target"].rsplit(".", 1)[0])
                    for p in probe_truth["probe_flows"]
                }
            ),
        },
        "openlineage": oltruth,
        "config_flows": config_truth["flows"],
        "probe_flows": probe_truth["probe_flows"],
        "probe_no_match_pairs": probe_truth["no_match_pairs"],
        "probe_requests": probe_truth["requests"],
        "probe_not_observed": oltruth["not_observed_by_probes"],
        "policy_violations": violations,
        "downstream": {
            col: {
                "columns": reach,
                "dashboards": sorted(
                    {".".join(n.split(".")[:2]) for n in reach if n.startswith("dash.")}
                ),
            }
            for col in ("crm.customers.customer_id", "crm.customers.email", "app.users.user_id")
            for reach in [direct_closure(direct, col)]
        },
        "deletion_anomalies": anomalies,
        "deletions": [
            {
                "deletion_id": d.deletion_id,
                "subject_id": str(d.customer.customer_id),
                "object_id": d.object_id,
                "scenario": d.scenario,
                "completed": d.completed,
                "requested_at": iso(d.requested_at),
                "completed_at": iso(d.completed_at) if d.completed_at else None,
            }
            for d in deletions
        ],
        "residual_rows": wh["residual_rows"],
        "unverifiable_tables": [
            {
                "table": "archive.customers_snapshot",
                "reason": "in lineage with identifier copies, no Delta table",
            }
        ],
        "retention_violations": wh["retention_violations"],
        "annotation_findings": expected_findings(),
        "dangling_edges": delf_truth["dangling"],
        "edge_deletion": {
            "true": delf_truth["true_edge_deletion"],
            "declared": delf_truth["declared_edge_deletion"],
            "edges_per_type": delf_truth["edges_per_type"],
        },
        "warehouse_tables": wh["rows_per_table"],
        "faults": faults(written + [dict(config_truth, kind="training_configs")], extra),
    }
    truth["table_flows"]["probe"] = [
        {"source": s, "target": t} for s, t in truth["table_flows"]["probe"]
    ]
    table_edges = sorted(
        {(f["source"], f["target"]) for flows in truth["table_flows"].values() for f in flows}
    )
    truth["review_cascade"] = {
        "graph": "table level, union of table_flows of every signal; roots have no inbound edge",
        "hidden": {
            n: exclusive_downstream(table_edges, n)
            for n in (
                "analytics.customer_profile",
                "staging.crm_customers",
                "marketing.email_audience",
            )
        },
    }
    gt = out / "ground_truth.json"
    gt.write_text(
        json.dumps(truth, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return DemoSummary(
        out=out,
        as_of=as_of,
        seed=seed,
        scale=scale,
        counts=counts,
        tables=wh["rows_per_table"],
        ground_truth=gt,
    )


__all__ = ["INPUT_KINDS", "DemoSummary", "generate_demo"]
