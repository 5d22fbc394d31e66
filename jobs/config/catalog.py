"""Typed loaders for the three YAML configuration inputs: catalog, policies, deletion annotations.

Each loader reads one file, validates every key and returns frozen dataclasses. A missing,
misspelt or ill-typed key, or a bad enum value, raises :class:`~jobs.errors.ConfigError` with one
line naming the file, the key path and what was expected, e.g.::

    conf/catalog.yaml: assets[3].columns[1].classification: expected one of public|internal|
    confidential|restricted, got 'secret'
    conf/catalog.yaml: assets[0]: unknown key 'ower' (did you mean 'owner'?)

Example:
    >>> cat = load_catalog(Path("conf/catalog.yaml"))  # doctest: +SKIP
    >>> cat.retention_for("user.contact.email")  # doctest: +SKIP
    730
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from audits.annotations.sections import Annotations, EdgeAnnotation
from audits.hashing import HASH_NAMES
from core.categories import most_specific
from core.processing import Register
from jobs.config.catalog_validation import (  # noqa: F401 - re-exported
    ASSET_KINDS,
    CLASSIFICATIONS,
    EDGE_DELETIONS,
    OBJECT_DELETIONS,
    _Doc,
    _show,
)
from jobs.config.processing import TOP_KEYS, known_categories, load_processing, zone_problems
from jobs.errors import ConfigError
from lineage.policy import Policy

_BY_ONLY = re.compile(r"^by_([a-z][a-z0-9_]*)_only$")


@dataclass(frozen=True)
class ColumnSpec:
    """A column of a catalog asset.

    Attributes:
        name: column name.
        type: declared data type (free text such as ``bigint``).
        data_category: dotted taxonomy (``user.contact.email``) or None for non-personal data.
        is_identifier: the column holds subject identifiers (residual scans match on it).
        classification: public|internal|confidential|restricted.
        hash: the column holds this hash of an identifier (a name of
            :data:`audits.hashing.HASH_FUNCTIONS`, e.g. ``sha256_hex``), or None.
    """

    name: str
    type: str
    data_category: str | None = None
    is_identifier: bool = False
    classification: str = "internal"
    hash: str | None = None


@dataclass(frozen=True)
class AssetSpec:
    """An asset of the catalog.

    Attributes:
        name: fully qualified lower-case name (``crm.customers``, ``dash.revenue_overview``).
        kind: one of :data:`ASSET_KINDS`.
        owner: owning team.
        zone: policy zone the asset lives in.
        columns: its columns (may be empty for dashboards, pipelines and models).
        time_column: the column that dates each row for the retention audit, or None (then the
            first timestamp/date column named ``created_at``, ``event_time``, ``ts`` or
            ``updated_at`` is used).
    """

    name: str
    kind: str
    owner: str
    zone: str
    columns: tuple[ColumnSpec, ...] = ()
    time_column: str | None = None

    def column(self, name: str) -> ColumnSpec | None:
        """The column called ``name`` or None."""
        return next((c for c in self.columns if c.name == name), None)


def retention_for(retention_days: Mapping[str, int], category: str | None) -> int | None:
    """Retention in days of a data category: the most specific dotted prefix wins.

    Args:
        retention_days: retention per category prefix (``{"user": 1095, "user.contact": 730}``).
        category: a dotted category such as ``user.contact.email``; None gives None.

    Returns:
        The retention of the longest matching prefix, or None when no prefix matches.

    Example:
        >>> retention_for({"user": 1095, "user.contact": 730}, "user.contact.email")
        730
        >>> retention_for({"user": 1095, "user.contact": 730}, "user.contactless")
        1095
    """
    return most_specific(retention_days, category)


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog.

    Attributes:
        retention_days: mapping of category prefix to retention days.
        assets: the assets in file order.
        path: the file it was loaded from.
        processing: the organisation, systems and processing activities it declares
            (:mod:`jobs.config.processing`); empty when it declares none.
    """

    retention_days: Mapping[str, int]
    assets: tuple[AssetSpec, ...]
    path: str = ""
    processing: Register = Register()

    def retention_for(self, category: str | None) -> int | None:
        """Retention days of ``category`` (most specific prefix wins), None when unmatched."""
        return retention_for(self.retention_days, category)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {a.name: a for a in self.assets})

    def asset(self, name: str) -> AssetSpec | None:
        """The asset called ``name`` (case-insensitive) or None."""
        return self._by_name.get(name.lower())  # type: ignore[attr-defined]

    def identifier_columns(self) -> list[tuple[str, str]]:
        """``(asset, column)`` of every identifier column."""
        return [(a.name, c.name) for a in self.assets for c in a.columns if c.is_identifier]

    def hash_columns(self) -> dict[tuple[str, str], str]:
        """``(asset, column) -> hash function`` of every column declaring ``hash``."""
        return {(a.name, c.name): c.hash for a in self.assets for c in a.columns if c.hash}


