"""Restoration-log cryptography: encrypt-then-MAC entries whose keys expire (DELF §5.3).

A purge writes every row it removes to the ``restoration_log`` Delta table as an encrypted entry,
so that a mistaken deletion can be undone while the day's key lives, and the entry becomes
unreadable once the key is destroyed (by default 90 days after it was created), even where old
copies of the table survive in Delta's history or in backups (crypto-shredding).

Scheme (version 1):

* the day's key (32 random bytes, held by a :class:`RestorationKey`) is never used directly:
  HKDF-SHA-256 derives a separate AES-256 encryption key and an HMAC-SHA-256 key from it, with the
  key id in the HKDF ``info`` so that a key is bound to its id;
* the plaintext is the removed row as sorted-key JSON (:func:`serialize_row`), PKCS7-padded and
  encrypted with AES-256-CBC under a fresh random 16-byte IV per entry;
* the MAC is HMAC-SHA-256 over the version byte, then the key id, the IV and the ciphertext
  (each prefixed with its 4-byte big-endian length), then the associated data: the sorted-key
  JSON of the entry id, deletion id, table and ``created_at`` (integer microseconds since the
  Unix epoch, UTC), see :func:`associated_data`. Moving a MAC to another entry, re-labelling an
  entry with another key id, or changing its deletion id, table or timestamp breaks verification;
* decryption verifies the MAC first (constant time, through ``cryptography``'s ``verify``) and
  only then decrypts and unpads; on any failure it raises :class:`RestorationLogError` naming the
  entry and the reason, and never returns plaintext.

This module is pure: it never reads files, the clock or the environment. It draws IVs from
``os.urandom`` unless an ``iv_source`` is given. Keys come from a keyring (``jobs.secrets.keyring``).
The vectorised Arrow batch functions for Spark ``mapInArrow`` (``make_encryptor``,
``make_decryptor``, ``make_verifier`` and their schemas) live in :mod:`audits.restoration.batch`
and are re-exported here; the key and the seal/open primitives live in
:mod:`audits.restoration.crypto`; the nightly audit of the log in :mod:`audits.restoration.log_checks`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from audits.restoration.crypto import (
    IV_BYTES,
    KEY_BYTES,
    MAC_BYTES,
    NOT_UTF8,
    InvalidKeyError,
    RestorationKey,
    RestorationLogError,
    _open,
    _seal,
    _SubKeys,
    associated_data,
)

__all__ = [
    "IV_BYTES",
    "KEY_BYTES",
    "MAC_BYTES",
    "EncryptedEntry",
    "InvalidKeyError",
    "RestorationKey",
    "RestorationLogError",
    "RestorationRecord",
    "associated_data",
    "decrypt_entry",
    "encrypt_entry",
    "serialize_row",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class RestorationRecord:
    """A removed row before encryption / after decryption."""

    entry_id: str
    """Unique id of the entry (deterministic in the purge job, e.g. a hash of table and row)."""
    deletion_id: str | None
    """The deletion (or pseudonymous subject key) whose purge removed the row."""
    table: str
    """Fully qualified name of the table the row was removed from."""
    created_at: datetime
    """When the entry was written (UTC); its day selects the key."""
    row_json: str = field(repr=False)
    """The removed row as sorted-key JSON (:func:`serialize_row`). Personal data: never shown."""


@dataclass(frozen=True)
class EncryptedEntry:
    """One row of the ``restoration_log`` table (DESIGN.md §5) plus the source ``table``."""

    entry_id: str
    """Unique id of the entry."""
    deletion_id: str | None
    """The deletion whose purge removed the row (authenticated, not encrypted)."""
    table: str
    """The table the row came from (authenticated, not encrypted)."""
    created_at: datetime
    """When the entry was written, UTC (authenticated, microsecond precision)."""
    key_id: str
    """Id of the day's key the entry is encrypted under (authenticated)."""
    iv: bytes = field(repr=False)
    """The random 16-byte AES-CBC initialisation vector."""
    ciphertext: bytes = field(repr=False)
    """AES-256-CBC ciphertext of the PKCS7-padded row JSON."""
    mac: bytes = field(repr=False)
    """HMAC-SHA-256 over version, key id, IV, associated data and ciphertext."""


