"""What every job step receives: config, Spark, the table stores, the run date and a logger."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from pyspark.sql import SparkSession

from jobs.config.settings import Config
from jobs.store.tables import TableStore

if TYPE_CHECKING:
    from jobs.config.catalog import Catalog, Policies

VERSION = "0.1.0"


class Progress:
    """Progress lines: what a step is doing, counts, elapsed time.

    On a terminal the lines are short and human; elsewhere (cron, Airflow) they carry a timestamp
    so they read as plain log lines.
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        elapsed = time.monotonic() - self._t0
        if self.tty:
            line = f"[{elapsed:6.1f}s] {message}"
        else:
            line = f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ} compliance {message} (t+{elapsed:.1f}s)"
        print(line, file=self.stream, flush=True)


@dataclass
class StepResult:
    """What a step reports to the run manifest."""

    inputs_read: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    findings: int = 0


@dataclass
class JobContext:
    """Everything a job step needs; built once per CLI invocation."""

    cfg: Config
    spark: SparkSession
    store: TableStore
    audited: TableStore
    run_date: date
    log: Progress

    @property
    def cutoff(self) -> datetime:
        """End of the run date (UTC, naive): data after it is 'in the future' for this run."""
        return datetime.combine(self.run_date + timedelta(days=1), dtime())

    @property
    def engine(self) -> str:
        """The storage engine in use."""
        return self.store.engine

    # -- the configuration inputs, each loaded and validated once per run ------------------------
    @cached_property
    def catalog(self) -> Catalog:
        """The catalog (``inputs.catalog``), validated; the one copy every step of a run uses."""
        from jobs.config.catalog import load_catalog

        return load_catalog(self.cfg.inputs.catalog)

    @cached_property
    def policies(self) -> Policies:
        """The policy zones (``inputs.policies``), validated once."""
        from jobs.config.catalog import load_policies

        return load_policies(self.cfg.inputs.policies)
