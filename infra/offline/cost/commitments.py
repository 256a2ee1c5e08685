"""Commitment advice for prod: what the steady baseline costs on demand against 1- and 3-year no-upfront commitments.

The baseline is what runs whatever the load: each On-Demand node group at its minimum size, the always-on database
(both instances when Multi-AZ), the cache nodes. Each is priced on demand and, where the price table holds a sourced
rate, at the standard reserved rate with no upfront payment for 1 and 3 years (`Reserved-1yr-NoUpfront`,
`Reserved-3yr-NoUpfront` rows: reserved instances for EC2, reserved DB instances, reserved cache nodes; an EC2 Instance
Savings Plan is priced in a separate offer file this table does not hold). A missing rate says "no sourced rate",
never an assumed discount. Spot capacity is left out (already discounted, not committable). What no commitment
covers (the EKS control plane, NAT gateways, interface endpoints, load balancers, the Amazon MQ broker, public IPv4
addresses, keys and secrets) is listed apart with its monthly cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .. import engine
from .estimate import CENT, HOURS, ENGINE_VARIANTS, Estimate, prefix_of
from .prices import PriceRow

TERMS = ("Reserved-1yr-NoUpfront", "Reserved-3yr-NoUpfront")
UNCOVERED = {
    "eks:index:Cluster": "EKS control plane",
    "aws:eks/cluster:Cluster": "EKS control plane",
    "aws:ec2/natGateway:NatGateway": "NAT gateways",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "interface endpoints",
    "kubernetes:networking.k8s.io/v1:Ingress": "load balancer",
    "aws:mq/broker:Broker": "Amazon MQ broker (no reserved pricing)",
    "aws:ec2/eip:Eip": "public IPv4 addresses",
    "aws:kms/key:Key": "KMS keys",
    "aws:secretsmanager/secret:Secret": "secrets",
}


@dataclass(frozen=True)
class Baseline:
    label: str
    hours: Decimal  # instance-hours per month
    on_demand: PriceRow | None
    reserved: dict[str, PriceRow | None]

    def monthly(self, row: PriceRow | None) -> Decimal | None:
        return None if row is None else (self.hours * row.price).quantize(CENT)


@dataclass
class Advice:
    baseline: list[Baseline]
    uncovered: dict[str, Decimal | None]

    def render(self) -> str:
        def cell(value: Decimal | None, base: Decimal | None) -> str:
            if value is None:
                return "no sourced rate"
            saving = f" (-{(1 - value / base):.0%})" if base else ""
            return f"${value:,}{saving}"

        out = [
            "Commitment advice (prod): the steady baseline, per month",
            f" {'Baseline':<52} {'On demand':>12} {'1 yr, no upfront':>20} {'3 yr, no upfront':>20}",
        ]
        for b in self.baseline:
            od = b.monthly(b.on_demand)
            out.append(
                f" {b.label[:52]:<52} {('$' + format(od, ',')) if od is not None else 'not priced':>12}"
                f" {cell(b.monthly(b.reserved[TERMS[0]]), od):>20} {cell(b.monthly(b.reserved[TERMS[1]]), od):>20}"
            )
        out.append(" Not covered by any commitment:")
        for label, cost in self.uncovered.items():
            out.append(f"   {label:<50} {('$' + format(cost, ',')) if cost is not None else 'not priced':>12}")
        out.append(
            " Buy only after the baseline has been stable for a few months; a commitment is paid whether used or not."
        )
        return "\n".join(out)


def advise(plan: engine.Plan, result: Estimate) -> Advice | None:
    if plan.outputs.get("environment", plan.stack) != "prod":  # the environment is the stack's name
        return None
    table = result.table
    p = prefix_of(table.region)
    baseline: list[Baseline] = []

    def add(label: str, usage_type: str, variant: str, hours: Decimal) -> None:
        baseline.append(
            Baseline(
                label=label, hours=hours, on_demand=table.find(usage_type, variant),
                reserved={term: table.find(usage_type, variant, term) for term in TERMS},
            )
        )

    for group in sorted(plan.of_type("aws:eks/nodeGroup:NodeGroup"), key=lambda r: r.name):
        props = group.props
        if props.get("capacityType", "ON_DEMAND") != "ON_DEMAND" or not props.get("instanceTypes"):
            continue
        kind = props["instanceTypes"][0]
        minimum = Decimal(str(int((props.get("scalingConfig") or {}).get("minSize", 0))))
        add(f"{group.name}: {minimum} x {kind} (minimum size)", f"{p}-BoxUsage:{kind}", "Linux", minimum * HOURS)
    for db in plan.of_type("aws:rds/instance:Instance"):
        copies = Decimal(2) if db.props.get("multiAz") else Decimal(1)
        klass = db.props.get("instanceClass")
        variant = ENGINE_VARIANTS.get(str(db.props.get("engine")), "")
        add(f"{db.name}: {copies} x {klass}{' (Multi-AZ)' if copies == 2 else ''}", f"{p}-InstanceUsage:{klass}", variant,
            copies * HOURS)
    for cache in plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        nodes = Decimal(str(int(cache.props.get("numCacheClusters") or 1)))
        node = cache.props.get("nodeType")
        variant = "Valkey" if "valkey" in str(cache.props.get("parameterGroupName")) else "Redis"
        add(f"{cache.name}: {nodes} x {node}", f"{p}-NodeUsage:{node}", variant, nodes * HOURS)

    uncovered: dict[str, Decimal | None] = {}
    for line in result.lines:
        label = UNCOVERED.get(line.type)
        if label is None or line.usage_based:
            continue
        current = uncovered.get(label, Decimal(0))
        uncovered[label] = None if (current is None or line.monthly is None) else (current + line.monthly).quantize(CENT)
    return Advice(baseline=baseline, uncovered=uncovered)
