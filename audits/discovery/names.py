"""Suggest a data category from a column name alone: a vocabulary of column-name rules.

A name is split into lower-case words (``EmailAddress``, ``email-address`` and ``email_address``
all give ``email address``). The rules are tried in order; the first whose pattern matches the
joined words (``email_address``) wins. A rule gives a fideslang-style category and a strength
(0..1, how sure the name alone makes us).

Three things come before the vocabulary:

* **Counters and flags are not personal data**: a name starting with ``n``, ``num``, ``count``,
  ``total``, ``avg``, ``is``, ``has``... or ending with ``count``, ``type``, ``status``,
  ``verified``, ``flag``... gives no suggestion (``n_emails``, ``email_verified``).
* **A hash keeps the category of what it hashes**: ``email_sha256`` is an email category; the
  suggestion says which hash (``sha256_hex`` for a SHA-256 of an identifier column).
* **Coarse places are left to the reviewer**: ``city``, ``country``, ``region`` and ``state`` give no
  suggestion (alone they rarely identify anybody; a reviewer decides per table).

Example:
    >>> name_rule("EmailAddress").category
    'user.contact.email'
    >>> name_rule("n_emails") is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")

_COUNTER_FIRST = {"n", "num", "count", "cnt", "total", "avg", "sum", "min", "max", "pct"}
_FLAG_FIRST = {"is", "has", "can", "should", "was", "did"}
_NOT_PERSONAL_LAST = {
    "count",
    "cnt",
    "type",
    "types",
    "status",
    "verified",
    "flag",
    "enabled",
    "optin",
    "opt",
    "domain",
    "brand",
    "format",
    "template",
    "sent",
    "opened",
    "bounced",
    "length",
    "promotion",
    "style",
}
_HASHES = {"sha256": "sha256_hex", "sha1": None, "md5": None, "hash": None, "hashed": None}

PERSON = (
    r"(customer|cust|user|member|client|subscriber|person|patient|employee|emp|buyer|shopper|"
    r"visitor|guest|player|student|citizen|passenger|driver|rider|owner|account_holder)"
)

#: (pattern on the joined words, category, strength, is_identifier); the first match wins.
RULES: tuple[tuple[str, str, float, bool], ...] = (
    (PERSON + r"_?(id|key|uuid|guid|no|number|num)", "user.unique_id", 0.95, True),
    (r"(uid|userid|customerid|login_id)", "user.unique_id", 0.9, True),
    (
        r"(.+_)?(ssn|social_security(_number)?|national_id(_number)?|nino|tax_id|tin)",
        "user.government_id",
        0.9,
        False,
    ),
    (
        r"(.+_)?(passport|driver_?s?_licen[cs]e|drivers_licen[cs]e)(_.+)?",
        "user.government_id",
        0.9,
        False,
    ),
    (r"(.+_)?(e_?mail|mail)(_address|_addr)?", "user.contact.email", 0.95, False),
    (
        r"(.+_)?(ip|ipv4|ipv6|ip_addr|ip_address|remote_addr|remote_ip|client_ip)",
        "user.device.ip_address",
        0.95,
        False,
    ),
    (
        r"(.+_)?(mac_address|imei|idfa|gaid|idfv|android_id|advertising_id|ad_id|device_id|"
        r"device_uuid|device_token|push_token)",
        "user.device.device_id",
        0.9,
        False,
    ),
    (r"(.+_)?(user_agent|useragent)", "user.device", 0.8, False),
    (
        r"(.+_)?(phone|telephone|tel|mobile|cell|cellphone|msisdn|fax)(_number|_no|_num)?",
        "user.contact.phone_number",
        0.9,
        False,
    ),
    (
        r"(.+_)?(postal_code|postcode|post_code|zip|zipcode|zip_code|plz)",
        "user.contact.address.postal_code",
        0.9,
        False,
    ),
    (
        r"(.+_)?(street|street_address|address_line_?\d?|address\d?|addr_line_?\d?|addr\d?|"
        r"house_number)",
        "user.contact.address.street",
        0.85,
        False,
    ),
    (
        r"(.+_)?(first_?name|last_?name|surname|given_name|family_name|full_?name|middle_name|"
        r"maiden_name|fore_?name|user_?name|login|login_name|nick_?name|screen_name|"
        r"display_name|contact_name|" + PERSON + r"_name|(first|last)_?nm)",
        "user.name",
        0.9,
        False,
    ),
    (
        r"(.+_)?(date_of_birth|dob|birth_?date|birthday|birth_dt|born_on|birth_year)",
        "user.demographic.date_of_birth",
        0.95,
        False,
    ),
    (r"(.+_)?(age|age_range|age_group)", "user.demographic.age_range", 0.7, False),
    (r"(.+_)?(gender|sex)", "user.demographic.gender", 0.85, False),
    (
        r"(.+_)?(marital_status|marital|civil_status)",
        "user.demographic.marital_status",
        0.85,
        False,
    ),
    (
        r"(.+_)?(religion|religious_\w+|faith|denomination)",
        "user.demographic.religious_belief",
        0.9,
        False,
    ),
    (r"(.+_)?(ethnicity|race|ethnic_\w+)", "user.demographic.race_ethnicity", 0.85, False),
    (r"(.+_)?(political_\w+|party_affiliation)", "user.demographic.political_opinion", 0.85, False),
    (r"(.+_)?(sexual_orientation|orientation)", "user.demographic.sexual_orientation", 0.85, False),
    (
        r"(.+_)?(diagnosis|diagnoses|medical_\w+|health_\w+|condition|medication|allergies|"
        r"blood_type|icd\d*_?code)",
        "user.health_and_medical",
        0.8,
        False,
    ),
    (
        r"(.+_)?(iban|bic|swift(_code)?|bank_account(_number)?|account_number|routing_number|"
        r"sort_code)",
        "user.financial.bank_account",
        0.9,
        False,
    ),
    (
        r"(.+_)?(card_(number|no|num|last4|last_?four|pan|expiry|exp|cvv|cvc|holder)|"
        r"credit_card(_number)?|cc_number|ccn|pan|cvv|cvc)",
        "user.financial.card",
        0.9,
        False,
    ),
    (
        r"(.+_)?(password|passwd|pwd|password_hash|password_salt|secret|pin)",
        "user.authorization.credentials",
        0.85,
        False,
    ),
    (
        r"(.+_)?(latitude|longitude|lat|lon|lng|geo_?location|gps|coordinates|spatial_location)",
        "user.location.precise",
        0.8,
        False,
    ),
    (
        r"(.+_)?(referrer|referer|landing_page|page_path|page_url|page_view|clickstream|"
        r"browsing_\w+|visited_url)",
        "user.behavior.browsing_history",
        0.85,
        False,
    ),
    (r"(.+_)?(search_query|search_term|search_terms)", "user.behavior.search_history", 0.85, False),
    (
        r"(.+_)?(text|body|transcript|message|comment|note|notes|bio|biography|review|content)",
        "user.content",
        0.75,
        False,
    ),
    (r"(.+_)?(photo|picture|avatar|profile_image|selfie)", "user.content", 0.7, False),
)
_COMPILED = tuple((re.compile(p + r"$"), c, s, i) for p, c, s, i in RULES)
#: names ending in a "not personal" word that are personal data all the same
_STATUS_IS_DATA = {
    "marital_status": ("user.demographic.marital_status", 0.85),
    "civil_status": ("user.demographic.marital_status", 0.85),
}
_COARSE_PLACES = {"city", "country", "region", "state", "province", "district", "county"}


@dataclass(frozen=True)
class NameRule:
    """What a column name suggests.

    Attributes:
        category: the suggested data category.
        strength: how sure the name alone makes us (0..1).
        rule: the words that matched (the evidence, e.g. ``email_address``).
        is_identifier: the name is a subject identifier (``customer_id``).
        hash: the hash the name declares of an identifier column (``sha256_hex``), or None.
        hashed: the name says the column holds a hash (``email_sha256``).
    """

    category: str
    strength: float
    rule: str
    is_identifier: bool = False
    hash: str | None = None
    hashed: bool = False


def words(name: str) -> list[str]:
    """The lower-case words of a column name (camelCase and any separator split).

    >>> words("ShipPostalCode")
    ['ship', 'postal', 'code']
    """
    return [w for w in _SPLIT.split(_CAMEL.sub("_", name).lower()) if w]


def _match(ws: list[str]) -> tuple[str, float, bool] | None:
    joined = "_".join(ws)
    for pattern, category, strength, ident in _COMPILED:
        if pattern.match(joined):
            return category, strength, ident
    return None


def name_rule(name: str) -> NameRule | None:
    """The category a column name suggests, or None (see the module docstring)."""
    ws = words(name)
    if "_".join(ws[-2:]) in _STATUS_IS_DATA:
        return NameRule(*_STATUS_IS_DATA["_".join(ws[-2:])], "_".join(ws))
    if not ws or ws[0] in _COUNTER_FIRST | _FLAG_FIRST or ws[-1] in _NOT_PERSONAL_LAST:
        return None
    if ws[-1] in ("at", "ts", "on") and len(ws) > 1 and ws[-2] not in ("born",):
        return None  # a point in time of an event (created_at, seen_on)
    if set(ws) & _COARSE_PLACES and len(ws) <= 2 and ws[-1] in _COARSE_PLACES:
        return None
    if ws[-1] in _HASHES and len(ws) > 1:
        hit = _match(ws[:-1])
        if hit is None:
            return None
        category, strength, ident = hit
        fn = _HASHES[ws[-1]] if ident else None
        return NameRule(category, round(strength * 0.9, 2), "_".join(ws), False, fn, True)
    hit = _match(ws)
    if hit is None:
        return None
    category, strength, ident = hit
    return NameRule(category, strength, "_".join(ws), ident)
