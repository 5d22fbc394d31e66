"""Matching table values against deleted subjects: the one rule of the residual scan and the purge.

A table value is compared in the keyed space: its :func:`match_text` (the value, or a hashed
copy's normalised digest) goes through the shell's :data:`Keyer` (the HMAC; the core never holds
the key) and is joined with the subjects' match values of the column's function
(:func:`subject_match_values`: the subject key, or the subject's keyed match key of the hash).
The residual scan counts rows of every target column at once (:func:`target_values`,
:func:`scan_values`); the purge lists the values to remove (:func:`matched_values`); subject
access counts one subject's rows per table (:func:`subject_cells`, :func:`subject_rows`).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

Keyer = Callable[[DataFrame], DataFrame]
"""Adds ``_k string`` to a DataFrame with ``_v string``: each value's keyed pseudonym, the other
columns kept (the shell's HMAC; the core never holds the key)."""


def match_text(value: Column, function: str | None) -> Column:
    """The text of a table value that its keyed pseudonym is computed from.

    A value column matches as its string; a hashed copy (``function`` is the hash, e.g.
    ``sha256``) as its digest lowercased and trimmed, the form its match key was computed from.
    """
    text = value.cast("string")
    return text if function is None else F.lower(F.trim(text))


def subject_match_values(
    subjects: DataFrame, function: str | None, match_keys: DataFrame
) -> DataFrame:
    """What a table value of a column matched through ``function`` is compared with, per subject.

    Args:
        subjects: DataFrame[subject_key] of the deleted subjects.
        function: the hash of the column (None: the column holds the identifier itself).
        match_keys: ``subject_match_keys`` (subject_key, function, match_key).

    Returns:
        DataFrame[subject_key string, match_value string], distinct: the subject key itself for a
        value column; for a hashed copy the subject's match key of that function (a subject
        without one has no row: the scan reports it unverifiable).
    """
    who = subjects.select(F.col("subject_key").cast("string").alias("subject_key")).distinct()
    if function is None:
        return who.select("subject_key", F.col("subject_key").alias("match_value"))
    keys = match_keys.filter(F.col("function") == F.lit(function)).select(
        F.col("subject_key").cast("string").alias("subject_key"),
        F.col("match_key").cast("string").alias("match_value"),
    )
    return keys.join(who, "subject_key").distinct()


def target_values(
    table_df: DataFrame, asset: str, columns: list[tuple[str, str | None]]
) -> DataFrame:
    """Every target column of one table in ONE read: the distinct match texts and their rows.

    Args:
        table_df: the audited table.
        asset: its name (for the output).
        columns: ``(column, function)`` per target column (``function`` None: the value itself).

    Returns:
        DataFrame[asset, column, function, _v, rows]: per column and non-null :func:`match_text`
        ``_v``, the number of rows holding it. Union the tables' outputs and key ``_v`` once
        (:func:`scan_values`).
    """
    cells = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(c).alias("column"),
                    F.lit(fn).cast("string").alias("function"),
                    match_text(F.col(f"`{c}`"), fn).alias("_v"),
                )
                for c, fn in columns
            ]
        )
    ).alias("_c")
    return (
        table_df.select(cells)
        .select(F.lit(asset).alias("asset"), "_c.*")
        .where(F.col("_v").isNotNull())
        .groupBy("asset", "column", "function", "_v")
        .agg(F.count(F.lit(1)).alias("rows"))
    )


def subjects_by_function(
    subjects: DataFrame, functions: list[str], match_keys: DataFrame
) -> DataFrame:
    """DataFrame[function, subject_key, match_value]: :func:`subject_match_values` for the value
    match (``function`` null) and for each hash in ``functions``, in one frame."""
    out = subject_match_values(subjects, None, match_keys).select(
        F.lit(None).cast("string").alias("function"), "subject_key", "match_value"
    )
    for fn in sorted(set(functions)):
        out = out.unionByName(
            subject_match_values(subjects, fn, match_keys).select(
                F.lit(fn).alias("function"), "subject_key", "match_value"
            )
        )
    return out


def _matches(values: DataFrame, subjects: DataFrame, keyer: Keyer) -> DataFrame:
    """The one matching rule of the residual scan and the purge: ``values`` (with ``function``
    and ``_v``, the :func:`match_text`) keyed by ``keyer`` and joined with the subjects' match
    values of the same function; adds ``subject_key``."""
    wanted = subjects.select(
        F.coalesce(F.col("function"), F.lit("")).alias("_f"),
        F.col("match_value").cast("string").alias("_k"),
        F.col("subject_key").cast("string").alias("subject_key"),
    ).distinct()
    return (
        keyer(values)
        .withColumn("_f", F.coalesce(F.col("function"), F.lit("")))
        .join(F.broadcast(wanted), ["_f", "_k"])
        .drop("_f", "_k")
    )


