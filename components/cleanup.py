"""The scheduled cleanup job: a small Python Lambda that reports (and, where allowed, deletes) what the platform left unused.

The code lives in `functions/cleanup/` (see its docstring for what it finds); this component packages it with
`pulumi.AssetArchive`, runs it on an EventBridge Scheduler schedule in the stack's time zone, and gives it:

- a role of its own (trust: lambda.amazonaws.com for this account) with exactly what the job calls: the EC2 and ECR
  reads; the deletes only when `delete` is on, and then only on volumes and snapshots tagged for the cluster,
  addresses tagged for the stack, images of the platform's repositories; `sns:Publish` on the alerts topic and
  data-key use of the topic's key; writing its own log group;
- a log group with a retention, encrypted with a key of its own (which also encrypts the function's environment);
- one concurrent execution at most, a timeout, arm64.

The scheduler invokes the function through a role that may invoke only this function.

Inputs (`CleanupArgs`): name prefix, cluster and stack names, region, alerts topic ARN and its key ARN, schedule
(`cron(...)` / `rate(...)`), time zone, the job's thresholds, `delete`, log retention, protect (the key).
Outputs: `function_name`, `function_arn`, `role_arn`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from .kms import EncryptionKey, KeyArgs

CODE_DIR = Path(__file__).resolve().parents[1] / "functions" / "cleanup"
READ_ACTIONS = ("ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeAddresses")
# What CloudWatch Logs does with a log group's key; each action carries the encryption context the key policy's
# condition names (kms:DescribeKey does not, so it is not granted: a condition it never satisfies would be dead).
LOGS_KEY_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


@dataclass(frozen=True)
class CleanupArgs:
    name_prefix: str = "platform"
    cluster_name: str = "platform"
    stack: str = ""
    region: str = "ap-northeast-2"
    topic_arn: pulumi.Input[str] | None = None
    topic_kms_key_arn: pulumi.Input[str] | None = None
    schedule: str = "cron(0 3 * * ? *)"  # 03:00 every day
    timezone: str = "Asia/Seoul"
    unattached_volume_days: int = 7
    snapshot_retention_days: int = 14
    untagged_image_days: int = 7
    repository_prefix: str = "platform/"
    delete: bool = False
    log_retention_days: int = 30
    protect: bool = True


def _trust(service: str, account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


def job_policy(args: CleanupArgs, *, account_id: str, partition: str, topic_arn: str, topic_key_arn: str, log_group_arn: str) -> dict:
    """The job's permissions (pure, for tests): reads everywhere they cannot be scoped, deletes only when allowed."""
    ec2 = f"arn:{partition}:ec2:{args.region}:{account_id}"
    repositories = f"arn:{partition}:ecr:{args.region}:{account_id}:repository/{args.repository_prefix}*"
    statements: list[dict] = [
        # Describe calls take no resource ARN: "*" is the only form IAM accepts for them.
        {"Sid": "FindUnused", "Effect": "Allow", "Action": list(READ_ACTIONS), "Resource": "*"},
        {"Sid": "ListRepositories", "Effect": "Allow", "Action": ["ecr:DescribeRepositories"],
         "Resource": f"arn:{partition}:ecr:{args.region}:{account_id}:repository/*"},
        {"Sid": "FindUntaggedImages", "Effect": "Allow", "Action": ["ecr:DescribeImages"], "Resource": repositories},
        {"Sid": "Report", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic_arn},
        {"Sid": "ReportToEncryptedTopic", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": topic_key_arn},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:log-stream:*"},
    ]
    if args.delete:
        cluster_tag = f"aws:ResourceTag/kubernetes.io/cluster/{args.cluster_name}"
        statements += [
            {"Sid": "DeleteClusterVolumes", "Effect": "Allow", "Action": ["ec2:DeleteVolume"],
             "Resource": f"{ec2}:volume/*", "Condition": {"StringEquals": {cluster_tag: ["owned", "shared"]}}},
            {"Sid": "DeleteClusterSnapshots", "Effect": "Allow", "Action": ["ec2:DeleteSnapshot"],
             "Resource": f"arn:{partition}:ec2:{args.region}::snapshot/*",
             "Condition": {"StringEquals": {cluster_tag: ["owned", "shared"]}}},
            {"Sid": "ReleaseStackAddresses", "Effect": "Allow", "Action": ["ec2:ReleaseAddress"],
             "Resource": f"{ec2}:elastic-ip/*", "Condition": {"StringEquals": {"aws:ResourceTag/stack": args.stack}}},
            {"Sid": "DeleteUntaggedImages", "Effect": "Allow", "Action": ["ecr:BatchDeleteImage"], "Resource": repositories},
        ]
    return {"Version": "2012-10-17", "Statement": statements}


