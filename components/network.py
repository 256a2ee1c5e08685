"""The VPC: public, private and isolated data subnet tiers across N availability zones.

Public subnets hold only load balancers and NAT gateways; private subnets hold EKS nodes and pods and reach the
internet through NAT; data subnets hold databases, caches and brokers and have no route out at all. AWS APIs are
reached through VPC endpoints so that traffic stays inside the VPC; each endpoint admits only this account's callers.
Flow logs go to CloudWatch Logs.

Inputs (`NetworkArgs`): the VPC CIDR, AZ count, NAT mode, per-tier subnet CIDRs (one per AZ), flow-log retention,
interface endpoint services and the EKS cluster name used in discovery tags.
Outputs: `vpc_id`, `vpc_cidr`, `availability_zones`, `public_subnet_ids`, `private_subnet_ids`, `data_subnet_ids`
(each ordered by AZ), `subnet_ids_by_az` ({tier: {az: id}}), `private_subnet_cidrs`, `data_subnet_cidrs`,
`endpoint_security_group_id`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

NatMode = Literal["single", "per-az"]
TIERS = ("public", "private", "data")
DEFAULT_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "secretsmanager", "logs", "sqs")


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of the network component. Defaults are the safe, resilient choice (3 AZs, a NAT per AZ)."""

    cidr: str = "10.0.0.0/16"
    az_count: int = 3
    nat_mode: NatMode = "per-az"
    # One CIDR per AZ for each tier, in AZ order.
    public_subnets: tuple[str, ...] = ("10.0.0.0/22", "10.0.4.0/22", "10.0.8.0/22")
    private_subnets: tuple[str, ...] = ("10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19")
    data_subnets: tuple[str, ...] = ("10.0.12.0/24", "10.0.13.0/24", "10.0.14.0/24")
    flow_log_retention_days: int = 365
    interface_endpoints: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINTS
    # The EKS cluster whose load balancers and autoscaler discover these subnets by tag.
    cluster_name: str = "platform"
    name_prefix: str = "platform"

    def subnets(self, tier: str) -> tuple[str, ...]:
        return {"public": self.public_subnets, "private": self.private_subnets, "data": self.data_subnets}[tier]


