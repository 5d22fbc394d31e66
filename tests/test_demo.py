"""Tests of the demo company generator against its own ground truth.

The generator runs once per module at scale 1 (a few seconds); the determinism test runs it a
second time into another directory. Every check here re-derives the fact from the written files
(never from the generator's internals) and compares it with ``ground_truth.json``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml
from deltalake import DeltaTable
from sqlglot import exp

from jobs.config.catalog import check_zones, load_annotations, load_catalog, load_policies
from jobs.demo import INPUT_KINDS, generate_demo
from jobs.errors import ConfigError

AS_OF = date(2026, 11, 22)
MIDNIGHT = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, as_of=AS_OF, seed=7, scale=1)
    return out


@pytest.fixture(scope="module")
def truth(demo: Path) -> dict[str, Any]:
    return json.loads((demo / "ground_truth.json").read_text())


def read_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8").splitlines()


def records(demo: Path, kind: str) -> list[tuple[str, int, dict[str, Any]]]:
    """(file relative path, line number, record) of every line that parses as a JSON object."""
    out = []
    for path in sorted((demo / "inputs" / kind).iterdir()):
        rel = str(path.relative_to(demo))
        for i, line in enumerate(read_lines(path), start=1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.append((rel, i, rec))
    return out


def parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    return ts if ts.tzinfo else None


def digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------------- determinism & presence


def test_same_seed_gives_byte_identical_inputs(demo: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    summary = generate_demo(again, as_of=AS_OF, seed=7, scale=1)
    assert digest_tree(again / "inputs") == digest_tree(demo / "inputs")
    assert (again / "ground_truth.json").read_bytes() == (demo / "ground_truth.json").read_bytes()
    truth = json.loads((demo / "ground_truth.json").read_text())
    assert summary.tables == truth["warehouse_tables"]
    # the audited Delta tables too: data files and transaction logs
    assert digest_tree(again / "company") == digest_tree(demo / "company")
    table = DeltaTable(str(again / "company" / "crm" / "customers"))
    assert table.version() == 0
    assert table.history()[0]["timestamp"] == int((MIDNIGHT - timedelta(days=1)).timestamp() * 1000)
    assert table.to_pyarrow_table().num_rows == truth["warehouse_tables"]["crm.customers"]


def test_regenerating_into_the_same_directory_replaces_it(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "d"
    shutil.copytree(demo, out)
    (out / "inputs" / "query_logs" / "stray.jsonl").write_text("{}\n")
    (out / "company" / "crm" / "stray").mkdir()
    (out / "keep.txt").write_text("mine")
    generate_demo(out, as_of=AS_OF, seed=7, scale=1)
    assert not (out / "inputs" / "query_logs" / "stray.jsonl").exists()
    assert not (out / "company" / "crm" / "stray").exists()
    assert (out / "keep.txt").read_text() == "mine"
    assert digest_tree(out / "company") == digest_tree(demo / "company")
    assert DeltaTable(str(out / "company" / "crm" / "customers")).version() == 0


def test_bad_scale_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scale"):
        generate_demo(tmp_path, as_of=AS_OF, scale=0)


def test_every_input_kind_present_and_counted(demo: Path, truth: dict[str, Any]) -> None:
    assert truth["as_of"] == "2026-11-22"
    for kind in INPUT_KINDS:
        files = sorted((demo / "inputs" / kind).iterdir())
        assert files, kind
        lines = sum(len(read_lines(p)) for p in files) if kind != "training_configs" else len(files)
        assert lines > 0
        assert truth["counts"][kind]["lines"] == lines, kind
        assert truth["counts"][kind]["files"] == len(files), kind
        bad = [f for f in truth["faults"] if f["kind"] == "malformed_line" and f["input"] == kind]
        assert truth["counts"][kind]["bad_lines"] == len(bad) > 0, kind
    for name in ("catalog.yaml", "policies.yaml", "annotations.yaml"):
        assert (demo / "inputs" / name).stat().st_size > 0
    assert {p.suffix for p in (demo / "inputs" / "training_configs").iterdir()} == {
        ".json",
        ".yaml",
    }
    assert any(p.suffix == ".gz" for p in (demo / "inputs" / "query_logs").iterdir())


def test_company_size(demo: Path, truth: dict[str, Any]) -> None:
    """Counted in the generated catalog, and the truth file says the same."""
    kinds = Counter(a.kind for a in load_catalog(demo / "inputs" / "catalog.yaml").assets)
    assert 180 <= kinds["table"] + kinds["view"] <= 220
    assert kinds["pipeline"] >= 45 and kinds["dashboard"] == 30 and kinds["model"] == 2
    a = truth["assets"]
    # the company's hostile-named table (analytics.<script>...) is deliberately not catalogued
    assert (a["tables"], a["views"], a["dashboards"], a["models"]) == (
        kinds["table"] + 1,
        kinds["view"],
        kinds["dashboard"],
        kinds["model"],
    )


def test_no_timestamp_at_or_after_the_run_date(demo: Path) -> None:
    fields = {
        "query_logs": "started_at",
        "openlineage": "eventTime",
        "probe_samples": "ts",
        "deletion_events": "ts",
        "deletion_requests": "requested_at",
        "edge_inventory": "created_at",
    }
    for kind, field in fields.items():
        for _, _, rec in records(demo, kind):
            ts = parse_ts(rec.get(field))
            if ts is not None and kind != "deletion_events":
                assert ts < MIDNIGHT, (kind, rec)


# ------------------------------------------------------------------------- configs


def test_configs_load_with_the_loaders(demo: Path, truth: dict[str, Any]) -> None:
    cat = load_catalog(demo / "inputs" / "catalog.yaml")
    pol = load_policies(demo / "inputs" / "policies.yaml")
    ann = load_annotations(demo / "inputs" / "annotations.yaml")
    check_zones(cat, pol)
    assert cat.retention_for("user.contact.email") == 730
    kinds = {a.kind for a in cat.assets}
    assert {"table", "view", "dashboard", "pipeline", "model", "api"} <= kinds
    assert {"source", "staging", "analytics", "marketing", "ads", "ml", "finance"} <= set(pol.zones)
    assert set(ann.edges) == {k for k, v in truth["edge_deletion"]["declared"].items() if v}
    # the audited warehouse holds every catalog table with identifiers, except the unverifiable one
    missing = {u["table"] for u in truth["unverifiable_tables"]}
    for a in cat.assets:
        if a.kind == "table" and any(c.is_identifier for c in a.columns):
            schema, table = a.name.split(".", 1)
            present = (demo / "company" / schema / table / "_delta_log").is_dir()
            assert present == (a.name not in missing), a.name
    assert cat.asset("analytics.<script>alert(1)</script>") is None


# ------------------------------------------------------------------------- injected bad lines

_ENUMS = {
    "status": {"ok", "failed", None},
    "action": {"READ", "WRITE"},
    "eventType": {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"},
    "role": {"source", "sink"},
    "event": {"scheduled", "started", "progress", "rerun", "exception", "completed"},
}


def _classify(kind: str, line: str, known_deletions: set[str]) -> str | None:
    """An independent validator: the reason a line must be rejected, or None."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError:
        return "truncated_json"
    if kind == "query_logs":
        required = (
            ("job_id", "action", "table", "started_at")
            if "action" in rec
            else ("query_id", "engine", "started_at", "sql")
        )
        ts_field = "started_at"
    elif kind == "openlineage":
        required, ts_field = ("eventTime", "run", "job"), "eventTime"
    elif kind == "probe_samples":
        required, ts_field = ("request_id", "ts", "role", "asset", "value_hashes"), "ts"
    elif kind == "deletion_events":
        required, ts_field = ("deletion_id", "object_id", "event", "ts"), "ts"
    elif kind == "deletion_requests":
        required, ts_field = ("deletion_id", "subject_id", "requested_at"), "requested_at"
    else:
        required, ts_field = (
            ("edge_type", "src_id", "dst_id", "created_at", "deleted_src"),
            "created_at",
        )
    if any(k not in rec for k in required):
        return "missing_field"
    if parse_ts(rec[ts_field]) is None:
        return "bad_timestamp"
    for key, allowed in _ENUMS.items():
        if key in rec and rec[key] not in allowed:
            return "bad_enum"
    if kind == "deletion_requests" and not isinstance(rec.get("sla_days", 0), (int, type(None))):
        return "bad_type"
    if kind == "edge_inventory" and not isinstance(rec["deleted_src"], bool):
        return "bad_type"
    if kind == "deletion_events":
        if rec["deletion_id"] not in known_deletions:
            return "unknown_deletion_id"
        if parse_ts(rec["ts"]) >= MIDNIGHT:
            return "future_timestamp"
        if (rec.get("points_deleted") or 0) < 0:
            return "negative_points"
    return None


