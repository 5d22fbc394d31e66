"""Redaction by value of the raw identifiers and e-mail addresses in landed input lines.

Rules over Spark columns, used by the landing step (``jobs/steps/land.py``): the raw text of a
rejected line loses identifiers under their keys (:func:`redact_keys`) and as values
(:func:`redact_values`); accepted lines of a kind with ``pseudonym`` fields lose them from their
``free_text`` fields and ``extra`` map (:func:`redact_personal`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from audits.inputs import InputKind
from core.key_material import KEY_MATERIAL

REDACTED = "<redacted>"
#: An e-mail address (RFC 5322's common form), redacted from free text wherever it appears.
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
#: Key material (``core.key_material.KEY_MATERIAL``): the report refuses to show it, so a line
#: quoting it would stop every later report.
KEY_MATERIAL_PATTERN = KEY_MATERIAL
REDACTED_KEY = "<redacted key material>"
#: Raw identifiers shorter than this are redacted by key only (replacing every "7" would say
#: nothing and destroy the text).
MIN_REDACTED_VALUE = 3


def key_pattern(name: str) -> str:
    """A regex for a JSON key spelling ``name`` in any case, ``_`` also as its ``\\u005f`` escape."""
    parts = [re.escape(p) for p in name.split("_")]
    return "(?i)" + r"(?:_|\\u005[fF])".join(parts)


def redact_keys(text: Column, names: Sequence[str]) -> Column:
    """``text`` (a raw line) with the value of every key that spells one of ``names`` redacted."""
    for name in names:
        text = F.regexp_replace(
            text,
            rf"""((?:["']|\b){key_pattern(name)}["']?\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,}}\s]+)""",
            f'$1"{REDACTED}"',
        )
    return text


def redact_values(text: Column, values: Sequence[Column]) -> Column:
    """``text`` with every e-mail address, all key material and every occurrence of each raw
    value redacted."""
    out = F.regexp_replace(text, KEY_MATERIAL_PATTERN, REDACTED_KEY)
    out = F.regexp_replace(out, EMAIL_PATTERN, REDACTED)
    for v in values:
        s = v.cast("string")
        out = F.when(
            s.isNotNull() & (F.length(s) >= MIN_REDACTED_VALUE), F.replace(out, s, F.lit(REDACTED))
        ).otherwise(out)
    return out


def _normalised(name: Column) -> Column:
    return F.lower(
        F.regexp_replace(F.regexp_replace(name, r"\\u005[fF]", "_"), r"[^A-Za-z0-9]", "")
    )


def redact_personal(kind: InputKind) -> Callable[[DataFrame], DataFrame]:
    """Redaction by value of parsed lines of a kind that carries raw identifiers (for ``transform``).

    Every ``free_text`` field and every ``extra`` value loses its e-mail addresses and the raw
    identifiers of its own line (:func:`redact_values`); an ``extra`` key that spells an
    identifier field in another case or escaped (``Subject_ID``) has its value redacted whole.
    A kind without ``pseudonym`` fields is returned as it is.
    """
    ids = list(kind.pseudonyms)
    if not ids:
        return lambda df: df
    id_names = [re.sub(r"[^a-z0-9]", "", n.lower()) for n in ids]

    def run(df: DataFrame) -> DataFrame:
        values = [F.col(n) for n in ids]
        for f in kind.fields:
            if f.free_text:
                df = df.withColumn(f.name, redact_values(F.col(f.name), values))
        extra = F.transform_values(
            "extra",
            lambda k, v: F.when(_normalised(k).isin(*id_names), F.lit(REDACTED)).otherwise(
                redact_values(v, values)
            ),
        )
        return df.withColumn("extra", extra)

    return run
