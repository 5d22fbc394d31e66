"""The nightly sequence of steps and the summary printed at its end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jobs.context import JobContext, StepResult
from jobs.errors import ComplianceError, UsageError
from jobs.registry import STEPS
from jobs.runner import Step, run_step
from jobs.store.run_manifest import completed_steps

#: The nightly steps, in order (declared with their tables in :mod:`jobs.registry`).
NIGHTLY: list[tuple[str, Step]] = [(s.name, s.run) for s in STEPS]

#: Commands that run a subset of the steps.
GROUPS: dict[str, list[str]] = {
    "land": ["land"],
    "ingest": ["land", "ingest"],
}


@dataclass
class NightlySummary:
    """What the scheduler's log shows at the end of a nightly run."""

    run_date: str
    steps: dict[str, StepResult] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    reports: str | None = None
    recorded_findings: dict[str, int] = field(default_factory=dict)

    @property
    def findings(self) -> int:
        """Findings that need attention for the run date, skipped (already done) steps included."""
        counted = {**self.recorded_findings, **{k: r.findings for k, r in self.steps.items()}}
        return sum(counted.values())

    def text(self) -> str:
        """A few human lines."""
        lines = [
            f"nightly run for {self.run_date}: {len(self.steps)} steps run"
            + (
                f", {len(self.skipped)} already done ({', '.join(self.skipped)})"
                if self.skipped
                else ""
            )
            + f"; findings needing attention: {self.findings}"
        ]
        for name, r in self.steps.items():
            lines.append(
                f"  {name:8} read {r.inputs_read:>8}  wrote {r.rows_written:>8}  "
                f"rejected {r.rows_rejected:>6}  findings {r.findings:>5}"
            )
        if self.reports:
            lines.append(f"reports: {self.reports}")
        return "\n".join(lines)


def nightly(ctx: JobContext, *, force: bool = False) -> NightlySummary:
    """Run every nightly step in order, skipping those already completed for the run date."""
    done = set() if force else completed_steps(ctx)
    summary = NightlySummary(str(ctx.run_date))
    for name, step in NIGHTLY:
        if name in done:
            ctx.log(f"{name}: already completed for {ctx.run_date}, skipped")
            summary.skipped.append(name)
            continue
        try:
            summary.steps[name] = run_step(ctx, name, step)
        except ComplianceError:
            if name != "report":
                report_after_failure(ctx, name)
            raise
        if "report_dir" in summary.steps[name].details:  # the report step says where it wrote
            summary.reports = summary.steps[name].details["report_dir"]
    summary.recorded_findings = recorded_findings(ctx)
    if summary.reports is None:
        summary.reports = (
            str(Path(ctx.cfg.reports) / "latest" / "index.html")
            if "report" in summary.skipped
            else None
        )
    ctx.log(f"nightly run for {ctx.run_date} finished; warehouse {ctx.cfg.warehouse}")
    return summary


def report_after_failure(ctx: JobContext, failed: str) -> None:
    """Render the run date's report after step ``failed`` stopped the night: the run summary
    shows the step's error and the steps not run, and the checks they feed say "not run".

    The report is not recorded as done, so the resumed run renders it again. A failure here is
    logged and never hides the step's own error.
    """
    report = dict(NIGHTLY)["report"]
    try:
        report(ctx)
    except Exception as exc:  # noqa: BLE001 - the step's failure is the one to raise
        ctx.log(f"report: not rendered after {failed} failed ({type(exc).__name__}: {exc})")
        return
    ctx.log(f"report: rendered after {failed} failed; the resumed run renders it again")


def recorded_findings(ctx: JobContext) -> dict[str, int]:
    """Findings per step recorded in run_manifest for the run date."""
    from pyspark.sql import functions as F

    if not ctx.store.exists("run_manifest"):
        return {}
    rows = (
        ctx.store.read("run_manifest")
        .filter(F.col("run_date") == F.lit(ctx.run_date))
        .select("job", "findings")
        .collect()
    )
    return {r.job: int(r.findings or 0) for r in rows}


def run_named(ctx: JobContext, command: str) -> None:
    """Run the steps of a single-step command (always runs them, even if done before)."""
    steps = dict(NIGHTLY)
    names = [n for n in GROUPS.get(command, [command]) if n in steps]
    if not names:
        raise UsageError(f"unknown step {command!r}")
    for name in names:
        run_step(ctx, name, steps[name])
