"""Table-by-table comparison of two warehouses, in Spark (shared by the engine-equality and the
cluster tests).

Every table is compared as a multiset of rows (``exceptAll`` both ways, counted in Spark: no
table comes to the driver). Maps become sorted entry arrays, since map order is not data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, MapType, StructType

from jobs.store.tables import TableStore

#: table -> columns whose values are wall-clock readings (or random) and differ between any runs.
WALL_CLOCK: dict[str, set[str]] = {
    "run_manifest": {"started_at", "finished_at", "duration_s", "details"},
    "pseudonym_key_check": {"recorded_at"},  # when the key's check value was first recorded
}

#: The same, for two runs on different storage engines: ``run_manifest.engine`` names the engine
#: that ran each step, so it differs by design (the tests check it on its own).
ACROSS_ENGINES: dict[str, set[str]] = {
    **WALL_CLOCK,
    "run_manifest": WALL_CLOCK["run_manifest"] | {"engine"},
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
    """(rows only in ``a``, rows only in ``b``), duplicates counted."""
    a, b = comparable(a), comparable(b)
    return a.exceptAll(b).count(), b.exceptAll(a).count()


def compare_warehouses(
    spark,
    left: Path,
    right: Path,
    *,
    engines: tuple[str, str] = ("delta-rs", "delta-rs"),
    labels: tuple[str, str] = ("left", "right"),
    skip: Mapping[str, set[str]] = WALL_CLOCK,
) -> list[str]:
    """Compare the ``warehouse`` and ``company`` folders of two homes; one line per mismatch."""
    mismatched = []
    for folder in ("warehouse", "company"):
        a = TableStore(spark, str(left / folder), engine=engines[0])
        b = TableStore(spark, str(right / folder), engine=engines[1])
        names = a.list_tables()
        assert names, f"no tables in {left / folder}"
        if names != b.list_tables():
            mismatched.append(f"{folder}: tables {names} vs {b.list_tables()}")
            continue
        for name in names:
            da, db = a.read(name), b.read(name)
            if sorted(da.columns) != sorted(db.columns):
                mismatched.append(f"{folder}/{name}: columns {da.columns} vs {db.columns}")
                continue
            cols = [c for c in sorted(da.columns) if c not in skip.get(name, set())]
            only_a, only_b = differences(da.select(*cols), db.select(*cols))
            if only_a or only_b:
                mismatched.append(
                    f"{folder}/{name}: {only_a} rows only {labels[0]}, {only_b} only {labels[1]}"
                )
    return mismatched
