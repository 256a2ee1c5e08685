"""CloudWatch alarms for the data stores, published to a KMS-encrypted SNS alerts topic.

The topic is encrypted with its own customer-managed key, whose policy lets CloudWatch and AWS Budgets (for this account
only) use it; the topic policy lets both publish and refuses non-TLS publishing. Alarms notify on ALARM and on OK.

- Database: CPU, free storage, connections.
- Cache: engine CPU, memory used, evictions, for each node.
- Each dead-letter queue: any visible message at all means a message failed `maxReceiveCount` times.
- RabbitMQ broker health: the highest CPU, the highest memory use and the lowest free disk across its nodes
  (Metrics Insights queries, since node names are not known in advance); a broker that stops reporting is unhealthy.

Inputs (`AlarmsArgs`): thresholds (`AlarmThresholds`), e-mail subscribers, `protect` (the topic's key); targets set
by the program: `database_instance_id`, `cache_cluster_ids`, `dead_letter_queues` (logical name -> queue name),
`broker_name`. A target left empty gets no alarms.
Outputs: `topic_arn`, `kms_key_arn`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .kms import EncryptionKey, KeyArgs

GIB = 1024**3
MIB = 1024**2
PERIOD = 300


@dataclass(frozen=True)
class AlarmThresholds:
    database_cpu_percent: int = 80
    database_free_storage_gib: int = 10
    database_connections: int = 400
    cache_cpu_percent: int = 75
    cache_memory_percent: int = 80
    cache_evictions: int = 0
    broker_cpu_percent: int = 85
    broker_memory_used_mib: int = 2048
    broker_disk_free_mib: int = 5120


@dataclass(frozen=True)
class AlarmsArgs:
    name_prefix: str = "platform"
    email_subscribers: tuple[str, ...] = ()
    thresholds: AlarmThresholds = AlarmThresholds()
    protect: bool = True
    database_instance_id: pulumi.Input[str] | None = None
    cache_cluster_ids: Sequence[pulumi.Input[str]] = ()
    dead_letter_queues: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    broker_name: pulumi.Input[str] | None = None


def alerts_topic_policy(topic_arn: str, account_id: str, *publishers: dict) -> dict:
    """An alerts topic's policy: this account's CloudWatch alarms and the given `publishers` (statements) may publish
    to it, and nobody without TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            *publishers,
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


def topic_policy(topic_arn: str, account_id: str) -> str:
    # AWS Budgets delivers the stack's budget alerts here (components/budget.py).
    budgets = {
        "Sid": "BudgetsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "budgets.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": f"arn:{topic_arn.split(':')[1]}:budgets::{account_id}:*"},
        },
    }
    return json.dumps(alerts_topic_policy(topic_arn, account_id, budgets))


