"""Realistic results for the offline engine: resource IDs and computed outputs, and provider function results.

Values look like what AWS returns (`vpc-0123...`, ARNs with the account and region), derived deterministically from
the resource name, so that program code that parses or joins them behaves as it would for real. Remote components
(pulumi-eks) are opaque under mocks, so their outputs are spelled out here. A provider function without an entry
fails loudly rather than returning an empty result that would hide a bug.
"""

from __future__ import annotations

import base64
import hashlib
import json
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


# ARN resource kinds that are not simply the lower-cased type name.
ARN_KINDS = {
    "aws:ec2/securityGroup:SecurityGroup": "security-group",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security-group",
    "aws:ec2/routeTable:RouteTable": "route-table",
    "aws:ec2/internetGateway:InternetGateway": "internet-gateway",
    "aws:ec2/natGateway:NatGateway": "natgateway",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpc-endpoint",
    "aws:ec2/launchTemplate:LaunchTemplate": "launch-template",
    "aws:ec2/flowLog:FlowLog": "vpc-flow-log",
    "aws:ec2/eip:Eip": "elastic-ip",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "security-group-rule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "security-group-rule",
}


def _service_and_kind(typ: str) -> tuple[str, str]:
    # "aws:ec2/vpc:Vpc" -> ("ec2", "vpc"); "aws:vpc/securityGroupIngressRule:..." -> ("ec2", "security-group-rule")
    module = typ.split(":")[1]
    service, _, kind = module.partition("/")
    if service == "vpc":  # pulumi-aws's `vpc` module holds EC2 resources
        service = "ec2"
    return service, ARN_KINDS.get(typ, kind.lower())


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


