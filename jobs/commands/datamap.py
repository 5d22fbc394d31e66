"""``compliance datamap``: the data map of one column or one category, or the subject access
answer (GDPR Art. 15) of one subject key, as HTML, JSON or CSV (built by
:mod:`jobs.steps.report_datamap` and :mod:`jobs.commands.datamap_subject`)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jobs.commands.answers import flow_text
from jobs.commands.datamap_subject import check_subject_key, subject_access
from jobs.context import JobContext
from jobs.errors import UsageError
from jobs.steps.report_datamap import Format, Scope, _violations, build_datamap
from reports import datamap as dm_view
from reports import render_datamap
from reports import subject_access as sa_view


def datamap(
    ctx: JobContext,
    *,
    column: str | None = None,
    category: str | None = None,
    subject_key: str | None = None,
    fmt: Format = "json",
    out: Path | None = None,
) -> Path | str:
    """``compliance datamap (--column T.C | --category CAT | --subject-key K) [--format F]``.

    With ``subject_key`` the rows are :data:`reports.subject_access.COLUMNS` (one per table
    holding the subject's rows, then the tables not checked) and the HTML page is
    ``subject-access.html``.

    Args:
        ctx: the job context.
        column: ``table.column`` to map.
        category: data category (prefix) to map.
        subject_key: pseudonymous subject key (``sk_<hex>``) to map.
        fmt: ``json`` or ``csv`` (text; written to ``out`` when given) or ``html`` (a folder).
        out: file for json/csv, folder for html (default ``<reports>/datamap-<slug>/``).

    Returns:
        The text (json/csv without ``out``), else the path written (``datamap.html`` for html).

    Raises:
        UsageError: for a bad combination of options, an unknown column/category or bad key.
    """
    given = [
        n
        for n, v in (("--column", column), ("--category", category), ("--subject-key", subject_key))
        if v
    ]
    if len(given) != 1:
        raise UsageError(
            "datamap needs exactly one of --column T.C, --category CAT, "
            "--subject-key K" + (f" (got {', '.join(given)})" if given else "")
        )
    if fmt not in ("html", "json", "csv"):
        raise UsageError(f"--format must be html, json or csv, got {fmt!r}")
    scope = Scope(column=column, category=category, subject_key=subject_key)
    folder = Path(out) if out else Path(ctx.cfg.reports) / f"datamap-{scope.slug}"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if subject_key:
        check_subject_key(subject_key)
        answer = subject_access(ctx, subject_key)
        if fmt == "html":
            sa_view.render_subject_access(answer, folder, generated_at=now)
            return folder / "subject-access.html"
        rows, cols = answer.rows(), sa_view.COLUMNS
    else:
        dm = build_datamap(ctx, scope, violations=_violations(ctx))
        rows, cols = dm_view.flows(dm), dm_view.FLOW_COLUMNS
        if fmt == "html":
            render_datamap(dm, folder, generated_at=now)
            return folder / "datamap.html"
    text = flow_text(rows, cols, fmt)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        return Path(out)
    return text
