"""The context of a command that runs on Spark: configuration, checks before the engine, the
Spark session and the two table stores."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

#: Commands that read or create the pseudonymisation key.
_PSEUDONYMISING = {"nightly", "land", "ingest", "audit", "purge"}
#: Commands that write the product's warehouse (checked writable before Spark starts).
_WRITING = _PSEUDONYMISING | {"closure", "report", "restore", "reland", "vacuum"}


def open_context(args: argparse.Namespace, *, preflight: bool = False):
    """Load config, create Spark and the stores; creates the demo company on first use.

    With ``preflight``, every configuration input is checked before Spark starts
    (:mod:`jobs.config.preflight`): all problems in one error, absent optional inputs as notes.
    """
    from jobs.config.settings import load_config
    from jobs.context import JobContext, Progress
    from jobs.store.masters import check_master_answers, resolve_master
    from jobs.store.session import build_session
    from jobs.store.tables import TableStore

    cfg = load_config(args.conf)
    log = Progress(quiet=getattr(args, "quiet", False))
    run_date = args.run_date or datetime.now(timezone.utc).date()
    master = resolve_master(cfg.spark.master, args.master)  # a bad one: one line, no JVM
    check_master_answers(master)  # a standalone master that does not answer: the same
    if args.command in _WRITING:
        from jobs.config.preflight import check_writable

        check_writable(cfg, audited=args.command in ("purge", "restore"))
    from jobs.store import object_store

    reach = object_store.plan(  # an object store that does not answer: one line, no JVM
        {"warehouse": cfg.warehouse, "audited_warehouse": cfg.audited_warehouse},
        cfg.storage.storage_options,
        cfg.spark.conf,
    )
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
    spark = build_session(master=master, conf=reach.spark_conf, engine=cfg.storage.engine)
    if reach.store is not None:
        object_store.apply(spark, reach.store, cfg.spark.conf)
    opts = dict(storage_options=reach.storage_options, max_retries=cfg.storage.max_commit_retries)
    engine = cfg.storage.engine
    store = TableStore(spark, reach.roots["warehouse"], engine=engine, **opts)  # type: ignore[arg-type]
    audited = TableStore(spark, reach.roots["audited_warehouse"], engine=engine, **opts)  # type: ignore[arg-type]
    return JobContext(
        cfg=cfg, spark=spark, store=store, audited=audited, run_date=run_date, log=log
    )