# -- data stores and messaging ----------------------------------------------------------------------------
def _uuid(name: str) -> str:
    h = _hex(name, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _generated(name: str, length: int) -> str:
    """A deterministic stand-in for a generated password: letters and digits, like `special=False` gives."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    digest = hashlib.sha256(("password:" + name).encode()).digest() * (length // 32 + 1)
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _rds_instance(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    identifier = inputs.get("identifier") or f"{name}-{_hex(name, 7)}"
    port = int(inputs.get("port") or 5432)
    address = f"{identifier}.c{_hex(name, 12)}.{region}.rds.amazonaws.com"
    return {
        "identifier": identifier,
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "resourceId": "db-" + _hex("dbi" + name, 26).upper(),
        "arn": arn("rds", f"db:{identifier}", region),
        "hostedZoneId": "ZLA2NUCOLGUUR",
        "masterUserSecrets": [
            {
                "secretArn": arn("secretsmanager", f"secret:rds!db-{_uuid(name)}-{_hex(name, 6)}", region),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ],
    }


def _replication_group(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    group_id = inputs.get("replicationGroupId") or name
    count = int(inputs.get("numCacheClusters") or 1)
    host = f"{group_id}.{_hex(name, 6)}.apne2.cache.amazonaws.com"
    return {
        "arn": arn("elasticache", f"replicationgroup:{group_id}", region),
        "primaryEndpointAddress": f"master.{host}",
        "readerEndpointAddress": f"replica.{host}",
        "memberClusters": [f"{group_id}-{n:03d}" for n in range(1, count + 1)],
        "port": int(inputs.get("port") or 6379),
    }


def _broker(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    broker_id = f"b-{_uuid(name)}"
    host = f"{broker_id}.mq.{region}.amazonaws.com"
    return {
        "arn": arn("mq", f"broker:{inputs.get('brokerName', name)}:{broker_id}", region),
        "instances": [{"consoleUrl": f"https://{host}", "endpoints": [f"amqps://{host}:5671"], "ipAddress": ""}],
    }


def _secret_arn(name: str, inputs: Mapping[str, Any], region: str) -> str:
    return arn("secretsmanager", f"secret:{_physical_name(name, inputs)}-{_hex(name, 6)}", region)


SPECIFIC.update(
    {
        "aws:kms/key:Key": lambda name, inputs, region: {
            "keyId": _uuid(name),
            "arn": arn("kms", f"key/{_uuid(name)}", region),
        },
        "aws:kms/alias:Alias": lambda name, inputs, region: {"arn": arn("kms", str(inputs.get("name")), region)},
        "aws:rds/instance:Instance": _rds_instance,
        "aws:rds/parameterGroup:ParameterGroup": lambda name, inputs, region: {
            "arn": arn("rds", f"pg:{_physical_name(name, inputs)}", region), "name": _physical_name(name, inputs),
        },
        "aws:rds/subnetGroup:SubnetGroup": lambda name, inputs, region: {
            "arn": arn("rds", f"subgrp:{_physical_name(name, inputs)}", region), "name": _physical_name(name, inputs),
        },
        "aws:elasticache/subnetGroup:SubnetGroup": lambda name, inputs, region: {
            "arn": arn("elasticache", f"subnetgroup:{_physical_name(name, inputs)}", region),
            "name": _physical_name(name, inputs),
        },
        "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
        "aws:mq/broker:Broker": _broker,
        "aws:secretsmanager/secret:Secret": lambda name, inputs, region: {
            "arn": _secret_arn(name, inputs, region), "name": _physical_name(name, inputs),
        },
        "aws:secretsmanager/secretVersion:SecretVersion": lambda name, inputs, region: {
            "versionId": _uuid(name), "arn": inputs.get("secretId"),
        },
        "random:index/randomPassword:RandomPassword": lambda name, inputs, region: {
            "result": _generated(name, int(inputs.get("length") or 32)),
            "bcryptHash": "$2a$10$" + _hex("bcrypt" + name, 53),
        },
        "aws:s3/bucket:Bucket": lambda name, inputs, region: {
            "bucket": inputs.get("bucket") or f"{name}-{_hex(name, 7)}",
            "arn": f"arn:{PARTITION}:s3:::{inputs.get('bucket') or f'{name}-{_hex(name, 7)}'}",
            "bucketDomainName": f"{inputs.get('bucket')}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{inputs.get('bucket')}.s3.{region}.amazonaws.com",
            "region": region,
        },
        "aws:sqs/queue:Queue": lambda name, inputs, region: {
            "arn": arn("sqs", _physical_name(name, inputs), region),
            "url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{_physical_name(name, inputs)}",
            "name": _physical_name(name, inputs),
        },
        "aws:sns/topic:Topic": lambda name, inputs, region: {
            "arn": arn("sns", _physical_name(name, inputs), region), "name": _physical_name(name, inputs),
        },
        "aws:sns/topicSubscription:TopicSubscription": lambda name, inputs, region: {
            "arn": f"{inputs.get('topic')}:{_uuid(name)}",
        },
        "aws:cloudwatch/metricAlarm:MetricAlarm": lambda name, inputs, region: {
            "arn": arn("cloudwatch", f"alarm:{_physical_name(name, inputs)}", region),
        },
    }
)

# Types whose ID AWS derives from a name or an output: a bucket's ID is its name, a queue's its URL, a secret's its
# ARN, a broker's "b-<uuid>". (name, inputs, computed outputs) -> ID.
IdOf = Callable[[str, Mapping[str, Any], Mapping[str, Any]], str]
IDS: dict[str, IdOf] = {
    "aws:kms/key:Key": lambda name, inputs, out: out["keyId"],
    "aws:kms/alias:Alias": lambda name, inputs, out: str(inputs.get("name")),
    "aws:s3/bucket:Bucket": lambda name, inputs, out: out["bucket"],
    "aws:sqs/queue:Queue": lambda name, inputs, out: out["url"],
    "aws:secretsmanager/secret:Secret": lambda name, inputs, out: out["arn"],
    "aws:sns/topic:Topic": lambda name, inputs, out: out["arn"],
    "aws:rds/instance:Instance": lambda name, inputs, out: out["identifier"],
    "aws:rds/parameterGroup:ParameterGroup": lambda name, inputs, out: out["name"],
    "aws:rds/subnetGroup:SubnetGroup": lambda name, inputs, out: out["name"],
    "aws:elasticache/subnetGroup:SubnetGroup": lambda name, inputs, out: out["name"],
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda name, inputs, out: str(inputs.get("replicationGroupId") or name),
    "aws:mq/broker:Broker": lambda name, inputs, out: f"b-{_uuid(name)}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda name, inputs, out: str(inputs.get("name") or name),
}


# -- EKS cluster and add-ons ------------------------------------------------------------------------------
# pulumi-eks's Cluster is opaque under mocks: its outputs are only what is returned here. Outputs typed as resources
# (`eksCluster`, `core`, `clusterSecurityGroup`, `nodeSecurityGroup`, `awsProvider`, `eksClusterIngressRule`) are left
# unset on purpose: the SDK checks their type and fails the run on a plain value, and a resource reference would have
# to name a resource the mock monitor registered. Program code reads the scalar outputs (`clusterSecurityGroupId`,
# `oidcProviderArn`, `oidcIssuer`, `kubeconfigJson`, ...), which are all here.
def _fake_certificate(seed: str) -> str:
    """Base64 of a PEM block, shaped like EKS's certificate-authority data (not a parseable certificate)."""
    body = base64.b64encode(hashlib.sha256(seed.encode()).digest() * 24).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    pem = "\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----", ""])
    return base64.b64encode(pem.encode()).decode()


