"""The record of processing activities (GDPR Art. 30(1)) from declared and observed facts.

One row per declared processing activity (:class:`core.processing.Activity`) with every field of
Art. 30(1) (a)-(g), and beside them what lineage observed in what the activity covers: the assets
holding personal data, the flows into them, their data categories. The observed facts are the
evidence; where they contradict the declarations the record says **declaration missing**:

* personal data held in, or flowing into, an asset that no activity covers: one row per zone (or
  declared system) without an activity;
* a special category (Art. 9(1)) declared or observed in an activity without an Art. 9(2)
  condition;
* a transfer to a third country without a safeguard, or personal data reaching a system run in a
  third country without a declared transfer;
* a data category observed but not declared, no time limit for erasure, no security measure.

Every item in ``declarations_missing`` is one finding (:func:`findings`).

Example:
    >>> from core.processing import Activity, Contact, Organisation, Register
from reports import datamap as dm_view
from reports.model import DataMap
    >>> reg = Register(
    ...     organisation=Organisation(controller=Contact("Co", "1 Road", "p@co.example")),
    ...     activities=(Activity("crm", "CRM", "sales", "contract", ("customer",),
    ...                          ("user.contact",), zones=("source",)),))
    >>> held = [Holding("crm.customers", "email", "user.contact.email", "source", "crm-team")]
    >>> rows, _ = record(reg, held, {"user.contact": 730})
    >>> rows[0]["status"], rows[0]["retention"]
    ('declaration missing', ['user.contact.email: 730 days (catalog)'])
    >>> rows[0]["declarations_missing"]
    ['security_measures: no technical or organisational measure declared (Art. 32)']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.categories import covers, most_specific
from core.gdpr import (
    ART9_CONDITIONS,
    DATA_SUBJECTS,
    DATA_USES,
    LAWFUL_BASES,
    TRANSFER_SAFEGUARDS,
    article_label,
    is_third_country,
    special_category,
)
from core.processing import Activity, Contact, Organisation, Register
from reports import datamap as dm_view
from reports.model import DataMap

MISSING = "declaration missing"
"""What a field, or a row's status, says when a declaration is missing."""
COMPLETE = "complete"

FIELDS: dict[str, str] = {
    "controller": "Art. 30(1)(a)",
    "purposes": "Art. 30(1)(b)",
    "lawful_basis": "Art. 6(1)",
    "special_category_condition": "Art. 9(2)",
    "data_subjects": "Art. 30(1)(c)",
    "data_categories": "Art. 30(1)(c)",
    "recipients": "Art. 30(1)(d)",
    "transfers": "Art. 30(1)(e)",
    "retention": "Art. 30(1)(f)",
    "security_measures": "Art. 30(1)(g)",
}
"""The record's declared fields and the article each answers."""
EVIDENCE = ("systems", "zones", "observed_assets", "observed_flows", "observed_categories")
"""The record's observed fields (what lineage found in what the activity covers)."""
COLUMNS = (
    "activity",
    "name",
    "status",
    *FIELDS,
    *EVIDENCE,
    "observed_masking",
    "declarations_missing",
)
"""Column order of the record (its table and its CSV, JSON and XLSX exports)."""
EVIDENCE_COLUMNS = (
    "activity",
    "source_asset",
    "source_column",
    "data_category",
    "special_category",
    "target_asset",
    "target_column",
    "zone",
    "depth",
    "masked_on_path",
)
"""Columns of the evidence export: one row per activity and personal data it covers."""


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


def _unique(values: Iterable[str]) -> list[str]:
    return sorted({v for v in values if v})


def _controller(org: Organisation | None, joint: Contact | None = None) -> tuple[str, list[str]]:
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


def _first(found: Sequence[Holding]) -> str:
    ordered = sorted(found, key=lambda h: (not h.is_flow, h.depth or 0, h.text()))
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return ordered[0].text() + more


def _categories(a: Activity, held: Sequence[Holding]) -> tuple[list[str], list[str]]:
    cells = list(a.data_categories)
    flags = []
    by_cat: dict[str, list[Holding]] = defaultdict(list)
    for h in held:
        by_cat[h.data_category].append(h)
    for cat in sorted(by_cat):
        if not any(covers(d, cat) for d in a.data_categories):
            cells.append(f"{MISSING}: {cat} (observed)")
            flags.append(f"data_categories: {cat} observed ({_first(by_cat[cat])}), not declared")
    return cells, flags


