"""Advisory: cost and hygiene. Reported, never blocking.

Spot capacity for staging workload node groups; autoscaling bounds that make sense; log retention; S3 lifecycle
rules; the required tags, which the program applies as AWS provider default tags (so the policy checks the explicit
`pulumi:providers:aws` resource and that AWS resources use it, not the untagged default provider); resource requests
and limits, probes and pinned image tags for containers; pinned chart and add-on versions.

Unknowns: an unknown value is deferred to `pulumi up`, like everywhere in the pack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .core import (
    ADVISORY,
    UNKNOWN,
    Context,
    Deferred,
    OddInput,
    Outcome,
    Resource,
    Stack,
    as_int,
    as_json,
    as_list,
    as_str,
    dig,
    is_unknown,
    resource_policy,
    stack_policy,
)
from .kube import RUN_TO_COMPLETION, containers, is_pod_bearing, pod_spec

NODE_GROUP_TYPES = (
    "eks:index:ManagedNodeGroup",
    "aws:eks/nodeGroup:NodeGroup",
    "eks:index:NodeGroup",
    "eks:index:NodeGroupV2",
)


def _is_system_group(resource: Resource) -> bool:
    """The platform add-ons' group: named "system", labelled so, or tainted CriticalAddonsOnly / dedicated=system."""
    names = [resource.name, resource.get("nodeGroupName"), resource.get("nodeGroupNamePrefix")]
    if any(isinstance(n, str) and "system" in n.lower() for n in names):
        return True
    labels = resource.get("labels")
    if isinstance(labels, Mapping) and any("system" in str(v).lower() for v in labels.values()):
        return True
    taints = resource.get("taints")
    if isinstance(taints, list):
        for taint in taints:
            if isinstance(taint, Mapping) and ("CriticalAddonsOnly" in str(taint.get("key")) or "system" in str(taint.get("value")).lower()):
                return True
    return False


