"""The restoration-log keyring: one key per UTC day, destroyed after the retention window.

The key of day ``D`` (id ``k-YYYYMMDD``) encrypts the restoration-log entries written on ``D``.
It is usable on days ``D … D + retention_days - 1`` and destroyed by the first rotation on or
after ``D + retention_days``, so an entry can be restored for at most ``retention_days`` days and is
unreadable afterwards, wherever copies of the ``restoration_log`` table survive (crypto-shredding).
:meth:`Keyring.live_keys` applies the same window even if a rotation was missed.

The clock is always injected: every method that needs "today" takes a ``today: date``.

:class:`FileKeyring` stores each key as a 32-byte file ``<dir>/k-YYYYMMDD.key``:

* the directory is created ``0700`` and refused (:class:`KeyDirectoryError`) when it is group- or
  world-accessible or owned by another user;
* key files are created ``0600`` from the start (``os.open(..., 0o600)``; never chmod-ed after),
  written to a temporary file, fsync-ed, moved into place with ``os.replace`` and the directory
  fsync-ed, under an exclusive ``flock`` so that two runs never create two keys for one day;
* destruction overwrites the file with random bytes, fsyncs, unlinks and fsyncs the directory.
  On copy-on-write or wear-levelled storage the overwrite is best effort; the real guarantee is
  that the key directory lives outside the warehouse and is never backed up or snapshotted (a
  backup of the keys would keep every "destroyed" entry readable).

Key bytes never appear in a repr, a log line or an exception message.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from audits.restoration.log import KEY_BYTES, RestorationKey
from jobs.errors import ComplianceError

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "FileKeyring",
    "KeyDirectoryError",
    "KeyNotFoundError",
    "KeyStatus",
    "Keyring",
    "KeyringError",
    "MemoryKeyring",
    "RotationReport",
    "key_day",
    "key_id_for",
]

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 90
_KEY_ID = re.compile(r"^k-(\d{8})$")
_KEY_FILE = re.compile(r"^(k-\d{8})\.key$")
_TMP_PREFIX = ".tmp-"


class KeyringError(ComplianceError):
    """The keyring cannot be used (corrupt key file, bad key id, I/O failure)."""


class KeyDirectoryError(KeyringError):
    """The key directory or a key file has unsafe permissions or ownership."""


class KeyNotFoundError(KeyringError):
    """The key does not exist: destroyed by rotation (entries under it are lost) or never made."""


def key_id_for(day: date) -> str:
    """The key id of a UTC day. Example: ``key_id_for(date(2026, 11, 22)) == 'k-20261122'``."""
    return f"k-{day:%Y%m%d}"


def key_day(key_id: str) -> date:
    """The day of a key id (inverse of :func:`key_id_for`).

    Raises:
        KeyringError: if the id is not ``k-YYYYMMDD`` with a real date.
    """
    match = _KEY_ID.match(key_id) if isinstance(key_id, str) else None
    try:
        if match is None:
            raise ValueError
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        raise KeyringError(f"bad key id {key_id!r}: expected 'k-YYYYMMDD'") from None


@dataclass(frozen=True)
class KeyStatus:
    """One key as ``compliance keys status`` shows it (never the key bytes)."""

    key_id: str
    """The key id, ``k-YYYYMMDD``."""
    created: date
    """The UTC day the key belongs to."""
    age_days: int
    """Whole days between ``created`` and the injected ``today``."""


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did."""

    today_key_id: str
    """The key of the rotation day (created if it was missing)."""
    created: bool
    """Whether the rotation created today's key."""
    destroyed: tuple[str, ...]
    """Keys destroyed because they reached the retention window."""
    kept: tuple[str, ...]
    """Keys still live after the rotation (including today's)."""
    retention_days: int
    """The retention window applied."""
    destroyed_ages: tuple[int, ...] = ()
    """Age in days of each key of ``destroyed`` (same order) on the rotation day."""

    def destroyed_text(self) -> str:
        """``k-20260823 (91 days old), ...`` or ``none``: ids and ages, never key bytes."""
        ages = self.destroyed_ages or (None,) * len(self.destroyed)
        parts = [
            f"{k} ({a} days old)" if a is not None else k
            for k, a in zip(self.destroyed, ages, strict=False)
        ]
        return ", ".join(parts) or "none"


