"""IAM roles for Kubernetes service accounts (IRSA): one role per service account, assumable by nothing else.

The trust policy names the cluster's OIDC provider as the only principal and pins both claims of the projected
token: `sub` to exactly one `system:serviceaccount:<namespace>:<name>` (no wildcard, so another service account, even
in the same namespace, cannot assume the role) and `aud` to `sts.amazonaws.com`. Platform add-ons and catalogued
services use the same component; the permission policy is the caller's (least privilege is decided where the
workload is known: `components/addon_policies.py` for add-ons, `components/access.py` for services).

Inputs (`IrsaArgs`): the cluster's OIDC provider (`OidcProvider`: ARN and issuer without `https://`), namespace,
service account, an optional inline policy document (JSON text, or a dict that is serialised), AWS-managed policy ARNs.
Outputs: `role_arn`, `role_name`, `subject` (the pinned `system:serviceaccount:...` string), and
`service_account_annotations` (what the service account needs to pick the role up).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

STS_AUDIENCE = "sts.amazonaws.com"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
# Kubernetes names: a DNS-1123 label for namespaces, a DNS-1123 subdomain for service accounts. Neither can hold `*`
# or `?`, which is what keeps the `sub` condition from ever being a pattern.
NAMESPACE_PATTERN = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
SERVICE_ACCOUNT_PATTERN = r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?"


@dataclass(frozen=True)
class OidcProvider:
    """The cluster's IAM OIDC identity provider, as IRSA trust policies name it."""

    arn: pulumi.Input[str]
    # The issuer without the scheme, e.g. `oidc.eks.ap-northeast-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`:
    # the prefix of the condition keys `<issuer>:sub` and `<issuer>:aud`.
    issuer: pulumi.Input[str]


@dataclass(frozen=True)
class IrsaArgs:
    oidc: OidcProvider
    namespace: str
    service_account: str
    # The permission policy: an IAM policy document (dict or JSON text, plain or an Output). None: no inline policy.
    policy: pulumi.Input[Any] | None = None
    # AWS-managed policies, for the EKS add-ons whose published policy AWS maintains in step with the add-on.
    managed_policy_arns: tuple[str, ...] = ()
    description: str = ""


def service_account_subject(namespace: str, service_account: str) -> str:
    """The `sub` claim of a projected service-account token, checked so that it can never be a pattern."""
    if not re.fullmatch(NAMESPACE_PATTERN, namespace):
        raise ValueError(f"IRSA: {namespace!r} is not a Kubernetes namespace name")
    if not re.fullmatch(SERVICE_ACCOUNT_PATTERN, service_account):
        raise ValueError(f"IRSA: {service_account!r} is not a Kubernetes service account name")
    return f"system:serviceaccount:{namespace}:{service_account}"


def trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str) -> dict[str, Any]:
    """The assume-role policy: web identity from this OIDC provider, for this one service account, for STS."""
    issuer = issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ServiceAccountWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    # StringEquals, never StringLike: the values are exact.
                    "StringEquals": {
                        f"{issuer}:sub": service_account_subject(namespace, service_account),
                        f"{issuer}:aud": STS_AUDIENCE,
                    }
                },
            }
        ],
    }


def _policy_json(policy: Any) -> str:
    return policy if isinstance(policy, str) else json.dumps(policy)


class IrsaRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    subject: str
    service_account_annotations: Mapping[str, pulumi.Output[str]]

    def __init__(self, name: str, args: IrsaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:iam:IrsaRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.subject = service_account_subject(args.namespace, args.service_account)

        role = aws.iam.Role(
            f"{name}-role",
            description=args.description or f"IRSA role of {self.subject}",
            assume_role_policy=pulumi.Output.all(args.oidc.arn, args.oidc.issuer).apply(
                lambda values: json.dumps(trust_policy(values[0], values[1], args.namespace, args.service_account))
            ),
            max_session_duration=3600,
            opts=child,
        )
        if args.policy is not None:
            aws.iam.RolePolicy(
                f"{name}-policy",
                role=role.id,
                policy=pulumi.Output.from_input(args.policy).apply(_policy_json),
                opts=child,
            )
        for index, policy_arn in enumerate(args.managed_policy_arns):
            aws.iam.RolePolicyAttachment(f"{name}-managed-{index}", role=role.name, policy_arn=policy_arn, opts=child)

        self.role_arn = role.arn
        self.role_name = role.name
        self.service_account_annotations = {ROLE_ARN_ANNOTATION: role.arn}
        self.register_outputs({"roleArn": self.role_arn, "subject": self.subject})
