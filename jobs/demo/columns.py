"""The column library of the demo company: one meaning per column name.

A column name means the same thing in every table it appears in (``email`` is always a contact
email), so the catalog entry of a column is derived from its name. Retention periods per data
category live here as well, next to the categories they govern.
"""

from __future__ import annotations

from core.categories import most_specific
from jobs.demo.model import Column

# name: (type, data_category, is_identifier, classification)
_LIBRARY: dict[str, tuple[str, str | None, bool, str]] = {
    # subject identifiers (one id space: the app user id is the CRM customer id)
    "customer_id": ("bigint", "user.unique_id", True, "restricted"),
    "user_id": ("bigint", "user.unique_id", True, "restricted"),
    # contact data
    "email": ("string", "user.contact.email", False, "confidential"),
    "phone": ("string", "user.contact.phone_number", False, "confidential"),
    "street": ("string", "user.contact.address.street", False, "confidential"),
    "postal_code": ("string", "user.contact.address.postal_code", False, "confidential"),
    "full_name": ("string", "user.name", False, "confidential"),
    "username": ("string", "user.name", False, "confidential"),
    "religion": ("string", "user.demographic.religious_belief", False, "restricted"),
    "date_of_birth": ("date", "user.demographic.date_of_birth", False, "restricted"),
    # behaviour / device
    "landing_page": ("string", "user.behavior.browsing_history", False, "confidential"),
    "page_path": ("string", "user.behavior.browsing_history", False, "confidential"),
    "referrer": ("string", "user.behavior.browsing_history", False, "internal"),
    "device_id": ("string", "user.device.device_id", False, "confidential"),
    "ip_address": ("string", "user.device.ip_address", False, "confidential"),
    "device_model": ("string", None, False, "internal"),
    "os_version": ("string", None, False, "internal"),
    # user content
    "post_text": ("string", "user.content", False, "confidential"),
    "comment_text": ("string", "user.content", False, "confidential"),
    "message_text": ("string", "user.content", False, "restricted"),
    "note_body": ("string", "user.content", False, "confidential"),
    "ticket_body": ("string", "user.content", False, "confidential"),
    "comment_body": ("string", "user.content", False, "confidential"),
    "transcript": ("string", "user.content", False, "confidential"),
    "storage_uri": ("string", "user.content", False, "confidential"),
    # financial
    "card_last4": ("string", "user.financial.card", False, "restricted"),
    "iban": ("string", "user.financial.bank_account", False, "restricted"),
    "card_brand": ("string", None, False, "internal"),
    # derived personal data in marts
    "email_sha256": ("string", "user.contact.email", False, "confidential"),
    "customer_id_sha256": ("string", "user.unique_id", False, "restricted"),
    "religious_affinity": ("string", None, False, "internal"),
    # non-personal
    "country": ("string", None, False, "internal"),
    "city": ("string", None, False, "internal"),
    "segment": ("string", None, False, "internal"),
    "signup_channel": ("string", None, False, "internal"),
    "contact_role": ("string", None, False, "internal"),
    "account_name": ("string", None, False, "internal"),
    "industry": ("string", None, False, "internal"),
    "consent_type": ("string", None, False, "internal"),
    "granted": ("boolean", None, False, "internal"),
    "member_status": ("string", None, False, "internal"),
    "amount": ("double", None, False, "internal"),
    "currency": ("string", None, False, "public"),
    "invoice_status": ("string", None, False, "internal"),
    "plan_id": ("bigint", None, False, "internal"),
    "mrr": ("double", None, False, "internal"),
    "sub_status": ("string", None, False, "internal"),
    "subject": ("string", None, False, "internal"),
    "priority": ("int", None, False, "internal"),
    "score": ("int", None, False, "internal"),
    "created_at": ("timestamp", None, False, "internal"),
    "updated_at": ("timestamp", None, False, "internal"),
    "day": ("date", None, False, "internal"),
    "month": ("date", None, False, "internal"),
    "n_rows": ("bigint", None, False, "internal"),
    "n_subjects": ("bigint", None, False, "internal"),
    "n_customers": ("bigint", None, False, "internal"),
    "n_sessions": ("bigint", None, False, "internal"),
    "n_tickets": ("bigint", None, False, "internal"),
    "n_invoices": ("bigint", None, False, "internal"),
    "n_views": ("bigint", None, False, "internal"),
    "n_posts": ("bigint", None, False, "internal"),
    "total_amount": ("double", None, False, "internal"),
    "refund_amount": ("double", None, False, "internal"),
    "avg_score": ("double", None, False, "internal"),
    "avg_priority": ("double", None, False, "internal"),
    "last_seen_at": ("timestamp", None, False, "internal"),
    "last_invoice_at": ("timestamp", None, False, "internal"),
    "name": ("string", None, False, "internal"),
    "description": ("string", None, False, "public"),
    "is_active": ("boolean", None, False, "internal"),
    "label": ("string", None, False, "public"),
}

# columns holding a hash of a subject identifier: name -> the catalog's ``hash`` function
_HASHED: dict[str, str] = {"customer_id_sha256": "sha256_hex"}

# Retention per data category (days); the most specific dotted prefix wins.
RETENTION_DAYS: dict[str, int] = {
    "user": 1095,
    "user.contact": 730,
    "user.behavior": 180,
    "user.device": 365,
    "user.financial": 2555,
}


def column(name: str) -> Column:
    """The catalog column for ``name``; ``*_id`` names not in the library are internal bigints.

    Args:
        name: column name.

    Returns:
        The :class:`Column` with type, category, identifier flag and classification.
    """
    if name in _LIBRARY:
        typ, cat, ident, cls = _LIBRARY[name]
        return Column(name, typ, cat, ident, cls, _HASHED.get(name))
    if name.endswith("_id"):
        return Column(name, "bigint", None, False, "internal")
    return Column(name, "string", None, False, "internal")


def columns(*names: str) -> tuple[Column, ...]:
    """Columns for several names, in order."""
    return tuple(column(n) for n in names)


def retention_for(category: str | None) -> int | None:
    """Retention days of a category by most specific prefix (None when no prefix matches)."""
    return most_specific(RETENTION_DAYS, category)