def _special(a: Activity, held: Sequence[Holding]) -> tuple[str, list[str]]:
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
        f"({_first(hs)}) with no Art. 9(2) condition"
        for c, hs in sorted(found.items())
    ]
    return MISSING, flags


def _transfers(a: Activity, held: Sequence[Holding], reg: Register) -> tuple[list[str], list[str]]:
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
            f"transfers: personal data reach system {system} in {country} ({_first(hs)}) "
            "with no declared transfer"
        )
    return cells or ["none"], flags


def _retention(
    a: Activity, held: Sequence[Holding], retention_days: Mapping[str, int]
) -> tuple[list[str], list[str]]:
    if a.retention_days is not None or a.retention:
        days = [f"{a.retention_days} days"] if a.retention_days is not None else []
        return days + ([a.retention] if a.retention else []), []
    cells, flags = [], []
    observed = _unique(h.data_category for h in held)
    unseen = [d for d in a.data_categories if not any(covers(d, o) for o in observed)]
    for cat in _unique([*unseen, *observed]):
        days = most_specific(retention_days, cat)
        if days is None:
            cells.append(f"{cat}: {MISSING}")
            flags.append(f"retention: no time limit for erasure of {cat}")
        else:
            cells.append(f"{cat}: {days} days (catalog)")
    return cells or [MISSING], flags or ([] if cells else ["retention: none declared"])


def _recipients(a: Activity, held: Sequence[Holding]) -> tuple[list[str], list[str]]:
    if a.recipients:
        return [r.text() for r in a.recipients], []
    owners = _unique(h.owner for h in held)
    if owners:
        return [f"{o} (internal, owner of covered assets)" for o in owners], []
    return [MISSING], ["recipients: none declared and no owner observed"]


def _masking(held: Sequence[Holding]) -> str:
    fl = [h for h in held if h.is_flow]
    if not fl:
        return "no flow"
    return f"{sum(1 for h in fl if h.masked)} of {len(fl)} flows masked on their path"


def _evidence(held: Sequence[Holding]) -> dict[str, Any]:
    return {
        "observed_assets": _unique(h.asset for h in held),
        "observed_flows": sum(1 for h in held if h.is_flow),
        "observed_categories": _unique(h.data_category for h in held),
        "observed_masking": _masking(held),
    }


def activity_row(
    a: Activity, held: Sequence[Holding], reg: Register, retention_days: Mapping[str, int]
) -> dict[str, Any]:
    """The record's row of one declared activity and what it covers."""
    controller, flags = _controller(reg.organisation, a.joint_controller)
    cats, f_cats = _categories(a, held)
    special, f_special = _special(a, held)
    recipients, f_rec = _recipients(a, held)
    transfers, f_tr = _transfers(a, held, reg)
    retention, f_ret = _retention(a, held, retention_days)
    measures = [
        *(reg.organisation.security_measures if reg.organisation else ()),
        *a.security_measures,
    ]
    f_sec = (
        []
        if measures
        else ["security_measures: no technical or organisational measure declared (Art. 32)"]
    )
    flags += f_special + f_cats + f_rec + f_tr + f_ret + f_sec
    purpose = f"{a.purpose} ({DATA_USES.get(a.purpose, a.purpose)})"
    return {
        "activity": a.key,
        "name": a.name,
        "status": MISSING if flags else COMPLETE,
        "controller": controller,
        "purposes": f"{purpose}: {a.description}" if a.description else purpose,
        "lawful_basis": article_label(LAWFUL_BASES, a.lawful_basis),
        "special_category_condition": special,
        "data_subjects": [f"{s} ({DATA_SUBJECTS.get(s, s)})" for s in a.data_subjects],
        "data_categories": cats,
        "recipients": recipients,
        "transfers": transfers,
        "retention": retention,
        "security_measures": measures or [MISSING],
        "systems": list(a.systems),
        "zones": list(a.zones),
        **_evidence(held),
        "declarations_missing": flags,
    }


