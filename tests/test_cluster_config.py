"""Config rules of `platform:cluster`: each bad value is refused before any resource, naming its key path, what was
expected and what was found."""

from __future__ import annotations

import pytest

from infra.offline import engine
from infra.config import load_stack_config

from .conftest import change as change_key
from .conftest import config_error, run_mutated, single


def change(path, value):
    return change_key("cluster", path, value)


def both(*mutations):
    def mutate(config):
        for m in mutations:
            m(config)

    return mutate


P = "platform:cluster."


@pytest.mark.parametrize(
    "stack, mutate, path, expected",
    [
        # The named rules.
        ("prod", change("endpoint.publicAccess", True), "endpoint.publicAccess", "false in prod"),
        ("prod", change("nodeGroups.workload.capacityType", "SPOT"), "nodeGroups.workload.capacityType", "'ON_DEMAND' in prod"),
        ("staging", change("nodeGroups.workload.minSize", 7), "nodeGroups.workload.maxSize", "at least minSize (7)"),
        ("prod", change("nodeGroups.system.maxSize", 1), "nodeGroups.system.maxSize", "at least minSize (3)"),
        ("staging", change("nodeGroups.workload.desiredSize", 9), "nodeGroups.workload.desiredSize", "from minSize (1) to maxSize (6)"),
        ("prod", change("nodeGroups.workload.desiredSize", 2), "nodeGroups.workload.desiredSize", "from minSize (3) to maxSize (12)"),
        # Endpoint.
        ("staging", change("endpoint.publicAccessCidrs", []), "endpoint.publicAccessCidrs", "at least one CIDR"),
        ("staging", change("endpoint.publicAccessCidrs", ...), "endpoint.publicAccessCidrs", "at least one CIDR"),
        ("staging", change("endpoint.publicAccessCidrs", ["0.0.0.0/0"]), "endpoint.publicAccessCidrs[0]", "never the whole internet"),
        ("staging", change("endpoint.publicAccessCidrs", ["10.0.0.0/33"]), "endpoint.publicAccessCidrs[0]", "an IPv4 CIDR"),
        ("prod", change("endpoint.publicAccessCidrs", ["203.0.113.0/24"]), "endpoint.publicAccessCidrs", "no CIDRs while publicAccess is false"),
        # The private endpoint's networks reach the cluster security group, which every node carries: RFC 1918 only.
        ("prod", change("endpoint.privateAccessCidrs", ["203.0.113.0/24"]), "endpoint.privateAccessCidrs[0]", "a private (RFC 1918) IPv4 CIDR"),
        ("staging", change("endpoint.privateAccessCidrs", ["10.20.0.0/16", "100.64.0.0/16"]), "endpoint.privateAccessCidrs[1]", "a private (RFC 1918) IPv4 CIDR"),
        ("prod", change("endpoint.privateAccessCidrs", ["172.15.0.0/16"]), "endpoint.privateAccessCidrs[0]", "a private (RFC 1918) IPv4 CIDR"),
        ("prod", change("endpoint.privateAccessCidrs", ["172.0.0.0/11"]), "endpoint.privateAccessCidrs[0]", "a private (RFC 1918) IPv4 CIDR"),
        ("prod", change("endpoint.privateAccessCidrs", ["127.0.0.0/8"]), "endpoint.privateAccessCidrs[0]", "a private (RFC 1918) IPv4 CIDR"),
        ("prod", change("endpoint.privateAccessCidrs", ["169.254.0.0/16"]), "endpoint.privateAccessCidrs[0]", "a private (RFC 1918) IPv4 CIDR"),
        ("prod", change("endpoint.privateAccessCidrs", ["0.0.0.0/0"]), "endpoint.privateAccessCidrs[0]", "never the whole internet"),
        ("prod", change("endpoint.privateAccessCidrs", ["10.0.0.0/33"]), "endpoint.privateAccessCidrs[0]", "an IPv4 CIDR"),
        # Node groups.
        ("staging", change("nodeGroups.system.capacityType", "SPOT"), "nodeGroups.system.capacityType", "'ON_DEMAND' for the system group"),
        ("staging", change("nodeGroups.workload.instanceTypes", ["m7i.xlarge", "m6i.xlarge"]), "nodeGroups.workload.instanceTypes", "at least 3 different instance types"),
        ("staging", change("nodeGroups.workload.capacityType", "spot"), "nodeGroups.workload.capacityType", "one of 'ON_DEMAND', 'SPOT'"),
        ("prod", change("nodeGroups.workload.instanceTypes", ["m7g.xlarge"]), "nodeGroups.workload.instanceTypes[0]", "an x86_64 instance type"),
        ("prod", change("nodeGroups.system.instanceTypes", []), "nodeGroups.system.instanceTypes", "at least 1"),
        ("prod", change("nodeGroups.system.minSize", 0), "nodeGroups.system.minSize", "from 1 to 100"),
        ("prod", change("nodeGroups.gpu", {"instanceTypes": ["g5.xlarge"]}), "nodeGroups.gpu", "known keys"),
        ("prod", change("nodeGroups.workload.spotPrice", "0.1"), "nodeGroups.workload.spotPrice", "known keys"),
        # Versions.
        ("prod", change("kubernetesVersion", 1.35), "kubernetesVersion", "a Kubernetes minor version"),
        ("prod", change("kubernetesVersion", "latest"), "kubernetesVersion", "a Kubernetes minor version"),
        ("prod", change("addons.coredns", "latest"), "addons.coredns", "an exact EKS add-on build"),
        ("prod", change("addons.vpc-cni", ...), "addons.vpc-cni", "an exact EKS add-on build"),
        ("prod", change("addons.kube-proxy", "v1.34.0-eksbuild.2"), "addons.kube-proxy", "a build of Kubernetes 1.35"),
        ("prod", change("addons.metrics-server", "v0.8.0-eksbuild.1"), "addons.metrics-server", "known keys"),
        # Access and the rest.
        ("prod", change("access.admins", []), "access.admins", "a list of at least 1 IAM role ARNs"),
        ("prod", change("access.admins", ["platform-admin"]), "access.admins[0]", "an IAM role ARN"),
        ("staging", change("access.readOnly", ["arn:aws:iam::123456789012:role/platform-admin"]), "access.readOnly[0]", "not also an admin"),
        ("prod", change("logRetentionDays", 10), "logRetentionDays", "CloudWatch Logs retention period"),
        ("prod", change("deletionProtection", False), "deletionProtection", "true in prod"),
        ("prod", change("supportType", "LONG"), "supportType", "one of 'STANDARD', 'EXTENDED'"),
        ("prod", change("endpointPublic", True), "endpointPublic", "known keys"),
    ],
)
def test_rule(stack, mutate, path, expected):
    error = config_error(stack, mutate)
    problem = single(error, P + path)
    assert expected in problem.expected, str(problem)
    assert str(problem).startswith(P + path + ": expected ")


