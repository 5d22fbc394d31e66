"""Answers without Spark: ``compliance datamap --column/--category`` and ``compliance lineage``.

These commands only read the product's own small result tables (``lineage_edges``,
``lineage_closure``, ``columns``, ``assets``, ``review_decisions``). When the warehouse is readable
by delta-rs (a local folder or an object store delta-rs opens itself) and the tables exist, they are
read here with ``deltalake`` (its DataFusion ``QueryBuilder``, the filters pushed down to the
Parquet scan) and time travel through the Delta log; the answer is computed by
:mod:`lineage.graph.answers` and is the same, row for row and byte for byte, as the Spark path's
(``jobs.steps.report_datamap``, ``jobs.commands.explore``). No module
of this path imports pyspark, so no JVM starts.

Anything else raises :class:`Fallback` and the CLI answers with Spark as before: an HTML data map
or a ``--subject-key`` map (they scan audited tables or draw the graph), a warehouse on a
filesystem only Spark reads (``hdfs://``, ``dbfs:/``...), a table delta-rs cannot read as plain
Parquet (deletion vectors, column mapping), a missing table, a first run that still has to create
the demo company, or ``COMPLIANCE_ANSWERS=spark`` in the environment.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jobs.errors import UsageError
from lineage.graph.columns import CLOSURE_FLOW_COLUMNS

# lineage.graph.answers (numpy) and reports (jinja2) are imported where an answer is computed, so that
# the usage checks answer before anything heavy loads.

#: Set to ``spark`` to always answer with Spark (comparisons, benchmarks, a suspected difference).
FORCE_ENV = "COMPLIANCE_ANSWERS"
#: URL schemes delta-rs opens by itself (no scheme: a local path).
READABLE_SCHEMES = {"", "file", "s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "azure"}
#: Reader features whose rows are not the rows of the Parquet files.
_UNSAFE_FEATURES = {"deletionVectors", "columnMapping"}
PERSONAL_PREFIX = "user"
MAX_REACH = 5000


class Fallback(Exception):
    """This question needs Spark; the message says why."""


def flow_text(rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str) -> str:
    """The data map rows as JSON or CSV text (the output of ``compliance datamap``)."""
    from reports.exports import csv_cell, json_default

    if fmt == "json":
        payload = [{c: r.get(c) for c in columns} for r in rows]
        text = json.dumps(
            payload, default=json_default, sort_keys=True, indent=1, ensure_ascii=False
        )
        return text + "\n"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([csv_cell(r.get(c)) for c in columns])
    return buf.getvalue()


class DeltaReader:
    """Reads the product's Delta tables with delta-rs (same layout as ``TableStore.path``)."""

    def __init__(self, root: str, storage_options: dict[str, str] | None = None) -> None:
        scheme = urlparse(root).scheme.lower()
        if len(scheme) == 1:  # a Windows drive letter
            scheme = ""
        if scheme not in READABLE_SCHEMES:
            raise Fallback(f"the warehouse {root} is on {scheme}://, which only Spark reads")
        import deltalake

        self._dl = deltalake
        self.root = root.rstrip("/")
        self.opts = storage_options or None

    def path(self, name: str) -> str:
        """The folder of table ``name``."""
        return f"{self.root}/{name.replace('.', '/')}"

    def exists(self, name: str) -> bool:
        """Whether ``name`` is a Delta table."""
        return bool(self._dl.DeltaTable.is_deltatable(self.path(name), storage_options=self.opts))

    def table(self, name: str, *, as_of: datetime | None = None) -> Any:
        """The ``DeltaTable`` (at the latest version committed at or before ``as_of``), or None
        when the table does not exist.

        Raises:
            Fallback: a table delta-rs cannot read as plain Parquet, or cannot open.
            UsageError: ``as_of`` is before the table's first version.
        """
        if not self.exists(name):
            return None
        path = self.path(name)
        try:
            dt = self._dl.DeltaTable(path, storage_options=self.opts)
            if as_of is not None:
                dt.load_as_version(self._version_as_of(dt, path, as_of))
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - deltalake raises several unrelated types
            raise Fallback(f"delta-rs cannot open {path}: {exc}") from None
        proto = dt.protocol()
        features = set(proto.reader_features or [])
        mode = dt.metadata().configuration.get("delta.columnMapping.mode", "none")
        if features & _UNSAFE_FEATURES or mode not in (None, "none"):
            raise Fallback(f"table {name} uses {', '.join(sorted(features)) or 'column mapping'}")
        return dt

    @staticmethod
    def _version_as_of(dt: Any, path: str, as_of: datetime) -> int:
        """The latest version committed at or before ``as_of`` (naive = UTC), as the delta-rs
        engine of :class:`jobs.store.tables.TableStore` picks it."""
        limit_ms = int(
            (as_of if as_of.tzinfo else as_of.replace(tzinfo=timezone.utc)).timestamp() * 1000
        )
        versions = [
            int(h["version"]) for h in dt.history() if int(h.get("timestamp", 0)) <= limit_ms
        ]
        if not versions:
            raise UsageError(
                f"table at {path} has no version as of {as_of.isoformat()} (it did not exist yet)"
            )
        return max(versions)

    def rows(
        self,
        name: str,
        columns: list[str],
        where: list[tuple[str, Any]] | None = None,
        *,
        as_of: datetime | None = None,
        optional: tuple[str, ...] = (),
    ) -> list[dict[str, Any]] | None:
        """The ``columns`` (and those of ``optional`` the table has) of the rows where every
        ``(column, value)`` of ``where`` holds (a list or set value: one of them), or None when the
        table does not exist.

        The scan runs in delta-rs (DataFusion) with the filter pushed down to the Parquet files and
        their partition values; the result comes back through the Arrow C stream interface, so
        neither pyarrow's dataset layer nor pandas is loaded.
        """
        dt = self.table(name, as_of=as_of)
        if dt is None:
            return None
        have = {f.name for f in dt.schema().fields}
        missing = [c for c in columns if c not in have]
        if missing:
            raise Fallback(f"table {name} has no column {', '.join(missing)}")
        cols = columns + [c for c in optional if c in have and c not in columns]
        sql = f"SELECT {', '.join(_ident(c) for c in cols)} FROM t"
        conds = [_condition(c, v) for c, v in where or []]
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        try:
            import pyarrow as pa

            result = self._dl.QueryBuilder().register("t", dt).execute(sql).read_all()
            return pa.RecordBatchReader.from_stream(result).read_all().to_pylist()
        except Exception as exc:  # noqa: BLE001 - e.g. a data file removed by VACUUM
            raise Fallback(f"delta-rs cannot read {name}: {exc}") from None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool) or value is None:
        raise TypeError(f"unsupported filter value {value!r}")
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition(column: str, value: Any) -> str:
    """SQL for ``column = value`` or, for a list/set/tuple, ``column IN (...)`` (empty: false)."""
    if isinstance(value, list | set | tuple):
        if not value:
            return "FALSE"
        return f"{_ident(column)} IN ({', '.join(_literal(v) for v in sorted(value))})"
    return f"{_ident(column)} = {_literal(value)}"


