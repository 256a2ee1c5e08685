"""Rule 2 (mandatory): no data store reachable from the internet, and nothing opened to the whole internet.

Data stores are not publicly accessible and sit in subnets with no route to an internet gateway, which a stack policy
proves by following the resource graph (subnet group -> subnets -> route table associations -> route tables -> routes
-> internet gateway) through property dependencies, because IDs are unknown at a first preview. Security group rules,
in every form pulumi-aws offers, admit 0.0.0.0/0 or ::/0 only on ports 80 and 443 (the public load balancer). S3
buckets block public access, and no resource policy (buckets, queues, topics, keys, repositories, secrets, VPC
endpoints) allows anything to everyone; `Principal: "*"` narrowed by a condition to one account, organisation, VPC
endpoint or source resource is not everyone. The EKS API endpoint is never open to the world, and in prod it is
private.

Unknowns: `publiclyAccessible` and the public-access-block flags are literals in any sane program; an unknown one is
deferred to `pulumi up`. A CIDR or port unknown at preview is deferred likewise. The graph is known at preview, so a
link the stack policy cannot find is a violation: what cannot be proven isolated is treated as exposed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .core import (
    MANDATORY,
    UNKNOWN,
    Context,
    Deferred,
    OddInput,
    Outcome,
    Resource,
    Stack,
    as_bool,
    as_int,
    as_list,
    is_unknown,
    resource_policy,
    stack_policy,
)
from .documents import grants_everyone, parse_document

# --- publicly accessible flags -----------------------------------------------------------------------------------------

PUBLIC_FLAG_TYPES = (
    "aws:rds/instance:Instance",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:mq/broker:Broker",
    "aws:redshift/cluster:Cluster",
)


def check_not_publicly_accessible(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    flag = as_bool(resource.get("publiclyAccessible"), "publiclyAccessible")
    if flag is UNKNOWN:
        yield Deferred("publiclyAccessible")
    elif flag is True:
        yield "is publicly accessible: it gets a public endpoint reachable from the internet"


data_stores_not_publicly_accessible = resource_policy(
    name="data-stores-not-publicly-accessible",
    description="Databases, cluster instances and message brokers are never publicly accessible.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation="set publicly_accessible=False; clients reach the store from inside the VPC.",
    types=PUBLIC_FLAG_TYPES,
    check=check_not_publicly_accessible,
)

# --- data stores in isolated subnets (stack) ---------------------------------------------------------------------------

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE_TYPES = ("aws:ec2/routeTable:RouteTable", "aws:ec2/defaultRouteTable:DefaultRouteTable")
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
ROUTE = "aws:ec2/route:Route"
IGW = "aws:ec2/internetGateway:InternetGateway"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
CACHE_SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup"

DATA_STORES = (
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/cluster:Cluster",
    "aws:mq/broker:Broker",
)


def _subnet_holders(resource: Resource, stack: Stack) -> Iterator[tuple[Resource, str] | str]:
    """The resource(s) whose `subnetIds` place the data store, or a problem saying why they cannot be found."""
    if resource.type == "aws:mq/broker:Broker":
        yield (resource, "subnetIds")
        return
    if resource.type.startswith("aws:rds/"):
        prop, group_type = "dbSubnetGroupName", RDS_SUBNET_GROUP
    else:
        prop, group_type = "subnetGroupName", CACHE_SUBNET_GROUP
    if resource.type == "aws:elasticache/cluster:Cluster" and resource.get("replicationGroupId") not in (None, ""):
        return  # a member of a replication group, which is checked itself
    if resource.get(prop) in (None, ""):
        if resource.type == "aws:rds/clusterInstance:ClusterInstance":
            clusters = resource.sources("clusterIdentifier", "aws:rds/cluster:Cluster")
            if not clusters:
                yield "its cluster cannot be found in the stack, so its subnets cannot be proven isolated"
            for cluster in clusters:
                yield from _subnet_holders(cluster, stack)
            return
        yield f"has no `{prop}`: it would land in the default VPC's (public) subnets"
        return
    groups = resource.sources(prop, group_type)
    if not groups:
        yield (f"`{prop}` does not come from a {group_type.split(':')[-1]} of this stack, so its subnets cannot be "
               "proven isolated")
    for group in groups:
        yield (group, "subnetIds")


def _route_problems(table: Resource, stack: Stack) -> Iterator[str]:
    """Routes of a route table that lead to an internet gateway, inline or as separate Route resources."""
    inline = table.get("routes")
    if isinstance(inline, list):
        for route in inline:
            gateway = route.get("gatewayId") if isinstance(route, Mapping) else None
            if isinstance(gateway, str) and gateway.startswith("igw-"):
                yield f"route table {table.name} has an inline route to internet gateway {gateway}"
    if table.sources("routes", IGW):
        yield f"route table {table.name} has an inline route to an internet gateway of this stack"
    for route in stack.dependents(table, "routeTableId", ROUTE):
        gateway = route.get("gatewayId")
        if route.sources("gatewayId", IGW) or (isinstance(gateway, str) and gateway.startswith("igw-")):
            yield f"route table {table.name} has route {route.name} to an internet gateway"


def check_isolated_subnets(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    for holder in _subnet_holders(resource, stack):
        if isinstance(holder, str):
            yield holder
            continue
        owner, prop = holder
        declared = as_list(owner.get(prop), f"{owner.label} {prop}")
        subnets = owner.sources(prop, SUBNET)
        if not subnets:
            yield f"the subnets of {owner.label} do not come from Subnets of this stack, so they cannot be proven isolated"
            continue
        if not is_unknown(declared) and len(declared) > len(subnets):
            yield (f"{owner.label} lists {len(declared)} subnets but only {len(subnets)} come from this stack; the "
                   "others cannot be proven isolated")
        for subnet in subnets:
            associations = stack.dependents(subnet, "subnetId", ASSOCIATION)
            if not associations:
                yield (f"subnet {subnet.name} has no explicit route table association, so the VPC's main route table "
                       "applies and cannot be proven free of internet routes")
                continue
            for association in associations:
                tables = association.sources("routeTableId", *ROUTE_TABLE_TYPES)
                if not tables:
                    yield f"the route table of subnet {subnet.name} (association {association.name}) is not in this stack"
                for table in tables:
                    for problem in _route_problems(table, stack):
                        yield f"subnet {subnet.name} is reachable from the internet: {problem}"


data_stores_in_isolated_subnets = stack_policy(
    name="data-stores-in-isolated-subnets",
    description="Databases, caches and brokers sit only in subnets with no route to an internet gateway.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("place the store in a subnet group made of the network's data-tier subnets, whose route table has "
                 "no internet gateway route (no public subnets, no literal subnet IDs)."),
    types=DATA_STORES,
    check=check_isolated_subnets,
)

# --- security group ingress --------------------------------------------------------------------------------------------

OPEN_PORTS_ALLOWED = (80, 443)


def _open_cidr(cidr: Any) -> bool:
    if not isinstance(cidr, str):
        raise OddInput(f"CIDR {cidr!r} is not text")
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        raise OddInput(f"{cidr!r} is not a CIDR block") from None


def _rule_outcomes(where: str, protocol: Any, from_port: Any, to_port: Any, cidrs: list[Any]) -> Iterator[Outcome]:
    opened = []
    for cidr in cidrs:
        if is_unknown(cidr):
            yield Deferred(f"{where}.cidr")
        elif _open_cidr(cidr):
            opened.append(cidr)
    if not opened:
        return
    low, high = as_int(from_port, f"{where} fromPort"), as_int(to_port, f"{where} toPort")
    if is_unknown(protocol) or is_unknown(low) or is_unknown(high):
        yield Deferred(f"{where}.ports")
        return
    proto = str(protocol).lower() if protocol is not None else ""
    if proto in ("-1", "all") or low is None or high is None:
        yield f"{where} admits {', '.join(opened)} on every port"
        return
    if proto not in ("tcp", "6") or low != high or low not in OPEN_PORTS_ALLOWED:
        ports = str(low) if low == high else f"{low}-{high}"
        yield (f"{where} admits {', '.join(opened)} on {proto or 'protocol ?'} port {ports}; only TCP 80 and 443 may "
               "be open to the internet")


def _cidr_list(value: Any, what: str) -> list[Any]:
    items = as_list(value, what)
    return [UNKNOWN] if is_unknown(items) else items


def check_security_group_ingress(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        cidrs = [c for c in (resource.get("cidrIpv4"), resource.get("cidrIpv6")) if c is not None]
        yield from _rule_outcomes("the rule", resource.get("ipProtocol"), resource.get("fromPort"),
                                  resource.get("toPort"), cidrs)
        return
    if resource.type == "aws:ec2/securityGroupRule:SecurityGroupRule":
        kind = resource.get("type")
        if is_unknown(kind):
            yield Deferred("type")
            return
        if kind != "ingress":
            return
        cidrs = _cidr_list(resource.get("cidrBlocks"), "cidrBlocks") + _cidr_list(resource.get("ipv6CidrBlocks"), "ipv6CidrBlocks")
        yield from _rule_outcomes("the rule", resource.get("protocol"), resource.get("fromPort"), resource.get("toPort"), cidrs)
        return
    ingress = resource.get("ingress")
    if is_unknown(ingress):
        yield Deferred("ingress")
        return
    for index, rule in enumerate(as_list(ingress, "ingress")):
        if is_unknown(rule):
            yield Deferred(f"ingress.{index}")
            continue
        if not isinstance(rule, Mapping):
            raise OddInput(f"ingress[{index}] is not an object")
        cidrs = _cidr_list(rule.get("cidrBlocks"), "cidrBlocks") + _cidr_list(rule.get("ipv6CidrBlocks"), "ipv6CidrBlocks")
        yield from _rule_outcomes(f"ingress[{index}]", rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"), cidrs)


security_groups_no_open_ingress = resource_policy(
    name="security-groups-no-open-ingress",
    description="No security group rule admits 0.0.0.0/0 or ::/0, except TCP 80 and 443 for the public load balancer.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("admit the specific source instead: another security group (referenced_security_group_id / "
                 "source_security_group_id) or the VPC or office CIDR."),
    types=(
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ),
    check=check_security_group_ingress,
)

# --- S3 public access block (stack) -------------------------------------------------------------------------------------

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check_public_access_block(resource: Resource, stack: Stack, ctx: Context) -> Iterator[Outcome]:
    blocks = stack.dependents(resource, "bucket", *PUBLIC_ACCESS_BLOCK_TYPES)
    if not blocks:
        yield "has no BucketPublicAccessBlock, so nothing stops a public ACL or bucket policy"
    for block in blocks:
        for flag in PAB_FLAGS:
            value = as_bool(block.get(flag), flag)
            if value is UNKNOWN:
                yield Deferred(f"{block.name}.{flag}")
            elif value is not True:
                yield f"its public access block {block.name} does not set `{flag}`"


s3_public_access_blocked = stack_policy(
    name="s3-public-access-blocked",
    description="Every S3 bucket has a public access block with all four flags on.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("declare aws.s3.BucketPublicAccessBlock for the bucket with block_public_acls, block_public_policy, "
                 "ignore_public_acls and restrict_public_buckets all True."),
    types=BUCKET_TYPES,
    check=check_public_access_block,
)

# --- resource policies and ACLs that grant to everyone ------------------------------------------------------------------

RESOURCE_POLICY_FIELDS = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:s3/bucket:Bucket": "policy",
    "aws:s3/bucketV2:BucketV2": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:kms/key:Key": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:secretsmanager/secret:Secret": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:ecr/registryPolicy:RegistryPolicy": "policy",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "policy",
    "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy": "policy",
}

# Condition keys that narrow who a `Principal: "*"` statement admits to one account, organisation, network path or
# source resource (IAM User Guide, global condition keys; KMS's kms:CallerAccount; SNS's legacy aws:SourceOwner).
PRINCIPAL_NARROWING_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:userid",
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceOwner",
    "aws:SourceVpc", "aws:SourceVpce", "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths",
    "aws:Ec2InstanceSourceVpc", "ec2:SourceInstanceArn", "lambda:SourceFunctionArn", "ssm:SourceInstanceArn",
    "kms:CallerAccount",
))
ACCOUNT_KEYS = frozenset(k.lower() for k in ("aws:PrincipalAccount", "aws:SourceAccount", "aws:SourceOwner",
                                               "aws:VpceAccount", "kms:CallerAccount"))
# Operators that need the key present and compare it with the values (ForAnyValue for the multi-valued OrgPaths).
NARROWING_OPERATORS = ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
                       "ForAnyValue:StringEquals", "ForAnyValue:StringLike")


def _specific(key: str, value: Any) -> bool:
    """A condition value that names one account, organisation, endpoint or resource, not a wildcard of them."""
    if not isinstance(value, str) or not value.strip("*? "):
        return False
    if key in ACCOUNT_KEYS:
        return value.isdigit() and len(value) == 12
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) < 6 or not parts[5].strip("*?/") or any(c in parts[4] for c in "*?"):
            return False
    return True


def principal_narrowed(statement: Any) -> bool | Any:
    """Whether a condition narrows a `Principal: "*"` statement to this account, organisation, endpoint or source."""
    unknown = False
    for operator, block in statement.conditions.items():
        if operator not in NARROWING_OPERATORS:
            continue
        for key, values in block.items():
            if key.lower() not in PRINCIPAL_NARROWING_KEYS or not values:
                continue
            if any(is_unknown(v) for v in values):
                unknown = True  # a value of this stack (an ARN, an account ID): known at `pulumi up`
            elif all(_specific(key.lower(), v) for v in values):
                return True
    return UNKNOWN if unknown else False
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
PUBLIC_GRANTEES = ("acs.amazonaws.com/groups/global/AllUsers", "acs.amazonaws.com/groups/global/AuthenticatedUsers")


def _acl_outcomes(resource: Resource) -> Iterator[Outcome]:
    acl = resource.get("acl")
    if is_unknown(acl):
        yield Deferred("acl")
    elif isinstance(acl, str) and acl in PUBLIC_CANNED_ACLS:
        yield f"uses the public canned ACL `{acl}`"
    grants = resource.get("accessControlPolicy", "grants")
    if is_unknown(grants):
        yield Deferred("accessControlPolicy.grants")
        return
    for grant in as_list(grants, "accessControlPolicy.grants"):
        uri = grant.get("grantee", {}).get("uri") if isinstance(grant, Mapping) and isinstance(grant.get("grantee"), Mapping) else None
        if isinstance(uri, str) and uri.endswith(PUBLIC_GRANTEES):
            yield f"grants {grant.get('permission', 'access')} to {uri.rsplit('/', 1)[-1]}"


def check_no_public_grants(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if resource.type in ACL_TYPES or resource.type in BUCKET_TYPES:
        yield from _acl_outcomes(resource)
        if resource.type in ACL_TYPES:
            return
    field = RESOURCE_POLICY_FIELDS[resource.type]
    document = parse_document(resource.get(field), field)
    if document is None:
        return
    if is_unknown(document):
        yield Deferred(field)
        return
    for problem in document.problems:
        yield f"its {field} is malformed: {problem}"
    for statement in document.statements:
        if is_unknown(statement.effect):
            yield Deferred(f"{field}.{statement.where}")
            continue
        if not statement.allows:
            continue  # Deny statements (TLS-only, deny-unencrypted) are what we want
        if statement.principals and any(is_unknown(p) for ids in statement.principals.values() for p in ids):
            yield Deferred(f"{field}.{statement.where}.Principal")
        if grants_everyone(statement.principals):
            narrowed = principal_narrowed(statement)
            if is_unknown(narrowed):
                yield Deferred(f"{field}.{statement.where}.Condition")
            elif not narrowed:
                yield (f"{field} {statement.where} allows {', '.join(map(str, statement.actions)) or 'actions'} to "
                       "everyone (Principal \"*\" with no condition naming an account, organisation, VPC endpoint or "
                       "source resource)")
        if statement.not_principals is not None:
            yield f"{field} {statement.where} allows with NotPrincipal, which grants to everyone else"


no_public_grants = resource_policy(
    name="no-public-grants",
    description=("No bucket, queue, topic, key, repository, secret or VPC endpoint policy or ACL grants anything to "
                 "everyone (Principal \"*\" counts as everyone unless a condition names the account, organisation, "
                 "VPC endpoint or source)."),
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("name the principals that need access (account roles or AWS service principals with a "
                 "SourceArn/SourceAccount condition) instead of \"*\", and drop public canned ACLs."),
    types=tuple(RESOURCE_POLICY_FIELDS) + ACL_TYPES,
    check=check_no_public_grants,
)

# --- the EKS API endpoint ------------------------------------------------------------------------------------------------


def check_eks_endpoint(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """pulumi-eks and EKS itself default to a public endpoint open to 0.0.0.0/0: missing settings count as those."""
    if resource.type == "eks:index:Cluster":
        public, cidrs_path = resource.get("endpointPublicAccess"), ("publicAccessCidrs",)
    else:
        public, cidrs_path = resource.get("vpcConfig", "endpointPublicAccess"), ("vpcConfig", "publicAccessCidrs")
    public = as_bool(public, "endpointPublicAccess")
    if public is UNKNOWN:
        yield Deferred("endpointPublicAccess")
        return
    if public is False:
        return
    if ctx.is_prod:
        yield "has a public API endpoint in prod; prod clusters are reached only through the private endpoint"
    cidrs = resource.get(*cidrs_path)
    if is_unknown(cidrs):
        yield Deferred(".".join(cidrs_path))
        return
    cidrs = as_list(cidrs, "publicAccessCidrs")
    if not cidrs:
        yield "has a public API endpoint with no publicAccessCidrs, which defaults to 0.0.0.0/0"
        return
    for cidr in cidrs:
        if is_unknown(cidr):
            yield Deferred("publicAccessCidrs")
        elif _open_cidr(cidr):
            yield f"has a public API endpoint open to {cidr}"


eks_endpoint_restricted = resource_policy(
    name="eks-endpoint-restricted",
    description="The EKS API endpoint is never open to the internet; in prod it is private only.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("set endpoint_private_access=True and endpoint_public_access=False (prod), or list the allowed "
                 "CIDRs in public_access_cidrs (staging)."),
    types=("eks:index:Cluster", "aws:eks/cluster:Cluster"),
    check=check_eks_endpoint,
)

POLICIES = [
    data_stores_not_publicly_accessible,
    data_stores_in_isolated_subnets,
    security_groups_no_open_ingress,
    s3_public_access_blocked,
    no_public_grants,
    eks_endpoint_restricted,
]