def undeclared_row(
    kind: str, name: str, held: Sequence[Holding], reg: Register, about: str = ""
) -> dict[str, Any]:
    """The row of a zone (or declared system) holding personal data that no activity covers."""
    controller, _ = _controller(reg.organisation)
    specials = _unique(h.data_category for h in held if special_category(h.data_category))
    flows = sum(1 for h in held if h.is_flow)
    assets = _unique(h.asset for h in held)
    detail = (
        f"processing_activity: personal data in {kind} {name} ({len(assets)} asset(s), "
        f"{flows} flow(s) into it, e.g. {_first(held)}) and no processing activity covers it"
    )
    return {
        "activity": f"undeclared.{kind}.{name}",
        "name": f"no processing activity declared for {kind} {name}"
        + (f" ({about})" if about else ""),
        "status": MISSING,
        "controller": controller,
        "purposes": MISSING,
        "lawful_basis": MISSING,
        "special_category_condition": MISSING
        if specials
        else "not applicable (no special category)",
        "data_subjects": [MISSING],
        "data_categories": [
            f"{MISSING}: {c} (observed)" for c in _unique(h.data_category for h in held)
        ],
        "recipients": [MISSING],
        "transfers": [MISSING],
        "retention": [MISSING],
        "security_measures": [MISSING],
        "systems": [name] if kind == "system" else [],
        "zones": _unique(h.zone or "" for h in held),
        **_evidence(held),
        "declarations_missing": [detail],
    }


def record(
    reg: Register,
    held: Sequence[Holding],
    retention_days: Mapping[str, int],
    zone_purposes: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The Article 30 record and its evidence rows.

    Args:
        reg: the declared organisation, systems and activities.
        held: the observed personal data (:func:`holdings`).
        retention_days: the catalog's retention per category prefix, for activities that declare
            none of their own.
        zone_purposes: zone -> description (policies.yaml), to name an undeclared zone.

    Returns:
        The record (declared activities in declaration order, then one row per zone or system
        without an activity, sorted) and the evidence rows (:data:`EVIDENCE_COLUMNS`).
    """
    covered: dict[str, list[Holding]] = defaultdict(list)
    uncovered: dict[tuple[str, str], list[Holding]] = defaultdict(list)
    evidence = []
    for h in sorted(held, key=lambda h: (h.text(), h.data_category)):
        acts = reg.covering(h.asset, h.zone)
        if not acts:
            s = reg.system_of(h.asset, h.zone)
            key = ("system", s.key) if s else ("zone", h.zone or "(none)")
            uncovered[key].append(h)
            acts_keys = [f"undeclared.{key[0]}.{key[1]}"]
        else:
            acts_keys = [a.key for a in acts]
        for a in acts:
            covered[a.key].append(h)
        evidence += [
            {
                "activity": k,
                "source_asset": h.source_asset,
                "source_column": h.source_column,
                "data_category": h.data_category,
                "special_category": special_category(h.data_category),
                "target_asset": h.asset,
                "target_column": h.column,
                "zone": h.zone,
                "depth": h.depth,
                "masked_on_path": h.masked,
            }
            for k in acts_keys
        ]
    rows = [activity_row(a, covered.get(a.key, []), reg, retention_days) for a in reg.activities]
    about = zone_purposes or {}
    rows += [
        undeclared_row(k, n, hs, reg, about.get(n, "") if k == "zone" else "")
        for (k, n), hs in sorted(uncovered.items())
    ]
    evidence.sort(
        key=lambda e: (
            e["activity"],
            str(e["target_asset"]),
            str(e["target_column"]),
            str(e["source_asset"]),
            str(e["source_column"]),
        )
    )
    return rows, evidence


def findings(rows: Iterable[Mapping[str, Any]]) -> int:
    """Declarations missing in the record: one finding each."""
    return sum(len(r.get("declarations_missing") or ()) for r in rows)


FLAG_COLUMNS = ("activity", "name", "field", "detail")
"""Columns of :func:`flag_rows`."""


def flag_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per missing declaration of the record: activity, name, field, detail."""
    out = []
    for r in rows:
        for flag in r.get("declarations_missing") or ():
            field, _, detail = str(flag).partition(": ")
            out.append(
                {"activity": r["activity"], "name": r["name"], "field": field, "detail": detail}
            )
    return out


def record_of(dm: DataMap) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The record and evidence of a data map (its declared processing, columns and flows)."""
    flow_rows = dm_view.flows(dm)
    held = holdings(dm_view.by_column(dm, flow_rows), flow_rows)
    return record(dm.processing, held, dm.retention_days, dm.zone_purposes)


__all__ = [
    "COLUMNS",
    "EVIDENCE_COLUMNS",
    "FIELDS",
    "FLAG_COLUMNS",
    "MISSING",
    "Holding",
    "activity_row",
    "findings",
    "flag_rows",
    "holdings",
    "record",
    "record_of",
    "undeclared_row",
]
