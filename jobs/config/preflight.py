"""Check every configuration input before the first step, and report every problem at once.

A nightly that would stop in its fourth minute on a bad catalog name or a missing annotations file
stops here instead, before Spark starts, with one line listing every problem found: the policies,
the catalog (and that every zone its assets, systems and processing activities name is declared in
the policies), the deletion annotations, and the
asset names the audit will use as table names. An optional input that is absent (the deletion
annotations) is not a problem: it is empty, and one note says so.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jobs.config.settings import Config
from jobs.errors import ConfigError

_NAME_PART = re.compile(r"^[a-z0-9_]+$")
OPTIONAL_INPUTS = ("annotations",)
"""Configuration inputs that may be absent (treated as empty)."""


@dataclass
class Preflight:
    """What the checks found."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def raise_if_any(self) -> None:
        """One :class:`ConfigError` naming every problem (exit code 2)."""
        if len(self.problems) == 1:
            raise ConfigError(self.problems[0])
        if self.problems:
            raise ConfigError(
                f"{len(self.problems)} configuration problems: " + " | ".join(self.problems)
            )


def _try(out: Preflight, load, *args):
    try:
        return load(*args)
    except ConfigError as exc:
        out.problems.append(str(exc))
        return None


def check_inputs(cfg: Config) -> Preflight:
    """Validate the catalog, policies, annotations and asset names of ``cfg``, collecting all."""
    from jobs.config.catalog import (
        asset_zone_problems,
        load_annotations,
        load_catalog,
        load_policies,
    )

    out = Preflight()
    for name in OPTIONAL_INPUTS:
        path = getattr(cfg.inputs, name)
        if "://" not in path and not Path(path).exists():
            out.notes.append(
                f"inputs.{name}: {path} does not exist; treated as empty (the checks "
                "that need it are not run)"
            )
    policies = _try(out, load_policies, cfg.inputs.policies)
    zones = policies.zones if policies is not None else None  # the activities' zones, at once
    catalog = _try(out, lambda path: load_catalog(path, zones=zones), cfg.inputs.catalog)
    if not any(n.startswith("inputs.annotations:") for n in out.notes):
        _try(out, load_annotations, cfg.inputs.annotations)
    if catalog is not None:
        for i, asset in enumerate(catalog.assets):
            bad = [p for p in asset.name.split(".") if not _NAME_PART.match(p)]
            if bad:
                out.problems.append(
                    f"{catalog.path}: assets[{i}].name: {asset.name!r} is not usable as a "
                    "table name "
                    f"(part {bad[0]!r}: expected lower-case letters, digits and _ only)"
                )
        if policies is not None:
            out.problems.extend(asset_zone_problems(catalog, policies))
    return out


def check_writable(cfg: Config, *, audited: bool = False) -> None:
    """The home (lock, logs, reports) and the warehouse (and with ``audited`` the audited
    company's warehouse) can be written: a file is created and removed in the folder, or in its
    nearest existing parent when it does not exist yet (nothing is left behind). Object-store
    URIs are left to the store.

    Raises:
        ConfigError: one line naming every folder that cannot be written, and why.
    """
    folders = [("home", cfg.home), ("warehouse", cfg.warehouse)]
    if audited:
        folders.append(("audited_warehouse", cfg.audited_warehouse))
    problems = []
    for key, folder in folders:
        if "://" in str(folder) and not str(folder).startswith("file:"):
            continue
        path = Path(str(folder).removeprefix("file:"))
        existing = next((p for p in (path, *path.parents) if p.exists()), path)
        try:  # a missing folder is created by the run: its nearest existing parent must take it
            fd, probe = tempfile.mkstemp(prefix=".compliance-write-check-", dir=existing)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problems.append(
                f"{key} {path} cannot be written ({exc.strerror or exc}): make it writable or "
                f"set '{key}' to another folder"
            )
    if problems:
        raise ConfigError("; ".join(problems))
