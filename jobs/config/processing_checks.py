"""Value checks of the processing blocks of ``catalog.yaml`` (:mod:`jobs.config.processing`):
strings, vocabulary terms, contact details, asset patterns, zones, keys, country codes. Each
problem is kept, not raised, so that the loader reports every one at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from core.processing import Contact
from jobs.config.catalog_validation import _Doc, _show, did_you_mean
from jobs.errors import ConfigError

T = TypeVar("T")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_CONTACT_KEYS = ("name", "address", "email", "phone")


def _did_you_mean(value: str, choices: list[str]) -> str:
    return did_you_mean(value, choices)


class Collect:
    """Runs checks of one file, keeping every problem instead of stopping at the first."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self.problems: list[str] = []

    def run(self, check: Callable[..., T], *args: Any, **kw: Any) -> T | None:
        try:
            return check(*args, **kw)
        except ConfigError as exc:
            self.problems.append(str(exc))
            return None

    def add(self, where: str, message: str) -> None:
        self.problems.append(str(self.doc.fail(where, message)))


class Checks:
    """The value checks of the three blocks, every problem kept (:attr:`c`)."""

    def __init__(
        self,
        doc: _Doc,
        assets: Mapping[str, str],
        categories: Collection[str],
        zones: Collection[str] | None,
    ) -> None:
        self.doc = doc
        self.c = Collect(doc)
        self.assets = assets
        self.categories = sorted(categories)
        self.zones = zones

    # ------------------------------------------------------------------ small values
    def text(self, m: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
        value = m.get(key)
        if value is None and not required:
            return ""
        got = self.c.run(self.doc.string, value, f"{where}.{key}")
        return got or ""

    def texts(self, m: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        raw = self.c.run(self.doc.seq, m.get(key) or [], f"{where}.{key}") or []
        out = (self.c.run(self.doc.string, v, f"{where}.{key}[{i}]") for i, v in enumerate(raw))
        return tuple(v for v in out if v)

    def term(
        self, value: Any, where: str, terms: Mapping[str, Any], what: str, *, listed: bool
    ) -> str | None:
        """A key of a vocabulary: small ones list every choice, large ones name the kind."""
        if listed:
            return self.c.run(self.doc.enum, value, where, tuple(terms))
        if not isinstance(value, str):
            self.c.add(where, f"expected a {what}, got {_show(value)}")
            return None
        return self.c.run(self.doc.member, value, where, terms, what)

    def contact(self, value: Any, where: str, *, needs: tuple[str, ...]) -> Contact | None:
        m = self.c.run(self.doc.mapping, value, where, optional=_CONTACT_KEYS)
        if m is None:
            return None
        got = {k: self.text(m, k, where) for k in _CONTACT_KEYS}
        for key in needs:
            if not got[key]:
                self.c.add(f"{where}.{key}", "missing key (expected a non-empty string)")
        if not (got["email"] or got["phone"]):
            self.c.add(where, "expected contact details: an email or a phone")
        return Contact(**got)

    def assets_of(self, m: Mapping[str, Any], where: str) -> tuple[str, ...]:
        out = []
        for i, pattern in enumerate(self.texts(m, "assets", where)):
            w = f"{where}.assets[{i}]"
            if any(ch in pattern for ch in "*?["):
                if not any(fnmatchcase(a, pattern) for a in self.assets):
                    schemas = sorted({a.split(".")[0] + ".*" for a in self.assets})
                    self.c.add(
                        w,
                        f"expected a pattern matching a catalog asset, got {_show(pattern)}"
                        + _did_you_mean(pattern, [*schemas, *self.assets]),
                    )
                    continue
            elif pattern not in self.assets:
                self.c.run(self.doc.member, pattern, w, self.assets, "catalog asset")
                continue
            out.append(pattern)
        return tuple(out)

    def zones_of(self, m: Mapping[str, Any], where: str) -> tuple[str, ...]:
        zones = self.texts(m, "zones", where)
        if self.zones is not None:
            for i, z in enumerate(zones):
                self.c.run(
                    self.doc.member,
                    z,
                    f"{where}.zones[{i}]",
                    self.zones,
                    "zone (see policies.yaml)",
                )
        return zones

    def key(self, m: Mapping[str, Any], where: str, seen: dict[str, str]) -> str:
        key = self.text(m, "key", where, required=True)
        if key and not _KEY.match(key):
            self.c.add(f"{where}.key", f"expected a lower-case key such as crm_core, got {key!r}")
        elif key in seen:
            self.c.add(f"{where}.key", f"duplicate key {key!r} (first at {seen[key]})")
        seen.setdefault(key, where)
        return key

    def country(self, value: Any, where: str, *, nullable: bool = False) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not _COUNTRY.match(value):
            self.c.add(
                where,
                f"expected an ISO 3166-1 alpha-3 country code such as USA, got {_show(value)}",
            )
            return None
        return value
