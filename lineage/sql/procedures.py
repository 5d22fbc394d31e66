"""Procedural SQL: the statements inside procedures, blocks and scripts are lineage.

T-SQL (``CREATE PROC[EDURE] p AS [BEGIN] ... END``, ``IF cond stmt ELSE stmt``, ``WHILE``,
statements without ``;``), PL/SQL (``CREATE PROCEDURE p IS <declarations> BEGIN ... [EXCEPTION
...] END p;``, ``FOR r IN (...) LOOP ... END LOOP``), BigQuery scripting (``DECLARE``, ``SET``,
``IF ... THEN ... ELSEIF ... ELSE ... END IF``, ``LOOP``/``WHILE``/``FOR ... DO``, ``BEGIN ...
END``, ``CREATE PROCEDURE p(...) BEGIN ... END``) and Postgres ``DO $$ ... $$`` / PL/pgSQL bodies
are reduced to their data statements: :func:`flatten_blocks` blanks every control word, header and
declaration with spaces (newlines kept, so error positions still point into the caller's text) and
ends every data statement with ``;``. The statements then go through the normal pipeline.

What is lost: variables are unknown names (``WHERE k = @d`` gives no edge from ``@d``; a bare
``x`` is read as a column), cursor loops read nothing, dynamic SQL (``EXEC('...')``, ``EXECUTE
IMMEDIATE``) is not analysed.
"""

from __future__ import annotations

import re

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from lineage.sql.guard import SqlLineageError, position

_TRIGGER = re.compile(
    r"\b(?:BEGIN|PROCEDURE|PROC|DECLARE|LOOP|ELSIF|ELSEIF|END\s+IF|WHILE)\b|\$\w*\$|"
    r"(?:^|;)\s*IF\b",
    re.IGNORECASE,
)
_LEADING_IF = re.compile(r";\s*if\b")
_DOLLAR_BODY = re.compile(r"\$(\w*)\$(.*?)\$\1\$", re.DOTALL)
_FOREIGN = re.compile(
    r"\bLANGUAGE\s+'?(?:JAVASCRIPT|PYTHON|JAVA|SCALA|PLV8|PLPYTHON\w*|PLPERL\w*|C)\b",
    re.IGNORECASE,
)


def _unquote_body(m: re.Match) -> str:
    """A dollar-quoted body with its delimiters blanked (same length)."""
    pad = " " * (len(m.group(1)) + 2)
    return pad + m.group(2) + pad


