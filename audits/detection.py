"""Dates of detection of deletion anomalies, as the run date that detected them."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def detection_dates(df: DataFrame) -> DataFrame:
    """``first_detected``/``last_detected`` as the run date that detected the anomaly.

    The audit stamps them with the run's cutoff (midnight after the run date); shown as is, an
    anomaly found tonight would read as detected tomorrow (age -1 day).
    """
    for c in ("first_detected", "last_detected"):
        if c in df.columns and dict(df.dtypes)[c].startswith("timestamp"):
            df = df.withColumn(c, F.to_date(F.col(c) - F.expr("INTERVAL 1 MICROSECOND")))
    return df
