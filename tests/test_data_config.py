"""Config rules of the data-store sections: each bad value is refused before any resource, naming its key path, what
was expected and what was found."""

from __future__ import annotations

import pytest

from infra.offline import engine
from infra.config import load_stack_config

from .conftest import change, config_error, single


@pytest.mark.parametrize(
    "stack, section, key, value, path, expected, found",
    [
        # The named rules.
        ("prod", "database", "multiAz", False, "platform:database.multiAz", "true in prod", "false"),
        ("prod", "database", "deletionProtection", False, "platform:database.deletionProtection", "true in prod", "false"),
        ("staging", "database", "backupRetentionDays", 36, "platform:database.backupRetentionDays", "from 0 to 35", "36"),
        ("staging", "database", "backupRetentionDays", -1, "platform:database.backupRetentionDays", "from 0 to 35", "-1"),
        ("prod", "database", "backupRetentionDays", 7, "platform:database.backupRetentionDays", "at least 14 days in prod", "7"),
        ("staging", "storage", "buckets.uploads.versioning", False, "platform:storage.buckets.uploads.versioning", "known keys", "unknown key 'versioning'"),
        ("prod", "messaging", "queues.jobs.retentionHours", 3, "platform:messaging.queues.jobs.retentionHours", "known keys", "unknown key 'retentionHours'"),
        # The rest of nothing-lost in prod.
        ("prod", "database", "skipFinalSnapshot", True, "platform:database.skipFinalSnapshot", "false in prod", "true"),
        ("prod", "database", "protect", False, "platform:database.protect", "true in prod", "false"),
        ("prod", "cache", "multiAz", False, "platform:cache.multiAz", "true in prod", "false"),
        ("prod", "cache", "protect", False, "platform:cache.protect", "true in prod", "false"),
        ("prod", "cache", "snapshotRetentionDays", 0, "platform:cache.snapshotRetentionDays", "at least 1 day in prod", "0"),
        ("prod", "storage", "forceDestroy", True, "platform:storage.forceDestroy", "false in prod", "true"),
        ("prod", "storage", "protect", False, "platform:storage.protect", "true in prod", "false"),
        ("prod", "messaging", "protect", False, "platform:messaging.protect", "true in prod", "false"),
        ("prod", "messaging", "rabbitmq.deploymentMode", "single-instance", "platform:messaging.rabbitmq.deploymentMode", "'cluster-multi-az' in prod", "single-instance"),
        ("prod", "secrets", "recoveryWindowDays", 0, "platform:secrets.recoveryWindowDays", "7 to 30 days in prod", "0"),
        ("prod", "alarms", "emailSubscribers", [], "platform:alarms.emailSubscribers", "at least one address in prod", "a list of 0"),
        # Shapes and ranges.
        ("staging", "database", "engineVersion", "12", "platform:database.engineVersion", "from 14 to 17", "'12'"),
        ("staging", "database", "engineVersion", 16, "platform:database.engineVersion", "PostgreSQL version", "16"),
        ("staging", "database", "instanceClass", "t4g.medium", "platform:database.instanceClass", "RDS instance class", "'t4g.medium'"),
        ("staging", "database", "maxAllocatedStorageGiB", 20, "platform:database.maxAllocatedStorageGiB", "more than allocatedStorageGiB (20)", "20"),
        ("staging", "database", "backupWindow", "2am", "platform:database.backupWindow", "hh:mm-hh:mm", "'2am'"),
        ("staging", "database", "maintenanceWindow", "sun:25:00-sun:26:00", "platform:database.maintenanceWindow", "ddd:hh:mm", "'sun:25:00-sun:26:00'"),
        ("staging", "database", "masterUsername", "rdsadmin", "platform:database.masterUsername", "RDS does not reserve", "'rdsadmin'"),
        ("staging", "database", "performanceInsightsRetentionDays", 30, "platform:database.performanceInsightsRetentionDays", "multiple of 31", "30"),
        ("staging", "database", "logRetentionDays", 10, "platform:database.logRetentionDays", "retention period", "10"),
        ("staging", "database", "password", "hunter2", "platform:database.password", "known keys", "unknown key 'password'"),
        ("staging", "cache", "engine", "memcached", "platform:cache.engine", "'valkey', 'redis'", "'memcached'"),
        ("staging", "cache", "engineVersion", "6.2", "platform:cache.engineVersion", "valkey version ElastiCache offers", "'6.2'"),
        ("staging", "cache", "multiAz", True, "platform:cache.nodes", "at least 2 nodes when multiAz", "1"),
        ("staging", "cache", "nodes", 7, "platform:cache.nodes", "from 1 to 6", "7"),
        ("staging", "storage", "accessLogBucket", "logs", "platform:storage.accessLogBucket", "one of the declared buckets", "'logs'"),
        ("staging", "storage", "buckets.uploads.noncurrentVersionDays", 0, "platform:storage.buckets.uploads.noncurrentVersionDays", "from 1 to 3650", "0"),
        ("staging", "storage", "buckets.access-logs.intelligentTieringAfterDays", 60, "platform:storage.buckets.access-logs.intelligentTieringAfterDays", "fewer days than expireAfterDays (30)", "60"),
        ("staging", "storage", "buckets", {"access-logs": {}}, "platform:storage.buckets", "at least one bucket besides the access-log bucket", "access-logs"),
        ("staging", "storage", "buckets.Uploads", {}, "platform:storage.buckets", "names matching", "'Uploads'"),
        ("staging", "messaging", "queues.jobs.retentionDays", 15, "platform:messaging.queues.jobs.retentionDays", "from 1 to 14", "15"),
        ("staging", "messaging", "queues.jobs.deadLetterRetentionDays", 2, "platform:messaging.queues.jobs.deadLetterRetentionDays", "at least retentionDays (4)", "2"),
        ("staging", "messaging", "queues.jobs.visibilityTimeoutSeconds", "2m", "platform:messaging.queues.jobs.visibilityTimeoutSeconds", "an integer", "'2m'"),
        ("staging", "messaging", "rabbitmq.engineVersion", "3.12", "platform:messaging.rabbitmq.engineVersion", "at least 3.13", "'3.12'"),
        ("staging", "messaging", "rabbitmq.deploymentMode", "cluster-multi-az", "platform:messaging.rabbitmq.instanceType", "can form a cluster", "'mq.t3.micro'"),
        ("staging", "messaging", "rabbitmq.username", "guest", "platform:messaging.rabbitmq.username", "any name but 'guest'", "'guest'"),
        ("staging", "messaging", "rabbitmq.publiclyAccessible", True, "platform:messaging.rabbitmq.publiclyAccessible", "known keys", "unknown key"),
        ("staging", "secrets", "recoveryWindowDays", 3, "platform:secrets.recoveryWindowDays", "0 (delete at once) or 7 to 30", "3"),
        ("staging", "alarms", "emailSubscribers", ["oncall"], "platform:alarms.emailSubscribers[0]", "a string matching", "'oncall'"),
        ("staging", "alarms", "thresholds.databaseCpuPercent", 120, "platform:alarms.thresholds.databaseCpuPercent", "from 1 to 100", "120"),
        ("staging", "alarms", "thresholds.rdsCpu", 80, "platform:alarms.thresholds.rdsCpu", "known keys", "unknown key 'rdsCpu'"),
    ],
)
def test_rule(stack, section, key, value, path, expected, found):
    problem = single(config_error(stack, change(section, key, value)), path)
    assert expected in problem.expected, str(problem)
    assert found in problem.found, str(problem)


