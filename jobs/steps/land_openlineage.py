"""Reading OpenLineage event files: JSON Lines as they are, JSON arrays and pretty-printed
(multi-line) events split into one record per event (:mod:`audits.json_events`).

Per file, on the driver, the first 64 KB (decompressed, as Spark reads it) tell the two apart. A
document file is read line by line by Spark like any other, its lines gathered per file on one
executor and split there (``applyInPandas``), each event numbered by the line where it starts:
an OpenLineage file is a few MB at most, one file per task.
"""

from __future__ import annotations

from pyspark.sql import DataFrame

from audits.json_events import is_document, split_document
from jobs.context import JobContext
from jobs.errors import InputError
from jobs.store.files import InputFile, head_bytes, read_lines

SAMPLE_BYTES = 64 * 1024
SCHEMA = "source string, line bigint, value string"


def document_files(ctx: JobContext, files: list[InputFile]) -> set[str]:
    """The paths of ``files`` holding a JSON array or multi-line events (not JSON Lines)."""
    out = set()
    for f in files:
        try:
            sample, _complete = head_bytes(ctx.spark, f.path, SAMPLE_BYTES)
        except InputError:
            continue  # read as lines: the landing names the unreadable file
        if is_document(sample.decode("utf-8", errors="replace")):
            out.add(f.path)
    return out


def _split(pdf):
    import pandas as pd

    rows = sorted(zip(pdf["line"], pdf["value"], strict=True))
    recs = split_document([(int(n), v if v is not None else "") for n, v in rows])
    src = pdf["source"].iloc[0]
    return pd.DataFrame(
        {"source": [src] * len(recs), "line": [n for n, _ in recs], "value": [v for _, v in recs]}
    )


def records(ctx: JobContext, files: list[InputFile]) -> DataFrame:
    """DataFrame[source, line, value]: one row per event line (JSON Lines) or split event."""
    docs = document_files(ctx, files)
    if not docs:
        return read_lines(ctx.spark, files)
    for path in sorted(docs):
        ctx.log(f"land openlineage: {path}: a JSON array or multi-line events, split per event")
    plain = read_lines(ctx.spark, [f for f in files if f.path not in docs])
    split = (
        read_lines(ctx.spark, [f for f in files if f.path in docs], keep_blank=True)
        .groupBy("source")
        .applyInPandas(_split, SCHEMA)
    )
    return plain.unionByName(split)
