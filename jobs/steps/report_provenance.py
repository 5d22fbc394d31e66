"""The report's provenance: what this run read, which product wrote it, where and by whom.

:func:`provenance_sections` gives two information sections of the report (the input files the run
landed, with their SHA-256 and counts from ``landed_files``; the Delta table versions of the
product's warehouse after the run); :func:`provenance_facts` the facts ``MANIFEST.json`` records
(:mod:`reports.provenance`). All times are UTC with an explicit ``Z``; nothing here is key
material or a raw identifier (the configuration is recorded by digest, not content).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyspark.sql import functions as F

from jobs.config.settings import DEFAULT_FILE
from jobs.context import VERSION, JobContext
from reports.model import Section

INPUT_COLUMNS = ("source", "kind", "size", "sha256", "lines", "accepted", "rejected", "held")
MAX_INPUT_ROWS = 2000
"""Input files listed at most (the manifest's count is the full one)."""


def utc(ts: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (naive timestamps are UTC: the session time zone is UTC)."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def product_commit() -> str:
    """The product's source commit: ``COMPLIANCE_COMMIT``, else ``git rev-parse``, else unknown."""
    if os.environ.get("COMPLIANCE_COMMIT"):
        return os.environ["COMPLIANCE_COMMIT"]
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", "-C", str(here), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    text = out.stdout.strip()
    return text if out.returncode == 0 and len(text) == 40 else "unknown"


def config_digest(source: str) -> str | None:
    """SHA-256 of a configuration file (None when ``source`` is not a file, e.g. ``<defaults>``;
    the facts record the built-in defaults file's digest beside it)."""
    path = Path(source)
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_files(ctx: JobContext) -> list[dict[str, Any]]:
    """The input files this run landed (``landed_files`` rows of the run date), path order."""
    ledger = ctx.store.read("landed_files", missing_ok=True)
    if ledger is None:
        return []
    cols = [c for c in INPUT_COLUMNS if c in ledger.columns]
    rows = (
        ledger.filter(F.col("run_date") == F.lit(ctx.run_date))
        .select(*cols)
        .orderBy("source", "kind")
        .limit(MAX_INPUT_ROWS)
        .collect()
    )  # one row per file: small
    return [r.asDict() for r in rows]


def table_versions(ctx: JobContext) -> list[dict[str, Any]]:
    """Every table of the product's warehouse with its current Delta version."""
    return [{"table": t, "version": ctx.store.version(t)} for t in ctx.store.list_tables()]


def step_times(ctx: JobContext) -> list[dict[str, Any]]:
    """The run date's steps from ``run_manifest`` (job, status, start and end in UTC)."""
    man = ctx.store.read("run_manifest", missing_ok=True)
    if man is None:
        return []
    rows = (
        man.filter(F.col("run_date") == F.lit(ctx.run_date))
        .select("job", "status", "started_at", "finished_at")
        .orderBy("started_at")
        .collect()
    )
    return [
        {
            "job": r.job,
            "status": r.status,
            "started_at": utc(r.started_at),
            "finished_at": utc(r.finished_at),
        }
        for r in rows
    ]


def provenance_facts(
    ctx: JobContext, *, inputs: list[dict[str, Any]], tables: list[dict[str, Any]]
) -> dict[str, Any]:
    """What ``MANIFEST.json`` records about the run (see :mod:`reports.provenance`)."""
    steps = step_times(ctx)
    return {
        "run_date": ctx.run_date.isoformat(),
        "product": {"name": "compliance-jobs", "version": VERSION, "commit": product_commit()},
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        "config": {
            "file": ctx.cfg.source,
            "sha256": config_digest(ctx.cfg.source),
            "defaults_sha256": config_digest(str(DEFAULT_FILE)),
        },
        "storage_engine": ctx.store.engine,
        "started_at": min((s["started_at"] for s in steps if s["started_at"]), default=None),
        "finished_at": max((s["finished_at"] for s in steps if s["finished_at"]), default=None),
        "steps": steps,
        "inputs": inputs,
        "tables": tables,
    }


def provenance_sections(
    inputs: list[dict[str, Any]], tables: list[dict[str, Any]]
) -> list[Section]:
    """The report's provenance sections (information, not findings)."""
    return [
        Section(
            key="provenance_inputs",
            title="Input files read by this run",
            rows=tuple(inputs),
            columns=INPUT_COLUMNS,
            description=(
                "Every input file this run landed, with its SHA-256 and how many of its lines "
                "were accepted, rejected or held; MANIFEST.json in this folder records the same "
                "and the digest of every report file."
            ),
            findings=False,
        ),
        Section(
            key="provenance_tables",
            title="Warehouse table versions",
            rows=tuple(tables),
            columns=("table", "version"),
            description="The Delta version of every product table after this run.",
            findings=False,
        ),
    ]


__all__ = ["provenance_facts", "provenance_sections", "utc"]