def test_unknown_bucket_and_queue_settings_are_named_with_the_known_ones():
    def mutate(config):
        config["platform:storage"]["buckets"]["uploads"]["publicRead"] = True
        config["platform:messaging"]["queues"]["jobs"]["fifoQueue"] = True

    error = config_error("staging", mutate)
    bucket = single(error, "platform:storage.buckets.uploads.publicRead")
    queue = single(error, "platform:messaging.queues.jobs.fifoQueue")
    assert "noncurrentVersionDays" in bucket.expected and "maxReceiveCount" in queue.expected
    assert "platform:storage.buckets.uploads.publicRead: expected one of the known keys" in str(error)


def test_every_problem_is_reported_at_once():
    def mutate(config):
        config["platform:database"].update(multiAz=False, deletionProtection=False, backupRetentionDays=40)
        config["platform:cache"]["multiAz"] = False

    error = config_error("prod", mutate)
    assert {"platform:database.multiAz", "platform:database.deletionProtection", "platform:database.backupRetentionDays",
            "platform:cache.multiAz"} <= error.paths()


def test_a_bad_section_stops_the_program_before_any_resource():
    from .conftest import run_mutated

    with pytest.raises(Exception) as caught:
        run_mutated("prod", change("database", "multiAz", False))
    assert "platform:database.multiAz" in str(caught.value)


def test_missing_sections_fall_back_to_the_safe_defaults():
    raw = engine.stack_config("prod")
    for section in ("database", "cache", "storage", "messaging", "secrets"):
        raw.pop(f"platform:{section}")
    # The service catalogue uses the stack's queues; without them it is (rightly) a config error of its own.
    raw.pop("platform:services")
    raw.pop("platform:serviceOverrides")
    cfg = load_stack_config("prod", engine._encode(raw))
    assert cfg.database.multi_az and cfg.database.deletion_protection and cfg.database.protect
    assert not cfg.database.skip_final_snapshot and cfg.database.backup_retention_days >= 14
    assert cfg.cache.multi_az and cfg.cache.protect and cfg.storage.protect and not cfg.storage.force_destroy
    assert cfg.messaging.broker is None and cfg.messaging.queues == ()
    assert cfg.secrets.recovery_window_days == 30
