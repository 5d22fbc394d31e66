"""Data categories (fideslang-style dotted names) and the one rule that maps them to settings.

A setting keyed by category prefix (retention days, categories of data subjects, ...) applies to
a category through its **most specific prefix**: ``user.contact.email`` takes the entry for
``user.contact.email``, else ``user.contact``, else ``user``, else the catch-all ``""``.

* Prefixes match whole dot-separated segments: ``user.contact`` does not cover
  ``user.contactless``.
* Matching ignores case and surrounding blanks, in the keys and in the category.
* A missing category (None or blank) matches nothing, not even ``""``.

Example:
    >>> most_specific({"user": 1095, "user.contact": 730}, "User.Contact.Email")
    730
    >>> most_specific({"user": 1095, "": 30}, "system.log")
    30
    >>> covers("user.contact", "user.contactless")
    False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

V = TypeVar("V")


def normalise(category: str | None) -> str:
    """The comparable form of a category or prefix: stripped and lower case (None gives "")."""
    return (category or "").strip().lower()


def covers(prefix: str, category: str | None) -> bool:
    """True when ``prefix`` covers ``category`` by whole segments (``""`` covers every category)."""
    p, c = normalise(prefix), normalise(category)
    if not c:
        return False
    return p == "" or c == p or c.startswith(p + ".")


def most_specific(settings: Mapping[str, V], category: str | None) -> V | None:
    """The value of the most specific prefix of ``category`` in ``settings``, or None.

    Args:
        settings: prefix -> value (``{"user": 1095, "user.contact": 730}``); ``""`` is a catch-all.
        category: a dotted category such as ``user.contact.email``.
    """
    cat = normalise(category)
    if not cat:
        return None
    by_key = {normalise(k): v for k, v in settings.items()}
    parts = cat.split(".")
    for end in range(len(parts), -1, -1):
        value = by_key.get(".".join(parts[:end]))
        if value is not None:
            return value
    return None
