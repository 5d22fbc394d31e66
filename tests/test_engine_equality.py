"""The whole demo nightly, once per storage engine, leaves equal table contents.

One demo company is generated and copied (same inputs, same pseudonym and restoration keys), then
``compliance nightly`` runs on one copy with ``storage.engine: delta-rs`` and on the other with
``storage.engine: spark`` in the suite's one Spark session. Every table of both warehouses (the
product's and the audited company's) is compared as a multiset of rows, in Spark.

Columns that legitimately differ between two runs are left out of the comparison (``_table_compare.WALL_CLOCK``):
wall-clock times of the run itself, and ``run_manifest.engine``, which names the engine that
ran each step (checked on its own). Slow: two whole
nightlies, one of them on delta-spark; run it with ``pytest -m slow -k engine_equality``.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date

import pytest
from _table_compare import WALL_CLOCK, compare_warehouses

from jobs.store.tables import TableStore

DEMO_DATE = "2026-11-22"


@pytest.mark.slow
def test_engine_equality_of_the_demo_nightly(delta_spark, tmp_path_factory):
    from jobs.cli import main
    from jobs.demo import generate_demo
    from jobs.secrets.pseudonym import load_or_create

    spark = delta_spark
    base = tmp_path_factory.mktemp("eq")
    generate_demo(base / "demo", as_of=date.fromisoformat(DEMO_DATE))
    # One pseudonymisation key for every copy: the demo has none, and a nightly creates a random
    # one, so each copy would key subject ids (sk_...) differently and every keyed table differ.
    load_or_create(str(base / "demo" / "keys"))
    homes = {}
    # Both nightlies run at the same home path, one after the other (each result moved aside):
    # the paths of input files recorded in the landed tables are then the same.
    home = base / "home"
    for engine in ("delta-rs", "spark"):
        shutil.copytree(base / "demo", home)
        conf = home / "conf.yaml"
        conf.write_text(f"home: {home}\nstorage:\n  engine: {engine}\n", encoding="utf-8")
        t0 = time.monotonic()
        code = main(["nightly", "--conf", str(conf), "--run-date", DEMO_DATE, "--quiet"])
        assert code == 0, engine
        print(f"demo nightly on {engine}: {time.monotonic() - t0:.1f} s")  # shown with -rP
        homes[engine] = base / engine
        os.rename(home, homes[engine])
    # run_manifest records which engine ran each step: that column differs by design.
    skip = {**WALL_CLOCK, "run_manifest": WALL_CLOCK["run_manifest"] | {"engine"}}
    mismatched = compare_warehouses(
        spark,
        homes["delta-rs"],
        homes["spark"],
        engines=("delta-rs", "spark"),
        labels=("on delta-rs", "on spark"),
        skip=skip,
    )
    assert mismatched == []
    for engine, home in homes.items():
        steps = TableStore(spark, str(home / "warehouse"), engine=engine).read("run_manifest")
        assert {r.engine for r in steps.select("engine").collect()} == {engine}
