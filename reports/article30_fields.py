"""The fields of the Article 30 record, one rule each: what a field says for an activity, given
what it declares and what lineage observes in what it covers (:class:`Holding`), and the missing
declarations it finds (``"field: why"`` strings). Assembled by :mod:`reports.article30`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.categories import covers, most_specific
from core.gdpr import (
    ART9_CONDITIONS,
    TRANSFER_SAFEGUARDS,
    article_label,
    is_third_country,
    special_category,
)
from core.processing import Activity, Contact, Organisation, Register

MISSING = "declaration missing"
"""What a field, or a row's status, says when a declaration is missing."""
COMPLETE = "complete"


@dataclass(frozen=True)
class Holding:
    """Personal data observed in one asset column: held there (``source_asset`` None) or
    arriving there by a flow from ``source_asset.source_column``."""

    asset: str
    column: str | None
    data_category: str
    zone: str | None
    owner: str = ""
    source_asset: str | None = None
    source_column: str | None = None
    depth: int | None = None
    masked: bool | None = None

    @property
    def is_flow(self) -> bool:
        """True for data arriving by a flow (not held at its source)."""
        return self.source_asset is not None

    def text(self) -> str:
        """``"a.x -> b.y"`` for a flow, ``"b.y"`` for data at rest."""
        here = f"{self.asset}.{self.column}" if self.column else self.asset
        if not self.is_flow:
            return here
        there = (
            f"{self.source_asset}.{self.source_column}"
            if self.source_column
            else (str(self.source_asset))
        )
        return f"{there} -> {here}"


def holdings(columns: Iterable[Any], flows: Iterable[Mapping[str, Any]]) -> list[Holding]:
    """Holdings of the data map: personal columns (``ColumnMap``) at rest and every flow row
    (:func:`reports.datamap.flows`) at its target."""
    out = [
        Holding(m.asset, m.column, m.data_category, m.zone or None, m.owner)
        for m in columns
        if m.data_category
    ]
    for f in flows:
        if not f.get("data_category"):
            continue
        masked = f.get("masked_on_path")
        out.append(
            Holding(
                asset=str(f["target_asset"]),
                column=f.get("target_column"),
                data_category=str(f["data_category"]),
                zone=f.get("zone"),
                owner=str(f.get("owner") or ""),
                source_asset=str(f["source_asset"]),
                source_column=f.get("source_column"),
                depth=f.get("depth"),
                masked=bool(masked if masked is not None else f.get("masking")),
            )
        )
    return out


def unique(values: Iterable[str]) -> list[str]:
    """The distinct non-empty values, sorted."""
    return sorted({v for v in values if v})


def controller(org: Organisation | None, joint: Contact | None = None) -> tuple[str, list[str]]:
    """(a): the controller with its DPO and representative (and a joint controller)."""
    if org is None:
        return MISSING, ["controller: no organisation block (controller, DPO, representative)"]
    parts = [f"controller: {org.controller.text()}"]
    parts.append(f"DPO: {org.dpo.text()}" if org.dpo else "DPO: none designated")
    parts.append(
        f"representative: {org.representative.text()}"
        if org.representative
        else "representative: none (established in the Union)"
    )
    if org.contact:
        parts.append(f"privacy contact: {org.contact.text()}")
    if joint:
        parts.append(f"joint controller: {joint.text()}")
    return "; ".join(parts), []


def first(found: Sequence[Holding]) -> str:
    """The evidence quoted in a flag: the nearest flow (or column), and how many more."""
    ordered = sorted(found, key=lambda h: (not h.is_flow, h.depth or 0, h.text()))
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return ordered[0].text() + more


def categories(a: Activity, held: Sequence[Holding]) -> tuple[list[str], list[str]]:
    """(c): the declared categories, and each observed one no declared prefix covers."""
    cells = list(a.data_categories)
    flags = []
    by_cat: dict[str, list[Holding]] = defaultdict(list)
    for h in held:
        by_cat[h.data_category].append(h)
    for cat in sorted(by_cat):
        if not any(covers(d, cat) for d in a.data_categories):
            cells.append(f"{MISSING}: {cat} (observed)")
            flags.append(f"data_categories: {cat} observed ({first(by_cat[cat])}), not declared")
    return cells, flags


