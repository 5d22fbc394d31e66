"""Declared processing: the organisation, its systems and its processing activities.

The typed model of the ``organisation``, ``systems`` and ``processing_activities`` blocks of
``catalog.yaml`` (loaded and validated by :mod:`jobs.config.processing`), in the spirit of Fides'
``Organization``, ``System`` and ``PrivacyDeclaration``. Everything here is declared by people;
what lineage observes is matched against it by :mod:`reports.article30`.

An activity (or a system) **covers** an asset when the asset's name matches one of its ``assets``
patterns (``fnmatch``: ``crm.*``), or the asset lies in one of its ``zones``; an activity also
covers what its systems cover.

Example:
    >>> ads = Activity(key="ads", name="Ads", purpose="marketing.advertising",
    ...                lawful_basis="consent", data_subjects=("customer",),
    ...                data_categories=("user.contact",), zones=("ads",))
    >>> Register(activities=(ads,)).covering("ads.audience", "ads")[0].key
    'ads'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Contact:
    """Name and contact details of a party (Art. 30(1)(a))."""

    name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""

    def text(self) -> str:
        """``"Name, address, email, phone"`` with the empty parts left out."""
        return ", ".join(p for p in (self.name, self.address, self.email, self.phone) if p)


@dataclass(frozen=True)
class Organisation:
    """The controller and who speaks for it."""

    controller: Contact
    dpo: Contact | None = None
    """The data protection officer (Art. 37), None when none is designated."""
    representative: Contact | None = None
    """The representative in the Union (Art. 27), None when the controller is established in it."""
    contact: Contact | None = None
    """Where data subjects and authorities write about privacy."""
    security_measures: tuple[str, ...] = ()
    """Technical and organisational measures (Art. 32) every activity shares."""


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class System:
    """An application or platform that processes personal data (Fides ``System``)."""

    key: str
    name: str
    owner: str = ""
    """The administrating department."""
    description: str = ""
    assets: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    country: str | None = None
    """ISO 3166-1 alpha-3 code of where it runs or is operated from; outside the EEA, data
    flowing into it is a third-country transfer."""
    operator: str = ""
    """The processor or third party operating it, when it is not run in-house."""

    def covers(self, asset: str, zone: str | None) -> bool:
        """True when the asset matches one of the patterns or lies in one of the zones."""
        return _matches(asset, self.assets) or (zone is not None and zone in self.zones)


@dataclass(frozen=True)
class Recipient:
    """Who the data are disclosed to (Art. 30(1)(d))."""

    name: str
    kind: str
    """One of :data:`core.gdpr.RECIPIENT_KINDS`."""
    contract: str = ""
    """Reference of the contract (data processing agreement, sharing agreement...)."""

    def text(self) -> str:
        """``"AdCo (third party, contract DSA-7)"``."""
        kind = self.kind.replace("_", " ")
        return (
            f"{self.name} ({kind}, contract {self.contract})"
            if self.contract
            else (f"{self.name} ({kind})")
        )


@dataclass(frozen=True)
class Transfer:
    """A transfer to a third country (Art. 30(1)(e), Chapter V)."""

    country: str
    """ISO 3166-1 alpha-3 code."""
    recipient: str = ""
    safeguard: str | None = None
    """One of :data:`core.gdpr.TRANSFER_SAFEGUARDS`; None when not declared (a finding)."""
    reference: str = ""
    """Where the safeguard is documented (decision, signed clauses...)."""


@dataclass(frozen=True)
class Activity:
    """One processing activity: one row of the Article 30 record (Fides ``PrivacyDeclaration``)."""

    key: str
    name: str
    purpose: str
    """A fideslang data use (:data:`core.gdpr.DATA_USES`)."""
    lawful_basis: str
    """One of :data:`core.gdpr.LAWFUL_BASES` (Art. 6(1))."""
    data_subjects: tuple[str, ...]
    data_categories: tuple[str, ...]
    description: str = ""
    special_category_condition: str | None = None
    """One of :data:`core.gdpr.ART9_CONDITIONS`, needed when special categories are processed."""
    recipients: tuple[Recipient, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    retention_days: int | None = None
    retention: str = ""
    """The time limits for erasure in words, when days do not say it."""
    security_measures: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()
    joint_controller: Contact | None = None


@dataclass(frozen=True)
class Register:
    """Everything declared about processing; empty when the catalog declares none."""

    organisation: Organisation | None = None
    systems: tuple[System, ...] = ()
    activities: tuple[Activity, ...] = ()
    _systems: dict[str, System] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._systems.update({s.key: s for s in self.systems})

    def system(self, key: str) -> System | None:
        """The system called ``key`` or None."""
        return self._systems.get(key)

    def system_of(self, asset: str, zone: str | None) -> System | None:
        """The first declared system covering the asset, or None."""
        return next((s for s in self.systems if s.covers(asset, zone)), None)

    def covering(self, asset: str, zone: str | None) -> list[Activity]:
        """The activities covering an asset, in declaration order."""
        out = []
        for a in self.activities:
            if _matches(asset, a.assets) or (zone is not None and zone in a.zones):
                out.append(a)
            elif any(
                (s := self.system(k)) is not None and s.covers(asset, zone) for k in a.systems
            ):
                out.append(a)
        return out


__all__ = ["Activity", "Contact", "Organisation", "Recipient", "Register", "System", "Transfer"]