def _eks_cluster(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    cluster = inputs.get("name") or f"{name}-eksCluster-{_hex(name, 7)}"
    issuer = f"oidc.eks.{region}.amazonaws.com/id/{_hex('oidc' + cluster, 32).upper()}"
    endpoint = f"https://{_hex('endpoint' + cluster, 32).upper()}.gr7.{region}.eks.amazonaws.com"
    # With skipDefaultSecurityGroups both outputs are the EKS-created cluster security group.
    cluster_sg = f"sg-{_hex('eks-cluster-sg' + cluster)}"
    node_sg = cluster_sg if inputs.get("skipDefaultSecurityGroups") else f"sg-{_hex('eks-node-sg' + cluster)}"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "kubernetes", "cluster": {"server": endpoint, "certificate-authority-data": _fake_certificate(cluster)}}
        ],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "preferences": {},
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"],
                    }
                },
            }
        ],
    }
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "clusterSecurityGroupId": cluster_sg,
        "nodeSecurityGroupId": node_sg,
        "oidcProviderArn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        # As pulumi-eks gives them: the URL with its scheme, the issuer without.
        "oidcProviderUrl": f"https://{issuer}",
        "oidcIssuer": issuer,
        "instanceRoles": [],
        "clusterIngressRuleId": "",
        "defaultNodeGroupAsgName": "",
        "fargateProfileId": "",
        "fargateProfileStatus": "",
        "autoModeNodeRoleName": "",
    }


