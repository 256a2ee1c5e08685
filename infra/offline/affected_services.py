"""Which catalogued services a change touches, and through what.

A service is affected when one of its own resources changes, or something it depends on does. Its own resources are
the components the program names after it (`service-<name>`: its workload and its IAM role) with everything under
them. What it depends on is read from the plan, not guessed from names:

- what its resources' inputs came from (property dependencies) and what they wait for (dependencies): its data stores,
  queues, buckets and secrets (the ConfigMap and ExternalSecret name them, the role's policy names the queues and
  buckets), the add-ons it waits for; and, inside each of those resources' own top-level component (following parents),
  what they in turn depend on (a queue's dead-letter queue and key, a database's subnet group and security group);
- the cluster it runs on: the top-level component that holds its Kubernetes provider (following the provider's parent),
  node groups and add-ons included;
- the shared ingress its catalogue entry's route names (the catalogue in config): that IngressGroup component.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import engine
from .plan_diff import StackDiff

SERVICE_PREFIX = "service-"


@dataclass(frozen=True)
class Cause:
    op: str
    type: str
    name: str
    own: bool  # the service's own resource, else something it depends on


@dataclass
class AffectedService:
    name: str
    causes: list[Cause] = field(default_factory=list)
    new: bool = False
    removed: bool = False

    @property
    def own(self) -> list[Cause]:
        return [c for c in self.causes if c.own]

    @property
    def dependencies(self) -> list[Cause]:
        return [c for c in self.causes if not c.own]


def _top(plan: engine.Plan, resource: engine.CapturedResource) -> engine.CapturedResource:
    while resource.parent:
        resource = plan.get(resource.parent)
    return resource


def _edges(resource: engine.CapturedResource) -> set[str]:
    out = set(resource.dependencies)
    for urns in resource.property_dependencies.values():
        out.update(urns)
    if resource.provider_urn:
        out.add(resource.provider_urn)
    return out


def own_resources(plan: engine.Plan, service: str) -> set[str]:
    tops = [r for r in plan if r.parent is None and r.name == SERVICE_PREFIX + service]
    return {urn for top in tops for urn in [top.urn, *(d.urn for d in plan.descendants(top.urn))]}


def scope(plan: engine.Plan, service: str, ingress: str | None = None) -> tuple[set[str], set[str]]:
    """(own, depended-on) URNs of `service` in `plan`."""
    by_urn = {r.urn: r for r in plan}
    own = own_resources(plan, service)
    depends: set[str] = set()

    def follow(urn: str, top_urn: str) -> None:
        """`urn` and what it depends on inside the same top-level component."""
        if urn in depends or urn in own or urn not in by_urn:
            return
        depends.add(urn)
        resource = by_urn[urn]
        depends.update(d.urn for d in plan.descendants(urn))
        for edge in _edges(resource):
            if edge in by_urn and _top(plan, by_urn[edge]).urn == top_urn:
                follow(edge, top_urn)

    for urn in own:
        resource = by_urn[urn]
        for edge in _edges(resource):
            if edge in by_urn and edge not in own:
                follow(edge, _top(plan, by_urn[edge]).urn)
        # The cluster the service runs on: the top-level component holding its Kubernetes provider.
        provider = by_urn.get(resource.provider_urn or "")
        if provider is not None and provider.type.startswith("pulumi:providers:kubernetes") and provider.parent:
            cluster = _top(plan, provider)
            depends.update({cluster.urn, *(d.urn for d in plan.descendants(cluster.urn))})
    if ingress:
        for top in (r for r in plan if r.parent is None and r.name == ingress):
            depends.update({top.urn, *(d.urn for d in plan.descendants(top.urn))})
    return own, depends - own


def services_of(catalogue: Mapping[str, Any] | None, plan: engine.Plan) -> dict[str, str | None]:
    """Service name -> the ingress its route names (None when internal). From the catalogue when it could be read,
    else from the plan's workload components."""
    if catalogue is not None:
        return {name: entry.get("ingress") for name, entry in catalogue.items()}
    return {r.name[len(SERVICE_PREFIX):]: None for r in plan
            if r.parent is None and r.type == "platform:workloads:Workload" and r.name.startswith(SERVICE_PREFIX)}


def affected(diff: StackDiff, head_catalogue: Mapping[str, Any] | None,
             base_catalogue: Mapping[str, Any] | None) -> list[AffectedService]:
    head_services = services_of(head_catalogue, diff.head)
    base_services = services_of(base_catalogue, diff.base)
    changed = {c.urn: c for c in diff.changes}
    result: list[AffectedService] = []
    for name in sorted(set(head_services) | set(base_services)):
        entry = AffectedService(name, new=name not in base_services, removed=name not in head_services)
        seen: set[str] = set()
        for plan, services in ((diff.head, head_services), (diff.base, base_services)):
            if name not in services:
                continue
            own, depends = scope(plan, name, services[name])
            for urn in sorted(own | depends):
                if urn in changed and urn not in seen:
                    seen.add(urn)
                    change = changed[urn]
                    entry.causes.append(Cause(change.op, change.type, change.name, urn in own))
        if entry.causes or entry.new or entry.removed:
            result.append(entry)
    return result


def names(services: Iterable[AffectedService]) -> set[str]:
    return {s.name for s in services}
