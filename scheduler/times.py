"""Wall-clock times in a patient's IANA zone, turned into instants, across DST changes.

A local time that does not exist on a DST day (02:30 when clocks jump from 02:00 to 03:00)
moves to the next valid instant (03:00); one that occurs twice (clocks go back) means its
first occurrence, so a check-in fires once.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

UTC = timezone.utc


def parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def within(clock: time, start: time, end: time) -> bool:
    """Whether a time of day falls in [start, end), a window that may run past midnight (22:00-07:00)."""
    return start <= clock < end if start < end else (clock >= start or clock < end)


def instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time on a day."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two occurrences
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # The time falls in a gap: the transition itself is the next valid instant.
    earlier = int(local.replace(fold=1).astimezone(UTC).timestamp())
    later = int(moment.timestamp())
    before = _offset(earlier, zone)
    while later - earlier > 1:
        middle = (earlier + later) // 2
        if _offset(middle, zone) == before:
            earlier = middle
        else:
            later = middle
    return datetime.fromtimestamp(later, UTC)


def _offset(timestamp: int, zone: ZoneInfo) -> timedelta:
    return datetime.fromtimestamp(timestamp, zone).utcoffset()


def occurrences(
    at: time, zone: ZoneInfo, start: datetime, end: datetime, *, weekday: int | None = None, every_weeks: int = 1, anchor: date | None = None
) -> Iterator[tuple[date, datetime]]:
    """(local date, UTC instant) of each firing in (start, end]: daily, or weekly on a weekday."""
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if (weekday is None or day.weekday() == weekday) and (
            every_weeks == 1 or anchor is None or ((day - anchor).days // 7) % every_weeks == 0
        ):
            moment = instant(day, at, zone)
            if start < moment <= end:
                yield day, moment
        day += timedelta(days=1)
