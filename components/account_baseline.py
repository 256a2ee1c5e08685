"""The account baseline that "no root account use" needs at run time, and the CIS AWS Foundations monitoring controls.

The policy pack stops the program from creating IAM users or keys; nothing in code can notice the root user signing
in. This component makes the account itself watch:

- **CloudTrail**: one multi-region trail with global service events and log file validation, encrypted with its own
  customer-managed key, into a private, versioned, TLS-only, access-logged bucket, and into a CloudWatch Logs group
  (encrypted with the same key, retention set) that the metric filters read.
- **Metric filters and alarms** for the CIS AWS Foundations Benchmark monitoring controls (the Security Hub controls
  CloudWatch.1 to CloudWatch.14; `CIS_FILTERS`): root user activity, console sign-in without MFA, IAM policy changes,
  unauthorized API calls, CloudTrail changes, console authentication failures, disabled or deleted KMS keys, S3 bucket
  policy changes, AWS Config changes, security group, network ACL, network gateway, route table, VPC and Organizations
  changes. Each alarm fires on a single event and notifies a KMS-encrypted SNS topic of its own.
- **GuardDuty** with EKS protection (EKS audit logs, and runtime monitoring with the agent managed by GuardDuty) and
  S3 data events; high-severity findings go to the same topic.
- **IAM Access Analyzer** for the account; **EBS encryption by default**; the **account-level S3 public access
  block** (all four flags).

Inputs (`AccountBaselineArgs`): name prefix, the bucket that receives the trail bucket's access logs, log retention,
e-mail subscribers, GuardDuty's finding threshold, protect.
Outputs: `trail_arn`, `trail_bucket_name`, `log_group_name`, `topic_arn`, `detector_id`, `key_arn`, `alarm_names`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .alarms import alerts_topic_policy
from .kms import ADMIN_ACTIONS, USE_ACTIONS, EncryptionKey, KeyArgs
from .storage import BucketSpec, bucket_name, lifecycle_rules, tls_only_statements

METRIC_NAMESPACE = "CISBenchmark"

# (control, name, what it watches, filter pattern): the CIS AWS Foundations Benchmark monitoring section as Security
# Hub checks it (controls CloudWatch.1 to .14).
CIS_FILTERS: tuple[tuple[str, str, str, str], ...] = (
    ("CloudWatch.1", "root-user-activity", "the root user was used",
     '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'),
    ("CloudWatch.2", "unauthorized-api-calls", "API calls were refused as unauthorized",
     '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'),
    ("CloudWatch.3", "console-sign-in-without-mfa", "someone signed in to the console without MFA",
     '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") '
     '&& ($.responseElements.ConsoleLogin = "Success") }'),
    ("CloudWatch.4", "iam-policy-changes", "an IAM policy was created, changed, attached or detached",
     "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || "
     "($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || "
     "($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || "
     "($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || "
     "($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || "
     "($.eventName = DetachGroupPolicy) }"),
    ("CloudWatch.5", "cloudtrail-changes", "a trail was created, changed, stopped or deleted",
     "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
     "($.eventName = StartLogging) || ($.eventName = StopLogging) }"),
    ("CloudWatch.6", "console-authentication-failures", "console sign-in failed",
     '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'),
    ("CloudWatch.7", "kms-key-disabled-or-deleted", "a customer-managed key was disabled or scheduled for deletion",
     "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }"),
    ("CloudWatch.8", "s3-bucket-policy-changes", "a bucket's policy, ACL, CORS, lifecycle or replication changed",
     "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || "
     "($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
     "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || "
     "($.eventName = DeleteBucketReplication)) }"),
    ("CloudWatch.9", "config-changes", "AWS Config recording or delivery changed",
     "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || "
     "($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || "
     "($.eventName = PutConfigurationRecorder)) }"),
    ("CloudWatch.10", "security-group-changes", "a security group or one of its rules changed",
     "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
     "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
     "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"),
    ("CloudWatch.11", "network-acl-changes", "a network ACL or one of its entries changed",
     "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || "
     "($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || "
     "($.eventName = ReplaceNetworkAclAssociation) }"),
    ("CloudWatch.12", "network-gateway-changes", "an internet, customer or carrier gateway changed",
     "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || "
     "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || "
     "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"),
    ("CloudWatch.13", "route-table-changes", "a route table or a route changed",
     "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
     "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || "
     "($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"),
    ("CloudWatch.14", "vpc-changes", "a VPC, its peering or ClassicLink changed",
     "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
     "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
     "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
     "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || "
     "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }"),
    ("CIS 4.15", "organizations-changes", "the account's AWS Organizations membership or policies changed",
     "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) || "
     "($.eventName = AttachPolicy) || ($.eventName = CreateAccount) || ($.eventName = CreateOrganizationalUnit) || "
     "($.eventName = CreatePolicy) || ($.eventName = DeclineHandshake) || ($.eventName = DeleteOrganization) || "
     "($.eventName = DeleteOrganizationalUnit) || ($.eventName = DeletePolicy) || ($.eventName = DetachPolicy) || "
     "($.eventName = DisablePolicyType) || ($.eventName = EnablePolicyType) || ($.eventName = InviteAccountToOrganization) || "
     "($.eventName = LeaveOrganization) || ($.eventName = MoveAccount) || ($.eventName = RemoveAccountFromOrganization) || "
     "($.eventName = UpdatePolicy) || ($.eventName = UpdateOrganizationalUnit)) }"),
)
# GuardDuty protection plans for EKS: the control plane's audit logs, and runtime monitoring whose agent GuardDuty
# installs and updates as an EKS add-on. Plus S3 data events.
GUARDDUTY_FEATURES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("EKS_AUDIT_LOGS", ()),
    ("RUNTIME_MONITORING", ("EKS_ADDON_MANAGEMENT",)),
    ("S3_DATA_EVENTS", ()),
)


@dataclass(frozen=True)
class AccountBaselineArgs:
    name_prefix: str
    access_log_bucket: pulumi.Input[str]  # bucket name receiving the trail bucket's server access logs
    log_retention_days: int = 365
    trail_noncurrent_version_days: int = 365
    email_subscribers: tuple[str, ...] = ()
    guardduty_min_severity: int = 7  # findings at or above this severity notify the topic (7 = high)
    protect: bool = True


def trail_name(name_prefix: str) -> str:
    return f"{name_prefix}-trail"


def trail_bucket_name(name_prefix: str, account_id: str) -> str:
    return bucket_name(name_prefix, "cloudtrail", account_id)


def trail_key_policy(account_id: str, partition: str, region: str, trail_arn: str) -> dict:
    """The trail key: administered and used through IAM; CloudTrail may encrypt for this trail only; CloudWatch Logs
    may use it for this account's log groups only. Reading the logs needs kms:Decrypt granted in IAM."""
    root = f"arn:{partition}:iam::{account_id}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "KeyAdministrationThroughIam", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": list(ADMIN_ACTIONS), "Resource": "*"},
            {"Sid": "KeyUseThroughIam", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": list(USE_ACTIONS), "Resource": "*"},
            {
                "Sid": "CloudTrailEncryptsThisTrail",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"},
                },
            },
            {
                "Sid": "CloudTrailDescribesTheKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
            {
                "Sid": "CloudWatchLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}
                },
            },
        ],
    }


