"""What a change does to one stack: the resources to create, update, replace and delete between two captured plans.

`diff(base, head)` matches resources by URN, as the engine matches a program's registrations against the stack's
state: a URN only at head is a create, only at the base a delete; a resource at both whose inputs differ is an update,
or a replacement when a changed input is one the cloud cannot change in place (`replacement.py`). Plans are compared
in update mode (every value known), so a difference is a real difference and not an unknown.

A replacement makes a new resource, whose outputs (IDs, ARNs) are unknown until it exists. As `pulumi preview` does,
every input that came from a replaced resource (its property dependencies) is then shown as changing to a value known
only after the replacement, and may in turn replace its own resource (a subnet's route table association is replaced
with the subnet). This repeats until nothing new is replaced.

Components are shown created or deleted with their URN; their own inputs are not diffed (they have no provider). The
remote pulumi-eks component is opaque offline: its inputs are diffed, and a change is reported as an update, since its
children (and so any replacement among them) are decided by the component at deploy time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import engine, replacement

MISSING = replacement.MISSING
OPS = ("create", "update", "replace", "delete")
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}


@dataclass(frozen=True)
class PropertyDiff:
    """One top-level input that differs. `old`/`new` are wire values (secrets marked; MISSING when absent)."""

    key: str
    old: Any
    new: Any
    replaces: str | None = None  # why this change forces a replacement
    computed: bool = False  # the new value comes from a replaced resource: known only after the replacement
    source: str | None = None  # that resource's URN

    @property
    def kind(self) -> str:
        if self.old is MISSING:
            return "add"
        if self.new is MISSING:
            return "delete"
        return "update"


@dataclass(frozen=True)
class ResourceDiff:
    op: str  # create, update, replace or delete
    resource: engine.CapturedResource  # head's resource (base's for a delete)
    properties: tuple[PropertyDiff, ...] = ()
    stateful: bool = False
    delete_before_replace: bool = False
    protected: bool = False  # protected at the base: the engine refuses to replace or delete it

    @property
    def urn(self) -> str:
        return self.resource.urn

    @property
    def type(self) -> str:
        return self.resource.type

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def replace_reasons(self) -> list[str]:
        return sorted({p.replaces for p in self.properties if p.replaces})


@dataclass
class StackDiff:
    stack: str
    base: engine.Plan
    head: engine.Plan
    changes: list[ResourceDiff] = field(default_factory=list)

    def of(self, op: str) -> list[ResourceDiff]:
        return [c for c in self.changes if c.op == op]

    def names(self, op: str) -> set[str]:
        return {c.name for c in self.of(op)}

    def change(self, urn: str) -> ResourceDiff | None:
        for c in self.changes:
            if c.urn == urn:
                return c
        return None

    @property
    def counts(self) -> dict[str, int]:
        counts = {op: len(self.of(op)) for op in OPS}
        counts["same"] = len({r.urn for r in self.head} & {r.urn for r in self.base}) - counts["update"] - counts["replace"]
        return counts

    @property
    def empty(self) -> bool:
        return not self.changes


def _diffed(resource: engine.CapturedResource) -> bool:
    """Resources whose inputs a provider compares: custom resources and remote components (opaque offline)."""
    return resource.custom or resource.remote


def _provider_inputs(plan: engine.Plan, resource: engine.CapturedResource) -> Mapping[str, Any]:
    urn = resource.provider_urn
    if not urn:
        return {}
    try:
        return plan.get(urn).inputs
    except LookupError:
        return {}


def _direct(base_r: engine.CapturedResource, head_r: engine.CapturedResource, head: engine.Plan,
            region: str) -> dict[str, PropertyDiff]:
    props: dict[str, PropertyDiff] = {}
    if not _diffed(head_r):
        return props
    provider_inputs = _provider_inputs(head, head_r)
    for key in sorted(set(base_r.inputs) | set(head_r.inputs)):
        old, new = base_r.inputs.get(key, MISSING), head_r.inputs.get(key, MISSING)
        if not replacement.changed_paths(old, new):
            continue
        reason = replacement.replacement_reason(head_r, key, old, new, region=region, provider_inputs=provider_inputs)
        props[key] = PropertyDiff(key, old, new, reason)
    return props


def diff(base: engine.Plan, head: engine.Plan, *, region: str = "ap-northeast-2") -> StackDiff:
    base_by = {r.urn: r for r in base}
    head_by = {r.urn: r for r in head}
    common = [urn for urn in head_by if urn in base_by]
    props = {urn: _direct(base_by[urn], head_by[urn], head, region) for urn in common}

    # Replacements propagate through property dependencies until nothing new is replaced.
    replaced: set[str] = {urn for urn, p in props.items() if any(d.replaces for d in p.values())}
    frontier = set(replaced)
    while frontier:
        next_frontier: set[str] = set()
        for urn in common:
            resource = head_by[urn]
            if not _diffed(resource):
                continue
            for key, sources in resource.property_dependencies.items():
                source = next((s for s in sources if s in frontier), None)
                if source is None or key in props[urn]:
                    continue
                old = base_by[urn].inputs.get(key, MISSING)
                reason = replacement.replacement_reason(
                    resource, key, old, engine.UNKNOWN, region=region, provider_inputs=_provider_inputs(head, resource)
                )
                props[urn][key] = PropertyDiff(key, old, engine.UNKNOWN, reason, computed=True, source=source)
                if reason and urn not in replaced:
                    replaced.add(urn)
                    next_frontier.add(urn)
        frontier = next_frontier

    changes: list[ResourceDiff] = []
    for urn, resource in head_by.items():
        if urn not in base_by:
            changes.append(ResourceDiff("create", resource, stateful=replacement.is_stateful(resource)))
            continue
        found = props[urn]
        if not found:
            continue
        op = "replace" if urn in replaced else "update"
        before = base_by[urn]
        changes.append(
            ResourceDiff(
                op,
                resource,
                tuple(found[k] for k in sorted(found)),
                stateful=replacement.is_stateful(resource) or replacement.is_stateful(before),
                delete_before_replace=op == "replace" and _delete_first(before, resource),
                protected=before.protect,
            )
        )
    for urn, resource in base_by.items():
        if urn not in head_by:
            changes.append(ResourceDiff("delete", resource, stateful=replacement.is_stateful(resource),
                                        protected=resource.protect))
    order = {op: i for i, op in enumerate(("delete", "replace", "update", "create"))}
    changes.sort(key=lambda c: (order[c.op], c.type, c.name))
    return StackDiff(head.stack, base, head, changes)


def _delete_first(before: engine.CapturedResource, after: engine.CapturedResource) -> bool:
    """Replaced by deleting first: when the option says so, or, as the Kubernetes provider decides, for an object
    with a fixed name that keeps its name and namespace (a second object of that name cannot exist beside it)."""
    if after.options.get("deleteBeforeReplace"):
        return True
    if not after.type.startswith("kubernetes:"):
        return False
    old, new = engine.unwrap(before.inputs.get("metadata")), engine.unwrap(after.inputs.get("metadata"))
    if not (isinstance(old, dict) and isinstance(new, dict) and new.get("name")):
        return False
    return (old.get("name"), old.get("namespace")) == (new.get("name"), new.get("namespace"))
