"""Load the ``organisation``, ``systems`` and ``processing_activities`` blocks of ``catalog.yaml``.

Every problem of the three blocks is collected and reported at once, in one line (``|`` between
problems), each naming the file and the key path, with the closest valid name for an unknown one::

    inputs/catalog.yaml: processing_activities[1].lawful_basis: expected one of consent|contract|
    ...|legitimate_interests, got 'consnt' (did you mean 'consent'?)

Terms come from :mod:`core.gdpr` (fideslang data uses and data subjects, Art. 6(1) lawful bases,
Art. 9(2) conditions, Chapter V safeguards). Assets must be catalog assets (or ``fnmatch``
patterns matching at least one), data categories those of the catalog's columns or a prefix of
one, systems declared ones; zones must be declared in ``policies.yaml`` (checked when the zones
are given, as the preflight does).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from core.gdpr import (
    ART9_CONDITIONS,
    DATA_SUBJECTS,
    DATA_USES,
    LAWFUL_BASES,
    RECIPIENT_KINDS,
    TRANSFER_SAFEGUARDS,
    is_third_country,
)
from core.processing import Activity, Contact, Organisation, Recipient, Register, System, Transfer
from jobs.config.catalog_validation import _Doc
from jobs.config.processing_checks import Checks, Collect
from jobs.errors import ConfigError

TOP_KEYS = ("organisation", "systems", "processing_activities")
"""Top-level keys of catalog.yaml this module reads."""


class _Parser(Checks):
    """The three blocks, built from the checked values."""

    def organisation(self, raw: Any) -> Organisation | None:
        where = "organisation"
        m = self.c.run(
            self.doc.mapping,
            raw,
            where,
            required=("controller",),
            optional=("dpo", "representative", "contact", "security_measures"),
        )
        if m is None:
            return None
        controller = self.contact(m["controller"], f"{where}.controller", needs=("name", "address"))

        def optional(key: str, needs: tuple[str, ...]) -> Contact | None:
            if m.get(key) is None:
                return None
            return self.contact(m[key], f"{where}.{key}", needs=needs)

        return Organisation(
            controller=controller or Contact(),
            dpo=optional("dpo", ("name",)),
            representative=optional("representative", ("name", "address")),
            contact=optional("contact", ()),
            security_measures=self.texts(m, "security_measures", where),
        )

    def system(self, raw: Any, where: str, seen: dict[str, str]) -> System | None:
        m = self.c.run(
            self.doc.mapping,
            raw,
            where,
            required=("key", "name"),
            optional=("owner", "description", "assets", "zones", "country", "operator"),
        )
        if m is None:
            return None
        return System(
            key=self.key(m, where, seen),
            name=self.text(m, "name", where, required=True),
            owner=self.text(m, "owner", where),
            description=self.text(m, "description", where),
            assets=self.assets_of(m, where),
            zones=self.zones_of(m, where),
            country=self.country(m.get("country"), f"{where}.country", nullable=True),
            operator=self.text(m, "operator", where),
        )

    def recipient(self, raw: Any, where: str) -> Recipient | None:
        m = self.c.run(
            self.doc.mapping, raw, where, required=("name", "kind"), optional=("contract",)
        )
        if m is None:
            return None
        kind = self.term(
            m["kind"], f"{where}.kind", dict.fromkeys(RECIPIENT_KINDS), "", listed=True
        )
        contract = self.text(m, "contract", where)
        if kind and kind != "internal" and not contract:
            self.c.add(
                f"{where}.contract",
                f"missing key (a {kind.replace('_', ' ')} needs the reference of its contract)",
            )
        return Recipient(self.text(m, "name", where, required=True), kind or "", contract)

    def transfer(self, raw: Any, where: str) -> Transfer | None:
        m = self.c.run(
            self.doc.mapping,
            raw,
            where,
            required=("country",),
            optional=("recipient", "safeguard", "reference"),
        )
        if m is None:
            return None
        country = self.country(m["country"], f"{where}.country")
        if country and not is_third_country(country):
            self.c.add(f"{where}.country", f"{country} is in the EEA: not a third-country transfer")
        safeguard = None
        if m.get("safeguard") is not None:
            safeguard = self.term(
                m["safeguard"], f"{where}.safeguard", TRANSFER_SAFEGUARDS, "", listed=True
            )
        return Transfer(
            country=country or "",
            recipient=self.text(m, "recipient", where),
            safeguard=safeguard,
            reference=self.text(m, "reference", where),
        )

    def activity(
        self, raw: Any, where: str, seen: dict[str, str], systems: Mapping[str, System]
    ) -> Activity | None:
        m = self.c.run(
            self.doc.mapping,
            raw,
            where,
            required=("key", "name", "purpose", "lawful_basis", "data_subjects", "data_categories"),
            optional=(
                "description",
                "special_category_condition",
                "recipients",
                "transfers",
                "retention_days",
                "retention",
                "security_measures",
                "systems",
                "zones",
                "assets",
                "joint_controller",
            ),
        )
        if m is None:
            return None
        purpose = self.term(
            m["purpose"], f"{where}.purpose", DATA_USES, "fideslang data use", listed=False
        )
        basis = self.term(m["lawful_basis"], f"{where}.lawful_basis", LAWFUL_BASES, "", listed=True)
        condition = None
        if m.get("special_category_condition") is not None:
            condition = self.term(
                m["special_category_condition"],
                f"{where}.special_category_condition",
                ART9_CONDITIONS,
                "",
                listed=True,
            )
        subjects = tuple(
            s
            for i, v in enumerate(
                self.c.run(
                    self.doc.seq, m["data_subjects"], f"{where}.data_subjects", non_empty=True
                )
                or []
            )
            if (
                s := self.term(
                    v,
                    f"{where}.data_subjects[{i}]",
                    DATA_SUBJECTS,
                    "fideslang data subject",
                    listed=False,
                )
            )
        )
        cats = []
        for i, v in enumerate(
            self.c.run(
                self.doc.seq, m["data_categories"], f"{where}.data_categories", non_empty=True
            )
            or []
        ):
            w = f"{where}.data_categories[{i}]"
            cat = self.c.run(self.doc.category, v, w)
            if cat and cat not in self.categories:
                self.c.run(
                    self.doc.member,
                    cat,
                    w,
                    dict.fromkeys(self.categories),
                    "data category of the catalog's columns (or a prefix of one)",
                )
            elif cat:
                cats.append(cat)
        names = self.texts(m, "systems", where)
        for i, s in enumerate(names):
            self.c.run(self.doc.member, s, f"{where}.systems[{i}]", systems, "system (see systems)")
        assets, zones = self.assets_of(m, where), self.zones_of(m, where)
        if not (names or zones or assets) and not any(
            k in m for k in ("systems", "zones", "assets")
        ):
            self.c.add(where, "expected at least one of systems, zones or assets (what it covers)")
        days = None
        if m.get("retention_days") is not None:
            days = self.c.run(self.doc.positive_int, m["retention_days"], f"{where}.retention_days")
        joint = None
        if m.get("joint_controller") is not None:
            joint = self.contact(
                m["joint_controller"], f"{where}.joint_controller", needs=("name",)
            )
        recipients = self.c.run(self.doc.seq, m.get("recipients") or [], f"{where}.recipients")
        transfers = self.c.run(self.doc.seq, m.get("transfers") or [], f"{where}.transfers")
        return Activity(
            key=self.key(m, where, seen),
            name=self.text(m, "name", where, required=True),
            purpose=purpose or "",
            lawful_basis=basis or "",
            data_subjects=subjects,
            data_categories=tuple(cats),
            description=self.text(m, "description", where),
            special_category_condition=condition,
            recipients=tuple(
                r
                for i, v in enumerate(recipients or [])
                if (r := self.recipient(v, f"{where}.recipients[{i}]"))
            ),
            transfers=tuple(
                t
                for i, v in enumerate(transfers or [])
                if (t := self.transfer(v, f"{where}.transfers[{i}]"))
            ),
            retention_days=days,
            retention=self.text(m, "retention", where),
            security_measures=self.texts(m, "security_measures", where),
            systems=names,
            zones=zones,
            assets=assets,
            joint_controller=joint,
        )


def load_processing(
    doc: _Doc,
    top: Mapping[str, Any],
    *,
    assets: Mapping[str, str],
    categories: Collection[str],
    zones: Collection[str] | None = None,
) -> Register:
    """The :class:`~core.processing.Register` of a catalog document's top-level mapping.

    Args:
        doc: the file's validation context.
        top: the document's top level (other keys are ignored).
        assets: catalog asset name -> zone.
        categories: the data categories an activity may name (the catalog's and their prefixes).
        zones: the declared zones; None skips the zone check.

    Raises:
        ConfigError: one line naming every problem of the three blocks.
    """
    if not any(top.get(k) is not None for k in TOP_KEYS):
        return Register()
    p = _Parser(doc, assets, categories, zones)
    org = p.organisation(top["organisation"]) if top.get("organisation") is not None else None
    sys_seen: dict[str, str] = {}
    systems = tuple(
        s
        for i, raw in enumerate(p.c.run(doc.seq, top.get("systems") or [], "systems") or [])
        if (s := p.system(raw, f"systems[{i}]", sys_seen))
    )
    by_key = {s.key: s for s in systems}
    act_seen: dict[str, str] = {}
    raw_acts = p.c.run(doc.seq, top.get("processing_activities") or [], "processing_activities")
    activities = tuple(
        a
        for i, raw in enumerate(raw_acts or [])
        if (a := p.activity(raw, f"processing_activities[{i}]", act_seen, by_key))
    )
    if activities and org is None:
        p.c.add(
            "organisation",
            "missing key (processing activities need the controller: organisation.controller)",
        )
    if len(p.c.problems) == 1:
        raise ConfigError(p.c.problems[0])
    if p.c.problems:
        raise ConfigError(
            f"{len(p.c.problems)} problems in the processing activities: "
            + " | ".join(p.c.problems)
        )
    return Register(organisation=org, systems=systems, activities=activities)


def known_categories(
    column_categories: Collection[str | None], prefixes: Collection[str]
) -> set[str]:
    """Every category of the columns and each of its dotted prefixes, and ``prefixes``."""
    out = set(prefixes)
    for cat in column_categories:
        if cat:
            parts = cat.split(".")
            out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def zone_problems(register: Register, zones: Collection[str], path: str) -> list[str]:
    """The systems' and activities' zones that ``policies.yaml`` does not declare."""
    doc = _Doc(path)  # type: ignore[arg-type]
    c = Collect(doc)
    for kind, items in (
        ("systems", register.systems),
        ("processing_activities", register.activities),
    ):
        for i, item in enumerate(items):
            for j, z in enumerate(item.zones):
                c.run(
                    doc.member,
                    z,
                    f"{kind}[{i}].zones[{j}]",
                    dict.fromkeys(zones),
                    "zone (see policies.yaml)",
                )
    return c.problems


__all__ = ["TOP_KEYS", "known_categories", "load_processing", "zone_problems"]
