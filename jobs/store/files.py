"""Reading input files with Spark: listing, line numbers, whole documents.

Nothing here pulls file contents through the driver: the driver lists file names and sizes, the
executors read the lines. Line numbers are computed without a shuffle: per (file, partition) line
counts (a few rows) give each partition's first line number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs.errors import InputError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".ndjson", ".ndjson.gz")
DOC_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class InputFile:
    """One input file as listed on the driver."""

    path: str
    """Normalised path (local files without the ``file:`` scheme)."""
    size: int
    """Size in bytes."""
    mtime: int
    """Modification time, ms since the epoch."""


def normalise(uri: str) -> str:
    """``file:///a/b`` and ``file:/a/b`` -> ``/a/b``; other URIs unchanged."""
    if uri.startswith("file:"):
        return "/" + uri[5:].lstrip("/")
    return uri


def normalise_col(col: F.Column) -> F.Column:
    """The same normalisation as :func:`normalise`, as a Spark column expression.

    ``input_file_name()`` gives a URL-encoded URI (``/my%20inputs/a.jsonl``); local paths are
    decoded (a literal ``+`` is protected first: URL decoding would turn it into a space).
    """
    local = F.regexp_replace(col, r"^file:/+", "/")
    decoded = F.url_decode(F.regexp_replace(local, r"\+", "%2B"))
    return F.when(col.startswith("file:"), decoded).otherwise(col)


_JAVA_EXC = re.compile(
    r"^\s*(?::\s*|Caused by: )?(?:[a-z_$][\w$]*\.)+([A-Z][\w$]*(?:Exception|Error))(?::\s*(.*))?$"
)


def java_reason(exc: BaseException) -> str:
    """The Java exception behind a py4j error, as ``EOFException: Unexpected end of input
    stream``: the root cause (the last ``Caused by:``) when the trace has one, else the first
    Java exception line (py4j's own first line only says which call failed)."""
    lines = str(exc).splitlines()
    hits = [
        (line.lstrip().startswith("Caused by:"), m)
        for line in lines
        if (m := _JAVA_EXC.match(line))
    ]
    caused = [m for is_cause, m in hits if is_cause]
    m = caused[-1] if caused else (hits[0][1] if hits else None)
    if m is None:
        return (lines[0] if lines else type(exc).__name__)[:200]
    return (m.group(1) + (f": {m.group(2).strip()}" if m.group(2) else ""))[:200]


def list_files(spark: SparkSession, root: str, suffixes: Iterable[str]) -> list[InputFile]:
    """Every file under ``root`` (recursively) whose name ends with one of ``suffixes``.

    A missing root is not an error (no input of that kind tonight); an unreadable one is.
    """
    return list_inputs(spark, root, suffixes)[0]


def list_inputs(
    spark: SparkSession, root: str, suffixes: Iterable[str] | None
) -> tuple[list[InputFile], list[tuple[str, str]]]:
    """The input files under ``root`` and the files that are not read, each with the reason.

    Not read: names (or folders under ``root``) starting with ``_`` or ``.`` (hidden, as Hadoop
    tools treat them), names holding ``:`` (not a Hadoop path), names without one of
    ``suffixes`` (``None``: every name is read; the content decides, as for query logs) and
    folders under ``root`` that cannot be listed (no permission): the rest is still listed.

    Raises:
        InputError: ``root`` itself cannot be listed.
    """
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    path = jvm.org.apache.hadoop.fs.Path(root)
    try:
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            return [], []
        statuses, skipped = _statuses(fs, path)
        out = []
        suffixes = tuple(suffixes) if suffixes is not None else None
        base = normalise(fs.makeQualified(path).toString()).rstrip("/")
        for st in statuses:
            name = st.getPath().getName()
            full = normalise(st.getPath().toString())
            below = full[len(base) :].lstrip("/").split("/") if full.startswith(base) else [name]
            if any(part.startswith((".", "_")) for part in below):
                skipped.append(
                    (
                        full,
                        "file not read: its name or folder starts with '_' or '.' "
                        "(hidden, as Hadoop tools treat it); rename it to land it",
                    )
                )
                continue
            if ":" in name:
                # Hadoop reads a relative name with ':' as a URI scheme: Spark fails the whole job
                skipped.append(
                    (
                        full,
                        "file not read: its name holds ':', which Hadoop and Spark paths cannot "
                        "read; rename it to land it",
                    )
                )
                continue
            if suffixes is not None and not name.lower().endswith(suffixes):
                skipped.append(
                    (full, "file not read: its type is not one of " + ", ".join(suffixes))
                )
                continue
            out.append(InputFile(full, int(st.getLen()), int(st.getModificationTime())))
    except Exception as exc:  # noqa: BLE001 - py4j wraps Java IO errors
        raise InputError(
            f"{root}: cannot list input files ({str(exc).splitlines()[0][:200]})"
        ) from None
    return sorted(out, key=lambda f: f.path), sorted(skipped)