def to_micros(ts: datetime) -> int:
    """Microseconds since the Unix epoch of a timestamp; a naive timestamp is taken as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot serialise a {type(value).__name__} in a restoration-log row")


def serialize_row(row: Mapping[str, Any]) -> str:
    """Deterministic JSON of a removed row: sorted keys, compact, UTF-8 text.

    Dates and timestamps become ISO-8601 strings, decimals strings, bytes base64; the restore
    casts them back with the target table's schema. In Spark the same form is
    ``to_json(struct(*sorted(columns)))``.

    Example:
        >>> serialize_row({"b": 1, "a": "x"})
        '{"a":"x","b":1}'
    """
    return json.dumps(
        dict(row), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def encrypt_entry(
    record: RestorationRecord,
    key: RestorationKey,
    *,
    iv_source: Callable[[int], bytes] = os.urandom,
) -> EncryptedEntry:
    """Encrypt and authenticate one removed row under the day's key.

    Args:
        record: the row and its entry metadata.
        key: the key of the day the entry is written (its id is stored in the entry).
        iv_source: ``n -> n random bytes``; ``os.urandom`` unless a test injects one.

    Returns:
        The entry as stored in ``restoration_log``.

    Example:
        >>> key = RestorationKey("k-20261122", bytes(range(32)))
        >>> rec = RestorationRecord("e1", "d1", "crm.customers",
        ...                         datetime(2026, 11, 22, tzinfo=timezone.utc), '{"id":1}')
        >>> decrypt_entry(encrypt_entry(rec, key), key).row_json
        '{"id":1}'
    """
    if record.entry_id is None or record.row_json is None:
        raise RestorationLogError(
            record.entry_id, "truncated", "entry_id and row_json are required"
        )
    iv = iv_source(IV_BYTES)
    if len(iv) != IV_BYTES:
        raise RestorationLogError(record.entry_id, "truncated", "iv_source returned a bad length")
    created_us = to_micros(record.created_at)
    ad = associated_data(record.entry_id, record.deletion_id, record.table, created_us)
    ciphertext, mac = _seal(_SubKeys(key), ad, record.row_json.encode("utf-8"), iv)
    return EncryptedEntry(
        entry_id=record.entry_id,
        deletion_id=record.deletion_id,
        table=record.table,
        created_at=record.created_at,
        key_id=key.key_id,
        iv=iv,
        ciphertext=ciphertext,
        mac=mac,
    )


def decrypt_entry(
    entry: EncryptedEntry, keys: RestorationKey | Mapping[str, RestorationKey]
) -> RestorationRecord:
    """Verify and decrypt one entry.

    Args:
        entry: a row of ``restoration_log``.
        keys: the entry's key, or the live keys by id (a keyring's ``live_keys``).

    Returns:
        The decrypted record.

    Raises:
        RestorationLogError: ``expired`` when the entry's key is not among ``keys``,
            ``wrong_key`` when a single key with another id is given, ``truncated`` or
            ``tampered`` when the entry does not verify. No plaintext is ever returned then.
    """
    if isinstance(keys, RestorationKey):
        if keys.key_id != entry.key_id:
            raise RestorationLogError(
                entry.entry_id,
                "wrong_key",
                f"entry is encrypted under key {entry.key_id!r}, not {keys.key_id!r}",
            )
        key = keys
    else:
        found = keys.get(entry.key_id)
        if found is None:
            raise RestorationLogError(
                entry.entry_id,
                "expired",
                f"key {entry.key_id!r} no longer exists (destroyed by rotation): unrecoverable",
            )
        key = found
    created_us = to_micros(entry.created_at)
    ad = associated_data(entry.entry_id, entry.deletion_id, entry.table, created_us)
    reason, result = _open(_SubKeys(key), ad, entry.iv, entry.ciphertext, entry.mac)
    if reason is not None:
        raise RestorationLogError(entry.entry_id, reason, result)
    try:
        row_json = result.decode("utf-8")
    except UnicodeDecodeError:
        raise RestorationLogError(entry.entry_id, "tampered", NOT_UTF8) from None
    return RestorationRecord(
        entry_id=entry.entry_id,
        deletion_id=entry.deletion_id,
        table=entry.table,
        created_at=entry.created_at,
        row_json=row_json,
    )
