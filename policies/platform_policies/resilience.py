"""Prod resilience (mandatory, prod only): nothing in prod depends on one zone, one node or one replica.

- `prod-nat-gateway-per-az`: every private route table sends its default route through a NAT gateway in its own
  subnets' zone, so losing a zone (or its gateway) cuts no other zone off the internet.
- `prod-database-multi-az`: RDS instances are Multi-AZ (a standby in another zone, automatic failover); Aurora
  clusters have at least two instances (a reader to fail over to), not all in one zone, and are not Serverless v1.
- `prod-cache-failover`: ElastiCache replication groups have at least two nodes, automatic failover and Multi-AZ; no
  standalone cache cluster.
- `prod-broker-multi-az`: Amazon MQ brokers run across zones (RabbitMQ `CLUSTER_MULTI_AZ`, ActiveMQ
  `ACTIVE_STANDBY_MULTI_AZ`).
- `prod-nodes-on-demand`: no node group on spot capacity (a spot reclaim can take a whole instance type at once).
- `prod-node-groups-span-three-azs`: every node group's subnets span at least three zones.
- `prod-workloads-replicated`: every Deployment, StatefulSet, ReplicaSet and custom kind with a pod template runs at
  least two replicas (its own `replicas`, or an autoscaler's `minReplicas`) and is covered by a PodDisruptionBudget in
  its namespace; a bare Pod is one replica.

The pack knows prod from the stack's name (PULUMI_STACK, see `Context.is_prod`); the policy config cannot change it.
What the pack cannot see: Helm releases are opaque (the replicas and budgets a chart renders are its own).

Unknowns: a graph link (route table, NAT gateway, subnet) is known at preview, so a missing one is a violation; a
value unknown at preview is deferred to `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .core import (
    MANDATORY,
    Context,
    Deferred,
    Outcome,
    Resource,
    Stack,
    as_bool,
    as_int,
    as_str,
    dig,
    is_unknown,
    resource_policy,
    stack_policy,
)
from .hygiene import NODE_GROUP_TYPES
from .kube import POD_SPEC_PATHS, is_pod_bearing, pod_spec

ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
SUBNET = "aws:ec2/subnet:Subnet"
DEFAULT_ROUTES = ("0.0.0.0/0",)


def _zone(subnet: Resource) -> Any:
    zone = subnet.get("availabilityZone")
    return zone if zone is not None else subnet.get("availabilityZoneId")


def check_nat_per_az(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    routes = [r for r in stack.dependents(resource, "routeTableId", ROUTE) if r.get("natGatewayId") is not None]
    inline = resource.get("routes")
    if isinstance(inline, list) and any(isinstance(r, Mapping) and r.get("natGatewayId") for r in inline):
        yield "routes through a NAT gateway inline (routes=[...]); declare aws.ec2.Route resources so the gateway can be followed"
    if not routes:
        return  # not a private route table (public tables route to the internet gateway, data tables nowhere)
    subnets = [s for a in stack.dependents(resource, "routeTableId", ASSOCIATION) for s in a.sources("subnetId", SUBNET)]
    zones = {_zone(s) for s in subnets}
    if any(is_unknown(z) for z in zones):
        yield Deferred("availabilityZone")
        return
    if not subnets:
        yield "routes through a NAT gateway but no subnet association can be followed to it"
        return
    if len(zones) > 1:
        yield f"is shared by subnets in {len(zones)} zones ({', '.join(sorted(map(str, zones)))}); give each zone its own table"
    for route in routes:
        gateways = route.sources("natGatewayId", NAT_GATEWAY)
        if not gateways:
            yield f'route "{route.name}" targets a NAT gateway that cannot be followed to its resource'
            continue
        for gateway in gateways:
            gateway_zones = {_zone(s) for s in gateway.sources("subnetId", SUBNET)}
            if any(is_unknown(z) for z in gateway_zones):
                yield Deferred("availabilityZone")
            elif not gateway_zones:
                yield f'NAT gateway "{gateway.name}" has no subnet that can be followed to its zone'
            elif not gateway_zones <= zones:
                yield (f'route "{route.name}" sends {", ".join(sorted(map(str, zones)))} through NAT gateway '
                       f'"{gateway.name}" in {", ".join(sorted(map(str, gateway_zones)))}: one zone\'s outage cuts '
                       "this zone off the internet")


prod_nat_gateway_per_az = stack_policy(
    name="prod-nat-gateway-per-az",
    description="Prod: every private route table sends its default route through a NAT gateway in its own zone.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="set platform:network natMode: per-az (one NAT gateway per zone, each private route table on its own).",
    types=(ROUTE_TABLE,),
    check=check_nat_per_az,
)


RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def check_database_multi_az(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    if resource.type == RDS_INSTANCE:
        multi_az = as_bool(resource.get("multiAz"), "multiAz")
        if is_unknown(multi_az):
            yield Deferred("multiAz")
        elif multi_az is not True:
            yield "is not Multi-AZ (multiAz is not true): one zone's outage stops the database"
        return
    engine = as_str(resource.get("engine"), "engine")
    mode = as_str(resource.get("engineMode"), "engineMode")
    if is_unknown(engine) or is_unknown(mode):
        yield Deferred("engine")
        return
    if not str(engine or "").startswith("aurora"):
        return  # a Multi-AZ DB cluster (RDS for MySQL or PostgreSQL): a writer and two readers in three zones
    if str(mode or "").lower() == "serverless":
        yield "is Aurora Serverless v1, which runs in one zone; use provisioned or Serverless v2 instances"
        return
    members = stack.dependents(resource, "clusterIdentifier", RDS_CLUSTER_INSTANCE)
    if len(members) < 2:
        yield (f"has {len(members)} cluster instance(s); an Aurora cluster fails over only to a reader, so prod needs "
               "at least two instances")
        return
    zones = [m.get("availabilityZone") for m in members]
    if any(is_unknown(z) for z in zones):
        yield Deferred("availabilityZone")
    elif all(z is not None for z in zones) and len(set(zones)) < 2:
        yield f"places all {len(members)} instances in {zones[0]}"


prod_database_multi_az = stack_policy(
    name="prod-database-multi-az",
    description="Prod: RDS instances are Multi-AZ, and Aurora clusters have instances in at least two zones.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("set platform:database multiAz: true (multi_az=True on the instance); give an Aurora cluster at "
                 "least two instances in different zones."),
    types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check_database_multi_az,
)


def check_cache_failover(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    if resource.type == "aws:elasticache/cluster:Cluster":
        group = resource.get("replicationGroupId")
        if is_unknown(group):
            yield Deferred("replicationGroupId")
        elif not group:
            yield "is a standalone cache cluster: one node, no failover; use a replication group"
        return
    failover = as_bool(resource.get("automaticFailoverEnabled"), "automaticFailoverEnabled")
    multi_az = as_bool(resource.get("multiAzEnabled"), "multiAzEnabled")
    for value, key in ((failover, "automaticFailoverEnabled"), (multi_az, "multiAzEnabled")):
        if is_unknown(value):
            yield Deferred(key)
        elif value is not True:
            yield f"does not set {key}: true"
    clusters = as_int(resource.get("numCacheClusters"), "numCacheClusters")
    replicas = as_int(resource.get("replicasPerNodeGroup"), "replicasPerNodeGroup")
    if is_unknown(clusters) or is_unknown(replicas):
        yield Deferred("numCacheClusters")
    elif clusters is not None:
        if clusters < 2:
            yield f"has {clusters} node(s) (numCacheClusters); failover needs at least 2"
    elif replicas is None or replicas < 1:
        yield "has no replica per shard (replicasPerNodeGroup); failover needs at least 2 nodes"


prod_cache_failover = resource_policy(
    name="prod-cache-failover",
    description="Prod: ElastiCache runs as a replication group of at least two nodes with automatic failover and Multi-AZ.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="set platform:cache nodes: 2 (or more) and multiAz: true.",
    types=("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster"),
    check=check_cache_failover,
)

MULTI_AZ_BROKER_MODES = {"RABBITMQ": "CLUSTER_MULTI_AZ", "ACTIVEMQ": "ACTIVE_STANDBY_MULTI_AZ"}


def check_broker_multi_az(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    engine = as_str(resource.get("engineType"), "engineType")
    mode = as_str(resource.get("deploymentMode"), "deploymentMode")
    if is_unknown(engine) or is_unknown(mode):
        yield Deferred("deploymentMode")
        return
    wanted = MULTI_AZ_BROKER_MODES.get(str(engine).upper())
    if wanted is None:
        yield f"has engine {engine!r}, which this policy cannot judge"
    elif str(mode or "SINGLE_INSTANCE").upper() != wanted:
        yield f"runs {mode or 'SINGLE_INSTANCE (the default)'}; a {engine} broker in prod runs {wanted}"


prod_broker_multi_az = resource_policy(
    name="prod-broker-multi-az",
    description="Prod: Amazon MQ brokers run across zones (RabbitMQ CLUSTER_MULTI_AZ, ActiveMQ ACTIVE_STANDBY_MULTI_AZ).",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="set platform:messaging rabbitmq deploymentMode: cluster-multi-az.",
    types=("aws:mq/broker:Broker",),
    check=check_broker_multi_az,
)


def check_nodes_on_demand(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    if resource.type in ("eks:index:NodeGroup", "eks:index:NodeGroupV2"):
        price = resource.get("spotPrice")
        if is_unknown(price):
            yield Deferred("spotPrice")
        elif price not in (None, ""):
            yield "runs on spot capacity (spotPrice is set)"
        return
    capacity = as_str(resource.get("capacityType"), "capacityType")
    if is_unknown(capacity):
        yield Deferred("capacityType")
    elif str(capacity or "ON_DEMAND").upper() != "ON_DEMAND":
        yield f"runs on {capacity} capacity; prod nodes run ON_DEMAND"


prod_nodes_on_demand = resource_policy(
    name="prod-nodes-on-demand",
    description="Prod: node groups run on on-demand capacity.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="set capacityType: ON_DEMAND for the prod node groups in platform:cluster nodeGroups.",
    types=NODE_GROUP_TYPES,
    check=check_nodes_on_demand,
)

MIN_ZONES = 3


def check_node_group_zones(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    subnets = resource.sources("subnetIds", SUBNET)
    if not subnets:
        yield "has subnets that cannot be followed to their resources, so its zones are unknown"
        return
    zones = {_zone(s) for s in subnets}
    if any(is_unknown(z) for z in zones):
        yield Deferred("availabilityZone")
    elif len(zones) < MIN_ZONES:
        yield f"spans {len(zones)} zone(s) ({', '.join(sorted(map(str, zones)))}); prod node groups span at least {MIN_ZONES}"


prod_node_groups_span_three_azs = stack_policy(
    name="prod-node-groups-span-three-azs",
    description=f"Prod: every node group's subnets span at least {MIN_ZONES} availability zones.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="give the node group a private subnet in each of three zones (platform:network azCount: 3).",
    types=NODE_GROUP_TYPES,
    check=check_node_group_zones,
)

# Kinds that run a fixed number of pods of their own (not one per node, not to completion).
SINGLE_RUN_OR_PER_NODE = ("DaemonSet", "Job", "CronJob", "PodTemplate")
PDB_TYPES = ("kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudget")
HPA_TYPES = tuple(f"kubernetes:autoscaling/{v}:HorizontalPodAutoscaler" for v in ("v1", "v2", "v2beta1", "v2beta2"))
MIN_REPLICAS = 2


def is_replicated_workload(resource_type: str) -> bool:
    return is_pod_bearing(resource_type) and resource_type.rsplit(":", 1)[-1] not in SINGLE_RUN_OR_PER_NODE


def _namespace(resource: Resource) -> Any:
    namespace = resource.get("metadata", "namespace")
    return namespace if namespace is not None else "default"


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels; an empty one selects none."""
    if not isinstance(selector, Mapping):
        return False
    match = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expression in expressions:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def check_replicated(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    if not ctx.is_prod:
        return
    spec = pod_spec(resource)
    if spec is None:
        return
    namespace = _namespace(resource)
    if is_unknown(namespace):
        yield Deferred("metadata.namespace")
        return
    if resource.type == "kubernetes:core/v1:Pod":
        yield "is a bare Pod: one replica, not rescheduled if its node goes; run it from a Deployment"
        labels = resource.get("metadata", "labels")
    else:
        path = POD_SPEC_PATHS.get(resource.type, ("spec", "template", "spec"))
        labels = dig(resource.props, *path[:-1], "metadata", "labels")
        replicas = as_int(resource.get("spec", "replicas"), "spec.replicas")
        floor = _autoscaler_floor(resource, stack, namespace)
        if is_unknown(replicas) or is_unknown(floor):
            yield Deferred("spec.replicas")
        else:
            effective = max(1 if replicas is None else replicas, floor or 0)
            if effective < MIN_REPLICAS:
                scaler = f"autoscaler minReplicas {floor}" if floor else "no autoscaler"
                given = "spec.replicas unset" if replicas is None else f"spec.replicas {replicas}"
                yield f"runs {effective} replica(s) ({given}, {scaler}); prod workloads run at least {MIN_REPLICAS}"
    if is_unknown(labels):
        yield Deferred("template.metadata.labels")
        return
    labels = labels if isinstance(labels, Mapping) else {}
    budgets = [b for b in stack.of_type(*PDB_TYPES)
               if _namespace(b) == namespace and selects(b.get("spec", "selector"), labels)]
    if not budgets:
        yield f"has no PodDisruptionBudget in namespace {namespace!r} selecting its pods; a node drain may take them all"


def _autoscaler_floor(resource: Resource, stack: Stack, namespace: str) -> Any:
    kind = resource.type.rsplit(":", 1)[-1]
    name = resource.get("metadata", "name")
    floor = None
    for hpa in stack.of_type(*HPA_TYPES):
        target = hpa.get("spec", "scaleTargetRef")
        if _namespace(hpa) != namespace or not isinstance(target, Mapping):
            continue
        if target.get("kind") == kind and name is not None and target.get("name") == name:
            value = as_int(hpa.get("spec", "minReplicas"), "minReplicas")
            if is_unknown(value):
                return value
            floor = max(floor or 0, 1 if value is None else value)
    return floor


prod_workloads_replicated = stack_policy(
    name="prod-workloads-replicated",
    description=(f"Prod: every workload runs at least {MIN_REPLICAS} replicas and is covered by a PodDisruptionBudget "
                 "(DaemonSets, Jobs and CronJobs excepted)."),
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=(f"run at least {MIN_REPLICAS} replicas (platform:serviceOverrides replicas and autoscaling "
                 "minReplicas) and declare a PodDisruptionBudget whose selector matches the pod template's labels."),
    types=is_replicated_workload,
    check=check_replicated,
)

POLICIES = [prod_nat_gateway_per_az, prod_database_multi_az, prod_cache_failover, prod_broker_multi_az,
            prod_nodes_on_demand, prod_node_groups_span_three_azs, prod_workloads_replicated]