def check_staging_spot(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if ctx.is_prod or _is_system_group(resource):
        return
    if resource.type in ("eks:index:NodeGroup", "eks:index:NodeGroupV2"):
        if resource.get("spotPrice") in (None, ""):
            yield "is a staging workload node group on on-demand capacity (no spotPrice)"
        return
    capacity = as_str(resource.get("capacityType"), "capacityType")
    if is_unknown(capacity):
        yield Deferred("capacityType")
    elif str(capacity or "ON_DEMAND").upper() != "SPOT":
        yield f"is a staging workload node group on {capacity or 'ON_DEMAND'} capacity; staging workloads run on SPOT"


staging_workload_nodes_use_spot = resource_policy(
    name="staging-workload-nodes-use-spot",
    description="Staging workload node groups use spot capacity (the system group stays on-demand).",
    level=ADVISORY,
    severity=Severity.LOW,
    remediation='set capacity_type="SPOT" with several instance types for the staging workload node group.',
    types=NODE_GROUP_TYPES,
    check=check_staging_spot,
)

HPA_TYPES = tuple(f"kubernetes:autoscaling/{v}:HorizontalPodAutoscaler" for v in ("v1", "v2", "v2beta1", "v2beta2"))


def _bounds(minimum: Any, maximum: Any, desired: Any, limit: int, what: str) -> Iterator[Outcome]:
    low, high = as_int(minimum, f"{what} min"), as_int(maximum, f"{what} max")
    want = as_int(desired, f"{what} desired")
    if any(is_unknown(v) for v in (low, high, want)):
        yield Deferred(what)
        return
    if high is None:
        yield f"{what} has no maximum"
        return
    if low is not None and low > high:
        yield f"{what} minimum {low} is above its maximum {high}"
    if want is not None and not ((low or 0) <= want <= high):
        yield f"{what} desired size {want} is outside {low or 0}..{high}"
    if high > limit:
        yield f"{what} maximum {high} is above the ceiling of {limit}"


def check_autoscaling_bounds(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type in HPA_TYPES:
        limit = int(ctx.setting("maxReplicas", 50))
        yield from _bounds(resource.get("spec", "minReplicas"), resource.get("spec", "maxReplicas"), None, limit, "replicas")
        return
    limit = int(ctx.setting("maxNodes", 100))
    if resource.type in ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup"):
        scaling = resource.get("scalingConfig")
        if is_unknown(scaling):
            yield Deferred("scalingConfig")
            return
        if not isinstance(scaling, Mapping):
            yield "has no scalingConfig, so its size is whatever the default is"
            return
        yield from _bounds(scaling.get("minSize"), scaling.get("maxSize"), scaling.get("desiredSize"), limit, "node group size")
    elif resource.type == "aws:autoscaling/group:Group":
        yield from _bounds(resource.get("minSize"), resource.get("maxSize"), resource.get("desiredCapacity"), limit, "group size")
    else:  # pulumi-eks self-managed node groups
        yield from _bounds(resource.get("minSize"), resource.get("maxSize"), resource.get("desiredCapacity"), limit, "node group size")


autoscaling_bounds = resource_policy(
    name="autoscaling-bounds",
    description="Node groups, auto scaling groups and HPAs have sane bounds: min <= desired <= max <= the ceiling.",
    level=ADVISORY,
    severity=Severity.MEDIUM,
    remediation="set explicit minimum and maximum sizes, with the maximum under the configured ceiling.",
    types=NODE_GROUP_TYPES + ("aws:autoscaling/group:Group",) + HPA_TYPES,
    check=check_autoscaling_bounds,
    config={
        "maxNodes": {"type": "integer", "minimum": 1, "default": 100},
        "maxReplicas": {"type": "integer", "minimum": 1, "default": 50},
    },
)


def check_log_retention(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    days = as_int(resource.get("retentionInDays"), "retentionInDays")
    if days is UNKNOWN:
        yield Deferred("retentionInDays")
    elif not days:
        yield "keeps logs forever (no retentionInDays), which costs money and keeps data longer than needed"


log_retention = resource_policy(
    name="log-retention",
    description="CloudWatch log groups have a retention period.",
    level=ADVISORY,
    severity=Severity.LOW,
    remediation="set retention_in_days (e.g. 30 in staging, 365 in prod).",
    types=("aws:cloudwatch/logGroup:LogGroup",),
    check=check_log_retention,
)

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
LIFECYCLE_TYPES = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)


def check_lifecycle(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if isinstance(resource.get("lifecycleRules"), list) and resource.get("lifecycleRules"):
        return  # the legacy inline form
    configs = stack.dependents(resource, "bucket", *LIFECYCLE_TYPES)
    if not configs:
        yield "has no lifecycle configuration (abort incomplete uploads, expire old versions)"
        return
    rules: list[Any] = []
    for config in configs:
        found = config.get("rules")
        if is_unknown(found):
            yield Deferred(f"{config.name}.rules")
            return
        rules.extend(as_list(found, "rules"))
    enabled = [r for r in rules if isinstance(r, Mapping) and r.get("status") == "Enabled"]
    if not enabled:
        yield "has no enabled lifecycle rule"
    elif not any(r.get("abortIncompleteMultipartUpload") for r in enabled):
        yield "has no lifecycle rule that aborts incomplete multipart uploads"


s3_lifecycle_rules = stack_policy(
    name="s3-lifecycle-rules",
    description="Every S3 bucket has enabled lifecycle rules, including one that aborts incomplete uploads.",
    level=ADVISORY,
    severity=Severity.LOW,
    remediation=("declare aws.s3.BucketLifecycleConfiguration with abort_incomplete_multipart_upload and "
                 "noncurrent_version_expiration rules."),
    types=BUCKET_TYPES,
    check=check_lifecycle,
)

DEFAULT_REQUIRED_TAGS = ["project", "environment", "managed-by", "owner", "cost-centre"]


def _default_tags(props: Mapping[str, Any]) -> Mapping[str, Any] | Any:
    """The provider's default tags; provider inputs cross the wire as JSON text."""
    value = as_json(props.get("defaultTags"), "defaultTags")
    if is_unknown(value):
        return UNKNOWN
    tags = dig(value, "tags")
    if is_unknown(tags):
        return UNKNOWN
    tags = as_json(tags, "defaultTags.tags") if isinstance(tags, str) else tags
    return tags if isinstance(tags, Mapping) else {}


def check_required_tags(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    required = [str(t) for t in ctx.setting("requiredTags", DEFAULT_REQUIRED_TAGS)]
    if resource.type == "pulumi:providers:aws":
        tags = _default_tags(resource.props)
        if is_unknown(tags):
            yield Deferred("defaultTags")
            return
        missing = [t for t in required if tags.get(t) in (None, "")]
        for key in missing:
            yield f"applies no `{key}` default tag"
        for key in required:
            if is_unknown(tags.get(key)):
                yield Deferred(f"defaultTags.tags.{key}")
        return
    provider = resource.provider
    if provider is None or provider.name.startswith("default"):
        yield ("uses the default AWS provider, which applies none of the platform's default tags; pass the stack's "
               "explicit provider")


required_tags = resource_policy(
    name="required-tags",
    description="AWS resources carry the required tags, applied as default tags of the explicit AWS provider they use.",
    level=ADVISORY,
    severity=Severity.LOW,
    remediation=("give every AWS resource (and component) opts=pulumi.ResourceOptions(providers={'aws': provider}) "
                 "with the stack's tagged provider, whose default_tags carry the required keys."),
    types=lambda t: t.startswith("aws:") or t == "pulumi:providers:aws",
    check=check_required_tags,
    config={
        "requiredTags": {
            "type": "array",
            "items": {"type": "string"},
            "default": DEFAULT_REQUIRED_TAGS,
            "description": "Tag keys the AWS provider's default tags must carry.",
        }
    },
)


def _pod_containers(resource: Resource, kinds: tuple[str, ...]) -> Iterator[Any]:
    spec = pod_spec(resource)
    if spec is None:
        return
    if is_unknown(spec):
        yield Deferred("spec")
        return
    yield from containers(spec, kinds)


def check_requests_limits(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for container in _pod_containers(resource, ("initContainers", "containers")):
        if isinstance(container, Deferred) or is_unknown(container):
            yield container if isinstance(container, Deferred) else Deferred("containers")
            continue
        resources = container.get("resources")
        if is_unknown(resources):
            yield Deferred(f"{container.name}.resources")
            continue
        missing = [f"{kind}.{what}" for kind in ("requests", "limits") for what in ("cpu", "memory")
                   if dig(resources, kind, what) in (None, "")]
        if missing:
            yield f"{container.label} sets no {', '.join(missing)}"


k8s_requests_and_limits = resource_policy(
    name="k8s-requests-and-limits",
    description="Every container sets CPU and memory requests and limits.",
    level=ADVISORY,
    severity=Severity.MEDIUM,
    remediation="set resources.requests and resources.limits (cpu and memory) from the service's catalogue entry.",
    types=is_pod_bearing,
    check=check_requests_limits,
)


def check_probes(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type in RUN_TO_COMPLETION:
        return
    for container in _pod_containers(resource, ("containers",)):
        if isinstance(container, Deferred) or is_unknown(container):
            yield container if isinstance(container, Deferred) else Deferred("containers")
            continue
        for probe in ("readinessProbe", "livenessProbe"):
            value = container.get(probe)
            if is_unknown(value):
                yield Deferred(f"{container.name}.{probe}")
            elif not value:
                yield f"{container.label} has no {probe}"


k8s_probes = resource_policy(
    name="k8s-probes",
    description="Every long-running container has readiness and liveness probes.",
    level=ADVISORY,
    severity=Severity.MEDIUM,
    remediation="add readinessProbe and livenessProbe (HTTP health endpoints or TCP) to each container.",
    types=is_pod_bearing,
    check=check_probes,
)

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is (a digest, or a tag other than latest)."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    if DIGEST.search(image):
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"uses image {image!r} without a tag (that means :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"uses image {image!r} with the mutable tag :latest"
    return None


def check_image_tags(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    for container in _pod_containers(resource, ("initContainers", "containers", "ephemeralContainers")):
        if isinstance(container, Deferred) or is_unknown(container):
            yield container if isinstance(container, Deferred) else Deferred("containers")
            continue
        image = container.get("image")
        if is_unknown(image):
            yield Deferred(f"{container.name}.image")
            continue
        problem = image_problem(image)
        if problem:
            yield f"{container.label} {problem}"


k8s_image_tags_pinned = resource_policy(
    name="k8s-image-tags-pinned",
    description="Container images are pinned by version tag or digest, never :latest or untagged.",
    level=ADVISORY,
    severity=Severity.MEDIUM,
    remediation="reference the image by an immutable version tag or, better, by digest (@sha256:...).",
    types=is_pod_bearing,
    check=check_image_tags,
)

VERSION_FIELDS = {
    "kubernetes:helm.sh/v3:Release": "version",
    "kubernetes:helm.sh/v4:Chart": "version",
    "kubernetes:helm.sh/v3:Chart": "version",
    "aws:eks/addon:Addon": "addonVersion",
    "eks:index:Addon": "addonVersion",
    "eks:index:Cluster": "version",
    "aws:eks/cluster:Cluster": "version",
}
EXACT_VERSION = re.compile(r"^v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?$")


def check_versions(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    field = VERSION_FIELDS[resource.type]
    version = resource.get(field)
    if is_unknown(version):
        yield Deferred(field)
    elif version in (None, ""):
        yield f"does not pin `{field}`, so every deployment may pick up a new version"
    elif not isinstance(version, str) or not EXACT_VERSION.match(version.strip()):
        if not isinstance(version, (str, int, float)):
            raise OddInput(f"{field} should be a version string")
        yield f"pins `{field}` to {version!r}, which is a range, not one version"


versions_pinned = resource_policy(
    name="versions-pinned",
    description="Helm charts, EKS add-ons and the Kubernetes version are pinned to one exact version.",
    level=ADVISORY,
    severity=Severity.LOW,
    remediation="set the exact version (chart version, addon_version, cluster version) in the stack's version table.",
    types=tuple(VERSION_FIELDS),
    check=check_versions,
)

POLICIES = [
    staging_workload_nodes_use_spot,
    autoscaling_bounds,
    log_retention,
    s3_lifecycle_rules,
    required_tags,
    k8s_requests_and_limits,
    k8s_probes,
    k8s_image_tags_pinned,
    versions_pinned,
]
