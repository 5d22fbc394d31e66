"""Temporary names resolved to the real table, so that a chain raw -> staging -> mart never stops
at a name that only existed while a job ran.

Two rules, applied to tonight's observations of every signal (:func:`resolve_temporary`):

1. **dbt's temporary relations** by name: dbt's table, incremental and snapshot
   materialisations build ``<name>__dbt_tmp`` (on Postgres/Redshift with a time suffix,
   ``<name>__dbt_tmp143501123456``; microbatches ``<name>__dbt_tmp_<batch>``), then rename it
   into place or ``MERGE``/``INSERT`` from it, and move the old table aside as
   ``<name>__dbt_backup`` before dropping it. Any table whose last part matches
   :data:`DBT_TEMP` is the table ``<name>``. (A temporary relation the adapter leaves unqualified,
   as dbt-postgres does, is named with the log line's default schema: it folds to the real table
   only when that is the model's schema.)
2. **Build-and-swap by the night's DDL** (``schema_events``): a table written and renamed away
   in the night's logs, and not itself the target of a rename (``CREATE TABLE t_new AS ...;
   ALTER TABLE t_new RENAME TO t``) is ``t``; a table that a rename or ``SWAP WITH`` put aside and that is then dropped
   (``ALTER TABLE t RENAME TO t_old; DROP TABLE t_old``; Snowflake ``ALTER TABLE t_stage SWAP WITH
   t; DROP TABLE t_stage``) is the table it came from.

An edge that the folding turns into a self-loop (``t.c -> t.c``, the rename itself) is dropped;
edges that were self-loops before are kept. Without a temporary name nothing changes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

DBT_TEMP = r"^(.+)__dbt_(?:tmp|backup)[0-9a-z_]*$"
"""A dbt temporary or backup relation (whole name); group 1 is the real relation."""
_DBT_TEMP = re.compile(DBT_TEMP)


def is_dbt_temp(name: str | None) -> bool:
    """Whether ``name`` (lower case) is a dbt temporary or backup relation."""
    return bool(name) and _DBT_TEMP.match(name) is not None


def dbt_real(name: str) -> str:
    """The real relation of a dbt temporary name (``a.b__dbt_tmp`` -> ``a.b``); others as is."""
    m = _DBT_TEMP.match(name)
    return m.group(1) if m else name


def fold_dbt_temp(name: Column) -> Column:
    """Spark column: :func:`dbt_real` of ``name``."""
    from pyspark.sql import functions as F

    return F.when(name.rlike(DBT_TEMP), F.regexp_extract(name, DBT_TEMP, 1)).otherwise(name)


def temporary_names(events: DataFrame, written: DataFrame) -> DataFrame:
    """DataFrame[temp, real]: rule 2 of the module docstring over ``schema_events`` rows
    (``asset``, ``event``, ``detail``) and the tables ``written`` tonight (column ``a``); one
    real name per temporary name (the least)."""
    from pyspark.sql import functions as F

    renames = events.filter(F.col("event") == "rename_table").select(
        F.lower("asset").alias("a"), F.lower("detail").alias("b")
    )
    dropped = events.filter(F.col("event") == "drop_table").select(F.lower("asset").alias("b"))
    targets = renames.select(F.col("b").alias("a")).distinct()
    built = (
        renames.join(written.distinct(), "a")
        .join(targets, "a", "left_anti")
        .select(F.col("a").alias("temp"), F.col("b").alias("real"))
    )
    aside = renames.join(dropped.distinct(), "b").select(
        F.col("b").alias("temp"), F.col("a").alias("real")
    )
    return (
        built.unionByName(aside)
        .filter(F.col("temp") != F.col("real"))
        .groupBy("temp")
        .agg(F.min("real").alias("real"))
    )


def resolve_temporary(obs: DataFrame, events: DataFrame | None = None) -> DataFrame:
    """Observations with temporary names replaced by their real tables (module docstring)."""
    from pyspark.sql import functions as F

    out = obs.withColumn("_src0", F.col("source_asset")).withColumn("_dst0", F.col("target_asset"))
    out = out.withColumn("source_asset", fold_dbt_temp(F.col("source_asset"))).withColumn(
        "target_asset", fold_dbt_temp(F.col("target_asset"))
    )
    if events is not None:
        written = obs.select(F.lower("target_asset").alias("a"))
        names = F.broadcast(temporary_names(events, written))
        for col in ("source_asset", "target_asset"):
            out = (
                out.join(names.withColumnRenamed("temp", col), col, "left")
                .withColumn(col, F.coalesce("real", col))
                .drop("real")
            )
    folded = (F.col("_src0") != F.col("source_asset")) | (F.col("_dst0") != F.col("target_asset"))
    loop = (F.col("source_asset") == F.col("target_asset")) & F.col("source_column").eqNullSafe(
        F.col("target_column")
    )
    return out.filter(~(folded & loop)).select(*obs.columns)
