"""``compliance catalog discover``: a draft catalog from the audited warehouse, for review.

Finds the tables (:mod:`jobs.commands.discover_sources`), reads each schema, samples at most
``--sample-rows`` rows per table with the value detectors running on the executors
(:mod:`audits.discovery.sampling`: only counts come back), suggests a data category per column
(:mod:`audits.discovery.suggest`) and writes the draft (:mod:`audits.discovery.draft`) next to
the catalog, never over it. A table that cannot be read is in the draft as not read, with the
reason; an unknown ``--table`` is a usage error before Spark starts.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from audits.discovery.draft import DraftSummary, FoundTable, build_draft
from jobs.commands.discover_sources import (
    Located,
    asset_kinds,
    find_local,
    learned_schemas,
    local_root,
    spark_catalog_tables,
)
from jobs.errors import ConfigError, UsageError

DEFAULT_ROWS = 1000
HEADER = (
    "# Draft catalog written by `compliance catalog discover`: review it, then copy it over the\n"
    "# catalog. Suggested entries carry `discovery: {confidence, evidence, reviewed: false}`;\n"
    "# set `reviewed: true` on a column (or an asset) you have checked: the next discovery keeps\n"
    "# it as it is. Entries of the current catalog are kept as they are.\n"
)


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``catalog`` command group and its ``discover`` action."""
    p = sub.add_parser("catalog", help="discover the warehouse's tables and suggest a catalog")
    actions = p.add_subparsers(dest="catalog_action", metavar="ACTION")
    actions.required = True
    d = actions.add_parser("discover", help="write a draft catalog for review (never the catalog)")
    common(d)
    d.add_argument("--out", metavar="FILE", help="draft file (default: catalog.draft.yaml)")
    d.add_argument("--table", action="append", default=[], metavar="T", help="only this table")
    d.add_argument(
        "--sample-rows", type=int, default=DEFAULT_ROWS, metavar="N", help="rows per table"
    )
    d.add_argument(
        "--sample-fraction", type=float, metavar="F", help="sample a fraction first (0 < F <= 1)"
    )
    d.add_argument(
        "--spark-catalog", action="store_true", help="also the tables of the Spark catalog"
    )


def draft_path(cfg: Any, out: str | None) -> Path:
    """Where the draft goes; never the catalog itself."""
    catalog = Path(cfg.inputs.catalog)
    path = Path(out) if out else catalog.with_name("catalog.draft.yaml")
    if path.resolve() == catalog.resolve():
        raise UsageError(f"catalog discover: --out {path} is the catalog; discovery writes a draft")
    return path


def check_args(args: argparse.Namespace) -> None:
    """Every argument problem, before Spark starts (one line)."""
    from jobs.config.settings import load_config

    if args.sample_rows < 1:
        raise UsageError(f"--sample-rows must be at least 1, got {args.sample_rows}")
    if args.sample_fraction is not None and not 0 < args.sample_fraction <= 1:
        raise UsageError(f"--sample-fraction must be in (0, 1], got {args.sample_fraction}")
    cfg = load_config(args.conf)
    draft_path(cfg, args.out)
    root = local_root(cfg.audited_warehouse)
    if root is not None and args.table and not (args.spark_catalog or _hive(cfg)):
        known = {t.name for t in find_local(root)}
        unknown = [t for t in args.table if t.lower() not in known]
        if unknown:
            raise UsageError(
                f"catalog discover: no table {', '.join(unknown)} under {cfg.audited_warehouse}"
            )


def _hive(cfg: Any) -> bool:
    """The configured Spark catalog is a Hive metastore."""
    return str(cfg.spark.conf.get("spark.sql.catalogImplementation", "")).lower() == "hive"


