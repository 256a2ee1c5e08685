"""`platform:messaging`: SQS queues and the RabbitMQ broker, read into `components.messaging.MessagingArgs`.

Rules: per queue only the known settings, each within SQS's limits, the dead-letter queue keeping messages at least as
long as its source queue (SQS keeps a message's original enqueue time when it moves); the broker, when enabled,
with a major.minor RabbitMQ version of at least 3.13, an mq instance type, a deployment mode (mq.t3.micro cannot
cluster) and a valid admin user name; in prod the broker must be a multi-AZ cluster and `protect` must be on.
"""

from __future__ import annotations

from components.messaging import BrokerSpec, MessagingArgs, QueueSpec

from .durability import HOUR, protect_flag
from .reader import Section

QUEUE_NAME = r"[a-z][a-z0-9-]{0,38}[a-z0-9]|[a-z]"
DEPLOYMENT_MODES = {"single-instance": "SINGLE_INSTANCE", "cluster-multi-az": "CLUSTER_MULTI_AZ"}
WEEKDAYS = {d.lower(): d for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")}
SINGLE_ONLY_INSTANCE_TYPES = ("mq.t3.micro",)


def _queue(s: Section, name: str) -> QueueSpec:
    d = QueueSpec(name)
    retention = s.integer("retentionDays", d.retention_days, minimum=1, maximum=14)
    dead_letter_retention = s.integer("deadLetterRetentionDays", d.dead_letter_retention_days, minimum=1, maximum=14)
    if dead_letter_retention < retention:
        s.problem("deadLetterRetentionDays", f"at least retentionDays ({retention}), or failed messages expire early", dead_letter_retention)
    spec = QueueSpec(
        name=name,
        fifo=s.boolean("fifo", d.fifo),
        visibility_timeout_seconds=s.integer("visibilityTimeoutSeconds", d.visibility_timeout_seconds, minimum=0, maximum=43200),
        retention_days=retention,
        dead_letter_retention_days=dead_letter_retention,
        max_receive_count=s.integer("maxReceiveCount", d.max_receive_count, minimum=1, maximum=1000),
        receive_wait_seconds=s.integer("receiveWaitSeconds", d.receive_wait_seconds, minimum=0, maximum=20),
        delay_seconds=s.integer("delaySeconds", d.delay_seconds, minimum=0, maximum=900),
    )
    s.done()
    return spec


def _broker(s: Section, *, prod: bool) -> BrokerSpec | None:
    d = BrokerSpec()
    enabled = s.boolean("enabled", False)
    version = s.string(
        "engineVersion", d.engine_version, pattern=r"3\.13|4\.[0-9]+", expected="a RabbitMQ major.minor version of at least 3.13"
    )
    instance_type = s.string(
        "instanceType", d.instance_type, pattern=r"mq\.[a-z0-9-]+\.[a-z0-9]+", expected="an Amazon MQ instance type such as mq.m7g.large"
    )
    mode = s.choice_of("deploymentMode", d.deployment_mode, DEPLOYMENT_MODES)
    if enabled and prod and mode != "CLUSTER_MULTI_AZ":
        named = next(name for name, value in DEPLOYMENT_MODES.items() if value == mode)
        s.problem("deploymentMode", "'cluster-multi-az' in prod (three nodes across availability zones)", named)
    if mode == "CLUSTER_MULTI_AZ" and instance_type in SINGLE_ONLY_INSTANCE_TYPES:
        s.problem("instanceType", "an instance type that can form a cluster (not mq.t3.micro)", instance_type)
    username = s.string(
        "username", d.username, pattern=r"[A-Za-z0-9._~-]{2,100}", expected="2-100 letters, digits or . _ ~ -"
    )
    if username == "guest":
        s.problem("username", "any name but 'guest' (RabbitMQ reserves it)", username)
    day = s.choice_of("maintenanceDay", d.maintenance_day, WEEKDAYS)
    time = s.string("maintenanceTime", d.maintenance_time, pattern=HOUR, expected="a UTC time hh:mm")
    apply_immediately = s.boolean("applyImmediately", d.apply_immediately)
    s.done()
    if not enabled:
        return None
    return BrokerSpec(
        engine_version=version,
        instance_type=instance_type,
        deployment_mode=mode,  # type: ignore[arg-type]
        username=username,
        maintenance_day=day,
        maintenance_time=time,
        apply_immediately=apply_immediately,
    )


def parse_messaging(s: Section, *, prod: bool, name_prefix: str) -> MessagingArgs:
    protect = protect_flag(s, prod=prod)
    queues = tuple(_queue(body, name) for name, body in s.named_sections("queues", name_pattern=QUEUE_NAME).items())
    broker = _broker(s.section("rabbitmq"), prod=prod)
    s.done()
    return MessagingArgs(name_prefix=name_prefix, queues=queues, broker=broker, protect=protect)
