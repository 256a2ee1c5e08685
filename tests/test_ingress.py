"""The data stores' security group helper: only the given client security groups are admitted, on the one port, never
a CIDR; a store without clients is refused; egress stays empty."""

from __future__ import annotations

import textwrap

import pytest

from components.ingress import data_security_group
from infra.offline import engine

PROGRAM = '''
import pulumi
from components.ingress import data_security_group

class Store(pulumi.ComponentResource):
    def __init__(self, name, sources):
        super().__init__("test:index:Store", name)
        data_security_group(name, parent=self, vpc_id="vpc-1", port=5432, what="PostgreSQL",
                            client_security_group_ids=sources, name_tag=name)

Store("with-cluster", ["sg-cluster", "sg-nodes"])
'''


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingress") / "repo"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    (root / "Pulumi.yaml").write_text("name: platform\nruntime: python\nmain: infra/\n")
    (root / "Pulumi.test.yaml").write_text("config: {}\n")
    return engine.run("test", root=root)


def rules_of(plan, store):
    parent = plan.one("test:index:Store", store).urn
    return [r for r in plan.children(parent) if r.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"]


def test_only_the_client_security_groups_are_admitted_on_the_one_port(plan):
    rules = rules_of(plan, "with-cluster")
    assert sorted(r.props["referencedSecurityGroupId"] for r in rules) == ["sg-cluster", "sg-nodes"]
    assert all((r.props["fromPort"], r.props["toPort"], r.props["ipProtocol"]) == (5432, 5432, "tcp") for r in rules)
    assert not any(key in r.props for r in rules for key in ("cidrIpv4", "cidrIpv6", "prefixListId"))


def test_egress_is_managed_and_empty(plan):
    for group in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert group.props["egress"] == []


def test_a_store_without_client_security_groups_is_refused():
    with pytest.raises(ValueError, match="needs its clients"):
        data_security_group(
            "orphan", parent=None, vpc_id="vpc-1", port=5432, what="PostgreSQL",  # type: ignore[arg-type]
            client_security_group_ids=[], name_tag="orphan",
        )