def insights_query(statistic: str, metric: str, broker_name: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(broker_name).apply(
        lambda broker: f"SELECT {statistic}({metric}) FROM SCHEMA(\"AWS/AmazonMQ\", Broker, Node) WHERE Broker = '{broker}'"
    )


class Alarms(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:alarms:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.name_prefix
        t = args.thresholds
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id

        key = EncryptionKey(
            f"{name}-kms",
            KeyArgs(
                description=f"{p}: alerts topic",
                alias=f"alias/{p}/alerts",
                service_principals=("budgets.amazonaws.com", "cloudwatch.amazonaws.com"),
                protect=args.protect,
            ),
            opts=child,
        )
        topic = aws.sns.Topic(f"{name}-topic", name=f"{p}-alerts", kms_master_key_id=key.arn, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-topic-policy", arn=topic.arn, policy=topic.arn.apply(lambda arn: topic_policy(arn, account_id)), opts=child
        )
        for index, address in enumerate(args.email_subscribers):
            aws.sns.TopicSubscription(f"{name}-email-{index}", topic=topic.arn, protocol="email", endpoint=address, opts=child)

        def alarm(suffix: str, description: str, **settings) -> aws.cloudwatch.MetricAlarm:
            settings.setdefault("evaluation_periods", 3)
            settings.setdefault("treat_missing_data", "missing")
            return aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                name=f"{p}-{suffix}",
                alarm_description=description,
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                opts=child,
                **settings,
            )

        if args.database_instance_id is not None:
            db = {"DBInstanceIdentifier": args.database_instance_id}
            alarm(
                "database-cpu", f"PostgreSQL CPU above {t.database_cpu_percent}% for 15 minutes",
                namespace="AWS/RDS", metric_name="CPUUtilization", dimensions=db, statistic="Average", period=PERIOD,
                comparison_operator="GreaterThanThreshold", threshold=t.database_cpu_percent,
            )
            alarm(
                "database-free-storage", f"PostgreSQL free storage below {t.database_free_storage_gib} GiB",
                namespace="AWS/RDS", metric_name="FreeStorageSpace", dimensions=db, statistic="Minimum", period=PERIOD,
                comparison_operator="LessThanThreshold", threshold=t.database_free_storage_gib * GIB, evaluation_periods=1,
            )
            alarm(
                "database-connections", f"PostgreSQL connections above {t.database_connections}",
                namespace="AWS/RDS", metric_name="DatabaseConnections", dimensions=db, statistic="Maximum", period=PERIOD,
                comparison_operator="GreaterThanThreshold", threshold=t.database_connections,
            )

        for index, cluster_id in enumerate(args.cache_cluster_ids, start=1):
            node = {"CacheClusterId": cluster_id}
            n = f"{index:03d}"
            # EngineCPUUtilization: the engine is single-threaded, so host CPU hides a saturated engine thread.
            alarm(
                f"cache-{n}-cpu", f"Cache node {n}: engine CPU above {t.cache_cpu_percent}% for 15 minutes",
                namespace="AWS/ElastiCache", metric_name="EngineCPUUtilization", dimensions=node, statistic="Average",
                period=PERIOD, comparison_operator="GreaterThanThreshold", threshold=t.cache_cpu_percent,
            )
            alarm(
                f"cache-{n}-memory", f"Cache node {n}: memory use above {t.cache_memory_percent}%",
                namespace="AWS/ElastiCache", metric_name="DatabaseMemoryUsagePercentage", dimensions=node,
                statistic="Maximum", period=PERIOD, comparison_operator="GreaterThanThreshold", threshold=t.cache_memory_percent,
            )
            alarm(
                f"cache-{n}-evictions", f"Cache node {n}: more than {t.cache_evictions} evictions in 5 minutes",
                namespace="AWS/ElastiCache", metric_name="Evictions", dimensions=node, statistic="Sum", period=PERIOD,
                comparison_operator="GreaterThanThreshold", threshold=t.cache_evictions, evaluation_periods=1,
                treat_missing_data="notBreaching",
            )

        for logical, dlq_name in args.dead_letter_queues.items():
            alarm(
                f"dlq-{logical}", f"Dead-letter queue of '{logical}' holds messages: a consumer keeps failing on them",
                namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible", dimensions={"QueueName": dlq_name},
                statistic="Maximum", period=PERIOD, comparison_operator="GreaterThanThreshold", threshold=0,
                evaluation_periods=1, treat_missing_data="notBreaching",
            )

        if args.broker_name is not None:
            broker_checks = (
                ("broker-cpu", f"RabbitMQ: a node's CPU above {t.broker_cpu_percent}% (or no data: broker down)",
                 "MAX", "SystemCpuUtilization", "GreaterThanThreshold", t.broker_cpu_percent),
                ("broker-memory", f"RabbitMQ: a node uses more than {t.broker_memory_used_mib} MiB (publishers block at the limit)",
                 "MAX", "RabbitMQMemUsed", "GreaterThanThreshold", t.broker_memory_used_mib * MIB),
                ("broker-disk", f"RabbitMQ: a node has less than {t.broker_disk_free_mib} MiB of free disk",
                 "MIN", "RabbitMQDiskFree", "LessThanThreshold", t.broker_disk_free_mib * MIB),
            )
            for suffix, description, statistic, metric, comparison, threshold in broker_checks:
                alarm(
                    suffix, description,
                    metric_queries=[
                        aws.cloudwatch.MetricAlarmMetricQueryArgs(
                            id="q1", expression=insights_query(statistic, metric, args.broker_name), period=PERIOD,
                            return_data=True,
                        )
                    ],
                    comparison_operator=comparison, threshold=threshold,
                    treat_missing_data="breaching",
                )

        self.topic_arn = topic.arn
        self.kms_key_arn = key.arn
        self.register_outputs({"topicArn": self.topic_arn})
