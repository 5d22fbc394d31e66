"""The artifacts of one dbt ``target/`` folder -> one record per node (pure, no I/O).

Written from dbt's documented artifact schemas (https://schemas.getdbt.com/): every artifact
starts with ``metadata.dbt_schema_version``, a URL ``.../dbt/<artifact>/v<N>.json``.

- ``manifest.json`` (v5 to v12, and v20 of the dbt Fusion engine, identical to v12): ``nodes``
  (models, seeds, snapshots, tests, analyses, operations) and ``sources``, keyed by
  ``unique_id``; each with ``resource_type``, ``database``, ``schema``, ``alias``/``identifier``,
  ``relation_name``, ``config.materialized``, ``columns.<name>`` (``data_type``, ``meta``,
  ``tags``, from dbt 1.10 also ``config.meta``/``config.tags``) and the compiled SQL
  (``compiled_code``; ``compiled_sql`` before v7, dbt 1.3); ``metadata.adapter_type`` names the
  warehouse (the SQL dialect) and ``metadata.generated_at`` the time.
- ``catalog.json`` (v1, ``dbt docs generate``): ``nodes``/``sources`` by ``unique_id``, each with
  ``columns.<NAME>`` (``name``, ``type``, ``index``): the warehouse's own column types.
- ``run_results.json`` (v4 to v6): ``results`` (``unique_id``, ``status``, ``timing`` with the
  ``compile``/``execute`` steps' ``started_at``/``completed_at``, ``message``).

Each record (:func:`node_records`) is one of ``{"dbt": "node", ...}`` (a relation with its SQL
and columns), ``{"dbt": "skip", ...}`` (a node that writes no relation: a test, an ephemeral
model) or ``{"dbt": "error", ...}`` (a manifest that cannot be read, a model without compiled SQL).
"""

from __future__ import annotations

import json
import re
from typing import Any

from audits.dbt.categories import column_categories, is_identifier, main_category

SCHEMA_URL = re.compile(
    r'"dbt_schema_version"\s*:\s*"https?://schemas\.getdbt\.com/dbt/([a-z_-]+)/v(\d+)\.json"'
)
"""The schema version URL every dbt artifact carries in ``metadata``."""
SUPPORTED: dict[str, frozenset[int]] = {
    "manifest": frozenset({*range(5, 13), 20}),
    "catalog": frozenset({1}),
    "run-results": frozenset({4, 5, 6}),
}
"""The artifact schema versions read (manifest v20 is dbt Fusion's, identical to v12)."""
ARTIFACT_FILES = {
    "manifest": "manifest.json",
    "catalog": "catalog.json",
    "run-results": "run_results.json",
}
WRITES = ("model", "snapshot", "seed")
"""Node types that write a relation."""
DIALECTS = {
    "postgres": "postgres",
    "redshift": "redshift",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "databricks": "databricks",
    "spark": "spark",
    "trino": "trino",
    "starburst": "trino",
    "athena": "athena",
    "duckdb": "duckdb",
    "sqlserver": "tsql",
    "synapse": "tsql",
    "fabric": "tsql",
    "oracle": "oracle",
    "clickhouse": "clickhouse",
    "teradata": "teradata",
    "mysql": "mysql",
    "sqlite": "sqlite",
}
"""dbt ``adapter_type`` -> SQL dialect of the lineage parser (others: the adapter name)."""
OK_STATUSES = ("success", "pass")
"""run_results statuses of a node whose SQL ran."""


def schema_version(text: str) -> tuple[str, int] | None:
    """(artifact, version) named by ``metadata.dbt_schema_version`` in ``text``, or None.

    Example: ``schema_version('{"metadata": {"dbt_schema_version":
    "https://schemas.getdbt.com/dbt/manifest/v12.json"}}')`` -> ``("manifest", 12)``.
    """
    m = SCHEMA_URL.search(text)
    return (m.group(1), int(m.group(2))) if m else None


def version_problem(artifact: str, version: int) -> str | None:
    """Why an artifact of this schema version is not read (None when it is)."""
    known = SUPPORTED.get(artifact)
    if known is None:
        return f"dbt artifact '{artifact}' (v{version}) is not one the product reads (manifest, catalog, run-results)"
    if version not in known:
        shown = ", ".join(f"v{v}" for v in sorted(known))
        return f"dbt {artifact} schema v{version} is not supported (supported: {shown})"
    return None


