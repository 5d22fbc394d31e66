"""The record of processing activities (GDPR Art. 30(1)) from declared and observed facts.

One row per declared processing activity (:class:`core.processing.Activity`) with every field of
Art. 30(1) (a)-(g), and beside them what lineage observed in what the activity covers: the assets
holding personal data, the flows into them, their data categories. The observed facts are the
evidence; where they contradict the declarations the record says **declaration missing**:

* personal data held in, or flowing into, an asset that no activity covers: one row per zone (or
  declared system, or asset missing from the catalog) without an activity;
* a special category (Art. 9(1)) declared or observed in an activity without an Art. 9(2)
  condition;
* a transfer to a third country without a safeguard, or personal data reaching a system run in a
  third country without a declared transfer;
* a data category observed but not declared, no time limit for erasure, no security measure.

Every item in ``declarations_missing`` is one finding (:func:`findings`).

Example:
    >>> from core.processing import Activity, Contact, Organisation, Register
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
from typing import Any

from core.gdpr import (
    DATA_SUBJECTS,
    DATA_USES,
    LAWFUL_BASES,
    article_label,
    special_category,
)
from core.processing import Activity, Register
from reports import article30_fields as fields
from reports import datamap as dm_view
from reports.article30_fields import COMPLETE, MISSING, Holding, holdings
from reports.model import DataMap

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
EVIDENCE = ("observed_assets", "observed_flows", "observed_categories", "observed_masking")
"""The record's observed fields (what lineage found in what the activity covers)."""
COLUMNS = (
    "activity",
    "name",
    "status",
    *FIELDS,
    "systems",
    "zones",
    *EVIDENCE,
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


def activity_row(
    a: Activity, held: Sequence[Holding], reg: Register, retention_days: Mapping[str, int]
) -> dict[str, Any]:
    """The record's row of one declared activity and what it covers."""
    controller, flags = fields.controller(reg.organisation, a.joint_controller)
    cats, f_cats = fields.categories(a, held)
    special, f_special = fields.special(a, held)
    recipients, f_rec = fields.recipients(a, held)
    transfers, f_tr = fields.transfers(a, held, reg)
    retention, f_ret = fields.retention(a, held, retention_days)
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
        **fields.evidence(held),
        "declarations_missing": flags,
    }


def undeclared_row(
    kind: str, name: str, held: Sequence[Holding], reg: Register, about: str = ""
) -> dict[str, Any]:
    """The row of a zone (or declared system) holding personal data that no activity covers."""
    controller, _ = fields.controller(reg.organisation)
    specials = fields.unique(h.data_category for h in held if special_category(h.data_category))
    flows = sum(1 for h in held if h.is_flow)
    assets = fields.unique(h.asset for h in held)
    detail = (
        f"processing_activity: personal data in {kind} {name} ({len(assets)} asset(s), "
        f"{flows} flow(s) into it, e.g. {fields.first(held)}) and no processing activity covers it"
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
            f"{MISSING}: {c} (observed)" for c in fields.unique(h.data_category for h in held)
        ],
        "recipients": [MISSING],
        "transfers": [MISSING],
        "retention": [MISSING],
        "security_measures": [MISSING],
        "systems": [name] if kind == "system" else [],
        "zones": fields.unique(h.zone or "" for h in held),
        **fields.evidence(held),
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
            key = ("system", s.key) if s else ("zone", h.zone) if h.zone else ("asset", h.asset)
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
    about = {f"zone {z}": d for z, d in (zone_purposes or {}).items()}
    rows += [
        undeclared_row(
            k, n, hs, reg, about.get(f"{k} {n}", "not in the catalog" if k == "asset" else "")
        )
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
