"""Residual scans: is a deleted subject's data really gone from everywhere it flowed?

Three pure steps; the job (``jobs/steps/audit.py``) reads the tables and writes ``residual_findings``:

1. :func:`identifier_targets`: from the lineage closure, the identifier columns of the catalog and
   the lineage edges, the downstream columns that carry an identifier *value* (reached from it
   through DIRECT/IDENTITY, unmasked edges only; a hash, a count or a transformation of the
   identifier cannot be matched against the subject's identifier);
2. :func:`target_values` reads each target table once for all its columns and
   :func:`scan_values` keys every distinct value once and joins them all with the deleted subjects
   in ONE distributed job, counting the rows still holding each subject's identifier;
3. :func:`residual_findings`: hits joined to the requests and their completion, with ``deleted_at``
   and ``days_overdue``; tables that could not be read become ``unverifiable`` findings.

The raw subject identifier never needs to be stored: the deleted subjects come as
``(subject_key, match_value)`` where ``match_value`` is the subject key (a value column) or the
subject's keyed match key of the column's hash, and the shell's ``Keyer`` maps each table value
into the same keyed space (the core never holds the key).
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from audits.lifecycle.time import MICROS_PER_DAY, micros_lit, ts_lit
from audits.messages import message
from lineage.graph.nodes import node_col, node_parts, with_node_parts
from lineage.graph.search import closure

#: Columns of the ``residual_findings`` table.
RESIDUAL_COLUMNS: tuple[str, ...] = (
    "deletion_id",
    "subject_key",
    "asset",
    "column",
    "rows_found",
    "deleted_at",
    "days_overdue",
    "status",
    "detail",
)

#: Asset kinds whose rows a residual scan can read (a ``stream`` or a ``model`` cannot be read).
SCANNABLE_KINDS: frozenset[str] = frozenset({"table", "view", "feature", "log", "file"})


def scannable(kind: str | None) -> bool:
    """Whether a residual scan can read an asset of this catalog kind (unknown kinds: a table)."""
    return (kind or "table") in SCANNABLE_KINDS


def column_closure(lineage_closure: DataFrame, run_date: object) -> DataFrame:
    """One run date's column-level closure as DataFrame[source, node, depth, confidence].

    ``source`` and ``node`` are ``schema.table.column`` names, the shape :func:`identifier_targets`
    and :func:`hashed_targets` take.
    """
    return lineage_closure.filter(
        (F.col("run_date") == F.lit(run_date)) & (F.col("level") == "column")
    ).select(
        node_col("source_asset", "source_column").alias("source"),
        node_col("target_asset", "target_column").alias("node"),
        "depth",
        "confidence",
    )


def table_closure(lineage_closure: DataFrame, run_date: object) -> DataFrame:
    """One run date's table-level closure as DataFrame[source_asset, target_asset]."""
    return lineage_closure.filter(
        (F.col("run_date") == F.lit(run_date)) & (F.col("level") == "table")
    ).select("source_asset", "target_asset")


def _parts(edges: DataFrame, identifiers: DataFrame) -> DataFrame:
    """DataFrame[node, asset, column] of the identifier columns and every edge end (a field path
    column ``profile.email`` is not split at its last dot)."""
    named = identifiers.select(
        F.concat_ws(".", F.col("asset"), F.col("column")).alias("node"), "asset", "column"
    )
    return named.unionByName(node_parts(edges)).dropDuplicates(["node"])


def identifier_targets(
    closure_df: DataFrame,
    identifiers: DataFrame,
    edges: DataFrame,
    *,
    include_sources: bool = True,
) -> DataFrame:
    """The table columns that carry an identifier downstream of it.

    A column ``n`` carries identifier ``s`` when (a) the closure has the pair ``(s, n)`` (so review
    exclusions, depth and confidence limits applied to the closure apply here too) and (b) a path
    of DIRECT/IDENTITY edges with ``masking`` false or null leads from ``s`` to ``n``.

    Args:
        closure_df: DataFrame[source, node, depth, confidence]; nodes are ``schema.table.column``.
        identifiers: DataFrame[asset, column] of the catalog's identifier columns.
        edges: ``lineage_edges`` (source_asset, source_column, target_asset, target_column,
            transformation_type, transformation_subtype, masking).
        include_sources: also return each identifier column itself (the source table must be
            clean too); False returns only downstream columns.

    Returns:
        DataFrame[asset string, column string, source_identifier string], distinct rows.
    """
    sources = identifiers.select(
        F.concat_ws(".", F.col("asset"), F.col("column")).alias("node")
    ).distinct()
    identity = _identity_edges(edges)
    carried = closure(identity, sources).select("source", "node")
    allowed = closure_df.select("source", "node").distinct()
    pairs = carried.join(allowed, ["source", "node"], "left_semi")
    if include_sources:
        pairs = pairs.unionByName(sources.select(F.col("node").alias("source"), "node"))
    return (
        with_node_parts(pairs, "node", _parts(edges, identifiers))
        .select("asset", "column", F.col("source").alias("source_identifier"))
        .distinct()
    )