def _statuses(fs, root) -> tuple[list, list[tuple[str, str]]]:
    """The file statuses under ``root`` and the folders below it that cannot be listed.

    One recursive listing (a flat listing on object stores); only when it fails is the tree
    walked folder by folder, so that one unreadable folder is named instead of hiding the rest.
    """
    try:
        it = fs.listFiles(root, True)
        found = []
        while it.hasNext():
            found.append(it.next())
        return found, []
    except Exception:  # noqa: BLE001 - py4j wraps AccessDeniedException and other IO errors
        pass
    found, unlisted, folders = [], [], [root]
    while folders:
        folder = folders.pop()
        try:
            children = fs.listStatus(folder)
        except Exception as exc:  # noqa: BLE001 - py4j wraps Java IO errors
            if folder is root:
                raise
            unlisted.append(
                (
                    normalise(folder.toString()),
                    f"folder not read: it cannot be listed ({java_reason(exc)}); no file under "
                    "it is landed: make it readable to land them",
                )
            )
            continue
        for st in children:
            if st.isDirectory():
                folders.append(st.getPath())
            else:
                found.append(st)
    return found, unlisted


def read_lines(
    spark: SparkSession, files: list[InputFile], *, keep_blank: bool = False
) -> DataFrame:
    """DataFrame[source string, line bigint, value string] of the non-blank lines of ``files``.

    ``line`` is the 1-based line number in its file (gzip files included). Lines end at LF (a
    CR before it is dropped): a bare CR stays inside its line instead of splitting it, so line
    numbers are those of ``wc -l`` and the parse rejects the line. ``keep_blank`` keeps blank
    lines too (a CSV field may hold them).
    """
    schema = "source string, line bigint, value string"
    if not files:
        return spark.createDataFrame([], schema)
    text = (
        spark.read.option("lineSep", "\n")
        .text([f.path for f in files])
        .withColumn(
            "value",
            F.when(
                F.col("value").endswith("\r"), F.expr("substring(value, 1, length(value) - 1)")
            ).otherwise(F.col("value")),
        )
        .withColumn("source", normalise_col(F.input_file_name()))
    )
    numbered = _numbered(text)
    return numbered if keep_blank else numbered.filter(F.trim(F.col("value")) != "")


def _numbered(rows: DataFrame) -> DataFrame:
    """``[source, value]`` rows in file order -> ``[source, line, value]``, ``line`` the 1-based
    position in its file: each partition's first number is the count of the same file's rows in
    earlier partitions (Spark reads a file's splits in order)."""
    rows = rows.withColumn("_pid", F.spark_partition_id()).withColumn(
        "_mid", F.monotonically_increasing_id()
    )
    counts = rows.groupBy("source", "_pid").agg(
        F.count("*").alias("_n"), F.min("_mid").alias("_min")
    )
    w = Window.partitionBy("source").orderBy("_pid").rowsBetween(Window.unboundedPreceding, -1)
    starts = counts.withColumn("_start", F.coalesce(F.sum("_n").over(w), F.lit(0))).select(
        "source", "_pid", "_min", "_start"
    )
    return rows.join(F.broadcast(starts), ["source", "_pid"]).select(
        "source",
        (F.col("_start") + F.col("_mid") - F.col("_min") + 1).alias("line"),
        "value",
    )


def parquet_columns(spark: SparkSession, path: str) -> list[str]:
    """The column names of a Parquet file (its footer only).

    Raises:
        InputError: the file is not a readable Parquet file.
    """
    try:
        return list(spark.read.parquet(path).columns)
    except Exception as exc:  # noqa: BLE001 - py4j wraps the reader's errors
        raise InputError(f"{path}: unreadable as Parquet ({java_reason(exc)})") from None


JSON_ROW_OPTIONS = {
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
    "ignoreNullFields": "false",  # a NULL column is a field that is there, with no value
}


def read_parquet_rows(spark: SparkSession, files: list[InputFile]) -> DataFrame:
    """DataFrame[source, line, value] of Parquet files: each row as a JSON object of its columns
    (timestamps in ISO 8601 with their offset, null columns as JSON nulls), ``line`` its 1-based row number.

    Each file is read on its own (exports of different tables have different columns).
    """
    parts = [
        spark.read.parquet(f.path).select(
            normalise_col(F.input_file_name()).alias("source"),
            F.to_json(F.struct("*"), JSON_ROW_OPTIONS).alias("value"),
        )
        for f in files
    ]
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.unionByName(part)
    return _numbered(rows)


def head_bytes(spark: SparkSession, path: str, n: int) -> tuple[bytes, bool]:
    """The first ``n`` bytes of a file (decompressed, by its suffix, as Spark reads it) and
    whether they are the whole file. Read on the driver: a few KB per file, to detect formats.

    Raises:
        InputError: the file cannot be opened or decompressed.
    """
    jvm = spark.sparkContext._jvm  # type: ignore[attr-defined]
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    stream = None
    try:
        fs = hpath.getFileSystem(conf)
        stream = fs.open(hpath)
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf).getCodec(hpath)
        if codec is not None:
            stream = codec.createInputStream(stream)
        bounded = jvm.org.apache.commons.io.input.BoundedInputStream(stream, n + 1)
        data = bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(bounded))
    except Exception as exc:  # noqa: BLE001 - py4j wraps Java IO errors
        raise InputError(f"{path}: unreadable ({java_reason(exc)})") from None
    finally:
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a failed stream
                pass
    return data[:n], len(data) <= n


def read_documents(spark: SparkSession, files: list[InputFile]) -> DataFrame:
    """DataFrame[source string, content binary]: one row per whole (small) document file, its
    bytes as they are (decoding is the parser's: a file that is not UTF-8 is rejected there)."""
    if not files:
        return spark.createDataFrame([], "source string, content binary")
    return (
        spark.read.format("binaryFile")
        .load([f.path for f in files])
        .select(normalise_col(F.col("path")).alias("source"), "content")
    )
