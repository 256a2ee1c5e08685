"""Kubernetes objects as pulumi-kubernetes sends them: finding the pod spec and its containers in every kind.

pulumi-kubernetes resources carry the object in wire form (camelCase, exactly the Kubernetes JSON), so a
Deployment's pod spec is `spec.template.spec` and a CronJob's is `spec.jobTemplate.spec.template.spec`. Custom
kinds that embed a pod template the usual way (Argo Rollouts, for instance) are recognised by shape. Patch kinds
(`DeploymentPatch`, ...) carry partial objects and are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .core import UNKNOWN, OddInput, Resource, dig, is_unknown

_TEMPLATE = ("spec", "template", "spec")
_CRONJOB = ("spec", "jobTemplate", "spec", "template", "spec")

# Kind -> where its pod spec lives. Every served version of each kind is listed.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:core/v1:PodTemplate": ("template", "spec"),
    "kubernetes:core/v1:ReplicationController": _TEMPLATE,
    **{f"kubernetes:apps/{v}:{kind}": _TEMPLATE
       for v in ("v1", "v1beta1", "v1beta2") for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")},
    **{f"kubernetes:extensions/v1beta1:{kind}": _TEMPLATE for kind in ("Deployment", "DaemonSet", "ReplicaSet")},
    "kubernetes:batch/v1:Job": _TEMPLATE,
    "kubernetes:batch/v1:CronJob": _CRONJOB,
    "kubernetes:batch/v1beta1:CronJob": _CRONJOB,
    "kubernetes:batch/v2alpha1:CronJob": _CRONJOB,
}

# Kinds whose pods run to completion: probes make no sense for them.
RUN_TO_COMPLETION = frozenset(
    {"kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob", "kubernetes:batch/v1beta1:CronJob",
     "kubernetes:batch/v2alpha1:CronJob"}
)

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def is_pod_bearing(resource_type: str) -> bool:
    """Known pod-bearing kinds, plus custom kinds (not Patch kinds) that may embed a pod template."""
    if resource_type in POD_SPEC_PATHS:
        return True
    return resource_type.startswith("kubernetes:") and not resource_type.endswith("Patch") and (
        resource_type.split(":")[1].split("/")[0] not in ("core", "apps", "batch", "extensions", "rbac.authorization.k8s.io",
                                                          "networking.k8s.io", "storage.k8s.io", "policy",
                                                          "autoscaling", "helm.sh", "yaml", "kustomize",
                                                          "admissionregistration.k8s.io", "apiextensions.k8s.io",
                                                          "coordination.k8s.io", "scheduling.k8s.io", "node.k8s.io")
    )


def pod_spec(resource: Resource) -> Mapping[str, Any] | None | Any:
    """The pod spec, UNKNOWN if unknown, None for a custom kind that has none. Raises OddInput for a known pod-bearing
    kind without one (the API server would reject it, and the policies cannot vouch for it)."""
    path = POD_SPEC_PATHS.get(resource.type)
    if path is None:
        spec = dig(resource.props, *_TEMPLATE)
        return spec if isinstance(spec, Mapping) and "containers" in spec else None
    spec = dig(resource.props, *path)
    if is_unknown(spec):
        return UNKNOWN
    if not isinstance(spec, Mapping):
        raise OddInput(f"no pod spec at {'.'.join(path)}")
    return spec


@dataclass(frozen=True)
class Container:
    kind: str  # "initContainers", "containers" or "ephemeralContainers"
    index: int
    spec: Mapping[str, Any] | Any  # UNKNOWN when the container itself is unknown

    @property
    def name(self) -> str:
        name = self.spec.get("name") if isinstance(self.spec, Mapping) else None
        return name if isinstance(name, str) else f"#{self.index}"

    @property
    def label(self) -> str:
        kind = {"initContainers": "init container", "containers": "container", "ephemeralContainers": "ephemeral container"}
        return f'{kind[self.kind]} "{self.name}"'

    def get(self, *path: str | int) -> Any:
        return dig(self.spec, *path)


def containers(spec: Mapping[str, Any], kinds: tuple[str, ...] = CONTAINER_LISTS) -> Iterator[Container | Any]:
    """Every container of the pod spec, init and ephemeral ones included; UNKNOWN for an unknown list."""
    for kind in kinds:
        items = spec.get(kind)
        if items is None:
            continue
        if is_unknown(items):
            yield UNKNOWN
            continue
        if not isinstance(items, list):
            raise OddInput(f"{kind} should be a list")
        for index, item in enumerate(items):
            yield Container(kind, index, item if is_unknown(item) or isinstance(item, Mapping) else {})