def test_every_problem_of_a_file_is_reported_at_once():
    error = config_error(
        "prod",
        both(
            change("endpoint.publicAccess", True),
            change("nodeGroups.workload.capacityType", "SPOT"),
            change("nodeGroups.system.minSize", 5),
        ),
    )
    assert {P + "endpoint.publicAccess", P + "nodeGroups.workload.capacityType", P + "nodeGroups.system.maxSize"} <= error.paths()


def test_the_section_is_required():
    raw = engine.stack_config("prod")
    raw.pop("platform:cluster")
    with pytest.raises(Exception) as caught:
        load_stack_config("prod", engine._encode(raw))
    assert {P + "kubernetesVersion", P + "access.admins", P + "addons.coredns"} <= caught.value.paths()


def test_staging_may_open_the_endpoint_to_listed_cidrs_only():
    cfg = load_stack_config("staging", engine._encode(engine.stack_config("staging")))
    assert cfg.cluster.public_access and cfg.cluster.public_access_cidrs == ("203.0.113.0/24",)
    prod = load_stack_config("prod", engine._encode(engine.stack_config("prod")))
    assert not prod.cluster.public_access and prod.cluster.public_access_cidrs == ()
    assert prod.cluster.name == "platform-prod" == prod.network.cluster_name


def test_private_endpoint_networks_are_rfc1918_and_reach_443_on_the_cluster_security_group():
    """Accepted RFC 1918 ranges (at the edges of each block) become 443 rules on the cluster security group."""
    cidrs = ["10.20.0.0/16", "172.31.255.0/24", "192.168.0.0/16"]

    def mutate(config):
        config["platform:cluster"].setdefault("endpoint", {})["privateAccessCidrs"] = cidrs

    raw = engine.stack_config("prod")
    mutate(raw)
    cfg = load_stack_config("prod", engine._encode(raw))
    assert cfg.cluster.private_access_cidrs == tuple(cidrs)
    plan = run_mutated("prod", mutate)
    rules = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if "private-endpoint" in r.name]
    assert sorted(r.props["cidrIpv4"] for r in rules) == sorted(cidrs)
    for rule in rules:
        assert rule.props["securityGroupId"] == plan.outputs["clusterSecurityGroupId"]
        assert (rule.props["ipProtocol"], rule.props["fromPort"], rule.props["toPort"]) == ("tcp", 443, 443)