def _setup(args: Any) -> tuple[Any, DeltaReader, date]:
    """Config, a reader of the warehouse and the run date; Fallback when Spark must answer."""
    if os.environ.get(FORCE_ENV, "").strip().lower() == "spark":
        raise Fallback(f"{FORCE_ENV}=spark")
    from jobs.config.settings import load_config

    cfg = load_config(args.conf)
    if args.conf is None and not Path(cfg.inputs.catalog).exists():
        raise Fallback("no inputs yet: the demo company is created first")
    from jobs.store import object_store

    opts = cfg.storage.storage_options
    if object_store.is_object_store(cfg.warehouse):  # the same resolved store Spark would use
        opts = object_store.resolve(opts).delta_rs_options()
    reader = DeltaReader(cfg.warehouse, opts)
    run_date = args.run_date or datetime.now(timezone.utc).date()
    return cfg, reader, run_date


# -- compliance lineage up|down ---------------------------------------------------------------------

_EDGE_COLUMNS = [
    "source_asset",
    "source_column",
    "target_asset",
    "target_column",
    "transformation_type",
    "confidence",
]


def lineage(args: Any) -> str:
    """``compliance lineage up|down NODE [--depth N] [--as-of D]`` without Spark.

    Raises:
        Fallback: Spark must answer.
        UsageError: no lineage yet, no lineage as of the date, a node the lineage does not know.
    """
    if args.depth is not None and args.depth < 0:
        raise UsageError(f"--depth must be 0 or more, got {args.depth}")
    from lineage.graph import answers as la

    _, reader, _ = _setup(args)
    as_of: date | None = args.as_of
    when = datetime.combine(as_of + timedelta(days=1), time()) if as_of else None
    if not reader.exists("lineage_edges"):
        raise UsageError("no lineage yet: run `compliance nightly` (or `compliance ingest`) first")
    try:
        edges = reader.rows("lineage_edges", _EDGE_COLUMNS, as_of=when)
    except UsageError as exc:
        raise UsageError(f"no lineage as of {as_of}: {exc}") from None
    graph = la.graph_edges(edges or [])
    decisions = reader.rows(
        "review_decisions", ["node", "decision", "cascade", "decided_at"], optional=()
    )
    if decisions:
        graph = la.reviewed(graph, decisions)
    node = args.node.lower()
    if not la.known(graph, node):
        assets = reader.rows("assets", ["asset_id"]) or []
        names = [str(a["asset_id"]) for a in assets if a["asset_id"] is not None]
        near = difflib.get_close_matches(node, names, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise UsageError(f"{node!r} does not appear in the lineage{hint}")
    rows = la.neighbours(graph, node, args.direction, depth=args.depth)
    return la.lineage_text(args.direction, node, rows, as_of)


# -- compliance datamap --column / --category -------------------------------------------------------

_COLUMN_FIELDS = ["asset_id", "column", "data_category", "is_identifier", "classification"]


def check_datamap_args(args: Any) -> None:
    """The usage errors of ``compliance datamap`` that need no table (before any engine)."""
    if args.subject_key is not None:
        from reports.subject_access import key_problem

        why = key_problem(args.subject_key)
        if why:
            raise UsageError(why)
    if args.column:
        table, _, col = args.column.strip().lower().rpartition(".")
        if not table or not col:
            raise UsageError(
                f"--column expects TABLE.COLUMN (e.g. crm.customers.email), got {args.column!r}"
            )


def _suggest(word: str, choices: list[str]) -> str:
    """``jobs.steps.report_datamap._suggest``."""
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.5)
    if not close:
        tail = word.rpartition(".")[2]
        close = sorted(c for c in choices if c.rpartition(".")[2] == tail)[:3]
    if close:
        return f"; did you mean {', '.join(close)}?"
    return "; see `compliance tables` for what exists"


