"""Rule 6 (mandatory, prod only): nothing lost in prod.

In prod, stateful AWS resources (databases, caches, brokers, buckets, KMS keys, file systems, tables) carry the
`protect` resource option, so `pulumi destroy` or a removed line of code cannot delete them; deletion protection where
the service has it; a final snapshot where the service takes one (RDS, Aurora, ElastiCache); and retained backups
(automated backups, snapshot retention, bucket versioning).

These rules apply only when the stack is prod. The pack learns that from the stack's name, as the CLI tells it in
PULUMI_STACK (see `core.Context.is_prod`); no config can change it, and a pack told no stack applies them. A
disposable staging database therefore passes, and no config file can relax a prod stack.

Unknowns: these settings are literals; an unknown one is deferred to `pulumi up`. A final snapshot identifier that
is unknown (built from another output) is present, which is what counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from .core import (
    MANDATORY,
    UNKNOWN,
    Context,
    Deferred,
    Outcome,
    Resource,
    Stack,
    as_bool,
    as_int,
    dig,
    is_unknown,
    resource_policy,
    stack_policy,
)

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
CACHE_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

STATEFUL_TYPES = (
    RDS_INSTANCE,
    RDS_CLUSTER,
    CACHE_GROUP,
    CACHE_CLUSTER,
    "aws:elasticache/serverlessCache:ServerlessCache",
    "aws:mq/broker:Broker",
    *BUCKET_TYPES,
    "aws:kms/key:Key",
    "aws:efs/fileSystem:FileSystem",
    "aws:dynamodb/table:Table",
)


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _is_replica(resource: Resource) -> bool:
    return _present(resource.get("replicateSourceDb")) or _present(resource.get("replicationSourceIdentifier"))


def check_protected(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    if resource.type == CACHE_CLUSTER and _present(resource.get("replicationGroupId")):
        return  # a member node; the replication group carries the data
    if not resource.protect:
        yield "is a stateful prod resource without the `protect` option, so a destroy or a deleted line removes it"


prod_stateful_resources_protected = resource_policy(
    name="prod-stateful-resources-protected",
    description="In prod, databases, caches, brokers, buckets and KMS keys carry the protect resource option.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="pass opts=pulumi.ResourceOptions(protect=True) (from the component's prod settings).",
    types=STATEFUL_TYPES,
    check=check_protected,
)


def check_deletion_protection(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    kind = resource.type
    if kind in (RDS_INSTANCE, RDS_CLUSTER):
        value = as_bool(resource.get("deletionProtection"), "deletionProtection")
        if value is UNKNOWN:
            yield Deferred("deletionProtection")
        elif value is not True:
            yield "has no deletion protection (deletionProtection)"
    elif kind == "aws:dynamodb/table:Table":
        value = as_bool(resource.get("deletionProtectionEnabled"), "deletionProtectionEnabled")
        if value is UNKNOWN:
            yield Deferred("deletionProtectionEnabled")
        elif value is not True:
            yield "has no deletion protection (deletionProtectionEnabled)"
    elif kind in BUCKET_TYPES:
        value = as_bool(resource.get("forceDestroy"), "forceDestroy")
        if value is UNKNOWN:
            yield Deferred("forceDestroy")
        elif value is True:
            yield "sets forceDestroy, so deleting the bucket deletes every object in it"
    elif kind == "aws:kms/key:Key":
        minimum = int(ctx.setting("minimumKeyDeletionWindowDays", 30))
        window = as_int(resource.get("deletionWindowInDays"), "deletionWindowInDays")
        if window is UNKNOWN:
            yield Deferred("deletionWindowInDays")
        elif window is not None and window < minimum:
            yield f"can be deleted after {window} days; prod keys keep the longest window ({minimum} days)"


prod_deletion_protection = resource_policy(
    name="prod-deletion-protection",
    description="In prod, deletion protection is on wherever the service has it (RDS, Aurora, DynamoDB, S3, KMS).",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("set deletion_protection=True (RDS/Aurora), deletion_protection_enabled=True (DynamoDB), "
                 "force_destroy=False (S3) and the full deletion window for KMS keys."),
    types=(RDS_INSTANCE, RDS_CLUSTER, "aws:dynamodb/table:Table", *BUCKET_TYPES, "aws:kms/key:Key"),
    check=check_deletion_protection,
    config={
        "minimumKeyDeletionWindowDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30},
    },
)


def check_final_snapshot(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    if resource.type in (RDS_INSTANCE, RDS_CLUSTER):
        if _is_replica(resource):
            return  # replicas take no final snapshot; their source does
        skip = as_bool(resource.get("skipFinalSnapshot"), "skipFinalSnapshot")
        if skip is UNKNOWN:
            yield Deferred("skipFinalSnapshot")
        elif skip is True:
            yield "skips the final snapshot, so deleting it loses the data"
    elif resource.type == CACHE_CLUSTER and _present(resource.get("replicationGroupId")):
        return
    if not _present(resource.get("finalSnapshotIdentifier")):
        yield "names no final snapshot (finalSnapshotIdentifier)"


prod_final_snapshots = resource_policy(
    name="prod-final-snapshots",
    description="In prod, RDS, Aurora and ElastiCache take a final snapshot when deleted.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="set skip_final_snapshot=False and a final_snapshot_identifier.",
    types=(RDS_INSTANCE, RDS_CLUSTER, CACHE_GROUP, CACHE_CLUSTER),
    check=check_final_snapshot,
)


def check_backups(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    if resource.type in (RDS_INSTANCE, RDS_CLUSTER):
        if _is_replica(resource):
            return
        minimum, prop = int(ctx.setting("minimumBackupRetentionDays", 7)), "backupRetentionPeriod"
    else:
        if resource.type == CACHE_CLUSTER and _present(resource.get("replicationGroupId")):
            return
        minimum, prop = int(ctx.setting("minimumSnapshotRetentionDays", 1)), "snapshotRetentionLimit"
    days = as_int(resource.get(prop), prop)
    if days is UNKNOWN:
        yield Deferred(prop)
    elif days is None or days < minimum:
        yield f"keeps backups for {days or 0} days ({prop}); prod keeps at least {minimum}"


prod_backups_retained = resource_policy(
    name="prod-backups-retained",
    description="In prod, databases keep automated backups and caches keep snapshots for the minimum period.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="raise backup_retention_period (RDS/Aurora) or snapshot_retention_limit (ElastiCache) to the minimum.",
    types=(RDS_INSTANCE, RDS_CLUSTER, CACHE_GROUP, CACHE_CLUSTER),
    check=check_backups,
    config={
        "minimumBackupRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 7},
        "minimumSnapshotRetentionDays": {"type": "integer", "minimum": 1, "maximum": 35, "default": 1},
    },
)

VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")


def check_bucket_versioning(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    inline = as_bool(dig(resource.props, "versioning", "enabled"), "versioning.enabled")
    if inline is True:
        return
    statuses = [v.get("versioningConfiguration", "status") for v in stack.dependents(resource, "bucket", *VERSIONING_TYPES)]
    if any(is_unknown(s) for s in statuses):
        yield Deferred("versioningConfiguration.status")
    elif "Enabled" not in statuses:
        yield "is not versioned, so an overwritten or deleted object cannot be recovered"


prod_buckets_versioned = stack_policy(
    name="prod-buckets-versioned",
    description="In prod, every S3 bucket is versioned, so overwritten or deleted objects can be recovered.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation='declare aws.s3.BucketVersioning for the bucket with status "Enabled".',
    types=BUCKET_TYPES,
    check=check_bucket_versioning,
)

POLICIES = [
    prod_stateful_resources_protected,
    prod_deletion_protection,
    prod_final_snapshots,
    prod_backups_retained,
    prod_buckets_versioned,
]
