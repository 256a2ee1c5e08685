"""Rules shared by the stateful sections: what prod must keep on so that nothing is lost, and window formats.

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


def daily_window(s: Section, key: str, default: str) -> str:
    return s.string(key, default, pattern=DAILY_WINDOW, expected="a daily UTC window hh:mm-hh:mm")


def weekly_window(s: Section, key: str, default: str) -> str:
    return s.string(key, default, pattern=WEEKLY_WINDOW, expected="a weekly UTC window ddd:hh:mm-ddd:hh:mm")
