"""``query_log_sources``: per-source settings of the query logs (format, dialect, catalog, schema).

A source is a path under ``inputs.query_logs`` (a sub-folder or one file); a file takes the
settings of the longest source path that contains it, else the defaults (``format: auto``). The
section is validated when the configuration is loaded, before any step runs: every problem is
found, and reported at once, one line each.

Example (``--conf`` file)::

    query_log_sources:
      bigquery/: {format: bigquery, catalog: acme-prod, schema: analytics}
      pg/app.csv: {format: postgres_csvlog, schema: app}
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from audits.querylog_formats import AUTO, DIALECTS, FORMATS, SourceSettings

SECTION = "query_log_sources"
KEYS = ("format", "dialect", "catalog", "schema")


def _near(value: str, choices: list[str] | tuple[str, ...]) -> str:
    near = [c for c in difflib.get_close_matches(value, list(choices), n=2) if c != value]
    return f" (did you mean '{near[0]}'?)" if near else ""


def _one(file: str, path: str, value: Any, problems: list[str]) -> SourceSettings | None:
    where = f"{file}: key '{SECTION}.{path}"
    if not isinstance(value, Mapping):
        problems.append(f"{where}' is {value!r}, expected a mapping of {', '.join(KEYS)}")
        return None
    ok = True
    values: dict[str, str] = {}
    for key, v in value.items():
        if key not in KEYS:
            problems.append(
                f"{where}.{key}': unknown key{_near(str(key), KEYS)}; expected one of {', '.join(KEYS)}"
            )
            ok = False
            continue
        if v is None or isinstance(v, (bool, dict, list)) or str(v).strip() == "":
            problems.append(f"{where}.{key}' is {v!r}, expected a non-empty string")
            ok = False
            continue
        values[key] = str(v).strip()
    fmt = values.get("format", AUTO)
    if fmt not in (AUTO, *FORMATS):
        problems.append(
            f"{where}.format' is {fmt!r}{_near(fmt, FORMATS)}, expected one of "
            f"{', '.join((AUTO, *FORMATS))}"
        )
        ok = False
    dialect = values.get("dialect")
    if dialect is not None and dialect.lower() not in DIALECTS:
        problems.append(
            f"{where}.dialect' is {dialect!r}{_near(dialect.lower(), sorted(DIALECTS))}, expected "
            f"one of {', '.join(sorted(DIALECTS))}"
        )
        ok = False
    if not ok:
        return None
    return SourceSettings(
        format=fmt,
        dialect=dialect.lower() if dialect else None,
        catalog=values.get("catalog"),
        schema=values.get("schema"),
    )


def parse_sources(data: Any, file: str) -> tuple[dict[str, SourceSettings], list[str]]:
    """The validated sources and every problem found (one line each)."""
    if data is None:
        return {}, []
    if not isinstance(data, Mapping):
        return {}, [f"{file}: key '{SECTION}' is {data!r}, expected a mapping of paths"]
    sources: dict[str, SourceSettings] = {}
    problems: list[str] = []
    for raw_path, value in data.items():
        path = str(raw_path).strip().strip("/")
        if not path or str(raw_path).startswith("/") or ".." in path.split("/"):
            problems.append(
                f"{file}: key '{SECTION}.{raw_path}': expected a path relative to "
                "inputs.query_logs (a sub-folder or a file under it)"
            )
            continue
        settings = _one(file, str(raw_path), value, problems)
        if settings is not None:
            sources[path] = settings
    return sources, problems


def settings_for(relative: str, sources: Mapping[str, SourceSettings]) -> SourceSettings:
    """The settings of a file at ``relative`` (to the query-log root): longest source path wins."""
    best, best_len = SourceSettings(), -1
    for path, settings in sources.items():
        if (relative == path or relative.startswith(path + "/")) and len(path) > best_len:
            best, best_len = settings, len(path)
    return best
