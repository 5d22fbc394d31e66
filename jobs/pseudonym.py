"""Pseudonymisation of data-subject ids: a keyed hash computed as soon as an id is read.

The pseudonymisation key lives in the key directory (``keys.dir``), created 0600 on first use and
never written anywhere else. Subject keys look like ``sk_<32 hex>``; the same subject always gets
the same key, so findings, anomalies and reports can be joined on it without holding the raw id.
The hashing runs on the executors in vectorised pandas batches; the key travels inside the
function's closure, never as a column or literal of a Spark plan.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from jobs.errors import ConfigError

KEY_FILE = "pseudonym.key"


class PseudonymKey:
    """The pseudonymisation key; its repr never shows the bytes."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "PseudonymKey(<redacted>)"

    __str__ = __repr__

    def subject_key(self, value: str | None) -> str | None:
        """``sk_`` + 32 hex chars of HMAC-SHA-256 over the raw id; None stays None."""
        if value is None:
            return None
        return "sk_" + hmac.new(self._secret, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def load_or_create(key_dir: str) -> PseudonymKey:
    """Read the key from ``key_dir`` or create it (directory 0700, file 0600, atomically)."""
    d = Path(key_dir)
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = d / KEY_FILE
        if not path.exists():
            tmp = d / f".{KEY_FILE}.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)  # never replaces a key another process created first
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{key_dir}: cannot use the key directory ({exc.strerror})") from None
    if len(data) != 32:
        raise ConfigError(f"{path}: pseudonymisation key file is damaged (expected 32 bytes)")
    return PseudonymKey(data)


def hasher(
    key: PseudonymKey, column: str, out: str
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function replacing ``column`` by its subject key in column ``out``."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            pdf[out] = [None if pd.isna(v) else key.subject_key(v) for v in pdf[column]]
            if out != column:
                pdf = pdf.drop(columns=[column])
            yield pdf

    return run
