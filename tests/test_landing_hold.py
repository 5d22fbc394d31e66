"""Landing loses nothing: lines after the run's window wait, files are known by content.

- a line whose event time is after the run's window is held (``held_inputs``), not rejected, and
  the run whose window contains it lands it: a backfill followed by today lands exactly what one
  run for today lands;
- a line appended to a landed file lands alone (the earlier lines keep their landing date);
- a corrected file of the same size and modification time is re-landed (content, not metadata).

Each test runs ``compliance land`` on a tiny hand-written home.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.store.tables import TableStore

TABLES = ("deletion_events", "landed_query_logs", "rejected_inputs", "held_inputs")
DATE_COLUMNS = {"landed_on", "run_date"}


def _event(i: int, ts: str, **more) -> str:
    return json.dumps({"deletion_id": f"d{i}", "event": "progress", "ts": ts, **more})


EVENTS = [
    _event(1, "2026-11-10T10:00:00Z"),  # before every window
    _event(2, "2026-11-18T23:59:59Z"),  # in the backfill's window
    _event(3, "2026-11-19T00:00:01Z"),  # just after the backfill's window
    _event(4, "2026-11-21T08:00:00Z"),  # in today's window only
    _event(5, "2026-11-22T00:00:01Z"),  # after today's window: still held
    _event(6, "2026-11-20T10:00:00Z", event="bogus"),  # rejected whatever the date
    _event(7, "1900-01-01T00:00:00Z"),  # before 2000: rejected
]
QUERIES = [
    json.dumps({"query_id": "q1", "started_at": "2026-11-17T01:00:00Z", "sql": "SELECT 1"}),
    json.dumps({"query_id": "q2", "started_at": "2026-11-20T01:00:00Z", "sql": "SELECT 2"}),
]
BACKFILL, TODAY = "2026-11-18", "2026-11-21"


def _home(root: Path) -> Path:
    inputs = root / "inputs"
    for kind, lines in (("deletion_events", EVENTS), ("query_logs", QUERIES)):
        (inputs / kind).mkdir(parents=True)
        (inputs / kind / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inputs / "catalog.yaml").write_text("", encoding="utf-8")
    conf = f"home: {root}\nstorage:\n  engine: delta-rs\n"
    (root / "conf.yaml").write_text(conf, encoding="utf-8")
    return root


def _land(home: Path, run_date: str) -> None:
    assert main(["land", "--conf", str(home / "conf.yaml"), "--run-date", run_date, "--quiet"]) == 0


def _store(spark, home: Path) -> TableStore:
    return TableStore(spark, str(home / "warehouse"), engine="delta-rs")


def _without_dates_and_paths(df, home: Path):
    df = df.drop(*[c for c in df.columns if c in DATE_COLUMNS])
    for c in ("source", "source_file"):
        if c in df.columns:
            df = df.withColumn(c, F.replace(F.col(c), F.lit(str(home)), F.lit("HOME")))
    return df.drop("extra") if "extra" in df.columns else df


def test_a_backfill_then_today_lands_what_one_run_for_today_lands(spark, tmp_path):
    twice = _home(tmp_path / "twice")
    _land(twice, BACKFILL)
    held = _store(spark, twice).read("held_inputs").select("kind", "line", "reason").collect()
    assert sorted((r.kind, r.line) for r in held) == [
        ("deletion_events", 3),
        ("deletion_events", 4),
        ("deletion_events", 5),
        ("query_logs", 2),
    ]
    assert {r.reason for r in held if r.kind == "deletion_events"} == {
        "field 'ts' is after the run's window (ends 2026-11-19 00:00 UTC): held for the run whose "
        "window holds it"
    }
    assert _store(spark, twice).read("landed_query_logs").select("query_id").collect() == [("q1",)]
    _land(twice, TODAY)

    once = _home(tmp_path / "once")
    _land(once, TODAY)
    for table in TABLES:
        assert_df_equality(
            _without_dates_and_paths(_store(spark, twice).read(table), twice),
            _without_dates_and_paths(_store(spark, once).read(table), once),
            ignore_row_order=True,
            ignore_nullable=True,
        )
    # and what that is, written out
    store = _store(spark, twice)
    ev = store.read("deletion_events")
    assert sorted((r.deletion_id, str(r.landed_on)) for r in ev.collect()) == [
        ("d1", BACKFILL),
        ("d2", BACKFILL),
        ("d3", TODAY),
        ("d4", TODAY),
    ]
    held = [(r.line, r.kind) for r in store.read("held_inputs").collect()]
    assert held == [(5, "deletion_events")]
    rejected = {r.location: r.reason for r in store.read("rejected_inputs").collect()}
    assert rejected == {
        "line 6": "field 'event' not one of scheduled, started, progress, rerun, exception, completed",
        "line 7": "field 'ts' is before 2000-01-01",
    }
    (ledger,) = store.read("landed_files").filter(F.col("kind") == "deletion_events").collect()
    assert (ledger.lines, ledger.accepted, ledger.rejected, ledger.held) == (7, 4, 2, 1)


def test_a_held_line_lands_once_its_window_comes_and_a_rerun_changes_nothing(spark, tmp_path):
    home = _home(tmp_path / "h")
    _land(home, BACKFILL)
    _land(home, "2026-11-22")
    store = _store(spark, home)
    assert sorted(r.deletion_id for r in store.read("deletion_events").collect()) == [
        "d1",
        "d2",
        "d3",
        "d4",
        "d5",
    ]
    assert store.read("held_inputs").count() == 0
    versions = {t: store.version(t) for t in store.list_tables() if t != "run_manifest"}
    _land(home, "2026-11-22")
    assert {t: store.version(t) for t in versions} == versions


def test_an_appended_line_lands_alone(spark, tmp_path):
    home = _home(tmp_path / "a")
    _land(home, TODAY)
    with open(home / "inputs" / "query_logs" / "a.jsonl", "a", encoding="utf-8") as fh:
        fh.write(
            json.dumps({"query_id": "q3", "started_at": "2026-11-21T01:00:00Z", "sql": "SELECT 3"})
            + "\n"
        )
    _land(home, "2026-11-22")
    store = _store(spark, home)
    got = sorted(
        (r.query_id, r.line, str(r.landed_on)) for r in store.read("landed_query_logs").collect()
    )
    assert got == [("q1", 1, TODAY), ("q2", 2, TODAY), ("q3", 3, "2026-11-22")]
    (row,) = store.read("run_manifest").filter(F.col("run_date") == date(2026, 11, 22)).collect()
    # one new line read; written: it and the event held by the first run (d5), whose window came
    assert (row.inputs_read, row.rows_written, row.rows_rejected) == (1, 2, 0)
    (ledger,) = store.read("landed_files").filter(F.col("kind") == "query_logs").collect()
    assert (ledger.lines, ledger.accepted, ledger.last_line) == (3, 3, 3)


def test_a_corrected_file_of_the_same_size_and_mtime_is_relanded(spark, tmp_path):
    home = _home(tmp_path / "c")
    path = home / "inputs" / "query_logs" / "a.jsonl"
    _land(home, TODAY)
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("SELECT 2", "SELECT 9"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    _land(home, "2026-11-22")
    got = sorted(
        (r.query_id, r.sql) for r in _store(spark, home).read("landed_query_logs").collect()
    )
    assert got == [("q1", "SELECT 1"), ("q2", "SELECT 9")]


def test_a_corrected_shorter_file_leaves_no_stale_rows(spark, tmp_path):
    home = _home(tmp_path / "s")
    path = home / "inputs" / "deletion_events" / "a.jsonl"
    _land(home, TODAY)
    path.write_text(EVENTS[0] + "\n", encoding="utf-8")
    _land(home, "2026-11-22")
    store = _store(spark, home)
    assert [r.deletion_id for r in store.read("deletion_events").collect()] == ["d1"]
    assert store.read("rejected_inputs").filter(F.col("kind") == "deletion_events").count() == 0
    assert store.read("held_inputs").count() == 0


def test_the_manifest_adds_up_every_attempt_of_a_run_date(spark, tmp_path, monkeypatch):
    import jobs.steps.land as landing

    home = _home(tmp_path / "m")
    real = landing.land_kind

    def dies_at_probes(ctx, kind, root, **kw):  # a fault after two kinds have landed
        if kind.name == "probe_samples":
            raise RuntimeError("killed")
        return real(ctx, kind, root, **kw)

    monkeypatch.setattr(landing, "land_kind", dies_at_probes)
    args = ["land", "--conf", str(home / "conf.yaml"), "--run-date", TODAY, "--quiet"]
    assert main(args) == 3
    monkeypatch.setattr(landing, "land_kind", real)
    store = _store(spark, home)
    (row,) = store.read("run_manifest").collect()
    # the kind landed before the fault (query logs, 2 lines) is counted
    assert (row.status, row.inputs_read, row.rows_written, row.rows_rejected) == ("failed", 2, 2, 0)
    probes = home / "inputs" / "probe_samples"
    probes.mkdir(parents=True)
    (probes / "p.jsonl").write_text(
        json.dumps(
            {
                "request_id": "p1",
                "ts": "2026-11-21T01:00:00Z",
                "role": "sink",
                "asset": "a.b",
                "value_hashes": ["h"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(args) == 0
    (row,) = store.read("run_manifest").collect()
    assert (row.status, row.inputs_read, row.rows_written, row.rows_rejected) == ("ok", 10, 7, 2)
    assert main(args) == 0  # run again (as --force does): nothing new, the counts stay
    (row,) = store.read("run_manifest").collect()
    assert (row.status, row.inputs_read, row.rows_written, row.rows_rejected) == ("ok", 10, 7, 2)


LANDED_TABLES = (
    "landed_query_logs",
    "landed_openlineage",
    "landed_probe_samples",
    "deletion_events",
    "deletion_requests",
    "landed_edge_inventory",
    "landed_training_configs",
    "rejected_inputs",
    "held_inputs",
)


@pytest.mark.slow
def test_demo_a_run_five_days_back_then_today_lands_what_one_run_for_today_lands(spark, tmp_path):
    import shutil

    from jobs.demo import generate_demo

    today = date(2026, 11, 22)
    one = tmp_path / "one"
    generate_demo(one, as_of=today)
    two = tmp_path / "two"
    two.mkdir()
    shutil.copytree(one / "inputs", two / "inputs")
    keys = tmp_path / "keys"  # one pseudonym key for both homes, so subject keys compare
    for home in (one, two):
        (home / "conf.yaml").write_text(f"home: {home}\nkeys:\n  dir: {keys}\n", encoding="utf-8")
    _land(one, str(today))
    _land(two, "2026-11-17")
    _land(two, str(today))
    s1, s2 = TableStore(spark, str(one / "warehouse")), TableStore(spark, str(two / "warehouse"))
    total = 0
    for table in LANDED_TABLES:
        a = _without_dates_and_paths(s2.read(table), two)
        b = _without_dates_and_paths(s1.read(table), one)
        assert a.count() == b.count(), table
        assert a.exceptAll(b).count() == 0 and b.exceptAll(a).count() == 0, table
        total += b.count()
    assert total > 10_000
