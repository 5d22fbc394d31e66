"""Input landing: read each input kind with Spark, validate, land accepted rows, reject the rest.

Every non-blank line of every new input file becomes exactly one row: in its landed table, or in
``rejected_inputs`` with the file, line, reason and the (truncated) raw text. Files already landed
(same size and modification time, recorded in ``landed_files``) are skipped, so a rerun for the same
run date changes nothing and late files are picked up by the next run. Landed rows are upserted by
``(source_file, line)``, so a run killed half-way and started again lands each line once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from audits.expectations import build_suite, split_by_suite
from audits.inputs import JSONL_KINDS, Field, InputKind, parse_lines
from jobs import ge_validation
from jobs.context import JobContext, StepResult
from jobs.files import DOC_SUFFIXES, JSONL_SUFFIXES, InputFile, list_files, read_documents, read_lines
from jobs.pseudonym import hasher, pseudonym_key

TRAINING_CONFIGS = InputKind(
    "training_configs", "landed_training_configs",
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
LEDGER_SCHEMA = (
    "source string, kind string, size bigint, mtime bigint, run_date date, "
    "lines bigint, accepted bigint, rejected bigint"
)


@dataclass(frozen=True)
class KindCounts:
    """Per-kind counts of one landing run."""

    files: int
    read: int
    accepted: int
    rejected: int


def _new_files(ctx: JobContext, kind: str, files: list[InputFile]) -> list[InputFile]:
    if not files or not ctx.store.exists("landed_files"):
        return files
    seen = {
        (r.source, r.size, r.mtime)
        for r in ctx.store.read("landed_files").filter(F.col("kind") == kind)
        .select("source", "size", "mtime").collect()
    }  # one row per input file: small
    return [f for f in files if (f.path, f.size, f.mtime) not in seen]


def _docs_as_lines(ctx: JobContext, files: list[InputFile]) -> DataFrame:
    """Training configs (*.json/*.yaml, one document per file) as one JSON line per file."""
    docs = read_documents(ctx.spark, files)

    def to_json(batches):  # runs on executors, one pandas batch of small documents at a time
        for pdf in batches:
            values, errors = [], []
            for src, content in zip(pdf["source"], pdf["content"]):
                try:
                    doc = json.loads(content) if src.endswith(".json") else yaml.safe_load(content)
                    values.append(json.dumps(doc, sort_keys=True, default=str))
                    errors.append(None)
                except (ValueError, yaml.YAMLError) as exc:
                    values.append(content)
                    errors.append(f"unparseable {'JSON' if src.endswith('.json') else 'YAML'}: "
                                  + str(exc).splitlines()[0][:200])
            pdf = pdf.assign(value=values, _doc_error=errors).drop(columns=["content"])
            pdf["line"] = 1
            yield pdf[["source", "line", "value", "_doc_error"]]

    return docs.mapInPandas(to_json, "source string, line bigint, value string, _doc_error string")


def _raw_text(ctx: JobContext, kind: InputKind) -> F.Column:
    raw = F.col("value")
    if kind.name == "deletion_requests":  # raw subject ids never leave the landing step
        raw = F.regexp_replace(
            raw, r"""(["']?subject_id["']?\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,}\s]+)""",
            '$1"<redacted>"')
    return F.substring(raw, 1, ctx.cfg.ingest.raw_truncate)


def land_kind(ctx: JobContext, kind: InputKind, root: str, *, documents: bool = False) -> KindCounts:
    """Land the new files of one input kind; returns its counts."""
    files = _new_files(ctx, kind.name, list_files(ctx.spark, root, DOC_SUFFIXES if documents else JSONL_SUFFIXES))
    if not files:
        ctx.log(f"land {kind.name}: no new files")
        return KindCounts(0, 0, 0, 0)
    if documents:
        lines = _docs_as_lines(ctx, files)
        parsed = parse_lines(lines.drop("_doc_error"), kind).join(
            lines.select("source", "line", "_doc_error"), ["source", "line"]
        ).withColumn("_parse_error", F.coalesce("_doc_error", "_parse_error")).drop("_doc_error")
    else:
        parsed = parse_lines(read_lines(ctx.spark, files), kind)
    ge_validation.ensure_context()
    suite = build_suite(kind, cutoff=ctx.cutoff)
    split = split_by_suite(parsed, suite).persist()
    try:
        counts = {
            (r["ok"], r["source"]): (r["n"])
            for r in split.groupBy((F.col("_reject_reason").isNull()).alias("ok"), "source")
            .agg(F.count("*").alias("n")).collect()
        }  # one row per (file, ok): small
        accepted = split.filter(F.col("_reject_reason").isNull()).select(
            *kind.field_names, "extra",
            *(["value"] if kind.keep_line else []),
            F.col("source").alias("source_file"), "line", F.lit(ctx.run_date).alias("landed_on"),
        )
        if kind.keep_line:
            accepted = accepted.withColumnRenamed("value", "raw_json")
        if kind.name == "deletion_requests":
            key = pseudonym_key(ctx)
            out_schema = accepted.drop("subject_id").schema.add("subject_key", "string")
            accepted = accepted.mapInPandas(hasher(key, "subject_id", "subject_key"), out_schema)
        rejected = split.filter(F.col("_reject_reason").isNotNull()).select(
            F.col("source"),
            F.concat(F.lit("line "), F.col("line").cast("string")).alias("location"),
            F.col("_reject_reason").alias("reason"),
            _raw_text(ctx, kind).alias("raw"),
            F.lit(ctx.run_date).alias("run_date"),
            F.lit(kind.name).alias("kind"),
        )
        n_acc = sum(n for (ok, _), n in counts.items() if ok)
        n_rej = sum(n for (ok, _), n in counts.items() if not ok)
        if n_acc:
            ctx.store.upsert(kind.table, accepted, keys=["source_file", "line"])
        if n_rej:
            ctx.store.upsert("rejected_inputs", rejected, keys=["source", "location"])
        ge_validation.record(ctx, kind.name, split, suite)
    finally:
        split.unpersist()
    ledger = ctx.spark.createDataFrame(
        [
            (f.path, kind.name, f.size, f.mtime, ctx.run_date,
             counts.get((True, f.path), 0) + counts.get((False, f.path), 0),
             counts.get((True, f.path), 0), counts.get((False, f.path), 0))
            for f in files
        ],
        LEDGER_SCHEMA,
    )
    ctx.store.upsert("landed_files", ledger, keys=["source", "kind"])
    ctx.log(f"land {kind.name}: {len(files)} files, {n_acc + n_rej} lines, {n_acc} accepted, {n_rej} rejected")
    return KindCounts(len(files), n_acc + n_rej, n_acc, n_rej)


def land_inputs(ctx: JobContext) -> StepResult:
    """The landing step: every input kind, in order."""
    result = StepResult()
    for kind in JSONL_KINDS:
        c = land_kind(ctx, kind, getattr(ctx.cfg.inputs, kind.name))
        result.inputs_read += c.read
        result.rows_written += c.accepted
        result.rows_rejected += c.rejected
        result.details[kind.name] = c.__dict__
    c = land_kind(ctx, TRAINING_CONFIGS, ctx.cfg.inputs.training_configs, documents=True)
    result.inputs_read += c.read
    result.rows_written += c.accepted
    result.rows_rejected += c.rejected
    result.details[TRAINING_CONFIGS.name] = c.__dict__
    return result
