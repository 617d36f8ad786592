"""Periods and timestamps as the sources write them.

A period is a calendar month ``YYYY-MM`` in UTC. Timestamps arrive as ISO 8601 text
(with or without a zone), as nvidia-smi's ``2026/07/14 08:12:53.353`` (never a
zone), or as Unix epoch numbers in seconds, milliseconds or nanoseconds. Everything is
converted to float epoch seconds in UTC. Text without a zone is read in the zone that
the caller gives (UTC by default), and the reader flags it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tokenbom_xl.errors import InputError

__all__ = [
    "MAX_EPOCH_SECONDS",
    "Period",
    "is_valid_epoch",
    "parse_epoch",
    "parse_period",
    "parse_timestamp",
    "parse_zone",
]

_ZONE_FORMS = (
    "give UTC, an offset from -23:59 to +23:59 such as +02:00 or -0530, "
    "or a name such as Europe/Berlin"
)
_PERIOD = re.compile(r"(\d{4})-(\d{2})")
_NVIDIA_SMI = re.compile(
    r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
)

# Epoch numbers above these are taken as milliseconds, microseconds, nanoseconds.
# 1e11 seconds is the year 5138, and 1e11 milliseconds is March 1973.
_MILLISECONDS_FROM = 1e11
_MICROSECONDS_FROM = 1e14
_NANOSECONDS_FROM = 1e17

# The first and last periods (year, month) whose neighbouring months datetime
# can represent.
_FIRST_PERIOD = (1, 2)
_LAST_PERIOD = (9999, 11)

# 10000-01-01T00:00:00Z in epoch seconds. Python's datetime, and so every time that
# the reports print, ends before it.
MAX_EPOCH_SECONDS = 253_402_300_800.0


@dataclass(frozen=True)
class Period:
    """One calendar month, as [start, end) in epoch seconds UTC."""

    label: str
    start: float
    end: float

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600.0

    def contains(self, epoch_seconds: float) -> bool:
        return self.start <= epoch_seconds < self.end


def parse_period(text: str) -> Period:
    """Parse ``YYYY-MM`` into a :class:`Period`.

    Raises:
        InputError: the text is not a year and month such as 2026-11, or the
            month before or after it is outside datetime's years 1 to 9999.
    """
    match = _PERIOD.fullmatch(text.strip())
    month = int(match.group(2)) if match else 0
    if not match or not 1 <= month <= 12:
        raise InputError(
            f"period {text!r} is invalid; give a year and month such as 2026-11"
        )
    year = int(match.group(1))
    # Both neighbouring months must exist in datetime, which covers years 1 to 9999.
    # The next month's start is the period's end, and a local time early on the
    # first day in a zone ahead of UTC falls into the month before.
    if not _FIRST_PERIOD <= (year, month) <= _LAST_PERIOD:
        raise InputError(
            f"period {text!r} is out of range; give a month from "
            f"{_FIRST_PERIOD[0]:04d}-{_FIRST_PERIOD[1]:02d} to "
            f"{_LAST_PERIOD[0]:04d}-{_LAST_PERIOD[1]:02d}, such as 2026-11"
        )
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return Period(f"{year:04d}-{month:02d}", start.timestamp(), end.timestamp())


def parse_zone(name: str) -> tzinfo:
    """Parse the zone for naive timestamps: 'UTC', an offset like '+02:00', or an IANA name.

    An offset is ``+HH:MM`` or ``+HHMM`` with hours 00 to 23 and minutes 00 to 59.

    Raises:
        InputError: the name is not one of these forms, or an offset is out of range.
    """
    if name.upper() in ("UTC", "Z"):
        return UTC
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name)
    if offset:
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if hours > 23 or minutes > 59:
            problem = (
                "its minutes are over 59" if minutes > 59 else "it is a day or more"
            )
            raise InputError(
                f"time zone offset {name!r} is invalid because {problem}; {_ZONE_FORMS}"
            )
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(timedelta(minutes=sign * (hours * 60 + minutes)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"time zone {name!r} is unknown; {_ZONE_FORMS}") from None


def is_valid_epoch(seconds: float) -> bool:
    """Return whether ``seconds`` is a time from 1970 up to the end of year 9999."""
    return math.isfinite(seconds) and 0 <= seconds < MAX_EPOCH_SECONDS


def parse_epoch(value: float) -> float | None:
    """Convert an epoch number in s, ms, us or ns (recognised by its size) to seconds.

    Returns None for a number that is not a time from 1970 to 9999, including an
    integer too large for a float.
    """
    try:
        value = float(value)
    except OverflowError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    if value >= _NANOSECONDS_FROM:
        value /= 1e9
    elif value >= _MICROSECONDS_FROM:
        value /= 1e6
    elif value >= _MILLISECONDS_FROM:
        value /= 1e3
    return value if is_valid_epoch(value) else None


def parse_timestamp(text: str, zone: tzinfo = UTC) -> tuple[float, bool] | None:
    """Parse one timestamp into (epoch seconds UTC, had_zone), or None if unreadable.

    Accepts ISO 8601 (``2026-11-03T10:00:00Z``, ``2026-11-03 10:00:00+01:00``),
    nvidia-smi's ``2026/11/03 10:00:00.123`` and epoch numbers written as text.
    """
    text = text.strip()
    if not text:
        return None
    match = _NVIDIA_SMI.fullmatch(text)
    if match:
        year, month, day, hour, minute, second = (
            int(part) for part in match.groups()[:6]
        )
        fraction = int((match.group(7) or "0").ljust(6, "0"))
        try:
            moment = datetime(
                year, month, day, hour, minute, second, fraction, tzinfo=zone
            )
        except ValueError:
            return None
        return moment.timestamp(), False
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        epoch = parse_epoch(number)
        return (epoch, True) if epoch is not None else None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone).timestamp(), False
    return moment.timestamp(), True