class Keyring(ABC):
    """A store of daily restoration-log keys; subclasses implement the storage primitives.

    The policy (one key per day, create on first use, destroy at the retention window, status
    without key bytes) lives here; storage classes implement ``_ids``, ``_load``, ``_create``
    and ``_destroy``.
    """

    # -- storage primitives -------------------------------------------------------------------
    @abstractmethod
    def _ids(self) -> list[str]:
        """The ids of the stored keys."""

    @abstractmethod
    def _load(self, key_id: str) -> RestorationKey | None:
        """The stored key, or ``None`` if it does not exist."""

    @abstractmethod
    def _create(self, key_id: str) -> tuple[RestorationKey, bool]:
        """Create the key unless it exists (atomically); returns (key, created)."""

    @abstractmethod
    def _destroy(self, key_id: str) -> None:
        """Destroy the key irrecoverably."""

    def _sweep(self) -> None:  # noqa: B027 - optional hook
        """Destroy leftovers of interrupted writes (called by :meth:`rotate`); none by default."""

    # -- policy -------------------------------------------------------------------------------
    def key_ids(self) -> list[str]:
        """The ids of all stored keys, oldest first."""
        return sorted(self._ids())

    def get(self, key_id: str) -> RestorationKey:
        """The key with this id.

        Raises:
            KeyNotFoundError: the key was destroyed by rotation or never existed.
        """
        key_day(key_id)
        key = self._load(key_id)
        if key is None:
            raise KeyNotFoundError(
                f"key {key_id!r} does not exist (destroyed by rotation or never created): "
                "entries encrypted under it are unrecoverable"
            )
        return key

    def today_key(self, today: date) -> RestorationKey:
        """Today's key, created on first use."""
        key, created = self._create(key_id_for(today))
        if created:
            log.info("created restoration-log key %s", key.key_id)
        return key

    def live_keys(
        self, today: date, retention_days: int = DEFAULT_RETENTION_DAYS
    ) -> dict[str, RestorationKey]:
        """The keys inside the window (age ``0 … retention_days - 1``), by id, for decryption.

        A key past the window is left out even when no rotation has destroyed it yet.
        """
        live = {}
        for status in self.status(today):
            if 0 <= status.age_days < retention_days:
                key = self._load(status.key_id)
                if key is not None:
                    live[status.key_id] = key
        return live

    def all_keys(self) -> dict[str, RestorationKey]:
        """Every stored key by id, whatever its age (for the audit of the log, not for restores)."""
        return {key_id: self.get(key_id) for key_id in self.key_ids()}

    def rotate(self, today: date, retention_days: int = DEFAULT_RETENTION_DAYS) -> RotationReport:
        """Create today's key if missing and destroy every key aged ``retention_days`` or more."""
        if retention_days < 1:
            raise KeyringError(f"retention_days must be >= 1, got {retention_days}")
        today_id = key_id_for(today)
        self._sweep()
        _, created = self._create(today_id)
        destroyed, ages, kept = [], [], []
        for status in self.status(today):
            if status.age_days >= retention_days:
                self._destroy(status.key_id)
                destroyed.append(status.key_id)
                ages.append(status.age_days)
                log.info("destroyed restoration-log key %s (%d days old)", *_pair(status))
            else:
                kept.append(status.key_id)
        return RotationReport(
            today_id, created, tuple(destroyed), tuple(kept), retention_days, tuple(ages)
        )

    def status(self, today: date) -> list[KeyStatus]:
        """Key ids with their day and age in days, oldest first; never key bytes."""
        out = []
        for key_id in self.key_ids():
            day = key_day(key_id)
            out.append(KeyStatus(key_id, day, (today - day).days))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(keys={len(self._ids())})"


def _pair(status: KeyStatus) -> tuple[str, int]:
    return status.key_id, status.age_days