def valid_records(demo: Path, kind: str, known: set[str] | None = None) -> list[dict[str, Any]]:
    """The records of every line the independent validator accepts."""
    out = []
    for path in sorted((demo / "inputs" / kind).iterdir()):
        for line in read_lines(path):
            if _classify(kind, line, known or set()) is None:
                out.append(json.loads(line))
    return out


def test_bad_lines_are_exactly_the_injected_ones(demo: Path, truth: dict[str, Any]) -> None:
    known = {d["deletion_id"] for d in truth["deletions"]}
    expected: dict[tuple[str, int], str] = {
        (f["file"], f["line"]): f["reason"]
        for f in truth["faults"]
        if f["kind"] == "malformed_line" and f["line"] is not None
    }
    found: dict[tuple[str, int], str] = {}
    for kind in INPUT_KINDS:
        if kind == "training_configs":
            continue
        for path in sorted((demo / "inputs" / kind).iterdir()):
            rel = str(path.relative_to(demo))
            for i, line in enumerate(read_lines(path), start=1):
                reason = _classify(kind, line, known)
                if reason:
                    found[(rel, i)] = reason
    assert found == expected
    reasons = set(expected.values())
    assert {
        "truncated_json",
        "missing_field",
        "bad_timestamp",
        "bad_enum",
        "unknown_deletion_id",
        "future_timestamp",
        "negative_points",
    } <= reasons


