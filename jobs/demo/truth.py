"""The ground-truth manifest: true flows per signal, policy violations and every injected fault.

The manifest is written to ``<out>/ground_truth.json`` (outside ``inputs/``) with sorted keys, so two
runs with the same seed, date and scale produce identical bytes.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from jobs.demo.company import HOSTILE_TABLE, UNVERIFIABLE_TABLE
from jobs.demo.configs import POLICIES
from jobs.demo.deletions import HOSTILE_DETAIL
from jobs.demo.model import Company
from jobs.demo.sql import Flow, pipeline_flows

CONVENTIONS: dict[str, str] = {
    "names": "assets are 'schema.table' lower case, columns 'schema.table.column'",
    "direct": "each projected column: DIRECT edge from every column it reads; IDENTITY for a bare "
    "column (renamed or not), TRANSFORMATION for scalar functions, AGGREGATION for "
    "aggregates; masking=true for sha2/md5 and count",
    "indirect": "columns in JOIN ON, WHERE and GROUP BY: INDIRECT JOIN/FILTER/GROUP_BY edge to the "
    "target table (target has no column part), also when projected as well",
    "exclusions": "count(*) reads no column; a MERGE ON clause gives INDIRECT JOIN edges from "
    "both sides, the target's own key included (a self-edge)",
    "read_write": "split READ/WRITE lines share a job_id per statement run; a read and a write of "
    "the same job_id make a table-level flow",
    "openlineage": "only COMPLETE events count; the FAIL run in ignored_runs must add no flow",
    "retention": "a row's age is its created_at; cutoff is as_of 00:00 UTC minus retention_days of "
    "the column's category (most specific prefix); no row lies within 2 days of a "
    "cutoff, so end-of-day cutoffs give the same rows; days_over is rounded up "
    "from the as_of 00:00 cutoff (one more with an end-of-day cutoff)",
    "deletion_checks": "defaults: start_within 1h, idle_after 24h, progress_events 3, "
    "complete_within 30d, max_exceptions 5; every event is 2+ days before as_of",
    "subjects": "deletion requests carry subject_id = decimal customer id; the app user_id is "
    "the same id space as the CRM customer_id",
    "warehouse": "every catalog table (kind table) with an identifier column is a Delta table at "
    "<out>/company/<schema>/<table>, except the one listed in unverifiable_tables; "
    "views and dashboards hold no rows (dashboard fields may be identifiers)",
    "residual": "residual_rows lists, per completed deletion, every audited table still holding "
    "rows of its subject (identifier column, row count); no other subject of a "
    "completed deletion is left anywhere; subjects of pending deletions are untouched",
    "future": "deletions of scenario 'future' are scheduled_for after as_of (legitimately)",
    "downstream": "columns reachable over DIRECT column flows of every signal (sql, openlineage "
    "facets, probes); dashboards are the dash.* assets among them",
    "policy": "policy_violations: every catalog column of a covered category (tables, views, "
    "apis) to every column it reaches over DIRECT flows in a zone the policy does not "
    "allow, with a shortest path",
}


def sql_truth(company: Company) -> dict[str, Any]:
    """Column and table flows visible in the SQL of the query logs."""
    cols: dict[Flow, dict[str, set[str]]] = {}
    tables: dict[tuple[str, str], set[str]] = {}
    for p in company.pipelines:
        if p.signal != "sql":
            continue
        for f in pipeline_flows(p):
            info = cols.setdefault(f, {"pipelines": set(), "dialects": set()})
            info["pipelines"].add(p.name)
            info["dialects"].add(p.dialect)
        for st in p.statements:
            for s in st.sources:
                tables.setdefault((s, st.target), set()).add(p.name)
    return {
        "column_flows": [
            dict(f.as_dict(), pipelines=sorted(v["pipelines"]), dialects=sorted(v["dialects"]))
            for f, v in sorted(cols.items())
        ],
        "table_flows": [
            {"source": s, "target": t, "jobs": sorted(j)} for (s, t), j in sorted(tables.items())
        ],
    }


def read_write_truth(company: Company) -> list[dict[str, Any]]:
    """Table flows visible only through split READ/WRITE log lines."""
    flows: set[tuple[str, str, str]] = set()
    for p in company.pipelines:
        if p.signal == "read_write":
            for st in p.statements:
                flows.update((s, st.target, p.name) for s in st.sources)
    for d in company.dashboards:
        if d.signal == "read_write":
            flows.update((t, d.name, f"bi.refresh.{d.name.split('.', 1)[1]}") for t, _ in d.reads)
    return [{"source": s, "target": t, "job": j} for s, t, j in sorted(flows)]


def zone_of(company: Company, asset: str) -> str | None:
    """Zone of a table/column/dashboard/model name (None when unknown)."""
    parts = asset.split(".")
    for n in (2, 3):
        name = ".".join(parts[:n])
        if name in company.tables:
            return company.tables[name].zone
    if parts[0] == "dash":
        return "bi"
    if parts[0] == "ml":
        return "ml"
    if parts[0] == "api":
        return "source"
    return None


def policy_violations(
    company: Company, direct: list[dict[str, Any]], catalog_columns: dict[str, str | None]
) -> list[dict[str, Any]]:
    """Every (policy, source column, reached column) that leaves the policy's zones, with a
    shortest path over the DIRECT column flows of every signal."""
    adj: dict[str, list[str]] = {}
    for f in direct:
        adj.setdefault(f["source"], []).append(f["target"])
    out: list[dict[str, Any]] = []
    for pol in POLICIES:
        prefixes = pol["data_categories"]
        for col, cat in sorted(catalog_columns.items()):
            if not cat or not any(cat == p or cat.startswith(p + ".") for p in prefixes):
                continue
            prev: dict[str, str | None] = {col: None}
            queue = deque([col])
            while queue:
                node = queue.popleft()
                for nxt in sorted(adj.get(node, ())):
                    if nxt not in prev:
                        prev[nxt] = node
                        queue.append(nxt)
            for node in sorted(prev):
                zone = zone_of(company, node)
                if node == col or zone is None or zone in pol["allowed_zones"]:
                    continue
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])  # type: ignore[arg-type]
                out.append(
                    {
                        "policy": pol["name"],
                        "category": cat,
                        "source": col,
                        "target": node,
                        "target_zone": zone,
                        "path": path[::-1],
                    }
                )
    return out


def direct_closure(direct: list[dict[str, Any]], start: str) -> list[str]:
    """Every node reachable from ``start`` over DIRECT column flows (start excluded), sorted."""
    adj: dict[str, set[str]] = {}
    for f in direct:
        adj.setdefault(f["source"], set()).add(f["target"])
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in adj.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return sorted(seen - {start})


def exclusive_downstream(edges: list[tuple[str, str]], node: str) -> list[str]:
    """Nodes reachable from the graph's roots only through ``node`` (``node`` excluded).

    Roots are the nodes without inbound edges. This is what a review exclusion of ``node`` with
    cascade hides: everything that stays reachable along another path remains.
    """
    adj: dict[str, set[str]] = {}
    indeg: dict[str, int] = {}
    for s, t in edges:
        adj.setdefault(s, set()).add(t)
        indeg[t] = indeg.get(t, 0) + 1
        indeg.setdefault(s, 0)
    roots = [n for n, d in indeg.items() if d == 0]

    def reach(skip: str | None) -> set[str]:
        seen = {r for r in roots if r != skip}
        queue = deque(seen)
        while queue:
            for nxt in adj.get(queue.popleft(), ()):
                if nxt != skip and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen

    return sorted(reach(None) - reach(node) - {node})


def faults(files: list[dict[str, Any]], extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Every injected fault with the product output that should report it."""
    out: list[dict[str, Any]] = []
    for f in files:
        for b in f["bad"]:
            # an event after the run's window is held until its window comes, not rejected
            expect = "held_inputs" if b.get("reason") == "future_timestamp" else "rejected_inputs"
            out.append(dict(b, kind="malformed_line", input=f["kind"], expect=expect))
    for q in extra["unparseable_sql"]:
        out.append(dict(q, kind="unparseable_sql", expect="rejected_inputs"))
    out.append(
        {
            "kind": "hostile_table_name",
            "table": HOSTILE_TABLE,
            "expect": "lineage_edges; shown escaped in every HTML report",
        }
    )
    for d in extra["hostile_details"]:
        out.append(
            {
                "kind": "hostile_text",
                "where": "deletion_events.detail",
                "deletion_id": d,
                "text": HOSTILE_DETAIL,
                "expect": "deletion_anomalies detail; shown escaped in every HTML report",
            }
        )
    for where, deletion_id, text in extra["personal_text"]:
        out.append(
            {
                "kind": "personal_text",
                "where": where,
                "deletion_id": deletion_id,
                "text": text,
                "expect": "redacted at landing; in no table, log, report or export",
            }
        )
    out.append(
        {
            "kind": "unverifiable_table",
            "table": UNVERIFIABLE_TABLE,
            "expect": "residual_findings (unverifiable: in lineage, no Delta table)",
        }
    )
    for r in extra["ignored_runs"]:
        out.append(dict(r, kind="failed_openlineage_run", expect="no lineage_edges from it"))
    for a in extra["deletion_anomalies"]:
        out.append(dict(a, kind="deletion_anomaly", expect="deletion_anomalies"))
    for r in extra["residual_rows"]:
        out.append(dict(r, kind="residual_rows", expect="residual_findings"))
    for r in extra["retention_violations"]:
        out.append(dict(r, kind="retention_violation", expect="retention_violations"))
    for a in extra["annotation_findings"]:
        out.append(dict(a, kind="annotation", expect="annotation_findings"))
    for d in extra["dangling"]:
        out.append(
            {
                "kind": "dangling_edges",
                "edge_type": d["edge_type"],
                "count": d["count"],
                "expect": "annotation_findings",
            }
        )
    for v in extra["policy_violations"]:
        out.append(dict(v, kind="policy_violation", expect="policy_violations"))
    return out
