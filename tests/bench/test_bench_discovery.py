"""Benchmark: catalog discovery against two labelled truths, printed side by side.

* **Demo warehouse, catalog removed**: ``compliance catalog discover`` on the demo's audited
  warehouse with a configuration whose catalog does not exist; every (table, column) of the
  draft is compared with the demo's own catalog.
* **Public column names**: the name rules alone on ``tests/fixtures/discovery/
  column_names_labelled.csv`` (Northwind, Sakila, AdventureWorks and Presidio entity names,
  labelled by hand; the sources are named in the file).

Precision: correct suggestions / suggestions made; recall: correct suggestions / columns that
have a category. A suggestion is correct when it is exactly the labelled category. Goal (demo):
both >= 90%.

Run: .venv/bin/python -m pytest -n 0 -m bench -s tests/bench/test_bench_discovery.py
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
import yaml

from audits.discovery.suggest import suggest
from jobs.cli import main

pytestmark = pytest.mark.bench

LABELLED = (
    Path(__file__).resolve().parents[1] / "fixtures" / "discovery" / "column_names_labelled.csv"
)
DEMO_DATE = "2026-11-22"


def _score(pairs: list[tuple[str | None, str | None]]) -> tuple[int, int, int, int]:
    """(columns, true positives, suggestions, labelled) of (truth, suggestion) pairs."""
    tp = sum(1 for t, s in pairs if s is not None and s == t)
    return (
        len(pairs),
        tp,
        sum(s is not None for _, s in pairs),
        sum(t is not None for t, _ in pairs),
    )


def _line(label: str, score: tuple[int, int, int, int], seconds: float | None) -> str:
    n, tp, made, labelled = score
    p = tp / made if made else 0.0
    r = tp / labelled if labelled else 0.0
    t = f"{seconds:7.1f}s" if seconds is not None else "      -"
    return f"{label:34} {n:>7} {labelled:>9} {made:>9} {tp:>7} {p:>9.1%} {r:>7.1%} {t}"


def test_bench_discovery(demo_run, tmp_path):
    conf = tmp_path / "conf.yaml"
    conf.write_text(
        f"home: {demo_run.home}\ninputs:\n  catalog: {tmp_path / 'absent' / 'catalog.yaml'}\n",
        encoding="utf-8",
    )
    out = tmp_path / "draft.yaml"
    t0 = time.perf_counter()
    code = main(
        [
            "catalog",
            "discover",
            "--conf",
            str(conf),
            "--out",
            str(out),
            "--quiet",
            "--run-date",
            DEMO_DATE,
        ]
    )
    seconds = time.perf_counter() - t0
    assert code == 0
    truth_doc = yaml.safe_load((demo_run.home / "inputs" / "catalog.yaml").read_text("utf-8"))
    truth = {
        (a["name"], c["name"]): c.get("data_category")
        for a in truth_doc["assets"]
        for c in a.get("columns") or []
    }
    draft = yaml.safe_load(out.read_text(encoding="utf-8"))
    tables = {p.parent.name + "." + p.name for p in (demo_run.home / "company").glob("*/*")}
    named = [
        (truth[(a["name"], c["name"])], c.get("data_category"), c["name"])
        for a in draft["assets"]
        if a["name"] in tables
        for c in a.get("columns") or []
    ]
    demo = [(t, s) for t, s, _ in named]
    with LABELLED.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    public = [(r["category"] or None, suggest(r["column"]).category) for r in rows]
    head = f"{'truth':34} {'columns':>7} {'labelled':>9} {'suggested':>9} {'correct':>7} {'precision':>9} {'recall':>7} {'time':>8}"
    print()
    print(head)
    print(_line(f"demo warehouse ({len(tables)} tables)", _score(demo), seconds))
    print(_line(f"public column names ({len(rows)})", _score(public), None))
    for t, s, c in sorted({m for m in named if m[0] != m[1]}, key=str):
        print(f"  demo mismatch: {c}: catalog {t}, suggested {s}")
    n, tp, made, labelled = _score(demo)
    assert tp / made >= 0.9 and tp / labelled >= 0.9