class MemoryKeyring(Keyring):
    """A keyring held in memory (tests, and callers that manage keys themselves)."""

    def __init__(self) -> None:
        self._keys: dict[str, RestorationKey] = {}

    def _ids(self) -> list[str]:
        return list(self._keys)

    def _load(self, key_id: str) -> RestorationKey | None:
        return self._keys.get(key_id)

    def _create(self, key_id: str) -> tuple[RestorationKey, bool]:
        key_day(key_id)
        if key_id in self._keys:
            return self._keys[key_id], False
        self._keys[key_id] = RestorationKey(key_id, os.urandom(KEY_BYTES))
        return self._keys[key_id], True

    def _destroy(self, key_id: str) -> None:
        self._keys.pop(key_id, None)


class FileKeyring(Keyring):
    """One key file per UTC day in a private directory (see the module docstring).

    Args:
        path: the key directory; it must be outside the warehouse and excluded from backups.

    Example:
        >>> ring = FileKeyring("/var/lib/compliance/keys")      # doctest: +SKIP
        >>> ring.rotate(date(2026, 11, 22)).destroyed           # doctest: +SKIP
        ('k-20260823',)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileKeyring(path={str(self.path)!r})"

    # -- directory and file checks --------------------------------------------------------------
    def _check_dir(self) -> bool:
        """Check the directory's mode and owner; False if it does not exist yet."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            raise KeyDirectoryError(f"key store {str(self.path)!r} is not a directory")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise KeyDirectoryError(
                f"key directory {str(self.path)!r} has mode {mode:04o}; expected 0700 "
                f"(run: chmod 700 {self.path})"
            )
        if st.st_uid != os.geteuid():
            raise KeyDirectoryError(
                f"key directory {str(self.path)!r} is owned by uid {st.st_uid}, "
                f"not by the current user (uid {os.geteuid()})"
            )
        return True

    def _ensure_dir(self) -> None:
        if not self._check_dir():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.mkdir(self.path, 0o700)
            except FileExistsError:
                pass
            self._check_dir()

    def _file(self, key_id: str) -> Path:
        key_day(key_id)  # validates the id: no path tricks
        return self.path / f"{key_id}.key"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _fsync_dir(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- storage primitives -------------------------------------------------------------------
    def _ids(self) -> list[str]:
        if not self._check_dir():
            return []
        return [m.group(1) for name in os.listdir(self.path) if (m := _KEY_FILE.match(name))]

    def _load(self, key_id: str) -> RestorationKey | None:
        if not self._check_dir():
            return None
        file = self._file(key_id)
        try:
            fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyringError(f"cannot open key file {str(file)!r}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            mode = stat.S_IMODE(st.st_mode)
            if mode & 0o077 or st.st_uid != os.geteuid():
                raise KeyDirectoryError(
                    f"key file {str(file)!r} has mode {mode:04o} or a foreign owner; "
                    "expected 0600 and the current user"
                )
            data = os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) != KEY_BYTES:
            raise KeyringError(
                f"key file {str(file)!r} is corrupt: {len(data)} bytes, expected {KEY_BYTES}"
            )
        return RestorationKey(key_id, data)

    def _create(self, key_id: str) -> tuple[RestorationKey, bool]:
        file = self._file(key_id)
        with self._locked():
            existing = self._load(key_id)
            if existing is not None:
                return existing, False
            material = os.urandom(KEY_BYTES)
            tmp = self.path / f"{_TMP_PREFIX}{key_id}.{os.getpid()}.{os.urandom(4).hex()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, material)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, file)
            self._fsync_dir()
            return RestorationKey(key_id, material), True

    def _destroy(self, key_id: str) -> None:
        with self._locked():
            _shred(self._file(key_id))
            self._fsync_dir()

    def _sweep(self) -> None:
        """Shred temporary files left by a crash mid-write: they hold key bytes too."""
        if not self._check_dir():
            return
        with self._locked():
            for name in os.listdir(self.path):
                if name.startswith(_TMP_PREFIX):
                    _shred(self.path / name)
                    log.info("shredded leftover temporary key file %s", name)


def _shred(file: Path) -> None:
    """Overwrite a file with random bytes, fsync, unlink."""
    try:
        fd = os.open(file, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return
    try:
        size = max(os.fstat(fd).st_size, KEY_BYTES)
        os.write(fd, os.urandom(size))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.unlink(file)
