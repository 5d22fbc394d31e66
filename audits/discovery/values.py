"""Value detectors: does one sampled value look like an email, a phone number, an IBAN...?

Each detector is a predicate on the text of one value (a value cast to string, surrounding
blanks stripped) that never raises and never keeps or reports the value: :func:`count_matches`
returns counts only. The detectors run inside the executors (:mod:`audits.discovery.sampling`).

* ``email``: ``local@domain.tld``.
* ``phone``: 7 to 15 digits (E.164 length) written with a leading ``+`` or ``00``, or with
  separators (space, ``-``, ``.``, ``/``, parentheses) between digit groups.
* ``iban``: country code, check digits and 11 to 30 letters or digits whose ISO 13616 mod-97
  check gives 1.
* ``card``: 13 to 19 digits (spaces or dashes allowed) passing the Luhn check.
* ``ipv4`` / ``ipv6``: an address :mod:`ipaddress` accepts.
* ``date_of_birth``: a calendar date (``YYYY-MM-DD``, ``DD/MM/YYYY``, ``DD.MM.YYYY``, no time
  part) of a person aged 14 to 120 at the reference date.
* ``person_name``: two or three capitalised words whose first is a common given name or whose
  last is a common surname (:mod:`audits.discovery.lexicon`).
* ``postal_code``: a US ZIP (``12345``, ``12345-6789``), a UK, Canadian or Dutch postcode, or a
  Polish ``12-345``; five plain digits also match (DE, FR, IT, ES), so alone it is weak evidence.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from datetime import date

from audits.discovery.lexicon import GIVEN_NAMES, SURNAMES

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")
_PHONE = re.compile(r"^(\+|00)?\(?[0-9][0-9 ()./-]{5,22}[0-9]$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_CARD = re.compile(r"^[0-9][0-9 -]{11,22}[0-9]$")
_DATES = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4})$"),
)
_WORD = re.compile(r"^[A-ZÀ-Þ][a-zß-ÿ]+(?:[-'][A-Za-zÀ-ÿ][a-zß-ÿ]+)?$")
_POSTAL = re.compile(
    r"^(\d{5}(-\d{4})?"  # US ZIP, ZIP+4; DE, FR, IT, ES
    r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"  # UK
    r"|[A-Z]\d[A-Z] ?\d[A-Z]\d"  # CA
    r"|\d{4} ?[A-Z]{2}"  # NL
    r"|\d{2}-\d{3})$"  # PL
)


def is_email(text: str) -> bool:
    return len(text) <= 254 and bool(_EMAIL.match(text))


def is_phone(text: str) -> bool:
    if not _PHONE.match(text) or any(p.match(text) for p in _DATES):
        return False
    digits = sum(ch.isdigit() for ch in text)
    if not 7 <= digits <= 15:
        return False
    plain = text.isdigit()
    return not plain or text.startswith(("+", "00"))


def is_iban(text: str) -> bool:
    s = text.replace(" ", "").upper()
    if not _IBAN.match(s):
        return False
    rearranged = s[4:] + s[:4]
    rest = 0
    for ch in rearranged:  # letters count as 10..35, digits as themselves
        for digit in str(int(ch, 36)):
            rest = (rest * 10 + int(digit)) % 97
    return rest == 1


def luhn(digits: str) -> bool:
    """The Luhn checksum of a string of digits is valid."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card(text: str) -> bool:
    if not _CARD.match(text):
        return False
    digits = text.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn(digits)


def is_ipv4(text: str) -> bool:
    if text.count(".") != 3:
        return False
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def is_ipv6(text: str) -> bool:
    if ":" not in text:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def birth_date_check(today: date) -> Callable[[str], bool]:
    """The ``date_of_birth`` detector for people aged 14 to 120 on ``today``."""

    def is_birth_date(text: str) -> bool:
        for pattern in _DATES:
            m = pattern.match(text)
            if m:
                try:
                    born = date(int(m["y"]), int(m["m"]), int(m["d"]))
                except ValueError:
                    return False
                age = (today - born).days / 365.25
                return 14 <= age <= 120
        return False

    return is_birth_date


def is_person_name(text: str) -> bool:
    parts = text.split()
    if not 2 <= len(parts) <= 3 or not all(_WORD.match(p) for p in parts):
        return False
    return parts[0].lower() in GIVEN_NAMES or parts[-1].lower() in SURNAMES


def is_postal_code(text: str) -> bool:
    return bool(_POSTAL.match(text.upper())) and len(text) <= 10


#: detector -> the category it suggests
CATEGORY: dict[str, str] = {
    "email": "user.contact.email",
    "phone": "user.contact.phone_number",
    "iban": "user.financial.bank_account",
    "card": "user.financial.card",
    "ipv4": "user.device.ip_address",
    "ipv6": "user.device.ip_address",
    "date_of_birth": "user.demographic.date_of_birth",
    "person_name": "user.name",
    "postal_code": "user.contact.address.postal_code",
}
#: detector -> how specific a match is (0..1): a valid IBAN is rarely anything else, five digits
#: often are
SPECIFICITY: dict[str, float] = {
    "email": 0.95,
    "iban": 0.95,
    "card": 0.9,
    "ipv4": 0.9,
    "ipv6": 0.95,
    "phone": 0.7,
    "person_name": 0.75,
    "date_of_birth": 0.65,
    "postal_code": 0.5,
}
#: detectors run on each kind of column (the Spark type family)
FOR_KIND: dict[str, tuple[str, ...]] = {
    "string": tuple(CATEGORY),
    "date": ("date_of_birth",),
    "integer": ("card",),
}


def detectors(today: date) -> dict[str, Callable[[str], bool]]:
    """Every detector by name (the birth-date one relative to ``today``)."""
    return {
        "email": is_email,
        "phone": is_phone,
        "iban": is_iban,
        "card": is_card,
        "ipv4": is_ipv4,
        "ipv6": is_ipv6,
        "date_of_birth": birth_date_check(today),
        "person_name": is_person_name,
        "postal_code": is_postal_code,
    }


def _safe(check: Callable[[str], bool], text: str) -> bool:
    try:
        return bool(check(text))
    except Exception:  # noqa: BLE001 - a detector never fails a scan, never reports the value
        return False


def count_matches(
    values: Iterable[object], names: Iterable[str], today: date
) -> tuple[dict[str, int], int]:
    """How many of the non-blank ``values`` each detector in ``names`` matches.

    Returns:
        ``({detector: matched}, sampled)`` where ``sampled`` counts the non-blank values.
    """
    checks = detectors(today)
    chosen = [(n, checks[n]) for n in names]
    matched = {n: 0 for n, _ in chosen}
    sampled = 0
    for value in values:
        if value is None:
            continue
        text = str(value).strip()
        if not text or text.lower() in ("nan", "none", "null"):
            continue
        sampled += 1
        for n, check in chosen:
            if _safe(check, text):
                matched[n] += 1
    return matched, sampled
