"""The whole demo nightly, once per storage engine, leaves equal table contents.

One demo company is generated and copied (same inputs, same pseudonym and restoration keys), then
``compliance nightly`` runs on one copy with ``storage.engine: delta-rs`` and on the other with
``storage.engine: spark`` in the suite's one Spark session. Every table of both warehouses (the
product's and the audited company's) is compared as a multiset of rows, in Spark.

Columns that legitimately differ between two runs are left out of the comparison (WALL_CLOCK):
wall-clock times of the run itself, and restoration-log ciphertext (random IVs). Slow: two whole
nightlies, one of them on delta-spark; run it with ``pytest -m slow -k engine_equality``.
"""

from __future__ import annotations

import shutil
import time
from datetime import date

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, MapType, StructType

from jobs.store.tables import TableStore

DEMO_DATE = "2026-11-22"

#: table -> columns whose values are wall-clock readings (or random) and differ between any runs.
WALL_CLOCK: dict[str, set[str]] = {
    "run_manifest": {"started_at", "finished_at", "duration_s", "details"},
}


def comparable(df: DataFrame) -> DataFrame:
    """Maps become sorted entry arrays (map order is not data); other types are compared as is."""

    def fix(col, dtype):
        if isinstance(dtype, MapType):
            return F.array_sort(F.map_entries(col))
        if isinstance(dtype, StructType) and any(
            isinstance(f.dataType, (MapType, StructType, ArrayType)) for f in dtype.fields
        ):
            return F.struct(*[fix(col[f.name], f.dataType).alias(f.name) for f in dtype.fields])
        return col

    return df.select(
        *[fix(F.col(f"`{f.name}`"), f.dataType).alias(f.name) for f in df.schema.fields]
    )


def differences(a: DataFrame, b: DataFrame) -> tuple[int, int]:
    a, b = comparable(a), comparable(b)
    return a.exceptAll(b).count(), b.exceptAll(a).count()


@pytest.mark.slow
def test_engine_equality_of_the_demo_nightly(delta_spark, tmp_path_factory):
    from jobs.cli import main
    from jobs.demo import generate_demo

    spark = delta_spark
    base = tmp_path_factory.mktemp("eq")
    generate_demo(base / "demo", as_of=date.fromisoformat(DEMO_DATE))
    homes = {}
    for engine in ("delta-rs", "spark"):
        home = base / engine
        shutil.copytree(base / "demo", home)
        conf = home / "conf.yaml"
        conf.write_text(f"home: {home}\nstorage:\n  engine: {engine}\n", encoding="utf-8")
        t0 = time.monotonic()
        code = main(["nightly", "--conf", str(conf), "--run-date", DEMO_DATE, "--quiet"])
        assert code == 0, engine
        print(f"demo nightly on {engine}: {time.monotonic() - t0:.1f} s")  # shown with -rP
        homes[engine] = home
    mismatched = []
    for folder in ("warehouse", "company"):
        rs = TableStore(spark, str(homes["delta-rs"] / folder), engine="delta-rs")
        ds = TableStore(spark, str(homes["spark"] / folder), engine="spark")
        names = rs.list_tables()
        assert names and names == ds.list_tables(), folder
        for name in names:
            left, right = rs.read(name), ds.read(name)
            assert sorted(left.columns) == sorted(right.columns), name
            skip = WALL_CLOCK.get(name, set())
            cols = [c for c in sorted(left.columns) if c not in skip]
            extra_a, extra_b = differences(left.select(*cols), right.select(*cols))
            if extra_a or extra_b:
                mismatched.append(
                    f"{folder}/{name}: {extra_a} rows only on delta-rs, {extra_b} only on spark"
                )
    assert mismatched == []
