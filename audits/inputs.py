"""Input kinds: their fields and the pure parse of raw JSON lines into typed DataFrames.

Each JSON Lines input kind of DESIGN.md §5b is described by an :class:`InputKind`: the fields to
extract (a dotted JSON path, a Spark type, whether it is required, the allowed values). Parsing
never drops a line: a line that is not a JSON object gets ``_parse_error``, a field whose value has
the wrong type gets ``_type_error``; the expectation suites (:mod:`audits.expectations`) turn those
and the other rules into reasons, and the landing job routes failing rows to ``rejected_inputs``.
Unknown extra top-level fields are kept in the ``extra`` map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

MAX_SLA_DAYS = 3650
"""The largest ``sla_days`` a deletion request may carry."""


@dataclass(frozen=True)
class Field:
    """One field of an input kind."""

    name: str
    """Column name in the landed table."""
    type: str
    """Spark SQL type: string, bigint, int, double, boolean, timestamp, array<string>."""
    path: str | None = None
    """Dotted JSON path when it differs from ``name`` (e.g. ``run.runId``)."""
    required: bool = False
    """The landed row must have a non-null value."""
    allowed: tuple[str, ...] | None = None
    """The only values accepted (enumerations)."""
    non_negative: bool = False
    """Numbers must be >= 0."""
    maximum: int | None = None
    """Numbers must be <= this (a bound past which later arithmetic would overflow)."""
    sane_time: bool = False
    """Timestamps must lie between 2000-01-01 and the run's cutoff."""
    raw_json: bool = False
    """Keep the value as JSON text (nested objects such as facets)."""
    json_type: str | None = None
    """The JSON type the value must have (``STRING``, ``ARRAY``, ...; null is always allowed):
    a value of another type is a type error instead of being coerced to text."""
    pseudonym: str | None = None
    """An identifier that could re-identify a person: it lands only as its keyed pseudonym
    (``sk_<hex>``, the subject-key function) in the column named here, never raw; it is also
    redacted from the raw text of a rejected line."""
    free_text: bool = False
    """Text written by a person or a system (an event's ``detail``): it lands with every e-mail
    address and every raw identifier of its line replaced by ``<redacted>``."""


@dataclass(frozen=True)
class InputKind:
    """A JSON Lines input kind and the table it lands in."""

    name: str
    """Config key under ``inputs`` and the ``source`` prefix in rejected_inputs."""
    table: str
    """Landed Delta table."""
    fields: tuple[Field, ...]
    """Extracted fields, in table order."""
    keep_line: bool = False
    """Keep the whole raw line in a ``raw_json`` column (OpenLineage events)."""
    one_of: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    """Groups of fields of which at least one must be present (e.g. sql or action)."""
    requires: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)
    """(field, needed): when ``field`` is present, every ``needed`` field must be too."""
    shape_checks: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """(SQL predicate over ``_obj``, the line as ``map<string,variant>``; reason): a line for
    which the predicate is true has a nested value of the wrong shape (``_type_error``)."""

    @property
    def field_names(self) -> list[str]:
        """Names of the extracted fields."""
        return [f.name for f in self.fields]

    @property
    def pseudonyms(self) -> dict[str, str]:
        """Raw identifier field -> the column of its keyed pseudonym in the landed table."""
        return {f.name: f.pseudonym for f in self.fields if f.pseudonym}


def _bad_facet_sql(cl: str) -> str:
    """SQL: true when the columnLineage facet variant ``cl`` is present and of the wrong shape."""

    def kind(v: str) -> str:
        return f"schema_of_variant({v})"

    def absent(v: str) -> str:
        return f"({v} IS NULL OR {kind(v)} = 'VOID')"

    fields = f"variant_get({cl}, '$.fields')"
    dataset = f"variant_get({cl}, '$.dataset')"
    bad_field = (
        f"f -> NOT (startswith({kind('f')}, 'OBJECT') AND ({absent(chr(0))} OR "
        f"startswith({kind(chr(0))}, 'ARRAY')))"
    ).replace(chr(0), "variant_get(f, '$.inputFields')")
    return (
        f"(NOT {absent(cl)} AND (NOT startswith({kind(cl)}, 'OBJECT')"
        f" OR NOT ({absent(fields)} OR (startswith({kind(fields)}, 'OBJECT') AND NOT exists("
        f"map_values(try_variant_get({cl}, '$.fields', 'map<string,variant>')), {bad_field})))"
        f" OR NOT ({absent(dataset)} OR startswith({kind(dataset)}, 'ARRAY'))))"
    )


UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
"""An OpenLineage ``run.runId`` (JSON schema ``format: uuid``, any version)."""

_DIALECTS = None  # engines are validated by the ingest step (unknown dialects are rejected there)

