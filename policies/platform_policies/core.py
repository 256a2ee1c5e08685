"""Shared machinery of the pack: plain values, unknowns, the stack tier, and the policy builders.

Every policy in this pack is written against plain Python data (dicts, lists, strings) rather than the SDK's
unknown-checking proxies, so that it can look at all of a resource before deciding, and so that the policy functions
can be unit-tested with literal dicts. This module turns what the SDK hands over into that data and back:

- `plain(props)` strips the SDK proxies; an unknown value (a computed output during `pulumi preview`) becomes the
  `UNKNOWN` marker, which refuses to be used as a boolean so that no policy can treat "unknown" as "false" by accident.
- A check is a generator: it yields a violation message (a `str`) or a `Deferred` for a value it could not see.
- `resource_policy(...)` / `stack_policy(...)` wrap a check into a pulumi-policy policy that formats each message with
  the resource's type and name and the policy's remediation, turns odd input into a violation (never an exception,
  which would fail the whole `pulumi preview`), and reports deferred checks the way the SDK reports any unknown: an
  advisory "can't run policy during preview" note. The engine runs resource policies again during `pulumi up`, with
  every input known, before it creates the resource; a mandatory violation then stops it.

The rule about unknowns, applied by every policy unless its docstring says otherwise:
  * a value that is known is always checked;
  * a value whose mere presence is the violation (a password, Secret data, a static key) is a violation even when
    unknown: an unknown password is still a password in the state;
  * any other unknown value is deferred to `pulumi up` (reported as an advisory note at preview);
  * a resource graph the policy must follow (subnet groups, route tables, bucket policies) is always known at preview,
    so a link that cannot be found is a violation, not a deferral.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    _DictProxy,
    _ListProxy,
)
from pulumi_policy.secret import Secret

from . import exceptions

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class _Unknown:
    """A value that is not known yet (a computed output at preview). Deliberately not usable as a boolean."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        raise TypeError("an unknown value has no truth value: handle UNKNOWN explicitly")


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


class OddInput(Exception):
    """A value has a shape the policy cannot interpret. The policy wrappers report it as a violation."""


