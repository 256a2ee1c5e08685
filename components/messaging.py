"""Messaging: SQS queues declared in stack config, each with its dead-letter queue, and Amazon MQ for RabbitMQ.

Queues: every queue has a dead-letter queue (same FIFO-ness, longer retention), a redrive policy sending a message
there after `max_receive_count` failed receives, a redrive-allow policy on the DLQ naming only its own source queue,
server-side encryption with the component's customer-managed key, and a queue policy denying non-TLS requests.

RabbitMQ (optional per stack): never publicly accessible, in the data tier behind its own security group that
admits only AMQPS (5671) from the cluster's security group; a single instance
in one data subnet or a multi-AZ cluster across them; general logs to CloudWatch; automatic minor upgrades (which
Amazon MQ requires from RabbitMQ 3.13 on). The admin credentials are generated with pulumi-random and kept in
Secrets Manager as {"username", "password"} JSON. At rest, Amazon MQ encrypts RabbitMQ brokers with an AWS-owned
key: it does not accept a customer-managed key for this engine.

Inputs (`MessagingArgs`): queues (`QueueSpec`), the broker (`BrokerSpec` or None), `protect`; placement (`vpc_id`,
the data tier's `subnet_ids`), clients (`client_security_group_ids`: the cluster's security group) and
the stack's `secrets` store (needed only with a broker).
Outputs: `queues` ({logical name: {"url", "arn", "name", "dlqUrl", "dlqArn", "dlqName"}}), `dead_letter_queue_names`,
`kms_key_arn`; with a broker: `amqps_endpoint`, `broker_credentials_secret_arn`, `broker_security_group_id`,
`broker_name` (else None).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from .ingress import data_security_group
from .kms import EncryptionKey, KeyArgs
from .secrets import GeneratedSecret, GeneratedSecretArgs, SecretStore

AMQPS_PORT = 5671
DAY = 86_400
DeploymentMode = Literal["SINGLE_INSTANCE", "CLUSTER_MULTI_AZ"]


@dataclass(frozen=True)
class QueueSpec:
    name: str  # logical name: "jobs", "notifications"
    fifo: bool = False
    visibility_timeout_seconds: int = 30
    retention_days: int = 4
    dead_letter_retention_days: int = 14
    max_receive_count: int = 5
    receive_wait_seconds: int = 20  # long polling: fewer empty receives
    delay_seconds: int = 0


@dataclass(frozen=True)
class BrokerSpec:
    # Major.minor only: from 3.13 Amazon MQ picks the patch level and requires automatic minor upgrades.
    engine_version: str = "3.13"
    instance_type: str = "mq.m7g.large"
    deployment_mode: DeploymentMode = "CLUSTER_MULTI_AZ"
    username: str = "platform"
    maintenance_day: str = "SUNDAY"
    maintenance_time: str = "20:00"  # UTC
    apply_immediately: bool = False


@dataclass(frozen=True)
class MessagingArgs:
    """Inputs of messaging. Defaults: no queues, no broker, protected; placement and clients come from the program."""

    name_prefix: str = "platform"
    queues: tuple[QueueSpec, ...] = ()
    broker: BrokerSpec | None = None
    protect: bool = True
    vpc_id: pulumi.Input[str] | None = None
    subnet_ids: Sequence[pulumi.Input[str]] = ()
    client_security_group_ids: Sequence[pulumi.Input[str]] = ()
    secrets: SecretStore | None = None


def queue_name(name_prefix: str, logical: str, fifo: bool, dead_letter: bool = False) -> str:
    return f"{name_prefix}-{logical}{'-dlq' if dead_letter else ''}{'.fifo' if fifo else ''}"


def tls_only_queue_policy(queue_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class Messaging(pulumi.ComponentResource):
    queues: dict[str, dict[str, pulumi.Output[str]]]
    dead_letter_queue_names: dict[str, pulumi.Output[str]]
    kms_key_arn: pulumi.Output[str]
    amqps_endpoint: pulumi.Output[str] | None
    broker_credentials_secret_arn: pulumi.Output[str] | None
    broker_security_group_id: pulumi.Output[str] | None
    broker_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: MessagingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:messaging:Messaging", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.name_prefix

        key = EncryptionKey(
            f"{name}-kms",
            KeyArgs(description=f"{p}: SQS messages", alias=f"alias/{p}/messaging", protect=args.protect),
            opts=child,
        )
        self.kms_key_arn = key.arn
        self.queues = {}
        self.dead_letter_queue_names = {}
        for spec in args.queues:
            self._queue(name, p, spec, key, child)

        self.amqps_endpoint = None
        self.broker_credentials_secret_arn = None
        self.broker_security_group_id = None
        self.broker_name = None
        if args.broker is not None:
            self._broker(name, p, args, args.broker, child)

        self.register_outputs(
            {
                "queues": self.queues,
                "amqpsEndpoint": self.amqps_endpoint,
                "brokerCredentialsSecretArn": self.broker_credentials_secret_arn,
            }
        )

    def _queue(self, name: str, p: str, spec: QueueSpec, key: EncryptionKey, child: pulumi.ResourceOptions) -> None:
        fifo = {"fifo_queue": True} if spec.fifo else {}
        dlq = aws.sqs.Queue(
            f"{name}-{spec.name}-dlq",
            name=queue_name(p, spec.name, spec.fifo, dead_letter=True),
            message_retention_seconds=spec.dead_letter_retention_days * DAY,
            kms_master_key_id=key.arn,
            kms_data_key_reuse_period_seconds=300,
            **fifo,
            opts=child,
        )
        queue = aws.sqs.Queue(
            f"{name}-{spec.name}",
            name=queue_name(p, spec.name, spec.fifo),
            visibility_timeout_seconds=spec.visibility_timeout_seconds,
            message_retention_seconds=spec.retention_days * DAY,
            receive_wait_time_seconds=spec.receive_wait_seconds,
            delay_seconds=spec.delay_seconds,
            kms_master_key_id=key.arn,
            kms_data_key_reuse_period_seconds=300,
            redrive_policy=dlq.arn.apply(
                lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": spec.max_receive_count})
            ),
            **fifo,
            opts=child,
        )
        # Only its own source queue may dead-letter into this DLQ: no other queue can fill it by mistake.
        aws.sqs.RedriveAllowPolicy(
            f"{name}-{spec.name}-dlq-allow",
            queue_url=dlq.url,
            redrive_allow_policy=queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
            ),
            opts=child,
        )
        for logical, q in ((spec.name, queue), (f"{spec.name}-dlq", dlq)):
            aws.sqs.QueuePolicy(
                f"{name}-{logical}-policy", queue_url=q.url, policy=q.arn.apply(tls_only_queue_policy), opts=child
            )
        self.queues[spec.name] = {
            "url": queue.url,
            "arn": queue.arn,
            "name": queue.name,
            "dlqUrl": dlq.url,
            "dlqArn": dlq.arn,
            "dlqName": dlq.name,
        }
        self.dead_letter_queue_names[spec.name] = dlq.name

    def _broker(self, name: str, p: str, args: MessagingArgs, spec: BrokerSpec, child: pulumi.ResourceOptions) -> None:
        if args.vpc_id is None or not args.subnet_ids or args.secrets is None:
            raise ValueError(f"{name}: a broker needs vpc_id, subnet_ids (the data tier) and the secrets store")
        broker_name = f"{p}-rabbitmq"
        credentials = GeneratedSecret(
            f"{name}-rabbitmq-credentials",
            GeneratedSecretArgs(
                store=args.secrets,
                name="rabbitmq/credentials",
                description=f"{broker_name}: AMQPS user",
                username=spec.username,
                length=32,
            ),
            opts=child,
        )
        security_group = data_security_group(
            f"{name}-rabbitmq",
            parent=self,
            vpc_id=args.vpc_id,
            port=AMQPS_PORT,
            what="RabbitMQ AMQPS",
            client_security_group_ids=args.client_security_group_ids,
            name_tag=broker_name,
        )
        single = spec.deployment_mode == "SINGLE_INSTANCE"
        broker = aws.mq.Broker(
            f"{name}-rabbitmq",
            broker_name=broker_name,
            engine_type="RabbitMQ",
            engine_version=spec.engine_version,
            auto_minor_version_upgrade=True,
            host_instance_type=spec.instance_type,
            deployment_mode=spec.deployment_mode,
            publicly_accessible=False,
            subnet_ids=[args.subnet_ids[0]] if single else list(args.subnet_ids),
            security_groups=[security_group.id],
            authentication_strategy="simple",
            users=[aws.mq.BrokerUserArgs(username=spec.username, password=credentials.value)],
            encryption_options=aws.mq.BrokerEncryptionOptionsArgs(use_aws_owned_key=True),
            logs=aws.mq.BrokerLogsArgs(general=True),
            maintenance_window_start_time=aws.mq.BrokerMaintenanceWindowStartTimeArgs(
                day_of_week=spec.maintenance_day, time_of_day=spec.maintenance_time, time_zone="UTC"
            ),
            apply_immediately=spec.apply_immediately,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.amqps_endpoint = broker.instances.apply(lambda instances: instances[0].endpoints[0])
        self.broker_credentials_secret_arn = credentials.arn
        self.broker_security_group_id = security_group.id
        self.broker_name = broker.broker_name