QUERY_LOGS = InputKind(
    "query_logs",
    "landed_query_logs",
    (
        Field("query_id", "string", json_type="STRING"),
        Field("job_id", "string", json_type="STRING"),
        Field("engine", "string", json_type="STRING"),
        Field("user", "string"),
        Field("started_at", "timestamp", required=True, sane_time=True),
        Field("sql", "string", json_type="STRING"),
        Field("default_schema", "string"),
        Field("status", "string", allowed=("ok", "failed")),
        Field("action", "string", allowed=("READ", "WRITE")),
        Field("table", "string"),
        # set by the engine-native formats (audits.querylog_formats); optional in the product's own
        Field("finished_at", "timestamp"),
        Field("error", "string"),
        Field("destination", "string", json_type="STRING"),
        Field("format", "string"),
        Field("engine_lineage", "string", raw_json=True, json_type="ARRAY"),
        # dbt nodes (audits.querylog_formats.dbt): columns with types and data categories
        Field("columns", "string", raw_json=True, json_type="ARRAY"),
    ),
    one_of=(("sql", "action"),),
    requires=(("action", ("job_id", "table")),),
)

OPENLINEAGE = InputKind(
    "openlineage",
    "landed_openlineage",
    (
        # eventType is optional in the 2-0-x spec; JobEvents have no run, DatasetEvents only a
        # dataset (lineage.signals.openlineage reads them)
        Field(
            "event_type",
            "string",
            path="eventType",
            allowed=("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"),
        ),
        Field("event_time", "timestamp", path="eventTime", required=True, sane_time=True),
        Field("run_id", "string", path="run.runId"),
        Field("job_namespace", "string", path="job.namespace"),
        Field("job_name", "string", path="job.name"),
        Field("inputs", "string", raw_json=True, json_type="ARRAY"),
        Field("outputs", "string", raw_json=True, json_type="ARRAY"),
    ),
    keep_line=True,
    shape_checks=(
        (
            # every output's columnLineage facet, when present: an object whose `fields` is an object
            # of objects with an `inputFields` list, and whose `dataset` is a list
            "exists(coalesce(try_variant_get(_obj['outputs'], '$', 'array<variant>'), array()), o -> "
            + _bad_facet_sql("variant_get(o, '$.facets.columnLineage')")
            + ")",
            "field 'outputs' has a columnLineage facet of the wrong shape (expected fields.<column>"
            ".inputFields as a list): its column lineage would be lost",
        ),
        (
            "_obj['job'] IS NULL AND _obj['dataset'] IS NULL",
            "neither 'job' (a RunEvent or JobEvent) nor 'dataset' (a DatasetEvent): not an "
            "OpenLineage event",
        ),
        (
            "_obj['run'] IS NOT NULL AND coalesce(try_variant_get(_obj['job'], '$.name', "
            "'string'), '') = ''",
            "missing required field 'job.name'",
        ),
        (
            "_obj['run'] IS NOT NULL AND NOT coalesce(try_variant_get(_obj['run'], '$.runId', "
            f"'string') rlike '{UUID_PATTERN}', false)",
            "field 'run.runId' is missing or not a UUID (the OpenLineage spec's format: uuid, e.g. "
            "01890e70-7d2b-7d2e-9c1e-3a5b0f6c2d41)",
        ),
    ),
)

PROBE_SAMPLES = InputKind(
    "probe_samples",
    "landed_probe_samples",
    (
        Field("request_id", "string", required=True),
        Field("ts", "timestamp", required=True, sane_time=True),
        Field("role", "string", required=True, allowed=("source", "sink")),
        Field("asset", "string", required=True),
        Field("field", "string"),
        Field("value_hashes", "array<string>", required=True),
    ),
)

DELETION_EVENTS = InputKind(
    "deletion_events",
    "deletion_events",
    (
        Field("deletion_id", "string", required=True),
        Field("object_id", "string", pseudonym="object_key"),
        Field("object_type", "string"),
        Field(
            "event",
            "string",
            required=True,
            allowed=("scheduled", "started", "progress", "rerun", "exception", "completed"),
        ),
        Field("ts", "timestamp", required=True, sane_time=True),
        Field("scheduled_for", "timestamp"),
        Field("points_deleted", "bigint", non_negative=True),
        Field("detail", "string", free_text=True),
    ),
)

