"""The registry of tables and steps is the data flow the nightly really has.

The demo nightly records, per step, the tables it read and wrote through the store
(``run_manifest.details.tables``); they must be what :mod:`jobs.registry` declares.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from pyspark.sql import functions as F

from jobs.commands.export import step_event
from jobs.pipeline import NIGHTLY
from jobs.registry import STEP_BY_NAME, STEPS, TABLES


def _touched(demo_run) -> dict[str, dict[str, set[str]]]:
    rows = (
        demo_run.store.read("run_manifest")
        .filter(F.col("status") == "ok")
        .select("job", "details")
        .collect()
    )
    out = {}
    for r in rows:
        tables = json.loads(r.details)["tables"]
        out[r.job] = {"read": set(tables["read"]), "written": set(tables["written"])}
    return out


def test_every_table_in_the_warehouse_is_declared(demo_run):
    assert set(demo_run.store.list_tables()) <= set(TABLES)


def _columns(schema) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in schema.fields]


def test_every_table_the_nightly_writes_has_the_declared_columns(demo_run):
    from pyspark.sql.types import StructType

    written = demo_run.store.list_tables()
    assert len(written) >= 25
    for name in written:
        declared = TABLES[name].schema
        assert declared is not None, f"{name} is written by the nightly but declares no schema"
        got = _columns(demo_run.store.read(name).schema)
        assert got == _columns(StructType.fromDDL(declared)), name


def test_the_tables_without_a_declared_schema_are_the_named_exceptions():
    assert sorted(n for n, s in TABLES.items() if s.schema is None) == ["restoration_log"]


def test_each_step_touches_exactly_the_tables_it_declares(demo_run):
    touched = _touched(demo_run)
    assert set(touched) == {s.name for s in STEPS}
    existing = set(demo_run.store.list_tables())
    order = [s.name for s in STEPS]
    for i, spec in enumerate(STEPS):
        got = touched[spec.name]
        assert got["read"] <= set(spec.reads), (spec.name, got["read"] - set(spec.reads))
        assert got["written"] <= set(spec.writes), (spec.name, got["written"] - set(spec.writes))
        # a declared table the step did not touch is one that did not exist when it ran
        written_before = set().union(*[touched[n]["written"] for n in order[:i]])
        for t in set(spec.reads) - got["read"]:
            assert t not in existing or t not in written_before, (spec.name, "declared read", t)
        for t in set(spec.writes) - got["written"]:
            assert t not in existing or t not in written_before, (spec.name, "declared write", t)


def test_the_nightly_order_and_the_openlineage_events_come_from_the_registry():
    assert [n for n, _ in NIGHTLY] == [s.name for s in STEPS]
    event = step_event(
        "closure", "2026-11-22", "COMPLETE", now=datetime(2026, 11, 22, tzinfo=timezone.utc)
    )
    spec = STEP_BY_NAME["closure"]
    assert [d["name"] for d in event["inputs"]] == list(spec.reads)
    assert [d["name"] for d in event["outputs"]] == list(spec.writes)
