"""Nightly audit of the restoration log itself: keys within the window, entries that verify.

Three checks (issue 6, item 5, the cryptographic part):

* :func:`key_findings`: no key may be older than the window (``age_days >= retention_days``
  means rotation did not destroy it) and none may belong to a future day;
* :func:`verify_log`: every entry's MAC is checked on the executors under the live keys, without
  decrypting anything (no personal data is materialised by the audit);
* :func:`log_health`: per day of ``created_at``, how many entries verify, are expired or are
  tampered, and the two window violations: entries still readable past the window (a key that
  should be gone) and entries already unreadable inside it (a key lost early: restores fail).

Pure: the keys and ``today`` are passed in; nothing here reads files or the clock.

Example::

    verified = log_df.transform(verify_log(keyring.all_keys()))
    health = log_health(verified, today=today, retention_days=90)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from audits.restoration.batch import ENCRYPTED_SCHEMA, VERIFIED_SCHEMA, make_verifier
from audits.restoration.crypto import RestorationKey

__all__ = ["KeyFinding", "key_findings", "log_health", "verify_log"]


@dataclass(frozen=True)
class KeyFinding:
    """A key that breaks the retention window."""

    key_id: str
    """The key at fault."""
    check: Literal["key_past_window", "key_from_future"]
    """``key_past_window``: aged ``retention_days`` or more and not destroyed;
    ``key_from_future``: dated after ``today`` (clock or run-date error)."""
    detail: str
    """One line for the report."""


def key_findings(keys: Iterable[Any], *, retention_days: int = 90) -> list[KeyFinding]:
    """Keys that should not exist.

    Args:
        keys: objects with ``key_id`` and ``age_days`` (``jobs.secrets.keyring.Keyring.status(today)``).
        retention_days: the restoration window.

    Returns:
        One finding per offending key, in the order given.
    """
    findings = []
    for key in keys:
        if key.age_days >= retention_days:
            findings.append(
                KeyFinding(
                    key.key_id,
                    "key_past_window",
                    f"key {key.key_id} is {key.age_days} days old; keys must be destroyed at "
                    f"{retention_days} days (run 'compliance keys rotate')",
                )
            )
        elif key.age_days < 0:
            findings.append(
                KeyFinding(
                    key.key_id,
                    "key_from_future",
                    f"key {key.key_id} is dated {-key.age_days} days after the run date",
                )
            )
    return findings


def verify_log(
    keys_by_id: Mapping[str, RestorationKey],
) -> Callable[[DataFrame], DataFrame]:
    """A ``DataFrame -> DataFrame`` transformation checking every entry's MAC on the executors.

    Args:
        keys_by_id: every key that still exists (``Keyring.all_keys()``, not ``live_keys``), so
            that an entry still readable past the window shows up in :func:`log_health`; an
            entry under any other key id is ``expired``.

    Returns:
        A function mapping a ``restoration_log`` DataFrame to ``VERIFIED_SCHEMA`` rows
        (``status`` ``ok``/``expired``/``tampered`` and ``detail``), for ``df.transform``.
    """
    verifier = make_verifier(keys_by_id)

    def transform(log: DataFrame) -> DataFrame:
        return log.select(*ENCRYPTED_SCHEMA.fieldNames()).mapInArrow(verifier, VERIFIED_SCHEMA)

    return transform


def _count(condition: Column) -> Column:
    return F.sum(F.when(condition, 1).otherwise(0)).cast("long")


def log_health(verified: DataFrame, *, today: date, retention_days: int = 90) -> DataFrame:
    """Per-day counts of the verified log and its window violations.

    Args:
        verified: the output of :func:`verify_log`.
        today: the run date (injected).
        retention_days: the restoration window.

    Returns:
        DataFrame[day date, age_days int, entries long, verified long, expired long,
        tampered long, readable_past_window long, expired_within_window long], one row per
        UTC day of ``created_at``.
    """
    day = F.to_date("created_at")
    age = F.datediff(F.lit(today), day)
    past = age >= retention_days
    status = F.col("status")
    return (
        verified.select(day.alias("day"), age.alias("age_days"), status, past.alias("past"))
        .groupBy("day", "age_days")
        .agg(
            F.count(F.lit(1)).alias("entries"),
            _count(status == "ok").alias("verified"),
            _count(status == "expired").alias("expired"),
            _count(status == "tampered").alias("tampered"),
            _count((status == "ok") & F.col("past")).alias("readable_past_window"),
            _count((status == "expired") & ~F.col("past")).alias("expired_within_window"),
        )
    )
