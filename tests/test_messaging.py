"""SQS queues and the RabbitMQ broker, asserted on what both real stacks declare."""

from __future__ import annotations

import json

from .conftest import plan_for, run_mutated
from .data_helpers import (
    KMS_KEY,
    RANDOM_PASSWORD,
    SECRET,
    SECRET_VERSION,
    SECURITY_GROUP,
    assert_admits_only,
    config,
    only,
    secrets_key,
    tier_subnet_urns,
    users_of,
)
from infra.offline import engine

QUEUE = "aws:sqs/queue:Queue"
REDRIVE_ALLOW = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
BROKER = "aws:mq/broker:Broker"
DAY = 86_400


def source_queues(plan):
    """{logical name: queue} for the queues with a redrive policy (the ones services use)."""
    return {q.name.split("messaging-", 1)[1]: q for q in plan.of_type(QUEUE) if "redrivePolicy" in q.inputs}


def dead_letter_queue(plan, queue):
    return only(plan, queue, "redrivePolicy", QUEUE)


def test_every_configured_queue_has_its_own_dead_letter_queue(plan, stack):
    wanted = config(stack, "messaging")["queues"]
    queues = source_queues(plan)
    assert set(queues) == set(wanted)
    dlqs = set()
    for name, queue in queues.items():
        dlq = dead_letter_queue(plan, queue)
        redrive = json.loads(queue.props["redrivePolicy"])
        assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": wanted[name]["maxReceiveCount"]}
        assert "redrivePolicy" not in dlq.inputs, "a DLQ does not dead-letter again"
        assert dlq.props["messageRetentionSeconds"] >= queue.props["messageRetentionSeconds"]
        assert dlq.props["messageRetentionSeconds"] == wanted[name]["deadLetterRetentionDays"] * DAY
        assert queue.props["visibilityTimeoutSeconds"] == wanted[name]["visibilityTimeoutSeconds"]
        assert bool(queue.props.get("fifoQueue")) == bool(dlq.props.get("fifoQueue"))
        dlqs.add(dlq.urn)
    assert len(dlqs) == len(queues), "no two queues share a DLQ"
    assert len(plan.of_type(QUEUE)) == 2 * len(queues), "every queue is a source or a DLQ"


def test_a_dead_letter_queue_admits_only_its_source(plan):
    for queue in source_queues(plan).values():
        dlq = dead_letter_queue(plan, queue)
        (allow,) = users_of(plan, dlq, "queueUrl", REDRIVE_ALLOW)
        assert only(plan, allow, "redriveAllowPolicy", QUEUE).urn == queue.urn
        assert json.loads(allow.props["redriveAllowPolicy"]) == {"redrivePermission": "byQueue", "sourceQueueArns": [queue.outputs["arn"]]}


def test_every_queue_is_encrypted_with_the_messaging_key_and_refuses_plain_http(plan):
    keys = set()
    for queue in plan.of_type(QUEUE):
        keys.add(only(plan, queue, "kmsMasterKeyId", KMS_KEY).urn)
        (queue_policy,) = users_of(plan, queue, "queueUrl", QUEUE_POLICY)
        (statement,) = json.loads(queue_policy.props["policy"])["Statement"]
        assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statement["Resource"] == queue.outputs["arn"]
    (key,) = keys
    assert plan.get(key).props["enableKeyRotation"] is True


def test_queue_outputs_name_queues_and_dlqs(stack):
    plan = plan_for(stack)
    out = plan.outputs["queues"]
    for name, queue in source_queues(plan).items():
        dlq = dead_letter_queue(plan, queue)
        assert out[name] == {
            "url": queue.outputs["url"], "arn": queue.outputs["arn"], "name": queue.props["name"],
            "dlqUrl": dlq.outputs["url"], "dlqArn": dlq.outputs["arn"], "dlqName": dlq.props["name"],
        }


def test_a_fifo_queue_gets_a_fifo_dead_letter_queue():
    def fifo(c):
        c["platform:messaging"]["queues"]["orders"] = {"fifo": True}

    plan = run_mutated("staging", fifo)
    queue = source_queues(plan)["orders"]
    dlq = dead_letter_queue(plan, queue)
    assert queue.props["name"].endswith(".fifo") and dlq.props["name"].endswith("-dlq.fifo")
    assert queue.props["fifoQueue"] is True and dlq.props["fifoQueue"] is True


# -- RabbitMQ -----------------------------------------------------------------------------------------------------
def test_broker_is_private_in_the_data_tier_behind_amqps_only(plan):
    broker = plan.one(BROKER)
    assert broker.props["publiclyAccessible"] is False
    assert set(broker.property_dependencies["subnetIds"]) <= tier_subnet_urns(plan, "data")
    assert_admits_only(plan, only(plan, broker, "securityGroups", SECURITY_GROUP), 5671)


def test_broker_shape_per_stack():
    staging, prod = plan_for("staging").one(BROKER), plan_for("prod").one(BROKER)
    assert staging.props["deploymentMode"] == "SINGLE_INSTANCE" and len(staging.props["subnetIds"]) == 1
    assert prod.props["deploymentMode"] == "CLUSTER_MULTI_AZ"
    assert set(prod.property_dependencies["subnetIds"]) == tier_subnet_urns(plan_for("prod"), "data")
    assert prod.protect and not staging.protect
    assert prod.props["hostInstanceType"] == config("prod", "messaging")["rabbitmq"]["instanceType"]


def test_broker_engine_logs_and_upgrades(plan):
    broker = plan.one(BROKER).props
    assert broker["engineType"] == "RabbitMQ" and broker["engineVersion"] == "3.13"
    assert broker["autoMinorVersionUpgrade"] is True, "Amazon MQ requires it from RabbitMQ 3.13 on"
    assert broker["logs"] == {"general": True}
    # RabbitMQ brokers are encrypted at rest with an AWS-owned key: Amazon MQ offers no customer key for them.
    assert broker["encryptionOptions"] == {"useAwsOwnedKey": True}


def test_broker_credentials_are_generated_and_kept_in_secrets_manager(plan):
    broker = plan.one(BROKER)
    (user,) = broker.inputs["users"]
    assert engine.is_secret(user["password"]) or engine.is_secret(broker.inputs["users"])
    password = only(plan, broker, "users", RANDOM_PASSWORD)
    (version,) = users_of(plan, password, "secretString", SECRET_VERSION)
    assert engine.is_secret(version.inputs["secretString"])
    assert json.loads(version.props["secretString"]) == {"username": user["username"], "password": password.outputs["result"]}
    secret = only(plan, version, "secretId", SECRET)
    assert secret.props["name"] == f"platform/{plan.stack}/rabbitmq/credentials"
    assert only(plan, secret, "kmsKeyId", KMS_KEY).urn == secrets_key(plan).urn
    out = plan.outputs["rabbitmq"]
    assert out["amqpsEndpoint"].startswith("amqps://") and out["amqpsEndpoint"].endswith(":5671")
    assert out["credentialsSecretArn"] == secret.outputs["arn"]


def test_a_stack_without_a_broker_declares_none():
    def off(c):
        c["platform:messaging"]["rabbitmq"]["enabled"] = False

    plan = run_mutated("staging", off)
    assert not plan.of_type(BROKER)
    assert "rabbitmq" not in plan.outputs
    assert not [s for s in plan.of_type(SECRET) if "rabbitmq" in s.props["name"]]
