"""One suggestion per column from its name rule and its value-detector counts.

* The value evidence of a detector is ``specificity x matched / sampled`` (see
  :data:`audits.discovery.values.SPECIFICITY`); a detector counts only when at least
  :data:`MIN_SHARE` of the sampled values match.
* Name and values agree: confidence ``1 - (1 - name) (1 - values)``.
* Only the name: the name's strength (lowered by a third when the sample shows values of another
  shape: an ``email`` column of which no value is an email).
* Only the values: suggested when the value evidence reaches :data:`MIN_VALUE_ONLY`.
* They disagree: the stronger wins, lowered by a tenth; both stay in the evidence.

Suggestions under :data:`MIN_CONFIDENCE` are left out (no category: the reviewer decides).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audits.discovery.names import NameRule, name_rule
from audits.discovery.values import CATEGORY, SPECIFICITY

MIN_SHARE = 0.6
MIN_VALUE_ONLY = 0.6
MIN_CONFIDENCE = 0.5
#: detectors whose absence in a good sample speaks against a name rule of their category
_SHAPED = {"user.contact.email": ("email",), "user.device.ip_address": ("ipv4", "ipv6")}
_MIN_SAMPLE = 10


@dataclass(frozen=True)
class Suggestion:
    """A suggested catalog entry for one column.

    Attributes:
        category: the suggested data category, or None.
        confidence: 0..1 (0 without a category).
        evidence: the name rule and the detector counts that led to it, as plain mappings
            (``{"source": "values", "detector": "email", "matched": 98, "sampled": 100}``).
        is_identifier: the column holds subject identifiers.
        hash: the hash function of an identifier copy, or None.
    """

    category: str | None
    confidence: float
    evidence: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    is_identifier: bool = False
    hash: str | None = None

    @property
    def classification(self) -> str:
        """The classification the category suggests (restricted, confidential, internal)."""
        c = self.category or ""
        if self.is_identifier or c.startswith(
            (
                "user.unique_id",
                "user.financial",
                "user.demographic",
                "user.government_id",
                "user.health_and_medical",
                "user.authorization",
            )
        ):
            return "restricted"
        return "confidential" if c.startswith("user") else "internal"


def _value_evidence(counts: Mapping[str, tuple[int, int]]) -> list[tuple[float, str, int, int]]:
    out = []
    for detector, (matched, sampled) in counts.items():
        if sampled and matched / sampled >= MIN_SHARE:
            out.append((SPECIFICITY[detector] * matched / sampled, detector, matched, sampled))
    return sorted(out, key=lambda t: (-t[0], t[1]))


def _counts(counts: Mapping[str, tuple[int, int]]) -> list[dict[str, Any]]:
    return [
        {"source": "values", "detector": d, "matched": m, "sampled": s}
        for d, (m, s) in sorted(counts.items())
        if m
    ]


def suggest(name: str, counts: Mapping[str, tuple[int, int]] | None = None) -> Suggestion:
    """The suggestion for a column called ``name`` with detector ``counts``
    (``{detector: (matched, sampled)}``; empty or None when nothing was sampled)."""
    counts = counts or {}
    rule: NameRule | None = name_rule(name)
    values = _value_evidence(counts)
    evidence: list[dict[str, Any]] = []
    if rule is not None:
        evidence.append({"source": "name", "rule": rule.rule, "category": rule.category})
    evidence += _counts(counts)
    best = values[0] if values else None
    category, confidence = None, 0.0
    if rule is not None and best is not None and CATEGORY[best[1]] == rule.category:
        category, confidence = rule.category, 1 - (1 - rule.strength) * (1 - best[0])
    elif rule is not None and (best is None or best[0] <= rule.strength):
        category, confidence = rule.category, rule.strength
        if best is not None:
            confidence *= 0.9
        elif not rule.hashed and _contradicted(rule.category, counts):
            confidence *= 2 / 3
    elif best is not None and (rule is not None or best[0] >= MIN_VALUE_ONLY):
        category, confidence = CATEGORY[best[1]], best[0] * (0.9 if rule else 1.0)
    if category is None or confidence < MIN_CONFIDENCE:
        return Suggestion(None, 0.0, tuple(evidence))
    keep = rule is not None and rule.category == category
    return Suggestion(
        category,
        round(confidence, 2),
        tuple(evidence),
        is_identifier=bool(keep and rule and rule.is_identifier),
        hash=rule.hash if keep and rule else None,
    )


def _contradicted(category: str, counts: Mapping[str, tuple[int, int]]) -> bool:
    shaped = _SHAPED.get(category)
    if not shaped:
        return False
    seen = [counts[d] for d in shaped if d in counts]
    if not seen or max(s for _, s in seen) < _MIN_SAMPLE:
        return False
    return all(m == 0 for m, _ in seen)