#: How an erasure request reached the controller (suggested values; any text lands).
REQUEST_CHANNELS = ("web_form", "email", "letter", "phone", "in_app", "api", "in_person", "other")
#: How the requester's identity was verified, GDPR Art. 12(6) (suggested values; any text lands).
IDENTITY_VERIFICATIONS = (
    "account_login",
    "email_confirmation",
    "id_document",
    "knowledge_based",
    "not_required",
    "other",
)
#: The controller's decision on the request.
REQUEST_DECISIONS = ("accepted", "partially_accepted", "refused")
#: Grounds for refusing or limiting an erasure: Art. 17(3)(a)-(e) and Art. 12(5).
ERASURE_EXEMPTIONS = (
    "freedom_of_expression",
    "legal_obligation",
    "public_health",
    "archiving_research",
    "legal_claims",
    "manifestly_unfounded",
    "excessive",
    "identity_not_verified",
)

DELETION_REQUESTS = InputKind(
    "deletion_requests",
    "deletion_requests",
    (
        Field("deletion_id", "string", required=True),
        Field("subject_id", "string", required=True, pseudonym="subject_key"),
        Field("subject_type", "string"),
        Field("requested_at", "timestamp", required=True, sane_time=True),
        # GDPR Art. 12(3): one month, extendable by two; ten years is already absurd, and
        # 200,000,000 days overflowed the audit's microsecond arithmetic
        Field("sla_days", "int", non_negative=True, maximum=MAX_SLA_DAYS),
        # how the request was handled (optional; the report says "not recorded" when absent)
        # descriptive: any text (suggested values REQUEST_CHANNELS, IDENTITY_VERIFICATIONS); a
        # label the list lacks must not reject the request itself
        Field("channel", "string", free_text=True),
        Field("identity_verification", "string", free_text=True),
        # legal status: a value outside the list is a rejection with the allowed values
        Field("decision", "string", allowed=REQUEST_DECISIONS),
        Field("exemption", "string", allowed=ERASURE_EXEMPTIONS),
        Field("approved_by", "string", free_text=True),
        Field("executed_by", "string", free_text=True),
        Field("recipients_notified_at", "timestamp", sane_time=True),
        Field("subject_informed_at", "timestamp", sane_time=True),
    ),
)

EDGE_INVENTORY = InputKind(
    "edge_inventory",
    "landed_edge_inventory",
    (
        Field("edge_type", "string", required=True),
        Field("src_type", "string"),
        Field("src_id", "string", required=True, pseudonym="src_key"),
        Field("dst_type", "string"),
        Field("dst_id", "string", required=True, pseudonym="dst_key"),
        Field("created_at", "timestamp", sane_time=True),
        Field("deleted_src", "boolean"),
    ),
)

JSONL_KINDS: tuple[InputKind, ...] = (
    QUERY_LOGS,
    OPENLINEAGE,
    PROBE_SAMPLES,
    DELETION_EVENTS,
    DELETION_REQUESTS,
    EDGE_INVENTORY,
)


MAX_LINE_CHARS = 16 * 1024 * 1024
"""Longer lines are rejected as too large instead of being parsed."""

_JSON_TYPE_NAMES = (
    ("OBJECT", "an object"),
    ("ARRAY", "a list"),
    ("STRING", "a string"),
    ("BOOLEAN", "true/false"),
)


def requires_column(field_name: str) -> str:
    """Name of the flag column of a ``requires`` rule."""
    return f"_requires_{field_name}"


def _extract(obj: Column, value: Column, f: Field) -> Column:
    if f.path and "." in f.path:
        text = F.get_json_object(value, "$." + f.path)
    else:
        text = obj[f.path or f.name].cast("string")
    return text


def _typed(text: Column, f: Field) -> Column:
    if f.raw_json or f.type == "string":
        return text
    if f.type.startswith("array<"):
        return F.from_json(text, f.type)
    if f.type == "boolean":
        return F.when(F.lower(text) == "true", F.lit(True)).when(
            F.lower(text) == "false", F.lit(False)
        )
    return text.try_cast(f.type)


def _json_type_error(obj: Column, f: Field) -> Column:
    """The reason when the field's JSON value is not of ``f.json_type`` (null otherwise)."""
    kind = F.schema_of_variant(obj[f.path or f.name])
    name = F.lit("a number")
    for prefix, label in reversed(_JSON_TYPE_NAMES):
        name = F.when(kind.startswith(prefix), F.lit(label)).otherwise(name)
    expected = dict(_JSON_TYPE_NAMES).get(f.json_type or "", f.json_type)
    return F.when(
        kind.isNotNull() & (kind != "VOID") & ~kind.startswith(f.json_type or ""),
        F.concat(F.lit(f"field '{f.path or f.name}' is "), name, F.lit(f", expected {expected}")),
    )


