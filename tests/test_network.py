"""The network component, asserted on what both real stacks declare (followed through property dependencies)."""

from __future__ import annotations

import ipaddress
import json

import pytest

from infra.offline import engine

from .conftest import plan_for

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT = "aws:ec2/natGateway:NatGateway"
IGW = "aws:ec2/internetGateway:InternetGateway"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
REQUIRED_TAGS = ("project", "environment", "managed-by", "owner", "cost-centre")


def network_config(stack: str) -> dict:
    return engine.stack_config(stack)["platform:network"]


def subnets(plan: engine.Plan, tier: str) -> list[engine.CapturedResource]:
    return [s for s in plan.of_type(SUBNET) if s.props["tags"].get("tier") == tier]


def route_table_of(plan: engine.Plan, subnet: engine.CapturedResource) -> engine.CapturedResource:
    """The route table a subnet is associated with, found through the association's property dependencies."""
    tables = [
        table
        for assoc in plan.of_type(ASSOCIATION)
        if subnet.urn in assoc.property_dependencies.get("subnetId", ())
        for table in plan.depends_on(assoc, "routeTableId")
    ]
    assert len(tables) == 1, f"{subnet.name} should be associated with exactly one route table, got {tables}"
    return tables[0]


def routes_of(plan: engine.Plan, table: engine.CapturedResource) -> list[engine.CapturedResource]:
    return [r for r in plan.of_type(ROUTE) if table.urn in r.property_dependencies.get("routeTableId", ())]


def targets(plan: engine.Plan, route: engine.CapturedResource) -> list[engine.CapturedResource]:
    return [t for prop in route.property_dependencies for t in plan.depends_on(route, prop) if t.type in (IGW, NAT)]


@pytest.mark.parametrize("tier", ["public", "private", "data"])
def test_one_subnet_per_tier_and_az(plan, stack, tier):
    config = network_config(stack)
    declared = subnets(plan, tier)
    zones = [s.props["availabilityZone"] for s in declared]
    assert len(declared) == config["azCount"]
    assert len(set(zones)) == config["azCount"], "each subnet of a tier sits in its own AZ"
    assert sorted(s.props["cidrBlock"] for s in declared) == sorted(config["subnets"][tier])
    vpc = ipaddress.ip_network(config["cidr"])
    assert all(ipaddress.ip_network(s.props["cidrBlock"]).subnet_of(vpc) for s in declared)
    assert all(s.props["mapPublicIpOnLaunch"] is False for s in declared), "no automatic public IPs, any tier"


def test_nat_gateways_per_stack():
    assert len(plan_for("staging").of_type(NAT)) == 1
    assert len(plan_for("prod").of_type(NAT)) == network_config("prod")["azCount"]


def test_nat_gateways_sit_in_public_subnets(plan):
    public = {s.urn for s in subnets(plan, "public")}
    for nat in plan.of_type(NAT):
        assert set(nat.property_dependencies["subnetId"]) <= public


def test_data_tier_has_no_route_out(plan):
    for subnet in subnets(plan, "data"):
        table = route_table_of(plan, subnet)
        assert routes_of(plan, table) == [], f"{subnet.name}'s route table has routes: it must only have 'local'"
        assert not table.props.get("routes"), "no inline routes either"


def test_public_tier_routes_to_the_internet_gateway(plan):
    for subnet in subnets(plan, "public"):
        routes = routes_of(plan, route_table_of(plan, subnet))
        assert [t.type for r in routes for t in targets(plan, r)] == [IGW]


def test_private_tier_routes_through_nat_only(plan):
    for subnet in subnets(plan, "private"):
        routes = routes_of(plan, route_table_of(plan, subnet))
        assert len(routes) == 1 and routes[0].props["destinationCidrBlock"] == "0.0.0.0/0"
        assert [t.type for t in targets(plan, routes[0])] == [NAT]


def test_prod_private_subnets_use_their_own_az_nat():
    plan = plan_for("prod")
    for subnet in subnets(plan, "private"):
        (route,) = routes_of(plan, route_table_of(plan, subnet))
        (nat,) = targets(plan, route)
        (nat_subnet,) = plan.depends_on(nat, "subnetId")
        assert nat_subnet.props["availabilityZone"] == subnet.props["availabilityZone"]


def test_load_balancer_discovery_tags(plan):
    for subnet in subnets(plan, "public"):
        assert subnet.props["tags"]["kubernetes.io/role/elb"] == "1"
        assert "kubernetes.io/role/internal-elb" not in subnet.props["tags"]
    for subnet in subnets(plan, "private"):
        tags = subnet.props["tags"]
        assert tags["kubernetes.io/role/internal-elb"] == "1"
        assert tags[f"kubernetes.io/cluster/platform-{plan.stack}"] == "shared"
    for subnet in subnets(plan, "data"):
        assert not any(key.startswith("kubernetes.io") for key in subnet.props["tags"]), "no load balancer in the data tier"