def test_broken_training_config(demo: Path, truth: dict[str, Any]) -> None:
    broken = [f for f in truth["faults"] if f.get("input") == "training_configs"]
    assert len(broken) == 1
    cfg = json.loads((demo / broken[0]["file"]).read_text())
    assert "input_dataset" not in cfg
    for path in (demo / "inputs" / "training_configs").iterdir():
        if path.name != "broken_model.json":
            doc = yaml.safe_load(path.read_text())
            assert doc["input_dataset"].startswith("asset://") and doc["features"]


# ------------------------------------------------------------------------- SQL


def _template(sql: str) -> str:
    return re.sub(r"'\d{4}-\d{2}-\d{2}'", "'D'", re.sub(r"\b\d+\b", "0", sql))


def _sql_lines(demo: Path) -> list[dict[str, Any]]:
    return [rec for rec in valid_records(demo, "query_logs") if "sql" in rec]


def test_query_logs_parse_in_their_dialect_except_the_injected(
    demo: Path, truth: dict[str, Any]
) -> None:
    unparseable = {u["query_id"] for u in truth["faults"] if u["kind"] == "unparseable_sql"}
    assert len(unparseable) == truth["counts"]["query_logs"]["unparseable_sql"] >= 3
    ok: dict[tuple[str, str], bool] = {}
    engines = set()
    for rec in _sql_lines(demo):
        engines.add(rec["engine"])
        key = (rec["engine"], _template(rec["sql"]))
        if key not in ok or rec["query_id"] in unparseable:
            try:
                sqlglot.parse(rec["sql"], read=rec["engine"])
                ok[key] = True
            except sqlglot.errors.ParseError:
                ok[key] = False
        assert ok[key] == (rec["query_id"] not in unparseable), rec
        ok.pop(key) if rec["query_id"] in unparseable else None
    assert {"trino", "spark", "hive"} <= engines