def _certificate(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    domains = [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]
    options = []
    for domain in domains:
        bare = str(domain).removeprefix("*.")
        options.append(
            {
                "domainName": domain,
                "resourceRecordName": f"_{_hex('acm-name' + bare, 32)}.{bare}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_hex('acm-value' + bare, 32)}.xlfgrmvvlj.acm-validations.aws.",
            }
        )
    return {
        "arn": arn("acm", f"certificate/{_uuid(name)}", region),
        "domainValidationOptions": options,
        "status": "ISSUED",
        "type": "AMAZON_ISSUED",
        "keyAlgorithm": inputs.get("keyAlgorithm") or "RSA_2048",
    }


def _node_group(name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    group = inputs.get("nodeGroupName") or f"{inputs.get('nodeGroupNamePrefix') or name}{_hex(name, 26)}"
    cluster = inputs.get("clusterName")
    return {
        "nodeGroupName": group,
        "arn": arn("eks", f"nodegroup/{cluster}/{group}/{_uuid(name)}", region),
        "status": "ACTIVE",
        "releaseVersion": f"{inputs.get('version')}.0-20260105",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{_uuid(name)}"}], "remoteAccessSecurityGroupId": ""}],
    }


SPECIFIC.update(
    {
        "eks:index:Cluster": _eks_cluster,
        "aws:eks/nodeGroup:NodeGroup": _node_group,
        "aws:eks/addon:Addon": lambda name, inputs, region: {
            "arn": arn("eks", f"addon/{inputs.get('clusterName')}/{inputs.get('addonName')}/{_uuid(name)}", region),
            "createdAt": "2026-01-05T09:00:00Z",
            "modifiedAt": "2026-01-05T09:00:00Z",
        },
        "aws:ec2/launchTemplate:LaunchTemplate": lambda name, inputs, region: {
            "arn": arn("ec2", f"launch-template/lt-{_hex('aws:ec2/launchTemplate:LaunchTemplate' + name)}", region),
            "latestVersion": 1,
            "defaultVersion": 1,
        },
        "aws:acm/certificate:Certificate": _certificate,
        "aws:acm/certificateValidation:CertificateValidation": lambda name, inputs, region: {
            "certificateArn": inputs.get("certificateArn"),
        },
        "aws:route53/record:Record": lambda name, inputs, region: {"fqdn": str(inputs.get("name", "")).rstrip(".")},
        "kubernetes:helm.sh/v3:Release": lambda name, inputs, region: {
            "status": {
                "name": inputs.get("name") or name,
                "namespace": inputs.get("namespace") or "default",
                "chart": inputs.get("chart"),
                "version": inputs.get("version"),
                "revision": 1,
                "status": "deployed",
            }
        },
    }
)
IDS.update(
    {
        "eks:index:Cluster": lambda name, inputs, out: "",
        "aws:eks/nodeGroup:NodeGroup": lambda name, inputs, out: f"{inputs.get('clusterName')}:{out['nodeGroupName']}",
        "aws:acm/certificate:Certificate": lambda name, inputs, out: out["arn"],
        "aws:acm/certificateValidation:CertificateValidation": lambda name, inputs, out: "2026-01-05 09:00:00 +0000 UTC",
        "aws:eks/addon:Addon": lambda name, inputs, out: f"{inputs.get('clusterName')}:{inputs.get('addonName')}",
    }
)

def resource_outputs(typ: str, name: str, inputs: Mapping[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    """The ID and computed outputs the engine reports after creating a resource."""
    resource_id = ID_PREFIXES.get(typ, "") + _hex(typ + name)
    computed: dict[str, Any] = {}
    if typ.startswith("aws:"):
        service, kind = _service_and_kind(typ)
        computed["arn"] = arn(service, f"{kind}/{resource_id}", region)
    if typ in SPECIFIC:
        computed.update(SPECIFIC[typ](name, inputs, region))
    if typ in IDS:
        resource_id = IDS[typ](name, inputs, computed)
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


def _route53_zone(args: Mapping[str, Any], region: str) -> dict[str, Any]:
    """A public hosted zone looked up by name (the ALB certificate is validated in it)."""
    zone = str(args.get("name") or "example.com").rstrip(".")
    zone_id = "Z" + _hex("zone" + zone, 20).upper()
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": zone,
        "arn": f"arn:{PARTITION}:route53:::hostedzone/{zone_id}",
        "privateZone": bool(args.get("privateZone", False)),
        "nameServers": [f"ns-{n}.awsdns-{n:02d}.{tld}" for n, tld in ((101, "com"), (622, "net"), (1205, "org"), (1830, "co.uk"))],
        "primaryNameServer": "ns-101.awsdns-101.com",
        "callerReference": _uuid("zone" + zone),
        "comment": "",
        "resourceRecordSetCount": 4,
        "linkedServiceDescription": "",
        "linkedServicePrincipal": "",
        "tags": {},
        "vpcId": "",
    }


FUNCTIONS["aws:route53/getZone:getZone"] = _route53_zone


def _prefix_list(args: Mapping[str, Any], region: str) -> dict[str, Any]:
    """An AWS-managed prefix list looked up by name (pods reach S3 through the gateway endpoint at S3's own
    public ranges). Ranges shaped like S3's, deterministic per name; not the live list."""
    name = str(args.get("name") or f"com.amazonaws.{region}.s3")
    seed = int(_hex("prefix-list" + name, 4), 16)
    return {
        "id": f"pl-{_hex('prefix-list' + name, 8)}",
        "name": name,
        "cidrBlocks": [f"52.219.{(seed % 50) * 4}.0/22", f"52.92.{(seed % 12) * 16}.0/20", f"3.5.{(seed % 60) * 4}.0/22"],
        "filters": None,
        "prefixListId": None,
        "tags": {},
    }


FUNCTIONS["aws:ec2/getPrefixList:getPrefixList"] = _prefix_list

def function_result(token: str, args: Mapping[str, Any], region: str) -> dict[str, Any]:
    if token not in FUNCTIONS:
        raise NotImplementedError(
            f"the offline engine has no result for provider function {token}; add one to infra/offline/mock_outputs.py"
        )
    return FUNCTIONS[token](args, region)


SPECIFIC.update(
    {
        "aws:ecr/repository:Repository": lambda name, inputs, region: {
            "arn": arn("ecr", f"repository/{_physical_name(name, inputs)}", region),
            "registryId": ACCOUNT_ID,
            "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{_physical_name(name, inputs)}",
        },
    }
)
