"""Commitment advice: the prod baseline on demand against sourced reserved rates; what no commitment covers."""

from __future__ import annotations

from decimal import Decimal

from infra.offline import engine
from infra.offline.cost import prices
from infra.offline.cost.commitments import advise
from infra.offline.cost.estimate import estimate
from tests.conftest import plan_for
from tests.test_cost_estimate import resource

TABLE = """usage_type,variant,term,unit,price_usd,confidence,date,source
APN2-BoxUsage:m7i.large,Linux,OnDemand,Hrs,0.10,one-source,2026-01-01,test
APN2-BoxUsage:m7i.large,Linux,Reserved-1yr-NoUpfront,Hrs,0.06,one-source,2026-01-01,test
APN2-BoxUsage:m7i.large,Linux,Reserved-3yr-NoUpfront,Hrs,0.04,one-source,2026-01-01,test
APN2-InstanceUsage:db.m7g.large,PostgreSQL,OnDemand,Hrs,0.20,one-source,2026-01-01,test
APN2-NatGateway-Hours,,OnDemand,Hrs,0.05,one-source,2026-01-01,test
"""


def plan(environment: str) -> engine.Plan:
    return engine.Plan(
        stack=environment, preview=False, outputs={"environment": environment},
        resources=[
            resource("aws:eks/nodeGroup:NodeGroup", "system", {
                "capacityType": "ON_DEMAND", "instanceTypes": ["m7i.large"],
                "scalingConfig": {"minSize": 3.0, "maxSize": 4.0, "desiredSize": 4.0},
            }),
            resource("aws:eks/nodeGroup:NodeGroup", "spot", {
                "capacityType": "SPOT", "instanceTypes": ["m7i.large"], "scalingConfig": {"minSize": 5.0, "desiredSize": 5.0},
            }),
            resource("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.m7g.large", "multiAz": True}),
            resource("aws:ec2/natGateway:NatGateway", "nat", {}),
            resource("aws:mq/broker:Broker", "mq", {"hostInstanceType": "mq.m7g.large", "deploymentMode": "SINGLE_INSTANCE"}),
        ],
    )


def test_baseline_against_reserved_rates(tmp_path):
    path = tmp_path / "ap-northeast-2.csv"
    path.write_text(TABLE)
    table = prices.parse(path, "ap-northeast-2")
    p = plan("prod")
    advice = advise(p, estimate(p, table))
    system, db = advice.baseline  # the spot group is not committable
    # the minimum size, not the desired: 3 x 730 x 0.10 = 219.00; 1 yr 3 x 730 x 0.06 = 131.40; 3 yr x 0.04 = 87.60
    assert system.monthly(system.on_demand) == Decimal("219.00")
    assert system.monthly(system.reserved["Reserved-1yr-NoUpfront"]) == Decimal("131.40")
    assert system.monthly(system.reserved["Reserved-3yr-NoUpfront"]) == Decimal("87.60")
    # Multi-AZ: 2 x 730 x 0.20 = 292.00, and no reserved rate in the table
    assert db.monthly(db.on_demand) == Decimal("292.00") and db.reserved["Reserved-1yr-NoUpfront"] is None
    assert advice.uncovered == {"NAT gateways": Decimal("36.50"), "Amazon MQ broker (no reserved pricing)": None}
    text = advice.render()
    assert "$131.40 (-40%)" in text and "$87.60 (-60%)" in text and "no sourced rate" in text


def test_only_prod_gets_advice(tmp_path):
    table = prices.load("ap-northeast-2")
    assert advise(plan("staging"), estimate(plan("staging"), table)) is None
    real = plan_for("prod")
    assert advise(real, estimate(real, table)) is not None
