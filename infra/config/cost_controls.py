"""`platform:costControls`: off-hours scaling, the cleanup job and the stack's budget.

    platform:costControls:
      offHours:                      # staging only: refused in prod
        enabled: true
        timezone: Asia/Seoul         # IANA name; the default
        stop: "0 20 * * 1-5"         # cron: minute hour day-of-month month day-of-week, in `timezone`
        start: "0 8 * * 1-5"
        nodeGroups:                  # the sizes outside working hours; the working sizes are platform:cluster's
          workload: {minSize: 0, maxSize: 0, desiredSize: 0}
          system: {minSize: 1, maxSize: 1, desiredSize: 1}
      cleanup:
        enabled: true
        schedule: cron(0 3 * * ? *)  # EventBridge Scheduler expression, in `timezone`
        timezone: Asia/Seoul
        unattachedVolumeDays: 7
        snapshotRetentionDays: 14
        untaggedImageDays: 7
        repositoryPrefix: platform/
        delete: true                 # default: true in staging, false in prod (report only)
        logRetentionDays: 30
      budget:
        monthlyLimitUsd: 1200
        actualThresholdsPercent: [80, 100]
        forecastThresholdsPercent: [100]

Rules: off-hours in prod is an error (prod capacity never follows a clock); node group sizes satisfy
min <= desired <= max; time zones are IANA names; log retention is a value CloudWatch accepts.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

from components.budget import BudgetArgs
from components.cleanup import CleanupArgs
from components.off_hours import Sizes

from .reader import Section

NODE_GROUPS = ("system", "workload")
CRON_FIELD = r"[0-9A-Za-z*?/,#L-]+"
UNIX_CRON = rf"{CRON_FIELD}( {CRON_FIELD}){{4}}"
SCHEDULER_EXPRESSION = rf"(cron\({CRON_FIELD}( {CRON_FIELD}){{5}}\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))"
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
DEFAULT_TIMEZONE = "Asia/Seoul"


@dataclass(frozen=True)
class OffHoursSettings:
    timezone: str
    stop: str
    start: str
    groups: dict[str, Sizes] = field(default_factory=dict)


@dataclass(frozen=True)
class CostControls:
    off_hours: OffHoursSettings | None = None
    # Component args with the topic and its key left for the program to fill.
    cleanup: CleanupArgs | None = None
    budget: BudgetArgs | None = None


def _timezone(s: Section, key: str) -> str:
    value = s.string(key, DEFAULT_TIMEZONE)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        s.problem(key, "an IANA time zone name such as Asia/Seoul", value)
        return DEFAULT_TIMEZONE
    return value


def _sizes(s: Section) -> Sizes:
    sizes = Sizes(
        min_size=s.integer("minSize", 0, minimum=0, maximum=100),
        max_size=s.integer("maxSize", 0, minimum=0, maximum=100),
        desired_size=s.integer("desiredSize", 0, minimum=0, maximum=100),
    )
    if not sizes.min_size <= sizes.desired_size <= sizes.max_size:
        s.problem("desiredSize", f"minSize <= desiredSize <= maxSize ({sizes.min_size}..{sizes.max_size})",
                  sizes.desired_size)
    s.done()
    return sizes


def _off_hours(s: Section, *, prod: bool) -> OffHoursSettings | None:
    enabled = s.boolean("enabled", False)
    if prod and enabled:
        s.problem("enabled", "false in prod (prod capacity never scales down on a clock)", enabled)
    settings = OffHoursSettings(
        timezone=_timezone(s, "timezone"),
        stop=s.string("stop", "0 20 * * 1-5", pattern=UNIX_CRON, expected="a cron expression: minute hour day month weekday"),
        start=s.string("start", "0 8 * * 1-5", pattern=UNIX_CRON, expected="a cron expression: minute hour day month weekday"),
        groups={},
    )
    groups = s.named_sections("nodeGroups")
    for name, body in groups.items():
        if name not in NODE_GROUPS:
            s.problem(f"nodeGroups.{name}", f"one of {', '.join(NODE_GROUPS)}", name)
            continue
        settings.groups[name] = _sizes(body)
    if enabled and not settings.groups:
        s.problem("nodeGroups", "at least one node group's off-hours sizes when enabled", groups, quoted=True)
    s.done()
    return settings if enabled and not prod else None


def _cleanup(s: Section, *, prod: bool, stack: str, name_prefix: str, region: str) -> CleanupArgs | None:
    enabled = s.boolean("enabled", True)
    args = CleanupArgs(
        name_prefix=name_prefix,
        cluster_name=name_prefix,
        stack=stack,
        region=region,
        schedule=s.string("schedule", "cron(0 3 * * ? *)", pattern=SCHEDULER_EXPRESSION,
                          expected="an EventBridge Scheduler expression: cron(6 fields) or rate(N unit)"),
        timezone=_timezone(s, "timezone"),
        unattached_volume_days=s.integer("unattachedVolumeDays", 7, minimum=1, maximum=3650),
        snapshot_retention_days=s.integer("snapshotRetentionDays", 14, minimum=1, maximum=3650),
        untagged_image_days=s.integer("untaggedImageDays", 7, minimum=1, maximum=3650),
        repository_prefix=s.string("repositoryPrefix", "platform/", pattern=r"[a-z0-9][a-z0-9._/-]{0,255}",
                                   expected="an ECR repository name prefix"),
        delete=s.boolean("delete", not prod),
        log_retention_days=s.integer("logRetentionDays", 365 if prod else 30, minimum=1),
        protect=prod,
    )
    if args.log_retention_days not in LOG_RETENTION_DAYS:
        s.problem("logRetentionDays", f"one of CloudWatch's retention periods {LOG_RETENTION_DAYS}", args.log_retention_days)
    s.done()
    return args if enabled else None


def _budget(s: Section, *, stack: str, name_prefix: str) -> BudgetArgs | None:
    if not s.raw:
        return None
    args = BudgetArgs(
        name=f"{name_prefix}-monthly",
        monthly_limit_usd=s.integer("monthlyLimitUsd", minimum=1, maximum=10_000_000) or 1,
        actual_threshold_percents=_percents(s, "actualThresholdsPercent", (80, 100)),
        forecast_threshold_percents=_percents(s, "forecastThresholdsPercent", (100,)),
        # Counts only this stack's resources: the `stack` default tag, once activated as a cost allocation tag.
        cost_filter_tags={"stack": stack},
    )
    s.done()
    return args


def _percents(s: Section, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    return s.integers(key, default, minimum=1, maximum=1000)


def parse_cost_controls(s: Section, *, prod: bool, stack: str, name_prefix: str, region: str) -> CostControls:
    controls = CostControls(
        off_hours=_off_hours(s.section("offHours"), prod=prod),
        cleanup=_cleanup(s.section("cleanup"), prod=prod, stack=stack, name_prefix=name_prefix, region=region),
        budget=_budget(s.section("budget"), stack=stack, name_prefix=name_prefix),
    )
    s.done()
    return controls


