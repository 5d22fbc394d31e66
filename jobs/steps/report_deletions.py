"""Deletion evidence and restoration-log health for the nightly report (part of ``jobs/steps/report.py``).

Per deletion request (by pseudonymous ``subject_key``, never a raw subject id): its lifecycle
events, tonight's anomalies, the residual scan result per table as the audit recorded it in
``residual_scans`` (``residual``, ``clean`` or ``unverifiable`` with the reason; older runs without
that table fall back to the findings plus ``clean`` for the other lineage targets), and the
purge/restore history with the status of the key that can still undo the purge. At most
:data:`MAX_CASES` requests are shown: those needing attention first, then the most recent.
Key status comes from the keyring's ids and ages only (:meth:`FileKeyring.status`), never
key bytes; the tables of the purge/restore jobs (``purge_journal``, ``restore_journal``,
``restoration_log_health``) are used when they exist, else the numbers are zero.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from audits.detection import detection_dates
from jobs.context import JobContext
from jobs.steps.report_datamap import collect, latest_run_date
from reports import sections as sec
from reports.model import DeletionCase, Section

MAX_CASES = 200
"""Deletion requests shown at most on the deletions page."""
MAX_EVENTS = 200
"""Lifecycle events shown per request."""
HEALTH_TABLE = "restoration_log_health"
JOURNAL_TABLE = "purge_journal"
RESTORES_TABLE = "restore_journal"
LOG_TABLE = "restoration_log"
SCANS_TABLE = "residual_scans"
REQUEST_COLUMNS = (
    "deletion_id",
    "subject_key",
    "subject_type",
    "requested_at",
    "sla_days",
    "channel",
    "identity_verification",
    "decision",
    "exemption",
    "approved_by",
    "executed_by",
    "recipients_notified_at",
    "subject_informed_at",
)
EVENT_COLUMNS = (
    "deletion_id",
    "object_key",
    "object_type",
    "event",
    "ts",
    "scheduled_for",
    "points_deleted",
    "detail",
)


def _sel(df: DataFrame, cols: tuple[str, ...]) -> DataFrame:
    return df.select(*[F.col(c) if c in df.columns else F.lit(None).alias(c) for c in cols])


def _keyring_status(ctx: JobContext) -> list[Any]:
    """Key ids and ages (never bytes); empty when the key directory does not exist yet."""
    from pathlib import Path

    from jobs.secrets.keyring import FileKeyring, KeyringError

    if not Path(ctx.cfg.keys.dir).exists():
        return []
    try:
        return FileKeyring(ctx.cfg.keys.dir).status(ctx.run_date)
    except KeyringError as exc:
        ctx.log(f"report: key status unavailable: {exc}")
        return []


def _window(ctx: JobContext) -> int:
    return int(ctx.cfg.retention.restoration_days)


def scanned_tables(ctx: JobContext) -> list[tuple[str, str]]:
    """(asset, column) the residual scan reads: identifier columns and what lineage says holds
    them (same rule as the audit step), restricted to row-holding assets."""
    from audits.residual import column_closure, identifier_targets, scannable

    catalog = ctx.catalog
    idents = catalog.identifier_columns()
    day = latest_run_date(ctx)
    if not idents or day is None or not ctx.store.exists("lineage_edges"):
        return sorted(idents)
    closure = column_closure(ctx.store.read("lineage_closure"), day)
    ident_df = ctx.spark.createDataFrame(idents, "asset string, column string")
    rows = (
        identifier_targets(closure, ident_df, ctx.store.read("lineage_edges"))
        .select("asset", "column")
        .distinct()
        .collect()
    )
    kinds = {a.name: a.kind for a in catalog.assets}
    return sorted((r.asset, r.column) for r in rows if scannable(kinds.get(r.asset)))


def deletion_cases(ctx: JobContext) -> list[DeletionCase]:
    """The deletion requests with their evidence (see the module docstring)."""
    req = ctx.store.read("deletion_requests", missing_ok=True)
    if req is None:
        return []
    day = ctx.run_date
    anomalies = ctx.store.read("deletion_anomalies", missing_ok=True)
    residuals = ctx.store.read("residual_findings", missing_ok=True)
    an_today = None
    if anomalies is not None:
        an_today = detection_dates(anomalies.filter(F.col("run_date") == F.lit(day)))
    res_today = residuals.filter(F.col("run_date") == F.lit(day)) if residuals is not None else None
    open_today = an_today.filter(F.col("status") == "open") if an_today is not None else None
    flagged = [d.select("deletion_id") for d in (open_today, res_today) if d is not None]
    reqs = _sel(req, REQUEST_COLUMNS)
    if flagged:
        marks = flagged[0] if len(flagged) == 1 else flagged[0].unionByName(flagged[1])
        reqs = reqs.join(marks.distinct().withColumn("_flag", F.lit(1)), "deletion_id", "left")
    else:
        reqs = reqs.withColumn("_flag", F.lit(None).cast("int"))
    order = [F.desc_nulls_last("_flag"), F.desc("requested_at"), "deletion_id"]
    chosen = collect(reqs, order, MAX_CASES)
    if not chosen:
        return []
    ids = ctx.spark.createDataFrame([(r["deletion_id"],) for r in chosen], "deletion_id string")

    def by_id(df: DataFrame | None, order: list[Any], cap: int) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if df is None:
            return out
        for r in collect(df.join(F.broadcast(ids), "deletion_id"), ["deletion_id", *order], cap):
            out.setdefault(r["deletion_id"], []).append(r)
        return out

    ev = ctx.store.read("deletion_events", missing_ok=True)
    events = by_id(
        _sel(ev, EVENT_COLUMNS) if ev is not None else None, ["ts", "event"], MAX_CASES * MAX_EVENTS
    )
    anoms = by_id(
        an_today.drop("run_date") if an_today is not None else None, ["check"], MAX_CASES * 20
    )
    found = by_id(
        res_today.drop("run_date", "subject_key") if res_today is not None else None,
        ["asset", "column"],
        MAX_CASES * 50,
    )
    history = purge_history(ctx, ids)
    completed = {d for d, evs in events.items() if any(e["event"] == "completed" for e in evs)}
    scans = _scans(ctx, day, by_id)
    targets = scanned_tables(ctx) if completed and scans is None else []
    cases = []
    for r in chosen:
        did = r["deletion_id"]
        rows = list(found.get(did, []))
        if scans is not None:  # what the audit recorded per table: residual/clean/unverifiable
            rows = _with_finding_dates(scans.get(did, []), rows)
        elif did in completed:
            seen = {(x["asset"], x["column"]) for x in rows}
            rows += [
                {"asset": a, "column": c, "rows_found": 0, "status": "clean"}
                for a, c in targets
                if (a, c) not in seen
            ]
        rows.sort(key=lambda x: (-(x.get("rows_found") or 0), str(x["asset"]), str(x["column"])))
        cases.append(
            DeletionCase(
                request={k: r[k] for k in REQUEST_COLUMNS},
                events=events.get(did, [])[:MAX_EVENTS],
                anomalies=anoms.get(did, []),
                residuals=rows,
                history=history.get(did, []),
            )
        )
    return cases


def _scans(ctx: JobContext, day: date, by_id: Any) -> dict[str, list[dict[str, Any]]] | None:
    """Tonight's ``residual_scans`` rows per deletion id, or None when the audit wrote none."""
    scans = ctx.store.read(SCANS_TABLE, missing_ok=True)
    if scans is None:
        return None
    today = scans.filter(F.col("run_date") == F.lit(day))
    if today.isEmpty():
        return None
    return by_id(
        today.select("deletion_id", "asset", "column", "status", "rows_found", "detail"),
        ["asset", "column"],
        MAX_CASES * 50,
    )


