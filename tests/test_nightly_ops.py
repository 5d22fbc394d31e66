"""Nightly operations: resume after a crash or a kill, concurrent-run refusal, exit codes, reruns.

The reference is the session's uninterrupted demo run (`demo_run`); interrupted runs work on a copy
of its inputs (and its key directory, so pseudonymous keys agree) and must end with equal tables.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.cli import main
from jobs.runner import warehouse_lock
from jobs.store.tables import TableStore

COMPARED = [
    "landed_query_logs",
    "deletion_events",
    "deletion_requests",
    "rejected_inputs",
    "assets",
    "columns",
    "lineage_edges",
    "lineage_closure",
    "policy_violations",
    "deletion_anomalies",
    "residual_findings",
    "retention_violations",
    "annotation_findings",
]


def _copy_home(demo_run, dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copytree(demo_run.home / "inputs", dest / "inputs")
    shutil.copytree(demo_run.home / "company", dest / "company")
    shutil.copytree(demo_run.home / "keys", dest / "keys")
    (dest / "keys").chmod(0o700)
    conf = dest / "conf.yaml"
    conf.write_text(f"home: {dest}\n", encoding="utf-8")
    return conf


def _normalised(store: TableStore, name: str, home: Path):
    df = store.read(name)
    for f in df.schema.fields:
        if f.dataType.simpleString().startswith("map<"):  # maps cannot be sorted or hashed
            df = df.withColumn(f.name, F.to_json(F.array_sort(F.map_entries(F.col(f.name)))))
    for f in df.schema.fields:
        if f.dataType.simpleString() == "string":
            df = df.withColumn(f.name, F.regexp_replace(F.col(f.name), str(home), "<home>"))
        elif f.dataType.simpleString() == "array<string>":  # e.g. evidence naming input files
            df = df.withColumn(
                f.name,
                F.transform(F.col(f.name), lambda x: F.regexp_replace(x, str(home), "<home>")),
            )
    return df


def _assert_same_tables(spark, ref_home: Path, other_home: Path) -> None:
    ref = TableStore(spark, str(ref_home / "warehouse"))
    other = TableStore(spark, str(other_home / "warehouse"))
    for name in COMPARED:
        assert_df_equality(
            _normalised(other, name, other_home),
            _normalised(ref, name, ref_home),
            ignore_row_order=True,
            ignore_column_order=True,
            ignore_nullable=True,
        )


def _args(conf: Path) -> list[str]:
    return ["--conf", str(conf), "--run-date", "2026-11-22", "--quiet"]


class Crash(Exception):
    """Injected failure: the process 'dies' in the middle of a step."""


def _crash(*_a, **_k):
    raise Crash("injected crash")


@pytest.mark.slow
def test_a_run_crashing_in_each_step_resumes_to_the_same_tables(
    demo_run, spark, tmp_path, monkeypatch
):
    conf = _copy_home(demo_run, tmp_path / "h")
    import jobs.steps.audit
    import jobs.steps.ingest
    import jobs.steps.land
    import jobs.steps.policy

    calls = {"n": 0}
    real_record = jobs.steps.land.ge_validation.record

    def crash_on_third_kind(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Crash("injected crash in land")
        return real_record(*a, **k)

    crash_points = [
        (
            "land",
            lambda: monkeypatch.setattr(
                jobs.steps.land.ge_validation, "record", crash_on_third_kind
            ),
        ),
        ("ingest", lambda: monkeypatch.setattr(jobs.steps.ingest, "write_catalog", _crash)),
        ("closure", lambda: monkeypatch.setattr(jobs.steps.policy, "policy_and_new_flows", _crash)),
        ("audit", lambda: monkeypatch.setattr(jobs.steps.audit, "annotations", _crash)),
    ]
    for step, inject in crash_points:
        inject()
        assert main(["nightly", *_args(conf)]) == 3, step
        monkeypatch.undo()
        manifest = TableStore(spark, str(tmp_path / "h" / "warehouse")).read("run_manifest")
        assert manifest.filter((F.col("job") == step) & (F.col("status") == "failed")).count() == 1
    assert main(["nightly", *_args(conf)]) in (0, 1)
    _assert_same_tables(spark, demo_run.home, tmp_path / "h")


@pytest.mark.slow
def test_a_killed_process_resumes_and_takes_over_its_stale_lock(demo_run, spark, tmp_path):
    conf = _copy_home(demo_run, tmp_path / "k")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", "nightly", *_args(conf)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    store = TableStore(spark, str(tmp_path / "k" / "warehouse"))
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline:  # wait until landing has committed, then kill mid-ingest
            if (
                store.exists("run_manifest")
                and store.read("run_manifest")
                .filter((F.col("job") == "land") & (F.col("status") == "ok"))
                .count()
            ):
                break
            if proc.poll() is not None:
                pytest.fail("the nightly run ended before it could be killed")
            time.sleep(2)
        time.sleep(3)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (tmp_path / "k" / "nightly.lock").exists()  # left behind by the killed run
    assert main(["nightly", *_args(conf)]) in (0, 1)
    _assert_same_tables(spark, demo_run.home, tmp_path / "k")


def test_a_second_run_is_refused_while_one_holds_the_lock(demo_run, capsys):
    with warehouse_lock(str(demo_run.home)):
        code = main(["nightly", *_args(demo_run.conf)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds" in err[0] and err[0].startswith("compliance: error:")


def test_rerun_for_the_same_date_skips_done_steps_and_changes_nothing(demo_run, spark):
    before = {n: demo_run.store.version(n) for n in COMPARED}
    assert main(["nightly", *_args(demo_run.conf)]) == 0
    assert {n: demo_run.store.version(n) for n in COMPARED} == before


def test_fail_on_findings_exits_one(demo_run):
    assert main(["nightly", "--fail-on-findings", *_args(demo_run.conf)]) == 1


def test_forced_ingest_rerun_leaves_lineage_unchanged(demo_run, spark):
    before = demo_run.store.read("lineage_edges").localCheckpoint()
    assert main(["ingest", *_args(demo_run.conf)]) == 0
    assert_df_equality(
        demo_run.store.read("lineage_edges"), before, ignore_row_order=True, ignore_nullable=True
    )
