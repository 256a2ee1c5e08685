"""IAM policy documents in every shape they arrive in, normalised to one.

A document may be JSON text or an object; `Statement` a list or a single object; `Action`, `Resource` and the
principal lists a string or a list; `Principal` the string "*" or a map of principal kinds. `parse_document` accepts
all of them and returns a `Document` whose statements have tuples everywhere, plus the problems it found (a
malformed document is reported by the policies as a violation: AWS would reject it, and a policy cannot vouch for
what it cannot read). Elements that are unknown at preview stay `UNKNOWN`.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .core import UNKNOWN, Deferred, OddInput, Outcome, Resource, as_json, as_list, dig, is_unknown

EVERYONE = "*"

# Where a program's IAM documents live, in every resource pulumi-aws offers for them: type -> (property, kind).
# Kinds: "identity" (what a principal may do), "trust" (who may assume a role), "resource" (who may use a resource).
IDENTITY, TRUST, RESOURCE = "identity", "trust", "resource"
DOCUMENT_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws:iam/policy:Policy": (("policy", IDENTITY),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", IDENTITY),),
    "aws:iam/userPolicy:UserPolicy": (("policy", IDENTITY),),
    "aws:iam/groupPolicy:GroupPolicy": (("policy", IDENTITY),),
    "aws:iam/role:Role": (("inlinePolicies", IDENTITY), ("assumeRolePolicy", TRUST)),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": (("inlinePolicy", IDENTITY),),
    "aws:s3/bucketPolicy:BucketPolicy": (("policy", RESOURCE),),
    "aws:s3/bucket:Bucket": (("policy", RESOURCE),),
    "aws:s3/bucketV2:BucketV2": (("policy", RESOURCE),),
    "aws:sqs/queuePolicy:QueuePolicy": (("policy", RESOURCE),),
    "aws:sqs/queue:Queue": (("policy", RESOURCE),),
    "aws:sns/topicPolicy:TopicPolicy": (("policy", RESOURCE),),
    "aws:sns/topic:Topic": (("policy", RESOURCE),),
    "aws:kms/key:Key": (("policy", RESOURCE),),
    "aws:kms/keyPolicy:KeyPolicy": (("policy", RESOURCE),),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": (("policy", RESOURCE),),
    "aws:ecr/registryPolicy:RegistryPolicy": (("policy", RESOURCE),),
    "aws:secretsmanager/secretPolicy:SecretPolicy": (("policy", RESOURCE),),
    "aws:secretsmanager/secret:Secret": (("policy", RESOURCE),),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (("policy", RESOURCE),),
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": (("policy", RESOURCE),),
}
DOCUMENT_TYPES = tuple(DOCUMENT_PROPERTIES)


def documents_of(resource: Resource, kinds: tuple[str, ...] = (IDENTITY, TRUST, RESOURCE)) -> list[tuple[str, Any, str]]:
    """(where, raw value, kind) for every IAM document the resource carries; a role's inline policies one by one."""
    out: list[tuple[str, Any, str]] = []
    for prop, kind in DOCUMENT_PROPERTIES.get(resource.type, ()):
        if kind not in kinds:
            continue
        value = resource.get(prop)
        if prop != "inlinePolicies":
            out.append((prop, value, kind))
            continue
        if is_unknown(value):
            out.append((prop, value, kind))
            continue
        for index, item in enumerate(as_list(value, prop)):
            body = dig(item, "policy") if not is_unknown(item) else item
            name = dig(item, "name") if isinstance(item, Mapping) else None
            out.append((f"{prop}[{index}]" + (f" ({name})" if isinstance(name, str) else ""), body, kind))
    return out


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: Any  # "Allow", "Deny" or UNKNOWN
    actions: tuple[Any, ...]
    not_actions: tuple[Any, ...]
    resources: tuple[Any, ...]
    not_resources: tuple[Any, ...]
    principals: Mapping[str, tuple[Any, ...]] | None  # kind -> values; {"*": ("*",)} for Principal "*"
    not_principals: Mapping[str, tuple[Any, ...]] | None
    conditions: Mapping[str, Mapping[str, tuple[Any, ...]]]  # operator -> key -> values

    @property
    def where(self) -> str:
        return f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def condition_keys(self) -> list[str]:
        return [key for keys in self.conditions.values() for key in keys]


