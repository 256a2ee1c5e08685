"""S3 buckets declared in stack config, each private, encrypted, versioned, TLS-only and access-logged.

Every bucket gets the pulumi-aws 7 split resources: all four public-access-block flags, BucketOwnerEnforced
ownership (ACLs off), default encryption, versioning, lifecycle rules (abort incomplete multipart uploads, expire
noncurrent versions and stale delete markers, optionally move to Intelligent-Tiering and expire current objects),
a bucket policy denying any request without TLS 1.2+, and server access logging into the access-log bucket.

Data buckets use SSE-KMS with the component's customer-managed key and S3 bucket keys. The access-log bucket is the
one exception and uses SSE-S3: S3 server access logging cannot deliver into a bucket whose default encryption is
SSE-KMS. Its policy admits the S3 logging service for this account's buckets only; it does not log into itself.

Inputs (`StorageArgs`): the buckets (`BucketSpec`: logical name and lifecycle settings), which of them receives the
access logs (and from which other buckets of the account, `extra_log_sources`), `force_destroy`, `protect`.
Outputs: `buckets` ({logical name: {"name", "arn"}}), `bucket_names`, `bucket_arns`, `kms_key_arn`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .kms import EncryptionKey, KeyArgs


@dataclass(frozen=True)
class BucketSpec:
    name: str  # logical name: "uploads", "static-assets", "access-logs"
    noncurrent_version_days: int = 90
    abort_incomplete_upload_days: int = 7
    expire_after_days: int | None = None
    intelligent_tiering_after_days: int | None = None


@dataclass(frozen=True)
class StorageArgs:
    """Inputs of the buckets. Defaults are the safe choice: no force-destroy, protected."""

    name_prefix: str = "platform"
    buckets: tuple[BucketSpec, ...] = (
        BucketSpec("uploads"),
        BucketSpec("static-assets"),
        BucketSpec("access-logs", expire_after_days=365),
    )
    access_log_bucket: str = "access-logs"
    # ARNs of other buckets of this account that deliver their server access logs into the access-log bucket.
    extra_log_sources: tuple[pulumi.Input[str], ...] = ()
    force_destroy: bool = False
    protect: bool = True


def bucket_name(name_prefix: str, logical: str, account_id: str) -> str:
    """S3 names are global: the account id keeps two accounts' stacks from colliding."""
    return f"{name_prefix}-{logical}-{account_id}"


def tls_only_statements(bucket_arn: str) -> list[dict]:
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutdatedTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def log_delivery_statement(log_bucket_arn: str, account_id: str, source_arns: list[str]) -> dict:
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{log_bucket_arn}/*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": sorted(source_arns)},
        },
    }


def lifecycle_rules(spec: BucketSpec) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    everything = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart-uploads",
            status="Enabled",
            filter=everything,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=spec.abort_incomplete_upload_days
            ),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-noncurrent-versions",
            status="Enabled",
            filter=everything,
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=spec.noncurrent_version_days
            ),
        ),
    ]
    if spec.expire_after_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-current-versions",
                status="Enabled",
                filter=everything,
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=spec.expire_after_days),
            )
        )
    else:
        # Without current-version expiry, delete markers left alone once their versions expire are cleaned up here.
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="remove-expired-delete-markers",
                status="Enabled",
                filter=everything,
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
            )
        )
    if spec.intelligent_tiering_after_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="intelligent-tiering",
                status="Enabled",
                filter=everything,
                transitions=[
                    aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                        days=spec.intelligent_tiering_after_days, storage_class="INTELLIGENT_TIERING"
                    )
                ],
            )
        )
    return rules


class Storage(pulumi.ComponentResource):
    buckets: dict[str, dict[str, pulumi.Output[str]]]
    bucket_names: dict[str, pulumi.Output[str]]
    bucket_arns: dict[str, pulumi.Output[str]]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:storage:Storage", name, None, opts)
        logical_names = [spec.name for spec in args.buckets]
        if args.access_log_bucket not in logical_names:
            raise ValueError(f"{name}: the access-log bucket {args.access_log_bucket!r} is not among {logical_names}")
        child = pulumi.ResourceOptions(parent=self)
        p = args.name_prefix
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id

        key = EncryptionKey(
            f"{name}-kms",
            KeyArgs(description=f"{p}: S3 objects", alias=f"alias/{p}/storage", protect=args.protect),
            opts=child,
        )

        buckets: dict[str, aws.s3.Bucket] = {}
        blocks: dict[str, aws.s3.BucketPublicAccessBlock] = {}
        for spec in args.buckets:
            bucket = aws.s3.Bucket(
                f"{name}-{spec.name}",
                bucket=bucket_name(p, spec.name, account_id),
                force_destroy=args.force_destroy,
                tags={"Name": f"{p}-{spec.name}"},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            buckets[spec.name] = bucket
            blocks[spec.name] = aws.s3.BucketPublicAccessBlock(
                f"{name}-{spec.name}-public-access",
                bucket=bucket.id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
                opts=child,
            )
            aws.s3.BucketOwnershipControls(
                f"{name}-{spec.name}-ownership",
                bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
                opts=child,
            )
            is_log_bucket = spec.name == args.access_log_bucket
            aws.s3.BucketServerSideEncryptionConfiguration(
                f"{name}-{spec.name}-encryption",
                bucket=bucket.id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=(
                            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                                sse_algorithm="AES256"
                            )
                            if is_log_bucket  # server access logging cannot write into an SSE-KMS bucket
                            else aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                                sse_algorithm="aws:kms", kms_master_key_id=key.arn
                            )
                        ),
                        bucket_key_enabled=not is_log_bucket,
                    )
                ],
                opts=child,
            )
            versioning = aws.s3.BucketVersioning(
                f"{name}-{spec.name}-versioning",
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-{spec.name}-lifecycle",
                bucket=bucket.id,
                rules=lifecycle_rules(spec),
                # Noncurrent-version rules mean nothing until versioning is on.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
            )

        log_bucket = buckets[args.access_log_bucket]
        sources = {n: b for n, b in buckets.items() if n != args.access_log_bucket}
        for logical, bucket in buckets.items():
            if logical == args.access_log_bucket:
                policy = pulumi.Output.all(
                    log_bucket.arn, *[b.arn for b in sources.values()], *args.extra_log_sources
                ).apply(
                    lambda arns: json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                log_delivery_statement(arns[0], account_id, list(arns[1:])),
                                *tls_only_statements(arns[0]),
                            ],
                        }
                    )
                )
            else:
                policy = bucket.arn.apply(
                    lambda arn: json.dumps({"Version": "2012-10-17", "Statement": tls_only_statements(arn)})
                )
                aws.s3.BucketLogging(
                    f"{name}-{logical}-logging",
                    bucket=bucket.id,
                    target_bucket=log_bucket.id,
                    target_prefix=f"s3/{logical}/",
                    target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                        partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                            partition_date_source="EventTime"
                        )
                    ),
                    opts=child,
                )
            aws.s3.BucketPolicy(
                f"{name}-{logical}-policy",
                bucket=bucket.id,
                policy=policy,
                # The public access block goes first, so the policy is always judged with all four flags on.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[blocks[logical]]),
            )

        self.bucket_names = {n: b.bucket for n, b in buckets.items()}
        self.bucket_arns = {n: b.arn for n, b in buckets.items()}
        self.buckets = {n: {"name": b.bucket, "arn": b.arn} for n, b in buckets.items()}
        self.kms_key_arn = key.arn
        self.register_outputs({"buckets": self.buckets})