def _load(text: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        cut = not text.rstrip().endswith("}")
        hint = (
            f" (the file ends after {len(text)} characters, before the JSON does: truncated?)"
            if cut
            else ""
        )
        raise ValueError(
            f"{what} is not valid JSON: {exc.msg} at character {exc.pos}{hint}"
        ) from None
    if not isinstance(doc, dict):
        raise ValueError(f"{what} is a JSON {type(doc).__name__}, expected an object")
    return doc


def _name(*parts: Any) -> str | None:
    kept = [str(p).strip().strip('"`[]').lower() for p in parts if p not in (None, "")]
    return ".".join(kept) if kept else None


def relation(node: dict[str, Any]) -> str | None:
    """The node's relation as the product names tables: ``database.schema.alias`` lower case."""
    ident = node.get("alias") or node.get("identifier") or node.get("name")
    if not ident:
        return None
    return _name(node.get("database"), node.get("schema"), ident)


def _columns(node: dict[str, Any], catalog_node: dict[str, Any] | None) -> list[dict[str, Any]]:
    typed: dict[str, tuple[int, str, str | None]] = {}
    for key, col in ((catalog_node or {}).get("columns") or {}).items():
        if isinstance(col, dict):
            name = str(col.get("name") or key)
            typed[name.lower()] = (int(col.get("index") or 0), name, col.get("type"))
    out = []
    declared = node.get("columns") or {}
    for key, col in declared.items():
        if not isinstance(col, dict):
            continue
        name = str(col.get("name") or key).lower()
        config = col.get("config") if isinstance(col.get("config"), dict) else {}
        meta = {**(config.get("meta") or {}), **(col.get("meta") or {})}
        tags = [*(config.get("tags") or []), *(col.get("tags") or [])]
        cats = column_categories(meta, tags)
        found = typed.pop(name, None)
        out.append(
            {
                "name": name,
                "type": (found[2] if found else None) or col.get("data_type"),
                "categories": cats,
                "data_category": main_category(cats),
                "is_identifier": is_identifier(meta, tags, cats),
                "index": found[0] if found else None,
            }
        )
    for lname, (index, _unused, ctype) in sorted(typed.items(), key=lambda kv: kv[1][0]):
        out.append(
            {
                "name": lname,
                "type": ctype,
                "categories": [],
                "data_category": None,
                "is_identifier": False,
                "index": index,
            }
        )
    return out


def _run(result: dict[str, Any] | None) -> dict[str, Any] | None:
    if not result:
        return None
    times = {t.get("name"): t for t in result.get("timing") or [] if isinstance(t, dict)}
    step = times.get("execute") or times.get("compile") or {}
    return {
        "status": str(result.get("status") or "").lower() or None,
        "started_at": step.get("started_at"),
        "completed_at": step.get("completed_at"),
        "message": result.get("message"),
    }


def _skip_reason(node: dict[str, Any]) -> str | None:
    kind = node.get("resource_type")
    if kind not in WRITES:
        return f"a dbt {kind or 'node'}: it writes no relation"
    materialized = (node.get("config") or {}).get("materialized")
    if kind == "model" and materialized == "ephemeral":
        return "an ephemeral model: its SQL is inlined (as a CTE) in the models that use it"
    return None


def node_records(
    manifest: str, catalog: str | None = None, run_results: str | None = None
) -> list[dict[str, Any]]:
    """One record per node and source of the manifest (see the module docstring).

    The records are in the manifest's order (``nodes`` then ``sources``); a manifest that is not
    valid JSON, or of an unsupported schema version, gives one ``error`` record. A companion
    (catalog, run results) that cannot be read is named in the ``warning`` of every record and
    otherwise ignored: the manifest's lineage does not depend on it.
    """
    found = schema_version(manifest[:65536])
    if found is None or found[0] != "manifest":
        return [
            {
                "dbt": "error",
                "reason": "not a dbt manifest: no metadata.dbt_schema_version of a manifest",
            }
        ]
    problem = version_problem(*found)
    if problem:
        return [{"dbt": "error", "reason": problem}]
    try:
        doc = _load(manifest, "the dbt manifest")
    except ValueError as exc:
        return [{"dbt": "error", "reason": str(exc)}]
    warnings = []
    cat_doc: dict[str, Any] = {}
    runs: dict[str, dict[str, Any]] = {}
    for text, what in ((catalog, "catalog"), (run_results, "run-results")):
        if text is None:
            continue
        try:
            companion = _load(text, f"{ARTIFACT_FILES[what]} beside it")
            version = schema_version(text[:65536])
            bad = (
                version_problem(*version)
                if version
                else f"{ARTIFACT_FILES[what]} has no dbt_schema_version"
            )
            if bad:
                raise ValueError(f"{ARTIFACT_FILES[what]} beside it not read: {bad}")
        except ValueError as exc:
            warnings.append(str(exc))
            continue
        if what == "catalog":
            cat_doc = companion
        else:
            runs = {
                r["unique_id"]: r
                for r in companion.get("results") or []
                if isinstance(r, dict) and r.get("unique_id")
            }
    meta = doc.get("metadata") or {}
    adapter = str(meta.get("adapter_type") or "").lower() or None
    base = {
        "manifest_version": found[1],
        "dialect": DIALECTS.get(adapter or "", adapter),
        "generated_at": meta.get("generated_at"),
        "invocation_id": meta.get("invocation_id"),
        "warning": "; ".join(warnings) or None,
    }
    out = []
    for section in ("nodes", "sources"):
        for uid, node in (doc.get(section) or {}).items():
            if not isinstance(node, dict):
                out.append(
                    {
                        "dbt": "error",
                        "unique_id": uid,
                        "reason": f"{section}.{uid} is not an object",
                    }
                )
                continue
            uid = node.get("unique_id") or uid
            skip = None if section == "sources" else _skip_reason(node)
            if skip:
                out.append({"dbt": "skip", "unique_id": uid, "reason": skip})
                continue
            cat_node = (cat_doc.get(section) or {}).get(uid)
            sql = node.get("compiled_code") or node.get("compiled_sql")
            out.append(
                {
                    "dbt": "node",
                    **base,
                    "unique_id": uid,
                    "resource_type": "source"
                    if section == "sources"
                    else node.get("resource_type"),
                    "materialized": (node.get("config") or {}).get("materialized"),
                    "relation": relation(node),
                    "relation_name": node.get("relation_name"),
                    "schema": _name(node.get("schema")),
                    "sql": sql.strip().rstrip(";").strip() if isinstance(sql, str) else None,
                    "columns": _columns(node, cat_node),
                    "run": _run(runs.get(uid)),
                }
            )
    return out


def _companion(text: str, name: str) -> dict[str, Any]:
    """The record of a catalog or run-results file: counted when readable, else rejected."""
    found = schema_version(text[:65536])
    problem = version_problem(*found) if found else "no metadata.dbt_schema_version"
    if problem is None:
        try:
            _load(text, f"the dbt {found[0]}")
        except ValueError as exc:
            problem = str(exc)
    if problem:
        what = f"dbt {found[0]}" if found else "dbt artifact"
        return {"dbt": "error", "what": what, "reason": f"{name}: {problem}"}
    return {"dbt": "skip", "reason": f"dbt {found[0]}: read with the manifest beside it"}


def folder_records(texts: dict[str, str], emit: set[str]) -> list[tuple[str, int, str]]:
    """(file, record number, record JSON) of the artifacts of one folder that are in ``emit``.

    ``texts`` holds every artifact of the folder (file path -> content); the catalog and run
    results beside a manifest (``catalog.json``/``run_results.json`` by name first, else any
    file of that artifact) complete its node records. A manifest gives one record per node and
    source, numbered from 1 in the manifest's order; a catalog or run-results file one record: a
    counted skip when it can be read, else an error naming the problem; a companion without a
    manifest landed beside it is counted too (its types are used with the next manifest).
    """
    kinds: dict[str, str | None] = {}
    for path, text in texts.items():
        found = schema_version(text[:65536])
        kinds[path] = found[0] if found else None

    def pick(artifact: str) -> str | None:
        paths = sorted(p for p, k in kinds.items() if k == artifact)
        named = [p for p in paths if p.rsplit("/", 1)[-1] == ARTIFACT_FILES[artifact]]
        return (named or paths or [None])[0]

    catalog, results = pick("catalog"), pick("run-results")
    has_manifest = any(k == "manifest" and p in emit for p, k in kinds.items())
    out: list[tuple[str, int, str]] = []
    for path in sorted(emit):
        text = texts.get(path, "")
        name = path.rsplit("/", 1)[-1]
        if kinds.get(path) in ("catalog", "run-results"):
            rec = _companion(text, name)
            if rec["dbt"] == "skip" and not has_manifest:
                rec["reason"] += " (none landed tonight: used with the next manifest landed)"
            out.append((path, 1, json.dumps(rec, sort_keys=True)))
            continue
        recs = node_records(
            text,
            texts.get(catalog) if catalog else None,
            texts.get(results) if results else None,
        )
        out.extend((path, i, json.dumps(r, sort_keys=True)) for i, r in enumerate(recs, start=1))
    return out
