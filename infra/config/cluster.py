"""`platform:cluster`: the EKS cluster, read into `components.cluster.ClusterArgs`.

Rules: an exact Kubernetes minor and exact EKS add-on builds, kube-proxy of the cluster's own minor; the endpoint is
private-only in prod, and public elsewhere only from listed CIDRs (never 0.0.0.0/0); the networks admitted to the
private endpoint are RFC 1918 ranges only; at least one admin role; the `system` group on-demand, the `workload` group
on-demand in prod and, when spot, spread over at least `MIN_SPOT_INSTANCE_TYPES` instance types;
minSize <= desiredSize <= maxSize; instance types of the AMI's architecture; deletion protection on in prod.
"""

from __future__ import annotations

import re
from typing import Any

from components.cluster import ClusterArgs, EksAddonVersions, NodeGroupArgs

from .network import log_retention
from .reader import RFC1918_EXPECTED, Section, is_rfc1918, parse_cidr

KUBERNETES_VERSION = r"1\.[0-9]{2}"
EKS_ADDON_VERSION = r"v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+"
ROLE_ARN = r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}"
INSTANCE_TYPE = r"[a-z][a-z0-9-]*\.[a-z0-9]+"
AMI_TYPES = ("AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD")
CAPACITY_TYPES = ("ON_DEMAND", "SPOT")
# Spot capacity is reclaimed per instance type and AZ: several interchangeable types keep the group fillable.
MIN_SPOT_INSTANCE_TYPES = 3
# Graviton families carry a `g` right after the generation digit: m7g, c6gn, r8gd, t4g.
GRAVITON = re.compile(r"[a-z]+[0-9]+g[a-z]*\.")
# Stack-file key -> `EksAddonVersions` field.
ADDON_KEYS = {
    "vpc-cni": "vpc_cni",
    "coredns": "coredns",
    "kube-proxy": "kube_proxy",
    "aws-ebs-csi-driver": "ebs_csi_driver",
}


def listed(
    section: Section, key: str, *default: Any, pattern: str, items: str, item: str, min_items: int = 0
) -> tuple[str, ...]:
    """A list of strings each matching `pattern` (required unless a default is given); a bad entry is reported as
    `item`, in words rather than as the pattern."""
    values = section.strings(key, *default, min_items=min_items, expected=items)
    good = []
    for index, value in enumerate(values):
        if re.fullmatch(pattern, value):
            good.append(value)
        else:
            section.problem(f"{key}[{index}]", item, value)
    return tuple(good)


def _cidrs(section: Section, key: str, *, private_only: bool = False) -> tuple[str, ...]:
    """IPv4 CIDRs of /8 or narrower; with `private_only`, each inside one of the RFC 1918 ranges."""
    listed = section.strings(key, (), expected="IPv4 CIDRs")
    good = []
    for index, item in enumerate(listed):
        network = parse_cidr(item)
        if network is None:
            section.problem(f"{key}[{index}]", "an IPv4 CIDR", item)
        elif network.prefixlen < 8:
            section.problem(f"{key}[{index}]", "a CIDR of /8 or narrower (never the whole internet)", item)
        elif private_only and not is_rfc1918(network):
            section.problem(f"{key}[{index}]", RFC1918_EXPECTED, item)
        else:
            good.append(item)
    return tuple(good)


def _node_group(s: Section, group: str, *, prod: bool, defaults: NodeGroupArgs) -> NodeGroupArgs:
    ami_type = s.string("amiType", defaults.ami_type, choices=AMI_TYPES)
    instance_types = listed(
        s, "instanceTypes", defaults.instance_types, pattern=INSTANCE_TYPE, items="EC2 instance types",
        item="an EC2 instance type such as m7i.large", min_items=1,
    )
    capacity_type = s.string("capacityType", defaults.capacity_type, choices=CAPACITY_TYPES)
    min_size = s.integer("minSize", defaults.min_size, minimum=1 if group == "system" else 0, maximum=100)
    max_size = s.integer("maxSize", defaults.max_size, minimum=1, maximum=100)
    desired_size = s.integer("desiredSize", defaults.desired_size, minimum=0, maximum=100)
    disk_size = s.integer("diskSizeGib", defaults.disk_size_gib, minimum=20, maximum=1000)

    if min_size > max_size:
        s.problem("maxSize", f"at least minSize ({min_size})", max_size)
    elif not min_size <= desired_size <= max_size:
        s.problem("desiredSize", f"a size from minSize ({min_size}) to maxSize ({max_size})", desired_size)
    if group == "system" and capacity_type != "ON_DEMAND":
        expected = "'ON_DEMAND' for the system group (platform add-ons must not be reclaimed)"
        s.problem("capacityType", expected, capacity_type)
    if group == "workload" and prod and capacity_type == "SPOT":
        expected = "'ON_DEMAND' in prod (spot capacity can be reclaimed at two minutes' notice)"
        s.problem("capacityType", expected, capacity_type)
    if capacity_type == "SPOT" and len(set(instance_types)) < MIN_SPOT_INSTANCE_TYPES:
        s.problem(
            "instanceTypes",
            f"at least {MIN_SPOT_INSTANCE_TYPES} different instance types for spot capacity",
            f"{len(set(instance_types))}",
            quoted=False,
        )
    arm = ami_type.startswith("AL2023_ARM")
    for index, instance_type in enumerate(instance_types):
        if bool(GRAVITON.match(instance_type)) != arm:
            expected = f"an {'arm64' if arm else 'x86_64'} instance type for {ami_type}"
            s.problem(f"instanceTypes[{index}]", expected, instance_type)
    s.done()
    return NodeGroupArgs(
        instance_types=instance_types,
        capacity_type=capacity_type,  # type: ignore[arg-type]
        min_size=min_size,
        max_size=max_size,
        desired_size=desired_size,
        disk_size_gib=disk_size,
        ami_type=ami_type,
    )


