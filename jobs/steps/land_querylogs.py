"""Landing of query logs in every format the engines write (:mod:`audits.querylog_formats`).

Per file, on the driver: the format (named in ``query_log_sources`` or detected from the file's
first 64 KB, read through Hadoop: a few KB per file), and for CSV exports the header. A file of no
known format, or a CSV without a required column, or one that cannot be read, is not landed: it
is recorded once in ``rejected_inputs`` (location ``file``) with the reason.

On the executors: the lines of every file, CSV records assembled from their physical lines (a
quoted field may hold newlines; a record is numbered by its first physical line), each record
converted by its format's adapter (``mapInPandas``), end records paired with the query they
complete (Spark ``SQLExecutionEnd``, PostgreSQL ``ERROR``), and the converted rows parsed by the
product's own query-log rules (:func:`audits.inputs.parse_lines`), so that every record becomes
a landed row, a rejected row (file, line, reason, the record's own text) or a counted skip
(``_skip``: a record that carries no query, such as a Spark task event).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from audits.inputs import InputKind, parse_lines
from audits.querylog_formats import AUTO, DBT, JSONL, PAIRED, FileFormat, convert
from audits.querylog_formats.detect import (
    SAMPLE_BYTES,
    detect,
    detect_columns,
    for_configured,
    is_parquet,
)
from jobs.config.querylog_sources import settings_for
from jobs.context import JobContext
from jobs.errors import InputError
from jobs.store.files import (
    InputFile,
    head_bytes,
    normalise,
    parquet_columns,
    read_lines,
    read_parquet_rows,
)

CONVERTED = (
    "source string, line bigint, value string, _json string, _conv_error string, _skip string, "
    "_pair string, _ends boolean"
)


def _relative(root: str, path: str) -> str:
    base = normalise(root).rstrip("/")
    if path == base:
        return path.rsplit("/", 1)[-1]
    return path[len(base) :].lstrip("/") if path.startswith(base + "/") else path


def file_formats(
    ctx: JobContext, root: str, files: list[InputFile]
) -> tuple[dict[str, FileFormat], list[tuple[str, str]]]:
    """Each file's format, and the files that cannot be landed with the reason."""
    formats: dict[str, FileFormat] = {}
    problems: list[tuple[str, str]] = []
    for f in files:
        settings = settings_for(_relative(root, f.path), ctx.cfg.query_log_sources)
        try:
            sample, complete = head_bytes(ctx.spark, f.path, SAMPLE_BYTES)
        except InputError as exc:
            problems.append((f.path, "file not read: " + str(exc).removeprefix(f.path + ": ")))
            continue
        if is_parquet(sample):
            try:
                columns = parquet_columns(ctx.spark, f.path)
            except InputError as exc:
                problems.append((f.path, "file not read: " + str(exc).removeprefix(f.path + ": ")))
                continue
            configured = None if settings.format == AUTO else settings.format
            found = detect_columns(columns, configured=configured)
            if found.problem or found.name is None:
                problems.append((f.path, found.problem or "unknown format"))
                continue
            formats[f.path] = FileFormat(
                found.name, detected=configured is None, settings=settings, parquet=True
            )
            continue
        if not sample and f.size > 0:
            problems.append(
                (
                    f.path,
                    f"file not read: no text could be read from its {f.size} bytes (a name "
                    "saying compressed for content that is not, or the other way round?)",
                )
            )
            continue
        if settings.format == AUTO:
            found = detect(sample, complete=complete, file_name=f.path)
        else:
            found = for_configured(settings.format, sample, complete=complete)
        if found.problem or found.name is None:
            problems.append((f.path, found.problem or "unknown format"))
            continue
        formats[f.path] = FileFormat(
            found.name,
            csv=found.csv,
            header=found.header,
            header_line=found.header_line,
            detected=settings.format == AUTO,
            settings=settings,
        )
    return formats, problems


def records(
    ctx: JobContext,
    files: list[InputFile],
    formats: dict[str, FileFormat],
    listed: list[InputFile] | None = None,
) -> DataFrame:
    """DataFrame[source, line, value]: the records of ``files``.

    dbt artifacts are read whole, per folder (:func:`dbt_records`); ``listed`` (every file of
    the folder tonight, landed before or not) gives the catalog and run results beside a
    manifest that are not new tonight.
    """
    dbt = [f for f in files if formats[f.path].name in DBT]
    if not dbt:
        return _records(ctx, files, formats)
    rest = [f for f in files if formats[f.path].name not in DBT]
    out = dbt_records(ctx, dbt, formats, listed or files)
    if rest:
        out = _records(ctx, rest, {f.path: formats[f.path] for f in rest}).unionByName(out)
    return out


