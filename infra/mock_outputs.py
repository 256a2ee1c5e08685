"""Realistic results for the offline engine: resource IDs and computed outputs, and provider function results.

Values look like what AWS returns (`vpc-0123...`, ARNs with the account and region), derived deterministically from
the resource name, so that program code that parses or joins them behaves as it would for real. Remote components
(pulumi-eks) are opaque under mocks, so their outputs are spelled out here. A provider function without an entry
fails loudly rather than returning an empty result that would hide a bug.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
AVAILABILITY_ZONES = ("a", "b", "c", "d")

ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
}

# Services whose ARNs carry no region.
GLOBAL_SERVICES = {"iam", "s3", "route53", "cloudfront"}


def _hex(name: str, length: int = 17) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def _service_and_kind(typ: str) -> tuple[str, str]:
    # "aws:ec2/vpc:Vpc" -> ("ec2", "vpc")
    module = typ.split(":")[1]
    service, _, kind = module.partition("/")
    return service, kind.lower()


def arn(service: str, resource: str, region: str) -> str:
    where = "" if service in GLOBAL_SERVICES else region
    return f"arn:{PARTITION}:{service}:{where}:{ACCOUNT_ID}:{resource}"


def _physical_name(name: str, inputs: Mapping[str, Any]) -> str:
    given = inputs.get("name")
    return given if isinstance(given, str) and given else f"{name}-{_hex(name, 7)}"


# Per-type computed outputs beyond id and arn: (name, inputs, region) -> outputs.
Computed = Callable[[str, Mapping[str, Any], str], dict[str, Any]]
SPECIFIC: dict[str, Computed] = {
    "aws:ec2/eip:Eip": lambda name, inputs, region: {
        "allocationId": f"eipalloc-{_hex(name)}",
        "publicIp": f"203.0.113.{int(_hex(name, 2), 16) % 250 + 1}",
    },
    "aws:ec2/vpc:Vpc": lambda name, inputs, region: {
        "defaultSecurityGroupId": f"sg-{_hex(name + 'default')}",
        "mainRouteTableId": f"rtb-{_hex(name + 'main')}",
    },
    "aws:cloudwatch/logGroup:LogGroup": lambda name, inputs, region: {
        "arn": arn("logs", f"log-group:{_physical_name(name, inputs)}", region),
        "name": _physical_name(name, inputs),
    },
    "aws:iam/role:Role": lambda name, inputs, region: {
        "arn": arn("iam", f"role/{_physical_name(name, inputs)}", region),
        "name": _physical_name(name, inputs),
        "uniqueId": f"AROA{_hex(name, 17).upper()}",
    },
    "aws:iam/policy:Policy": lambda name, inputs, region: {
        "arn": arn("iam", f"policy/{_physical_name(name, inputs)}", region),
        "name": _physical_name(name, inputs),
    },
}


def resource_outputs(typ: str, name: str, inputs: Mapping[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """The ID and computed outputs the engine reports after creating a resource."""
    resource_id = ID_PREFIXES.get(typ, "") + _hex(typ + name)
    computed: dict[str, Any] = {}
    if typ.startswith("aws:"):
        service, kind = _service_and_kind(typ)
        computed["arn"] = arn(service, f"{kind}/{resource_id}", region)
    if typ in SPECIFIC:
        computed.update(SPECIFIC[typ](name, inputs, region))
    return resource_id, computed


def _availability_zones(args: Mapping[str, Any], region: str) -> dict[str, Any]:
    names = [f"{region}{suffix}" for suffix in AVAILABILITY_ZONES]
    return {
        "id": region,
        "names": names,
        "zoneIds": [f"apne2-az{i + 1}" for i in range(len(names))],
        "groupNames": [region] * len(names),
        "state": "available",
    }


FUNCTIONS: dict[str, Callable[[Mapping[str, Any], str], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getRegion:getRegion": lambda args, region: {
        "id": region,
        "name": region,
        "region": region,
        "endpoint": f"ec2.{region}.amazonaws.com",
        "description": "Asia Pacific (Seoul)" if region == "ap-northeast-2" else region,
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args, region: {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/platform-deployer/pulumi",
        "userId": "AROAEXAMPLEDEPLOYER:pulumi",
    },
    "aws:index/getPartition:getPartition": lambda args, region: {
        "id": PARTITION,
        "partition": PARTITION,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    },
}


def function_result(token: str, args: Mapping[str, Any], region: str) -> dict[str, Any]:
    if token not in FUNCTIONS:
        raise NotImplementedError(
            f"the offline engine has no result for provider function {token}; add one to infra/mock_outputs.py"
        )
    return FUNCTIONS[token](args, region)
