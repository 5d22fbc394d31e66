"""Input guards and parsing for SQL lineage: size, binary data, nesting depth, dialect, parse errors.

Everything that can go wrong before a statement tree exists is turned into
:class:`SqlLineageError` here, with the dialect and (where known) the line and column, so that the
caller sees exactly one exception type whatever the input.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokens import TokenType

from core.errors import ComplianceError

#: Default limit on the UTF-8 size of one SQL text (256 KiB): a generated 1 MB query is rejected.
MAX_SQL_BYTES = 256 * 1024
#: Default limit on parenthesis nesting (a 200-level nested subquery is rejected before parsing).
MAX_NESTING = 100

ErrorKind = Literal[
    "too_large", "binary", "too_deep", "unknown_dialect", "parse_error", "unsupported", "internal"
]

_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
_TOKEN_REPR = re.compile(r"<Token token_type: [^,]*, text: ([^,]*),[^>]*>")


class SqlLineageError(ComplianceError):
    """A SQL text that cannot be analysed: unparseable, too large, too deep, binary, bad dialect.

    Attributes:
        reason: What is wrong, in one line.
        kind: A short machine-readable class of the failure (see ``ErrorKind``).
        dialect: The dialect the text was read with (``"default"`` when none was given).
        line: 1-based line of the fault when known, else None.
        col: 1-based column of the fault when known, else None.
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: ErrorKind = "parse_error",
        dialect: str | None = None,
        line: int | None = None,
        col: int | None = None,
    ) -> None:
        self.reason = reason
        self.kind = kind
        self.dialect = dialect or "default"
        self.line = line
        self.col = col
        where = f", line {line}, col {col}" if line is not None else ""
        super().__init__(f"cannot extract lineage ({self.dialect}{where}): {reason}")


def check_text(sql: object, dialect: str | None, max_bytes: int) -> str:
    """Validate the raw text before tokenizing.

    Args:
        sql: The SQL text (bytes are decoded as UTF-8).
        dialect: Dialect name, for messages.
        max_bytes: Largest accepted UTF-8 size.

    Returns:
        The text as ``str``.

    Raises:
        SqlLineageError: On non-text input, oversize input or binary garbage.
    """
    if isinstance(sql, (bytes, bytearray, memoryview)):
        try:
            sql = bytes(sql).decode("utf-8")
        except UnicodeDecodeError as err:
            raise SqlLineageError(
                f"binary data, not UTF-8 text (byte {err.start})", kind="binary", dialect=dialect
            ) from None
    if not isinstance(sql, str):
        raise SqlLineageError(
            f"expected SQL text, got {type(sql).__name__}", kind="binary", dialect=dialect
        )
    size = len(sql) if sql.isascii() else len(sql.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise SqlLineageError(
            f"query of {size} bytes exceeds the limit of {max_bytes} bytes",
            kind="too_large",
            dialect=dialect,
        )
    bad = _BINARY.search(sql)
    if bad is not None:
        line, col = position(sql, bad.start())
        raise SqlLineageError(
            f"binary data in SQL text (control character {bad.group()!r})",
            kind="binary",
            dialect=dialect,
            line=line,
            col=col,
        )
    return sql


def position(sql: str, offset: int) -> tuple[int, int]:
    """Return the 1-based (line, col) of a character offset."""
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def get_dialect(dialect: str | None) -> Dialect:
    """Resolve a dialect name, raising SqlLineageError for an unknown one."""
    try:
        return Dialect.get_or_raise(dialect)
    except (ValueError, SqlglotError) as err:
        raise SqlLineageError(
            f"unknown SQL dialect {dialect!r}: {str(err).splitlines()[0]}",
            kind="unknown_dialect",
            dialect=str(dialect),
        ) from None


def parse_statements(
    sql: str, dialect: Dialect, dialect_name: str | None, max_nesting: int
) -> list[exp.Expr]:
    """Tokenize (checking nesting depth on the tokens) and parse every statement.

    Args:
        sql: The checked SQL text.
        dialect: The resolved dialect.
        dialect_name: Its name, for messages.
        max_nesting: Largest accepted parenthesis depth.

    Returns:
        The parsed statements (empty statements dropped).

    Raises:
        SqlLineageError: On a tokenizer or parser error, or excessive nesting.
    """
    try:
        tokens = dialect.tokenize(sql)
    except TokenError as err:
        line, col = position(sql, err.start) if err.start is not None else (None, None)
        raise SqlLineageError(
            _first_line(str(err)), kind="parse_error", dialect=dialect_name, line=line, col=col
        ) from None
    depth = deepest = 0
    lp, rp = TokenType.L_PAREN, TokenType.R_PAREN
    for tok in tokens:
        tt = tok.token_type
        if tt is lp:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > max_nesting:
                    raise SqlLineageError(
                        f"query nested deeper than {max_nesting} levels of parentheses",
                        kind="too_deep",
                        dialect=dialect_name,
                        line=tok.line,
                        col=tok.col,
                    )
        elif tt is rp:
            depth -= 1
    try:
        trees = dialect.parser().parse(tokens, sql)
    except ParseError as err:
        info = err.errors[0] if err.errors else {}
        reason = _TOKEN_REPR.sub(r"'\1'", info.get("description") or _first_line(str(err)))
        raise SqlLineageError(
            reason,
            kind="parse_error",
            dialect=dialect_name,
            line=info.get("line"),
            col=info.get("col"),
        ) from None
    except RecursionError:
        raise SqlLineageError(
            "query nested too deeply to parse", kind="too_deep", dialect=dialect_name
        ) from None
    except SqlglotError as err:
        raise SqlLineageError(_first_line(str(err)), dialect=dialect_name) from None
    return [t for t in trees if t is not None]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unparseable SQL"


__all__ = [
    "MAX_NESTING",
    "MAX_SQL_BYTES",
    "SqlLineageError",
    "check_text",
    "get_dialect",
    "parse_statements",
    "position",
]
