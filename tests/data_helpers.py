"""Plan queries shared by the data-store tests: follow property dependencies from a resource to what it uses."""

from __future__ import annotations

import json
from typing import Any

from infra.offline import engine

SUBNET = "aws:ec2/subnet:Subnet"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
CLUSTER = "eks:index:Cluster"


def config(stack: str, section: str) -> dict[str, Any]:
    return engine.stack_config(stack)[f"platform:{section}"]


def tier_subnets(plan: engine.Plan, tier: str) -> list[engine.CapturedResource]:
    return [s for s in plan.of_type(SUBNET) if s.props["tags"].get("tier") == tier]


def tier_subnet_urns(plan: engine.Plan, tier: str) -> set[str]:
    return {s.urn for s in tier_subnets(plan, tier)}


def only(plan: engine.Plan, resource: engine.CapturedResource, prop: str, type_: str | None = None) -> engine.CapturedResource:
    """The one resource a property's value came from."""
    found = [r for r in plan.depends_on(resource, prop) if type_ is None or r.type == type_]
    assert len(found) == 1, f"{resource.name}.{prop} should come from exactly one {type_ or 'resource'}, got {[r.name for r in found]}"
    return found[0]


def users_of(plan: engine.Plan, resource: engine.CapturedResource, prop: str, type_: str) -> list[engine.CapturedResource]:
    """The resources of a type whose `prop` comes from `resource`."""
    return [r for r in plan.of_type(type_) if resource.urn in r.property_dependencies.get(prop, ())]


def ingress_rules(plan: engine.Plan, group: engine.CapturedResource) -> list[engine.CapturedResource]:
    return users_of(plan, group, "securityGroupId", INGRESS_RULE)


def assert_admits_only(plan: engine.Plan, group: engine.CapturedResource, port: int) -> None:
    """The group admits `port` from the EKS cluster's security group only, never from a CIDR, and has no egress."""
    rules = ingress_rules(plan, group)
    assert rules, f"{group.name} admits nothing"
    assert plan.of_type(CLUSTER), "a security-group source comes from the cluster"
    for rule in rules:
        p = rule.props
        assert (p["ipProtocol"], p["fromPort"], p["toPort"]) == ("tcp", port, port), f"{rule.name}: {p}"
        assert "cidrIpv4" not in p and "cidrIpv6" not in p and "prefixListId" not in p, f"{rule.name}: {p}"
        assert "referencedSecurityGroupId" in rule.inputs, f"{rule.name} names no source security group"
        assert {r.type for r in plan.depends_on(rule, "referencedSecurityGroupId")} == {CLUSTER}
        if not plan.preview:
            assert rule.props["referencedSecurityGroupId"] == plan.outputs["clusterSecurityGroupId"]
    assert group.props["egress"] == [], "egress is managed and empty: the store never opens a connection"
    assert not group.props.get("ingress"), "no inline rules next to the rule resources"
    assert not users_of(plan, group, "securityGroupId", EGRESS_RULE)


def assert_customer_managed_key(plan: engine.Plan, resource: engine.CapturedResource, prop: str) -> engine.CapturedResource:
    key = only(plan, resource, prop, KMS_KEY)
    assert key.props["enableKeyRotation"] is True
    return key


def secrets_key(plan: engine.Plan) -> engine.CapturedResource:
    (alias,) = [a for a in plan.of_type(KMS_ALIAS) if a.props["name"] == f"alias/platform-{plan.stack}/secrets"]
    return only(plan, alias, "targetKeyId", KMS_KEY)


def policy(resource: engine.CapturedResource, prop: str = "policy") -> dict[str, Any]:
    return json.loads(resource.props[prop])