@dataclass
class Document:
    statements: list[Statement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _strings(value: Any, what: str, problems: list[str]) -> tuple[Any, ...]:
    if value is None:
        return ()
    if is_unknown(value) or isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        out = []
        for item in value:
            if is_unknown(item) or isinstance(item, str):
                out.append(item)
            else:
                problems.append(f"{what} contains a {type(item).__name__}, not a string")
        return tuple(out)
    problems.append(f"{what} should be a string or a list of strings, got {type(value).__name__}")
    return ()


def _principals(value: Any, what: str, problems: list[str]) -> Mapping[str, tuple[Any, ...]] | None:
    if value is None:
        return None
    if is_unknown(value):
        return {"?": (UNKNOWN,)}
    if value == EVERYONE:
        return {"*": (EVERYONE,)}
    if isinstance(value, Mapping):
        return {str(kind): _strings(ids, f"{what}.{kind}", problems) for kind, ids in value.items()}
    problems.append(f'{what} should be "*" or an object of principal kinds, got {value!r}')
    return None


def _conditions(value: Any, what: str, problems: list[str]) -> Mapping[str, Mapping[str, tuple[Any, ...]]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{what} should be an object, got {type(value).__name__}")
        return {}
    out: dict[str, dict[str, tuple[Any, ...]]] = {}
    for operator, block in value.items():
        if not isinstance(block, Mapping):
            problems.append(f"{what}.{operator} should be an object")
            continue
        out[str(operator)] = {
            str(key): _strings(values if not isinstance(values, (bool, int, float)) else str(values).lower(),
                               f"{what}.{operator}.{key}", problems)
            for key, values in block.items()
        }
    return out


def parse_document(value: Any, what: str = "policy") -> Document | None:
    """The normalised document; None when there is none; UNKNOWN (the marker) when it is unknown at preview.

    JSON text (the common form) is parsed once per text and label: every policy of the pack reads the same documents.
    """
    if value is None or value == "":
        return None
    if is_unknown(value):
        return UNKNOWN  # type: ignore[return-value]
    if isinstance(value, str):
        return _parse_text(value, what)
    return _parse(value, what)


@functools.lru_cache(maxsize=2048)
def _parse_text(value: str, what: str) -> Document | None:
    return _parse(value, what)


def _parse(value: Any, what: str) -> Document | None:
    try:
        raw = as_json(value, what)
    except OddInput as odd:
        return Document(problems=[str(odd)])
    if is_unknown(raw):
        return UNKNOWN  # type: ignore[return-value]
    if not isinstance(raw, Mapping):
        return Document(problems=[f"{what} should be a JSON object, got {type(raw).__name__}"])
    statements = raw.get("Statement")
    if is_unknown(statements):
        return UNKNOWN  # type: ignore[return-value]
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return Document(problems=[f"{what} has no Statement list"])
    document = Document()
    for index, item in enumerate(statements):
        where = f"{what} statement {index}"
        if is_unknown(item):
            document.statements.append(
                Statement(index, None, UNKNOWN, (UNKNOWN,), (), (UNKNOWN,), (), {"?": (UNKNOWN,)}, None, {})
            )
            continue
        if not isinstance(item, Mapping):
            document.problems.append(f"{where} is not an object")
            continue
        effect = item.get("Effect")
        if not (is_unknown(effect) or effect in ("Allow", "Deny")):
            document.problems.append(f'{where} has Effect {effect!r}; it must be "Allow" or "Deny"')
            continue
        sid = item.get("Sid") if isinstance(item.get("Sid"), str) else None
        document.statements.append(
            Statement(
                index=index,
                sid=sid,
                effect=effect,
                actions=_strings(item.get("Action"), f"{where} Action", document.problems),
                not_actions=_strings(item.get("NotAction"), f"{where} NotAction", document.problems),
                resources=_strings(item.get("Resource"), f"{where} Resource", document.problems),
                not_resources=_strings(item.get("NotResource"), f"{where} NotResource", document.problems),
                principals=_principals(item.get("Principal"), f"{where} Principal", document.problems),
                not_principals=_principals(item.get("NotPrincipal"), f"{where} NotPrincipal", document.problems),
                conditions=_conditions(item.get("Condition"), f"{where} Condition", document.problems),
            )
        )
    return document


def parsed_documents(resource: Resource, kinds: tuple[str, ...]) -> Iterator[tuple[str, str, Document] | Deferred]:
    """(where, kind, document) for each of the resource's documents of `kinds` that is present; an unknown one as a
    deferral."""
    for where, value, kind in documents_of(resource, kinds):
        document = parse_document(value, where)
        if document is None:
            continue
        if is_unknown(document):
            yield Deferred(where.split(" ")[0])
            continue
        assert isinstance(document, Document)
        yield where, kind, document


def statements_of(resource: Resource, kinds: tuple[str, ...], *, report_problems: bool = False
                  ) -> Iterator[tuple[str, str, Statement] | Outcome]:
    """(where, kind, statement) for every statement of the resource's documents of `kinds`; an unknown document or
    effect as a deferral, and with `report_problems` each malformed part of a document as a finding."""
    for item in parsed_documents(resource, kinds):
        if isinstance(item, Deferred):
            yield item
            continue
        where, kind, document = item
        if report_problems:
            for problem in document.problems:
                yield f"{where} is malformed: {problem}"
        for statement in document.statements:
            if is_unknown(statement.effect):
                yield Deferred(f"{where}.{statement.where}")
                continue
            yield where, kind, statement


def is_wildcard_action(action: str) -> bool:
    """`*` or `service:*` (any case): every action, or every action of a service."""
    return action.strip() == "*" or action.strip().endswith(":*")


def grants_everyone(principals: Mapping[str, tuple[Any, ...]] | None) -> bool:
    """`"*"`, `{"AWS": "*"}` (or a list with "*"), or an account wildcard such as `arn:aws:iam::*:root`."""
    if not principals:
        return False
    for kind, ids in principals.items():
        if kind == "*":
            return True
        for principal in ids:
            if isinstance(principal, str) and kind in ("AWS", "CanonicalUser") and (
                principal.strip() == "*" or ":*:" in principal or principal.endswith("::*")
            ):
                return True
    return False


def matches(action: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """Whether an action is covered by one of the patterns (IAM wildcards, case-insensitive)."""
    lowered = action.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)
