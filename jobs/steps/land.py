"""Input landing: read each input kind with Spark, validate, land accepted rows, reject the rest.

Every non-blank line of every new input file becomes exactly one row: in its landed table, in
``rejected_inputs`` with the file, line, reason and the (truncated) raw text, or, when its event
time is after the run's window, in ``held_inputs`` (file, line, why) until the run whose window
contains it lands it. Files are recognised by content (sha-256, recorded in ``landed_files`` with
their counts): an unchanged file is skipped, so a rerun for the same run date changes nothing; a
file that grew lands only its new lines; a corrected file is re-landed whole; late files are
picked up by the next run. So a backfill followed by today's run lands what one run for today
lands. Landed rows are upserted by ``(source_file, line)``, so a run killed half-way and started
again lands each line once. Files under an input folder that are not read (hidden names, other
types) are recorded once in ``rejected_inputs`` (location ``file``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from py4j.protocol import Py4JJavaError
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.documents import document_as_json
from audits.expectations import build_suite, split_by_suite, suite_result, unexpected_counts
from audits.inputs import (
    JSONL_KINDS,
    OPENLINEAGE,
    QUERY_LOGS,
    Field,
    InputKind,
    parse_lines,
)
from audits.redaction import redact_keys, redact_personal, redact_values
from jobs.context import JobContext, StepResult
from jobs.secrets.pseudonym import hasher, pseudonym_key
from jobs.steps import land_expectations as ge_validation
from jobs.steps import land_openlineage as openlineage_files
from jobs.steps import land_querylogs as querylogs
from jobs.steps.land_files import (
    LEDGER_SCHEMA,
    FilePlan,
    ledger_rows,
    plan_files,
    read_ledger,
)
from jobs.store.files import (
    DOC_SUFFIXES,
    JSONL_SUFFIXES,
    InputFile,
    java_reason,
    list_inputs,
    read_documents,
    read_lines,
)

TRAINING_CONFIGS = InputKind(
    "training_configs",
    "landed_training_configs",
    (
        Field("model_name", "string", required=True),
        Field("input_dataset", "string", required=True),
        Field("features", "string", required=True, raw_json=True),
        Field("output_model", "string", required=True),
    ),
)

REJECTED_SCHEMA = (
    "source string, location string, reason string, raw string, run_date date, kind string"
)
HELD_SCHEMA = (
    "source string, kind string, line bigint, until timestamp, reason string, run_date date"
)
"""``held_inputs``: lines whose event time is after the window of the run that read them."""


@dataclass(frozen=True)
class KindCounts:
    """Per-kind counts of one landing run.

    ``read`` counts lines read for the first time; lines held by an earlier run and read again
    are ``released`` when they land (or are rejected) and stay in ``held`` otherwise:
    ``read + released = accepted + rejected + held_new``, where ``held_new`` is ``held`` minus
    the lines still held from before.
    """

    files: int
    read: int
    accepted: int
    rejected: int
    held: int = 0
    released: int = 0
    skipped: int = 0
    """Records that carry no query (e.g. Spark task events, CSV log messages): counted only."""
    files_not_read: int = 0
    """Files under the kind's folder not landed (hidden, other type, unknown format, unreadable),
    each with its reason in ``rejected_inputs`` (location ``file``)."""


def _forget(ctx: JobContext, kind: InputKind, sources: list[str]) -> None:
    """Remove what earlier runs landed from files whose content changed (re-landed whole)."""
    if not sources:
        return
    for table, col in ((kind.table, "source_file"), ("held_inputs", "source")):
        if ctx.store.exists(table):
            ctx.store.delete_where(table, F.col(col).isin(sources))
    if ctx.store.exists("rejected_inputs"):
        ctx.store.delete_where(
            "rejected_inputs",
            F.col("source").isin(sources)
            & (F.col("kind") == kind.name)
            & (F.col("location") != "file"),
        )


def _note_skipped(ctx: JobContext, kind: InputKind, skipped: list[tuple[str, str]]) -> int:
    """Record each file that is not read (hidden name, other type) once, in rejected_inputs."""
    if not skipped:
        return 0
    known: set[tuple[str, str]] = set()
    if ctx.store.exists("rejected_inputs"):
        known = {
            (r.source, r.reason)
            for r in ctx.store.read("rejected_inputs")
            .filter((F.col("location") == "file") & (F.col("kind") == kind.name))
            .select("source", "reason")
            .collect()
        }  # one row per skipped file: small
    fresh = [(src, reason) for src, reason in skipped if (src, reason) not in known]
    for src, reason in fresh:
        ctx.log(f"land {kind.name}: {src}: {reason}")
    if fresh:
        notes = [(src, "file", reason, "", ctx.run_date, kind.name) for src, reason in fresh]
        ctx.store.upsert_rows(
            "rejected_inputs", notes, REJECTED_SCHEMA, keys=["source", "location"]
        )
    return len(fresh)


def _docs_as_lines(ctx: JobContext, files: list[InputFile]) -> DataFrame:
    """Training configs (*.json/*.yaml, one document per file) as one JSON line per file."""
    docs = read_documents(ctx.spark, files)

    def to_json(batches):  # runs on executors, one pandas batch of small documents at a time
        for pdf in batches:
            out = [
                document_as_json(src, bytes(content))
                for src, content in zip(pdf["source"], pdf["content"], strict=True)
            ]
            pdf = pdf.assign(value=[v for v, _ in out], _doc_error=[e for _, e in out]).drop(
                columns=["content"]
            )
            pdf["line"] = 1
            yield pdf[["source", "line", "value", "_doc_error"]]

    return docs.mapInPandas(to_json, "source string, line bigint, value string, _doc_error string")


def _raw_text(ctx: JobContext, kind: InputKind) -> F.Column:
    """The raw text of a rejected line: raw identifiers never leave the landing step, whether
    under their key (in any case or escaped) or as a value elsewhere in the line."""
    raw = F.expr("make_valid_utf8(value)")
    if kind.pseudonyms:
        raw = redact_keys(raw, list(kind.pseudonyms))
        raw = redact_values(raw, [F.col(n) for n in kind.pseudonyms])
    return F.substring(raw, 1, ctx.cfg.ingest.raw_truncate)


def _lines_to_read(
    ctx: JobContext, kind: InputKind, plans: list[FilePlan], raw: DataFrame | None = None
) -> DataFrame:
    """The lines (or ``raw`` records) of the planned files not read before, plus the held lines
    to try again."""
    files = [p.file for p in plans]
    bounds = ctx.spark.createDataFrame(
        [(p.file.path, p.after_line) for p in plans], "source string, _after bigint"
    )
    raw = (read_lines(ctx.spark, files) if raw is None else raw).join(F.broadcast(bounds), "source")
    if ctx.store.exists("held_inputs"):
        held = (
            ctx.store.read("held_inputs")
            .filter((F.col("kind") == kind.name) & F.col("source").isin([f.path for f in files]))
            .select("source", "line", F.lit(True).alias("_was_held"))
        )
        raw = raw.join(held, ["source", "line"], "left")
    else:
        raw = raw.withColumn("_was_held", F.lit(None).cast("boolean"))
    return raw.filter((F.col("line") > F.col("_after")) | F.col("_was_held").isNotNull()).select(
        "source", "line", "value"
    )


COMPRESSED = (".gz", ".bz2", ".deflate", ".zst", ".lz4", ".snappy")
_DAMAGE = ("EOFException", "ZipException", "Unexpected end of input stream", "not in GZIP format")


def _suffixes(kind: InputKind, documents: bool) -> tuple[str, ...] | None:
    """The file names a kind reads (``None``: every name, the content decides: query logs)."""
    if kind.name == QUERY_LOGS.name:
        return None
    if kind.name == OPENLINEAGE.name:  # a JSON array or pretty-printed events: land_openlineage
        return (*JSONL_SUFFIXES, ".json")
    return DOC_SUFFIXES if documents else JSONL_SUFFIXES


def _unreadable(ctx: JobContext, files: list[InputFile]) -> list[tuple[str, str]]:
    """The files Spark cannot read to their end, each with the reason: a compressed stream cut
    short or damaged, a file without read permission, one gone since it was listed. One small
    Spark job per file; run only after a read of the kind failed, to name the files instead of
    stopping the night."""
    bad = []
    for f in files:
        try:
            ctx.spark.read.text(f.path).count()
        except Exception as exc:  # noqa: BLE001 - py4j wraps the codec's or the FS's IOException
            reason = java_reason(exc)
            if f.path.lower().endswith(COMPRESSED) and any(d in str(exc) for d in _DAMAGE):
                what = f"its compressed content is cut short or damaged ({reason})"
                fix = "replace the file to land it"
            else:
                what, fix = f"Spark cannot read it ({reason})", "make it readable to land it"
            bad.append((f.path, f"file not read: {what}; no line of it is landed: {fix}"))
    return bad


def land_kind(
    ctx: JobContext,
    kind: InputKind,
    root: str,
    *,
    documents: bool = False,
    ledger: dict[str, dict[str, dict]] | None = None,
) -> KindCounts:
    """Land the new lines of one input kind; returns its counts. ``ledger``: :func:`read_ledger`
    as the step read it (None: read it now).

    A file Spark cannot read (a truncated ``.gz``, no read permission) fails the read of every
    file of the kind; each such file is then named, recorded as not read, and the others landed.
    Any other failure is raised.
    """
    try:
        return _land_kind(ctx, kind, root, documents=documents, damaged=[], ledger=ledger)
    except (Py4JJavaError, CapturedException):
        listed, _ = list_inputs(ctx.spark, root, _suffixes(kind, documents))
        damaged = _unreadable(ctx, listed)
        if not damaged:
            raise
        return _land_kind(ctx, kind, root, documents=documents, damaged=damaged, ledger=ledger)


def _land_kind(
    ctx: JobContext,
    kind: InputKind,
    root: str,
    *,
    documents: bool,
    damaged: list[tuple[str, str]],
    ledger: dict[str, dict[str, dict]] | None,
) -> KindCounts:
    """Land the new lines of one input kind but the ``damaged`` files; returns its counts.

    Files are compared with the ledger by content (sha-256): an unchanged file is skipped, one
    that grew by appended lines lands only those, one whose content changed otherwise is
    re-landed whole (what it landed before is removed first). Lines whose event time is after
    the run's window go to ``held_inputs`` and are read again by every later run until their
    window comes. Files that are not read (hidden names, other types) are recorded once.
    """
    native = kind.name == QUERY_LOGS.name  # engine-native formats, detected per file
    listed, skipped = list_inputs(ctx.spark, root, _suffixes(kind, documents))
    if damaged:
        bad = {path for path, _ in damaged}
        listed = [f for f in listed if f.path not in bad]
        skipped = sorted(skipped + damaged)
    plans = [
        p
        for p in plan_files(ctx, kind.name, listed, documents=documents, ledger=ledger)
        if p.status != "unchanged"
    ]
    formats: dict = {}
    if native and plans:
        formats, unreadable = querylogs.file_formats(ctx, root, [p.file for p in plans])
        skipped = sorted(skipped + unreadable)
        plans = [p for p in plans if p.file.path in formats]
    _note_skipped(ctx, kind, skipped)
    if not plans:
        ctx.log(f"land {kind.name}: no new files or lines")
        return KindCounts(0, 0, 0, 0, files_not_read=len(skipped))
    _forget(ctx, kind, [p.file.path for p in plans if p.status == "changed"])
    files = [p.file for p in plans]
    if documents:
        lines = _docs_as_lines(ctx, files)
        parsed = (
            parse_lines(lines.drop("_doc_error"), kind)
            .join(lines.select("source", "line", "_doc_error"), ["source", "line"])
            .withColumn("_parse_error", F.coalesce("_doc_error", "_parse_error"))
            .drop("_doc_error")
        )
    elif native:
        recs = _lines_to_read(ctx, kind, plans, raw=querylogs.records(ctx, files, formats, listed))
        parsed = querylogs.parse_records(kind, recs, formats)
    elif kind.name == OPENLINEAGE.name:
        raw = openlineage_files.records(ctx, files)
        parsed = parse_lines(_lines_to_read(ctx, kind, plans, raw=raw), kind)
    else:
        parsed = parse_lines(_lines_to_read(ctx, kind, plans), kind)
    if "_skip" not in parsed.columns:
        parsed = parsed.withColumn("_skip", F.lit(None).cast("string"))
    ge_validation.ensure_context()
    suite = build_suite(kind, cutoff=ctx.cutoff)
    bounds = ctx.spark.createDataFrame(
        [(p.file.path, p.after_line) for p in plans], "source string, _after bigint"
    )
    times = [F.col(f.name) for f in kind.fields if f.sane_time]
    until = (F.greatest(*times) if len(times) > 1 else times[0]) if times else F.lit(None)
    outcome = (
        F.when(F.col("_skip").isNotNull(), F.lit("skipped"))
        .when(F.col("_reject_reason").isNotNull(), F.lit("rejected"))
        .when(F.col("_held_reason").isNotNull(), F.lit("held"))
        .otherwise(F.lit("accepted"))
    )
    split = (
        split_by_suite(parsed, suite)
        .join(F.broadcast(bounds), "source")
        .withColumn("_outcome", outcome)
        .withColumn("_until", until.cast("timestamp"))
        .withColumn("_new", F.col("line") > F.col("_after"))
        .drop("_after")
        .persist()
    )
    try:
        # one job: the rows per file and outcome, and each expectation's unexpected rows
        groups = (
            split.groupBy("source", "_outcome", "_new")
            .agg(
                F.count("*").alias("n"),
                F.max("line").alias("last"),
                F.min("_until").alias("until"),
                *unexpected_counts(suite),
            )
            .collect()
        )  # a few rows per file: small
        counts = {
            (r["source"], r["_outcome"], r["_new"]): (r["n"], r["last"], r["until"]) for r in groups
        }
        checked = [r for r in groups if r["_outcome"] != "skipped"]
        validation = suite_result(
            suite,
            sum(r["n"] for r in checked),
            [
                sum(r[f"_unexpected_{i}"] or 0 for r in checked)
                for i in range(len(suite.expectations))
            ],
        )
        total = {
            o: sum(v[0] for (_s, out, _n), v in counts.items() if out == o)
            for o in ("accepted", "rejected", "held", "skipped")
        }
        accepted = split.filter(F.col("_outcome") == "accepted").select(
            *kind.field_names,
            "extra",
            *(["value"] if kind.keep_line else []),
            F.col("source").alias("source_file"),
            "line",
            F.lit(ctx.run_date).alias("landed_on"),
        )
        if kind.keep_line:
            accepted = accepted.withColumnRenamed("value", "raw_json")
        accepted = accepted.transform(redact_personal(kind))
        if kind.pseudonyms:
            key = pseudonym_key(ctx)
            out_schema = accepted.drop(*kind.pseudonyms).schema
            for out in kind.pseudonyms.values():
                out_schema = out_schema.add(out, "string")
            accepted = accepted.mapInPandas(hasher(key, kind.pseudonyms), out_schema)
        rejected = split.filter(F.col("_outcome") == "rejected").select(
            F.col("source"),
            F.concat(F.lit("line "), F.col("line").cast("string")).alias("location"),
            F.col("_reject_reason").alias("reason"),
            _raw_text(ctx, kind).alias("raw"),
            F.lit(ctx.run_date).alias("run_date"),
            F.lit(kind.name).alias("kind"),
        )
        held = split.filter(F.col("_outcome") == "held").select(
            "source",
            F.lit(kind.name).alias("kind"),
            "line",
            F.col("_until").alias("until"),
            F.col("_held_reason").alias("reason"),
            F.lit(ctx.run_date).alias("run_date"),
        )
        if total["accepted"]:
            if ctx.store.exists(kind.table):  # a kind that gained optional fields since
                have = set(ctx.store.schema(kind.table).fieldNames())
                new = {
                    f.name: f.type for f in kind.fields if f.name not in have and not f.pseudonym
                }
                if new:
                    ctx.store.add_columns(kind.table, new)
            ctx.store.upsert(kind.table, accepted, keys=["source_file", "line"])
            if kind.name == "deletion_requests":
                from jobs.secrets import match_keys  # noqa: PLC0415

                match_keys.record(ctx, split.filter(F.col("_outcome") == "accepted"), key)
        if total["rejected"]:
            ctx.store.upsert("rejected_inputs", rejected, keys=["source", "location"])
        was_held = any(p.prev and p.prev.get("held") for p in plans)
        if total["held"] or (was_held and ctx.store.exists("held_inputs")):
            # one commit: the held lines of the files read tonight are replaced by tonight's
            ctx.store.replace_where(
                "held_inputs",
                held,
                (F.col("kind") == kind.name) & F.col("source").isin([f.path for f in files]),
            )
        ge_validation.record(ctx, kind.name, validation)
    finally:
        split.unpersist()
    ledger = ledger_rows(ctx, kind, plans, counts)
    ctx.store.upsert_rows("landed_files", ledger, LEDGER_SCHEMA, keys=["source", "kind"])
    n_read = sum(v[0] for (_s, _o, new), v in counts.items() if new)
    still = sum(v[0] for (_s, out, new), v in counts.items() if out == "held" and not new)
    released = sum(v[0] for (_s, _o, new), v in counts.items() if not new) - still
    ctx.log(
        f"land {kind.name}: {len(files)} files, {n_read} new lines, "
        f"{total['accepted']} accepted, "
        f"{total['rejected']} rejected, {total['held']} held for a later run"
        + (f", {released} held lines released" if released else "")
        + (f", {total['skipped']} records without a query" if total["skipped"] else "")
    )
    return KindCounts(
        len(files),
        n_read,
        total["accepted"],
        total["rejected"],
        total["held"],
        released,
        total["skipped"],
        len(skipped),
    )


def _add(result: StepResult, name: str, c: KindCounts) -> None:
    result.inputs_read += c.read
    result.rows_written += c.accepted
    result.rows_rejected += c.rejected
    before = result.details.get(name) or {}
    merged = {
        k: int(before.get(k) or 0) + v
        for k, v in c.__dict__.items()
        if k not in ("held", "files_not_read")
    }
    merged["held"] = c.held if c.files else int(before.get("held") or 0)
    merged["files_not_read"] = c.files_not_read  # the folder as this attempt found it
    result.details[name] = merged


def land_inputs(ctx: JobContext) -> StepResult:
    """The landing step: every input kind, in order.

    The counts add up every attempt of the run date (see :func:`jobs.store.run_manifest.earlier_attempts`):
    after each kind that landed something, the manifest row is updated (status ``running``), so
    a run killed half-way and resumed reports every line it read, not only the last attempt's.
    """
    from jobs.store.run_manifest import earlier_attempts, record

    started, result = earlier_attempts(ctx, "land")
    started = started or datetime.now(timezone.utc).replace(tzinfo=None)
    kinds = [(kind, getattr(ctx.cfg.inputs, kind.name), False) for kind in JSONL_KINDS]
    kinds.append((TRAINING_CONFIGS, ctx.cfg.inputs.training_configs, True))
    ledger = read_ledger(ctx)
    for kind, root, documents in kinds:
        c = land_kind(ctx, kind, root, documents=documents, ledger=ledger)
        _add(result, kind.name, c)
        if c.files:
            record(ctx, "land", started, "running", result, None)
    return result