def _identity_edges(edges: DataFrame) -> DataFrame:
    """DataFrame[src, dst, confidence] of the DIRECT/IDENTITY unmasked column edges."""
    return (
        edges.where(
            (F.upper(F.col("transformation_type")) == "DIRECT")
            & (F.upper(F.col("transformation_subtype")) == "IDENTITY")
            & ~F.coalesce(F.col("masking").cast("boolean"), F.lit(False))
            & F.col("source_column").isNotNull()
            & F.col("target_column").isNotNull()
        )
        .select(
            F.concat_ws(".", "source_asset", "source_column").alias("src"),
            F.concat_ws(".", "target_asset", "target_column").alias("dst"),
            F.lit(1.0).alias("confidence"),
        )
        .distinct()
    )


def hashed_targets(closure_df: DataFrame, identifiers: DataFrame, edges: DataFrame) -> DataFrame:
    """The table columns that carry a *hash* of an identifier (a masked copy of its value).

    A column ``h`` is a hashed copy of identifier ``s`` when a DIRECT/TRANSFORMATION edge with
    ``masking`` true (what the SQL lineage records for ``sha2(x)``, ``md5(x)``,
    ``to_hex(sha256(x))``: hashes set masking, counts are AGGREGATION) leads into ``h`` from a
    column carrying ``s``'s value (see :func:`identifier_targets`); columns reached from ``h``
    through unmasked IDENTITY edges are hashed copies too (``hash_origin`` names ``h``). As for
    :func:`identifier_targets`, the pair ``(s, column)`` must be in the closure.

    Args:
        closure_df: DataFrame[source, node, ...] (the column-level closure).
        identifiers: DataFrame[asset, column] of the catalog's identifier columns.
        edges: ``lineage_edges``.

    Returns:
        DataFrame[asset, column, source_identifier, hash_origin], distinct rows.
    """
    carried = identifier_targets(closure_df, identifiers, edges).select(
        F.concat_ws(".", "asset", "column").alias("src"), "source_identifier"
    )
    masked = edges.where(
        (F.upper(F.col("transformation_type")) == "DIRECT")
        & (F.upper(F.col("transformation_subtype")) == "TRANSFORMATION")
        & F.coalesce(F.col("masking").cast("boolean"), F.lit(False))
        & F.col("source_column").isNotNull()
        & F.col("target_column").isNotNull()
    ).select(
        F.concat_ws(".", "source_asset", "source_column").alias("src"),
        F.concat_ws(".", "target_asset", "target_column").alias("hash_origin"),
    )
    origins = carried.join(masked, "src").select("source_identifier", "hash_origin").distinct()
    copies = closure(
        _identity_edges(edges), origins.select(F.col("hash_origin").alias("node")).distinct()
    ).select(F.col("source").alias("hash_origin"), "node")
    reach = copies.unionByName(origins.select("hash_origin", F.col("hash_origin").alias("node")))
    pairs = origins.join(reach, "hash_origin").select(
        F.col("source_identifier").alias("source"), "node", "hash_origin"
    )
    pairs = pairs.join(
        closure_df.select("source", "node").distinct(), ["source", "node"], "left_semi"
    )
    return (
        with_node_parts(pairs, "node", _parts(edges, identifiers))
        .select("asset", "column", F.col("source").alias("source_identifier"), "hash_origin")
        .distinct()
    )


