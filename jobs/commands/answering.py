"""The on-demand questions of the command line (``tables``, ``impact``, ``datamap``,
``subject-key``, ``lineage``, ``review``): answered without Spark where the product's own tables
suffice (:mod:`jobs.commands.answers`), else on a Spark context."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from jobs.commands.job_context import open_context
from jobs.errors import UsageError


def cmd_tables(args: argparse.Namespace) -> int:
    from jobs.commands.tables_list import tables

    text = _without_spark(args, tables)
    if text is not None:
        print(text)
        return 0
    ctx = open_context(args)
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

        ctx = open_context(args)
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

        ctx = open_context(args)
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

        ctx = open_context(args)
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

        ctx = open_context(args)
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
