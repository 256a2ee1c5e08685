"""The usage file reader: Infracost's shape, zero by default, and bad input named by its key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from infra.offline import engine
from infra.offline.cost import usage
from infra.offline.cost.report import usage_path

RESOURCES = [("nat", "aws:ec2/natGateway:NatGateway"), ("nat", "aws:ec2/eip:Eip"), ("logs", "aws:cloudwatch/logGroup:LogGroup")]


def parse(text: str) -> usage.Usage:
    return usage.parse(text, Path("usage.yml"), RESOURCES)


def test_own_entry_wins_over_the_type_default():
    u = parse(
        "version: 0.1\n"
        "resource_usage:\n  nat:\n    monthly_data_processed_gb: 7\n"
        "resource_type_default_usage:\n  aws:ec2/natGateway:NatGateway:\n    monthly_data_processed_gb: 3\n"
        "  aws:cloudwatch/logGroup:LogGroup:\n    storage_gb: 2.5\n"
    )
    assert u.value("nat", "aws:ec2/natGateway:NatGateway", "monthly_data_processed_gb") == 7
    assert u.value("other", "aws:ec2/natGateway:NatGateway", "monthly_data_processed_gb") == 3
    assert u.value("logs", "aws:cloudwatch/logGroup:LogGroup", "storage_gb") == Decimal("2.5")
    assert u.value("logs", "aws:cloudwatch/logGroup:LogGroup", "monthly_data_ingested_gb") == 0


@pytest.mark.parametrize(
    "text, named",
    [
        ("version: 0.1\nresource_usage:\n  nat:\n    monthly_gb: 1\n", "resource_usage.nat.monthly_gb"),
        ("version: 0.1\nresource_usage:\n  ghost:\n    monthly_data_processed_gb: 1\n", "resource_usage.ghost"),
        ("version: 0.1\nresource_usage:\n  nat:\n    monthly_data_processed_gb: -1\n", "resource_usage.nat.monthly_data_processed_gb"),
        ("version: 0.1\nresource_usage:\n  nat:\n    monthly_data_processed_gb: lots\n", "resource_usage.nat.monthly_data_processed_gb"),
        ("version: 0.2\n", "version"),
        ("versoin: 0.1\n", "versoin"),
        ("version: 0.1\nresource_type_default_usage:\n  aws:iam/role:Role:\n    x: 1\n", "aws:iam/role:Role"),
        ("version: 0.1\nresource_usage:\n  nat:\n    monthly_data_processed_gb: 1\n    monthly_data_processed_gb: 2\n", "usage.yml"),
    ],
)
def test_bad_input_names_the_key(text, named):
    with pytest.raises(usage.UsageError) as caught:
        parse(text)
    assert named in str(caught.value)


def test_shipped_usage_files_read_against_the_real_plans():
    from tests.conftest import plan_for

    for stack in ("staging", "prod"):
        plan = plan_for(stack)
        u = usage.load(usage_path(stack), [(r.name, r.type) for r in plan])
        assert u.path == engine.ROOT / "cost" / f"usage.{stack}.yml"