def special(a: Activity, held: Sequence[Holding]) -> tuple[str, list[str]]:
    """Art. 9(2): the condition, needed when a special category is declared or observed."""
    found: dict[str, list[Holding]] = defaultdict(list)
    for h in held:
        if special_category(h.data_category):
            found[h.data_category].append(h)
    declared = [c for c in a.data_categories if special_category(c)]
    if a.special_category_condition:
        return article_label(ART9_CONDITIONS, a.special_category_condition), []
    if not found and not declared:
        return "not applicable (no special category)", []
    flags = [
        f"special_category_condition: {c} ({special_category(c)}) declared with no Art. 9(2) "
        "condition"
        for c in declared
        if c not in found
    ]
    flags += [
        f"special_category_condition: {c} ({special_category(c)}) reaches it "
        f"({first(hs)}) with no Art. 9(2) condition"
        for c, hs in sorted(found.items())
    ]
    return MISSING, flags


def transfers(a: Activity, held: Sequence[Holding], reg: Register) -> tuple[list[str], list[str]]:
    """(e): declared transfers with their safeguard, and third-country systems reached."""
    cells, flags = [], []
    for t in a.transfers:
        to = f"{t.country}" + (f" ({t.recipient})" if t.recipient else "")
        if t.safeguard:
            ref = f", {t.reference}" if t.reference else ""
            cells.append(f"{to}: {article_label(TRANSFER_SAFEGUARDS, t.safeguard)}{ref}")
        else:
            cells.append(f"{to}: {MISSING} (no safeguard)")
            flags.append(f"transfers: to {to} with no safeguard (Art. 45-49)")
    declared = {t.country for t in a.transfers}
    seen: dict[tuple[str, str], list[Holding]] = defaultdict(list)
    for h in held:
        s = reg.system_of(h.asset, h.zone)
        if s is not None and is_third_country(s.country) and s.country not in declared:
            seen[(str(s.country), s.key)].append(h)
    for (country, system), hs in sorted(seen.items()):
        cells.append(f"{country} (system {system}): {MISSING} (observed, not declared)")
        flags.append(
            f"transfers: personal data reach system {system} in {country} ({first(hs)}) "
            "with no declared transfer"
        )
    return cells or ["none"], flags


def retention(
    a: Activity, held: Sequence[Holding], retention_days: Mapping[str, int]
) -> tuple[list[str], list[str]]:
    """(f): the declared time limits, else the catalog's retention of each category."""
    if a.retention_days is not None or a.retention:
        days = [f"{a.retention_days} days"] if a.retention_days is not None else []
        return days + ([a.retention] if a.retention else []), []
    cells, flags = [], []
    observed = unique(h.data_category for h in held)
    unseen = [d for d in a.data_categories if not any(covers(d, o) for o in observed)]
    for cat in unique([*unseen, *observed]):
        days = most_specific(retention_days, cat)
        if days is None:
            cells.append(f"{cat}: {MISSING}")
            flags.append(f"retention: no time limit for erasure of {cat}")
        else:
            cells.append(f"{cat}: {days} days (catalog)")
    return cells or [MISSING], flags or ([] if cells else ["retention: none declared"])


def recipients(a: Activity, held: Sequence[Holding]) -> tuple[list[str], list[str]]:
    """(d): the declared recipients, else the owners of the covered assets (internal)."""
    if a.recipients:
        return [r.text() for r in a.recipients], []
    owners = unique(h.owner for h in held)
    if owners:
        return [f"{o} (internal, owner of covered assets)" for o in owners], []
    return [MISSING], ["recipients: none declared and no owner observed"]


def masking(held: Sequence[Holding]) -> str:
    """How many of the flows into what the activity covers are masked on their path."""
    fl = [h for h in held if h.is_flow]
    if not fl:
        return "no flow"
    return f"{sum(1 for h in fl if h.masked)} of {len(fl)} flows masked on their path"


def evidence(held: Sequence[Holding]) -> dict[str, Any]:
    """The observed fields of a row."""
    return {
        "observed_assets": unique(h.asset for h in held),
        "observed_flows": sum(1 for h in held if h.is_flow),
        "observed_categories": unique(h.data_category for h in held),
        "observed_masking": masking(held),
    }