# words that start a data statement (a body statement runs from one of these to ';' or a
# control word)
_STARTS = frozenset(
    [
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "SELECT",
        "WITH",
        "CREATE",
        "REPLACE",
        "ALTER",
        "DROP",
        "TRUNCATE",
        "COPY",
        "EXPORT",
        "UNLOAD",
        "LOAD",
        "CACHE",
        "UPSERT",
        "USE",
        "FROM",
    ]
)
# data statement words that also begin a new statement when the previous one had no ';'
_SPLIT = frozenset(["INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "CREATE", "ALTER", "DROP"])
_CONTROL = frozenset(
    [
        "DECLARE",
        "WHILE",
        "LOOP",
        "RETURN",
        "EXCEPTION",
        "ELSIF",
        "ELSEIF",
        "BREAK",
        "CONTINUE",
        "LEAVE",
        "ITERATE",
        "RAISE",
        "PRINT",
        "COMMIT",
        "ROLLBACK",
        "EXEC",
        "EXECUTE",
        "CALL",
        "GOTO",
        "DEALLOCATE",
    ]
)
_OBJECTS = frozenset(
    [
        "TABLE",
        "VIEW",
        "INDEX",
        "PROCEDURE",
        "PROC",
        "FUNCTION",
        "SCHEMA",
        "DATABASE",
        "TEMP",
        "TEMPORARY",
        "OR",
        "MATERIALIZED",
        "EXTERNAL",
        "UNIQUE",
    ]
)
_BOUNDARY = frozenset({";", "BEGIN", "THEN", "ELSE", "DO", "LOOP", "AS"})
_ROUTINE = frozenset({"PROCEDURE", "PROC", "FUNCTION"})
_END_OF = frozenset({"IF", "LOOP", "WHILE", "FOR", "REPEAT", "CASE", "TRY", "CATCH"})
_QUOTED = frozenset(
    getattr(TokenType, n)
    for n in (
        "IDENTIFIER",
        "STRING",
        "NATIONAL_STRING",
        "RAW_STRING",
        "HEREDOC_STRING",
        "BIT_STRING",
        "HEX_STRING",
        "BYTE_STRING",
        "UNICODE_STRING",
    )
    if hasattr(TokenType, n)
)
MAX_STATEMENTS = 5000
"""Most data statements accepted in one text (a 10,000-statement procedure is rejected)."""


_HINTS = ("begin", "proc", "declare", "loop", "elsif", "elseif", "while", "$")


def needs_flattening(text: str) -> bool:
    """Whether a text may hold procedural SQL (cheap pre-check, then the word regex)."""
    low = text.lower()
    if any(h in low for h in _HINTS):
        return _TRIGGER.search(text) is not None
    if low.lstrip().startswith("if"):
        return _TRIGGER.search(text) is not None
    return ";" in low and _LEADING_IF.search(low) is not None


def flatten_blocks(text: str, dialect: Dialect, dialect_name: str | None) -> tuple[str, set[str]]:
    """The text with control flow blanked and every data statement ended by ``;``, and the
    names of the variables it declares (DECLARE, routine parameters, PL/SQL declarations, FOR
    loop records), lower case.

    Raises:
        SqlLineageError: On unbalanced BEGIN/END (with the position of the unmatched word) or
            more than :data:`MAX_STATEMENTS` statements.
    """
    if not _FOREIGN.search(text):  # a JavaScript / Python body is no SQL
        text = _DOLLAR_BODY.sub(_unquote_body, text)
    try:
        tokens = _tokenizer(dialect).tokenize(text)
    except TokenError:
        return text, set()  # the parser reports it with its position
    out = list(text)
    n = len(tokens)
    words = [None if t.token_type in _QUOTED else t.text.upper() for t in tokens]
    keep = [False] * n
    ends: list[int] = []  # token indexes after which a ';' is needed
    blocks: list[int] = []  # token indexes of open BEGINs
    depth = 0  # parentheses
    case = 0  # CASE ... END nesting inside the current statement
    start: int | None = None  # first token of the current data statement
    header = False  # inside CREATE PROCEDURE ... up to AS / IS / BEGIN
    declaring = False  # PL/SQL declarations between IS / AS and BEGIN
    variables: set[str] = set()
    var = TokenType.VAR
    count = 0

    def close(i: int) -> None:
        nonlocal start, case
        if start is not None:
            ends.append(i - 1)
        start, case = None, 0

    i = 0
    while i < n:
        tok, w = tokens[i], words[i]
        tt = tok.token_type
        nxt = words[i + 1] if i + 1 < n else None
        if tt is TokenType.L_PAREN:
            depth += 1
        elif tt is TokenType.R_PAREN:
            depth = max(0, depth - 1)
        if tt is var and start is None and i > 0:
            before = words[i - 1]
            if before in ("IN", "OUT", "INOUT") and i > 1:
                before = words[i - 2]
            if (header and depth == 1 and before in ("(", ",")) or (
                declaring and depth == 0 and before in ("AS", "IS", ";")
            ):
                variables.add(tok.text.lower())
        if (
            tt is TokenType.L_PAREN
            and start is None
            and depth == 1
            and not header
            and nxt in ("SELECT", "WITH")
            and (i == 0 or words[i - 1] in _BOUNDARY)
        ):
            start = i  # a parenthesised query as a statement
            count += 1
        if depth > 0 or (tt is TokenType.L_PAREN):
            keep[i] = start is not None
            i += 1
            continue
        if header:
            if w in ("AS", "IS", "BEGIN"):
                header = False
                declaring = w != "BEGIN"
                if w == "BEGIN":
                    blocks.append(i)
            i += 1
            continue
        if start is None and w == "DECLARE":
            j = i + 1
            while j < n and tokens[j].token_type is var:
                variables.add(tokens[j].text.lower())
                if j + 1 < n and words[j + 1] == ",":
                    j += 2
                else:
                    break
        elif (
            start is None
            and w == "FOR"
            and i + 2 < n
            and words[i + 2] == "IN"
            and tokens[i + 1].token_type is var
        ):
            variables.add(tokens[i + 1].text.lower())
        if tt is TokenType.SEMICOLON:
            close(i)
            i += 1
            continue
        if w == "CASE" and start is not None:
            case += 1
        elif w == "END":
            if start is not None and case > 0:
                case -= 1
                keep[i] = True
                i += 1
                continue
            close(i)
            if nxt in _END_OF:
                i += 2
                continue
            if blocks:
                blocks.pop()
            elif nxt not in (None, ";") and nxt not in ("TRANSACTION", "WORK"):
                raise _unbalanced("END without BEGIN", text, tok.start, dialect_name)
            i += 1
            continue
        elif w == "BEGIN" and start is None:
            if nxt in (None, ";", "TRAN", "TRANSACTION", "WORK", "TRY", "CATCH", "DISTRIBUTED"):
                i += 1
                continue
            blocks.append(i)
            declaring = False
            i += 1
            continue
        elif _ends_statement(tokens, words, i, start, case):
            close(i)
            i += 1
            continue
        elif w in ("CREATE", "REPLACE") and _routine(words, i):
            close(i)
            header = True
            i += 1
            continue
        elif w == "DO" and start is None:
            i += 1
            continue
        if start is None:
            if w in _STARTS and not (w == "REPLACE" and nxt not in ("TABLE", "VIEW")):
                start = i
                declaring = False
                count += 1
                if count > MAX_STATEMENTS:
                    raise SqlLineageError(
                        f"more than {MAX_STATEMENTS} statements in one text",
                        kind="too_large",
                        dialect=dialect_name,
                    )
            else:
                i += 1
                continue
        elif w in _SPLIT and i > start and _splits(words, start, i):
            close(i)
            start = i
            count += 1
        keep[i] = True
        i += 1
    close(n)
    if blocks:
        raise _unbalanced("BEGIN without END", text, tokens[blocks[-1]].start, dialect_name)
    # blank what is not kept (newlines stay), then add the ';' after every statement
    for j, tok in enumerate(tokens):
        if not keep[j]:
            for k in range(tok.start, min(tok.end + 1, len(out))):
                if out[k] != "\n":
                    out[k] = " "
    _blank_gaps(out, tokens, keep)
    for j in ends:
        if 0 <= j < n and keep[j]:
            k = tokens[j].end + 1
            if k < len(out) and out[k] in (" ", "\t"):
                out[k] = ";"  # into a blank: positions stay as in the caller's text
            else:
                out[k - 1] += ";"
    return "".join(out), variables


_TOKENIZERS: dict[type, type] = {}


def _tokenizer(dialect: Dialect):
    """The dialect's tokenizer without command words (``END`` in T-SQL, ``BEGIN`` in BigQuery,
    ``DO`` in Postgres swallow the rest of the statement as one string)."""
    base = dialect.tokenizer_class
    cls = _TOKENIZERS.get(base)
    if cls is None:
        cls = _TOKENIZERS[base] = type(f"Block{base.__name__}", (base,), {"COMMANDS": set()})
    return cls(dialect=dialect)


def _blank_gaps(out: list[str], tokens: list, keep: list[bool]) -> None:
    """Blank comments and other text between two tokens not both kept."""
    prev_end = -1
    prev_keep = False
    for tok, kept in zip(tokens, keep, strict=False):
        if not (kept and prev_keep):
            for k in range(prev_end + 1, tok.start):
                if out[k] != "\n" and not out[k].isspace():
                    out[k] = " "
        prev_end, prev_keep = tok.end, kept


def _ends_statement(tokens: list, words: list, i: int, start: int | None, case: int) -> bool:
    """A control word (ELSE, IF, DECLARE, variable SET, ...) that ends the current statement."""
    w = words[i]
    if w == "ELSE":
        return case == 0
    if w == "IF":
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is None or words[i + 1] in ("EXISTS", "NOT"):
            return False
        return nxt.token_type is not TokenType.L_PAREN or start is None  # IF(...) is a function
    if w == "SET":
        return start is not None and not _set_ok(words, start, i)
    return w in _CONTROL


def _routine(words: list, i: int) -> bool:
    """``CREATE [OR REPLACE | OR ALTER] PROC | PROCEDURE | FUNCTION`` starts at ``i``."""
    for w in words[i + 1 : i + 5]:
        if w in _ROUTINE:
            return True
        if w not in ("OR", "REPLACE", "ALTER", "TEMP", "TEMPORARY", "DEFINER", "EDITIONABLE"):
            return False
    return False


def _set_ok(words: list, start: int, i: int) -> bool:
    """SET belongs to the statement (UPDATE ... SET, MERGE ... UPDATE SET, ALTER ... SET)."""
    return words[start] in ("UPDATE", "MERGE", "ALTER", "INSERT") or words[i - 1] == "UPDATE"


def _splits(words: list, start: int, i: int) -> bool:
    """A data word at ``i`` begins a new statement (the previous one ended without ``;``)."""
    prev = words[i - 1]
    no_split = ("THEN", "OR", "ON", "KEY", "TO", "(", "AS", "ALTER", "DO", "FOR", "ELSE")
    if prev in no_split or words[start] in ("MERGE", "FROM"):  # FROM: Hive multi-insert
        return False
    if words[i] in ("CREATE", "ALTER", "DROP"):
        nxt = words[i + 1] if i + 1 < len(words) else None
        return nxt in _OBJECTS
    if words[start] == "WITH":  # WITH ... INSERT / UPDATE / DELETE (T-SQL CTE + DML)
        return any(w in _SPLIT for w in words[start + 1 : i])
    return True


def _unbalanced(reason: str, text: str, offset: int, dialect_name: str | None) -> SqlLineageError:
    line, col = position(text, offset)
    return SqlLineageError(
        f"unbalanced BEGIN/END: {reason}",
        kind="parse_error",
        dialect=dialect_name,
        line=line,
        col=col,
    )