def test_templates_repeat_nightly(demo: Path) -> None:
    per_template: dict[str, set[str]] = defaultdict(set)
    for rec in _sql_lines(demo):
        if rec["job_id"] and rec["job_id"].startswith("etl."):
            per_template[_template(rec["sql"])].add(rec["started_at"][:10])
    assert len(per_template) > 100
    assert min(len(days) for days in per_template.values()) == 14


def _tables(sql: str, dialect: str, default_schema: str | None) -> set[str]:
    out = set()
    for tree in sqlglot.parse(sql, read=dialect):
        if tree is None:
            continue
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for t in tree.find_all(exp.Table):
            if t.name in ctes and not t.db:
                continue
            out.add(f"{t.db or default_schema}.{t.name}".lower())
    return out


def test_sql_tables_match_the_true_table_flows(demo: Path, truth: dict[str, Any]) -> None:
    expected: dict[str, set[str]] = defaultdict(set)
    for f in truth["table_flows"]["sql"]:
        for job in f["jobs"]:
            expected[job] |= {f["source"], f["target"]}
    seen: dict[str, set[str]] = defaultdict(set)
    done = set()
    for rec in _sql_lines(demo):
        job = rec["job_id"]
        key = (rec["engine"], _template(rec["sql"]))
        if job in expected and key not in done:
            done.add(key)
            seen[job] |= _tables(rec["sql"], rec["engine"], rec["default_schema"])
    assert seen == expected
    assert "analytics.<script>alert(1)</script>" in seen["etl.country_report"]


def test_true_column_flows_name_catalog_columns(demo: Path, truth: dict[str, Any]) -> None:
    cat = load_catalog(demo / "inputs" / "catalog.yaml")
    flows = truth["sql"]["column_flows"]
    assert len(flows) > 400
    subtypes = {(f["type"], f["subtype"]) for f in flows}
    assert {
        ("DIRECT", "IDENTITY"),
        ("DIRECT", "TRANSFORMATION"),
        ("DIRECT", "AGGREGATION"),
        ("INDIRECT", "JOIN"),
        ("INDIRECT", "FILTER"),
        ("INDIRECT", "GROUP_BY"),
    } <= subtypes
    assert any(f["masking"] for f in flows)
    for f in flows:
        table, col = f["source"].rsplit(".", 1)
        assert cat.asset(table).column(col) is not None, f
        target = f["target"] if f["type"] == "INDIRECT" else f["target"].rsplit(".", 1)[0]
        if "<script>" not in target:
            asset = cat.asset(target)
            assert asset is not None, f
            if f["type"] == "DIRECT":
                assert asset.column(f["target"].rsplit(".", 1)[1]) is not None, f
    assert {
        "source": "analytics.customer_profile.email",
        "target": "ads.audience_segments.email_sha256",
        "type": "DIRECT",
        "subtype": "TRANSFORMATION",
        "masking": True,
        "pipelines": ["etl.ads_audience"],
        "dialects": ["spark"],
    } in flows


# ------------------------------------------------------------------------- other signals


def test_read_write_lines_join_into_the_true_table_flows(demo: Path, truth: dict[str, Any]) -> None:
    jobs: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"READ": set(), "WRITE": set()})
    for rec in valid_records(demo, "query_logs"):
        if "action" in rec:
            jobs[rec["job_id"]][rec["action"]].add(rec["table"])
    flows = {(s, t) for j in jobs.values() for s in j["READ"] for t in j["WRITE"]}
    assert flows == {(f["source"], f["target"]) for f in truth["table_flows"]["read_write"]}


