"""`platform:alarms`: the alerts topic's subscribers and the alarm thresholds, read into `components.alarms.AlarmsArgs`.

Rules: subscribers are e-mail addresses; each threshold is an integer within a sensible range (percentages 1-100);
prod needs at least one subscriber (an alarm nobody receives protects nothing) and `protect` on the topic's key.
"""

from __future__ import annotations

from components.alarms import AlarmsArgs, AlarmThresholds

from .durability import protect_flag
from .reader import Section

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"


def _thresholds(s: Section) -> AlarmThresholds:
    d = AlarmThresholds()
    thresholds = AlarmThresholds(
        database_cpu_percent=s.integer("databaseCpuPercent", d.database_cpu_percent, minimum=1, maximum=100),
        database_free_storage_gib=s.integer("databaseFreeStorageGiB", d.database_free_storage_gib, minimum=1, maximum=65536),
        database_connections=s.integer("databaseConnections", d.database_connections, minimum=1, maximum=100_000),
        cache_cpu_percent=s.integer("cacheCpuPercent", d.cache_cpu_percent, minimum=1, maximum=100),
        cache_memory_percent=s.integer("cacheMemoryPercent", d.cache_memory_percent, minimum=1, maximum=100),
        cache_evictions=s.integer("cacheEvictions", d.cache_evictions, minimum=0),
        broker_cpu_percent=s.integer("brokerCpuPercent", d.broker_cpu_percent, minimum=1, maximum=100),
        broker_memory_used_mib=s.integer("brokerMemoryUsedMiB", d.broker_memory_used_mib, minimum=64),
        broker_disk_free_mib=s.integer("brokerDiskFreeMiB", d.broker_disk_free_mib, minimum=64),
    )
    s.done()
    return thresholds


def parse_alarms(s: Section, *, prod: bool, name_prefix: str) -> AlarmsArgs:
    emails = s.strings("emailSubscribers", (), pattern=EMAIL, expected="e-mail addresses")
    if prod and not emails:
        s.problem("emailSubscribers", "at least one address in prod (an alarm nobody receives protects nothing)", [], quoted=True)
    settings = AlarmsArgs(
        name_prefix=name_prefix,
        email_subscribers=emails,
        thresholds=_thresholds(s.section("thresholds")),
        protect=protect_flag(s, prod=prod),
    )
    s.done()
    return settings
