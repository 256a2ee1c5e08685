"""The estimator on a small hand-built plan with a test price table: totals computed by hand, not by the estimator.

The fixture's prices are round on purpose so that each expected figure can be checked with pencil and paper (the
arithmetic is in the comments). The real stacks are checked for the billing conventions (Multi-AZ doubles, a
RabbitMQ cluster bills three brokers, interface endpoints bill per AZ) and for every line tracing to a table row.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from infra.offline import engine
from infra.offline.cost import prices, usage
from infra.offline.cost.estimate import estimate
from tests.conftest import plan_for

TEST_PRICES = """usage_type,variant,term,unit,price_usd,confidence,date,source
APN2-AmazonEKS-Hours:perCluster,,OnDemand,Hrs,0.10,one-source,2026-01-01,test
APN2-BoxUsage:m7i.large,Linux,OnDemand,Hrs,0.10,one-source,2026-01-01,test
APN2-BoxUsage:m7i.xlarge,Linux,OnDemand,Hrs,0.20,one-source,2026-01-01,test
APN2-BoxUsage:m6i.xlarge,Linux,OnDemand,Hrs,0.25,one-source,2026-01-01,test
EC2-Spot:MaxDiscount,,Spot,fraction,0.90,one-source,2026-01-01,test
APN2-EBS:VolumeUsage.gp3,,OnDemand,GB-Mo,0.08,one-source,2026-01-01,test
APN2-NatGateway-Hours,,OnDemand,Hrs,0.05,one-source,2026-01-01,test
APN2-NatGateway-Bytes,,OnDemand,GB,0.05,one-source,2026-01-01,test
APN2-VpcEndpoint-Hours,,OnDemand,Hrs,0.01,one-source,2026-01-01,test
APN2-VpcEndpoint-Bytes,,OnDemand,GB,0.01,one-source,2026-01-01,test
APN2-InstanceUsage:db.m7g.large,PostgreSQL,OnDemand,Hrs,0.20,one-source,2026-01-01,test
APN2-RDS:GP3-Storage,PostgreSQL,OnDemand,GB-Mo,0.10,one-source,2026-01-01,test
APN2-BrokerInstance:mq.m7g.large,RabbitMQ,OnDemand,Hrs,0.30,one-source,2026-01-01,test
"""


def resource(type_: str, name: str, inputs: dict, *, custom: bool = True) -> engine.CapturedResource:
    return engine.CapturedResource(
        urn=f"urn:pulumi:test::platform::{type_}::{name}", type=type_, name=name, custom=custom, remote=not custom,
        parent=None, provider=None, options={}, dependencies=(), property_dependencies={}, inputs=inputs,
    )


@pytest.fixture
def fixed_plan() -> engine.Plan:
    return engine.Plan(
        stack="test",
        preview=False,
        outputs={},
        resources=[
            resource("pulumi:providers:aws", "aws", {"region": "ap-northeast-2"}),
            resource("eks:index:Cluster", "cluster", {}, custom=False),
            resource("aws:eks/nodeGroup:NodeGroup", "system", {
                "capacityType": "ON_DEMAND", "instanceTypes": ["m7i.large"],
                "scalingConfig": {"minSize": 2.0, "maxSize": 3.0, "desiredSize": 2.0},
            }),
            resource("aws:ec2/launchTemplate:LaunchTemplate", "system", {
                "blockDeviceMappings": [{"ebs": {"volumeSize": 50.0, "volumeType": "gp3"}}],
            }),
            resource("aws:eks/nodeGroup:NodeGroup", "workload", {
                "capacityType": "SPOT", "instanceTypes": ["m7i.xlarge", "m6i.xlarge", "m5.xlarge"],
                "scalingConfig": {"minSize": 1.0, "maxSize": 6.0, "desiredSize": 3.0},
            }),
            resource("aws:ec2/natGateway:NatGateway", "nat", {"connectivityType": "public"}),
            resource("aws:ec2/vpcEndpoint:VpcEndpoint", "ep", {"vpcEndpointType": "Interface", "subnetIds": ["a", "b", "c"]}),
            resource("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"}),
            resource("aws:rds/instance:Instance", "db", {
                "engine": "postgres", "instanceClass": "db.m7g.large", "multiAz": True, "allocatedStorage": 100.0,
                "storageType": "gp3",
            }),
            resource("aws:mq/broker:Broker", "mq", {
                "engineType": "RabbitMQ", "hostInstanceType": "mq.m7g.large", "deploymentMode": "CLUSTER_MULTI_AZ",
            }),
            resource("aws:elasticache/replicationGroup:ReplicationGroup", "cache", {
                "engine": "valkey", "nodeType": "cache.m7g.large", "numCacheClusters": 2.0,
            }),
            resource("aws:iam/role:Role", "role", {}),
            resource("aws:foo/bar:Bar", "mystery", {}),
        ],
    )


@pytest.fixture
def table(tmp_path: Path) -> prices.PriceTable:
    path = tmp_path / "ap-northeast-2.csv"
    path.write_text(TEST_PRICES)
    return prices.parse(path, "ap-northeast-2")


@pytest.fixture
def nat_usage(fixed_plan, tmp_path) -> usage.Usage:
    text = "version: 0.1\nresource_usage:\n  nat:\n    monthly_data_processed_gb: 100\n"
    return usage.parse(text, tmp_path / "usage.yml", [(r.name, r.type) for r in fixed_plan])


def test_fixed_plan_totals(fixed_plan, table, nat_usage):
    result = estimate(fixed_plan, table, nat_usage)
    # EKS 730 x 0.10 = 73.00
    # system: 2 nodes x 730 h x 0.10 = 146.00; root volumes 50 GiB x 2 x 0.08 = 8.00
    # workload (spot, 3 x 730 = 2190 h): up to the dearest priced type on demand, 2190 x 0.25 = 547.50;
    #   down to the cheapest less 90 %: 2190 x 0.20 x 0.10 = 43.80
    # NAT 730 x 0.05 = 36.50, plus 100 GB x 0.05 = 5.00 from the usage file
    # interface endpoint: 3 AZs x 730 h x 0.01 = 21.90; the gateway endpoint is free
    # RDS Multi-AZ: 2 x 730 x 0.20 = 292.00; storage 100 GB x 2 x 0.10 = 20.00
    # RabbitMQ cluster: 3 brokers x 730 x 0.30 = 657.00
    # high: 73 + 146 + 8 + 547.50 + 36.50 + 5 + 21.90 + 292 + 20 + 657 = 1806.90
    assert result.total == Decimal("1806.90")
    # low: 1806.90 - 547.50 + 43.80 = 1303.20
    assert result.total_low == Decimal("1303.20")
    # not priced: the cache nodes, the RDS backup storage and the broker storage (no rows), the type without a rule
    assert sorted((l.resource, l.usage_type) for l in result.not_priced) == [
        ("cache", "APN2-NodeUsage:cache.m7g.large"),
        ("db", "APN2-RDS:ChargedBackupUsage"),
        ("mq", "APN2-TimedStorage-ByteHrs"),
        ("mystery", ""),
    ]
    assert result.unknown_types == ["aws:foo/bar:Bar"]


def test_zero_usage_without_a_usage_file(fixed_plan, table):
    result = estimate(fixed_plan, table)
    nat = [l for l in result.lines if l.resource == "nat"]
    assert [(l.component, l.quantity, l.usage_based) for l in nat] == [
        ("NAT gateway", Decimal(730), False),
        ("Data processed", Decimal(0), True),
    ]
    assert result.total == Decimal("1801.90")  # the 5.00 of processed data is gone


def test_spot_line_names_the_unpriced_types(fixed_plan, table):
    spot = next(l for l in estimate(fixed_plan, table).lines if l.resource == "workload")
    assert spot.unit_range == (Decimal("0.020000"), Decimal("0.25"))
    assert "not priced: m5.xlarge" in spot.note


def test_usage_overrides_node_count_and_hours(fixed_plan, table, tmp_path):
    text = "version: 0.1\nresource_usage:\n  system:\n    instances: 1\n    monthly_hrs: 100\n"
    u = usage.parse(text, tmp_path / "u.yml", [(r.name, r.type) for r in fixed_plan])
    system = [l for l in estimate(fixed_plan, table, u).lines if l.resource == "system"]
    assert system[0].monthly == Decimal("10.00")  # 1 x 100 h x 0.10
    assert system[1].quantity == Decimal(50) * 100 / 730  # one 50 GiB volume for 100 of 730 hours


def test_a_region_without_a_table_prices_nothing(fixed_plan, tmp_path):
    empty = prices.load("eu-west-3", directory=tmp_path)
    result = estimate(fixed_plan, empty)
    assert result.total == 0 and result.lines and all(not l.priced for l in result.lines)


# -- the real stacks ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real():
    table = prices.load("ap-northeast-2")
    return {stack: estimate(plan_for(stack), table) for stack in ("staging", "prod")}


def test_every_line_traces_to_a_row_or_is_not_priced(real):
    table = prices.load("ap-northeast-2")
    for result in real.values():
        for line in result.lines:
            if line.priced:
                assert line.row in table.rows
                assert table.find(line.usage_type, line.variant) == line.row or line.unit_range is not None
            else:
                assert table.find(line.usage_type, line.variant) is None


def test_billing_conventions_in_prod(real):
    lines = real["prod"].lines
    db = next(l for l in lines if l.type == "aws:rds/instance:Instance" and "Instance" in l.component)
    assert db.quantity == 2 * 730  # Multi-AZ: primary and standby
    mq = next(l for l in lines if l.type == "aws:mq/broker:Broker")
    assert mq.quantity == 3 * 730  # CLUSTER_MULTI_AZ: three brokers
    endpoints = [l for l in lines if l.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and not l.usage_based]
    assert endpoints and all(l.quantity == 3 * 730 for l in endpoints)  # three AZs each


def test_staging_workload_is_a_spot_range(real):
    spot = next(l for l in real["staging"].lines if l.resource == "cluster-workload" and "spot" in l.component)
    low, high = spot.unit_range
    assert low < high
    assert real["staging"].total_low < real["staging"].total
