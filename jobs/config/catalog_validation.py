"""Validation helpers of the YAML config loaders (:mod:`jobs.config.catalog`).

Every error names the file, the key path (``assets[3].columns[1].classification``) and what was
expected, with the closest valid name for a misspelt key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from audits.documents import expansion_problem
from jobs.errors import ConfigError

ASSET_KINDS = ("table", "view", "dashboard", "pipeline", "model", "feature", "log", "api", "file")
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
OBJECT_DELETIONS = ("directly", "by_any", "by_x_only", "short_ttl", "not_deleted")
EDGE_DELETIONS = ("deep", "shallow", "refcount")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def did_you_mean(value: str, choices: Any, *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, never ``value`` itself; a choice
    differing from ``value`` only in case is named as such (names are matched in lower case)."""
    names = [str(c) for c in choices]
    same_case = [c for c in names if c.lower() == str(value).lower() and c != value]
    if same_case:
        return f" (did you mean '{same_case[0]}'? names are lower case)"
    near = [
        c for c in difflib.get_close_matches(str(value), names, n=3, cutoff=cutoff) if c != value
    ]
    return f" (did you mean '{near[0]}'?)" if near else ""


class _Doc:
    """Validation context of one file: every error names the file and the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> ConfigError:
        prefix = f"{self.path}: {where}: " if where else f"{self.path}: "
        return ConfigError(prefix + message)

    def load(self) -> Any:
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.fail("", "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail("", f"cannot read the file ({exc.__class__.__name__})") from None
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise self.fail(where, f"invalid YAML ({problem})") from None
        problem = expansion_problem(doc)  # before any message could write it out
        if problem:
            raise self.fail("", problem)
        return doc

    def mapping(
        self,
        value: Any,
        where: str,
        *,
        required: tuple[str, ...] = (),
        optional: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Check ``value`` is a mapping with exactly the allowed keys."""
        if not isinstance(value, dict):
            raise self.fail(where or "top level", f"expected a mapping, got {_kind(value)}")
        allowed = required + optional
        for key in value:
            if not isinstance(key, str):
                raise self.fail(where or "top level", f"expected string keys, got {key!r}")
            if allowed and key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                did = (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else f" (expected one of {', '.join(allowed)})"
                )
                raise self.fail(where or "top level", f"unknown key '{key}'{did}")
        for key in required:
            if key not in value:
                raise self.fail(
                    _join(where, key), f"missing key (expected {_EXPECT.get(key, 'a value')})"
                )
        return value

    def string(self, value: Any, where: str, *, nullable: bool = False) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, got {_show(value)}")
        return value

    def enum(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in choices:
            hint = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
            did = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise self.fail(where, f"expected one of {'|'.join(choices)}, got {_show(value)}{did}")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {_show(value)}")
        return value

    def positive_int(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(where, f"expected a positive integer, got {_show(value)}")
        return value

    def category(self, value: Any, where: str, *, nullable: bool = False) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not _CATEGORY.match(value):
            raise self.fail(
                where,
                "expected a dotted lower-case data category such as "
                f"user.contact.email, got {_show(value)}",
            )
        return value

    def seq(self, value: Any, where: str, *, non_empty: bool = False) -> list[Any]:
        if not isinstance(value, list) or (non_empty and not value):
            what = "a non-empty list" if non_empty else "a list"
            raise self.fail(where, f"expected {what}, got {_kind(value)}")
        return value

    def member(self, value: str, where: str, known: Mapping[str, Any], what: str) -> str:
        if value not in known:
            did = did_you_mean(value, list(known))
            raise self.fail(where, f"expected a declared {what}, got {_show(value)}{did}")
        return value


_EXPECT = {
    "assets": "a list of assets",
    "name": "a non-empty string",
    "kind": "|".join(ASSET_KINDS),
    "owner": "a non-empty string",
    "zone": "a zone name",
    "type": "a data type such as bigint",
    "zones": "a mapping of zone name to description",
    "policies": "a list of policies",
    "data_categories": "a non-empty list of data categories",
    "allowed_zones": "a list of zone names",
    "objects": "a mapping of object type to deletion",
    "edges": "a mapping of edge type to {src, dst, deletion}",
    "src": "an object type",
    "dst": "an object type",
    "deletion": "|".join(EDGE_DELETIONS),
}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
