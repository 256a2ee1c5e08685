"""Rules shared by the stateful sections: what prod must keep on so that nothing is lost, and their windows.

Windows are UTC: a daily one (`hh:mm-hh:mm`, backups and snapshots) runs every day, a weekly one
(`ddd:hh:mm-ddd:hh:mm`, maintenance) once a week; either may run past midnight or the week's end. RDS and ElastiCache
refuse a daily window that overlaps the maintenance window, and windows shorter than their minimum.

Staging may switch deletion protection, final snapshots and `protect` off, but only by saying so in its stack file;
prod saying so is a configuration error naming the key.
"""

from __future__ import annotations

from typing import Any

from .reader import Section, show

HOUR = r"([01][0-9]|2[0-3]):[0-5][0-9]"
DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
# `hh:mm-hh:mm` (UTC), as RDS backup and ElastiCache snapshot windows take it.
DAILY_WINDOW = rf"{HOUR}-{HOUR}"
# `ddd:hh:mm-ddd:hh:mm` (UTC), as RDS and ElastiCache maintenance windows take it.
WEEKLY_WINDOW = rf"{DAY}:{HOUR}-{DAY}:{HOUR}"


def prod_requires(s: Section, key: str, value: Any, wanted: Any, *, prod: bool, why: str) -> None:
    if prod and value != wanted:
        s.problem(key, f"{show(wanted)} in prod ({why})", value)


def protect_flag(s: Section, *, prod: bool) -> bool:
    """`protect`: Pulumi refuses to delete the section's stateful resources while it is on."""
    protect = s.boolean("protect", True)
    prod_requires(s, "protect", protect, True, prod=prod, why="Pulumi must refuse to delete stateful resources")
    return protect


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _span(start: int, end: int, period: int) -> tuple[int, int]:
    """[start, end) in minutes, with the end past the period's wrap moved into the next period."""
    return start, end if end > start else end + period


def daily_window(s: Section, key: str, default: str, *, minimum_minutes: int) -> str:
    before = len(s.problems)
    window = s.string(key, default, pattern=DAILY_WINDOW, expected="a daily UTC window hh:mm-hh:mm")
    if len(s.problems) == before:
        start, end = _span(*(_minutes(part) for part in window.split("-")), DAY_MINUTES)
        if end - start < minimum_minutes:
            s.problem(key, f"a window of at least {minimum_minutes} minutes", window)
            return default
    return window


def weekly_window(s: Section, key: str, default: str, *, minimum_minutes: int) -> str:
    before = len(s.problems)
    window = s.string(key, default, pattern=WEEKLY_WINDOW, expected="a weekly UTC window ddd:hh:mm-ddd:hh:mm")
    if len(s.problems) == before:
        start, end = _weekly_span(window)
        if end - start < minimum_minutes:
            s.problem(key, f"a window of at least {minimum_minutes} minutes", window)
            return default
    return window


def _weekly_span(window: str) -> tuple[int, int]:
    def at(part: str) -> int:
        day, hhmm = part[:3], part[4:]
        return DAYS.index(day) * DAY_MINUTES + _minutes(hhmm)

    first, second = window.split("-")
    return _span(at(first), at(second), WEEK_MINUTES)


def windows_apart(s: Section, daily_key: str, daily: str, weekly_key: str, weekly: str) -> None:
    """The daily window, on each of the week's days, must not overlap the weekly maintenance window."""
    day_start, day_end = _span(*(_minutes(part) for part in daily.split("-")), DAY_MINUTES)
    week_start, week_end = _weekly_span(weekly)
    for day in range(-1, 8):  # a window past midnight on the week's last day overlaps the next week's first
        start, end = day * DAY_MINUTES + day_start, day * DAY_MINUTES + day_end
        for shift in (-WEEK_MINUTES, 0, WEEK_MINUTES):
            if start < week_end + shift and week_start + shift < end:
                s.problem(daily_key, f"a window that does not overlap {s.key_path(weekly_key)} ({weekly})", daily)
                return
