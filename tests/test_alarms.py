"""The alerts topic and alarms, asserted on what both real stacks declare (targets followed to the alarmed resource)."""

from __future__ import annotations

import json

import pytest

from .conftest import plan_for
from .data_helpers import KMS_KEY, config, only, policy, users_of

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"


def alarms(plan):
    return {a.props["name"].removeprefix(f"platform-{plan.stack}-"): a for a in plan.of_type(ALARM)}


def test_alerts_topic_is_encrypted_with_a_key_cloudwatch_and_budgets_may_use(plan):
    topic = plan.one(TOPIC)
    key = only(plan, topic, "kmsMasterKeyId", KMS_KEY)
    assert key.props["enableKeyRotation"] is True
    (service,) = [s for s in policy(key)["Statement"] if "Service" in s["Principal"]]
    assert service["Principal"] == {"Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]}
    assert set(service["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert service["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    (topic_policy,) = users_of(plan, topic, "arn", "aws:sns/topicPolicy:TopicPolicy")
    statements = {s["Sid"]: s for s in policy(topic_policy)["Statement"]}
    assert statements["CloudWatchAlarmsOfThisAccount"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    budgets = statements["BudgetsOfThisAccount"]
    assert budgets["Principal"] == {"Service": "budgets.amazonaws.com"} and budgets["Action"] == "sns:Publish"
    assert budgets["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:budgets::123456789012:*"},
    }


def test_every_alarm_notifies_the_topic_on_alarm_and_ok(plan):
    topic = plan.one(TOPIC)
    for alarm in plan.of_type(ALARM):
        assert alarm.props["alarmActions"] == [topic.outputs["arn"]] == alarm.props["okActions"]
        assert set(alarm.property_dependencies["alarmActions"]) == {topic.urn}


def test_subscribers_follow_the_stack(plan, stack):
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.props["endpoint"] for s in subscriptions) == sorted(config(stack, "alarms")["emailSubscribers"])
    assert all(s.props["protocol"] == "email" for s in subscriptions)


@pytest.mark.parametrize(
    "suffix, metric, comparison",
    [
        ("database-cpu", "CPUUtilization", "GreaterThanThreshold"),
        ("database-free-storage", "FreeStorageSpace", "LessThanThreshold"),
        ("database-connections", "DatabaseConnections", "GreaterThanThreshold"),
    ],
)
def test_database_alarms_watch_the_instance(plan, suffix, metric, comparison):
    alarm = alarms(plan)[suffix]
    instance = plan.one("aws:rds/instance:Instance")
    assert (alarm.props["namespace"], alarm.props["metricName"], alarm.props["comparisonOperator"]) == ("AWS/RDS", metric, comparison)
    assert only(plan, alarm, "dimensions").urn == instance.urn
    assert alarm.props["dimensions"] == {"DBInstanceIdentifier": instance.props["identifier"]}


def test_thresholds_come_from_the_stack(plan, stack):
    wanted = config(stack, "alarms")["thresholds"]
    found = alarms(plan)
    assert found["database-connections"].props["threshold"] == wanted["databaseConnections"]
    assert found["database-free-storage"].props["threshold"] == wanted["databaseFreeStorageGiB"] * 1024**3


def test_cache_alarms_cover_every_node(plan):
    group = plan.one("aws:elasticache/replicationGroup:ReplicationGroup")
    found = alarms(plan)
    for n in range(1, int(group.props["numCacheClusters"]) + 1):
        for metric, suffix in (("EngineCPUUtilization", "cpu"), ("DatabaseMemoryUsagePercentage", "memory"), ("Evictions", "evictions")):
            alarm = found[f"cache-{n:03d}-{suffix}"]
            assert alarm.props["metricName"] == metric and alarm.props["namespace"] == "AWS/ElastiCache"
            assert only(plan, alarm, "dimensions").urn == group.urn


def test_every_dead_letter_queue_alarms_above_zero(plan):
    dlqs = [q for q in plan.of_type("aws:sqs/queue:Queue") if "redrivePolicy" not in q.inputs]
    assert dlqs
    for dlq in dlqs:
        (alarm,) = [a for a in plan.of_type(ALARM) if dlq.urn in a.property_dependencies.get("dimensions", ())]
        assert alarm.props["metricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm.props["dimensions"] == {"QueueName": dlq.props["name"]}
        assert (alarm.props["comparisonOperator"], alarm.props["threshold"]) == ("GreaterThanThreshold", 0)


def test_broker_health_alarms_query_every_node(plan):
    broker = plan.one("aws:mq/broker:Broker")
    found = {k: v for k, v in alarms(plan).items() if k.startswith("broker-")}
    assert set(found) == {"broker-cpu", "broker-memory", "broker-disk"}
    for alarm in found.values():
        (query,) = alarm.props["metricQueries"]
        assert query["returnData"] is True
        assert 'FROM SCHEMA("AWS/AmazonMQ", Broker, Node)' in query["expression"]
        assert f"WHERE Broker = '{broker.props['brokerName']}'" in query["expression"]
        assert alarm.props["treatMissingData"] == "breaching", "a broker that stops reporting is not healthy"
        assert only(plan, alarm, "metricQueries").urn == broker.urn


def test_outputs_the_topic(stack):
    plan = plan_for(stack)
    assert plan.outputs["alertsTopicArn"] == plan.one(TOPIC).outputs["arn"]
    assert json.dumps(plan.outputs["alertsTopicArn"]).count(f"platform-{stack}-alerts") == 1