def parse_cluster(s: Section, *, prod: bool, cluster_name: str) -> ClusterArgs:
    defaults = ClusterArgs(kubernetes_version="", addon_versions=EksAddonVersions("", "", "", ""))
    minor = "a Kubernetes minor version such as '1.35' (quoted)"
    version = s.string("kubernetesVersion", pattern=KUBERNETES_VERSION, expected=minor) or ""

    addons_section = s.section("addons")
    build = "an exact EKS add-on build such as 'v1.2.3-eksbuild.1'"
    versions = {
        field: addons_section.string(key, pattern=EKS_ADDON_VERSION, expected=build) or ""
        for key, field in ADDON_KEYS.items()
    }
    kube_proxy = versions["kube_proxy"]
    if version and kube_proxy and not kube_proxy.startswith(f"v{version}."):
        addons_section.problem("kube-proxy", f"a build of Kubernetes {version} (v{version}.x-eksbuild.n)", kube_proxy)
    addons_section.done()

    endpoint = s.section("endpoint")
    public_access = endpoint.boolean("publicAccess", defaults.public_access)
    public_cidrs = _cidrs(endpoint, "publicAccessCidrs")
    # Admitted on 443 to the cluster security group, which every node carries too: operators' private networks only
    # (see `components.cluster`).
    private_cidrs = _cidrs(endpoint, "privateAccessCidrs", private_only=True)
    if public_access and prod:
        expected = "false in prod (the Kubernetes API is reachable only from inside the network)"
        endpoint.problem("publicAccess", expected, True)
    elif public_access and not endpoint.raw.get("publicAccessCidrs"):
        # Bad entries are reported one by one above; this is for a list that names nothing at all.
        expected = "at least one CIDR when publicAccess is true"
        if endpoint.has("publicAccessCidrs"):
            endpoint.problem("publicAccessCidrs", expected, endpoint.raw["publicAccessCidrs"])
        else:
            endpoint.problem("publicAccessCidrs", expected, "nothing (the key is missing)", quoted=False)
    if public_cidrs and not public_access:
        endpoint.problem("publicAccessCidrs", "no CIDRs while publicAccess is false", list(public_cidrs))
    endpoint.done()

    retention = log_retention(s, "logRetentionDays", defaults.log_retention_days)

    access = s.section("access")
    role = "an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    admins = listed(access, "admins", pattern=ROLE_ARN, items="IAM role ARNs", item=role, min_items=1)
    read_only = listed(access, "readOnly", (), pattern=ROLE_ARN, items="IAM role ARNs", item=role)
    for index, arn in enumerate(read_only):
        if arn in admins:
            access.problem(f"readOnly[{index}]", "a role that is not also an admin", arn)
    access.done()

    groups = s.section("nodeGroups")
    system = _node_group(groups.section("system"), "system", prod=prod, defaults=NodeGroupArgs())
    workload = _node_group(groups.section("workload"), "workload", prod=prod, defaults=NodeGroupArgs())
    groups.done()

    support = s.string("supportType", defaults.support_type, choices=("STANDARD", "EXTENDED"))
    deletion_protection = s.boolean("deletionProtection", defaults.deletion_protection)
    if prod and not deletion_protection:
        s.problem("deletionProtection", "true in prod", False)
    s.done()
    return ClusterArgs(
        name=cluster_name,
        kubernetes_version=version,
        addon_versions=EksAddonVersions(**versions),
        public_access=public_access,
        public_access_cidrs=public_cidrs,
        private_access_cidrs=private_cidrs,
        log_retention_days=retention,
        admin_role_arns=admins,
        read_only_role_arns=read_only,
        system_nodes=system,
        workload_nodes=workload,
        support_type=support,  # type: ignore[arg-type]
        deletion_protection=deletion_protection,
    )
