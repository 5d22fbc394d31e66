"""Files of JSON events that are not JSON Lines: a JSON array of events, or pretty-printed
(multi-line) events one after the other, as OpenLineage producers and the Marquez seed write them.

:func:`is_document` tells such a file from JSON Lines by its first bytes; :func:`split_document`
cuts its text into one record per event, numbered by the physical line where the event starts,
each as compact JSON text (so that the JSON Lines parse of :mod:`audits.inputs` reads it as one
line). Text that is not JSON becomes a record of its own holding that text (the parse rejects it
with its file and line); the split then goes on at the next line starting with ``{`` at column 0
(pretty-printed events) or, inside an array, stops (the rest of a cut array is one bad record).
"""

from __future__ import annotations

import bisect
import json

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


def is_document(sample: str) -> bool:
    """True when ``sample`` (the file's first bytes, decoded) starts a JSON array or an event
    written over several lines; False for JSON Lines (one event per line) and anything else."""
    text = sample.lstrip(_WS + "\ufeff")
    if text.startswith("["):
        return True
    first = text.split("\n", 1)[0].strip()
    if not first.startswith("{"):
        return False
    try:
        json.loads(first)
        return False  # a whole event on its first line: JSON Lines
    except json.JSONDecodeError:
        pass
    try:
        _DECODER.raw_decode(text)
        return True  # the first event spans several lines
    except json.JSONDecodeError:
        return first == "{"  # an event larger than the sample, or a cut one


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _resync(text: str, pos: int) -> int:
    """The start of the next line after ``pos`` that begins with ``{`` (or the end)."""
    nxt = text.find("\n{", pos)
    return len(text) if nxt < 0 else nxt + 1


def split_document(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """(line, record text) of every event in a file given as its (line number, text) lines.

    Example:
        >>> split_document([(1, "["), (2, '  {"a": 1},'), (3, '  {"b": 2}'), (4, "]")])
        [(2, '{"a":1}'), (3, '{"b":2}')]
    """
    starts, parts, offset = [], [], 0
    for _n, value in lines:
        starts.append(offset)
        parts.append(value)
        offset += len(value) + 1
    numbers = [n for n, _v in lines]
    text = "\n".join(parts)

    def line_of(pos: int) -> int:
        return numbers[max(0, bisect.bisect_right(starts, pos) - 1)] if numbers else 1

    out: list[tuple[int, str]] = []

    def emit(pos: int, obj: object) -> None:
        out.append((line_of(pos), json.dumps(obj, separators=(",", ":"), ensure_ascii=False)))

    pos = _skip(text, 0)
    if text.startswith("\ufeff", pos):
        pos = _skip(text, pos + 1)
    if text.startswith("[", pos):
        pos = _skip(text, pos + 1)
        while pos < len(text) and not text.startswith("]", pos):
            try:
                obj, end = _DECODER.raw_decode(text, pos)
            except json.JSONDecodeError:
                out.append((line_of(pos), text[pos:].strip()))
                return out
            emit(pos, obj)
            pos = _skip(text, end)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
            elif not text.startswith("]", pos) and pos < len(text):
                out.append((line_of(pos), text[pos:].strip()))
                return out
        if pos >= len(text):
            out.append((line_of(max(0, len(text) - 1)), "] missing: the JSON array is cut short"))
            return out
        after = _skip(text, pos + 1)
        if after < len(text):
            out.append((line_of(after), text[after:].strip()))
        return out
    while pos < len(text):
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            nxt = _resync(text, pos)
            out.append((line_of(pos), text[pos:nxt].strip()))
            pos = _skip(text, nxt)
            continue
        emit(pos, obj)
        pos = _skip(text, end)
    return out