class CleanupJob(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CleanupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:cost:CleanupJob", name, None, opts)
        if args.topic_arn is None or args.topic_kms_key_arn is None:
            raise ValueError("cleanup: topic_arn and topic_kms_key_arn are required (the job reports to the alerts topic)")
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        function_name = f"{args.name_prefix}-cleanup"
        # The function's ARN in AWS's documented format, from its name (what the scheduler's role may invoke).
        function_arn = f"arn:{partition}:lambda:{args.region}:{account_id}:function:{function_name}"
        log_group_name = f"/aws/lambda/{function_name}"
        log_group_arn = f"arn:{partition}:logs:{args.region}:{account_id}:log-group:{log_group_name}"

        key = EncryptionKey(
            f"{name}-kms",
            KeyArgs(
                description=f"{args.name_prefix}: cleanup job logs and environment",
                alias=f"alias/{args.name_prefix}/cleanup",
                service_principals=(f"logs.{args.region}.amazonaws.com",),
                service_actions=LOGS_KEY_ACTIONS,
                # CloudWatch Logs names the log group in the encryption context: only this one may use the key.
                service_condition={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
                protect=args.protect,
            ),
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=log_group_name, retention_in_days=args.log_retention_days, kms_key_id=key.arn, opts=child
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"{args.name_prefix}: the cleanup job",
            assume_role_policy=_trust("lambda.amazonaws.com", account_id),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(args.topic_arn, args.topic_kms_key_arn).apply(
                lambda arns: json.dumps(
                    job_policy(args, account_id=account_id, partition=partition, topic_arn=arns[0], topic_key_arn=arns[1],
                               log_group_arn=log_group_arn)
                )
            ),
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description="Reports (and where allowed deletes) unused volumes, snapshots, Elastic IPs and untagged images",
            runtime="python3.13",
            architectures=["arm64"],
            handler="handler.handler",
            code=pulumi.AssetArchive({"handler.py": pulumi.FileAsset(str(CODE_DIR / "handler.py"))}),
            role=role.arn,
            timeout=300,
            memory_size=256,
            reserved_concurrent_executions=1,
            kms_key_arn=key.arn,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "CLUSTER_NAME": args.cluster_name,
                    "STACK": args.stack,
                    "TOPIC_ARN": args.topic_arn,
                    "VOLUME_AGE_DAYS": str(args.unattached_volume_days),
                    "SNAPSHOT_RETENTION_DAYS": str(args.snapshot_retention_days),
                    "IMAGE_AGE_DAYS": str(args.untagged_image_days),
                    "REPOSITORY_PREFIX": args.repository_prefix,
                    "DELETE": "true" if args.delete else "false",
                }
            ),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            description=f"{args.name_prefix}: EventBridge Scheduler invoking the cleanup job",
            assume_role_policy=_trust("scheduler.amazonaws.com", account_id),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=scheduler_role.id,
            policy=json.dumps(
                {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}]}
            ),
            opts=child,
        )
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=f"{args.name_prefix}-cleanup",
            description="Runs the cleanup job",
            schedule_expression=args.schedule,
            schedule_expression_timezone=args.timezone,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=function.arn,
                role_arn=scheduler_role.arn,
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=0),
            ),
            opts=child,
        )
        self.function_name = function.name
        self.function_arn = function.arn
        self.role_arn = role.arn
        self.register_outputs({"functionName": self.function_name})
