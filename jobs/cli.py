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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jobs.commands.answering import (
    cmd_datamap,
    cmd_impact,
    cmd_lineage,
    cmd_review,
    cmd_subject_key,
    cmd_tables,
)
from jobs.commands.arguments import build_parser
from jobs.commands.job_context import open_context
from jobs.errors import ComplianceError, ConfigError, LockError, UsageError
from lineage.graph.errors import GraphError
from lineage.policy import PolicyError


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

    ctx = open_context(args, preflight=args.command != "land")  # landing reads no config input
    with warehouse_lock(ctx.cfg.home, ctx.log):
        if args.command == "nightly":
            summary = pipeline.nightly(ctx, force=args.force)
            print(summary.text())
            return 1 if (args.fail_on_findings and summary.findings) else 0
        pipeline.run_named(ctx, args.command)
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from jobs.commands.discover import cmd_catalog as run

    return run(args, open_context)


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


def cmd_export(args: argparse.Namespace) -> int:
    from jobs.commands.export import export

    ctx = open_context(args)
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

    ctx = open_context(args)
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

    ctx = open_context(args)

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
