"""``compliance subject-key --id RAW|-``: the pseudonymous key of a raw subject identifier.

The key is derived as the landing derives it (:meth:`jobs.secrets.pseudonym.PseudonymKey.subject_key`
over the identifier's text, with the warehouse's pseudonymisation key), so it is the ``sk_`` that
``compliance datamap --subject-key`` and every product table use for that subject. ``--id -``
reads the identifier from stdin (one line, its line ending dropped) so that it stays out of the
shell history. The raw identifier is never printed, logged or stored; only the key is printed.
No Spark: the key file is read directly and never created.
"""

from __future__ import annotations

from typing import TextIO

from jobs.errors import UsageError


def read_identifier(value: str, stdin: TextIO) -> str:
    """The raw identifier of ``--id`` (``-``: the first line of stdin without its line ending).

    Raises:
        UsageError: for an empty identifier, or several lines on stdin.
    """
    if value == "-":
        text = stdin.read()
        if text.endswith("\n"):
            text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
        if "\n" in text:
            raise UsageError("--id - reads one identifier: stdin has more than one line")
    else:
        text = value
    if text == "":
        raise UsageError("--id needs a subject identifier (or - to read it from stdin)")
    return text


def subject_key(raw: str, key_dir: str) -> str:
    """``sk_<32 hex>`` of ``raw`` under the pseudonymisation key in ``key_dir``.

    Raises:
        KeyLossError: no key file (one line naming it); ConfigError: a damaged key file.
    """
    from jobs.secrets.pseudonym import existing_key

    key = existing_key(key_dir).subject_key(raw)
    assert key is not None
    return key


__all__ = ["read_identifier", "subject_key"]
