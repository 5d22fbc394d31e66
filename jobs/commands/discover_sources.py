"""Where ``compliance catalog discover`` finds tables and their schemas.

* **The audited warehouse** (``audited_warehouse``): a folder holding ``_delta_log`` is a Delta
  table; a folder of ``*.parquet`` files (partition folders ``k=v`` allowed) or a single
  ``*.parquet`` file is a Parquet table. The dotted name is the path under the root
  (``<root>/crm/customers`` is ``crm.customers``), at most three levels deep, as
  :mod:`jobs.config.catalog` names assets.
* **The Spark catalog / Hive metastore**: the tables of every database of the session catalog,
  when asked (``--spark-catalog``) or when ``spark.sql.catalogImplementation`` is ``hive``.
* **Schemas learned from the query logs**: the product's ``schema_events`` (columns added,
  renamed, dropped by DDL) and the names and types of its ``columns`` table (never their data
  categories). A table known only from there is listed as not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

DEPTH = 3


@dataclass(frozen=True)
class Located:
    """A table found in storage: its dotted name, its path and its format (delta|parquet)."""

    name: str
    path: str
    format: str


def local_root(uri: str) -> Path | None:
    """The local folder of a warehouse root, or None when it is a remote URI."""
    scheme = urlparse(uri).scheme.lower()
    if scheme == "file":
        return Path(urlparse(uri).path)
    if len(scheme) > 1:
        return None
    return Path(uri)


def _has_parquet(folder: Path) -> bool:
    for p in folder.iterdir():
        if p.is_file() and p.suffix == ".parquet":
            return True
        if p.is_dir() and "=" in p.name and _has_parquet(p):
            return True
    return False


def find_local(root: Path, depth: int = DEPTH) -> list[Located]:
    """The Delta and Parquet tables under ``root``, sorted by name."""
    found: list[Located] = []

    def walk(folder: Path, rel: tuple[str, ...]) -> None:
        entries = sorted(folder.iterdir())
        if rel and (folder / "_delta_log").is_dir():
            found.append(Located(".".join(rel), str(folder), "delta"))
            return
        if rel and _has_parquet(folder):
            found.append(Located(".".join(rel), str(folder), "parquet"))
            return
        if len(rel) >= depth:
            return
        for p in entries:
            if p.name.startswith(("_", ".", "part-")):
                continue
            if p.is_dir():
                walk(p, (*rel, p.name.lower()))
            elif p.suffix == ".parquet" and rel:
                found.append(Located(".".join((*rel, p.stem.lower())), str(p), "parquet"))

    if root.is_dir():
        walk(root, ())
    return sorted(found, key=lambda t: t.name)


def spark_catalog_tables(spark: Any, *, temporary: bool = False) -> list[tuple[str, str]]:
    """``(dotted name, kind)`` of the tables of the session catalog (``table`` or ``view``);
    temporary views only with ``temporary``."""
    out: list[tuple[str, str]] = []
    for db in spark.catalog.listDatabases():
        for t in spark.catalog.listTables(db.name):
            if t.isTemporary and not temporary:
                continue
            kind = "view" if (t.tableType or "").upper() == "VIEW" else "table"
            name = t.name.lower() if t.isTemporary else f"{db.name}.{t.name}".lower()
            out.append((name, kind))
    if temporary:
        for t in spark.catalog.listTables():
            if t.isTemporary and (t.name.lower(), "view") not in out:
                out.append((t.name.lower(), "view"))
    return sorted(set(out))


def _rows(store: Any, name: str, fields: list[str]) -> list[dict[str, Any]]:
    if not store.exists(name):
        return []
    df = store.read(name)
    if not set(fields) <= set(df.columns):
        return []
    return [r.asDict() for r in df.select(*fields).collect()]  # a product table: small


def learned_schemas(store: Any) -> dict[str, list[tuple[str, str]]]:
    """Columns per table learned by the product: its ``columns`` table (names and types) and
    its ``schema_events`` (DDL seen in the query logs, in the order seen)."""
    out: dict[str, dict[str, str]] = {}
    for r in _rows(store, "columns", ["asset_id", "column", "data_type"]):
        if r["asset_id"] and r["column"]:
            out.setdefault(r["asset_id"].lower(), {})[r["column"]] = r["data_type"] or "string"
    events = _rows(store, "schema_events", ["asset", "event", "column", "detail", "first_seen"])
    events.sort(key=lambda r: (str(r["first_seen"]), r["asset"] or "", r["column"] or ""))
    for r in events:
        asset, col = (r["asset"] or "").lower(), r["column"]
        if not asset or not col:
            continue
        cols = out.setdefault(asset, {})
        if r["event"] == "add_column":
            cols[col] = r["detail"] or "string"
        elif r["event"] == "drop_column":
            cols.pop(col, None)
        elif r["event"] == "rename_column" and r["detail"]:
            cols[r["detail"]] = cols.pop(col, "string")
    return {a: list(c.items()) for a, c in out.items() if c}


def asset_kinds(store: Any) -> dict[str, str]:
    """The kind of every asset the product knows (``assets`` table)."""
    return {
        r["asset_id"]: r["kind"] or "table"
        for r in _rows(store, "assets", ["asset_id", "kind"])
        if r["asset_id"]
    }
