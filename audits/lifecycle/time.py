"""Small time helpers shared by the deletion audits (lifecycle, retention, residual scans).

All audit arithmetic is done on microseconds since the Unix epoch (``unix_micros``) so that it is
exact and independent of the Spark session time zone; only the rendering of timestamps in
human-readable ``detail`` strings uses ``date_format`` (the product's sessions run in UTC).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from pyspark.sql import Column
from pyspark.sql import functions as F

from core.errors import ConfigError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND

#: ``1h``, ``30d``, ``90 min``, ``1 week``, ``interval 168 hours`` (Delta's property syntax) ...
_DURATION = re.compile(
    r"^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*"
    r"(us|microseconds?|ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?|"
    r"w|weeks?)\s*$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "us": 1e-6,
    "microsecond": 1e-6,
    "microseconds": 1e-6,
    "ms": 1e-3,
    "millisecond": 1e-3,
    "milliseconds": 1e-3,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}


class DurationError(ConfigError):
    """A duration setting (``1h``, ``30d``, ``interval 7 days``) cannot be parsed."""


def parse_duration(value: timedelta | int | float | str, *, name: str = "duration") -> timedelta:
    """Parse a duration given as a timedelta, a number of seconds, or text like ``24h``/``30 days``.

    Args:
        value: the setting's value.
        name: the setting's name, used in the error message.

    Returns:
        The duration as a ``timedelta``.

    Raises:
        DurationError: the value is negative or not a recognised duration.

    Example:
        >>> parse_duration("interval 1 week")
        datetime.timedelta(days=7)
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, bool):
        raise DurationError(f"{name}: expected a duration like '24h' or '30d', got {value!r}")
    elif isinstance(value, (int, float)):
        result = timedelta(seconds=value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        result = timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])
    else:
        raise DurationError(f"{name}: expected a duration like '24h' or '30d', got {value!r}")
    if result < timedelta(0):
        raise DurationError(f"{name}: a duration cannot be negative, got {value!r}")
    return result


def to_utc(moment: datetime | date) -> datetime:
    """Return ``moment`` as an aware UTC datetime (a naive datetime is taken to be UTC already)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def to_micros(moment: datetime | date) -> int:
    """Microseconds since the epoch of a (UTC or naive-as-UTC) datetime."""
    return (to_utc(moment) - _EPOCH) // timedelta(microseconds=1)


def micros(delta: timedelta) -> int:
    """A timedelta in whole microseconds."""
    return delta // timedelta(microseconds=1)


def micros_lit(moment: datetime | date) -> Column:
    """A literal Column holding ``moment`` as microseconds since the epoch (long)."""
    return F.lit(to_micros(moment)).cast("long")


def ts_lit(moment: datetime | date) -> Column:
    """A literal timestamp Column for ``moment``, independent of the session time zone."""
    return F.timestamp_micros(micros_lit(moment))


def fmt_micros(col: Column) -> Column:
    """Render a microseconds-since-epoch Column as ``yyyy-MM-ddTHH:mm:ssZ`` (UTC sessions)."""
    return F.date_format(F.timestamp_micros(col), "yyyy-MM-dd'T'HH:mm:ss'Z'")


def fmt_duration(delta: timedelta) -> str:
    """Render a threshold for a detail string: ``1h``, ``30d``, ``90m``, ``45s``, ``1d 2h``."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)
