"""The synthetic customers of the demo company and a fast deterministic mixing function.

Ages (days before ``as_of``) are kept at least two days away from every retention period, so a
retention check gives the same answer whether its cutoff is the start or the end of the run date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

_MASK = (1 << 64) - 1


def mix(*values: int) -> int:
    """A fast 64-bit mix of integers (multiply-xorshift): stable across runs and platforms."""
    x = 0x9E3779B97F4A7C15
    for v in values:
        x = ((x ^ v) * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 29)


@lru_cache(maxsize=4096)
def text_key(text: str) -> int:
    """A stable integer for a string (for mixing)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Customer:
    """A synthetic customer (the data subject)."""

    customer_id: int
    signup: datetime

    def age_days(self, as_of: date) -> float:
        """Age of the signup in days before ``as_of`` midnight."""
        start = datetime.combine(as_of, time(), tzinfo=UTC)
        return (start - self.signup).total_seconds() / 86400


def at_age(as_of: date, age_days: float) -> datetime:
    """The UTC timestamp ``age_days`` before ``as_of`` midnight, rounded to the second."""
    start = datetime.combine(as_of, time(), tzinfo=UTC)
    return start - timedelta(seconds=int(age_days * 86400))


def population(as_of: date, seed: int, scale: int) -> list[Customer]:
    """``600 * scale`` customers; about 2% signed up 800-1000 days ago and 1% 1150-1300 days ago
    (past the contact-data and the general retention), the rest 5-700 days ago."""
    out: list[Customer] = []
    for i in range(600 * scale):
        cid = 100_000 + i
        r = mix(seed, cid, 1) % 1000
        frac = (mix(seed, cid, 2) % 86_000) / 86_400
        if r < 20:
            age = 800 + r * 10 + frac
        elif r < 30:
            age = 1150 + (r - 20) * 15 + frac
        else:
            age = 5 + (mix(seed, cid, 3) % 695) + frac
        out.append(Customer(cid, at_age(as_of, age)))
    return out
