"""Which input changes force a replacement: a property the cloud cannot change on a live resource.

The Pulumi CLI learns this from each provider's Diff. Offline there is no provider plugin, so the answer comes from the
published rules of the two APIs this program drives:

- AWS resources: the CloudFormation registry schemas' `createOnlyProperties` (via `resource_schemas`, cfn-lint's
  bundled copy), reached through the CloudFormation mapping (`cloudformation.mapping.cfn_type_of` and
  `cfn_property_of`): the changed wire-form input's CloudFormation property is looked up in its type's create-only
  list. CloudFormation and the Terraform-based provider agree on these for the types used here; where they could
  differ (a provider-only input, an unmapped type) nothing is claimed.
- Kubernetes objects: the fields the Kubernetes provider replaces on (its `forceNewProperties`, in pulumi-kubernetes
  `provider/pkg/provider/force_new.go`): every object's `metadata.name` and `metadata.namespace`; a ConfigMap's
  `data`/`binaryData` and a Secret's `type`/`data`/`stringData` unless the provider is configured to mutate them; a
  Deployment's `spec.selector`, a Service's `spec.clusterIP`, a StorageClass's `parameters`/`provisioner`, a
  (Cluster)RoleBinding's `roleRef`. A Helm release is not an object and is updated in place.
- Any resource: the `replaceOnChanges` resource option, as the engine honours it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import engine, resource_schemas
from .cloudformation import mapping

MISSING = object()

# Kubernetes: (API group, kind) -> field paths (dotted, from the object's root) the provider replaces the object on.
KUBERNETES_FORCE_NEW: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("spec.selector",),
    ("apps", "DaemonSet"): ("spec.selector",),
    ("apps", "StatefulSet"): ("spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector",
                              "spec.serviceName", "spec.volumeClaimTemplates"),
    ("core", "Service"): ("spec.clusterIP",),
    ("core", "Secret"): ("type", "data", "stringData"),
    ("core", "ConfigMap"): ("data", "binaryData"),
    ("core", "PersistentVolumeClaim"): ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
    ("storage.k8s.io", "StorageClass"): ("parameters", "provisioner"),
    ("rbac.authorization.k8s.io", "RoleBinding"): ("roleRef",),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): ("roleRef",),
    ("batch", "Job"): ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
}
KUBERNETES_METADATA_FORCE_NEW = ("metadata.name", "metadata.namespace")
# Provider options that make ConfigMaps and Secrets mutable (then their data is updated in place).
KUBERNETES_MUTABLE_OPTIONS = {"ConfigMap": "enableConfigMapMutable", "Secret": "enableSecretMutable"}
# Kubernetes types that are not API objects.
KUBERNETES_NOT_OBJECTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted paths (list items as `[i]`) at which two wire values differ; secret markers are looked through and
    an unknown value differs from anything."""
    old, new = _plain(old), _plain(new)
    if old is MISSING and new is MISSING:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += changed_paths(old.get(key, MISSING), new.get(key, MISSING), f"{prefix}.{key}" if prefix else key)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for index, (a, b) in enumerate(zip(old, new)):
            out += changed_paths(a, b, f"{prefix}[{index}]")
        return out
    if old == new and old != engine.UNKNOWN:
        return []
    return [prefix]


def _plain(value: Any) -> Any:
    while engine.is_secret(value):
        value = value.get("value")
    return value


def _under(path: str, field: str) -> bool:
    """Whether a changed path touches `field`: the field itself, inside it, or a parent that contains it."""
    return path == field or path.startswith(field + ".") or path.startswith(field + "[") or field.startswith(path + ".")


def kubernetes_reason(type_: str, key: str, old: Any, new: Any, provider_inputs: Mapping[str, Any]) -> str | None:
    if type_.startswith(KUBERNETES_NOT_OBJECTS):
        return None
    parts = type_.split(":")
    if len(parts) != 3:
        return None
    group = parts[1].rsplit("/", 1)[0]
    kind = parts[2]
    force_new = list(KUBERNETES_METADATA_FORCE_NEW)
    kind_fields = KUBERNETES_FORCE_NEW.get((group, kind), ())
    option = KUBERNETES_MUTABLE_OPTIONS.get(kind)
    if option and str(engine.unwrap(provider_inputs.get(option, ""))).lower() == "true":
        kind_fields = tuple(f for f in kind_fields if f not in ("data", "binaryData", "stringData"))
    force_new += kind_fields
    for path in changed_paths(old, new, key):
        for field in force_new:
            if _under(path, field):
                return f"the Kubernetes provider replaces a {kind} when {field} changes"
    return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _nested(value: Any, cfn_path: list[str]) -> Any:
    """A nested CloudFormation sub-property's wire value, by camelCasing each step; MISSING when it is not there."""
    value = _plain(value)
    for step in cfn_path:
        if not isinstance(value, dict):
            return MISSING
        value = _plain(value.get(_camel(step), MISSING))
    return value


def aws_reason(type_: str, key: str, old: Any, new: Any, region: str) -> str | None:
    cfn_type = mapping.cfn_type_of(type_)
    cfn_property = mapping.cfn_property_of(type_, key)
    if not cfn_type or not cfn_property:
        return None
    for create_only in resource_schemas.create_only(cfn_type, region):
        if cfn_property == create_only or cfn_property.startswith(create_only + "."):
            return f"CloudFormation {cfn_type}: {create_only} is create-only"
        if create_only.startswith(cfn_property + "."):
            # A create-only part of the changed input: compare that part only.
            rest = create_only[len(cfn_property) + 1 :].split(".")
            if changed_paths(_nested(old, rest), _nested(new, rest)):
                return f"CloudFormation {cfn_type}: {create_only} is create-only"
    return None


def replacement_reason(
    resource: engine.CapturedResource,
    key: str,
    old: Any,
    new: Any,
    *,
    region: str,
    provider_inputs: Mapping[str, Any] | None = None,
) -> str | None:
    """Why changing input `key` from `old` to `new` replaces `resource`, or None when it is changed in place."""
    replace_on = resource.options.get("replaceOnChanges") or []
    if "*" in replace_on or any(_under(key, field) or _under(field, key) for field in replace_on):
        return f"the replaceOnChanges option names {key}"
    if resource.type.startswith("kubernetes:"):
        return kubernetes_reason(resource.type, key, old, new, provider_inputs or {})
    if resource.type.startswith("aws:"):
        return aws_reason(resource.type, key, old, new, region)
    return None


def is_folded(type_: str) -> bool:
    """A Pulumi type that CloudFormation holds as a property of another resource (S3 bucket settings): its
    CloudFormation type is its host's, so it says nothing about the resource itself being stateful."""
    spec = mapping.SPECS.get(type_)
    return bool(spec and spec.host)


def is_stateful(resource: engine.CapturedResource) -> bool:
    """Whether the resource holds data that a replacement or a deletion loses: its CloudFormation type is among
    cfn-lint's stateful types, or the program protects it (`protect`: the program's own word that it must not go)."""
    if resource.protect:
        return True
    if not resource.custom or is_folded(resource.type):
        return False
    return resource_schemas.is_stateful(mapping.cfn_type_of(resource.type))