def _personal(category: Any) -> bool:
    return category is not None and (
        category == PERSONAL_PREFIX or str(category).startswith(PERSONAL_PREFIX + ".")
    )


def datamap(args: Any) -> Path | str:
    """``compliance datamap --column T.C | --category CAT [--format json|csv] [--out F]``.

    Returns:
        The text (without ``--out``), else the file written.

    Raises:
        Fallback: Spark must answer (``--subject-key``, ``--format html``, ...).
        UsageError: an unknown column or category, with close matches.
    """
    from reports import datamap as dm_view
    from reports.model import DataMap

    check_datamap_args(args)
    if args.subject_key:
        raise Fallback("--subject-key scans the audited tables")
    if args.format not in ("json", "csv"):
        raise Fallback(f"--format {args.format} draws the data map")
    cfg, reader, run_date = _setup(args)
    if not reader.exists("columns") or not reader.exists("assets"):
        raise UsageError(
            "no catalog tables yet: run `compliance nightly` (or `compliance ingest`) first"
        )
    if args.column:
        table, _, col = args.column.strip().lower().rpartition(".")
        where = [("asset_id", table), ("column", col)]
        sources = reader.rows("columns", _COLUMN_FIELDS, where) or []
        if not sources:
            names = reader.rows("columns", ["asset_id", "column"]) or []
            known = sorted(
                {
                    ".".join(str(v) for v in (n["asset_id"], n["column"]) if v is not None)
                    for n in names
                }
            )
            raise UsageError(
                f"unknown column {args.column!r}" + _suggest(args.column.lower(), known)
            )
    else:
        cat = args.category.strip().lower().rstrip(".")
        cats = reader.rows("columns", ["data_category"]) or []
        known_cats = {str(c["data_category"]) for c in cats if c["data_category"]}
        wanted = {k for k in known_cats if _personal(k) and (k == cat or k.startswith(cat + "."))}
        sources = []
        if wanted:
            where = [("data_category", wanted)]
            sources = reader.rows("columns", _COLUMN_FIELDS, where) or []
        if not sources:
            prefixes = sorted(
                {".".join(k.split(".")[:i]) for k in known_cats for i in range(1, k.count(".") + 2)}
            )
            raise UsageError(f"unknown data category {args.category!r}" + _suggest(cat, prefixes))
    asset_ids = sorted({str(s["asset_id"]) for s in sources})
    assets = {
        a["asset_id"]: a
        for a in reader.rows(
            "assets", ["asset_id", "zone", "owner", "kind"], [("asset_id", asset_ids)]
        )
        or []
    }
    pcols = []
    for s in sources:
        a = assets.get(s["asset_id"], {})
        pcols.append(
            {
                "asset_id": s["asset_id"],
                "name": s["asset_id"] if a else None,
                "column": s["column"],
                "data_category": s["data_category"],
                "is_identifier": s["is_identifier"],
                "classification": s["classification"],
                "zone": a.get("zone"),
                "owner": a.get("owner"),
                "kind": a.get("kind"),
            }
        )
    pcols.sort(key=lambda c: (str(c["data_category"]), str(c["asset_id"]), str(c["column"])))
    pcols = pcols[:MAX_REACH]
    flows = _reach(reader, sources, run_date)
    targets = sorted({str(f["target_asset"]) for f in flows} - set(asset_ids))
    if targets:
        more = reader.rows("assets", ["asset_id", "zone", "owner", "kind"], [("asset_id", targets)])
        assets.update({a["asset_id"]: a for a in more or []})
    names = {str(c["asset_id"]) for c in pcols} | {str(f["target_asset"]) for f in flows}
    asset_rows = [
        {"asset_id": n, "name": n, "kind": a["kind"], "owner": a["owner"], "zone": a["zone"]}
        for n in sorted(names)
        if (a := assets.get(n)) is not None
    ]
    from jobs.config.catalog import load_catalog

    dm = DataMap(
        personal_columns=tuple(pcols),
        reach=tuple(flows),
        assets=tuple(asset_rows),
        retention_days=load_catalog(cfg.inputs.catalog).retention_days,
        run_date=run_date,
    )
    text = flow_text(dm_view.flows(dm), dm_view.FLOW_COLUMNS, args.format)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        return out
    return text