def test_openlineage_runs(demo: Path, truth: dict[str, Any]) -> None:
    runs: dict[str, list[str]] = defaultdict(list)
    flows, col_flows = set(), set()
    for ev in valid_records(demo, "openlineage"):
        runs[ev["run"]["runId"]].append(ev["eventType"])
        assert ev["schemaURL"].startswith("https://openlineage.io/spec/2-0-")
        if ev["eventType"] != "COMPLETE":
            continue
        for o in ev["outputs"]:
            flows |= {(i["name"], o["name"]) for i in ev["inputs"]}
            facet = o["facets"].get("columnLineage")
            for field, spec in (facet or {}).get("fields", {}).items():
                for inp in spec["inputFields"]:
                    col_flows.add((f"{inp['name']}.{inp['field']}", f"{o['name']}.{field}"))
    assert all(kinds in (["START", "COMPLETE"], ["START", "FAIL"]) for kinds in runs.values())
    assert sum(k == ["START", "FAIL"] for k in runs.values()) == 1
    assert flows == {(f["source"], f["target"]) for f in truth["openlineage"]["table_flows"]}
    direct = {
        (f["source"], f["target"])
        for f in truth["openlineage"]["column_flows"]
        if f["type"] == "DIRECT"
    }
    assert col_flows == direct and direct
    ignored = truth["openlineage"]["ignored_runs"][0]
    assert (ignored["source"], ignored["target"]) not in flows


def test_probe_matches_recomputed_from_hashes(demo: Path, truth: dict[str, Any]) -> None:
    requests: dict[str, dict[str, list[tuple[str, set[str]]]]] = defaultdict(
        lambda: {"source": [], "sink": []}
    )
    for rec in valid_records(demo, "probe_samples"):
        requests[rec["request_id"]][rec["role"]].append(
            (f"{rec['asset']}.{rec['field']}", set(rec["value_hashes"]))
        )
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for req in requests.values():
        for src, sh in req["source"]:
            for snk, kh in req["sink"]:
                match = "EXACT" if kh == sh else "CONTAINS" if sh < kh else "NO_MATCH"
                counts[(src, snk, match)] += 1
    got = [
        {"source": s, "target": t, "match": m, "observations": c}
        for (s, t, m), c in sorted(counts.items())
    ]
    assert [g for g in got if g["match"] != "NO_MATCH"] == truth["probe_flows"]
    assert [g for g in got if g["match"] == "NO_MATCH"] == truth["probe_no_match_pairs"]
    assert {f["match"] for f in truth["probe_flows"]} == {"EXACT", "CONTAINS"}
    # the gated flow: declared statically (OpenLineage), never observed by the probes
    static = {(f["source"], f["target"]) for f in truth["openlineage"]["column_flows"]}
    observed = {(g["source"], g["target"]) for g in got if g["match"] != "NO_MATCH"}
    gated = {(f["source"], f["target"]) for f in truth["probe_not_observed"]}
    assert gated and gated <= static and not gated & observed
    assert {("api.signup.email", "app.users.email")} <= static & observed
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", h)
        for r in requests.values()
        for _, hs in r["source"]
        for h in hs
    )


def test_policy_violation_path(demo: Path, truth: dict[str, Any]) -> None:
    # the generated inputs make the path: its source is a religious-belief column of the catalog,
    # its end is in the ads zone, a policy forbids that, and a logged query writes each hop
    cat = load_catalog(demo / "inputs" / "catalog.yaml")
    pol = load_policies(demo / "inputs" / "policies.yaml")
    religion = cat.asset("crm.customers")
    assert religion is not None
    col = next(c for c in religion.columns if c.name == "religion")
    assert col.data_category == "user.demographic.religious_belief"
    ads = cat.asset("ads.audience_segments")
    assert ads is not None and ads.zone == "ads"
    assert any(p.name == "religion-never-in-ads" for p in pol.policies)
    hops = [
        ("staging.crm_customers", "crm.customers"),
        ("analytics.customer_profile", "staging.crm_customers"),
        ("ads.audience_segments", "analytics.customer_profile"),
    ]
    for target, source in hops:
        writers = [
            rec
            for rec in _sql_lines(demo)
            if target in rec["sql"].lower()
            and source in _tables(rec["sql"], rec["engine"], rec["default_schema"])
        ]
        assert writers, f"no logged query reads {source} into {target}"
    v = [x for x in truth["policy_violations"] if x["source"] == "crm.customers.religion"]
    assert v == [
        {
            "policy": "religion-never-in-ads",
            "category": "user.demographic.religious_belief",
            "source": "crm.customers.religion",
            "target": "ads.audience_segments.religious_affinity",
            "target_zone": "ads",
            "path": [
                "crm.customers.religion",
                "staging.crm_customers.religion",
                "analytics.customer_profile.religion",
                "ads.audience_segments.religious_affinity",
            ],
        }
    ]
    assert {x["target"] for x in truth["policy_violations"]} == {
        "ads.audience_segments.religious_affinity"
    }