@dataclass(frozen=True)
class Policies:
    """The loaded policies file.

    Attributes:
        zones: mapping of zone name to description.
        policies: the policies in file order.
        path: the file it was loaded from.
    """

    zones: Mapping[str, str]
    policies: tuple[Policy, ...]
    path: str = ""

    def violated(self, category: str | None, zone: str) -> list[Policy]:
        """The policies a flow of ``category`` data into ``zone`` violates."""
        return [p for p in self.policies if p.covers(category) and zone not in p.allowed_zones]


# --------------------------------------------------------------------------- loaders


def load_catalog(path: Path | str, *, zones: Collection[str] | None = None) -> Catalog:
    """Load and validate ``catalog.yaml``.

    Args:
        path: the file.
        zones: the zones of ``policies.yaml``; when given, the zones the systems and processing
            activities name are checked with their other problems (else see :func:`check_zones`).

    Returns:
        The :class:`Catalog`.

    Raises:
        ConfigError: naming the file, the key path and what was expected.
    """
    doc = _Doc(Path(path))
    top = doc.mapping(doc.load(), "", required=("assets",), optional=("retention_days", *TOP_KEYS))
    retention: dict[str, int] = {}
    raw_ret = top.get("retention_days") or {}
    for cat, days in doc.mapping(raw_ret, "retention_days").items():
        where = f"retention_days.{cat}"
        doc.category(cat, where)
        retention[cat] = doc.positive_int(days, where)
    assets: list[AssetSpec] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(doc.seq(top["assets"], "assets")):
        where = f"assets[{i}]"
        a = doc.mapping(
            raw,
            where,
            required=("name", "kind", "owner", "zone"),
            optional=("columns", "description", "tags", "time_column", "discovery"),
        )
        name = doc.string(a["name"], f"{where}.name")
        assert name is not None
        if name != name.lower() or "." not in name:
            raise doc.fail(
                f"{where}.name",
                f"expected a fully qualified lower-case name such as "
                f"crm.customers, got {_show(name)}",
            )
        if name in seen:
            raise doc.fail(f"{where}.name", f"duplicate asset {name!r} (first at {seen[name]})")
        seen[name] = where
        kind = doc.enum(a["kind"], f"{where}.kind", ASSET_KINDS)
        owner = doc.string(a["owner"], f"{where}.owner")
        zone = doc.string(a["zone"], f"{where}.zone")
        cols: list[ColumnSpec] = []
        col_names: set[str] = set()
        for j, rc in enumerate(doc.seq(a.get("columns") or [], f"{where}.columns")):
            cw = f"{where}.columns[{j}]"
            c = doc.mapping(
                rc,
                cw,
                required=("name", "type"),
                optional=(
                    "data_category",
                    "is_identifier",
                    "classification",
                    "description",
                    "hash",
                    "discovery",
                ),
            )
            cname = doc.string(c["name"], f"{cw}.name")
            assert cname is not None
            if cname in col_names:
                raise doc.fail(f"{cw}.name", f"duplicate column {cname!r} in {name}")
            col_names.add(cname)
            cols.append(
                ColumnSpec(
                    name=cname,
                    type=str(doc.string(c["type"], f"{cw}.type")),
                    data_category=doc.category(
                        c.get("data_category"), f"{cw}.data_category", nullable=True
                    ),
                    is_identifier=doc.boolean(c.get("is_identifier", False), f"{cw}.is_identifier"),
                    classification=doc.enum(
                        c.get("classification", "internal"), f"{cw}.classification", CLASSIFICATIONS
                    ),
                    hash=(
                        None
                        if c.get("hash") is None
                        else doc.enum(c["hash"], f"{cw}.hash", HASH_NAMES)
                    ),
                )
            )
        time_column = doc.string(a.get("time_column"), f"{where}.time_column", nullable=True)
        if time_column is not None and cols and time_column not in col_names:
            raise doc.fail(
                f"{where}.time_column",
                f"expected one of the asset's columns, got {_show(time_column)}",
            )
        assets.append(AssetSpec(name, kind, str(owner), str(zone), tuple(cols), time_column))
    processing = load_processing(
        doc,
        top,
        assets={a.name: a.zone for a in assets},
        categories=known_categories(
            [c.data_category for a in assets for c in a.columns], retention
        ),
        zones=zones,
    )
    return Catalog(dict(retention), tuple(assets), str(path), processing)