def trail_bucket_policy(bucket_arn: str, trail_arn: str, account_id: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
            },
            *tls_only_statements(bucket_arn),
        ],
    }


def topic_policy(topic_arn: str, account_id: str, rule_arn: str) -> dict:
    guardduty_rule = {
        "Sid": "GuardDutyFindingsRule",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }
    return alerts_topic_policy(topic_arn, account_id, guardduty_rule)


class AccountBaseline(pulumi.ComponentResource):
    trail_arn: pulumi.Output[str]
    trail_bucket_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    topic_arn: pulumi.Output[str]
    detector_id: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    alarm_names: list[str]

    def __init__(self, name: str, args: AccountBaselineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:baseline:AccountBaseline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        invoke = pulumi.InvokeOptions(parent=self)
        account = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        region = aws.get_region(opts=invoke).region
        p = args.name_prefix
        trail_arn = f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name(p)}"

        # -- the trail's key, bucket and log group
        key = aws.kms.Key(
            f"{name}-trail-key",
            description=f"{p}: CloudTrail log files and their CloudWatch Logs group",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps(trail_key_policy(account, partition, region, trail_arn)),
            opts=kept,
        )
        aws.kms.Alias(f"{name}-trail-key-alias", name=f"alias/{p}/cloudtrail", target_key_id=key.key_id, opts=child)

        spec = BucketSpec("cloudtrail", noncurrent_version_days=args.trail_noncurrent_version_days)
        bucket = aws.s3.Bucket(f"{name}-trail-bucket", bucket=trail_bucket_name(p, account), force_destroy=False, opts=kept)
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-trail-bucket-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-trail-bucket-ownership", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-trail-bucket-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms", kms_master_key_id=key.arn
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-trail-bucket-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"), opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-trail-bucket-lifecycle", bucket=bucket.id, rules=lifecycle_rules(spec),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketLogging(
            f"{name}-trail-bucket-logging",
            bucket=bucket.id,
            target_bucket=args.access_log_bucket,
            target_prefix="s3/cloudtrail/",
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
            opts=child,
        )
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-trail-bucket-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(trail_bucket_policy(arn, trail_arn, account))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-trail-logs",
            name=f"/aws/cloudtrail/{p}",
            retention_in_days=args.log_retention_days,
            kms_key_id=key.arn,
            opts=child,
        )
        delivery_role = aws.iam.Role(
            f"{name}-trail-logs-role",
            name=f"{p}-trail-logs",  # under the prefix the deploy roles may not touch
            description="CloudTrail delivers the trail's events into its CloudWatch Logs group",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
                        }
                    ],
                }
            ),
            opts=child,
        )
        delivery_policy = aws.iam.RolePolicy(
            f"{name}-trail-logs-policy",
            role=delivery_role.id,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteTheTrailLogStreams",
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": f"{arn.removesuffix(':*')}:log-stream:*",
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name(p),
            s3_bucket_name=bucket.bucket,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            kms_key_id=key.arn,
            cloud_watch_logs_group_arn=log_group.arn.apply(lambda arn: f"{arn.removesuffix(':*')}:*"),
            cloud_watch_logs_role_arn=delivery_role.arn,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[bucket_policy, delivery_policy]),
        )

        # -- the security alerts topic and the CIS alarms
        topic_key = EncryptionKey(
            f"{name}-alerts-kms",
            KeyArgs(
                description=f"{p}: security alerts topic",
                alias=f"alias/{p}/security-alerts",
                service_principals=("cloudwatch.amazonaws.com", "events.amazonaws.com"),
                protect=args.protect,
            ),
            child,
        )
        topic = aws.sns.Topic(f"{name}-alerts", name=f"{p}-security-alerts", kms_master_key_id=topic_key.arn, opts=child)
        for index, address in enumerate(args.email_subscribers):
            aws.sns.TopicSubscription(f"{name}-alerts-email-{index}", topic=topic.arn, protocol="email", endpoint=address, opts=child)

        self.alarm_names = []
        for control, metric, what, pattern in CIS_FILTERS:
            metric_name = "".join(part.title() for part in metric.split("-"))
            aws.cloudwatch.LogMetricFilter(
                f"{name}-{metric}",
                name=f"{p}-{metric}",
                log_group_name=log_group.name,
                pattern=pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=metric_name, namespace=METRIC_NAMESPACE, value="1", unit="Count"
                ),
                opts=child,
            )
            alarm_name = f"{p}-{metric}"
            aws.cloudwatch.MetricAlarm(
                f"{name}-{metric}-alarm",
                name=alarm_name,
                alarm_description=f"{control}: {what} (CloudTrail metric filter {p}-{metric})",
                namespace=METRIC_NAMESPACE,
                metric_name=metric_name,
                statistic="Sum",
                period=300,
                evaluation_periods=1,
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=1,
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                opts=child,
            )
            self.alarm_names.append(alarm_name)

        # -- GuardDuty with EKS protection; high findings to the topic
        detector = aws.guardduty.Detector(
            f"{name}-guardduty", enable=True, finding_publishing_frequency="FIFTEEN_MINUTES", opts=kept
        )
        for feature, additional in GUARDDUTY_FEATURES:
            aws.guardduty.DetectorFeature(
                f"{name}-guardduty-{feature.lower().replace('_', '-')}",
                detector_id=detector.id,
                name=feature,
                status="ENABLED",
                additional_configurations=[
                    aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(name=extra, status="ENABLED")
                    for extra in additional
                ]
                or None,
                opts=child,
            )
        rule = aws.cloudwatch.EventRule(
            f"{name}-guardduty-findings",
            name=f"{p}-guardduty-findings",
            description=f"GuardDuty findings of severity {args.guardduty_min_severity} or more",
            event_pattern=json.dumps(
                {
                    "source": ["aws.guardduty"],
                    "detail-type": ["GuardDuty Finding"],
                    "detail": {"severity": [{"numeric": [">=", args.guardduty_min_severity]}]},
                }
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(f"{name}-guardduty-findings-target", rule=rule.name, arn=topic.arn, opts=child)
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, rule.arn).apply(lambda v: json.dumps(topic_policy(v[0], account, v[1]))),
            opts=child,
        )

        # -- account-wide settings
        aws.accessanalyzer.Analyzer(f"{name}-access-analyzer", analyzer_name=f"{p}-account", type="ACCOUNT", opts=child)
        aws.ebs.EncryptionByDefault(f"{name}-ebs-encryption", enabled=True, opts=child)
        aws.s3.AccountPublicAccessBlock(
            f"{name}-s3-public-access",
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )

        self.trail_arn = trail.arn
        self.trail_bucket_name = bucket.bucket
        self.log_group_name = log_group.name
        self.topic_arn = topic.arn
        self.detector_id = detector.id
        self.key_arn = key.arn
        self.register_outputs({"trailArn": self.trail_arn, "topicArn": self.topic_arn})