def _parse_error(value: Column, arr: Column) -> Column:
    """Why a line is not exactly one JSON object (null when it is)."""
    lenient = F.from_json(value, "map<string,string>", {"allowSingleQuotes": "false"})
    return (
        F.when(
            F.length(value) > MAX_LINE_CHARS,
            F.concat(
                F.lit("line too large: "),
                F.length(value).cast("string"),
                F.lit(f" characters (at most {MAX_LINE_CHARS} are read)"),
            ),
        )
        .when(~F.expr("is_valid_utf8(value)"), F.lit("invalid UTF-8 bytes in the line"))
        .when(
            value.contains("\r"),
            F.lit(
                "a bare carriage return (CR) inside the line: a record split or joined by mistake?"
            ),
        )
        .when(F.size(arr) > 1, F.lit("malformed JSON: more than one JSON object on the line"))
        .when(
            arr.isNull() & lenient.isNotNull() & value.rlike(r"\}\s*\{"),
            F.lit("malformed JSON: more than one JSON object on the line"),
        )
        .when(
            arr.isNull() & lenient.isNotNull(),
            F.lit("malformed JSON: text after the end of the JSON object"),
        )
        .when(
            arr.isNull() | F.element_at(arr, 1).isNull(),
            F.lit("malformed JSON: not a complete JSON object"),
        )
    )


def parse_lines(raw: DataFrame, kind: InputKind) -> DataFrame:
    """Parse raw lines into the kind's typed columns, flagging instead of dropping bad lines.

    A line must be exactly one JSON object: a second object or any text after the first is a
    parse error (the line is parsed as the only element of a JSON array, which the parser checks
    strictly), as are lines over :data:`MAX_LINE_CHARS`, invalid UTF-8 and a bare carriage
    return. Fields with a ``json_type`` must have that JSON type (a number or an object is not
    silently turned into a string), and the kind's ``shape_checks`` hold.

    Args:
        raw: DataFrame[source string, line bigint, value string] (one row per non-blank line).
        kind: the input kind.

    Returns:
        ``source, line, value`` plus one column per field, ``extra`` (unknown top-level fields),
        ``_parse_error`` (null when the line is a JSON object) and ``_type_error`` (the first
        field whose value has the wrong type, or null). Further ``raw`` columns whose names start
        with ``_`` are passed through.
    """
    passthrough = [c for c in raw.columns if c.startswith("_")]
    value = F.col("value")
    arr = F.when(
        F.length(value) <= MAX_LINE_CHARS,
        F.from_json(
            F.concat(F.lit("["), value, F.lit("]")),
            "array<map<string,variant>>",
            {"allowSingleQuotes": "false", "maxStringLen": str(MAX_LINE_CHARS)},
        ),
    )
    df = raw.withColumn("_arr", arr).withColumn("_parse_error", _parse_error(value, F.col("_arr")))
    df = df.withColumn("_obj", F.when(F.col("_parse_error").isNull(), F.element_at("_arr", 1)))
    obj = F.col("_obj")
    texts = {f.name: _extract(obj, F.col("value"), f) for f in kind.fields}
    cols = [F.col("source"), F.col("line"), F.col("value")]
    for f in kind.fields:
        cols.append(F.when(F.col("_parse_error").isNull(), _typed(texts[f.name], f)).alias(f.name))
    top_level = sorted({(f.path or f.name).split(".")[0] for f in kind.fields})
    extra = F.map_filter(obj, lambda k, _v: ~k.isin(*top_level) if top_level else F.lit(True))
    cols.append(
        F.when(obj.isNotNull(), F.transform_values(extra, lambda _k, v: v.cast("string"))).alias(
            "extra"
        )
    )
    cols.append(F.col("_parse_error"))
    type_checks = [_json_type_error(obj, f) for f in kind.fields if f.json_type]
    type_checks += [
        F.when(
            texts[f.name].isNotNull() & _typed(texts[f.name], f).isNull(),
            F.lit(f"field '{f.path or f.name}' is not a valid {f.type}"),
        )
        for f in kind.fields
        if not (f.raw_json or f.type == "string")
    ]
    for predicate, reason in kind.shape_checks:
        type_checks.append(F.when(F.expr(predicate), F.lit(reason)))
    type_error = F.coalesce(*type_checks) if type_checks else F.lit(None).cast("string")
    cols.append(F.when(obj.isNotNull(), type_error).alias("_type_error"))
    out = df.select(*cols, *passthrough)
    for cond, needed in kind.requires:
        missing = F.concat_ws(", ", *[F.when(F.col(n).isNull(), F.lit(f"'{n}'")) for n in needed])
        out = out.withColumn(
            requires_column(cond),
            F.when(
                F.col(cond).isNotNull() & (missing != ""),
                F.concat(F.lit(f"a line with '{cond}' also needs "), missing),
            ),
        )
    for group in kind.one_of:
        out = out.withColumn(
            "_" + "_or_".join(group), F.coalesce(*[F.col(g).cast("string") for g in group])
        )
    return out
