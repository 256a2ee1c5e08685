"""Customer-managed KMS keys for the data stores, their secrets and the alerts topic.

One key per purpose (database, cache, buckets, queues, secrets, alerts) so that a grant on one never opens another.
Rotation is on. The key policy gives the account's administrators an explicit list of key-administration and
key-use actions (no `kms:*`), which delegates use of the key to IAM: a workload can use the key only if its own IAM
policy also allows it (see `components/access.py`). Services that call KMS as themselves (CloudWatch publishing to an
encrypted SNS topic) get data-key use only, and only on behalf of this account.

Inputs (`KeyArgs`): description, alias name, calling service principals, deletion window, protect.
Outputs: `arn`, `key_id`, `alias_name`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# What the account's administrators (through IAM) may do to the key itself. Listed, not `kms:*`: nothing beyond
# these is needed to run, rotate, re-tag or retire a key, and `kms:PutKeyPolicy` keeps the key manageable.
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# What principals of the account may do with the key when their IAM policy allows it. RDS, ElastiCache and S3 use
# the key through grants created on the caller's behalf, hence CreateGrant/RetireGrant.
USE_ACTIONS = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
)
SERVICE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class KeyArgs:
    """Inputs of one key. Defaults are the safe choice: protected, the longest deletion window."""

    description: str
    alias: str  # e.g. "alias/platform-prod/database"
    # AWS services that call KMS under their own principal, not through a grant (e.g. cloudwatch.amazonaws.com).
    service_principals: tuple[str, ...] = ()
    # What those services may do (CloudWatch Logs also encrypts and describes the key), and a condition replacing
    # the account guard, which must pin the account itself (e.g. the log group's ARN in the encryption context).
    service_actions: tuple[str, ...] = ()
    service_condition: dict | None = None
    deletion_window_days: int = 30
    protect: bool = True


def key_policy(
    account_id: str,
    partition: str,
    service_principals: tuple[str, ...] = (),
    service_actions: tuple[str, ...] = (),
    service_condition: dict | None = None,
) -> dict:
    """The key policy document (pure, so that tests can read it without running the program)."""
    root = f"arn:{partition}:iam::{account_id}:root"
    # In a key policy, "Resource": "*" means "this key": a key policy cannot name any other resource.
    statements = [
        {
            "Sid": "KeyAdministrationThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(ADMIN_ACTIONS),
            "Resource": "*",
        },
        {
            "Sid": "KeyUseThroughIam",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": list(USE_ACTIONS),
            "Resource": "*",
        },
    ]
    if service_principals:
        # The confused-deputy guard: the service may use the key only for this account's resources; a caller may
        # give a narrower condition instead, which must itself pin the account (CloudWatch Logs: the log group's
        # ARN in the encryption context, the form AWS documents for log group keys).
        condition: dict = service_condition or {"StringEquals": {"aws:SourceAccount": account_id}}
        statements.append(
            {
                "Sid": "ServiceUseForThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": sorted(service_principals)},
                "Action": list(service_actions or SERVICE_ACTIONS),
                "Resource": "*",
                "Condition": condition,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


class EncryptionKey(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]
    alias_name: pulumi.Output[str]

    def __init__(self, name: str, args: KeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:kms:EncryptionKey", name, None, opts)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition

        key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            policy=json.dumps(
                key_policy(account_id, partition, args.service_principals, args.service_actions, args.service_condition)
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        alias = aws.kms.Alias(
            f"{name}-alias", name=args.alias, target_key_id=key.key_id, opts=pulumi.ResourceOptions(parent=self)
        )

        self.arn = key.arn
        self.key_id = key.key_id
        self.alias_name = alias.name
        self.register_outputs({"arn": self.arn, "aliasName": self.alias_name})