def test_flow_logs_to_cloudwatch_with_retention(plan, stack):
    vpc = plan.one("aws:ec2/vpc:Vpc")
    (flow_log,) = plan.of_type("aws:ec2/flowLog:FlowLog")
    assert flow_log.property_dependencies["vpcId"] == (vpc.urn,)
    assert flow_log.props["trafficType"] == "ALL"
    (log_group,) = plan.depends_on(flow_log, "logDestination")
    assert log_group.type == "aws:cloudwatch/logGroup:LogGroup"
    assert log_group.props["retentionInDays"] == network_config(stack)["flowLogRetentionDays"]
    (role,) = plan.depends_on(flow_log, "iamRoleArn")
    assert "vpc-flow-logs.amazonaws.com" in role.props["assumeRolePolicy"]


def test_vpc_endpoints_keep_aws_traffic_inside(plan, stack):
    endpoints = {e.props["serviceName"]: e for e in plan.of_type(ENDPOINT)}
    region = engine.stack_config(stack)["aws:region"]
    s3 = endpoints.pop(f"com.amazonaws.{region}.s3")
    assert s3.props["vpcEndpointType"] == "Gateway"
    private_and_data = {route_table_of(plan, s).urn for tier in ("private", "data") for s in subnets(plan, tier)}
    assert set(s3.property_dependencies["routeTableIds"]) == private_and_data
    wanted = {"ecr.api", "ecr.dkr", "sts", "secretsmanager", "logs", "sqs"}
    assert {name.split(f"com.amazonaws.{region}.")[1] for name in endpoints} >= wanted
    private = {s.urn for s in subnets(plan, "private")}
    for endpoint in endpoints.values():
        assert endpoint.props["vpcEndpointType"] == "Interface" and endpoint.props["privateDnsEnabled"] is True
        assert set(endpoint.property_dependencies["subnetIds"]) == private
        (group,) = plan.depends_on(endpoint, "securityGroupIds")
        rules = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                 if group.urn in r.property_dependencies["securityGroupId"]]
        assert [(r.props["fromPort"], r.props["toPort"], r.props["cidrIpv4"]) for r in rules] == [
            (443, 443, network_config(stack)["cidr"])
        ]
        assert not group.props.get("ingress") and not group.props.get("egress")


def test_default_security_group_is_stripped(plan):
    group = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group.props["ingress"] == [] and group.props["egress"] == []


def test_every_aws_resource_gets_the_default_tags(plan, stack):
    provider = plan.one("pulumi:providers:aws")
    # Providers receive nested config as JSON text, as the engine passes it to the provider plugin.
    default_tags = provider.props["defaultTags"]
    tags = (json.loads(default_tags) if isinstance(default_tags, str) else default_tags)["tags"]
    assert all(tags.get(key) for key in REQUIRED_TAGS), tags
    assert tags["environment"] == stack  # the stack's name is its environment
    aws_resources = [r for r in plan if r.type.startswith("aws:")]
    assert aws_resources
    for resource in aws_resources:
        assert resource.provider_urn == provider.urn, f"{resource.urn} bypasses the tagged provider"


def test_outputs(plan, stack):
    update = plan_for(stack)
    assert update.outputs["vpcId"].startswith("vpc-")
    assert update.outputs["vpcCidr"] == network_config(stack)["cidr"]
    assert len(update.outputs["availabilityZones"]) == network_config(stack)["azCount"]
    for tier in ("public", "private", "data"):
        ids = update.outputs["subnetIds"][tier]
        assert set(ids) == set(update.outputs["availabilityZones"])
        assert all(value.startswith("subnet-") for value in ids.values())


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_every_vpc_endpoint_admits_only_callers_of_this_account(stack, preview):
    """AWS's default endpoint policy is full access; each endpoint here names the caller's account (not the
    resource's: add-on images come from AWS-owned ECR repositories and S3 buckets). Known at a first preview too."""
    from infra.offline.mock_outputs import ACCOUNT_ID

    plan = engine.run(stack, preview=True) if preview else plan_for(stack)
    endpoints = plan.of_type(ENDPOINT)
    assert len(endpoints) >= 7
    for endpoint in endpoints:
        document = json.loads(endpoint.props["policy"])
        (statement,) = document["Statement"]
        assert statement["Effect"] == "Allow" and statement["Principal"] == "*"
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT_ID}}
        assert "aws:ResourceAccount" not in endpoint.props["policy"]