_COMPANIONS = ("catalog.json", "run_results.json")
_DBT_SCHEMA = "source string, line bigint, value string"


def _folder(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _split_folder(pdf):  # on an executor: every line of one folder's dbt artifacts
    import pandas as pd

    from audits.dbt.artifacts import folder_records

    texts, emit = {}, set()
    for src, part in pdf.groupby("source"):
        part = part.sort_values("line")
        texts[src] = "\n".join(v if v is not None else "" for v in part["value"])
        if bool(part["_emit"].iloc[0]):
            emit.add(src)
    recs = folder_records(texts, emit)
    return pd.DataFrame(
        {
            "source": [r[0] for r in recs],
            "line": [r[1] for r in recs],
            "value": [r[2] for r in recs],
        }
    )


def dbt_records(
    ctx: JobContext,
    files: list[InputFile],
    formats: dict[str, FileFormat],
    listed: list[InputFile],
) -> DataFrame:
    """DataFrame[source, line, value]: one record per node of each new dbt manifest (its
    catalog and run results beside it read with it), one per new catalog or run-results file.

    The lines of a folder's artifacts are gathered on one executor (``applyInPandas`` by folder)
    and split there (:func:`audits.dbt.artifacts.folder_records`): an artifact is a document of
    a few MB, written once per dbt invocation.
    """
    new = {f.path for f in files}
    manifests = {_folder(f.path) for f in files if formats[f.path].name == "dbt_manifest"}
    context = [
        f
        for f in listed
        if f.path not in new
        and _folder(f.path) in manifests
        and f.path.rsplit("/", 1)[-1] in _COMPANIONS
    ]
    emit = ctx.spark.createDataFrame(
        [(f.path, f.path in new) for f in [*files, *context]], "source string, _emit boolean"
    )
    return (
        read_lines(ctx.spark, [*files, *context], keep_blank=True)
        .join(F.broadcast(emit), "source")
        .withColumn("_folder", F.regexp_replace("source", "/[^/]*$", ""))
        .groupBy("_folder")
        .applyInPandas(_split_folder, _DBT_SCHEMA)
    )


def _records(ctx: JobContext, files: list[InputFile], formats: dict[str, FileFormat]) -> DataFrame:
    """DataFrame[source, line, value]: the line or CSV records of ``files``.

    A record is a non-blank line, or in a CSV file the physical lines up to the one where the
    running count of ``"`` is even (a quoted field may hold newlines and blank lines), numbered
    by its first line; a CSV header row is not a record. One pass: a window over each file's
    lines, then the lines of each record joined.
    """
    spark = ctx.spark
    columnar = [f for f in files if formats[f.path].parquet]
    files = [f for f in files if not formats[f.path].parquet]
    text = _text_records(spark, files, formats)
    return text.unionByName(read_parquet_rows(spark, columnar)) if columnar else text


def _text_records(spark, files: list[InputFile], formats: dict[str, FileFormat]) -> DataFrame:
    if not any(formats[f.path].csv for f in files):
        return read_lines(spark, files)
    kinds = spark.createDataFrame(
        [(p, f.csv, f.header_line) for p, f in formats.items() if not f.parquet],
        "source string, _csv boolean, _header_line bigint",
    )
    lines = (
        read_lines(spark, files, keep_blank=True)
        .join(F.broadcast(kinds), "source")
        .filter(F.col("_csv") | (F.trim("value") != ""))
    )
    quotes = F.when(
        F.col("_csv"), F.length("value") - F.length(F.regexp_replace("value", '"', ""))
    ).otherwise(F.lit(0))
    w = Window.partitionBy("source").orderBy("line")
    before = F.coalesce(F.sum(quotes).over(w.rowsBetween(Window.unboundedPreceding, -1)), F.lit(0))
    rec = F.max(F.when(~F.col("_csv") | (before % 2 == 0), F.col("line"))).over(
        w.rowsBetween(Window.unboundedPreceding, 0)
    )
    grouped = (
        lines.withColumn("_rec", rec)
        .groupBy("source", "_rec", "_header_line")
        .agg(F.array_sort(F.collect_list(F.struct("line", "value"))).alias("_parts"))
    )
    value = F.array_join(F.transform("_parts", lambda p: p["value"]), "\n")
    return (
        grouped.filter(F.col("_rec") != F.col("_header_line"))
        .select("source", F.col("_rec").alias("line"), value.alias("value"))
        .filter(F.trim("value") != "")
    )


def _converter(formats: dict[str, FileFormat]):
    def run(batches):  # on the executors, one pandas batch at a time
        import pandas as pd

        from audits.querylog_formats.common import to_json

        for pdf in batches:
            out: dict[str, list] = {k: [] for k in ("_json", "_conv_error", "_skip", "_pair")}
            ends = []
            for src, value in zip(pdf["source"], pdf["value"], strict=True):
                fmt = formats[src]
                if fmt.name == JSONL:  # the product's own line, parsed as it is
                    c = None
                else:
                    c = convert(value, fmt, src)
                out["_json"].append(value if c is None else to_json(c.row) if c.row else None)
                out["_conv_error"].append(c.error if c else None)
                out["_skip"].append(c.skip if c else None)
                out["_pair"].append(c.pair_key if c else None)
                ends.append(bool(c.ends) if c else False)
            yield pd.DataFrame(
                {
                    "source": pdf["source"],
                    "line": pdf["line"],
                    "value": pdf["value"],
                    **out,
                    "_ends": ends,
                }
            )

    return run


def _pair(conv: DataFrame) -> DataFrame:
    """Apply end records to the query they complete (same file and pair key).

    A query row gets the end's status, finish time and error (``_end_*`` columns); a matched end
    record is a skip (its query lands); an unmatched one lands on its own when it carries the
    statement (a PostgreSQL error of a statement not logged), else it is a skip. One window per
    (file, pair key): no self-join, the records are computed once.
    """
    ok = F.col("_conv_error").isNull() & F.col("_skip").isNull() & F.col("_pair").isNotNull()
    w = Window.partitionBy("source", "_pair")
    first_end = F.min(F.when(ok & F.col("_ends"), F.struct("line", "_json"))).over(w)
    start_line = F.min(F.when(ok & ~F.col("_ends"), F.col("line"))).over(w)
    paired = conv.withColumn("_end_json", first_end["_json"]).withColumn("_start_line", start_line)
    is_end = ok & F.col("_ends")
    standalone = F.get_json_object("_json", "$.sql").isNotNull()
    skip = (
        F.when(
            is_end & F.col("_start_line").isNotNull(),
            F.concat(F.lit("ends the query of line "), F.col("_start_line").cast("string")),
        )
        .when(is_end & ~standalone, F.lit("ends a query whose start is not in the lines read"))
        .otherwise(F.col("_skip"))
    )
    end_json = F.when(~F.col("_ends"), F.col("_end_json"))
    return paired.select(
        "source",
        "line",
        "value",
        "_json",
        "_conv_error",
        skip.alias("_skip"),
        F.get_json_object(end_json, "$.status").alias("_end_status"),
        F.get_json_object(end_json, "$.finished_at").alias("_end_finished"),
        F.get_json_object(end_json, "$.error").alias("_end_error"),
    )


def parse_records(kind: InputKind, recs: DataFrame, formats: dict[str, FileFormat]) -> DataFrame:
    """``parse_lines``-shaped rows of the records, plus ``_skip`` (null: a query row).

    Files of the product's own format alone are parsed as they are (no Python step); otherwise
    every record goes through one ``mapInPandas`` that converts the engine-native ones.
    """
    if all(f.name == JSONL for f in formats.values()):
        return parse_lines(recs, kind).withColumn("_skip", F.lit(None).cast("string"))
    conv = recs.mapInPandas(_converter(formats), CONVERTED)
    if any(f.name in PAIRED for f in formats.values()):
        conv = _pair(conv)
    else:
        conv = conv.select(
            "source",
            "line",
            "value",
            "_json",
            "_conv_error",
            "_skip",
            *[
                F.lit(None).cast("string").alias(c)
                for c in ("_end_status", "_end_finished", "_end_error")
            ],
        )
    staged = conv.select(
        "source",
        "line",
        F.col("_json").alias("value"),
        F.col("value").alias("_orig"),
        "_conv_error",
        "_skip",
        "_end_status",
        "_end_finished",
        "_end_error",
    )
    parsed = parse_lines(staged, kind)
    return (
        parsed.withColumn("value", F.col("_orig"))
        .withColumn("_parse_error", F.coalesce("_conv_error", "_parse_error"))
        .withColumn("status", F.coalesce("_end_status", "status"))
        .withColumn(
            "finished_at", F.coalesce(F.col("_end_finished").try_cast("timestamp"), "finished_at")
        )
        .withColumn("error", F.coalesce("_end_error", "error"))
        .drop("_orig", "_conv_error", "_end_status", "_end_finished", "_end_error")
    )
