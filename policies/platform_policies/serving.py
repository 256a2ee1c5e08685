"""Serving the pack: the SDK's analyzer, asked to run on each resource only the policies that apply to its type.

pulumi-policy's `Analyze` walks every resource policy for every resource and, before calling each one, converts the
resource's properties from protobuf again (`MessageToDict`, deserialization, proxies). With some eighty policies of
which a handful apply to any one type, that conversion is nearly all of the pack's time, and it grows with the pack
times the stack. A policy built by `core.resource_policy` says where it applies (`policy.applies`) and does nothing
elsewhere: no violation, no diagnostic, no "not applicable". Leaving it out for other types therefore gives the same
answer, which `tests/test_policies_serving.py` checks over both stacks; a policy that does not say where it applies
runs everywhere, as before.

`Analyze` and `AnalyzeStack` are the SDK's loops (policy.py) with one difference: the SDK converts the resource (or,
for a stack policy, every resource of the stack) from protobuf again for each policy; these convert once per call and
give every policy the same read-only value (the pack's policies never change what they are given), so `core` turns it
into plain data once as well. A stack's resources are converted when a policy first reads their properties: the stack
policies read a few types' (and what those link to), and converting all of them was most of AnalyzeStack's time.
The runtime settings the SDK sets again on every call (from the environment, which does
not change) are set once, and again after a configuration call. `Remediate` answers at once when no policy is at the
remediate level: the SDK would convert the resource and then find nothing to run.

The SDK builds its servicer inside `PolicyPack(...)` from the module's `_PolicyAnalyzerServicer`; `install()` puts
this subclass there when the installed SDK has the shape it was written against, and leaves the SDK alone otherwise
(the pack is then slower, never different).
"""

from __future__ import annotations

import threading
from typing import Any

from pulumi_policy import policy as sdk

_STOCK = getattr(sdk, "_PolicyAnalyzerServicer", None)
_POLICIES_ATTR = "_PolicyAnalyzerServicer__policies"
# The servicer's private state these loops read, by the SDK's own names.
_SDK_STATE = ("policies", "stack_tags", "policy_pack_name", "policy_pack_version")


def applies_to(policy: Any, resource_type: str) -> bool:
    applies = getattr(policy, "applies", None)
    return True if applies is None else bool(applies(resource_type))


