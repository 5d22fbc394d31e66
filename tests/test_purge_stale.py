"""``compliance purge`` refuses findings older than the run date unless told to go ahead."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from _restoration_world import CUSTOMER_ROWS, CUSTOMERS, NOW, TODAY, build_world, eq
from pyspark.sql import functions as F

from jobs.cli import exit_code_for
from jobs.commands.purge import StaleFindingsError, purge

EVENTS = "deletion_id string, event string, ts timestamp"


def test_purge_on_a_stale_nights_findings_refuses_and_says_why(spark, tmp_path):
    w = build_world(spark, tmp_path)  # findings of the audit of TODAY
    day1 = datetime.combine(TODAY + timedelta(days=1), datetime.min.time())
    w.ctx.store.append(
        "deletion_events",
        w.df(
            [
                ("del-2", "rerun", day1 + timedelta(hours=3)),  # after the findings' audit
                ("del-2", "completed", day1 + timedelta(hours=4)),
                ("del-3", "rerun", day1 + timedelta(hours=5)),  # another deletion
                ("del-2", "started", datetime(2026, 11, 20, 9)),  # before: not counted
            ],
            EVENTS,
        ),
    )
    w.ctx.run_date = TODAY + timedelta(days=2)
    later = NOW + timedelta(days=2)

    with pytest.raises(StaleFindingsError) as err:
        purge(
            w.ctx,
            deletion_id="del-2",
            all_findings=False,
            dry_run=False,
            keyring=w.keyring,
            now=later,
        )
    msg = str(err.value)
    assert exit_code_for(err.value) == 2 and "\n" not in msg
    assert "from the audit of 2026-11-22, 2 days before the run date 2026-11-24" in msg
    assert "2 lifecycle events of deletion del-2 arrived after that audit" in msg
    assert "--allow-stale-findings" in msg
    eq(w.customers(), w.df(CUSTOMER_ROWS, CUSTOMERS))
    assert not w.ctx.store.exists("purge_journal")

    dry = purge(
        w.ctx, deletion_id="del-2", all_findings=False, dry_run=True, keyring=w.keyring, now=later
    )
    assert dry.rows == 4 and any(n.startswith("WARNING: STALE FINDINGS") for n in dry.notes)

    done = purge(
        w.ctx,
        deletion_id="del-2",
        all_findings=False,
        dry_run=False,
        keyring=w.keyring,
        now=later,
        allow_stale=True,
    )
    assert done.rows == 4 and "note: WARNING: STALE FINDINGS" in done.text()
    assert w.customers().filter(F.col("customer_id") == 2).count() == 0


def test_purge_on_the_run_dates_findings_goes_ahead(spark, tmp_path):
    w = build_world(spark, tmp_path)
    report = purge(
        w.ctx, deletion_id="del-3", all_findings=False, dry_run=False, keyring=w.keyring, now=NOW
    )
    assert report.rows == 1 and not any("STALE" in n for n in report.notes)
