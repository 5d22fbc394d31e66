"""The ``compliance`` command line's arguments: one sub-command per step and question."""

from __future__ import annotations

import argparse
from datetime import date


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}, expected YYYY-MM-DD") from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--conf", metavar="F", help="configuration file overriding conf/default.yaml")
    p.add_argument("--master", help="Spark master (overrides config and COMPLIANCE_SPARK_MASTER)")
    p.add_argument(
        "--run-date", type=_date, metavar="D", help="run date YYYY-MM-DD (default: today, UTC)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="compliance",
        description="Column-level lineage, deletion verification and audit reports from the logs you have.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="write the demo company's input files and audited warehouse")
    _common(p)
    p.add_argument("--out", metavar="DIR", help="where to write it (default: the configured home)")
    p.add_argument(
        "--scale", type=int, default=1, help="volume multiplier for benchmarks (default 1)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")

    p = sub.add_parser("nightly", help="the whole nightly pipeline, then the reports")
    _common(p)
    p.add_argument(
        "--force", action="store_true", help="redo steps already completed for the run date"
    )
    p.add_argument("--fail-on-findings", action="store_true", help="exit 1 when there are findings")

    for name, text in (
        ("land", "land and validate the input files"),
        ("ingest", "land inputs and extract lineage from them"),
        ("closure", "tonight's lineage closure, policy violations and new flows"),
        ("audit", "deletion lifecycle, retention, residual scans and annotation checks"),
        ("report", "render the HTML reports of the run date"),
    ):
        p = sub.add_parser(name, help=text)
        _common(p)

    p = sub.add_parser("datamap", help="where personal data goes: a GDPR data map on demand")
    _common(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--column", metavar="T.C", help="a column, e.g. crm.customers.email")
    g.add_argument("--category", metavar="CAT", help="a data category, e.g. user.contact.email")
    g.add_argument("--subject-key", metavar="K", help="a pseudonymous subject key (sk_...)")
    p.add_argument("--format", choices=("html", "json", "csv"), default="json")
    p.add_argument(
        "--out", metavar="PATH", help="output folder (html) or file (json/csv); default: print"
    )

    p = sub.add_parser(
        "subject-key", help="the pseudonymous key (sk_...) of a raw subject id; prints only the key"
    )
    p.add_argument("--conf", metavar="F", help="configuration file overriding conf/default.yaml")
    p.add_argument(
        "--id",
        required=True,
        metavar="RAW",
        help="the raw subject id, or - to read it from stdin (keeps it out of the shell history)",
    )

    p = sub.add_parser("impact", help="what a schema change breaks downstream")
    _common(p)
    p.add_argument("table", help="the changed table, e.g. crm.customers")
    p.add_argument("--drop-column", action="append", default=[], metavar="C")
    p.add_argument("--rename-column", action="append", default=[], metavar="A=B")
    p.add_argument("--retype-column", action="append", default=[], metavar="C=T")
    p.add_argument("--depth", type=int, help="the most hops to follow")
    p.add_argument("--format", choices=("text", "json", "csv", "html"), default="text")
    p.add_argument("--out", metavar="DIR", help="where the html report goes")

    p = sub.add_parser("lineage", help="upstream or downstream of a table or column")
    _common(p)
    p.add_argument("direction", choices=("up", "down"))
    p.add_argument("node", help="schema.table or schema.table.column")
    p.add_argument("--depth", type=int, help="the most hops to follow")
    p.add_argument(
        "--as-of", type=_date, metavar="DATE", help="the lineage as it was at the end of DATE"
    )

    p = sub.add_parser("review", help="record a review decision (applied by the next closure)")
    _common(p)
    p.add_argument("decision", choices=("include", "exclude"))
    p.add_argument("node", help="schema.table or schema.table.column")
    p.add_argument(
        "--cascade", action="store_true", help="also hide what is reachable only through it"
    )
    p.add_argument("--reason", required=True, help="why (shown to auditors)")
    p.add_argument("--reviewer", default=None, help="who decides (default: $USER)")

    p = sub.add_parser("purge", help="remove residual rows of deleted subjects, undoably")
    _common(p)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--deletion-id", metavar="ID", help="purge the residual rows of one deletion")
    g.add_argument("--all-findings", action="store_true", help="purge every residual finding")
    p.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    p.add_argument(
        "--allow-stale-findings",
        action="store_true",
        help="purge even if the findings predate the run date or newer events exist",
    )

    p = sub.add_parser(
        "restore", help="restore purged rows from the restoration log while the key lives"
    )
    _common(p)
    p.add_argument("deletion_id", metavar="DELETION_ID")

    p = sub.add_parser("keys", help="daily key rotation and 90-day destruction; never prints keys")
    _common(p)
    p.add_argument("action", choices=("rotate", "status"))

    p = sub.add_parser("vacuum", help="VACUUM audited tables: purged rows leave Delta history")
    _common(p)
    p.add_argument(
        "--audited",
        action="store_true",
        required=True,
        help="vacuum the audited company's tables (the only target)",
    )
    p.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="T",
        help="an audited table (repeatable; default: every table a purge committed on)",
    )
    p.add_argument(
        "--retention-hours",
        type=int,
        metavar="H",
        help="history kept, in hours (default and minimum: storage.vacuum_retention_hours)",
    )
    p.add_argument("--force", action="store_true", help="allow a retention below the minimum")

    p = sub.add_parser("export", help="export the discovered lineage")
    _common(p)
    p.add_argument("what", choices=("openlineage",))
    p.add_argument(
        "--out", metavar="FILE", help="JSON Lines file (default <home>/export/openlineage.jsonl)"
    )

    p = sub.add_parser(
        "reland", help="queue rejected input lines for the next landing, once the cause is fixed"
    )
    _common(p)
    p.add_argument("--kind", help="only this input kind (query_logs, deletion_events, ...)")
    p.add_argument("--source", metavar="PATH", help="only this file, or the files under a folder")
    p.add_argument("--reason", metavar="TEXT", help="only rejections whose reason contains TEXT")
    p.add_argument(
        "--rejected-on", metavar="DATE", type=_date, help="only lines rejected by this run date"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="say what would be queued, change nothing"
    )

    from jobs.commands.discover import add_parser as add_catalog

    add_catalog(sub, _common)

    p = sub.add_parser("tables", help="the warehouse tables with version and row count")
    _common(p)

    p = sub.add_parser(
        "verify-report", help="check a report folder against its MANIFEST.json (no Spark)"
    )
    p.add_argument("folder", metavar="DIR", help="a report folder, e.g. reports/2026-11-22")
    return parser
