"""The account's container registry: one ECR repository per catalogued image that lives in this account.

Each repository keeps its tags immutable (a tag names one image forever, so a rollout is exactly what was tested),
scans every image on push, encrypts with a customer-managed KMS key of its own purpose, and expires what nobody runs:
untagged images after a few days and all but the newest releases. Its repository policy lets only the cluster's node
role pull (the kubelet pulls with the node's instance role) and only the CI role push; everyone else in the account
is denied both, whatever their IAM policy says, so a leaked admin session cannot swap an image under a running
service.

Inputs (`RegistryArgs`): the repository names (e.g. `platform/backend`), the KMS key ARN, the pulling and pushing
role ARNs, the lifecycle (untagged days, releases kept), whether a repository may be deleted with its images, protect.
Outputs: `repositories` (name -> {"arn", "url"}).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

# What a puller needs on the repository (the registry-wide ecr:GetAuthorizationToken comes from the node role's
# AmazonEC2ContainerRegistryPullOnly policy; it cannot be scoped to a repository).
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
# What `docker push` of a new image needs on the repository (no pull: CI builds from source, never from here).
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
# Writes denied to everyone but the CI role: pushing, retagging away and deleting images.
WRITE_ACTIONS = (
    "ecr:BatchDeleteImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


@dataclass(frozen=True)
class RegistryArgs:
    repositories: tuple[str, ...]
    kms_key_arn: pulumi.Input[str]
    pull_role_arns: Sequence[pulumi.Input[str]]
    push_role_arn: str
    untagged_expire_days: int = 7
    keep_releases: int = 30
    force_delete: bool = False
    protect: bool = True


def lifecycle_policy(untagged_expire_days: int, keep_releases: int) -> dict[str, Any]:
    """ECR lifecycle rules (pure, for tests): untagged images go after N days; of the tagged ones, the newest N stay."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_expire_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_expire_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep only the newest {keep_releases} images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_releases},
                "action": {"type": "expire"},
            },
        ]
    }


def repository_policy(pull_role_arns: Sequence[str], push_role_arn: str) -> dict[str, Any]:
    """The repository policy (pure, for tests): pull for the nodes, push for CI, and both denied to anyone else."""
    pullers = sorted(set(pull_role_arns))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullForTheClusterNodes",
                "Effect": "Allow",
                "Principal": {"AWS": pullers},
                "Action": list(PULL_ACTIONS),
            },
            {
                "Sid": "PushForTheCiRole",
                "Effect": "Allow",
                "Principal": {"AWS": [push_role_arn]},
                "Action": list(PUSH_ACTIONS),
            },
            {
                # An explicit deny beats any identity policy in the account: only the CI role writes images.
                "Sid": "DenyWritesToAllButTheCiRole",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(WRITE_ACTIONS),
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [push_role_arn]}},
            },
            {
                "Sid": "DenyPullsToAllButTheNodes",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": pullers}},
            },
        ],
    }


class Registry(pulumi.ComponentResource):
    repositories: dict[str, dict[str, pulumi.Output[str]]]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:registry:Registry", name, None, opts)
        if not args.pull_role_arns or not args.push_role_arn:
            raise ValueError("registry: a repository needs the role that pulls and the role that pushes")
        self.repositories = {}
        for repository in args.repositories:
            resource_name = f"{name}-{repository.replace('/', '-')}"
            repo = aws.ecr.Repository(
                resource_name,
                name=repository,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)
                ],
                force_delete=args.force_delete,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.ecr.LifecyclePolicy(
                f"{resource_name}-lifecycle",
                repository=repo.name,
                policy=json.dumps(lifecycle_policy(args.untagged_expire_days, args.keep_releases)),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.ecr.RepositoryPolicy(
                f"{resource_name}-policy",
                repository=repo.name,
                policy=pulumi.Output.all(*args.pull_role_arns).apply(
                    lambda pullers: json.dumps(repository_policy(pullers, args.push_role_arn))
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.repositories[repository] = {"arn": repo.arn, "url": repo.repository_url}
        self.register_outputs({"repositories": self.repositories})