if _STOCK is not None:

    class TypeIndexedServicer(_STOCK):  # type: ignore[misc, valid-type]
        """The SDK's servicer, running on each resource only the policies that apply to its type."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._by_type: dict[str, list[Any]] = {}
            self._lock = threading.Lock()
            self._settings_ready = False
            self._remediating: bool | None = None
            # An SDK that keeps its state elsewhere is served by its own loops (slower, never different).
            self._own_loops = all(hasattr(self, f"_PolicyAnalyzerServicer__{name}") for name in _SDK_STATE)

        def _settings(self) -> None:
            if not self._settings_ready:
                self._configure_runtime_settings()
                self._settings_ready = True

        def _policies_for(self, resource_type: str) -> list[Any]:
            policies = self._by_type.get(resource_type)
            if policies is None:
                policies = [p for p in getattr(self, _POLICIES_ATTR) if applies_to(p, resource_type)]
                with self._lock:
                    self._by_type[resource_type] = policies
            return policies

        def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
            if not self._own_loops:
                return super().Analyze(request, context)
            self._settings()
            response = sdk.proto.AnalyzeResponse()
            shared: tuple[Any, Any, Any] | None = None
            tags = getattr(self, "_PolicyAnalyzerServicer__stack_tags")
            # The SDK's loop (policy.py, Analyze), over the type's policies, with the resource converted once.
            for policy in self._policies_for(request.type):
                level = self._get_enforcement_level(policy)
                if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.ResourceValidationPolicy):
                    continue
                if not policy.has_validation():
                    response.not_applicable.append(sdk.proto.PolicyNotApplicable(
                        policy_name=policy.name, reason="Policy does not implement validate"))
                    continue
                if level == sdk.EnforcementLevel.REMEDIATE:
                    level = sdk.EnforcementLevel.MANDATORY
                report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
                if shared is None:
                    shared = (_properties(request.properties), self._get_resource_options(request),
                              self._get_provider_resource(request))
                props, opts, provider = shared
                args = sdk.ResourceValidationArgs(request.type, props, request.urn, request.name, opts, provider,
                                                  self._get_policy_config(policy.name), tags)
                self._run(policy, args, report, response)
            return response

        def Remediate(self, request: Any, context: Any) -> Any:  # noqa: N802
            if self._remediating is None:
                # Over every policy, not only the type's: the SDK reports any policy at that level without a
                # remediation as not applicable, whatever the resource. Levels change only by configuration.
                self._remediating = not self._own_loops or any(
                    self._get_enforcement_level(policy) == sdk.EnforcementLevel.REMEDIATE
                    for policy in getattr(self, _POLICIES_ATTR)
                )
            if not self._remediating:
                return sdk.proto.RemediateResponse()
            return super().Remediate(request, context)

        def _run(self, policy: Any, args: Any, report: Any, response: Any) -> None:
            """One policy's validation, as the SDK runs it: a coroutine on its own loop; an unknown value read at
            preview becomes the SDK's advisory "can't run policy" diagnostic; not-applicable is recorded."""
            pack = getattr(self, "_PolicyAnalyzerServicer__policy_pack_name")
            version = getattr(self, "_PolicyAnalyzerServicer__policy_pack_version")
            try:
                result = policy.validate(args, report)
                if sdk.isawaitable(result):
                    loop = sdk.asyncio.new_event_loop()
                    loop.run_until_complete(sdk.asyncio.Task(result, loop=loop))
                    loop.close()
            except sdk.UnknownValueError as error:
                response.diagnostics.append(sdk.proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=pack,
                    policyPackVersion=version,
                    message=(f"can't run policy '{policy.name}' from policy pack '{pack}@v{version}' during "
                             f"preview: {error.message}"),
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(sdk.EnforcementLevel.ADVISORY),
                ))
            except sdk._NotApplicableError as error:
                response.not_applicable.append(sdk.proto.PolicyNotApplicable(
                    policy_name=policy.name, reason=error.reason or ""))

        def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802
            if not self._own_loops:
                return super().AnalyzeStack(request, context)
            self._settings()
            response = sdk.proto.AnalyzeResponse()
            resources: list[Any] | None = None
            tags = getattr(self, "_PolicyAnalyzerServicer__stack_tags")
            # The SDK's loop (policy.py, AnalyzeStack), with the resources built once for all policies.
            for policy in getattr(self, _POLICIES_ATTR):
                level = self._get_enforcement_level(policy)
                if level == sdk.EnforcementLevel.DISABLED or not isinstance(policy, sdk.StackValidationPolicy):
                    continue
                if level == sdk.EnforcementLevel.REMEDIATE:
                    level = sdk.EnforcementLevel.MANDATORY
                report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
                if resources is None:
                    resources = self._stack_resources(request)
                self._run(policy, sdk.StackValidationArgs(resources, self._get_policy_config(policy.name), tags), report,
                          response)
            return response

        def _stack_resources(self, request: Any) -> list[Any]:
            """The stack's resources as the SDK builds them for a stack policy: PolicyResource with parent,
            dependencies and property dependencies resolved to the resource objects. Properties are converted when
            a policy first reads them, and a provider once for all the resources that carry the same one."""
            built = []
            providers: dict[bytes, Any] = {}
            for r in request.resources:
                key = r.provider.SerializeToString(deterministic=True) if r.HasField("provider") else b""
                if key not in providers:
                    providers[key] = self._get_provider_resource(r)
                resource = _StackResource(r, self._get_resource_options(r), providers[key])
                built.append((resource, r))
            by_urn = {resource.urn: resource for resource, _ in built}
            for resource, r in built:
                if r.parent and r.parent in by_urn:
                    resource.parent = by_urn[r.parent]
                resource.dependencies.extend(by_urn[d] for d in r.dependencies if d in by_urn)
                for key, deps in r.propertyDependencies.items():
                    resource.property_dependencies[key] = [by_urn[d] for d in deps.urns if d in by_urn]
            return [resource for resource, _ in built]

        def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
            self._configured()
            return super().Configure(request, context)

        def ConfigureStack(self, request: Any, context: Any) -> Any:  # noqa: N802
            self._configured()
            return super().ConfigureStack(request, context)

        def _configured(self) -> None:
            # A configuration call changes levels and settings: both are looked at again on the next call.
            with self._lock:
                self._settings_ready, self._remediating = False, None

    def _properties(struct: Any) -> Any:
        """A resource's properties from protobuf, as the SDK gives them to a policy."""
        return sdk.unknown_checking_proxy(sdk.deserialize_properties(sdk.json_format.MessageToDict(struct)))

    class _StackResource(sdk.PolicyResource):  # type: ignore[misc, valid-type]
        """A stack's resource whose properties are converted from protobuf when a policy first reads them."""

        def __init__(self, message: Any, opts: Any, provider: Any) -> None:
            self._message = message
            self._props: Any = None
            super().__init__(message.type, None, message.urn, message.name, opts, provider, None, [], {})

        @property
        def props(self) -> Any:
            if self._props is None:
                self._props = _properties(self._message.properties)
            return self._props

        @props.setter
        def props(self, value: Any) -> None:
            self._props = value

else:  # pragma: no cover (an SDK without the servicer class)
    TypeIndexedServicer = None  # type: ignore[assignment, misc]


def install() -> bool:
    """Serve the pack with `TypeIndexedServicer`; False (and the SDK untouched) if the SDK has no such servicer."""
    if TypeIndexedServicer is None or not callable(getattr(_STOCK, "Analyze", None)):
        return False
    sdk._PolicyAnalyzerServicer = TypeIndexedServicer  # type: ignore[attr-defined]
    return True