def scan_values(values: DataFrame, subjects: DataFrame, keyer: Keyer) -> DataFrame:
    """The residual scan of every target column at once.

    Each distinct match text is keyed once (one pass through ``keyer`` for every table) and
    joined with the subjects' match values of the same function; the rows holding it are summed.

    Args:
        values: DataFrame[asset, column, function, _v, rows] (union of :func:`target_values`).
        subjects: DataFrame[function, subject_key, match_value] (:func:`subjects_by_function`).
        keyer: the keyed pseudonym of each value (see :data:`Keyer`).

    Returns:
        DataFrame[subject_key string, asset string, column string, rows_found long], one row per
        subject and column where it was found.
    """
    return (
        _matches(values, subjects, keyer)
        .groupBy("subject_key", "asset", "column")
        .agg(F.sum("rows").cast("long").alias("rows_found"))
    )


def subject_cells(
    table_df: DataFrame, asset: str, columns: list[tuple[str, str | None]]
) -> DataFrame:
    """Every target column of one table in ONE read, each cell tagged with its row *pattern*.

    A row's pattern ``_p`` is the match texts of all its target columns, so a row holding a
    subject in two columns still counts once in :func:`subject_rows` (subject access).

    Args:
        table_df: the audited table.
        asset: its name (for the output).
        columns: ``(column, function)`` per target column (``function`` None: the value itself).

    Returns:
        DataFrame[asset, _p, column, function, _v]: per row and column its non-null
        :func:`match_text` ``_v``. Union the tables' outputs and match them once
        (:func:`subject_rows`): one shuffle for every table.
    """
    names = [f"_t{i}" for i in range(len(columns))]
    texts = [
        match_text(F.col(f"`{c}`"), fn).alias(n) for n, (c, fn) in zip(names, columns, strict=True)
    ]
    cells = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(c).alias("column"),
                    F.lit(fn).cast("string").alias("function"),
                    F.col(n).alias("_v"),
                )
                for n, (c, fn) in zip(names, columns, strict=True)
            ]
        )
    ).alias("_c")
    return (
        table_df.select(*texts)
        .select(F.lit(asset).alias("asset"), F.to_json(F.struct(*names)).alias("_p"), cells)
        .select("asset", "_p", "_c.*")
        .where(F.col("_v").isNotNull())
    )


def subject_rows(cells: DataFrame, subjects: DataFrame, keyer: Keyer) -> DataFrame:
    """The rows of each table holding the subjects in any target column (subject access).

    The residual scan's rule (:func:`_matches`) applied per row pattern: the cells are grouped
    by pattern (one shuffle for every table), each distinct cell keyed (one pass through
    ``keyer``) and joined with the subjects' match values; a
    pattern counts once however many of its columns match.

    Args:
        cells: DataFrame[asset, _p, column, function, _v] (union of :func:`subject_cells`).
        subjects: DataFrame[function, subject_key, match_value] (:func:`subjects_by_function`).
        keyer: the keyed pseudonym of each value (see :data:`Keyer`).

    Returns:
        DataFrame[subject_key string, asset string, columns array<string>, rows long]: per
        subject, table and set of target columns matching together, the number of rows. Small
        (only the subjects' own patterns); no value leaves the executors.
    """
    patterns = cells.groupBy("asset", "_p", "column", "function", "_v").agg(
        F.count(F.lit(1)).alias("rows")
    )
    return (
        _matches(patterns, subjects, keyer)
        .groupBy("subject_key", "asset", "_p")
        .agg(F.first("rows").alias("rows"), F.sort_array(F.collect_set("column")).alias("columns"))
        .groupBy("subject_key", "asset", "columns")
        .agg(F.sum("rows").cast("long").alias("rows"))
        .select("subject_key", "asset", "columns", "rows")
    )


def matched_values(
    table_df: DataFrame,
    column: str,
    function: str | None,
    subject_values: DataFrame,
    keyer: Keyer,
) -> DataFrame:
    """The distinct values of one table column that belong to deleted subjects (the purge).

    The residual scan's rule (:func:`scan_values`) for one column, keeping the values.

    Args:
        table_df: the audited table.
        column: the column to match.
        function: its hash (None: the value itself).
        subject_values: DataFrame[subject_key, match_value] (:func:`subject_match_values`).
        keyer: the keyed pseudonym of each value (see :data:`Keyer`).

    Returns:
        DataFrame[_v string, subject_key string]: ``_v`` is :func:`match_text` of the value.
    """
    values = target_values(table_df, "", [(column, function)])
    subjects = subject_values.select(
        F.lit(function).cast("string").alias("function"), "subject_key", "match_value"
    )
    return _matches(values, subjects, keyer).select("_v", "subject_key")