def _with_finding_dates(
    scans: list[dict[str, Any]], found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The scan rows, with ``deleted_at``/``days_overdue`` of the residual findings."""
    dates = {(x["asset"], x["column"]): x for x in found if x.get("status") == "residual"}
    return [
        dict(
            s,
            deleted_at=dates.get((s["asset"], s["column"]), {}).get("deleted_at"),
            days_overdue=dates.get((s["asset"], s["column"]), {}).get("days_overdue"),
        )
        for s in scans
    ]


def _history_entry(
    action: str,
    ts: Any,
    asset: str,
    rows: int,
    entry_id: str | None = None,
    key_id: str | None = None,
) -> dict[str, Any]:
    """One row of a deletion's purge/restore history."""
    return {
        "action": action,
        "ts": ts,
        "asset": asset,
        "rows": rows,
        "entry_id": entry_id,
        "key_id": key_id,
    }


def _per_table(df: DataFrame, ids: DataFrame, by: str, ts: Column) -> list[dict[str, Any]]:
    """``df``'s rows of the deletions in ``ids``, counted (``rows``) per deletion id, table and
    ``by``, with ``ts`` as ``ts``; sorted by deletion id, ts and table."""
    g = (
        df.join(F.broadcast(ids), "deletion_id")
        .groupBy("deletion_id", "table", by)
        .agg(ts.alias("ts"), F.count(F.lit(1)).alias("rows"))
    )
    return collect(g, ["deletion_id", "ts", "table"], MAX_CASES * 50)


def purge_history(ctx: JobContext, ids: DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Purges (``purge_journal``, else ``restoration_log``) and restores per deletion id, with the
    status of the key that encrypts the purged rows (``active`` or ``destroyed``)."""
    from jobs.secrets.keyring import key_id_for

    live = {k.key_id for k in _keyring_status(ctx)}
    out: dict[str, list[dict[str, Any]]] = {}
    journal, log = (
        ctx.store.read(JOURNAL_TABLE, missing_ok=True),
        ctx.store.read(LOG_TABLE, missing_ok=True),
    )
    purges: list[tuple[str, dict[str, Any]]] = []
    if journal is not None:
        j = journal.filter(F.col("state") == "committed").join(F.broadcast(ids), "deletion_id")
        for r in collect(j, ["deletion_id", "started_at", "table"], MAX_CASES * 50):
            when = r["started_at"] or r["committed_at"]
            ts = r["committed_at"] or r["started_at"]
            key_id = key_id_for(when.date()) if when else None
            entry = _history_entry("purged", ts, r["table"], r["entries"], r["purge_id"], key_id)
            purges.append((r["deletion_id"], entry))
    elif log is not None:
        for r in _per_table(log, ids, "key_id", F.min("created_at")):
            entry = _history_entry("purged", r["ts"], r["table"], r["rows"], key_id=r["key_id"])
            purges.append((r["deletion_id"], entry))
    for deletion_id, p in purges:
        p["key_status"] = "active" if p["key_id"] in live else "destroyed"
        out.setdefault(deletion_id, []).append(p)
    restores = ctx.store.read(RESTORES_TABLE, missing_ok=True)
    if restores is not None:
        for r in _per_table(restores, ids, "outcome", F.max("restored_at")):
            entry = _history_entry(r["outcome"], r["ts"], r["table"], r["rows"])
            out.setdefault(r["deletion_id"], []).append(dict(entry, key_status=None))
    for rows in out.values():
        rows.sort(key=lambda x: (str(x["ts"]), str(x["action"])))
    return out


def restoration_section(ctx: JobContext, dates: list[date]) -> Section:
    """Restoration-log health: keys (ids and ages only) and entries written/restored/expired."""
    window = _window(ctx)
    keys = _keyring_status(ctx)
    rows = [
        {
            "key_id": k.key_id,
            "created_at": k.created,
            "age_days": k.age_days,
            "destroy_after": k.created + timedelta(days=window),
            "status": "overdue for destruction"
            if k.age_days >= window
            else ("future" if k.age_days < 0 else "active"),
        }
        for k in keys
    ]
    rows.sort(key=lambda r: str(r["key_id"]), reverse=True)
    overdue = sum(1 for r in rows if r["status"] == "overdue for destruction")
    written = restored = expired = destroyed = 0
    trend: list[tuple[date, int]] = [(d, 0) for d in dates]
    health = ctx.store.read(HEALTH_TABLE, missing_ok=True)
    if health is not None:
        t = (
            health.filter(F.col("run_date") == F.lit(ctx.run_date))
            .agg(F.sum("written"), F.sum("restored"), F.sum("expired"))
            .first()
        )
        written, restored, expired = (int(v or 0) for v in t)
        per = {
            r[0]: int(r[1] or 0)
            for r in health.filter(
                F.col("run_date").isin(dates) & (F.col("day") == F.col("run_date"))
            )
            .groupBy("run_date")
            .agg(F.sum("written"))
            .collect()
        }
        trend = [(d, per.get(d, 0)) for d in dates]
    elif ctx.store.exists(LOG_TABLE):
        log = ctx.store.read(LOG_TABLE)
        live = {k.key_id for k in keys}
        per_key = log.groupBy("key_id").count().collect()  # one row per key day: small
        expired = sum(int(r["count"]) for r in per_key if r["key_id"] not in live)
        written = log.filter(F.to_date("created_at") == F.lit(ctx.run_date)).count()
    man = ctx.store.read("run_manifest", missing_ok=True)
    if man is not None and "details" in man.columns:
        import json

        for r in (
            man.filter(F.col("job").isin("keys", "keys_rotate") & (F.col("status") == "ok"))
            .select("details")
            .limit(10000)
            .collect()
        ):
            try:
                destroyed += len(json.loads(r[0] or "{}").get("destroyed") or [])
            except (ValueError, AttributeError):
                pass
    return sec.restoration_log(
        keys_active=len(rows) - overdue,
        keys_destroyed=destroyed,
        keys_overdue=overdue,
        entries_written=written,
        entries_restored=restored,
        entries_expired=expired,
        rows=rows,
        trend=trend,
    )


__all__ = ["deletion_cases", "purge_history", "restoration_section", "scanned_tables"]
