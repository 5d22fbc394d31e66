"""Whole-file documents (training configs, ``*.json`` / ``*.yaml``) as one JSON line each.

A document is accepted only when it is what its suffix says: UTF-8 text (JSON and YAML both
require it, RFC 8259 and YAML 1.2) that parses, and whose value stays small once YAML aliases are
expanded. Anything else is one rejection naming the problem, never an exception that stops the
night: random bytes, a Latin-1 file, an alias "billion laughs" of a few hundred bytes that would
expand to gigabytes when written out as JSON.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_NODES = 100_000
"""Values (scalars, list items, mapping entries) a document may hold with its aliases expanded."""


class _TooBig(ValueError):
    pass


def _expanded_nodes(value: Any, limit: int) -> int:
    """How many values ``value`` holds once every shared (aliased) part is written out.

    Memoised per object, so a document of nested aliases is measured in time linear in its size,
    not in its expansion. Raises :class:`_TooBig` past ``limit``.
    """
    memo: dict[int, int] = {}

    def size(v: Any) -> int:
        key = id(v)
        if key in memo:
            return memo[key]
        if isinstance(v, dict):
            n = 1 + sum(size(k) + size(x) for k, x in v.items())
        elif isinstance(v, list | tuple):
            n = 1 + sum(size(x) for x in v)
        else:
            n = 1
        if n > limit:
            raise _TooBig(n)
        if isinstance(v, dict | list | tuple):
            memo[key] = n
        return n

    return size(value)


def expansion_problem(doc: Any, kind: str = "YAML", limit: int = MAX_NODES) -> str | None:
    """Why ``doc`` (a parsed YAML or JSON value) cannot be written out, or ``None``: more than
    ``limit`` values once its YAML aliases are expanded (an alias bomb), or nesting too deep.
    Checked before anything writes it out (a message, a JSON line)."""
    try:
        _expanded_nodes(doc, limit)
    except _TooBig:
        return (
            f"{kind} document too large once its aliases are expanded (over {limit:,} values): "
            "an alias bomb?"
        )
    except RecursionError:
        return f"{kind} document nested too deeply"
    return None


def document_as_json(source: str, content: bytes) -> tuple[str, str | None]:
    """``(value, reason)``: the document as one JSON text and ``None``, or the text as read
    (undecodable bytes replaced) and why it is rejected."""
    kind = "JSON" if source.lower().endswith(".json") else "YAML"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = content.decode("utf-8", errors="replace")
        return shown, (
            f"not UTF-8 text (byte {exc.start} is 0x{content[exc.start]:02x}); a {kind} "
            "training config must be UTF-8: re-encode the file"
        )
    if "\x00" in text:
        return text.replace("\x00", "\ufffd"), f"not a {kind} text file (it holds NUL bytes)"
    try:
        doc = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        return text, f"unparseable {kind}: " + str(exc).splitlines()[0][:200]
    problem = expansion_problem(doc, kind)
    if problem:
        return text, problem
    return json.dumps(doc, sort_keys=True, default=str), None
