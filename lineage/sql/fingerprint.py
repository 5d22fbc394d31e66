"""Query fingerprints: literals, comments, case and whitespace folded, then hashed.

Two log lines with the same fingerprint have the same lineage, so the ingest job parses each
distinct (fingerprint, dialect) once. The normalisation is a fixed chain of regular expressions
written in the common subset of Python ``re`` and Java ``java.util.regex``, so that
:func:`fingerprint` (Python, for tests and small inputs) and :func:`fingerprint_col` (Spark
built-in ``regexp_replace`` + ``sha2``, for the job) give identical results. Double-quoted text
is kept (it is an identifier in Trino/Presto), single-quoted strings and numbers become ``?``,
lists of placeholders collapse to one, and everything is lower-cased.

Example:
    >>> fingerprint("SELECT a FROM t WHERE id IN (1, 2, 3)") == fingerprint(
    ...     "select a\\n  from t -- hot path\\n where id in (42)")
    True
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import Column

#: (pattern, replacement in Java syntax) applied in order; Python uses the same patterns.
STEPS: tuple[tuple[str, str], ...] = (
    # comments go (strings are matched first and kept, so '--' inside a string survives)
    (r"('(?:[^'\\]|\\.|'')*')|--[^\n]*|/\*[\s\S]*?\*/", "$1 "),
    # single-quoted string literals become ?
    (r"'(?:[^'\\]|\\.|'')*'", "?"),
    # numeric literals (not parts of identifiers) become ?
    (r"(?<![A-Za-z0-9_$.\"`])[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?(?![A-Za-z0-9_])", "?"),
    # whitespace runs become one space
    (r"[ \t\n\r\f\x0B]+", " "),
    # no spaces around punctuation
    (r" ?([(),;=<>+*/|-]) ?", "$1"),
    # IN lists and VALUES rows of placeholders collapse to one
    (r"\(\?(?:,\?)+\)", "(?)"),
    (r"\(\?\)(?:,\(\?\))+", "(?)"),
    # no trailing semicolons or spaces
    (r"^ +|[ ;]+$", ""),
)

_COMPILED = tuple((re.compile(p), r.replace("$1", r"\1")) for p, r in STEPS)


def normalize(sql: str) -> str:
    """The folded text that :func:`fingerprint` hashes (useful for debugging)."""
    text = sql
    for pattern, repl in _COMPILED:
        text = pattern.sub(repl, text)
    return text.lower()


def fingerprint(sql: str) -> str:
    """SHA-256 hex digest of the normalised query text.

    Args:
        sql: A SQL text.

    Returns:
        64 lower-case hex characters, equal for queries that differ only in literals, comments,
        whitespace or case.
    """
    return hashlib.sha256(normalize(sql).encode("utf-8")).hexdigest()


def fingerprint_col(col: Column) -> Column:
    """The same fingerprint as a Spark column expression (built-in functions only).

    Args:
        col: A string column holding SQL text.

    Returns:
        A string column with :func:`fingerprint` of each value (null stays null).
    """
    from pyspark.sql import functions as F

    text = col
    for pattern, repl in STEPS:
        text = F.regexp_replace(text, pattern, repl)
    return F.sha2(F.lower(text), 256)
