"""Price a captured plan line by line, in Infracost's conventions.

`estimate(plan, table, usage)` returns an `Estimate`: one `Line` per billed component of each resource. Conventions
(Infracost's): a month is 730 hours; every usage-based component is listed with its unit price and the usage the
usage file gives it (zero if none); a component whose usage type has no row in the price table is "not priced"
(no guess, no regional multiplier) and counts in `not_priced`, never in the total.

Billing facts applied here: a Multi-AZ RDS instance bills a primary and a standby (instance and storage twice); a
RabbitMQ cluster (`CLUSTER_MULTI_AZ`) bills three brokers; an interface endpoint bills per AZ (one per subnet); an
internet-facing ALB holds one public IPv4 per AZ it spans; an RDS-managed master password is a Secrets Manager
secret. On-Demand node groups price at their first instance type (EKS launches On-Demand capacity in that priority);
Spot groups show a range: from the table's maximum Spot discount off the cheapest priced type up to the On-Demand
price of the dearest one (the default Spot maximum price). Totals carry the upper bound; `low` the lower.

Resource types known to be free (networking plumbing, IAM, policies, the Kubernetes objects that run on the priced
nodes) are counted, not listed; any other type is listed as "not priced (no pricing rule)".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from .. import engine
from .prices import PriceRow, PriceTable
from .usage import Usage

HOURS = Decimal(730)
CENT = Decimal("0.01")

# Free to declare: billed nowhere, or billed through another line (launch templates through their node group,
# flow logs through their log group, a subscription's deliveries through its topic).
FREE_TYPES = frozenset(
    {
        "aws:acm/certificate:Certificate",  # public certificates are free
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:autoscaling/schedule:Schedule",
        "aws:scheduler/schedule:Schedule",  # billed per invocation beyond 14 million a month; this job runs daily
        "aws:budgets/budget:Budget",  # free unless action-enabled (priced row AWSBudgets-Budget = 0, shown for clarity)
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/flowLog:FlowLog",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/route:Route",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/vpc:Vpc",
        "aws:eks/addon:Addon",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:kms/alias:Alias",
        "aws:lambda/permission:Permission",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:route53/record:Record",  # alias records to AWS load balancers answer free queries
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "random:index/randomPassword:RandomPassword",
    }
)
PRICED_KUBERNETES = frozenset({"kubernetes:networking.k8s.io/v1:Ingress", "kubernetes:core/v1:Service"})
ENGINE_VARIANTS = {"postgres": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB", "valkey": "Valkey", "redis": "Redis"}
# The usage-type names of lines no row prices yet that were not checked against an offer file: the import script adds
# them only if the offer uses the same name.
UNCHECKED = "usage type name not checked against an offer file"
MQ_BROKERS = {"SINGLE_INSTANCE": 1, "ACTIVE_STANDBY_MULTI_AZ": 2, "CLUSTER_MULTI_AZ": 3}


@dataclass(frozen=True)
class Line:
    resource: str  # the Pulumi name
    type: str
    component: str  # what is billed, e.g. "Instance (on demand, m7i.large)"
    usage_type: str
    variant: str
    quantity: Decimal
    unit: str
    usage_based: bool
    row: PriceRow | None
    # Spot: the price range per unit (low, high); None for a single price.
    unit_range: tuple[Decimal, Decimal] | None = None
    note: str = ""

    @property
    def priced(self) -> bool:
        return self.row is not None

    @property
    def unit_price(self) -> Decimal | None:
        if self.unit_range is not None:
            return self.unit_range[1]
        return self.row.price if self.row else None

    @property
    def monthly(self) -> Decimal | None:
        return None if self.unit_price is None else self.quantity * self.unit_price

    @property
    def monthly_low(self) -> Decimal | None:
        if self.unit_range is not None:
            return self.quantity * self.unit_range[0]
        return self.monthly


@dataclass
class Estimate:
    stack: str
    region: str
    table: PriceTable
    lines: list[Line] = field(default_factory=list)
    free: int = 0
    # Lines for types without a pricing rule (listed as not priced).
    unknown_types: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((l.monthly for l in self.lines if l.monthly is not None), Decimal(0))

    @property
    def total_low(self) -> Decimal:
        return sum((l.monthly_low for l in self.lines if l.monthly_low is not None), Decimal(0))

    @property
    def not_priced(self) -> list[Line]:
        return [l for l in self.lines if not l.priced]

    def by_resource(self) -> Iterator[tuple[str, str, list[Line]]]:
        order: dict[tuple[str, str], list[Line]] = {}
        for line in self.lines:
            order.setdefault((line.resource, line.type), []).append(line)
        for (name, type_), lines in order.items():
            yield name, type_, lines


def region_of(plan: engine.Plan) -> str:
    for provider in plan.of_type("pulumi:providers:aws"):
        region = provider.props.get("region")
        if isinstance(region, str):
            return region
    return "ap-northeast-2"


def prefix_of(region: str) -> str:
    """The Price List usage-type prefix of a region (only the regions this project prices; others get no prefix
    match and so no price)."""
    return {"ap-northeast-2": "APN2", "ap-northeast-1": "APN1", "us-east-1": "USE1"}.get(region, region.upper())


def _n(value: object, default: int | float = 0) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return Decimal(str(default))
    return Decimal(int(value)) if value == int(value) else Decimal(str(value))


class _Pricer:
    def __init__(self, plan: engine.Plan, table: PriceTable, usage: Usage):
        self.plan = plan
        self.table = table
        self.usage = usage
        self.p = prefix_of(table.region)
        self.lines: list[Line] = []

    def add(
        self, r: engine.CapturedResource, component: str, usage_type: str, quantity: Decimal, unit: str, *,
        variant: str = "", usage_based: bool = False, note: str = "", full_usage_type: bool = False,
    ) -> Line:
        ut = usage_type if full_usage_type else f"{self.p}-{usage_type}"
        line = Line(
            resource=r.name, type=r.type, component=component, usage_type=ut, variant=variant, quantity=quantity,
            unit=unit, usage_based=usage_based, row=self.table.find(ut, variant), note=note,
        )
        self.lines.append(line)
        return line

    def use(self, r: engine.CapturedResource, key: str) -> Decimal:
        return self.usage.value(r.name, r.type, key)

    # -- compute ------------------------------------------------------------------------------------------------
    def eks_cluster(self, r: engine.CapturedResource) -> None:
        self.add(r, "EKS control plane (standard support)", "AmazonEKS-Hours:perCluster", HOURS, "hours")

    def node_group(self, r: engine.CapturedResource) -> None:
        props = r.props
        scaling = props.get("scalingConfig") or {}
        set_instances = self.usage.get(r.name, r.type, "instances")
        instances = set_instances if set_instances is not None else _n(scaling.get("desiredSize"), 1)
        set_hours = self.usage.get(r.name, r.type, "monthly_hrs")
        hours = set_hours if set_hours is not None else HOURS
        node_hours = instances * hours
        types = [t for t in props.get("instanceTypes") or [] if isinstance(t, str)]
        capacity = props.get("capacityType", "ON_DEMAND")
        how = f"{instances} x {hours} h"
        if capacity == "SPOT":
            self._spot(r, types, node_hours, how)
        elif types:
            self.add(r, f"Instance (on demand, {types[0]}; {how})", f"BoxUsage:{types[0]}", node_hours, "hours",
                     variant="Linux")
        disk = self._root_volume_gib(r)
        if disk:
            self.add(r, f"Root volume gp3 ({disk} GiB x {instances} nodes)", "EBS:VolumeUsage.gp3",
                     disk * instances * hours / HOURS, "GB-months")

    def _spot(self, r: engine.CapturedResource, types: list[str], node_hours: Decimal, how: str) -> None:
        rows = {t: self.table.find(f"{self.p}-BoxUsage:{t}", "Linux") for t in types}
        priced = {t: row for t, row in rows.items() if row is not None}
        discount = self.table.find("EC2-Spot:MaxDiscount", "", "Spot")
        missing = sorted(set(types) - set(priced))
        note = f"not priced: {', '.join(missing)}" if missing else ""
        if not priced or discount is None:
            self.add(r, f"Instance (spot, {len(types)} types; {how})", f"BoxUsage:{types[0] if types else '?'}",
                     node_hours, "hours", variant="Linux", note=note or "no Spot discount row")
            self.lines[-1] = replace(self.lines[-1], row=None)
            return
        cheapest = min(priced.values(), key=lambda row: row.price)
        dearest = max(priced.values(), key=lambda row: row.price)
        low = (cheapest.price * (1 - discount.price)).quantize(Decimal("0.000001"))
        line = Line(
            resource=r.name, type=r.type, component=f"Instance (spot, {len(types)} types; {how})",
            usage_type=dearest.usage_type, variant="Linux", quantity=node_hours, unit="hours", usage_based=False,
            row=dearest, unit_range=(low, dearest.price),
            note="; ".join(x for x in (f"types: {', '.join(types)}",
                                       f"range: {cheapest.usage_type} less {discount.price:.0%} to {dearest.usage_type} on demand",
                                       note) if x),
        )
        self.lines.append(line)

    def _root_volume_gib(self, r: engine.CapturedResource) -> Decimal:
        # The node group's launch template carries the root volume; the program names both alike.
        for template in self.plan.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
            if template.name == r.name:
                for mapping in template.props.get("blockDeviceMappings") or []:
                    size = (mapping.get("ebs") or {}).get("volumeSize")
                    if isinstance(size, (int, float)):
                        return _n(size)
        disk = r.props.get("diskSize")
        return _n(disk) if isinstance(disk, (int, float)) else Decimal(0)

    def lambda_function(self, r: engine.CapturedResource) -> None:
        requests = self.use(r, "monthly_requests")
        duration = self.use(r, "request_duration_ms")
        memory_gb = _n(r.props.get("memorySize"), 128) / 1024
        arm = "arm64" in (r.props.get("architectures") or [])
        self.add(r, "Requests", "Request", requests, "requests", variant="Lambda", usage_based=True)
        self.add(r, f"Duration ({memory_gb * 1024} MB{', arm64' if arm else ''})",
                 "Lambda-GB-Second-ARM" if arm else "Lambda-GB-Second", requests * duration / 1000 * memory_gb,
                 "GB-seconds", usage_based=True)

    # -- network ------------------------------------------------------------------------------------------------
    def nat_gateway(self, r: engine.CapturedResource) -> None:
        self.add(r, "NAT gateway", "NatGateway-Hours", HOURS, "hours")
        self.add(r, "Data processed", "NatGateway-Bytes", self.use(r, "monthly_data_processed_gb"), "GB", usage_based=True)

    def eip(self, r: engine.CapturedResource) -> None:
        self.add(r, "Public IPv4 address", "PublicIPv4:InUseAddress", HOURS, "hours")

    def vpc_endpoint(self, r: engine.CapturedResource) -> None:
        if r.props.get("vpcEndpointType") != "Interface":
            return  # gateway endpoints (S3, DynamoDB) are free
        azs = Decimal(len(r.props.get("subnetIds") or []) or 1)
        self.add(r, f"Interface endpoint ({azs} AZs x 730 h)", "VpcEndpoint-Hours", azs * HOURS, "hours")
        self.add(r, "Data processed", "VpcEndpoint-Bytes", self.use(r, "monthly_data_processed_gb"), "GB", usage_based=True)

    def ingresses(self) -> None:
        """One ALB per IngressGroup (the load balancer controller merges the group's Ingresses), one per ungrouped
        Ingress; priced on the group's first Ingress (by name)."""
        albs: dict[str, list[engine.CapturedResource]] = {}
        for ingress in sorted(self.plan.of_type("kubernetes:networking.k8s.io/v1:Ingress"), key=lambda i: i.name):
            annotations = (ingress.props.get("metadata") or {}).get("annotations") or {}
            group = annotations.get("alb.ingress.kubernetes.io/group.name") or f"ingress:{ingress.name}"
            albs.setdefault(group, []).append(ingress)
        public_azs = Decimal(
            sum(1 for s in self.plan.of_type("aws:ec2/subnet:Subnet") if (s.props.get("tags") or {}).get("kubernetes.io/role/elb") == "1")
        )
        for group, members in albs.items():
            first = members[0]
            annotations = (first.props.get("metadata") or {}).get("annotations") or {}
            label = f"group {group}" if not group.startswith("ingress:") else "ungrouped"
            self.add(first, f"Application load balancer ({label}, {len(members)} Ingresses)", "LoadBalancerUsage",
                     HOURS, "hours", variant="Application")
            gb = sum((self.use(m, "processed_bytes_gb") for m in members), Decimal(0))
            self.add(first, "Load balancer capacity units (processed bytes)", "LCUUsage", gb, "LCU-hours",
                     variant="Application", usage_based=True)
            if annotations.get("alb.ingress.kubernetes.io/scheme") == "internet-facing" and public_azs:
                self.add(first, f"Public IPv4 addresses ({public_azs} AZs)", "PublicIPv4:InUseAddress",
                         public_azs * HOURS, "hours")

    def service(self, r: engine.CapturedResource) -> None:
        if ((r.props.get("spec") or {}).get("type")) == "LoadBalancer":
            self.add(r, "Network load balancer", "LoadBalancerUsage", HOURS, "hours", variant="Network")

    # -- data ---------------------------------------------------------------------------------------------------
    def rds(self, r: engine.CapturedResource) -> None:
        props = r.props
        klass = props.get("instanceClass", "?")
        variant = ENGINE_VARIANTS.get(str(props.get("engine")), str(props.get("engine")))
        copies = Decimal(2) if props.get("multiAz") else Decimal(1)
        az = "Multi-AZ: primary + standby" if copies == 2 else "Single-AZ"
        self.add(r, f"Instance ({klass}, {az})", f"InstanceUsage:{klass}", copies * HOURS, "hours", variant=variant)
        storage = str(props.get("storageType") or "gp2").upper()
        size = _n(props.get("allocatedStorage"), 20)
        self.add(r, f"Storage {storage.lower()} ({size} GB{' x 2' if copies == 2 else ''})", f"RDS:{storage}-Storage",
                 size * copies, "GB-months", variant=variant)
        self.add(r, "Backup storage beyond the free allowance", "RDS:ChargedBackupUsage",
                 self.use(r, "additional_backup_storage_gb"), "GB-months", usage_based=True)
        if props.get("manageMasterUserPassword"):
            self.add(r, "Master password (an RDS-managed Secrets Manager secret)", "AWSSecretsManager-Secrets",
                     Decimal(1), "secret-months")

    def cache(self, r: engine.CapturedResource) -> None:
        props = r.props
        node = props.get("nodeType", "?")
        engine_name = str(props.get("engine") or ("valkey" if "valkey" in str(props.get("parameterGroupName")) else "redis"))
        nodes = _n(props.get("numCacheClusters"), 0)
        if not nodes:
            groups = _n(props.get("numNodeGroups"), 1)
            nodes = groups * (_n(props.get("replicasPerNodeGroup"), 0) + 1)
        self.add(r, f"Cache nodes ({nodes} x {node})", f"NodeUsage:{node}", nodes * HOURS, "hours",
                 variant=ENGINE_VARIANTS.get(engine_name, engine_name))

    def broker(self, r: engine.CapturedResource) -> None:
        props = r.props
        kind = props.get("hostInstanceType", "?")
        mode = str(props.get("deploymentMode", "SINGLE_INSTANCE"))
        brokers = Decimal(MQ_BROKERS.get(mode, 1))
        engine_type = str(props.get("engineType", "RabbitMQ"))
        self.add(r, f"Broker instances ({brokers} x {kind}, {mode})", f"BrokerInstance:{kind}", brokers * HOURS,
                 "hours", variant=engine_type, note=UNCHECKED)
        self.add(r, f"Broker storage ({brokers} brokers)", "TimedStorage-ByteHrs",
                 brokers * self.use(r, "storage_size_gb"), "GB-months", variant=f"{engine_type} broker", usage_based=True,
                 note=UNCHECKED)

    def bucket(self, r: engine.CapturedResource) -> None:
        self.add(r, "Standard storage", "TimedStorage-ByteHrs", self.use(r, "standard.storage_gb"), "GB-months",
                 variant="S3 Standard", usage_based=True)
        self.add(r, "PUT, COPY, POST, LIST requests", "Requests-Tier1", self.use(r, "standard.monthly_tier_1_requests"),
                 "requests", usage_based=True)
        self.add(r, "GET and other requests", "Requests-Tier2", self.use(r, "standard.monthly_tier_2_requests"),
                 "requests", usage_based=True)

    def queue(self, r: engine.CapturedResource) -> None:
        self.add(r, "Requests", "Requests-RBP", self.use(r, "monthly_requests"), "requests", variant="SQS", usage_based=True,
                 note=UNCHECKED)

    def topic(self, r: engine.CapturedResource) -> None:
        self.add(r, "Publishes", "Requests-Tier1", self.use(r, "monthly_requests"), "requests", variant="SNS", usage_based=True,
                 note=UNCHECKED)

    # -- security and observability --------------------------------------------------------------------------------
    def kms_key(self, r: engine.CapturedResource) -> None:
        self.add(r, "Customer managed key", "KMS-Keys", Decimal(1), "key-months")
        self.add(r, "Requests", "KMS-Requests", self.use(r, "monthly_requests"), "requests", usage_based=True)

    def secret(self, r: engine.CapturedResource) -> None:
        self.add(r, "Secret", "AWSSecretsManager-Secrets", Decimal(1), "secret-months")
        self.add(r, "API requests", "AWSSecretsManager-APIRequest", self.use(r, "monthly_requests"), "requests",
                 usage_based=True)

    def alarm(self, r: engine.CapturedResource) -> None:
        if r.props.get("metricQueries"):
            # A Metrics Insights alarm bills per metric its query analyses: no row in the table prices that.
            self.add(r, "Metrics Insights query alarm", "CW:MetricInsightAlarmUsage", Decimal(1), "alarm-months",
                     note=f"billed per metric analysed; {UNCHECKED}")
        else:
            self.add(r, "Standard alarm", "CW:AlarmMonitorUsage", Decimal(1), "alarm-months")

    def log_group(self, r: engine.CapturedResource) -> None:
        self.add(r, "Data ingested", "DataProcessing-Bytes", self.use(r, "monthly_data_ingested_gb"), "GB",
                 variant="CloudWatch Logs", usage_based=True)
        self.add(r, "Storage", "TimedStorage-ByteHrs", self.use(r, "storage_gb"), "GB-months", variant="CloudWatch Logs",
                 usage_based=True)

    def budget(self, r: engine.CapturedResource) -> None:
        self.add(r, "Budget with alerts (no actions)", "AWSBudgets-Budget", Decimal(1), "budget-months",
                 full_usage_type=True)


RULES = {
    "eks:index:Cluster": _Pricer.eks_cluster,
    "aws:eks/cluster:Cluster": _Pricer.eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _Pricer.node_group,
    "aws:lambda/function:Function": _Pricer.lambda_function,
    "aws:ec2/natGateway:NatGateway": _Pricer.nat_gateway,
    "aws:ec2/eip:Eip": _Pricer.eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _Pricer.vpc_endpoint,
    "kubernetes:core/v1:Service": _Pricer.service,
    "aws:rds/instance:Instance": _Pricer.rds,
    "aws:elasticache/replicationGroup:ReplicationGroup": _Pricer.cache,
    "aws:mq/broker:Broker": _Pricer.broker,
    "aws:s3/bucket:Bucket": _Pricer.bucket,
    "aws:sqs/queue:Queue": _Pricer.queue,
    "aws:sns/topic:Topic": _Pricer.topic,
    "aws:kms/key:Key": _Pricer.kms_key,
    "aws:secretsmanager/secret:Secret": _Pricer.secret,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _Pricer.alarm,
    "aws:cloudwatch/logGroup:LogGroup": _Pricer.log_group,
    "aws:budgets/budget:Budget": _Pricer.budget,
}


def _skipped(type_: str, custom: bool) -> bool:
    """Not billed by itself: components, providers, stacks, free types, Kubernetes objects that run on the nodes."""
    if not custom and type_ != "eks:index:Cluster":
        return True
    if type_.startswith("pulumi:"):
        return True
    if type_.startswith("kubernetes:") and type_ not in PRICED_KUBERNETES:
        return True
    return type_ in FREE_TYPES and type_ not in RULES


def estimate(plan: engine.Plan, table: PriceTable, usage: Usage | None = None) -> Estimate:
    pricer = _Pricer(plan, table, usage or Usage())
    result = Estimate(stack=plan.stack, region=table.region, table=table)
    for resource in sorted(plan, key=lambda r: (r.type, r.name)):
        if resource.type == "kubernetes:networking.k8s.io/v1:Ingress":
            continue  # priced per load balancer below
        rule = RULES.get(resource.type)
        if rule is not None:
            rule(pricer, resource)
        elif _skipped(resource.type, resource.custom):
            result.free += 1
        else:
            result.unknown_types.append(resource.type)
            pricer.add(resource, "no pricing rule for this type", "", Decimal(0), "", full_usage_type=True)
    pricer.ingresses()
    result.lines = pricer.lines
    return result
