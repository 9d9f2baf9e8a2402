"""Opening hours (`HANDOFF_HOURS`, `HANDOFF_TZ`): when agents are expected to answer.

Outside them a queued visitor is offered the offline form (docs/protocol.md,
STATUS `offline`). The format is small on purpose, one line in an
environment variable:

    ""                                    always open
    "mon-fri 09:00-17:00"                 weekdays, nine to five
    "mon-fri 09:00-17:00; sat 10:00-14:00"
    "mon-fri 09:00-12:30, 13:30-17:00"    several ranges on the same days
    "mon,wed,fri 08:00-12:00"             a list of days
    "fri-mon 10:00-16:00"                 a day range may wrap past Sunday
    "daily 22:00-06:00"                   overnight: open Mon 22:00 to Tue 06:00, and so on
    "sun 00:00-24:00"                     the whole day

Times are wall-clock times in the given IANA time zone (so a shift stays
09:00-17:00 across daylight-saving changes). A range includes its start and
excludes its end. An overnight range belongs to the day it starts on:
"fri 22:00-06:00" is open early Saturday, not early Friday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import List, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALL_DAYS = ("daily", "*")
MINUTES_PER_DAY = 24 * 60
SECONDS_PER_WEEK = 7 * MINUTES_PER_DAY * 60
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_RANGE = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")


@dataclass(frozen=True)
class OpeningHours:
    """Parsed opening hours; build with `parse_hours`.

    `intervals` are (start, end) seconds since Monday 00:00 local time, with
    end possibly past the end of the week (Sunday overnight), and empty when
    always open.
    """

    spec: str
    timezone: ZoneInfo
    intervals: Tuple[Tuple[int, int], ...]

    @property
    def always_open(self) -> bool:
        return not self.intervals

    def is_open(self, at: datetime) -> bool:
        """Whether `at` (timezone-aware) falls inside the opening hours."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("is_open needs a timezone-aware datetime (naive times are ambiguous)")
        if self.always_open:
            return True
        local = at.astimezone(self.timezone)
        second = (local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute) * 60 + local.second
        for start, end in self.intervals:
            # The second check catches the part of a Sunday-overnight range that
            # falls early on Monday (the start of the week).
            if start <= second < end or start <= second + SECONDS_PER_WEEK < end:
                return True
        return False


def _fail(spec: str, problem: str) -> ValueError:
    return ValueError(f"opening hours {spec!r}: {problem}")


def _day(spec: str, name: str) -> int:
    try:
        return DAYS.index(name)
    except ValueError:
        raise _fail(spec, f"unknown day {name!r} (use {', '.join(DAYS)} or daily)") from None


def _days(spec: str, text: str) -> List[int]:
    days: List[int] = []
    for part in text.split(","):
        part = part.strip()
        if part in _ALL_DAYS:
            days.extend(range(7))
        elif "-" in part:
            first_name, _, last_name = part.partition("-")
            first, last = _day(spec, first_name.strip()), _day(spec, last_name.strip())
            days.extend((first + offset) % 7 for offset in range((last - first) % 7 + 1))
        else:
            days.append(_day(spec, part))
    return days


def _minutes(spec: str, text: str) -> int:
    match = _TIME.fullmatch(text)
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not (0 <= hours <= 24 and 0 <= minutes <= 59) or (hours == 24 and minutes):
        raise _fail(spec, f"bad time {text!r} (use HH:MM, 00:00 to 24:00)")
    return hours * 60 + minutes


def parse_hours(spec: str, tz: str = "UTC") -> OpeningHours:
    """Parse `spec` (see the module docstring) in time zone `tz`; ValueError if either is bad."""
    if not isinstance(spec, str):
        raise TypeError("opening hours must be a string")
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name such as Asia/Dhaka or UTC)") from None
    intervals: List[Tuple[int, int]] = []
    clauses = [clause.strip() for clause in spec.lower().split(";")]
    if any(clauses) and not all(clauses):
        raise _fail(spec, "empty clause (clauses are separated by ';')")
    for clause in filter(None, clauses):
        first_range = _RANGE.search(clause)
        if first_range is None:
            raise _fail(spec, f"{clause!r} has no time range (expected e.g. 'mon-fri 09:00-17:00')")
        day_text, ranges_text = clause[: first_range.start()].strip(), clause[first_range.start() :]
        if not day_text:
            raise _fail(spec, f"{clause!r} names no days (expected e.g. 'mon-fri 09:00-17:00')")
        days = _days(spec, day_text)
        ranges = [part.strip() for part in ranges_text.split(",")]
        for part in ranges:
            match = _RANGE.fullmatch(part)
            if match is None:
                raise _fail(spec, f"bad time range {part!r} (expected HH:MM-HH:MM)")
            start, end = _minutes(spec, match.group(1)), _minutes(spec, match.group(2))
            if start == end:
                raise _fail(spec, f"empty time range {part!r} (for a whole day use 00:00-24:00)")
            if start == MINUTES_PER_DAY:
                raise _fail(spec, f"time range {part!r} starts at 24:00 (use 00:00)")
            if end < start:
                end += MINUTES_PER_DAY  # overnight: ends on the next day
            for day in days:
                base = day * MINUTES_PER_DAY
                intervals.append(((base + start) * 60, (base + end) * 60))
    return OpeningHours(spec=spec, timezone=zone, intervals=tuple(sorted(set(intervals))))
