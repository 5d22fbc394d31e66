"""The ``compliance`` command line.

Exit codes (DESIGN.md §6): 0 success; 1 findings that need attention, only with
``--fail-on-findings``; 2 usage or configuration error; 3 job failure; ``restore`` only: 4 entries
left unrestored because their key is destroyed, 5 tampered (also replayed or relabelled) entries
refused; ``verify-report``: 5 when a report file differs from its ``MANIFEST.json``. Errors a
user can fix are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from jobs.errors import ComplianceError, ConfigError, LockError, UsageError
from lineage.graph.errors import GraphError
from lineage.policy import PolicyError


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


#: Commands that read or create the pseudonymisation key.
_PSEUDONYMISING = {"nightly", "land", "ingest", "audit", "purge"}
#: Commands that write the product's warehouse (checked writable before Spark starts).
_WRITING = _PSEUDONYMISING | {"closure", "report", "restore", "reland", "vacuum"}


def _context(args: argparse.Namespace, *, preflight: bool = False):
    """Load config, create Spark and the stores; creates the demo company on first use.

    With ``preflight``, every configuration input is checked before Spark starts
    (:mod:`jobs.config.preflight`): all problems in one error, absent optional inputs as notes.
    """
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress
    from jobs.store.masters import resolve_master
    from jobs.store.session import build_session
    from jobs.store.tables import TableStore

    cfg = load_config(args.conf)
    log = Progress(quiet=getattr(args, "quiet", False))
    run_date = args.run_date or datetime.now(timezone.utc).date()
    master = resolve_master(cfg.spark.master, args.master)  # a bad one: one line, no JVM
    if args.command in _WRITING:
        from jobs.config.preflight import check_writable

        check_writable(cfg, audited=args.command in ("purge", "restore"))
    if args.command in _PSEUDONYMISING:
        from jobs.secrets.pseudonym import preflight as check_pseudonym_key

        check_pseudonym_key(cfg.keys.dir, cfg.warehouse)
    if args.command == "vacuum":
        from jobs.commands.vacuum import check_retention

        check_retention(cfg, args.retention_hours, force=args.force)
    creates = args.command not in ("demo", "catalog")  # discovery reads the warehouse there is
    if args.conf is None and creates and not Path(cfg.inputs.catalog).exists():
        log(f"no configuration and no inputs yet: creating the demo company under {cfg.home}")
        from jobs.demo import generate_demo

        generate_demo(Path(cfg.home), as_of=run_date)
    if preflight:
        from jobs.config.preflight import check_inputs

        checked = check_inputs(cfg)
        checked.raise_if_any()
        for note in checked.notes:
            log(note)
    log(f"starting Spark ({master})")
    spark = build_session(master=master, conf=cfg.spark.conf, engine=cfg.storage.engine)
    opts = dict(
        storage_options=cfg.storage.storage_options, max_retries=cfg.storage.max_commit_retries
    )
    store = TableStore(spark, cfg.warehouse, engine=cfg.storage.engine, **opts)  # type: ignore[arg-type]
    audited = TableStore(spark, cfg.audited_warehouse, engine=cfg.storage.engine, **opts)  # type: ignore[arg-type]
    return JobContext(
        cfg=cfg, spark=spark, store=store, audited=audited, run_date=run_date, log=log
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from jobs.config.settings import load_config
    from jobs.demo import generate_demo

    cfg = load_config(args.conf)
    out = Path(args.out) if args.out else Path(cfg.home)
    if args.scale < 1:
        raise UsageError(f"--scale must be a positive integer, got {args.scale}")
    run_date = args.run_date or datetime.now(timezone.utc).date()
    summary = generate_demo(out, as_of=run_date, seed=args.seed, scale=args.scale)
    print(
        f"demo company written to {out} (inputs in {out / 'inputs'}, audited warehouse in {out / 'company'})"
    )
    print(f"  {summary}")
    return 0


def cmd_steps(args: argparse.Namespace) -> int:
    from jobs import pipeline
    from jobs.runner import warehouse_lock

    ctx = _context(args, preflight=args.command != "land")  # landing reads no config input
    with warehouse_lock(ctx.cfg.home, ctx.log):
        if args.command == "nightly":
            summary = pipeline.nightly(ctx, force=args.force)
            print(summary.text())
            return 1 if (args.fail_on_findings and summary.findings) else 0
        pipeline.run_named(ctx, args.command)
    return 0


def cmd_tables(args: argparse.Namespace) -> int:
    from jobs.commands.tables_list import tables

    text = _without_spark(args, tables)
    if text is not None:
        print(text)
        return 0
    ctx = _context(args)
    names = ctx.store.list_tables()
    if not names:
        print(f"no tables yet under {ctx.cfg.warehouse}; run `compliance nightly` first")
        return 0
    print(
        f"{'table':32} {'version':>7} {'files':>6} {'rows':>10}   ({ctx.cfg.warehouse}, engine {ctx.engine})"
    )
    for name in names:
        info = ctx.store.info(name)
        rows = ctx.store.read(name).count()
        print(f"{name:32} {info.version:>7} {info.files:>6} {rows:>10}")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from jobs.commands.discover import cmd_catalog as run

    return run(args, _context)


def cmd_verify_report(args: argparse.Namespace) -> int:
    """Exit 0 when every file matches the manifest (and its link to the previous run), else 5."""
    from reports.provenance import verify_folder

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"verify-report: {folder} is not a folder")
    result = verify_folder(folder)
    for line in result.lines():
        print(f"{folder}: {line}")
    if not result.ok:
        print(f"{folder}: does NOT match its manifest", file=sys.stderr)
        return EXIT_TAMPERED
    print(f"{folder}: {result.files} files match MANIFEST.json")
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    from jobs.commands import answers_impact
    from jobs.commands.impact_answer import parse_changes

    parse_changes(args.drop_column, args.rename_column, args.retype_column)  # before any engine
    if args.depth is not None and args.depth < 0:
        raise UsageError(f"--depth must be 0 or more, got {args.depth}")
    answer = _without_spark(args, answers_impact.impact)
    ctx = None
    if answer is None:
        from jobs.commands.explore import run_impact

        ctx = _context(args)
        answer = run_impact(
            ctx,
            args.table,
            drop=args.drop_column,
            rename=args.rename_column,
            retype=args.retype_column,
            depth=args.depth,
        )
    if args.format == "json":
        print(answer.json())
    elif args.format == "csv":
        sys.stdout.write(answer.csv())
    elif args.format == "html":
        from jobs.commands.impact_report import write_impact_html
        from jobs.config.settings import load_config

        reports = ctx.cfg.reports if ctx is not None else load_config(args.conf).reports
        print(f"impact report: {write_impact_html(reports, answer, args.out)}")
    else:
        print(answer.text())
    return 0


def _without_spark(args: argparse.Namespace, answer: Callable[[argparse.Namespace], object]):
    """The answer of the Spark-free path (:mod:`jobs.commands.answers`), or None when Spark must answer."""
    from jobs.commands.answers import Fallback

    try:
        return answer(args)
    except Fallback as why:
        if not getattr(args, "quiet", False):
            print(f"compliance: answering with Spark ({why})", file=sys.stderr)
        return None


def cmd_datamap(args: argparse.Namespace) -> int:
    from jobs.commands import answers

    answers.check_datamap_args(args)  # usage errors before any engine starts
    if args.subject_key:
        from jobs.config.settings import load_config
        from jobs.secrets.pseudonym import existing_key

        existing_key(load_config(args.conf).keys.dir)  # a missing key: one line, before Spark
    out = _without_spark(args, answers.datamap)
    if out is None:
        from jobs.commands.datamap import datamap

        ctx = _context(args)
        out = datamap(
            ctx,
            column=args.column,
            category=args.category,
            subject_key=args.subject_key,
            fmt=args.format,
            out=Path(args.out) if args.out else None,
        )
    what = "subject access report" if args.subject_key else "data map"
    print(out if isinstance(out, str) else f"{what} written to {out}")
    return 0


def cmd_subject_key(args: argparse.Namespace) -> int:
    from jobs.commands.subject_key import read_identifier, subject_key
    from jobs.config.settings import load_config

    raw = read_identifier(args.id, sys.stdin)
    cfg = load_config(args.conf)
    print(subject_key(raw, cfg.keys.dir))
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from jobs.commands import answers

    if args.depth is not None and args.depth < 0:
        raise UsageError(f"--depth must be 0 or more, got {args.depth}")
    text = _without_spark(args, answers.lineage)
    if text is None:
        from jobs.commands.explore import run_lineage

        ctx = _context(args)
        text = run_lineage(ctx, args.direction, args.node, depth=args.depth, as_of=args.as_of)
    print(text)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    import getpass

    from jobs.commands import answers_impact

    if not args.reason.strip():
        raise UsageError("--reason must say why (auditors read it)")
    reviewer = args.reviewer or getpass.getuser()
    text = _without_spark(args, lambda a: answers_impact.review(a, reviewer))
    if text is None:
        from jobs.commands.explore import record_review

        ctx = _context(args)
        text = record_review(
            ctx,
            args.decision,
            args.node,
            cascade=args.cascade,
            reason=args.reason,
            reviewer=reviewer,
        )
    print(text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from jobs.commands.export import export

    ctx = _context(args)
    out = Path(args.out) if args.out else Path(ctx.cfg.home) / "export" / "openlineage.jsonl"
    n = export(ctx, out)
    print(f"{n} OpenLineage RunEvents (with the columnLineage facet) written to {out}")
    return 0


def _keyring(ctx):
    from jobs.secrets.keyring import FileKeyring

    return FileKeyring(ctx.cfg.keys.dir)


def _locked_report(args: argparse.Namespace, work: Callable[[Any], Any]) -> Any:
    """Run ``work(ctx)`` holding the warehouse lock and print the report it returns."""
    from jobs.runner import warehouse_lock

    ctx = _context(args)
    with warehouse_lock(ctx.cfg.home, ctx.log):
        report = work(ctx)
    print(report.text())
    return report


def cmd_purge(args: argparse.Namespace) -> int:
    from jobs.commands.purge import purge

    _locked_report(
        args,
        lambda ctx: purge(
            ctx,
            deletion_id=args.deletion_id,
            all_findings=args.all_findings,
            dry_run=args.dry_run,
            keyring=_keyring(ctx),
            allow_stale=args.allow_stale_findings,
        ),
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from jobs.commands.restore import restore

    report = _locked_report(args, lambda ctx: restore(ctx, args.deletion_id, keyring=_keyring(ctx)))
    return report.exit_code


def cmd_vacuum(args: argparse.Namespace) -> int:
    from jobs.commands.vacuum import vacuum_audited

    _locked_report(
        args,
        lambda ctx: vacuum_audited(
            ctx, tables=args.table, retention_hours=args.retention_hours, force=args.force
        ),
    )
    return 0


def cmd_reland(args: argparse.Namespace) -> int:
    from jobs.commands.reland import landing_kinds, reland

    if args.kind is not None and args.kind not in landing_kinds():
        raise UsageError(
            f"reland: --kind {args.kind} is not an input kind of the landing "
            f"(one of {', '.join(landing_kinds())})"
        )
    _locked_report(
        args,
        lambda ctx: reland(
            ctx,
            kind=args.kind,
            source=args.source,
            reason=args.reason,
            rejected_on=args.rejected_on,
            dry_run=args.dry_run,
        ),
    )
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    if args.action == "status":  # the key folder only: no Spark
        from jobs.config.settings import load_config
        from jobs.secrets.keyring import FileKeyring
        from jobs.secrets.keys_status import status

        cfg = load_config(args.conf)
        today = args.run_date or datetime.now(timezone.utc).date()
        window = int(cfg.retention.restoration_days)
        print(status(FileKeyring(cfg.keys.dir), window, today).text())
        return 0
    from jobs.runner import run_step, warehouse_lock
    from jobs.steps.keys import keys_rotate, keys_status

    ctx = _context(args)

    done = []

    def step(c):  # the nightly keys step, keeping its report to print it
        done.append(keys_rotate(c, _keyring(c)))
        return done[0].step_result()

    with warehouse_lock(ctx.cfg.home, ctx.log):
        run_step(ctx, "keys", step)
    print(done[0].text())
    print(keys_status(ctx, _keyring(ctx)).text())
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "purge": cmd_purge,
    "restore": cmd_restore,
    "keys": cmd_keys,
    "export": cmd_export,
    "vacuum": cmd_vacuum,
    "reland": cmd_reland,
    "closure": cmd_steps,
    "audit": cmd_steps,
    "report": cmd_steps,
    "impact": cmd_impact,
    "datamap": cmd_datamap,
    "subject-key": cmd_subject_key,
    "lineage": cmd_lineage,
    "review": cmd_review,
    "demo": cmd_demo,
    "nightly": cmd_steps,
    "land": cmd_steps,
    "ingest": cmd_steps,
    "tables": cmd_tables,
    "catalog": cmd_catalog,
    "verify-report": cmd_verify_report,
}


EXIT_USAGE = 2
"""Usage or configuration error: fix the argument, key or file and run again."""
EXIT_FAILURE = 3
"""Job failure: one line on stderr, the traceback in ``<home>/logs/``."""
EXIT_TAMPERED = 5
"""Evidence that does not match its record: tampered restoration entries, a changed report."""


#: Errors a user fixes by changing an argument, a configuration key or a file.
USAGE_ERRORS = (ConfigError, UsageError, LockError, GraphError, PolicyError)


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an exception: 2 for :data:`USAGE_ERRORS` and a key directory error,
    else 3 (a job failure)."""
    keys = sys.modules.get(
        "jobs.secrets.keyring"
    )  # imported by the commands that use keys only: it is slow
    if isinstance(exc, USAGE_ERRORS) or (
        keys is not None and isinstance(exc, keys.KeyDirectoryError)
    ):
        return EXIT_USAGE
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``compliance`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ComplianceError as exc:
        print(f"compliance: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("compliance: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
