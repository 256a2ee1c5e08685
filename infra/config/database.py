"""`platform:database`: the PostgreSQL instance, read into `components.database.DatabaseArgs` (placement left empty).

Rules: a PostgreSQL 14-17 version; an RDS instance class; storage 20-65536 GiB with a larger autoscaling ceiling;
backups kept 0-35 days, and in prod Multi-AZ, at least 14 days of backups, deletion protection, a final snapshot
and `protect`; Performance Insights retention 7 days or whole months; a log retention CloudWatch accepts.
"""

from __future__ import annotations

from components.database import DatabaseArgs

from .durability import daily_window, prod_requires, protect_flag, weekly_window, windows_apart
from .network import log_retention
from .reader import Section

PROD_MIN_BACKUP_DAYS = 14
RESERVED_USERNAMES = ("rdsadmin", "rdsrepladmin", "rds_superuser")


def _performance_insights_retention(s: Section, default: int) -> int:
    value = s.integer("performanceInsightsRetentionDays", default, minimum=7, maximum=731)
    if not (value == 7 or value == 731 or value % 31 == 0):
        s.problem("performanceInsightsRetentionDays", "7, a multiple of 31 up to 713, or 731", value)
        return default
    return value


def parse_database(s: Section, *, prod: bool, name_prefix: str) -> DatabaseArgs:
    d = DatabaseArgs()
    engine_version = s.string(
        "engineVersion", d.engine_version, pattern=r"1[4-7](\.[0-9]{1,2})?",
        expected="a PostgreSQL version from 14 to 17, major ('16') or major.minor ('16.6')",
    )
    instance_class = s.string(
        "instanceClass", d.instance_class, pattern=r"db\.[a-z0-9-]+\.[a-z0-9]+", expected="an RDS instance class such as db.t4g.medium"
    )
    allocated = s.integer("allocatedStorageGiB", d.allocated_storage_gib, minimum=20, maximum=65536)
    ceiling = s.integer("maxAllocatedStorageGiB", d.max_allocated_storage_gib, minimum=20, maximum=65536)
    if ceiling <= allocated:
        s.problem("maxAllocatedStorageGiB", f"more than allocatedStorageGiB ({allocated}) so that storage can grow", ceiling)

    multi_az = s.boolean("multiAz", d.multi_az)
    prod_requires(s, "multiAz", multi_az, True, prod=prod, why="a standby in another availability zone")

    before = len(s.problems)
    backups = s.integer("backupRetentionDays", d.backup_retention_days, minimum=0, maximum=35)
    if len(s.problems) == before and prod and backups < PROD_MIN_BACKUP_DAYS:
        s.problem("backupRetentionDays", f"at least {PROD_MIN_BACKUP_DAYS} days in prod", backups)
    # RDS: each window at least 30 minutes, and the backup window clear of the maintenance window.
    backup_window = daily_window(s, "backupWindow", d.backup_window, minimum_minutes=30)
    maintenance_window = weekly_window(s, "maintenanceWindow", d.maintenance_window, minimum_minutes=30)
    windows_apart(s, "backupWindow", backup_window, "maintenanceWindow", maintenance_window)

    deletion_protection = s.boolean("deletionProtection", d.deletion_protection)
    prod_requires(s, "deletionProtection", deletion_protection, True, prod=prod, why="the instance must not be deletable")
    skip_final_snapshot = s.boolean("skipFinalSnapshot", d.skip_final_snapshot)
    prod_requires(s, "skipFinalSnapshot", skip_final_snapshot, False, prod=prod, why="a final snapshot is taken on deletion")
    protect = protect_flag(s, prod=prod)

    database_name = s.string(
        "databaseName", d.database_name, pattern=r"[a-z][a-z0-9_]{0,62}", expected="a PostgreSQL database name (lower case)"
    )
    username = s.string(
        "masterUsername", d.master_username, pattern=r"[a-z][a-z0-9_]{0,15}", expected="a PostgreSQL role name of up to 16 characters"
    )
    if username in RESERVED_USERNAMES:
        s.problem("masterUsername", "a name RDS does not reserve", username)

    settings = DatabaseArgs(
        name_prefix=name_prefix,
        engine_version=engine_version,
        instance_class=instance_class,
        allocated_storage_gib=allocated,
        max_allocated_storage_gib=ceiling,
        multi_az=multi_az,
        backup_retention_days=backups,
        backup_window=backup_window,
        maintenance_window=maintenance_window,
        database_name=database_name,
        master_username=username,
        deletion_protection=deletion_protection,
        skip_final_snapshot=skip_final_snapshot,
        protect=protect,
        apply_immediately=s.boolean("applyImmediately", d.apply_immediately),
        performance_insights_retention_days=_performance_insights_retention(s, d.performance_insights_retention_days),
        log_retention_days=log_retention(s, "logRetentionDays", d.log_retention_days),
        log_min_duration_ms=s.integer("logMinDurationMs", d.log_min_duration_ms, minimum=-1, maximum=3_600_000),
    )
    s.done()
    return settings