def table_level_targets(
    table_closure: DataFrame, identifier_assets: DataFrame, edges: DataFrame
) -> DataFrame:
    """Tables reached from a table holding identifiers through table-level lineage only.

    Table-level edges (split READ/WRITE job logs, OpenLineage events without the column facet)
    say rows flowed, not which columns: a table is a candidate when the table-level closure
    reaches it from an asset with an identifier column and no column-level edge leads into any
    of its columns (else the column lineage decides, see :func:`identifier_targets`).

    Args:
        table_closure: DataFrame[source_asset, target_asset, ...] (the table-level closure).
        identifier_assets: DataFrame[asset] of the assets holding identifier columns.
        edges: ``lineage_edges``.

    Returns:
        DataFrame[asset, source_asset], distinct rows (``source_asset`` the identifier's table).
    """
    with_columns = (
        edges.where(F.col("target_column").isNotNull())
        .select(F.col("target_asset").alias("asset"))
        .distinct()
    )
    reached = table_closure.join(
        identifier_assets.select(F.col("asset").alias("source_asset")).distinct(), "source_asset"
    ).select(F.col("target_asset").alias("asset"), "source_asset")
    return (
        reached.where(F.col("asset") != F.col("source_asset"))
        .join(with_columns, "asset", "left_anti")
        .distinct()
    )


#: Columns of the ``residual_scans`` table: what the residual scan did per deletion and table.
SCAN_COLUMNS: tuple[str, ...] = (
    "deletion_id",
    "subject_key",
    "asset",
    "column",
    "status",
    "rows_found",
    "detail",
    "table_status",
)


def scan_statuses(
    done: DataFrame,
    targets: DataFrame,
    hits: DataFrame,
    match_keys: DataFrame | None = None,
) -> DataFrame:
    """Per completed deletion and target column: ``residual``, ``clean`` or ``unverifiable``.

    Args:
        done: DataFrame[deletion_id, subject_key] of the deletions completed at the cutoff.
        targets: DataFrame[asset, column, function, reason]: every column the scan was meant to
            read; ``reason`` null when it was read, else why not; ``function`` the hash the
            column was matched through (null for a value match).
        hits: DataFrame[subject_key, asset, column, rows_found] (:func:`scan_values`).
        match_keys: DataFrame[subject_key, function] of the hashed match keys held; a hashed
            column is unverifiable for a subject without a key of its function.

    Returns:
        DataFrame with :data:`SCAN_COLUMNS`, one row per (deletion, asset, column): ``residual``
        when the column holds the subject's rows, ``unverifiable`` when it could not be read or
        matched for the subject (``detail`` says why), else ``clean`` (read, nothing found).
        ``table_status`` is the table's verdict for the deletion: ``residual`` if any of its
        columns is, else ``unverifiable`` if any is, else ``clean``: a table is never clean
        unless each of its target columns was read.
    """
    t = targets.select("asset", "column", "function", "reason")
    pairs = done.select("deletion_id", "subject_key").distinct().crossJoin(F.broadcast(t))
    h = hits.groupBy("subject_key", "asset", "column").agg(F.sum("rows_found").alias("_n"))
    pairs = pairs.join(h, ["subject_key", "asset", "column"], "left")
    if match_keys is not None:
        mk = match_keys.select("subject_key", "function").distinct().withColumn("_k", F.lit(True))
        pairs = pairs.join(mk, ["subject_key", "function"], "left")
    else:
        pairs = pairs.withColumn("_k", F.lit(None).cast("boolean"))
    n = F.coalesce(F.col("_n"), F.lit(0)).cast("long")
    why = F.when(F.col("reason").isNotNull(), F.col("reason")).when(
        F.col("function").isNotNull() & F.col("_k").isNull(),
        F.concat(
            F.lit("no "),
            F.col("function"),
            F.lit(" match key for this subject (request landed before hashed copies were matched)"),
        ),
    )
    status = (
        F.when(n > 0, F.lit("residual"))
        .when(why.isNotNull(), F.lit("unverifiable"))
        .otherwise(F.lit("clean"))
    )
    detail = (
        F.when(
            n > 0,
            F.concat(
                n.cast("string"),
                F.lit(" row(s) still hold the subject's "),
                F.when(
                    F.col("function").isNotNull(), F.concat(F.col("function"), F.lit(" hashed "))
                ).otherwise(F.lit("")),
                F.lit("identifier"),
            ),
        )
        .when(why.isNotNull(), F.concat(F.lit("not verified: "), why))
        .otherwise(
            F.concat(
                F.lit("read, no row of the subject"),
                F.when(
                    F.col("function").isNotNull(),
                    F.concat(F.lit(" (matched through "), F.col("function"), F.lit(")")),
                ).otherwise(F.lit("")),
            )
        )
    )
    rows = pairs.select(
        F.col("deletion_id").cast("string").alias("deletion_id"),
        F.col("subject_key").cast("string").alias("subject_key"),
        "asset",
        "column",
        status.alias("status"),
        n.alias("rows_found"),
        detail.alias("detail"),
    )
    rank = (
        F.when(F.col("status") == "residual", 2)
        .when(F.col("status") == "unverifiable", 1)
        .otherwise(0)
    )
    worst = F.max(rank).over(Window.partitionBy("deletion_id", "asset"))
    return rows.withColumn(
        "table_status",
        F.when(worst == 2, F.lit("residual"))
        .when(worst == 1, F.lit("unverifiable"))
        .otherwise(F.lit("clean")),
    )


