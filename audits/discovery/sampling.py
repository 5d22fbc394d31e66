"""Bounded sampling of one table, with the value detectors run on the executors.

:func:`detector_counts` takes at most ``rows`` rows of a table (optionally a Bernoulli
``fraction`` of it first), casts the chosen columns to text and runs the detectors of
:mod:`audits.discovery.values` inside ``mapInPandas``. Each task returns only
``(column, detector, matched, sampled)`` counts; the values themselves never leave the executors
(nothing is collected but those counts, and a detector never raises with a value).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.discovery.values import FOR_KIND

COUNTS_SCHEMA = "column string, detector string, matched long, sampled long"


def kind_of(spark_type: str) -> str | None:
    """The detector family of a Spark SQL type name (``string``, ``date``, ``integer``), or None."""
    t = spark_type.lower()
    if t.startswith(("string", "varchar", "char")):
        return "string"
    if t == "date":
        return "date"
    if t in ("bigint", "int", "long", "integer") or t.startswith("decimal("):
        return "integer"
    return None


def detector_counts(
    df: DataFrame,
    kinds: Mapping[str, str],
    *,
    rows: int,
    today: date,
    fraction: float | None = None,
    seed: int = 7,
) -> DataFrame:
    """Detector counts of the columns ``kinds`` (name -> family) of a bounded sample of ``df``.

    Args:
        df: the table.
        kinds: the columns to test, each with its detector family (:func:`kind_of`).
        rows: the most rows sampled.
        today: the reference date of the birth-date detector.
        fraction: a Bernoulli sample of the table first (None: the first ``rows`` rows read).
        seed: seed of the Bernoulli sample.

    Returns:
        A small DataFrame ``column, detector, matched, sampled`` (one row per column and
        detector of its family, and ``("", "_rows")`` counting the rows sampled).
    """
    names = list(kinds)
    spark = df.sparkSession
    if not names or rows <= 0:
        return spark.createDataFrame([], COUNTS_SCHEMA)
    picked = df.select(
        *[F.col(f"`{c}`").cast("string").alias(f"c{i}") for i, c in enumerate(names)]
    )
    if fraction is not None and fraction < 1:
        picked = picked.sample(withReplacement=False, fraction=fraction, seed=seed)
    picked = picked.limit(rows)
    plan = {f"c{i}": (c, FOR_KIND[kinds[c]]) for i, c in enumerate(names)}

    def count(batches: Iterator) -> Iterator:
        import pandas as pd

        from audits.discovery.values import count_matches

        totals: dict[tuple[str, str], list[int]] = {("", "_rows"): [0, 0]}
        for batch in batches:
            totals["", "_rows"][0] += len(batch)
            totals["", "_rows"][1] += len(batch)
            for key, (column, detectors) in plan.items():
                matched, sampled = count_matches(batch[key].tolist(), detectors, today)
                for d in detectors:
                    t = totals.setdefault((column, d), [0, 0])
                    t[0] += matched[d]
                    t[1] += sampled
        yield pd.DataFrame(
            [(c, d, m, s) for (c, d), (m, s) in sorted(totals.items())],
            columns=["column", "detector", "matched", "sampled"],
        ).astype({"matched": "int64", "sampled": "int64"})

    return (
        picked.mapInPandas(count, COUNTS_SCHEMA)
        .groupBy("column", "detector")
        .agg(F.sum("matched").alias("matched"), F.sum("sampled").alias("sampled"))
    )


def collect_counts(counts: DataFrame) -> dict[str, dict[str, tuple[int, int]]]:
    """The counts as ``{column: {detector: (matched, sampled)}}`` (a few rows per column; the
    rows sampled under ``{"": {"_rows": (n, n)}}``)."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for r in counts.collect():
        out.setdefault(r["column"], {})[r["detector"]] = (int(r["matched"]), int(r["sampled"]))
    return out