def plain(value: Any) -> Any:
    """The SDK's proxies and secret wrappers removed, recursively; unknown sentinels become `UNKNOWN`."""
    if isinstance(value, _DictProxy):
        target = value["__target"]
        return {key: plain(target[key]) for key in target}
    if isinstance(value, _ListProxy):
        return [plain(item) for item in value["__target"]]
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def dig(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]...`: None when a step is missing or has the wrong shape, UNKNOWN when a step is unknown."""
    for step in path:
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, Mapping):
                return None
            value = value.get(step)
    return value


def as_bool(value: Any, what: str) -> bool | None | _Unknown:
    """A boolean input. Provider inputs arrive as the strings "true"/"false"; anything else is odd."""
    if value is None or value is UNKNOWN or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise OddInput(f"{what} should be a boolean, got {value!r}")


def as_int(value: Any, what: str) -> int | None | _Unknown:
    """A whole number. Numbers cross the wire as floats, and provider inputs as strings."""
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, bool):
        raise OddInput(f"{what} should be a number, got {value!r}")
    if isinstance(value, (int, float)) and float(value).is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise OddInput(f"{what} should be a whole number, got {value!r}")


def as_str(value: Any, what: str) -> str | None | _Unknown:
    """A text input; anything else is odd."""
    if value is None or value is UNKNOWN or isinstance(value, str):
        return value
    raise OddInput(f"{what} should be text, got {value!r}")


def as_list(value: Any, what: str) -> list[Any] | _Unknown:
    """A list input; a single scalar is taken as a list of one (IAM's "string or list"), None as empty."""
    if value is None:
        return []
    if value is UNKNOWN or isinstance(value, list):
        return value
    if isinstance(value, (str, int, float, bool)):
        return [value]
    raise OddInput(f"{what} should be a list, got {type(value).__name__}")


def as_json(value: Any, what: str) -> Any:
    """A JSON document given either as text (provider inputs, policy documents) or already as an object."""
    if isinstance(value, str):
        try:
            return plain(json.loads(value))
        except ValueError as error:
            raise OddInput(f"{what} is not valid JSON ({error})") from None
    return value


# --- The stack tier ------------------------------------------------------------------------------------------------

PROD_NAMES = ("prod", "production")


@dataclass(frozen=True)
class Context:
    """What a check knows besides the resource: its policy config and where it runs."""

    config: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] | None = None  # the process environment; tests pass their own

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env

    @property
    def stack(self) -> str | None:
        """The stack's name, as the CLI tells a pack in PULUMI_STACK."""
        return self._environ().get("PULUMI_STACK") or None

    @property
    def is_prod(self) -> bool:
        """Prod when the stack is named prod (`prod`, `production`, `prod-...`), or when no stack is named at all (fail
        closed: the strict rules apply).

        The stack name is the only source: neither the policy config (`--policy-pack-config`) nor the stack's own config
        can switch the prod rules off for a stack the CLI calls prod.
        """
        stack = self.stack
        return True if stack is None else _looks_prod(stack)

    def setting(self, key: str, default: Any) -> Any:
        value = self.config.get(key) if isinstance(self.config, Mapping) else None
        return default if value is None else value


def _looks_prod(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in PROD_NAMES or lowered.startswith("prod-") or lowered.startswith("production-")


# --- Resources as the checks see them --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]


@dataclass(eq=False)
class Resource:
    """One resource: plain inputs (resource policies) or outputs (stack policies), options and, in a stack, its links."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    provider: Provider | None = None
    parent: "Resource | None" = None
    dependencies: list["Resource"] = field(default_factory=list)
    property_dependencies: dict[str, list["Resource"]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f'{self.type} "{self.name}"'

    def get(self, *path: str | int) -> Any:
        return dig(self.props, *path)

    def sources(self, prop: str, *types: str) -> list["Resource"]:
        """The resources a property's value came from (property dependencies), optionally of some types."""
        found = self.property_dependencies.get(prop, [])
        return [r for r in found if not types or r.type in types]


def _provider(value: Any) -> Provider | None:
    if value is None:
        return None
    return Provider(value.resource_type, value.name, value.urn, plain(value.props))


class StackMember(Resource):
    """A resource of a stack, its plain properties made from the SDK's when a policy first reads them: a stack policy
    reads the properties of a few types (and of what they link to), and converting every resource's was most of the
    stack analysis."""

    def __init__(self, source: Any, **fields: Any) -> None:
        self._source = source
        self._props: Mapping[str, Any] | None = None
        super().__init__(props=None, **fields)  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def props(self) -> Mapping[str, Any]:
        if self._props is None:
            self._props = plain(self._source.props)
        return self._props

    @props.setter
    def props(self, value: Mapping[str, Any] | None) -> None:
        self._props = value


# The last resource converted on each thread, with the values it came from (see `resource_from_args`).
_LAST_RESOURCE = threading.local()


def resource_from_args(args: ResourceValidationArgs) -> Resource:
    """The resource as plain data. The pack's servicer hands every policy of one Analyze call the same properties,
    options and provider (`serving.py`), so the conversion is kept for the call's next policy."""
    shared = (args.props, args.opts, args.provider)
    last = getattr(_LAST_RESOURCE, "entry", None)
    if last is not None and all(a is b for a, b in zip(last[0], shared)) and last[1].urn == args.urn:
        return last[1]
    resource = Resource(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=plain(args.props),
        protect=bool(getattr(args.opts, "protect", False)),
        provider=_provider(args.provider),
    )
    _LAST_RESOURCE.entry = (shared, resource)
    return resource


# The last stack converted, by the list of resources it came from (see `Stack.from_args`).
_LAST_STACK: dict[str, tuple[Any, "Stack"]] = {}


@dataclass
class Stack:
    """All resources of a stack with their links resolved, for policies that follow the resource graph."""

    resources: list[Resource]

    def __post_init__(self) -> None:
        self.by_urn = {r.urn: r for r in self.resources}
        # Stack policies ask for resources by type once per resource they look at: an index, not a scan each time.
        self._by_type: dict[str, list[Resource]] = {}
        for r in self.resources:
            self._by_type.setdefault(r.type, []).append(r)

    def of_type(self, *types: str) -> list[Resource]:
        """The stack's resources of these types, in the stack's order."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        wanted = set(types)
        return [r for r in self.resources if r.type in wanted]

    def dependents(self, resource: Resource, prop: str, *types: str) -> list[Resource]:
        """Resources of `types` whose property `prop` came from `resource` (e.g. the associations of a subnet)."""
        return [r for r in self.of_type(*types) if any(dep is resource for dep in r.property_dependencies.get(prop, []))]

    @classmethod
    def from_args(cls, args: StackValidationArgs) -> "Stack":
        """The stack as plain data. The pack's servicer hands every stack policy of one analysis the same list of
        resources (`serving.py`), so its conversion is kept for the next policy; a new list is converted anew."""
        last = _LAST_STACK.get("args")
        if last is not None and last[0] is args.resources:
            return last[1]
        stack = cls._convert(args)
        _LAST_STACK["args"] = (args.resources, stack)
        return stack

    @classmethod
    def _convert(cls, args: StackValidationArgs) -> "Stack":
        converted: dict[int, Resource] = {}
        # Resources share their provider: each provider is converted once.
        providers: dict[int, Provider | None] = {}
        for policy_resource in args.resources:
            given = policy_resource.provider
            if id(given) not in providers:
                providers[id(given)] = _provider(given)
            converted[id(policy_resource)] = StackMember(
                policy_resource,
                type=policy_resource.resource_type,
                name=policy_resource.name,
                urn=policy_resource.urn,
                protect=bool(getattr(policy_resource.opts, "protect", False)),
                provider=providers[id(given)],
            )
        for policy_resource in args.resources:
            resource = converted[id(policy_resource)]
            parent = policy_resource.parent
            resource.parent = converted.get(id(parent)) if parent is not None else None
            resource.dependencies = [converted[id(d)] for d in policy_resource.dependencies if id(d) in converted]
            resource.property_dependencies = {
                prop: [converted[id(d)] for d in deps if id(d) in converted]
                for prop, deps in policy_resource.property_dependencies.items()
            }
        return cls(list(converted.values()))


# --- Checks and their outcomes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deferred:
    """A check that needs a value unknown at preview; it runs during `pulumi up`, when the value is known."""

    path: str


Outcome = Union[str, Deferred]
ResourceCheck = Callable[[Resource, Context], Iterable[Outcome]]
StackCheck = Callable[[Resource, Stack, Context], Iterable[Outcome]]


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)


def collect(outcomes: Iterable[Outcome]) -> Findings:
    """Run a check to the end. Odd input and even a bug in the check become a violation, never an exception."""
    findings = Findings()
    try:
        for outcome in outcomes:
            if isinstance(outcome, Deferred):
                findings.deferred.append(outcome.path)
            elif outcome:
                findings.violations.append(str(outcome))
    except OddInput as odd:
        findings.violations.append(f"unexpected input: {odd}")
    except UnknownValueError as unknown:
        findings.deferred.append(".".join(unknown.props))
    except Exception as error:  # noqa: BLE001 - a policy must report, not crash the whole preview
        findings.violations.append(
            f"the policy could not evaluate this resource ({type(error).__name__}: {error}); "
            "it is treated as non-compliant until the input or the policy is fixed"
        )
    return findings


def message(resource: Resource, problem: str, remediation: str) -> str:
    return f"{resource.label}: {problem}\nRemediation: {remediation}"


def _report(findings: Findings, resource: Resource, remediation: str, report: ReportViolation, urn: str | None) -> None:
    for problem in findings.violations:
        if urn is None:
            report(message(resource, problem, remediation))
        else:
            report(message(resource, problem, remediation), urn)


def _excepted(policy: str, module: str, resource: Resource, violations: list[str], context: Context) -> list[str]:
    """The violations left once the policy's documented exceptions are applied (see `exceptions`)."""
    return exceptions.apply(policy, module, name=resource.name, urn=resource.urn, label=resource.label,
                            violations=violations, config=context.config, prod=context.is_prod)


@dataclass(frozen=True)
class PolicyDoc:
    """What the README table and the tests read about a policy, besides the SDK object."""

    name: str
    level: EnforcementLevel
    description: str
    module: str
    kind: str  # "resource" or "stack"


REGISTRY: list[PolicyDoc] = []


def _schema(config: Mapping[str, Mapping[str, Any]] | None) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in config.items()}) if config else None


def resource_policy(
    *,
    name: str,
    description: str,
    level: EnforcementLevel,
    severity: Severity,
    remediation: str,
    types: Collection[str] | Callable[[str], bool],
    check: ResourceCheck,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    """A policy run on each resource as it is registered (`Analyze`): it can block the resource during `up`."""
    applies = types if callable(types) else frozenset(types).__contains__
    module = check.__module__.rsplit(".", 1)[-1]

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if not applies(args.resource_type):
            return
        try:
            resource = resource_from_args(args)
        except Exception as error:  # noqa: BLE001
            report(f'{args.resource_type} "{args.name}": its inputs could not be read ({error}).\nRemediation: {remediation}')
            return
        context = Context(args.get_config() or {})
        findings = collect(check(resource, context))
        findings.violations = _excepted(name, module, resource, findings.violations, context)
        _report(findings, resource, remediation, report, None)
        if findings.deferred:
            # The SDK turns this into its standard advisory note; `pulumi up` runs the policy again with known inputs.
            raise UnknownValueError(UNKNOWN_STRING_VALUE, findings.deferred[0].split("."))

    policy = ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        severity=severity,
        remediation_steps=remediation,
        config_schema=_schema({**exceptions.CONFIG, **(config or {})}),
    )
    # What the tests and the README generator read: the check itself, where it applies, and its kind.
    policy.check = check  # type: ignore[attr-defined]
    policy.applies = applies  # type: ignore[attr-defined]
    policy.kind = "resource"  # type: ignore[attr-defined]
    policy.type_list = () if callable(types) else tuple(types)  # type: ignore[attr-defined]
    REGISTRY.append(PolicyDoc(name, level, description, check.__module__.rsplit(".", 1)[-1], "resource"))
    return policy


def stack_policy(
    *,
    name: str,
    description: str,
    level: EnforcementLevel,
    severity: Severity,
    remediation: str,
    types: Collection[str] | Callable[[str], bool],
    check: StackCheck,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> StackValidationPolicy:
    """A policy run once over the whole stack (`AnalyzeStack`), for rules that follow links between resources.

    Stack policies run after resources are registered; during `up` they report but cannot stop a creation, so the
    pipeline gates on `pulumi preview`, where they run over the planned graph.
    """
    wanted = types if callable(types) else frozenset(types).__contains__
    module = check.__module__.rsplit(".", 1)[-1]

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        stack = Stack.from_args(args)
        context = Context(args.get_config() or {})
        deferred: list[str] = []
        for resource in stack.resources:
            if not wanted(resource.type):
                continue
            findings = collect(check(resource, stack, context))
            findings.violations = _excepted(name, module, resource, findings.violations, context)
            _report(findings, resource, remediation, report, resource.urn)
            deferred.extend(findings.deferred)
        if deferred:
            raise UnknownValueError(UNKNOWN_STRING_VALUE, deferred[0].split("."))

    policy = StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        severity=severity,
        remediation_steps=remediation,
        config_schema=_schema({**exceptions.CONFIG, **(config or {})}),
    )
    policy.check = check  # type: ignore[attr-defined]
    policy.applies = wanted  # type: ignore[attr-defined]
    policy.kind = "stack"  # type: ignore[attr-defined]
    policy.type_list = () if callable(types) else tuple(sorted(types))  # type: ignore[attr-defined]
    REGISTRY.append(PolicyDoc(name, level, description, check.__module__.rsplit(".", 1)[-1], "stack"))
    return policy