def load_policies(path: Path | str) -> Policies:
    """Load and validate ``policies.yaml`` (every allowed zone must be a declared zone).

    Raises:
        ConfigError: naming the file, the key path and what was expected.
    """
    doc = _Doc(Path(path))
    top = doc.mapping(doc.load(), "", required=("zones", "policies"))
    zones: dict[str, str] = {}
    for zone, desc in doc.mapping(top["zones"], "zones").items():
        zones[zone] = "" if desc is None else str(doc.string(desc, f"zones.{zone}"))
    out: list[Policy] = []
    names: set[str] = set()
    for i, raw in enumerate(doc.seq(top["policies"], "policies")):
        where = f"policies[{i}]"
        p = doc.mapping(
            raw,
            where,
            required=("name", "data_categories", "allowed_zones"),
            optional=("description",),
        )
        name = str(doc.string(p["name"], f"{where}.name"))
        if name in names:
            raise doc.fail(f"{where}.name", f"duplicate policy {name!r}")
        names.add(name)
        cats = tuple(
            str(doc.category(c, f"{where}.data_categories[{j}]"))
            for j, c in enumerate(
                doc.seq(p["data_categories"], f"{where}.data_categories", non_empty=True)
            )
        )
        allowed = tuple(
            doc.member(
                str(doc.string(z, f"{where}.allowed_zones[{j}]")),
                f"{where}.allowed_zones[{j}]",
                zones,
                "zone (see zones)",
            )
            for j, z in enumerate(doc.seq(p["allowed_zones"], f"{where}.allowed_zones"))
        )
        desc = p.get("description")
        out.append(
            Policy(
                name,
                cats,
                allowed,
                "" if desc is None else str(doc.string(desc, f"{where}.description")),
            )
        )
    return Policies(dict(zones), tuple(out), str(path))


def load_annotations(path: Path | str) -> Annotations:
    """Load and validate ``annotations.yaml`` (DELF object and edge annotations).

    Edge endpoints must be declared object types. An edge type that is not annotated at all is
    not a load error: finding those is the job of the annotation audit.

    Raises:
        ConfigError: naming the file, the key path and what was expected.
    """
    doc = _Doc(Path(path))
    top = doc.mapping(doc.load(), "", required=("objects",), optional=("edges",))
    objects: dict[str, str] = {}
    raw_objects = doc.mapping(top["objects"], "objects")
    for obj, mode in raw_objects.items():
        owner = _BY_ONLY.match(mode) if isinstance(mode, str) else None
        if owner and mode != "by_x_only":  # by_<type>_only: deleted only with a <type> object
            doc.member(
                owner.group(1),
                f"objects.{obj}",
                raw_objects,
                f"object type in {mode!r} (see objects)",
            )
            objects[obj] = mode
        else:
            objects[obj] = doc.enum(mode, f"objects.{obj}", OBJECT_DELETIONS)
    edges: dict[str, EdgeAnnotation] = {}
    for name, raw in doc.mapping(top.get("edges") or {}, "edges").items():
        where = f"edges.{name}"
        e = doc.mapping(raw, where, required=("src", "dst", "deletion"))
        src = doc.member(
            str(doc.string(e["src"], f"{where}.src")),
            f"{where}.src",
            objects,
            "object type (see objects)",
        )
        dst = doc.member(
            str(doc.string(e["dst"], f"{where}.dst")),
            f"{where}.dst",
            objects,
            "object type (see objects)",
        )
        edges[name] = EdgeAnnotation(
            name, src, dst, doc.enum(e["deletion"], f"{where}.deletion", EDGE_DELETIONS)
        )
    return Annotations(dict(objects), dict(edges), str(path))


def asset_zone_problems(catalog: Catalog, policies: Policies) -> list[str]:
    """Every asset whose zone the policies file does not declare, with the closest zone."""
    out = []
    for i, a in enumerate(catalog.assets):
        if a.zone not in policies.zones:
            hint = difflib.get_close_matches(a.zone, list(policies.zones), n=1, cutoff=0.6)
            did = f" (did you mean '{hint[0]}'?)" if hint else ""
            out.append(
                f"{catalog.path}: assets[{i}].zone: expected a zone declared in "
                f"{policies.path}, got {a.zone!r}{did}"
            )
    return out


def check_zones(catalog: Catalog, policies: Policies) -> None:
    """Check every zone the catalog names (assets, systems, processing activities) is declared in
    the policies file.

    Raises:
        ConfigError: one line naming every undeclared zone and the closest declared one.
    """
    problems = asset_zone_problems(catalog, policies) + zone_problems(
        catalog.processing, policies.zones, catalog.path
    )
    if problems:
        raise ConfigError(" | ".join(problems))


__all__ = [
    "ASSET_KINDS",
    "CLASSIFICATIONS",
    "EDGE_DELETIONS",
    "OBJECT_DELETIONS",
    "Annotations",
    "asset_zone_problems",
    "AssetSpec",
    "Catalog",
    "ColumnSpec",
    "EdgeAnnotation",
    "Policies",
    "Policy",
    "check_zones",
    "load_annotations",
    "load_catalog",
    "load_policies",
    "retention_for",
]