def _latest_run_date(reader: DeltaReader, run_date: date) -> date | None:
    """``jobs.steps.report_datamap.latest_run_date`` of ``lineage_closure``."""
    days = [r["run_date"] for r in reader.rows("lineage_closure", ["run_date"]) or []]
    days = [d for d in days if d is not None]
    if not days:
        return None
    before = [d for d in days if d <= run_date]
    return max(before) if before else max(days)


def _reach(
    reader: DeltaReader, sources: list[dict[str, Any]], run_date: date
) -> list[dict[str, Any]]:
    from lineage.graph import answers as la

    day = _latest_run_date(reader, run_date)
    if day is None:
        return []
    where = [
        ("run_date", day),
        ("level", "column"),
        ("source_asset", {str(s["asset_id"]) for s in sources}),
    ]
    closure = (
        reader.rows(
            "lineage_closure",
            list(CLOSURE_FLOW_COLUMNS),
            where,
            optional=("masked_on_path",),
        )
        or []
    )
    wanted = {(s["asset_id"], s["column"]) for s in sources}
    closure = [r for r in closure if (r["source_asset"], r["source_column"]) in wanted]
    hops = None
    if reader.exists("lineage_edges"):
        cols = _EDGE_COLUMNS + ["transformation_subtype", "masking"]
        edge_where = None
        if closure and all("masked_on_path" in r for r in closure):
            # only the last hops are looked up: the edges into the reached assets
            edge_where = [("target_asset", {r["target_asset"] for r in closure})]
        hops = la.last_hops(reader.rows("lineage_edges", cols, edge_where) or [])
    return la.reach_rows(closure, sources, hops, limit=MAX_REACH)
