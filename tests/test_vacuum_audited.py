"""``compliance vacuum --audited``: purged rows leave the audited tables' Delta history."""

from __future__ import annotations

from pathlib import Path

import pytest
from _restoration_world import NOW, build_world
from deltalake import DeltaTable
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.commands.purge import purge
from jobs.commands.vacuum import vacuum_audited
from jobs.errors import UsageError


def _unreferenced(path: str) -> set[str]:
    """Parquet files on disk that the current version of the table does not reference."""
    on_disk = {p.resolve() for p in Path(path).rglob("*.parquet") if "_delta_log" not in p.parts}
    live = {Path(u.removeprefix("file://")).resolve() for u in DeltaTable(path).file_uris()}
    return {str(p) for p in on_disk - live}


def _data_files(path: str) -> set[str]:
    """Every file of the table folder outside the Delta log."""
    return {str(p) for p in Path(path).rglob("*") if p.is_file() and "_delta_log" not in p.parts}


def test_vacuum_removes_the_purged_files_and_checks_the_retention(spark, tmp_path, capsys):
    w = build_world(spark, tmp_path, conf=f"home: {tmp_path}\n")
    purge(w.ctx, deletion_id="del-2", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW)
    tables = ["app.orders", "crm.customers"]
    stale = {t: _unreferenced(w.ctx.audited.path(t)) for t in tables}
    assert all(stale.values())
    old = w.ctx.audited.read("crm.customers", version=0)
    assert old.filter(F.col("customer_id") == 2).count() == 2

    with pytest.raises(UsageError, match="below the configured minimum of 168 hours"):
        vacuum_audited(w.ctx, retention_hours=0)
    args = ["--conf", str(tmp_path / "conf.yaml"), "--quiet"]
    assert main(["vacuum", "--audited", "--retention-hours", "5", *args]) == 2
    assert "pass --force" in capsys.readouterr().err

    before = {t: _data_files(w.ctx.audited.path(t)) for t in tables}
    report = vacuum_audited(w.ctx, retention_hours=0, force=True)
    gone = {t: before[t] - _data_files(w.ctx.audited.path(t)) for t in tables}
    assert all(stale[t] <= gone[t] for t in tables)  # every purged Parquet file is deleted
    assert [(t.table, t.files_removed) for t in report.tables] == [
        (t, len(gone[t])) for t in tables
    ]
    assert all(not _unreferenced(w.ctx.audited.path(t)) for t in tables)
    text = report.text()
    assert "crm.customers" in text and f"{report.files_removed} files removed" in text
    assert w.ctx.audited.read("crm.customers").count() == 3

    with pytest.raises(UsageError, match="no such table"):
        vacuum_audited(w.ctx, tables=["crm.nope"], retention_hours=0, force=True)
