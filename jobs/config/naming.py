"""``naming``: the rules that give a table one name across signals (:mod:`lineage.naming`).

Validated when the configuration is loaded, before any step runs: every problem is found and
reported at once, one line each.

Example (``--conf`` file)::

    naming:
      openlineage_namespaces:          # OpenLineage namespace prefix -> catalog
        "postgres://db.example.com:5432": postgres
      catalogs:                        # catalog as written -> canonical catalog ("" drops it)
        marquez: postgres
      paths:                           # a path dataset -> a table, first match wins
        - {match: "/warehouse/public/([^/]+)", table: "postgres.public.$1"}
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from lineage.naming import NO_RULES, NamingRules

SECTION = "naming"
KEYS = ("openlineage_namespaces", "catalogs", "paths")
_CATALOG = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")
_GROUP_REF = re.compile(r"\$(\d+)")


def _near(value: str, choices: tuple[str, ...]) -> str:
    near = [c for c in difflib.get_close_matches(value, list(choices), n=2) if c != value]
    return f" (did you mean '{near[0]}'?)" if near else ""


def _catalog(v: Any, where: str, problems: list[str], *, empty_ok: bool) -> str | None:
    if not isinstance(v, str) or (v == "" and not empty_ok) or (v and not _CATALOG.match(v)):
        want = "a lower-case catalog name (letters, digits, _ and -)"
        if empty_ok:
            want += ' or "" (drop the catalog)'
        problems.append(f"{where} is {v!r}, expected {want}")
        return None
    return v


def _pairs(
    value: Any, where: str, problems: list[str], *, empty_ok: bool
) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        problems.append(f"{where}' is {value!r}, expected a mapping")
        return ()
    out = []
    for k, v in value.items():
        if not isinstance(k, str) or not k.strip():
            problems.append(f"{where}' has the key {k!r}, expected a non-empty string")
            continue
        c = _catalog(v, f"{where}.{k}'", problems, empty_ok=empty_ok)
        if c is not None:
            out.append((k.strip().lower(), c))
    return tuple(out)


def _paths(value: Any, where: str, problems: list[str]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where}' is {value!r}, expected a list of {{match, table}}")
        return ()
    out = []
    for i, rule in enumerate(value):
        w = f"{where}[{i}]"
        if not isinstance(rule, Mapping) or set(rule) != {"match", "table"}:
            problems.append(f"{w}' is {rule!r}, expected a mapping with exactly match and table")
            continue
        pattern, table = rule["match"], rule["table"]
        if not isinstance(pattern, str) or not pattern:
            problems.append(f"{w}.match' is {pattern!r}, expected a regular expression")
            continue
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            problems.append(f"{w}.match' is not a valid regular expression ({exc})")
            continue
        if not isinstance(table, str) or "." not in table or table != table.strip():
            problems.append(f"{w}.table' is {table!r}, expected a table name such as db.$1")
            continue
        refs = [int(n) for n in _GROUP_REF.findall(table)]
        if any(n > groups or n == 0 for n in refs):
            problems.append(f"{w}.table' refers to ${max(refs)}, but match has {groups} group(s)")
            continue
        # the rule matches a whole (lower-case) name
        out.append((f"^(?:{pattern.lower()})$", table.lower()))
    return tuple(out)


def parse_naming(value: Any, file: str) -> tuple[NamingRules, list[str]]:
    """The rules of the ``naming`` section (``None``: no rules) and every problem found."""
    if value is None:
        return NO_RULES, []
    where = f"{file}: key '{SECTION}"
    if not isinstance(value, Mapping):
        return NO_RULES, [f"{where}' is {value!r}, expected a mapping of {', '.join(KEYS)}"]
    problems = [f"{where}.{k}' is unknown{_near(str(k), KEYS)}" for k in value if k not in KEYS]
    rules = NamingRules(
        namespaces=_pairs(
            value.get("openlineage_namespaces"),
            f"{where}.openlineage_namespaces",
            problems,
            empty_ok=False,
        ),
        catalogs=_pairs(value.get("catalogs"), f"{where}.catalogs", problems, empty_ok=True),
        paths=_paths(value.get("paths"), f"{where}.paths", problems),
    )
    return rules, problems
