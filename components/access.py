"""Least-privilege IAM policy documents for services: exactly what a service's catalogue entry declares, no more.

Pure: declares no resources. A `ServiceAccess` lists the queues a service sends to or receives from, the bucket
prefixes it reads, writes or deletes under, the secrets it reads and the database users it connects as (IAM
database authentication). `policy_document(access, context)` turns that into an IAM policy document with specific
actions on specific ARNs: no wildcard actions, and `Resource: "*"` only for actions that cannot be scoped to a
resource (there are none among these). KMS use is granted on the named key only, and only through the service that
needs it (`kms:ViaService`), so a key shared by several queues cannot be used directly.

Returns a dict when every ARN is a plain string, else an `Output[str]` of the JSON text (ARNs are often Outputs of
the data components), ready for `aws.iam.Policy(policy=...)` or an IRSA role's inline policy. `problems(document)`
checks a finished document against the same rules; components/irsa.py turns these documents into IRSA roles.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pulumi

SEND_ACTIONS = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
RECEIVE_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)
SECRET_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
# Actions IAM cannot scope to a resource ARN; only these may ever be granted on "*". None of this helper's grants
# need one, so the set is empty and any "*" resource is a bug.
UNSCOPABLE_ACTIONS: frozenset[str] = frozenset()
KNOWN_ACTIONS = frozenset(
    {
        *SEND_ACTIONS,
        *RECEIVE_ACTIONS,
        *SECRET_ACTIONS,
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "rds-db:connect",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
)
DB_USER_PATTERN = r"[a-z_][a-z0-9_]{0,62}"
DB_RESOURCE_ID_PATTERN = r"db-[A-Z0-9]{10,64}"


@dataclass(frozen=True)
class QueueAccess:
    arn: pulumi.Input[str]
    send: bool = False
    receive: bool = False
    kms_key_arn: pulumi.Input[str] | None = None  # the queue's SSE key (messaging's kms_key_arn)


@dataclass(frozen=True)
class BucketAccess:
    arn: pulumi.Input[str]
    # Key prefixes ending in "/" ("avatars/"); "" means the whole bucket.
    prefixes: tuple[str, ...] = ("",)
    read: bool = False
    write: bool = False
    delete: bool = False
    kms_key_arn: pulumi.Input[str] | None = None  # the bucket's SSE-KMS key (storage's kms_key_arn)


@dataclass(frozen=True)
class SecretAccess:
    arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str] | None = None  # the secret's key (the stack's secrets key)


@dataclass(frozen=True)
class DatabaseAccess:
    resource_id: pulumi.Input[str]  # the instance's DbiResourceId ("db-ABCD..."), not its name
    user: str


@dataclass(frozen=True)
class ServiceAccess:
    service: str
    queues: tuple[QueueAccess, ...] = ()
    buckets: tuple[BucketAccess, ...] = ()
    secrets: tuple[SecretAccess, ...] = ()
    databases: tuple[DatabaseAccess, ...] = ()

    @property
    def grants_anything(self) -> bool:
        return bool(self.queues or self.buckets or self.secrets or self.databases)


@dataclass(frozen=True)
class AwsContext:
    region: str
    account_id: str
    partition: str = "aws"


def _validate(access: ServiceAccess) -> None:
    where = f"service {access.service!r}"
    if not access.grants_anything:
        raise ValueError(f"{where}: declares no access; a policy with no statements is invalid (give it no role)")
    for queue in access.queues:
        if not (queue.send or queue.receive):
            raise ValueError(f"{where}: a queue entry must send, receive or both")
    for bucket in access.buckets:
        if not (bucket.read or bucket.write or bucket.delete):
            raise ValueError(f"{where}: a bucket entry must read, write or delete")
        if not bucket.prefixes:
            raise ValueError(f"{where}: a bucket entry needs at least one prefix ('' for the whole bucket)")
        for prefix in bucket.prefixes:
            if any(c in prefix for c in "*?$") or prefix.startswith("/") or (prefix and not prefix.endswith("/")):
                raise ValueError(f"{where}: bucket prefix {prefix!r} must be a plain path ending in '/' (or '')")
    for database in access.databases:
        if not re.fullmatch(DB_USER_PATTERN, database.user):
            raise ValueError(f"{where}: database user {database.user!r} is not a PostgreSQL role name")


def _check_arn(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith("arn:") or "*" in value or "?" in value:
        raise ValueError(f"{what} must be a specific ARN, got {value!r}")
    return value


def _sorted_unique(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


def statements(access: ServiceAccess, context: AwsContext) -> list[dict[str, Any]]:
    """The statements for an access description whose ARNs are all plain strings."""
    _validate(access)
    out: list[dict[str, Any]] = []
    # (via-service, key ARN) -> actions: KMS grants are merged per service and key at the end.
    kms: dict[tuple[str, str], set[str]] = {}

    def allow(sid: str, actions: Iterable[str], resources: Iterable[str], condition: dict | None = None) -> None:
        resources = _sorted_unique(resources)
        if not resources:
            return
        statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": _sorted_unique(actions), "Resource": resources}
        if condition:
            statement["Condition"] = condition
        out.append(statement)

    def use_key(service: str, key_arn: Any, *actions: str) -> None:
        if key_arn is not None:
            kms.setdefault((service, _check_arn(key_arn, "a KMS key ARN")), set()).update(actions)

    allow("SendMessages", SEND_ACTIONS, (_check_arn(q.arn, "a queue ARN") for q in access.queues if q.send))
    allow("ReceiveMessages", RECEIVE_ACTIONS, (_check_arn(q.arn, "a queue ARN") for q in access.queues if q.receive))
    for queue in access.queues:
        # Sending encrypts under a fresh data key; receiving decrypts it.
        if queue.send:
            use_key("sqs", queue.kms_key_arn, "kms:GenerateDataKey", "kms:Decrypt")
        if queue.receive:
            use_key("sqs", queue.kms_key_arn, "kms:Decrypt")

    def objects(bucket: BucketAccess) -> list[str]:
        arn = _check_arn(bucket.arn, "a bucket ARN")
        return [f"{arn}/{prefix}*" for prefix in bucket.prefixes]

    allow("ReadObjects", ["s3:GetObject"], (o for b in access.buckets if b.read for o in objects(b)))
    allow("WriteObjects", ["s3:PutObject"], (o for b in access.buckets if b.write for o in objects(b)))
    allow("DeleteObjects", ["s3:DeleteObject"], (o for b in access.buckets if b.delete for o in objects(b)))
    for index, bucket in enumerate((b for b in access.buckets if b.read), start=1):
        # Listing is scoped to the same prefixes as reading; without it a missing key reads as 403, not 404.
        whole = "" in bucket.prefixes
        condition = None if whole else {"StringLike": {"s3:prefix": [f"{p}*" for p in sorted(bucket.prefixes)]}}
        allow(f"ListBucket{index}", ["s3:ListBucket"], [_check_arn(bucket.arn, "a bucket ARN")], condition)
    for bucket in access.buckets:
        if bucket.read:
            use_key("s3", bucket.kms_key_arn, "kms:Decrypt")
        if bucket.write:
            # Multipart uploads under SSE-KMS decrypt the data key to complete the upload.
            use_key("s3", bucket.kms_key_arn, "kms:GenerateDataKey", "kms:Decrypt")

    allow("ReadSecrets", SECRET_ACTIONS, (_check_arn(s.arn, "a secret ARN") for s in access.secrets))
    for secret in access.secrets:
        use_key("secretsmanager", secret.kms_key_arn, "kms:Decrypt")

    for database in access.databases:
        if not (isinstance(database.resource_id, str) and re.fullmatch(DB_RESOURCE_ID_PATTERN, database.resource_id)):
            raise ValueError(f"a database resource id (DbiResourceId, 'db-...') is needed, got {database.resource_id!r}")
    allow(
        "ConnectToDatabase",
        ["rds-db:connect"],
        (
            f"arn:{context.partition}:rds-db:{context.region}:{context.account_id}:dbuser:{d.resource_id}/{d.user}"
            for d in access.databases
        ),
    )

    for service in ("sqs", "s3", "secretsmanager"):
        by_actions: dict[tuple[str, ...], list[str]] = {}
        for (via, key_arn), actions in kms.items():
            if via == service:
                by_actions.setdefault(tuple(sorted(actions)), []).append(key_arn)
        for index, (actions, keys) in enumerate(sorted(by_actions.items()), start=1):
            name = {"sqs": "Sqs", "s3": "S3", "secretsmanager": "SecretsManager"}[service]
            allow(
                f"UseKeysVia{name}{'' if index == 1 else index}",
                actions,
                keys,
                {"StringEquals": {"kms:ViaService": f"{service}.{context.region}.amazonaws.com"}},
            )
    return out


def _has_outputs(value: Any) -> bool:
    if isinstance(value, (pulumi.Output, pulumi.Resource)) or hasattr(value, "__await__"):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_has_outputs(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list)):
        return any(_has_outputs(v) for v in value)
    return False


def _resolved(value: Any) -> pulumi.Output[Any]:
    """The same structure with every Output inside it resolved to its plain value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value)]
        return pulumi.Output.all(*[_resolved(getattr(value, n)) for n in names]).apply(
            lambda parts: dataclasses.replace(value, **dict(zip(names, parts)))
        )
    if isinstance(value, tuple):
        return pulumi.Output.all(*[_resolved(v) for v in value]).apply(tuple)
    return pulumi.Output.from_input(value)


def document(access: ServiceAccess, context: AwsContext) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements(access, context)}


def policy_document(access: ServiceAccess, context: AwsContext) -> dict[str, Any] | pulumi.Output[str]:
    """The policy document: a dict for plain ARNs, an Output of its JSON text when any ARN is an Output."""
    if not _has_outputs(access):
        return document(access, context)
    _validate(access)  # fail at declaration time, not inside an apply
    return _resolved(access).apply(lambda plain: json.dumps(document(plain, context)))


def problems(policy: dict[str, Any]) -> list[str]:
    """What makes a finished document not least-privilege: wildcard or unknown actions, or unjustified "*"."""
    found: list[str] = []
    for statement in policy.get("Statement", []):
        sid = statement.get("Sid", "?")
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"{sid}: NotAction/NotResource grant more than they name")
        for action in actions:
            if "*" in action or "?" in action:
                found.append(f"{sid}: wildcard action {action}")
            elif action not in KNOWN_ACTIONS and action not in UNSCOPABLE_ACTIONS:
                found.append(f"{sid}: unexpected action {action}")
        if "*" in resources and not set(actions) <= UNSCOPABLE_ACTIONS:
            found.append(f"{sid}: Resource '*' for actions that can be scoped: {actions}")
    return found