def completions_from_events(events: DataFrame, cutoff: datetime) -> DataFrame:
    """DataFrame[deletion_id, deleted_at]: the first ``completed`` event at or before ``cutoff``."""
    return (
        events.where((F.col("event") == "completed") & (F.col("ts") <= ts_lit(cutoff)))
        .groupBy("deletion_id")
        .agg(F.min("ts").alias("deleted_at"))
    )


def residual_findings(
    hits: DataFrame,
    requests: DataFrame,
    completions: DataFrame,
    cutoff: datetime,
    *,
    unverifiable: DataFrame | None = None,
) -> DataFrame:
    """Turn scan hits into ``residual_findings`` rows.

    A hit of subject ``k`` is a finding for every request of ``k`` whose deletion completed at or
    before the cutoff: ``deleted_at`` is that completion and ``days_overdue`` the whole days from
    it to the cutoff (the data should have been gone at completion). Hits of subjects whose
    deletion has not completed yet are not findings (the lifecycle checks cover them).

    Args:
        hits: :func:`scan_values` output.
        requests: deletion requests (deletion_id, subject_key, ...).
        completions: DataFrame[deletion_id, deleted_at] (see :func:`completions_from_events`).
        cutoff: the run's cutoff instant (naive = UTC).
        unverifiable: DataFrame[asset, column, reason] of target tables that could not be read;
            each becomes one ``unverifiable`` row (subject and counts null).

    Returns:
        DataFrame with :data:`RESIDUAL_COLUMNS`; ``status`` is ``residual`` or ``unverifiable``.
    """
    req = requests.select(
        F.col("deletion_id").cast("string").alias("deletion_id"),
        F.col("subject_key").cast("string").alias("subject_key"),
    ).distinct()
    done = (
        completions.where(F.col("deleted_at") <= ts_lit(cutoff))
        .groupBy(F.col("deletion_id").cast("string").alias("deletion_id"))
        .agg(F.min("deleted_at").alias("deleted_at"))
    )
    found = hits.where(F.col("rows_found") > 0).join(req, "subject_key").join(done, "deletion_id")
    overdue = F.floor(
        (micros_lit(cutoff) - F.unix_micros(F.col("deleted_at"))) / F.lit(MICROS_PER_DAY)
    ).cast("int")
    out = found.select(
        "deletion_id",
        "subject_key",
        "asset",
        "column",
        F.col("rows_found").cast("long").alias("rows_found"),
        F.col("deleted_at").cast("timestamp").alias("deleted_at"),
        overdue.alias("days_overdue"),
        F.lit("residual").alias("status"),
        message(
            "{rows_found} row(s) still hold the subject's identifier in {asset}.{column}"
        ).alias("detail"),
    )
    if unverifiable is not None:
        out = out.unionByName(
            unverifiable.select(
                F.lit(None).cast("string").alias("deletion_id"),
                F.lit(None).cast("string").alias("subject_key"),
                F.col("asset").cast("string").alias("asset"),
                F.col("column").cast("string").alias("column"),
                F.lit(None).cast("long").alias("rows_found"),
                F.lit(None).cast("timestamp").alias("deleted_at"),
                F.lit(None).cast("int").alias("days_overdue"),
                F.lit("unverifiable").alias("status"),
                F.concat(
                    F.lit(
                        "lineage says this column carries an identifier but it could not be read: "
                    ),
                    F.coalesce(F.col("reason").cast("string"), F.lit("unknown reason")),
                ).alias("detail"),
            )
        )
    return out
