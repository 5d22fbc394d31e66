"""The three YAML configs of the demo company: catalog (with its declared processing activities,
:mod:`jobs.demo.processing`), policies and deletion annotations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.demo.columns import RETENTION_DAYS, column
from jobs.demo.company import SCHEMA_OWNER, SCHEMA_ZONE, ZONES
from jobs.demo.delf import annotations
from jobs.demo.io import Flow, write_yaml
from jobs.demo.model import Column, Company
from jobs.demo.processing import processing_blocks
from jobs.demo.signals import PROBE_API_COLUMNS

POLICIES: list[dict[str, Any]] = [
    {
        "name": "religion-never-in-ads",
        "description": "religious beliefs never reach advertising",
        "data_categories": ["user.demographic.religious_belief"],
        "allowed_zones": ["source", "staging", "analytics"],
    },
    {
        "name": "payment-data-in-finance-only",
        "description": "card and bank data stay in billing and finance",
        "data_categories": ["user.financial"],
        "allowed_zones": ["source", "staging", "finance"],
    },
]


def _col(c: Column) -> dict[str, Any]:
    hashed = {"hash": c.hash} if c.hash else {}
    return Flow(
        name=c.name,
        type=c.type,
        data_category=c.data_category,
        is_identifier=c.is_identifier,
        classification=c.classification,
        **hashed,
    )


def catalog(company: Company) -> dict[str, Any]:
    """The catalog document (retention per category, every known asset, and the organisation,
    systems and processing activities)."""
    assets: list[dict[str, Any]] = []
    for t in company.tables.values():
        if not t.in_catalog:
            continue
        assets.append(
            {
                "name": t.name,
                "kind": t.kind,
                "owner": t.owner,
                "zone": t.zone,
                "columns": [_col(c) for c in t.columns],
            }
        )
    for api, cols in PROBE_API_COLUMNS.items():
        assets.append(
            {
                "name": api,
                "kind": "api",
                "owner": SCHEMA_OWNER["api"],
                "zone": SCHEMA_ZONE["api"],
                "columns": [_col(column(c)) for c in cols.split()],
            }
        )
    for p in company.pipelines:
        first = company.tables.get(p.statements[0].target)
        assets.append(
            {
                "name": p.name,
                "kind": "pipeline",
                "owner": p.owner,
                "zone": first.zone if first else "analytics",
            }
        )
    for d in company.dashboards:
        fields = sorted({c for _, cols in d.reads for c in cols})
        assets.append(
            {
                "name": d.name,
                "kind": "dashboard",
                "owner": d.owner,
                "zone": "bi",
                "columns": [_col(column(c)) for c in fields],
            }
        )
    for m in company.models:
        assets.append({"name": m.name, "kind": "model", "owner": m.owner, "zone": "ml"})
    return {"retention_days": dict(RETENTION_DAYS), "assets": assets, **processing_blocks()}


def write_configs(company: Company, out: Path) -> dict[str, Any]:
    """Write catalog.yaml, policies.yaml and annotations.yaml under ``<out>/inputs``."""
    root = out / "inputs"
    cat = catalog(company)
    write_yaml(
        root / "catalog.yaml",
        cat,
        "# Demo company catalog: assets with zones and classified columns, and the processing\n"
        "# activities of its Article 30 record.\n",
    )
    write_yaml(
        root / "policies.yaml",
        {"zones": dict(ZONES), "policies": POLICIES},
        "# Policy zones: which data categories may flow into which zones.\n",
    )
    ann = annotations()
    ann["edges"] = {k: Flow(v) for k, v in ann["edges"].items()}
    write_yaml(
        root / "annotations.yaml", ann, "# DELF deletion annotations of the demo object graph.\n"
    )
    return {"assets": len(cat["assets"])}
