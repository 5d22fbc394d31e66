"""Pseudonymisation of data-subject ids: a keyed hash computed as soon as an id is read.

The pseudonymisation key lives in the key directory (``keys.dir``), created 0600 on first use and
never written anywhere else. Subject keys look like ``sk_<32 hex>``; the same subject always gets
the same key, so findings, anomalies and reports can be joined on it without holding the raw id.
The hashing runs on the executors in vectorised pandas batches; the key travels inside the
function's closure, never as a column or literal of a Spark plan.

Unlike the restoration-log keys, this key **must be backed up**: every ``sk_`` key in the
warehouse is derived from it, and a new key would give every subject a new ``sk_``, so residual
scans would silently find nothing. :func:`pseudonym_key` (what the jobs call) therefore never
creates a key once the warehouse holds pseudonymised rows: the first key is recorded in the
product table ``pseudonym_key_check`` by its check value (an HMAC of a fixed label under the key,
which reveals nothing about the key), and a missing or different key is refused with
:class:`KeyLossError` naming the file to restore. :func:`preflight` makes the same check on the
file system before Spark starts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from jobs.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from jobs.context import JobContext

KEY_FILE = "pseudonym.key"
#: The product table holding the check value of the pseudonymisation key (one row).
CHECK_TABLE = "pseudonym_key_check"
CHECK_SCHEMA = "check_value string, recorded_at timestamp, recorded_by string"
_CHECK_LABEL = "compliance pseudonym-key check value v1"
#: Product tables whose rows carry subject keys (or entry ids) derived from the key.
PSEUDONYMISED_TABLES = (
    "deletion_requests",
    "residual_findings",
    "restoration_log",
    "purge_journal",
)


class KeyLossError(ConfigError):
    """The pseudonymisation key is missing or is not the one the warehouse was built with."""


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
        return (
            "sk_"
            + hmac.new(self._secret, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        )

    def check_value(self) -> str:
        """``kc_`` + 32 hex of HMAC-SHA-256 of a fixed label: names the key, reveals nothing."""
        mac = hmac.new(self._secret, _CHECK_LABEL.encode(), hashlib.sha256)
        return "kc_" + mac.hexdigest()[:32]


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


def existing_key(key_dir: str) -> PseudonymKey:
    """The key in ``key_dir``, never created (``compliance subject-key``, subject access).

    Raises:
        KeyLossError: one line naming the missing key file (or a damaged one: ConfigError).
    """
    path = Path(key_dir) / KEY_FILE
    if not path.is_file():
        raise KeyLossError(
            f"no pseudonymisation key at {path}: subject keys are derived with the key the "
            "warehouse was landed with (restore it from its backup, or run the landing first)"
        )
    return load_or_create(key_dir)


def hasher(
    key: PseudonymKey, column: str | Mapping[str, str], out: str | None = None
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function replacing columns by their subject keys.

    Args:
        key: the pseudonym key.
        column: the raw column, or a mapping raw column -> pseudonym column for several.
        out: the pseudonym column when ``column`` is one name.
    """
    pairs = dict(column) if isinstance(column, Mapping) else {column: out or column}

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            for raw, dest in pairs.items():
                pdf[dest] = [None if pd.isna(v) else key.subject_key(v) for v in pdf[raw]]
            gone = [raw for raw, dest in pairs.items() if raw != dest]
            yield pdf.drop(columns=gone) if gone else pdf

    return run


def keyer(key: PseudonymKey) -> Callable[[DataFrame], DataFrame]:
    """The keyed pseudonym of each value: adds ``_k`` beside ``_v``, the other columns kept
    (``audits.residual_match.Keyer``)."""

    def run(values: DataFrame) -> DataFrame:
        from pyspark.sql import functions as F  # noqa: PLC0415 - this module loads before Spark

        rows = values.drop("_k").withColumn("_k", F.col("_v").cast("string"))
        return rows.mapInPandas(hasher(key, "_k"), rows.schema)

    return run


def _restore_hint(path: Path) -> str:
    return (
        f"restore {path} from its backup (every sk_ key in the warehouse derives from it; "
        "a new key would make residual scans find nothing)"
    )


def preflight(key_dir: str, warehouse: str) -> None:
    """Before Spark starts: refuse when the key file is gone but the warehouse recorded one.

    Only local warehouses are checked here (a folder test); :func:`pseudonym_key` checks any
    warehouse through its tables.

    Raises:
        KeyLossError: ``pseudonym.key`` is missing and ``pseudonym_key_check`` exists.
    """
    path = Path(key_dir) / KEY_FILE
    if "://" in warehouse or path.exists():
        return
    if (Path(warehouse) / CHECK_TABLE / "_delta_log").is_dir():
        raise KeyLossError(
            f"{path} is missing but the warehouse {warehouse} was pseudonymised "
            f"with a key (table {CHECK_TABLE}); refusing to create a new one: "
            + _restore_hint(path)
        )


def pseudonym_key(ctx: JobContext) -> PseudonymKey:
    """The pseudonymisation key of the job context, created only on a warehouse without any use.

    Args:
        ctx: the job context (``cfg.keys.dir`` and the product ``store``).

    Returns:
        The key; on first use its check value is recorded in ``pseudonym_key_check``.

    Raises:
        KeyLossError: the key file is missing while the warehouse holds pseudonymised rows or a
            recorded check value, or the key's check value differs from the recorded one.
    """
    from datetime import UTC, datetime

    store = ctx.store
    path = Path(ctx.cfg.keys.dir) / KEY_FILE
    recorded = None
    if store.exists(CHECK_TABLE):
        row = store.read(CHECK_TABLE).orderBy("recorded_at").select("check_value").first()
        recorded = row.check_value if row is not None else None
    if not path.exists():
        if recorded is not None:
            raise KeyLossError(
                f"{path} is missing but the warehouse was pseudonymised with a key "
                f"(check value {recorded} in {CHECK_TABLE}); refusing to create a "
                "new one: " + _restore_hint(path)
            )
        for name in PSEUDONYMISED_TABLES:
            if store.exists(name) and store.read(name).limit(1).count():
                raise KeyLossError(
                    f"{path} is missing but table {name} holds rows pseudonymised "
                    "with it; refusing to create a new one: " + _restore_hint(path)
                )
    key = load_or_create(ctx.cfg.keys.dir)
    mine = key.check_value()
    if recorded is None:
        now = datetime.now(UTC).replace(tzinfo=None)
        store.append_rows(CHECK_TABLE, [(mine, now, "compliance")], CHECK_SCHEMA)
    elif recorded != mine:
        raise KeyLossError(
            f"{path} is not the key the warehouse was pseudonymised with (check "
            f"value {mine}, recorded {recorded} in {CHECK_TABLE}): " + _restore_hint(path)
        )
    return key