# ------------------------------------------------------------------------- deletions


def _events(demo: Path) -> dict[str, list[dict[str, Any]]]:
    known = {r["deletion_id"] for r in valid_records(demo, "deletion_requests")}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in valid_records(demo, "deletion_events", known):
        out[rec["deletion_id"]].append(rec)
    return out


def test_injected_lifecycle_anomalies_are_in_the_events(demo: Path, truth: dict[str, Any]) -> None:
    events = _events(demo)
    checks: dict[str, set[str]] = defaultdict(set)
    for a in truth["deletion_anomalies"]:
        checks[a["deletion_id"]].add(a["check"])
    assert {c for cs in checks.values() for c in cs} == {
        "not_started_on_time",
        "idle",
        "no_progress",
        "not_completed",
        "exception_loop",
        "completed_without_start",
        "completed_late",
        "events_after_completion",
    }
    requests = {r["deletion_id"]: r for r in valid_records(demo, "deletion_requests")}
    for d in truth["deletions"]:
        evs = sorted(events[d["deletion_id"]], key=lambda e: e["ts"])
        kinds = [e["event"] for e in evs]
        ts = {k: parse_ts(next(e["ts"] for e in evs if e["event"] == k)) for k in set(kinds)}
        got = checks[d["deletion_id"]]
        assert ("completed" in kinds) == d["completed"], d
        if "started" in ts:
            sched = parse_ts(evs[0]["scheduled_for"])
            late = ts["started"] - sched > timedelta(hours=1)
            assert late == ("not_started_on_time" in got), d
        elif "scheduled" in ts and parse_ts(evs[0]["scheduled_for"]) < MIDNIGHT:
            assert "not_started_on_time" in got
        assert ("completed_without_start" in got) == (
            "completed" in kinds and "started" not in kinds
        )
        assert ("exception_loop" in got) == (kinds.count("exception") >= 5)
        if "completed" not in kinds and "started" in kinds:
            assert "idle" in got and MIDNIGHT - parse_ts(evs[-1]["ts"]) > timedelta(days=1)
        if "completed" in kinds:
            after = [
                e for e in evs if e["ts"] > next(x["ts"] for x in evs if x["event"] == "completed")
            ]
            assert bool(after) == ("events_after_completion" in got), d
            sla = requests[d["deletion_id"]]["sla_days"] or 30
            took = ts["completed"] - parse_ts(requests[d["deletion_id"]]["requested_at"])
            assert (took > timedelta(days=sla)) == ("completed_late" in got), d
        progress = [e["points_deleted"] or 0 for e in evs if e["event"] in ("progress", "rerun")]
        stuck = "completed" not in kinds and len(progress) >= 3 and sum(progress[-3:]) == 0
        assert stuck == ("no_progress" in got), d
        assert all(MIDNIGHT - parse_ts(e["ts"]) >= timedelta(days=2) for e in evs)


def _warehouse_ids(demo: Path, table: str) -> list[str]:
    """The subject ids a warehouse table holds, as text; a table holding only a hashed copy
    (``customer_id_sha256``) gives its hex digests (compare with :func:`_as_held`)."""
    schema, name = table.split(".", 1)
    t = DeltaTable(str(demo / "company" / schema / name)).to_pyarrow_table()
    col = next(c for c in ("user_id", "customer_id", "customer_id_sha256") if c in t.column_names)
    return [str(v) for v in t.column(col).to_pylist()]


