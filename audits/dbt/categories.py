"""Data categories of a dbt column, from its ``meta`` and ``tags`` (the documented mapping).

dbt lets a project annotate every column with free-form ``meta`` and ``tags`` (in ``columns.<c>``
of the manifest, and since dbt 1.10 also under ``columns.<c>.config``). The mapping, in order,
every rule adding categories:

1. ``meta.data_category``, ``meta.data_categories``, ``meta.category``, ``meta.categories``: a
   category name or a list of them, taken as written (fideslang-style dotted names such as
   ``user.contact.email``; a bare word goes through the shorthand table below);
2. ``meta.pii``: ``true`` -> ``user`` (personal data, kind not said); a word -> the shorthand
   table (``email`` -> ``user.contact.email``); a dotted name -> as written; ``false`` -> nothing.
   ``meta.contains_pii`` / ``meta.is_pii`` / ``meta.personal_data: true`` -> ``user``;
3. tags: ``pii`` (or ``personal``) -> ``user``; ``pii:<word>``, ``pii_<word>``, ``pii-<word>`` ->
   the shorthand table; a tag that is a fideslang name (``user.``, ``system.``) -> as written;
   other tags say nothing.

A column is an identifier when ``meta.is_identifier`` / ``meta.identifier`` is true, the tag
``identifier`` is set, or a category is ``user.unique_id`` / ``user.account.user_id``-like
(see :data:`IDENTIFIER_CATEGORIES`). A shorthand word not in the table is personal data of an
unsaid kind: ``user``. The column's one ``data_category`` is the most specific of its categories
(most segments, then alphabetical): ``user.contact.email`` wins over ``user``.

Pure: no Spark, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SHORTHAND: dict[str, str] = {
    "email": "user.contact.email",
    "e_mail": "user.contact.email",
    "phone": "user.contact.phone_number",
    "phone_number": "user.contact.phone_number",
    "mobile": "user.contact.phone_number",
    "address": "user.contact.address",
    "street": "user.contact.address.street",
    "postal_code": "user.contact.address.postal_code",
    "zip": "user.contact.address.postal_code",
    "city": "user.contact.address.city",
    "name": "user.name",
    "first_name": "user.name",
    "last_name": "user.name",
    "full_name": "user.name",
    "dob": "user.demographic.date_of_birth",
    "birth_date": "user.demographic.date_of_birth",
    "date_of_birth": "user.demographic.date_of_birth",
    "gender": "user.demographic.gender",
    "ip": "user.device.ip_address",
    "ip_address": "user.device.ip_address",
    "device_id": "user.device.device_id",
    "ssn": "user.government_id",
    "national_id": "user.government_id",
    "passport": "user.government_id",
    "card": "user.financial.credit_card",
    "credit_card": "user.financial.credit_card",
    "iban": "user.financial.bank_account",
    "bank_account": "user.financial.bank_account",
    "location": "user.location",
    "id": "user.unique_id",
    "user_id": "user.unique_id",
    "customer_id": "user.unique_id",
}
"""Shorthand words of ``meta.pii`` and ``pii:<word>`` tags -> fideslang-style categories."""

FIDESLANG_ROOTS = ("user.", "system.")
IDENTIFIER_CATEGORIES = frozenset({"user.unique_id", "user.account.user_id", "user.government_id"})
_CATEGORY_KEYS = ("data_category", "data_categories", "category", "categories")
_PII_FLAGS = ("contains_pii", "is_pii", "personal_data")
_IDENTIFIER_FLAGS = ("is_identifier", "identifier")


def _word(value: str) -> str:
    text = value.strip().lower()
    if "." in text:
        return text
    return SHORTHAND.get(text.replace("-", "_").replace(" ", "_"), "user")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


def column_categories(meta: dict[str, Any] | None, tags: Iterable[str] | None) -> list[str]:
    """Every category the column's ``meta`` and ``tags`` give, sorted, without repeats."""
    meta = meta if isinstance(meta, dict) else {}
    found: set[str] = set()
    for key in _CATEGORY_KEYS:
        found.update(_word(v) for v in _as_list(meta.get(key)) if v.strip())
    pii = meta.get("pii")
    if _truthy(pii):
        found.add("user")
    elif isinstance(pii, str) and pii.strip() and pii.strip().lower() not in ("false", "no"):
        found.add(_word(pii))
    if any(_truthy(meta.get(k)) for k in _PII_FLAGS):
        found.add("user")
    for tag in tags or ():
        if not isinstance(tag, str):
            continue
        t = tag.strip().lower()
        if t in ("pii", "personal"):
            found.add("user")
        elif t[:4] in ("pii:", "pii_", "pii-") and t[4:]:
            found.add(_word(t[4:]))
        elif t.startswith(FIDESLANG_ROOTS):
            found.add(t)
    return sorted(found)


def is_identifier(
    meta: dict[str, Any] | None, tags: Iterable[str] | None, categories: Iterable[str]
) -> bool:
    """Whether the column identifies a person (flag, tag or an identifier category)."""
    meta = meta if isinstance(meta, dict) else {}
    if any(_truthy(meta.get(k)) for k in _IDENTIFIER_FLAGS):
        return True
    if any(isinstance(t, str) and t.strip().lower() == "identifier" for t in tags or ()):
        return True
    return any(c in IDENTIFIER_CATEGORIES for c in categories)


def main_category(categories: Iterable[str]) -> str | None:
    """The most specific category (most segments, then alphabetical), or None."""
    cats = sorted(set(categories), key=lambda c: (-c.count("."), c))
    return cats[0] if cats else None
