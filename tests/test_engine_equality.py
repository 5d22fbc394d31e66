"""The whole demo nightly, once per storage engine, leaves equal table contents.

One demo company is generated and copied (same inputs, same pseudonym and restoration keys), then
``compliance nightly`` runs on one copy with ``storage.engine: delta-rs`` (the session's
``demo_homes``, which the cluster tests compare with too) and on another with
``storage.engine: spark``, in the suite's one Spark session and at the same home path. Every table
of both warehouses (the product's and the audited company's) is compared as a multiset of rows, in
Spark.

Columns that legitimately differ between two runs are left out of the comparison
(``_table_compare.ACROSS_ENGINES``): wall-clock times of the run itself, and
``run_manifest.engine``, which names the engine that ran each step (checked on its own). Slow:
two whole nightlies, one of them on delta-spark; run it with ``pytest -n 0 -m slow -k engine_equality``.
"""

from __future__ import annotations

import pytest
from _demo_homes import in_process
from _table_compare import ACROSS_ENGINES, compare_warehouses

from jobs.store.tables import TableStore


@pytest.mark.slow
def test_engine_equality_of_the_demo_nightly(delta_spark, demo_homes):
    spark = delta_spark
    demo_homes.run("spark", "storage:\n  engine: spark\n", in_process)
    homes = {engine: demo_homes.where(engine) for engine in ("delta-rs", "spark")}
    mismatched = compare_warehouses(
        spark,
        homes["delta-rs"],
        homes["spark"],
        engines=("delta-rs", "spark"),
        labels=("on delta-rs", "on spark"),
        skip=ACROSS_ENGINES,
    )
    assert mismatched == []
    for engine, home in homes.items():
        steps = TableStore(spark, str(home / "warehouse"), engine=engine).read("run_manifest")
        assert {r.engine for r in steps.select("engine").collect()} == {engine}