def _as_held(demo: Path, table: str, subject: str) -> str:
    """How ``table`` holds ``subject``: the id, or sha256 of the id's text for a hashed copy."""
    schema, name = table.split(".", 1)
    names = DeltaTable(str(demo / "company" / schema / name)).schema().to_arrow().names
    if "customer_id" in names or "user_id" in names:
        return subject
    return hashlib.sha256(subject.encode()).hexdigest()


def test_residual_rows_in_the_warehouse(demo: Path, truth: dict[str, Any]) -> None:
    residual = {(r["subject_id"], r["table"]): r["rows"] for r in truth["residual_rows"]}
    assert residual and all(n >= 1 for n in residual.values())
    done = {d["deletion_id"]: d["completed_at"] for d in truth["deletions"]}
    completed_events = {
        d: next(e["ts"] for e in evs if e["event"] == "completed")
        for d, evs in _events(demo).items()
        if any(e["event"] == "completed" for e in evs)
    }
    for r in truth["residual_rows"]:
        assert r["deleted_at"] == done[r["deletion_id"]] == completed_events[r["deletion_id"]]
    completed = {d["subject_id"] for d in truth["deletions"] if d["completed"]}
    pending = {d["subject_id"] for d in truth["deletions"] if not d["completed"]}
    for table in truth["warehouse_tables"]:
        ids = _warehouse_ids(demo, table)
        for subject in completed:
            held = ids.count(_as_held(demo, table, subject))
            assert held == residual.get((subject, table), 0), (subject, table)
    hashed = [t for t in truth["warehouse_tables"] if _as_held(demo, t, "1") != "1"]
    assert hashed == ["ads.lookalike_seed"]
    customers = set(_warehouse_ids(demo, "crm.customers"))
    assert pending <= customers and not completed & customers
    assert {u["table"] for u in truth["unverifiable_tables"]} == {"archive.customers_snapshot"}