def _yaml(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    return doc if isinstance(doc, dict) else None


def _reason(exc: BaseException) -> str:
    """The first line of an error reading a schema (file names and error class only)."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"unreadable: {type(exc).__name__}: {first}".rstrip(": ")


def _examine(ctx: Any, name: str, read: Callable[[], Any], sources: tuple[str, ...], args: Any):
    from audits.discovery.sampling import collect_counts, detector_counts, kind_of

    try:
        df = read()
        columns = tuple((f.name, f.dataType.simpleString()) for f in df.schema.fields)
    except Exception as exc:  # noqa: BLE001 - recorded in the draft as not read
        return FoundTable(name, (), sources, read=False, reason=_reason(exc))
    kinds = {c: k for c, t in columns if (k := kind_of(t)) is not None}
    try:
        counts = collect_counts(
            detector_counts(
                df,
                kinds,
                rows=args.sample_rows,
                today=ctx.run_date,
                fraction=args.sample_fraction,
            )
        )
    except Exception as exc:  # noqa: BLE001 - the class only: a message could quote a value
        reason = f"not sampled: {type(exc).__name__}"
        return FoundTable(name, columns, sources, reason=reason)
    rows = counts.pop("", {}).get("_rows", (0, 0))[0]
    return FoundTable(name, columns, sources, sampled=rows, counts=counts)


def _placer(existing: dict[str, Any] | None, zones: set[str]) -> Callable[[str], tuple[str, str]]:
    """Owner and zone of a new table: those most used in its schema by the catalog, else its
    schema when that is a declared zone, else ``unassigned``."""
    by_schema: dict[str, Counter] = {}
    for a in (existing or {}).get("assets") or []:
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a.get("kind") == "table":
            key = (str(a.get("owner", "unassigned")), str(a.get("zone", "unassigned")))
            by_schema.setdefault(a["name"].split(".")[0], Counter())[key] += 1

    def place(name: str) -> tuple[str, str]:
        schema = name.split(".")[0]
        if schema in by_schema:
            return by_schema[schema].most_common(1)[0][0]
        return "unassigned", schema if schema in zones else "unassigned"

    return place


def discover(ctx: Any, args: argparse.Namespace) -> tuple[Path, DraftSummary]:
    """Write the draft catalog; returns its path and summary."""
    cfg = ctx.cfg
    out = draft_path(cfg, args.out)
    wanted = {t.lower() for t in args.table}
    root = local_root(cfg.audited_warehouse)
    if root is not None:
        located = find_local(root)
    else:
        located = [Located(n, ctx.audited.path(n), "delta") for n in ctx.audited.list_tables()]
    learned = learned_schemas(ctx.store) if not wanted else {}
    found: dict[str, FoundTable] = {}
    for t in located:
        if wanted and t.name not in wanted:
            continue
        ctx.log(f"catalog discover: {t.name} ({t.format})")
        sources = (t.format, "query_logs") if t.name in learned else (t.format,)
        read = (
            (lambda n=t.name: ctx.audited.read(n))
            if t.format == "delta" and ctx.audited.path(t.name) == t.path
            else (lambda p=t.path, f=t.format: ctx.spark.read.format(f).load(p))
        )
        found[t.name] = _examine(ctx, t.name, read, sources, args)
    if args.spark_catalog or _hive(cfg):
        for name, kind in spark_catalog_tables(ctx.spark):
            if name in found or (wanted and name not in wanted):
                continue
            ctx.log(f"catalog discover: {name} (spark catalog)")
            t = _examine(ctx, name, lambda n=name: ctx.spark.table(n), ("spark_catalog",), args)
            found[name] = FoundTable(**{**t.__dict__, "kind": kind})
    if wanted - set(found):
        missing = ", ".join(sorted(wanted - set(found)))
        raise UsageError(f"catalog discover: no table {missing} under {cfg.audited_warehouse}")
    kinds = asset_kinds(ctx.store) if learned else {}
    for name, cols in sorted(learned.items()):
        if name not in found and kinds.get(name, "table") in ("table", "view"):
            found[name] = FoundTable(
                name, tuple(cols), ("query_logs",), kind=kinds.get(name, "table"), read=False
            )
    existing = _yaml(Path(cfg.inputs.catalog))
    policies = _yaml(Path(cfg.inputs.policies)) or {}
    zones = set((policies.get("zones") or {}) if isinstance(policies.get("zones"), dict) else ())
    doc, summary = build_draft(
        [found[n] for n in sorted(found)], existing, _yaml(out), _placer(existing, zones)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(
        HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    tmp.replace(out)
    return out, summary


def cmd_catalog(args: argparse.Namespace, context: Callable[[argparse.Namespace], Any]) -> int:
    """``compliance catalog discover``: exit 0 once the draft is written, 2 on bad input."""
    check_args(args)
    ctx = context(args)
    out, summary = discover(ctx, args)
    print(f"draft catalog written to {out}: {summary.text()}")
    return 0
