"""``compliance reland``: rejected lines are queued for the next landing, which lands them once
their cause is gone, rejects them again otherwise, and keeps the ledger adding up.

The home is landed by the product itself. A line rejected by an earlier release (a rule since
corrected) is set up as that release left it: its row removed from the landed table, a
``rejected_inputs`` row with the old reason, the ledger counting it rejected.
"""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

DAY1, DAY2 = "2026-11-21", "2026-11-22"
OLD_REASON = "field 'points_deleted' is over 1000 (a rule of release 0.9, since removed)"


@pytest.fixture(scope="module")
def home(spark, tmp_path_factory):
    from jobs.cli import main
    from jobs.store.tables import TableStore

    home = tmp_path_factory.mktemp("reland")
    events = home / "inputs" / "deletion_events"
    events.mkdir(parents=True)
    (home / "inputs" / "catalog.yaml").write_text("", encoding="utf-8")
    (events / "e.jsonl").write_text(
        '{"deletion_id":"d1","object_id":"o1","event":"started","ts":"2026-11-20T01:00:00Z"}\n'
        '{"deletion_id":"d1","object_id":"o1","event":"progress","ts":"2026-11-20T02:00:00Z",'
        '"points_deleted":5000}\n'
        # rejected by this release too: no event
        '{"deletion_id":"d1","object_id":"o1","ts":"2026-11-20T03:00:00Z"}\n',
        encoding="utf-8",
    )
    conf = home / "conf.yaml"
    conf.write_text(f"home: {home}\nstorage:\n  engine: delta-rs\n", encoding="utf-8")
    assert main(["land", "--conf", str(conf), "--run-date", DAY1, "--quiet"]) == 0
    store = TableStore(spark, str(home / "warehouse"), engine="delta-rs")
    src = store.read("deletion_events").filter(F.col("line") == 2).first().source_file
    # what release 0.9 left: line 2 rejected, not landed
    store.delete_where("deletion_events", F.col("line") == 2)
    store.upsert(
        "rejected_inputs",
        spark.createDataFrame(
            [(src, "line 2", OLD_REASON, "", DAY1, "deletion_events")],
            "source string, location string, reason string, raw string, run_date string, "
            "kind string",
        ).withColumn("run_date", F.col("run_date").cast("date")),
        keys=["source", "location"],
    )
    store.overwrite(
        "landed_files",
        store.read("landed_files")
        .withColumn("accepted", F.col("accepted") - 1)
        .withColumn("rejected", F.col("rejected") + 1),
    )
    return conf, store, src


def _ledger(store):
    r = store.read("landed_files").filter(F.col("kind") == "deletion_events").first()
    return (r.lines, r.accepted, r.rejected, r.held)


def _rejected(store):
    return sorted((r.location, r.reason) for r in store.read("rejected_inputs").collect())


def test_reland_queues_replays_and_records_once(home, capsys):
    from jobs.cli import main

    conf, store, src = home
    args = ["--conf", str(conf), "--run-date", DAY2, "--quiet"]
    assert _ledger(store) == (3, 1, 2, 0)
    assert main(["reland", "--dry-run", "--kind", "deletion_events", *args]) == 0
    assert "would queue 2 rejected line(s) of 1 file(s)" in capsys.readouterr().out
    assert _ledger(store) == (3, 1, 2, 0)  # the dry run changed nothing

    assert main(["reland", "--kind", "deletion_events", *args]) == 0
    out = capsys.readouterr().out
    assert "queued 2 rejected line(s)" in out and OLD_REASON in out
    assert _ledger(store) == (3, 1, 0, 2)  # still adds up: the lines wait as held
    assert _rejected(store) == []
    held = sorted((r.line, r.reason) for r in store.read("held_inputs").collect())
    assert [line for line, _ in held] == [2, 3]
    assert all(reason.startswith("reland requested: ") for _, reason in held)

    # queued once: the same reland again finds nothing
    assert main(["reland", "--kind", "deletion_events", *args]) == 0
    assert "nothing queued" in capsys.readouterr().out

    # the next landing reads the two lines with this release's rules
    assert main(["land", *args]) == 0
    lines = sorted(r.line for r in store.read("deletion_events").collect())
    assert lines == [1, 2]  # the corrected rule lets line 2 land
    assert _rejected(store) == [("line 3", "missing required field 'event'")]
    assert _ledger(store) == (3, 2, 1, 0)
    assert store.read("held_inputs").filter(F.col("kind") == "deletion_events").count() == 0

    rec = store.read("relandings").collect()
    assert [(r.kind, r.source, r.lines, str(r.first_rejected_on)) for r in rec] == [
        ("deletion_events", src, 2, DAY1)
    ]
    assert rec[0].selection == "kind=deletion_events"


def test_an_unknown_kind_is_a_usage_error_before_spark(tmp_path, capsys):
    import subprocess
    import sys

    conf = tmp_path / "conf.yaml"
    conf.write_text(f"home: {tmp_path}\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "jobs.cli", "reland", "--kind", "emails", "--conf", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert (
        run.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "reland: --kind emails is not an input kind of the landing (one of query_logs, "
            "openlineage, probe_samples, deletion_events, deletion_requests, edge_inventory)"
        )
    )
    assert "Spark" not in run.stdout + run.stderr