def test_retention_violations_recomputed_from_the_warehouse(
    demo: Path, truth: dict[str, Any]
) -> None:
    cat = load_catalog(demo / "inputs" / "catalog.yaml")
    got = []
    for table in sorted(truth["warehouse_tables"]):
        schema, name = table.split(".", 1)
        data = DeltaTable(str(demo / "company" / schema / name)).to_pyarrow_table()
        created = data.column("created_at").to_pylist()
        assert str(data.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
        for col in cat.asset(table).columns:
            days = cat.retention_for(col.data_category)
            if days is None:
                continue
            cutoff = MIDNIGHT - timedelta(days=days)
            over = [c for c in created if c < cutoff]
            # no row within two days of a cutoff: start/end of day cutoffs agree
            assert not [c for c in created if abs(c - cutoff) < timedelta(days=2)]
            if over:
                got.append((table, col.name, len(over)))
    expected = [(r["table"], r["column"], r["rows_over"]) for r in truth["retention_violations"]]
    assert sorted(got) == sorted(expected)
    tables = {t for t, _, _ in got}
    assert {"crm.customers", "app.sessions"} <= tables


def test_edge_inventory_and_annotations(demo: Path, truth: dict[str, Any]) -> None:
    dangling: dict[str, int] = defaultdict(int)
    types = set()
    for rec in valid_records(demo, "edge_inventory"):
        types.add(rec["edge_type"])
        dangling[rec["edge_type"]] += rec["deleted_src"]
    assert {d["edge_type"]: d["count"] for d in truth["dangling_edges"]} == {
        k: v for k, v in dangling.items() if v
    }
    ann = load_annotations(demo / "inputs" / "annotations.yaml")
    unannotated = types - set(ann.edges)
    assert unannotated == {"user_to_message"}
    true = truth["edge_deletion"]["true"]
    wrong = {t for t, e in ann.edges.items() if e.deletion != true[t]}
    assert wrong == {"user_to_photo", "comment_to_post"}
    findings = {
        (f["check"], f.get("edge_type") or f.get("object_type"))
        for f in truth["annotation_findings"]
    }
    assert findings == {
        ("unannotated_edge_type", "user_to_message"),
        ("unreachable_object_type", "photo"),
        ("unreachable_object_type", "message"),
        ("annotation_disagreement", "user_to_photo"),
        ("annotation_disagreement", "comment_to_post"),
    }


def test_deletion_requests_carry_raw_subject_ids(demo: Path, truth: dict[str, Any]) -> None:
    subjects = {d["deletion_id"]: d["subject_id"] for d in truth["deletions"]}
    reqs = valid_records(demo, "deletion_requests")
    assert {r["deletion_id"]: r["subject_id"] for r in reqs} == subjects
    # events never carry the subject id itself
    ids = set(subjects.values())
    assert not any(e["object_id"] in ids for evs in _events(demo).values() for e in evs)


def test_hostile_strings_are_present_where_the_truth_says(
    demo: Path, truth: dict[str, Any]
) -> None:
    hostile = [f for f in truth["faults"] if f["kind"] in ("hostile_table_name", "hostile_text")]
    assert {f["kind"] for f in hostile} == {"hostile_table_name", "hostile_text"}
    table = next(f["table"] for f in hostile if f["kind"] == "hostile_table_name")
    assert "<script>" in table
    sql_tables = set()
    for rec in _sql_lines(demo):
        if rec["job_id"] == "etl.country_report":
            sql_tables |= _tables(rec["sql"], rec["engine"], rec["default_schema"])
    assert table in sql_tables
    events = _events(demo)
    for f in hostile:
        if f["kind"] == "hostile_text":
            assert f["text"] in {e["detail"] for e in events[f["deletion_id"]]}
            assert "<script>" in f["text"]


def test_review_cascade_truth_matches_an_independent_graph(truth: dict[str, Any]) -> None:
    nx = pytest.importorskip("networkx")
    g = nx.DiGraph()
    g.add_edges_from(
        (f["source"], f["target"]) for flows in truth["table_flows"].values() for f in flows
    )
    roots = [n for n in g if g.in_degree(n) == 0]
    assert "api.signup" in roots and "crm.customers" not in roots
    for node, hidden in truth["review_cascade"]["hidden"].items():
        without = g.copy()
        without.remove_node(node)
        still = set().union(*(nx.descendants(without, r) | {r} for r in roots if r != node))
        assert sorted(nx.descendants(g, node) - still) == hidden, node
    assert truth["review_cascade"]["hidden"]["analytics.customer_profile"] == [
        "ads.audience_segments",
        "ads.lookalike_seed",
    ]


def test_identity_lineage_reaches_exactly_the_audited_copies(
    demo: Path, truth: dict[str, Any]
) -> None:
    """Every downstream table holding identifier copies (IDENTITY chains from a source
    identifier) or a hashed copy (a catalog ``hash:`` column) is in the audited warehouse or listed
    as unverifiable, and vice versa."""
    cat = load_catalog(demo / "inputs" / "catalog.yaml")
    identity: dict[str, set[str]] = defaultdict(set)
    for f in truth["sql"]["column_flows"] + truth["openlineage"]["column_flows"]:
        if f["type"] == "DIRECT" and f["subtype"] == "IDENTITY":
            identity[f["source"]].add(f["target"])
    sources = [
        f"{a}.{c}"
        for a, c in cat.identifier_columns()
        if cat.asset(a).zone == "source" and cat.asset(a).kind == "table"
    ]
    reached, todo = set(sources), list(sources)
    while todo:
        for nxt in identity.get(todo.pop(), ()):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    tables = {n.rsplit(".", 1)[0] for n in reached if not n.startswith("dash.")}
    hashed = {a.name for a in cat.assets if any(c.hash for c in a.columns)}
    assert hashed == {"ads.lookalike_seed"} and not hashed & tables
    audited = set(truth["warehouse_tables"]) | {u["table"] for u in truth["unverifiable_tables"]}
    assert tables | hashed == audited