def _name(prefix: str, *parts: str) -> dict[str, str]:
    return {"Name": "-".join((prefix, *parts))}


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    availability_zones: list[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    data_subnet_ids: list[pulumi.Output[str]]
    subnet_ids_by_az: dict[str, dict[str, pulumi.Output[str]]]
    private_subnet_cidrs: list[str]
    data_subnet_cidrs: list[str]
    endpoint_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        p = args.name_prefix

        zones = aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOptions(parent=self),
        ).names
        if len(zones) < args.az_count:
            raise pulumi.RunError(
                f"network: {args.az_count} availability zones requested but the region offers only {len(zones)}: {zones}"
            )
        self.availability_zones = list(zones[: args.az_count])
        region = aws.get_region(opts=pulumi.InvokeOptions(parent=self)).region

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,  # interface endpoints' private DNS needs both
            enable_dns_support=True,
            tags=_name(p, "vpc"),
            opts=child,
        )
        # Stripping the default security group means nothing can fall back on its allow-all rules.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], tags=_name(p, "default-deny"), opts=child
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=_name(p, "igw"), opts=child)

        # Discovery tags: the load balancer controller picks public subnets for internet-facing and private subnets
        # for internal load balancers by role, and only subnets tagged for this cluster. Node autoscaling needs no
        # subnet tag: cluster-autoscaler finds the managed node groups by the tags EKS puts on their Auto Scaling
        # groups, and the node groups are placed in the private subnets explicitly.
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        tier_tags = {
            "public": {**cluster_tag, "kubernetes.io/role/elb": "1"},
            "private": {**cluster_tag, "kubernetes.io/role/internal-elb": "1"},
            "data": {},
        }
        subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for index, (az, cidr) in enumerate(zip(self.availability_zones, args.subnets(tier))):
                subnets[tier].append(
                    aws.ec2.Subnet(
                        f"{name}-{tier}-{index}",
                        vpc_id=vpc.id,
                        cidr_block=cidr,
                        availability_zone=az,
                        map_public_ip_on_launch=False,  # even public subnets: only LBs and NATs live there
                        tags={**_name(p, tier, az), "tier": tier, **tier_tags[tier]},
                        opts=child,
                    )
                )

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, tags=_name(p, "public"), opts=child)
        aws.ec2.Route(
            f"{name}-public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id, opts=child,
        )
        for index, subnet in enumerate(subnets["public"]):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{index}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child
            )

        nat_count = args.az_count if args.nat_mode == "per-az" else 1
        nats = []
        for index in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{index}", domain="vpc", tags=_name(p, "nat", str(index)), opts=child)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.allocation_id,
                    subnet_id=subnets["public"][index].id,
                    connectivity_type="public",
                    tags=_name(p, "nat", self.availability_zones[index]),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        private_rts = []
        for index, subnet in enumerate(subnets["private"]):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}", vpc_id=vpc.id, tags=_name(p, "private", self.availability_zones[index]),
                opts=child,
            )
            # Per-AZ NAT in prod keeps an AZ outage from cutting the other AZs' egress.
            aws.ec2.Route(
                f"{name}-private-default-{index}", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[index % nat_count].id, opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{index}", subnet_id=subnet.id, route_table_id=rt.id, opts=child)
            private_rts.append(rt)

        # The data tier's table has only the implicit local route: no IGW, no NAT, nothing out of the VPC.
        data_rt = aws.ec2.RouteTable(f"{name}-data-rt", vpc_id=vpc.id, tags=_name(p, "data"), opts=child)
        for index, subnet in enumerate(subnets["data"]):
            aws.ec2.RouteTableAssociation(f"{name}-data-{index}", subnet_id=subnet.id, route_table_id=data_rt.id, opts=child)

        self._flow_logs(name, p, vpc, args.flow_log_retention_days, child)

        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=vpc.id,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            tags=_name(p, "endpoints"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https",
            security_group_id=endpoint_sg.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.cidr,
            opts=child,
        )
        # AWS's default endpoint policy is full access for anyone. Every endpoint here admits only callers of this
        # account. The condition is on the caller (aws:PrincipalAccount), not on the resource owner: images of the
        # EKS add-ons come from ECR repositories and S3 buckets that AWS's own accounts own.
        account_id = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self)).account_id
        endpoint_policy = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CallersOfThisAccountOnly",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
                    }
                ],
            }
        )
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            policy=endpoint_policy,
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts] + [data_rt.id],
            tags=_name(p, "s3"),
            opts=child,
        )
        for service in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                policy=endpoint_policy,
                private_dns_enabled=True,
                subnet_ids=[s.id for s in subnets["private"]],
                security_group_ids=[endpoint_sg.id],
                tags=_name(p, service),
                opts=child,
            )

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = [s.id for s in subnets["public"]]
        self.private_subnet_ids = [s.id for s in subnets["private"]]
        self.data_subnet_ids = [s.id for s in subnets["data"]]
        self.subnet_ids_by_az = {
            tier: {az: s.id for az, s in zip(self.availability_zones, subnets[tier])} for tier in TIERS
        }
        self.private_subnet_cidrs = list(args.private_subnets[: args.az_count])
        self.data_subnet_cidrs = list(args.data_subnets[: args.az_count])
        self.endpoint_security_group_id = endpoint_sg.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "availabilityZones": self.availability_zones,
                "subnetIdsByAz": self.subnet_ids_by_az,
            }
        )

    def _flow_logs(self, name: str, p: str, vpc: aws.ec2.Vpc, retention_days: int, child: pulumi.ResourceOptions) -> None:
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", name=f"/vpc/{p}/flow-logs", retention_in_days=retention_days, opts=child
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=_name(p, "flow-log"),
            opts=child,
        )
