"""Where a report came from, and proof that nobody changed it since: ``MANIFEST.json``.

Every run's report folder gets a manifest, written last, that holds

* the SHA-256 and size of every other file in the folder;
* the run's provenance facts (product version and commit, host and user, configuration digest,
  the input files read with their own SHA-256 and counts, the Delta table versions; all times in
  UTC), given by the report job;
* the SHA-256 of the previous run's manifest (``previous``), so the manifests form a chain: a
  changed older report breaks the link from every later one.

:func:`verify_folder` recomputes the digests and names every changed, missing or added file and a
broken link to the previous run (``compliance verify-report DIR``). The manifest itself is not
signed: whoever can rewrite a folder and every later manifest can forge the chain; keeping the
latest manifest's hash elsewhere (the run log, an e-mail to the DPO) closes that.

Example:
    >>> m = write_manifest(folder, facts={"run_date": "2026-11-22"}, previous=None)
    >>> verify_folder(folder).ok
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

MANIFEST_NAME = "MANIFEST.json"
FORMAT = "compliance-report-manifest/1"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest_folder(folder: Path) -> dict[str, dict[str, Any]]:
    """``{relative posix path: {"size", "sha256"}}`` of every file under ``folder`` but the
    manifest, in path order (symlinks are followed; folders are not listed)."""
    out: dict[str, dict[str, Any]] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel != MANIFEST_NAME:
            out[rel] = {"size": p.stat().st_size, "sha256": sha256_file(p)}
    return out


def manifest_hash(folder: Path) -> str | None:
    """The SHA-256 of ``folder``'s manifest file, None when it has none."""
    m = folder / MANIFEST_NAME
    return sha256_file(m) if m.is_file() else None


def previous_run_folder(root: Path, run_date: date) -> Path | None:
    """The report folder of the latest run date before ``run_date`` under ``root``, or None."""
    earlier = []
    for p in Path(root).iterdir() if Path(root).is_dir() else ():
        try:
            day = date.fromisoformat(p.name)
        except ValueError:
            continue
        if day < run_date and p.is_dir():
            earlier.append((day, p))
    return max(earlier)[1] if earlier else None


def write_manifest(
    folder: Path, *, facts: Mapping[str, Any], previous: Path | None
) -> dict[str, Any]:
    """Write ``folder/MANIFEST.json`` over the folder's current files and return it.

    Args:
        folder: the run's report folder, complete (the manifest is the last file written).
        facts: the run's provenance (JSON-serialisable; never key material or raw ids).
        previous: the previous run's report folder, when there is one; its manifest's hash is
            recorded (a previous folder without a manifest is recorded as such).
    """
    prev: dict[str, Any] | None = None
    if previous is not None:
        prev = {"folder": previous.name, "sha256": manifest_hash(previous)}
    manifest = {
        "format": FORMAT,
        "facts": dict(facts),
        "previous": prev,
        "files": digest_folder(folder),
    }
    text = json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n"
    (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")
    return manifest


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_folder` found; ``ok`` when nothing."""

    folder: Path
    files: int = 0
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.added or self.problems)

    def lines(self) -> list[str]:
        """One line per finding (the CLI prints them)."""
        out = [f"changed: {n}" for n in self.changed]
        out += [f"missing: {n}" for n in self.missing]
        out += [f"added: {n}" for n in self.added]
        return out + list(self.problems)


def verify_folder(folder: Path) -> Verification:
    """Check ``folder`` against its manifest, and the manifest's link to the previous run's.

    The previous run's folder is looked for beside ``folder`` (reports/<date>/); when it is not
    there the link is not checked (and says so in ``problems`` only when it is there and differs).
    """
    folder = Path(folder)
    mpath = folder / MANIFEST_NAME
    if not mpath.is_file():
        return Verification(folder, problems=(f"no {MANIFEST_NAME} in {folder}",))
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        recorded: dict[str, dict[str, Any]] = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        return Verification(folder, problems=(f"{MANIFEST_NAME} is not a manifest: {exc}",))
    now = digest_folder(folder)
    changed = tuple(
        n for n in recorded if n in now and now[n]["sha256"] != recorded[n].get("sha256")
    )
    missing = tuple(n for n in recorded if n not in now)
    added = tuple(n for n in now if n not in recorded)
    problems: list[str] = []
    prev = manifest.get("previous")
    if prev and prev.get("folder"):
        other = folder.parent / str(prev["folder"])
        if other.is_dir() and other.resolve() != folder.resolve():
            got = manifest_hash(other)
            if got != prev.get("sha256"):
                problems.append(
                    f"chain: the manifest of {prev['folder']} is not the one this run recorded"
                )
    return Verification(folder, len(recorded), changed, missing, added, tuple(problems))


__all__ = [
    "MANIFEST_NAME",
    "Verification",
    "digest_folder",
    "manifest_hash",
    "previous_run_folder",
    "sha256_file",
    "verify_folder",
    "write_manifest",
]
