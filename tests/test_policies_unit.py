"""Unit tests of every policy's check: for each, resources that must be denied and near-identical ones that must pass.

The checks are called directly on plain inputs (the wire form the engine sends: camelCase keys, JSON text for
policy documents and provider settings). `test_every_policy_has_a_deny_and_an_allow_case` keeps the table complete,
and the property-based tests feed odd input through the SDK's own entry points to show it yields violations or
skips, never exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi_policy import ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from .conftest_policies import POLICIES, POLICY_BY_NAME, check, context, core, link, resource

U = UNKNOWN_STRING_VALUE  # how an unknown value crosses the wire


def doc(*statements: dict, as_text: bool = True):
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return json.dumps(document) if as_text else document


def allow(action, resource_="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource_, **extra}


def pod(spec: dict) -> dict:
    return {"metadata": {"name": "web"}, "spec": {"replicas": 2, "template": {"metadata": {}, "spec": spec}}}


GOOD_CONTAINER = {
    "name": "web",
    "image": "registry.example.com/web:1.4.2",
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False,
                        "privileged": False, "capabilities": {"drop": ["ALL"]}},
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}},
}


def container(**changes) -> dict:
    merged = json.loads(json.dumps(GOOD_CONTAINER))
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif key == "securityContext":
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@dataclass
class Pair:
    """One policy, a resource it must deny (with a phrase of the expected message) and one it must pass."""

    policy: str
    deny: Callable[[], tuple]
    allow: Callable[[], tuple]
    expect: str
    ctx: dict = field(default_factory=dict)
    id: str = ""


def r(type_, props=None, **kw):
    """A lone resource for a resource policy: (subject, stack=None)."""
    return resource(type_, props, **kw), None


# --- graphs for the stack policies ----------------------------------------------------------------------------------------


def data_store_graph(*, igw_route: bool, store: str = "aws:rds/instance:Instance", explicit_association: bool = True):
    """VPC data tier: subnet -> association -> route table (-> route -> IGW when asked) <- subnet group <- store."""
    igw = resource("aws:ec2/internetGateway:InternetGateway", {"vpcId": U}, name="igw")
    subnet = resource("aws:ec2/subnet:Subnet", {"cidrBlock": "10.0.12.0/24", "vpcId": U}, name="data-0")
    table = resource("aws:ec2/routeTable:RouteTable", {"vpcId": U}, name="data-rt")
    members = [igw, subnet, table]
    if explicit_association:
        association = resource("aws:ec2/routeTableAssociation:RouteTableAssociation",
                               {"subnetId": U, "routeTableId": U}, name="data-0")
        link(association, "subnetId", subnet)
        link(association, "routeTableId", table)
        members.append(association)
    if igw_route:
        route = resource("aws:ec2/route:Route", {"routeTableId": U, "destinationCidrBlock": "0.0.0.0/0",
                                                 "gatewayId": U}, name="data-default")
        link(route, "routeTableId", table)
        link(route, "gatewayId", igw)
        members.append(route)
    if store == "aws:mq/broker:Broker":
        subject = resource(store, {"subnetIds": [U], "publiclyAccessible": False}, name="broker")
        link(subject, "subnetIds", subnet)
    else:
        group_type = "aws:rds/subnetGroup:SubnetGroup" if store.startswith("aws:rds") else "aws:elasticache/subnetGroup:SubnetGroup"
        group = resource(group_type, {"subnetIds": [U]}, name="data")
        link(group, "subnetIds", subnet)
        prop = "dbSubnetGroupName" if store.startswith("aws:rds") else "subnetGroupName"
        subject = resource(store, {prop: U}, name="store")
        link(subject, prop, group)
        members.append(group)
    return subject, core.Stack(members + [subject])


def bucket_graph(*, pab: dict | None = None, sse: str | None = "aws:kms", versioning: str | None = "Enabled",
                 lifecycle: list | None = None, policy: str | None = None, log_target: bool = False):
    bucket = resource("aws:s3/bucket:Bucket", {"bucket": "uploads"}, name="uploads")
    members = [bucket]

    def attach(type_, props, name):
        child = resource(type_, {"bucket": U, **props}, name=name)
        link(child, "bucket", bucket)
        members.append(child)
        return child

    if pab is not None:
        attach("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", pab, "uploads-pab")
    if sse is not None:
        attach("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
               {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": sse, "kmsMasterKeyId": U},
                           "bucketKeyEnabled": True}]}, "uploads-sse")
    if versioning is not None:
        attach("aws:s3/bucketVersioning:BucketVersioning", {"versioningConfiguration": {"status": versioning}}, "uploads-v")
    if lifecycle is not None:
        attach("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", {"rules": lifecycle}, "uploads-lc")
    if policy is not None:
        attach("aws:s3/bucketPolicy:BucketPolicy", {"policy": policy}, "uploads-policy")
    if log_target:
        logging = resource("aws:s3/bucketLogging:BucketLogging", {"bucket": U, "targetBucket": U}, name="static-logging")
        link(logging, "targetBucket", bucket)
        members.append(logging)
    return bucket, core.Stack(members)


ALL_FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
TLS_ONLY = doc({"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": ["arn:aws:s3:::uploads", "arn:aws:s3:::uploads/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def rds_with_parameter_group(force_ssl: str | None):
    group = resource("aws:rds/parameterGroup:ParameterGroup",
                     {"family": "postgres16", "parameters": [] if force_ssl is None else
                      [{"name": "rds.force_ssl", "value": force_ssl, "applyMethod": "pending-reboot"}]}, name="pg")
    db = resource("aws:rds/instance:Instance", {"engine": "postgres", "engineVersion": "16.4", "parameterGroupName": U},
                  name="db")
    link(db, "parameterGroupName", group)
    return db, core.Stack([group, db])


IRSA_SUB = "oidc.eks.ap-northeast-2.amazonaws.com/id/ABC:sub"
IRSA_AUD = "oidc.eks.ap-northeast-2.amazonaws.com/id/ABC:aud"


def irsa_trust(sub_op="StringEquals", subs=("system:serviceaccount:kube-system:aws-load-balancer-controller",),
               aud="sts.amazonaws.com"):
    condition = {sub_op: {IRSA_SUB: list(subs) if len(subs) != 1 else subs[0]}}
    condition.setdefault("StringEquals", {})[IRSA_AUD] = aud
    return doc({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/ABC"},
                "Condition": condition})


GITHUB = "token.actions.githubusercontent.com"


def github_trust(sub_op="StringEquals", subs=("repo:example-org/platform:environment:production",),
                 aud="sts.amazonaws.com"):
    condition = {sub_op: {f"{GITHUB}:sub": list(subs) if len(subs) != 1 else subs[0]}}
    condition.setdefault("StringEquals", {})[f"{GITHUB}:aud"] = aud
    return doc({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"},
                "Condition": condition})


PROD = {"environment": "prod"}  # the stack's name, which alone makes the prod rules apply


def nat_graph(*, cross_zone: bool, shared_table: bool = False):
    """Two zones: a public subnet with a NAT gateway in each, a private subnet per zone on its own route table."""
    members = []

    def add(type_, props, name):
        members.append(resource(type_, props, name=name))
        return members[-1]

    zones = ("ap-northeast-2a", "ap-northeast-2b")
    nats, tables = [], []
    for index, zone in enumerate(zones):
        public = add("aws:ec2/subnet:Subnet", {"availabilityZone": zone}, f"public-{index}")
        nats.append(link(add("aws:ec2/natGateway:NatGateway", {"subnetId": U}, f"nat-{index}"), "subnetId", public))
    for index, zone in enumerate(zones):
        private = add("aws:ec2/subnet:Subnet", {"availabilityZone": zone}, f"private-{index}")
        if shared_table and index == 1:
            table = tables[0]
        else:
            table = add("aws:ec2/routeTable:RouteTable", {"vpcId": U}, f"private-rt-{index}")
            tables.append(table)
            route = add("aws:ec2/route:Route", {"routeTableId": U, "destinationCidrBlock": "0.0.0.0/0",
                                                "natGatewayId": U}, f"private-default-{index}")
            link(route, "routeTableId", table)
            link(route, "natGatewayId", nats[0 if cross_zone else index])
        association = add("aws:ec2/routeTableAssociation:RouteTableAssociation", {"subnetId": U, "routeTableId": U},
                          f"private-{index}")
        link(association, "subnetId", private)
        link(association, "routeTableId", table)
    return tables[-1], core.Stack(members)


def aurora_graph(*, instances: int, zones: tuple = ()):
    cluster = resource("aws:rds/cluster:Cluster", {"engine": "aurora-postgresql", "engineMode": "provisioned"}, name="aurora")
    members = [cluster]
    for index in range(instances):
        props = {"clusterIdentifier": U, "instanceClass": "db.r7g.large"}
        if zones:
            props["availabilityZone"] = zones[index]
        members.append(link(resource("aws:rds/clusterInstance:ClusterInstance", props, name=f"aurora-{index}"),
                            "clusterIdentifier", cluster))
    return cluster, core.Stack(members)


def node_group_graph(*, zones: int):
    subnets = [resource("aws:ec2/subnet:Subnet", {"availabilityZone": f"ap-northeast-2{'abcd'[i]}"}, name=f"private-{i}")
               for i in range(zones)]
    group = resource("aws:eks/nodeGroup:NodeGroup", {"subnetIds": [U] * zones, "capacityType": "ON_DEMAND"}, name="workload")
    link(group, "subnetIds", *subnets)
    return group, core.Stack([*subnets, group])


def workload_graph(*, replicas: int | None = 2, hpa_min: int | None = None, pdb_labels=None, pdb_namespace="web"):
    deployment = resource(DEPLOYMENT, {"metadata": {"name": "web", "namespace": "web"}, "spec": {
        **({"replicas": replicas} if replicas is not None else {}),
        "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {"containers": [container()]}}}},
        name="web")
    budget = resource("kubernetes:policy/v1:PodDisruptionBudget", {
        "metadata": {"name": "web", "namespace": pdb_namespace},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": pdb_labels or {"app": "web"}}}}, name="web-pdb")
    members = [deployment, budget]
    if hpa_min is not None:
        members.append(resource("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {
            "metadata": {"name": "web", "namespace": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": hpa_min, "maxReplicas": 6}}, name="web-hpa"))
    return deployment, core.Stack(members)


PAIRS = [
    # 1. hardcoded secrets
    Pair("rds-managed-master-password",
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres", "password": "hunter2hunter2"}),
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres", "manageMasterUserPassword": True}),
         "sets `password`"),
    Pair("rds-managed-master-password",
         lambda: r("aws:rds/cluster:Cluster", {"engine": "aurora-postgresql", "masterPassword": U}),
         lambda: r("aws:rds/cluster:Cluster", {"engine": "aurora-postgresql", "manageMasterUserPassword": "true"}),
         "sets `masterPassword`", id="aurora-unknown-password-is-still-a-password"),
    Pair("no-literal-kubernetes-secrets",
         lambda: r("kubernetes:core/v1:Secret", {"metadata": {"name": "db"}, "stringData": {"password": "x"}}),
         lambda: r("kubernetes:core/v1:Secret", {"metadata": {"name": "sa-token"}, "type": "kubernetes.io/service-account-token"}),
         "literal `stringData`"),
    Pair("no-literal-kubernetes-secrets",
         lambda: r("kubernetes:core/v1:ConfigMap", {"data": {"DB_PASSWORD": "s3cr3t-value", "LOG_LEVEL": "info"}}),
         lambda: r("kubernetes:core/v1:ConfigMap", {"data": {"DB_PASSWORD_SECRET_ARN": "arn:aws:secretsmanager:x", "LOG_LEVEL": "info"}}),
         "DB_PASSWORD", id="configmap"),
    Pair("no-secret-literals-in-container-env",
         lambda: r(DEPLOYMENT, pod({"containers": [container(env=[{"name": "API_TOKEN", "value": "abc123def456"}])]})),
         lambda: r(DEPLOYMENT, pod({"containers": [container(env=[{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}])]})),
         "API_TOKEN"),
    Pair("no-secret-literals-in-container-env",
         lambda: r("kubernetes:batch/v1:CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
             "initContainers": [container(name="init", env=[{"name": "AWS_KEY", "value": "AKIAIOSFODNN7EXAMPLE"}])],
             "containers": [container()]}}}}}}),
         lambda: r("kubernetes:batch/v1:CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
             "initContainers": [container(name="init", env=[{"name": "AWS_REGION", "value": "ap-northeast-2"}])],
             "containers": [container()]}}}}}}),
         "AWS access key", id="cronjob-init-container-credential"),
    Pair("no-secrets-in-user-data",
         lambda: r("aws:ec2/launchTemplate:LaunchTemplate", {"userData": __import__("base64").b64encode(
             b"#!/bin/bash\nexport DB_PASSWORD=hunter2\n/etc/eks/bootstrap.sh platform\n").decode()}),
         lambda: r("aws:ec2/launchTemplate:LaunchTemplate", {"userData": __import__("base64").b64encode(
             b"#!/bin/bash\nexport DB_PASSWORD=$(aws secretsmanager get-secret-value --secret-id db --query SecretString)\n").decode()}),
         "DB_PASSWORD"),
    Pair("no-secrets-in-user-data",
         lambda: r("aws:ec2/instance:Instance", {"userData": "#cloud-config\nwrite_files:\n- content: |\n    -----BEGIN RSA PRIVATE KEY-----\n"}),
         lambda: r("aws:ec2/instance:Instance", {"userData": "#cloud-config\npackages: [jq]\n"}),
         "private key", id="instance-private-key"),
    Pair("no-static-provider-credentials",
         lambda: r("pulumi:providers:aws", {"region": "ap-northeast-2", "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": U}),
         lambda: r("pulumi:providers:aws", {"region": "ap-northeast-2", "assumeRoles": json.dumps([{"roleArn": "arn:aws:iam::1:role/deploy"}])}),
         "static credentials"),
    Pair("no-static-provider-credentials",
         lambda: r("pulumi:providers:kubernetes", {"kubeconfig": "apiVersion: v1\nusers:\n- name: x\n  user:\n    token: abc\n"}),
         lambda: r("pulumi:providers:kubernetes", {"kubeconfig": "apiVersion: v1\nusers:\n- name: x\n  user:\n    exec: {command: aws, args: [eks, get-token]}\n"}),
         "bearer token", id="kubeconfig-token"),
    Pair("no-imported-certificate-keys",
         lambda: r("aws:acm/certificate:Certificate", {"privateKey": U, "certificateBody": "-----BEGIN CERTIFICATE-----"}),
         lambda: r("aws:acm/certificate:Certificate", {"domainName": "example.com", "validationMethod": "DNS"}),
         "private key"),
    # 2. public exposure
    Pair("data-stores-not-publicly-accessible",
         lambda: r("aws:rds/instance:Instance", {"publiclyAccessible": True}),
         lambda: r("aws:rds/instance:Instance", {"publiclyAccessible": False}),
         "publicly accessible"),
    Pair("data-stores-not-publicly-accessible",
         lambda: r("aws:mq/broker:Broker", {"publiclyAccessible": "true"}),
         lambda: r("aws:mq/broker:Broker", {}),
         "publicly accessible", id="broker"),
    Pair("data-stores-in-isolated-subnets",
         lambda: data_store_graph(igw_route=True),
         lambda: data_store_graph(igw_route=False),
         "internet gateway"),
    Pair("data-stores-in-isolated-subnets",
         lambda: data_store_graph(igw_route=True, store="aws:elasticache/replicationGroup:ReplicationGroup"),
         lambda: data_store_graph(igw_route=False, store="aws:elasticache/replicationGroup:ReplicationGroup"),
         "internet gateway", id="cache"),
    Pair("data-stores-in-isolated-subnets",
         lambda: data_store_graph(igw_route=False, store="aws:mq/broker:Broker", explicit_association=False),
         lambda: data_store_graph(igw_route=False, store="aws:mq/broker:Broker"),
         "main route table", id="broker-unassociated-subnet"),
    Pair("data-stores-in-isolated-subnets",
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres"}),
         lambda: data_store_graph(igw_route=False),
         "default VPC", id="no-subnet-group"),
    Pair("security-groups-no-open-ingress",
         lambda: r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                   {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22}),
         lambda: r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                   {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}),
         "port 22"),
    Pair("security-groups-no-open-ingress",
         lambda: r("aws:ec2/securityGroup:SecurityGroup", {"ingress": [
             {"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}]}),
         lambda: r("aws:ec2/securityGroup:SecurityGroup", {"ingress": [
             {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/16"]}],
             "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]}),
         "every port", id="inline-ipv6-all"),
    Pair("security-groups-no-open-ingress",
         lambda: r("aws:ec2/securityGroupRule:SecurityGroupRule",
                   {"type": "ingress", "protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}),
         lambda: r("aws:ec2/securityGroupRule:SecurityGroupRule",
                   {"type": "egress", "protocol": "tcp", "fromPort": 0, "toPort": 65535, "cidrBlocks": ["0.0.0.0/0"]}),
         "0-65535", id="rule-resource"),
    Pair("s3-public-access-blocked",
         lambda: bucket_graph(pab={**ALL_FLAGS, "restrictPublicBuckets": False}),
         lambda: bucket_graph(pab=ALL_FLAGS),
         "restrictPublicBuckets", id="flag-off"),
    Pair("s3-public-access-blocked",
         lambda: bucket_graph(pab=None),
         lambda: bucket_graph(pab=ALL_FLAGS),
         "no BucketPublicAccessBlock", id="missing"),
    Pair("no-public-grants",
         lambda: r("aws:s3/bucketPolicy:BucketPolicy", {"policy": doc(
             {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})}),
         lambda: r("aws:s3/bucketPolicy:BucketPolicy", {"policy": TLS_ONLY}),
         "to everyone"),
    Pair("no-public-grants",
         lambda: r("aws:sqs/queuePolicy:QueuePolicy", {"policy": doc(
             {"Effect": "Allow", "Principal": "*", "Action": ["sqs:SendMessage"], "Resource": U}, as_text=False)}),
         lambda: r("aws:sqs/queuePolicy:QueuePolicy", {"policy": doc(
             {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": ["sqs:SendMessage"],
              "Resource": U, "Condition": {"ArnEquals": {"aws:SourceArn": U}}}, as_text=False)}),
         "to everyone", id="object-document"),
    Pair("no-public-grants",
         lambda: r("aws:ec2/vpcEndpoint:VpcEndpoint", {"policy": doc({
             "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceAccount": "123456789012"}}})}),
         lambda: r("aws:ec2/vpcEndpoint:VpcEndpoint", {"policy": doc({
             "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}})}),
         "to everyone", id="vpc-endpoint-restricts-the-caller-not-the-resource-owner"),
    Pair("no-public-grants",
         lambda: r("aws:sns/topicPolicy:TopicPolicy", {"policy": doc({
             "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": U,
             "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:ap-northeast-2:*:alarm:*"}}})}),
         lambda: r("aws:sns/topicPolicy:TopicPolicy", {"policy": doc({
             "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": U,
             "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:*"}}})}),
         "to everyone", id="source-arn-with-any-account-is-still-public"),
    Pair("no-public-grants",
         lambda: r("aws:s3/bucketAcl:BucketAcl", {"acl": "public-read"}),
         lambda: r("aws:s3/bucketAcl:BucketAcl", {"acl": "private"}),
         "public-read", id="acl"),
    Pair("eks-endpoint-restricted",
         lambda: r("eks:index:Cluster", {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}),
         lambda: r("eks:index:Cluster", {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}),
         "open to 0.0.0.0/0"),
    Pair("eks-endpoint-restricted",
         lambda: r("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}),
         lambda: r("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}}),
         "public API endpoint in prod", ctx={"environment": "prod"}, id="prod-private-only"),
    Pair("eks-endpoint-restricted",
         lambda: r("eks:index:Cluster", {"endpointPrivateAccess": True}),
         lambda: r("eks:index:Cluster", {"endpointPrivateAccess": True, "endpointPublicAccess": False}),
         "defaults to 0.0.0.0/0", id="pulumi-eks-default-is-public"),
    # 3. root
    Pair("k8s-containers-non-root",
         lambda: r(DEPLOYMENT, pod({"containers": [container(securityContext={"runAsUser": 0})]})),
         lambda: r(DEPLOYMENT, pod({"containers": [container()]})),
         "UID 0"),
    Pair("k8s-containers-non-root",
         lambda: r("kubernetes:core/v1:Pod", {"spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000},
                                                       "initContainers": [{"name": "setup", "image": "busybox:1.36",
                                                                           "securityContext": {"privileged": True}}],
                                                       "containers": [container()]}}),
         lambda: r("kubernetes:core/v1:Pod", {"spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000},
                                                       "initContainers": [{"name": "setup", "image": "busybox:1.36",
                                                                           "securityContext": {"allowPrivilegeEscalation": False}}],
                                                       "containers": [container()]}}),
         "privileged", id="pod-level-context-init-container"),
    Pair("k8s-containers-non-root",
         lambda: r("kubernetes:apps/v1:StatefulSet", pod({"containers": [container(securityContext={"allowPrivilegeEscalation": None})]})),
         lambda: r("kubernetes:apps/v1:StatefulSet", pod({"containers": [container()]})),
         "allowPrivilegeEscalation", id="escalation-unset"),
    Pair("k8s-no-host-namespaces",
         lambda: r("kubernetes:apps/v1:DaemonSet", pod({"hostNetwork": True, "containers": [container()]})),
         lambda: r("kubernetes:apps/v1:DaemonSet", pod({"hostNetwork": False, "containers": [container()]})),
         "hostNetwork"),
    Pair("no-iam-users-or-access-keys",
         lambda: r("aws:iam/accessKey:AccessKey", {"user": "deployer"}),
         lambda: r("aws:iam/accessKey:AccessKey", {"user": "deployer"}),  # placeholder, replaced below
         "access key"),
    # 4. permissions
    Pair("iam-no-wildcard-actions",
         lambda: r("aws:iam/policy:Policy", {"policy": doc(allow("s3:*", "arn:aws:s3:::uploads/*"))}),
         lambda: r("aws:iam/policy:Policy", {"policy": doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::uploads/*"))}),
         "`s3:*`"),
    Pair("iam-no-wildcard-actions",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                                         "inlinePolicies": [{"name": "all", "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}]}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                                         "inlinePolicies": [{"name": "read", "policy": doc({"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"})}]}),
         "`*`", id="role-inline-single-statement"),
    Pair("iam-no-wildcard-actions",
         lambda: r("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", {"inlinePolicy": doc(allow("ec2:*"))}),
         lambda: r("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", {"inlinePolicy": doc(allow("ec2:DescribeInstances"))}),
         "`ec2:*`", id="sso-permission-set-inline-policy"),
    Pair("iam-no-allow-not-action",
         lambda: r("aws:sqs/queuePolicy:QueuePolicy", {"policy": doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "NotAction": "sqs:DeleteQueue", "Resource": U})}),
         lambda: r("aws:sqs/queuePolicy:QueuePolicy", {"policy": doc({"Effect": "Deny", "Principal": "*", "NotAction": "sqs:SendMessage", "Resource": U})}),
         "NotAction", id="resource-policy"),
    Pair("iam-no-allow-not-action",
         lambda: r("aws:iam/rolePolicy:RolePolicy", {"policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
         lambda: r("aws:iam/rolePolicy:RolePolicy", {"policy": doc({"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"})}),
         "NotAction"),
    Pair("iam-resource-wildcard-scoped",
         lambda: r("aws:iam/policy:Policy", {"policy": doc(allow(["sqs:SendMessage", "ec2:DescribeSubnets"]))}),
         lambda: r("aws:iam/policy:Policy", {"policy": doc(allow(["ec2:DescribeSubnets", "ecr:GetAuthorizationToken"]))}),
         "sqs:SendMessage"),
    Pair("iam-resource-wildcard-scoped",
         lambda: r("aws:iam/policy:Policy", {"policy": doc(allow("ec2:CreateTags", Condition={"Bool": {"aws:SecureTransport": "true"}}))}),
         lambda: r("aws:iam/policy:Policy", {"policy": doc(allow("ec2:CreateTags", Condition={"StringEquals": {"aws:RequestTag/elbv2.k8s.aws/cluster": "platform"}}))}),
         "ec2:CreateTags", id="tag-condition-scopes"),
    Pair("iam-no-admin-policy-attachments",
         lambda: r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "ci", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
         lambda: r("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "nodes", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"}),
         "AdministratorAccess"),
    Pair("iam-no-admin-policy-attachments",
         lambda: r("aws:iam/role:Role", {"managedPolicyArns": ["arn:aws:iam::aws:policy/PowerUserAccess"]}),
         lambda: r("aws:iam/role:Role", {"managedPolicyArns": [U]}),
         "PowerUserAccess", id="role-managed-arns"),
    Pair("iam-no-admin-policy-attachments",
         lambda: r("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", {"group": "ops", "policyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}),
         lambda: r("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", {"group": "ops", "policyArn": "arn:aws:iam::123456789012:policy/IAMFullAccess"}),
         "IAMFullAccess", id="group-attachment-customer-policy-of-same-name-is-fine"),
    Pair("iam-trust-not-public",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"})}),
         "lets anyone"),
    Pair("iam-github-oidc-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust(sub_op="StringLike", subs=("repo:example-org/platform:*",))}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust()}),
         "StringLike"),
    Pair("iam-github-oidc-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust(subs=("repo:example-org/platform:pull_request",))}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust(subs=("repo:example-org/platform:environment:staging-preview",))}),
         "not one repository environment"),
    Pair("iam-github-oidc-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust(subs=("repo:example-org/platform:ref:refs/heads/main",))}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust()}),
         "not one repository environment"),
    Pair("iam-github-oidc-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust(aud="sigstore")}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust()}),
         "audience"),
    Pair("iam-github-oidc-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": doc({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                                                                   "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"},
                                                                   "Condition": {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}})}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": github_trust()}),
         "no `:sub` condition"),
    Pair("iam-irsa-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": irsa_trust(sub_op="StringLike", subs=("system:serviceaccount:kube-system:*",))}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": irsa_trust()}),
         "StringLike"),
    Pair("iam-irsa-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": irsa_trust(aud="*")}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": irsa_trust()}),
         "audience", id="audience"),
    Pair("iam-irsa-trust-pinned",
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": irsa_trust(subs=("system:serviceaccount:a:one", "system:serviceaccount:a:two"))}),
         lambda: r("aws:iam/role:Role", {"assumeRolePolicy": irsa_trust(subs=("system:serviceaccount:a:one",))}),
         "2 service accounts", id="one-service-account"),
    Pair("k8s-rbac-no-wildcards",
         lambda: r("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", {"rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]}),
         lambda: r("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
         "wildcard in resources"),
    Pair("k8s-rbac-no-wildcards",
         lambda: r("kubernetes:rbac.authorization.k8s.io/v1:Role", {"rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": "*"}]}),
         lambda: r("kubernetes:rbac.authorization.k8s.io/v1:Role", {"rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": "get"}]}),
         "wildcard in verbs", id="role-verbs-as-string"),
    Pair("k8s-rbac-no-wildcards",
         lambda: r("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", {"roleRef": {"kind": "ClusterRole", "name": "cluster-admin"}}),
         lambda: r("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", {"roleRef": {"kind": "ClusterRole", "name": "view"}}),
         "cluster-admin", id="cluster-admin-binding"),
    # 5. encryption and TLS
    Pair("data-stores-encrypted-at-rest",
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres"}),
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": U}),
         "not encrypted"),
    Pair("data-stores-encrypted-at-rest",
         lambda: r("aws:sqs/queue:Queue", {"name": "jobs"}),
         lambda: r("aws:sqs/queue:Queue", {"name": "jobs", "kmsMasterKeyId": U}),
         "server-side encryption", id="queue"),
    Pair("data-stores-encrypted-at-rest",
         lambda: r("eks:index:Cluster", {"endpointPublicAccess": False}),
         lambda: r("eks:index:Cluster", {"endpointPublicAccess": False, "encryptionConfigKeyArn": U}),
         "envelope-encrypted", id="eks-component"),
    Pair("data-stores-encrypted-at-rest",
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup", {"atRestEncryptionEnabled": False}),
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup", {"atRestEncryptionEnabled": True}),
         "at-rest encryption", id="cache"),
    Pair("data-stores-encrypted-in-transit",
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup", {"transitEncryptionEnabled": True, "transitEncryptionMode": "preferred"}),
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup", {"transitEncryptionEnabled": True, "transitEncryptionMode": "required"}),
         "preferred"),
    Pair("data-stores-enforce-tls",
         lambda: rds_with_parameter_group(force_ssl="0"),
         lambda: rds_with_parameter_group(force_ssl="1"),
         "rds.force_ssl"),
    Pair("data-stores-enforce-tls",
         lambda: bucket_graph(policy=doc({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"})),
         lambda: bucket_graph(policy=TLS_ONLY),
         "without TLS", id="bucket"),
    Pair("s3-bucket-policies-deny-plain-http",
         lambda: r("aws:s3/bucketPolicy:BucketPolicy", {"bucket": U, "policy": doc(
             {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
              "Condition": {"Bool": {"aws:SecureTransport": "true"}}})}),
         lambda: r("aws:s3/bucketPolicy:BucketPolicy", {"bucket": U, "policy": TLS_ONLY}),
         "does not deny requests without TLS"),
    Pair("s3-buckets-encrypted-with-kms",
         lambda: bucket_graph(sse="AES256"),
         lambda: bucket_graph(sse="AES256", log_target=True),
         "AES256", id="access-log-target-may-use-sse-s3"),
    Pair("s3-buckets-encrypted-with-kms",
         lambda: r("aws:s3/bucket:Bucket", {"serverSideEncryptionConfiguration": {"rule": {
             "applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}}}),
         lambda: r("aws:s3/bucket:Bucket", {"serverSideEncryptionConfiguration": {"rule": {
             "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": U},
             "bucketKeyEnabled": True}}}),
         "AES256", id="inline-on-the-bucket"),
    Pair("s3-buckets-encrypted-with-kms",
         lambda: r("aws:s3/bucketV2:BucketV2", {"serverSideEncryptionConfigurations": [{"rules": [{
             "applyServerSideEncryptionByDefault": [{"sseAlgorithm": "AES256"}]}]}]}),
         lambda: r("aws:s3/bucketV2:BucketV2", {"serverSideEncryptionConfigurations": [{"rules": [{
             "applyServerSideEncryptionByDefault": [{"sseAlgorithm": "aws:kms:dsse", "kmsMasterKeyId": U}]}]}]}),
         "AES256", id="inline-on-a-bucket-v2"),
    Pair("data-stores-tls-unverified",
         lambda: r("aws:rds/instance:Instance", {"engine": "db2-se"}),
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres"}),
         "not one whose TLS parameter this pack knows"),
    Pair("s3-buckets-encrypted-with-kms",
         lambda: bucket_graph(sse=None),
         lambda: bucket_graph(sse="aws:kms"),
         "no default server-side encryption", id="missing"),
    Pair("load-balancers-https-only",
         lambda: r("aws:lb/listener:Listener", {"port": 80, "protocol": "HTTP", "defaultActions": [{"type": "forward", "targetGroupArn": U}]}),
         lambda: r("aws:lb/listener:Listener", {"port": 80, "protocol": "HTTP", "defaultActions": [
             {"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]}),
         "plain HTTP"),
    Pair("load-balancers-https-only",
         lambda: r("aws:alb/listener:Listener", {"port": 5432, "protocol": "TCP"}),
         lambda: r("aws:alb/listener:Listener", {"port": 443, "protocol": "HTTPS", "certificateArn": U}),
         "plain TCP", id="alb-alias-tcp"),
    Pair("load-balancers-https-only",
         lambda: r("kubernetes:networking.k8s.io/v1:Ingress", {"metadata": {"annotations": {
             "alb.ingress.kubernetes.io/scheme": "internet-facing",
             "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
             "alb.ingress.kubernetes.io/certificate-arn": U}}, "spec": {"ingressClassName": "alb"}}),
         lambda: r("kubernetes:networking.k8s.io/v1:Ingress", {"metadata": {"annotations": {
             "alb.ingress.kubernetes.io/scheme": "internet-facing",
             "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
             "alb.ingress.kubernetes.io/ssl-redirect": "443",
             "alb.ingress.kubernetes.io/certificate-arn": U}}, "spec": {"ingressClassName": "alb"}}),
         "without redirecting", id="alb-ingress"),
    Pair("certificates-auto-renew",
         lambda: r("aws:acm/certificate:Certificate", {"domainName": "example.com", "validationMethod": "EMAIL"}),
         lambda: r("aws:acm/certificate:Certificate", {"domainName": "example.com", "validationMethod": "DNS"}),
         "EMAIL"),
    # 6. nothing lost in prod
    Pair("prod-stateful-resources-protected",
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres"}, protect=False),
         lambda: r("aws:rds/instance:Instance", {"engine": "postgres"}, protect=True),
         "protect", ctx={"environment": "prod"}),
    Pair("prod-stateful-resources-protected",
         lambda: r("aws:kms/key:Key", {"enableKeyRotation": True}, protect=False),
         lambda: r("aws:kms/key:Key", {"enableKeyRotation": True}, protect=False),  # staging: not applicable
         "protect", ctx={"environment": "prod"}, id="staging-is-exempt"),
    Pair("prod-deletion-protection",
         lambda: r("aws:rds/instance:Instance", {"deletionProtection": False}),
         lambda: r("aws:rds/instance:Instance", {"deletionProtection": True}),
         "deletion protection", ctx={"environment": "prod"}),
    Pair("prod-deletion-protection",
         lambda: r("aws:s3/bucket:Bucket", {"forceDestroy": True}),
         lambda: r("aws:s3/bucket:Bucket", {"forceDestroy": False}),
         "forceDestroy", ctx={"environment": "prod"}, id="bucket"),
    Pair("prod-final-snapshots",
         lambda: r("aws:rds/instance:Instance", {"skipFinalSnapshot": True}),
         lambda: r("aws:rds/instance:Instance", {"skipFinalSnapshot": False, "finalSnapshotIdentifier": U}),
         "skips the final snapshot", ctx={"environment": "prod"}),
    Pair("prod-final-snapshots",
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup", {"snapshotRetentionLimit": 7}),
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup", {"finalSnapshotIdentifier": "cache-final"}),
         "finalSnapshotIdentifier", ctx={"environment": "prod"}, id="cache"),
    Pair("prod-backups-retained",
         lambda: r("aws:rds/instance:Instance", {"backupRetentionPeriod": 3}),
         lambda: r("aws:rds/instance:Instance", {"backupRetentionPeriod": 14}),
         "at least 14", ctx={"environment": "prod", "minimumBackupRetentionDays": 14}),
    Pair("prod-buckets-versioned",
         lambda: bucket_graph(versioning="Suspended"),
         lambda: bucket_graph(versioning="Enabled"),
         "not versioned", ctx={"environment": "prod"}),
    # 9. prod resilience (the twins of the Pod Security Standards, namespaces and documented exceptions run through
    # the protocol in test_policies_pod_security.py and test_policies_exceptions.py)
    Pair("prod-nat-gateway-per-az", lambda: nat_graph(cross_zone=True), lambda: nat_graph(cross_zone=False),
         "one zone's outage", ctx=PROD),
    Pair("prod-nat-gateway-per-az", lambda: nat_graph(cross_zone=False, shared_table=True),
         lambda: nat_graph(cross_zone=False), "give each zone its own table", ctx=PROD, id="shared-table"),
    Pair("prod-database-multi-az", lambda: r("aws:rds/instance:Instance", {"multiAz": False}),
         lambda: r("aws:rds/instance:Instance", {"multiAz": True}), "not Multi-AZ", ctx=PROD),
    Pair("prod-database-multi-az", lambda: aurora_graph(instances=1), lambda: aurora_graph(instances=2),
         "has 1 cluster instance(s)", ctx=PROD, id="aurora"),
    Pair("prod-database-multi-az", lambda: aurora_graph(instances=2, zones=("ap-northeast-2a", "ap-northeast-2a")),
         lambda: aurora_graph(instances=2, zones=("ap-northeast-2a", "ap-northeast-2b")), "places all 2 instances",
         ctx=PROD, id="aurora-one-zone"),
    Pair("prod-cache-failover",
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup",
                   {"numCacheClusters": 1, "automaticFailoverEnabled": False, "multiAzEnabled": False}),
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup",
                   {"numCacheClusters": 2, "automaticFailoverEnabled": True, "multiAzEnabled": True}),
         "has 1 node(s)", ctx=PROD),
    Pair("prod-cache-failover",
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup",
                   {"numNodeGroups": 3, "replicasPerNodeGroup": 0, "automaticFailoverEnabled": True, "multiAzEnabled": True}),
         lambda: r("aws:elasticache/replicationGroup:ReplicationGroup",
                   {"numNodeGroups": 3, "replicasPerNodeGroup": 1, "automaticFailoverEnabled": True, "multiAzEnabled": True}),
         "no replica per shard", ctx=PROD, id="sharded"),
    Pair("prod-cache-failover", lambda: r("aws:elasticache/cluster:Cluster", {"engine": "redis", "numCacheNodes": 1}),
         lambda: r("aws:elasticache/cluster:Cluster", {"replicationGroupId": "cache"}), "standalone", ctx=PROD,
         id="standalone-cluster"),
    Pair("prod-broker-multi-az",
         lambda: r("aws:mq/broker:Broker", {"engineType": "RabbitMQ", "deploymentMode": "SINGLE_INSTANCE"}),
         lambda: r("aws:mq/broker:Broker", {"engineType": "RabbitMQ", "deploymentMode": "CLUSTER_MULTI_AZ"}),
         "runs SINGLE_INSTANCE", ctx=PROD),
    Pair("prod-broker-multi-az",
         lambda: r("aws:mq/broker:Broker", {"engineType": "ActiveMQ"}),
         lambda: r("aws:mq/broker:Broker", {"engineType": "ActiveMQ", "deploymentMode": "ACTIVE_STANDBY_MULTI_AZ"}),
         "SINGLE_INSTANCE (the default)", ctx=PROD, id="activemq"),
    Pair("prod-nodes-on-demand", lambda: r("aws:eks/nodeGroup:NodeGroup", {"capacityType": "SPOT"}),
         lambda: r("aws:eks/nodeGroup:NodeGroup", {"capacityType": "ON_DEMAND"}), "runs on SPOT", ctx=PROD),
    Pair("prod-node-groups-span-three-azs", lambda: node_group_graph(zones=2), lambda: node_group_graph(zones=3),
         "spans 2 zone(s)", ctx=PROD),
    Pair("prod-workloads-replicated", lambda: workload_graph(replicas=1), lambda: workload_graph(replicas=2),
         "runs 1 replica(s)", ctx=PROD),
    Pair("prod-workloads-replicated", lambda: workload_graph(replicas=1, hpa_min=1),
         lambda: workload_graph(replicas=1, hpa_min=2), "autoscaler minReplicas 1", ctx=PROD, id="autoscaler-floor"),
    Pair("prod-workloads-replicated", lambda: workload_graph(pdb_labels={"app": "other"}),
         lambda: workload_graph(pdb_labels={"app": "web"}), "has no PodDisruptionBudget", ctx=PROD, id="budget"),
    Pair("prod-workloads-replicated", lambda: workload_graph(pdb_namespace="other"),
         lambda: workload_graph(pdb_namespace="web"), "has no PodDisruptionBudget", ctx=PROD, id="budget-namespace"),
    # advisory hygiene
    Pair("staging-workload-nodes-use-spot",
         lambda: r("eks:index:ManagedNodeGroup", {"nodeGroupName": "workload", "capacityType": "ON_DEMAND"}, name="cluster-workload"),
         lambda: r("eks:index:ManagedNodeGroup", {"nodeGroupName": "workload", "capacityType": "SPOT"}, name="cluster-workload"),
         "on ON_DEMAND capacity"),
    Pair("autoscaling-bounds",
         lambda: r("aws:eks/nodeGroup:NodeGroup", {"scalingConfig": {"minSize": 4, "maxSize": 2, "desiredSize": 3}}),
         lambda: r("aws:eks/nodeGroup:NodeGroup", {"scalingConfig": {"minSize": 2, "maxSize": 4, "desiredSize": 3}}),
         "above its maximum"),
    Pair("autoscaling-bounds",
         lambda: r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {"spec": {"minReplicas": 2, "maxReplicas": 500}}),
         lambda: r("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", {"spec": {"minReplicas": 2, "maxReplicas": 10}}),
         "ceiling", id="hpa"),
    Pair("log-retention",
         lambda: r("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/eks/platform/cluster"}),
         lambda: r("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/eks/platform/cluster", "retentionInDays": 30}),
         "forever"),
    Pair("s3-lifecycle-rules",
         lambda: bucket_graph(lifecycle=[{"id": "expire", "status": "Enabled", "expiration": {"days": 30}}]),
         lambda: bucket_graph(lifecycle=[{"id": "abort", "status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]),
         "incomplete multipart"),
    Pair("required-tags",
         lambda: r("pulumi:providers:aws", {"defaultTags": json.dumps({"tags": {"project": "platform", "environment": "prod"}})}),
         lambda: r("pulumi:providers:aws", {"defaultTags": json.dumps({"tags": {
             "project": "platform", "environment": "prod", "managed-by": "pulumi", "owner": "team", "cost-centre": "cc"}})}),
         "`owner`"),
    Pair("required-tags",
         lambda: r("aws:sqs/queue:Queue", {}, provider=core.Provider("pulumi:providers:aws", "default_7_51_1", "urn:default", {})),
         lambda: r("aws:sqs/queue:Queue", {}, provider=core.Provider("pulumi:providers:aws", "aws", "urn:aws", {})),
         "default AWS provider", id="uses-tagged-provider"),
    Pair("k8s-requests-and-limits",
         lambda: r(DEPLOYMENT, pod({"containers": [container(resources={"requests": {"cpu": "100m"}})]})),
         lambda: r(DEPLOYMENT, pod({"containers": [container()]})),
         "limits.memory"),
    Pair("k8s-probes",
         lambda: r(DEPLOYMENT, pod({"containers": [container(livenessProbe=None)]})),
         lambda: r(DEPLOYMENT, pod({"containers": [container()]})),
         "livenessProbe"),
    Pair("k8s-image-tags-pinned",
         lambda: r(DEPLOYMENT, pod({"containers": [container(image="nginx:latest")]})),
         lambda: r(DEPLOYMENT, pod({"containers": [container(image="nginx@sha256:" + "a" * 64)]})),
         ":latest"),
    Pair("versions-pinned",
         lambda: r("kubernetes:helm.sh/v3:Release", {"chart": "argo-cd", "version": "^7.0.0"}),
         lambda: r("kubernetes:helm.sh/v3:Release", {"chart": "argo-cd", "version": "7.3.4"}),
         "range"),
]

# The checks against AWS's IAM definitions (their module runs the same pairs through the protocol).
from .test_policies_iam_definitions import IAM_PAIRS  # noqa: E402

PAIRS += IAM_PAIRS  # type: ignore[arg-type]

# An IAM access key has no compliant form: the "allow" side is an assumable role instead.
PAIRS = [p if p.policy != "no-iam-users-or-access-keys" else
         Pair(p.policy, p.deny, lambda: r("aws:iam/role:Role", {"assumeRolePolicy": doc(
             {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})}),
              p.expect) for p in PAIRS]
# The staging-is-exempt pair: the allow side runs in staging.
STAGING_EXEMPT = {("prod-stateful-resources-protected", "staging-is-exempt")}


def _ids(pair: Pair) -> str:
    return f"{pair.policy}-{pair.id}" if pair.id else pair.policy


def _ctx(pair: Pair, side: str):
    settings_ = dict(pair.ctx)
    environment = settings_.pop("environment", "staging")
    if side == "allow" and (pair.policy, pair.id) in STAGING_EXEMPT:
        environment = "staging"
    return context(environment, **settings_)


def _applies(pair: Pair, subject) -> bool:
    return POLICY_BY_NAME[pair.policy].applies(subject.type)


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_denied(pair: Pair):
    subject, stack = pair.deny()
    findings = check(pair.policy, subject, stack=stack, ctx=_ctx(pair, "deny"))
    assert findings.violations, f"{pair.policy} let {subject.label} pass"
    assert any(pair.expect in v for v in findings.violations), findings.violations


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_allowed(pair: Pair):
    subject, stack = pair.allow()
    if not _applies(pair, subject):
        # The compliant alternative is another kind of resource (an IAM role instead of an access key).
        assert pair.policy == "no-iam-users-or-access-keys"
        return
    findings = check(pair.policy, subject, stack=stack, ctx=_ctx(pair, "allow"))
    assert findings.violations == [] and findings.deferred == [], findings


def test_every_policy_has_a_deny_and_an_allow_case():
    from .test_policies_exceptions import TWINNED as EXCEPTION_TWINS
    from .test_policies_pod_security import TWINS as PSS_TWINS

    elsewhere = {name for twin in PSS_TWINS for name in twin.policies} | EXCEPTION_TWINS
    assert {p.name for p in POLICIES} == {pair.policy for pair in PAIRS} | elsewhere


def test_every_policy_documents_itself():
    for policy in POLICIES:
        assert policy.description and policy.remediation_steps and policy.enforcement_level is not None, policy.name
        assert policy.severity is not None, policy.name


@pytest.mark.parametrize("readme", ["policies/README.md", "README.md"])
def test_the_readmes_list_every_policy_with_its_level(readme):
    from .conftest_policies import DEFAULT_PACK_DIR

    rows = {}
    for line in (DEFAULT_PACK_DIR.parent / readme).read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        # Policy rows: `name` | level | description (other tables in the project README have other second cells).
        if line.startswith("| `") and len(cells) >= 3 and cells[1] in ("mandatory", "advisory"):
            rows[cells[0].strip("`")] = cells[1]
    assert rows == {p.name: p.enforcement_level.value for p in POLICIES}


def test_violation_messages_name_the_resource_and_the_fix():
    subject, _ = r("aws:rds/instance:Instance", {"publiclyAccessible": True}, name="orders-db")
    reported: list[str] = []
    args = ResourceValidationArgs(subject.type, unknown_checking_proxy({"publiclyAccessible": True}), subject.urn,
                                  subject.name, _options(), None)
    POLICY_BY_NAME["data-stores-not-publicly-accessible"].validate(args, lambda message, urn=None: reported.append(message))
    assert len(reported) == 1
    assert 'aws:rds/instance:Instance "orders-db"' in reported[0]
    assert "Remediation: set publicly_accessible=False" in reported[0]


# --- unknown values -------------------------------------------------------------------------------------------------------


def test_unknown_policy_document_is_deferred_not_passed():
    subject, _ = r("aws:iam/rolePolicy:RolePolicy", {"policy": U})
    findings = check("iam-no-wildcard-actions", subject)
    assert findings.violations == [] and findings.deferred == ["policy"]


def test_unknown_password_is_still_a_violation():
    subject, _ = r("aws:rds/instance:Instance", {"password": U, "manageMasterUserPassword": True})
    assert check("rds-managed-master-password", subject).violations


def test_known_parts_are_checked_even_when_other_parts_are_unknown():
    subject, _ = r("aws:ec2/securityGroup:SecurityGroup", {"ingress": [
        {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": [U]},
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]})
    findings = check("security-groups-no-open-ingress", subject)
    assert findings.deferred and any("port 22" in v for v in findings.violations)


def test_unknown_resource_arn_inside_a_known_document_is_not_a_wildcard():
    subject, _ = r("aws:iam/policy:Policy", {"policy": doc(allow("sqs:SendMessage", U), as_text=False)})
    assert check("iam-resource-wildcard-scoped", subject).violations == []


def test_the_unknown_marker_refuses_to_be_a_boolean():
    with pytest.raises(TypeError):
        bool(core.UNKNOWN)


def test_deferred_resource_policy_raises_the_sdk_unknown_error_after_reporting():
    args = ResourceValidationArgs("aws:ec2/securityGroup:SecurityGroup", unknown_checking_proxy({"ingress": [
        {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": [U]},
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]}), "urn:x", "sg", _options(), None)
    reported: list[str] = []
    with pytest.raises(UnknownValueError):
        POLICY_BY_NAME["security-groups-no-open-ingress"].validate(args, lambda m, urn=None: reported.append(m))
    assert len(reported) == 1 and "port 22" in reported[0]


# --- documents in every shape ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", [
    doc(allow("*", "*")),
    doc(allow("*", "*"), as_text=False),
    json.dumps({"Statement": allow(["*"], ["*"])}),
    {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
], ids=["text", "object", "single-statement-text", "single-statement-object"])
def test_wildcard_action_found_in_every_document_shape(policy):
    subject, _ = r("aws:iam/policy:Policy", {"policy": policy})
    assert check("iam-no-wildcard-actions", subject).violations


@pytest.mark.parametrize("policy", ["{not json", json.dumps({"Statement": "nope"}), json.dumps([1, 2]),
                                    json.dumps({"Statement": [{"Effect": "Maybe", "Action": "s3:GetObject"}]})])
def test_malformed_documents_are_violations(policy):
    subject, _ = r("aws:iam/policy:Policy", {"policy": policy})
    assert any("malformed" in v for v in check("iam-no-wildcard-actions", subject).violations)


# --- the stack tier ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env, config, prod", [
    ({"PULUMI_STACK": "staging"}, {}, False),
    ({"PULUMI_STACK": "prod"}, {}, True),
    ({"PULUMI_STACK": "production"}, {}, True),
    ({"PULUMI_STACK": "prod-eu"}, {}, True),
    ({"PULUMI_STACK": "productivity"}, {}, False),
    # The stack's name alone decides: neither the policy config nor the stack's own config can change it.
    ({"PULUMI_STACK": "staging"}, {"environment": "prod"}, False),
    ({"PULUMI_STACK": "prod"}, {"environment": "staging"}, True),
    ({"PULUMI_STACK": "pr-42", "PULUMI_CONFIG": json.dumps({"platform:environment": "prod"})}, {}, False),
    ({"PULUMI_STACK": "prod", "PULUMI_CONFIG": json.dumps({"platform:environment": "staging"})}, {}, True),
    ({}, {}, True),  # no stack named: fail closed
    ({"PULUMI_CONFIG": json.dumps({"platform:environment": "staging"})}, {"environment": "staging"}, True),
])
def test_stack_tier(env, config, prod):
    assert core.Context(config=config, env=env).is_prod is prod


# --- odd input never raises ----------------------------------------------------------------------------------------------

KEYS = ["policy", "assumeRolePolicy", "inlinePolicies", "ingress", "cidrIpv4", "fromPort", "toPort", "protocol",
        "spec", "template", "containers", "securityContext", "env", "name", "value", "data", "stringData",
        "publiclyAccessible", "password", "manageMasterUserPassword", "rules", "verbs", "resources", "userData",
        "scalingConfig", "defaultTags", "metadata", "annotations", "Statement", "Effect", "Action", "Resource",
        "Principal", "Condition", "protocol", "defaultActions", "version", "capacityType", "storageEncrypted",
        "vpcConfig", "endpointPublicAccess", "publicAccessCidrs", "ingressClassName", "tls", "roleRef", "kind",
        "managedPolicyArns", "policyArn", "kubeconfig", "accessKey", "transitEncryptionMode", "engine",
        "validationMethod", "parameters", "subnetIds", "dbSubnetGroupName", "type", "image", "hostNetwork",
        "initContainers", "jobTemplate", "retentionInDays", "versioning", "encryptionConfig", "minReplicas",
        "maxReplicas", "minSize", "maxSize", "taints", "labels", "nodeGroupName", "acl", "grants"]
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
                   st.sampled_from(["*", "0.0.0.0/0", "::/0", "tcp", "-1", "Allow", "Deny", "true", "latest", U,
                                    "nginx", "{}", "[]", '{"Statement": {}}', "AKIAIOSFODNN7EXAMPLE"]),
                   st.text(max_size=12))
JSON = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
                    max_leaves=12)


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _sample_types(policy) -> list[str]:
    if policy.type_list:
        return list(policy.type_list)
    known = ["aws:rds/instance:Instance", "aws:iam/role:Role", "aws:iam/policy:Policy", DEPLOYMENT,
             "kubernetes:batch/v1:CronJob", "aws:ec2/securityGroup:SecurityGroup", "pulumi:providers:aws",
             "eks:index:Cluster", "eks:index:ManagedNodeGroup", "aws:lb/listener:Listener", "kubernetes:core/v1:Secret",
             "aws:s3/bucketPolicy:BucketPolicy", "aws:ec2/launchTemplate:LaunchTemplate", "aws:acm/certificate:Certificate",
             "kubernetes:networking.k8s.io/v1:Ingress", "kubernetes:rbac.authorization.k8s.io/v1:Role",
             "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "kubernetes:helm.sh/v3:Release",
             "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:cloudwatch/logGroup:LogGroup"]
    return [t for t in known if policy.applies(t)]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_odd_input_yields_a_violation_or_a_skip_never_an_exception(policy, data):
    types = _sample_types(policy)
    assert types, f"no sample type for {policy.name}"
    type_ = data.draw(st.sampled_from(types))
    props = data.draw(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5))
    reported: list[str] = []
    report = lambda message, urn=None: reported.append(message)  # noqa: E731
    try:
        if policy.kind == "stack":
            resources = [PolicyResource(type_, unknown_checking_proxy(props), "urn:a", "a", _options(), None, None, [], {}),
                         PolicyResource("aws:ec2/subnet:Subnet", unknown_checking_proxy({}), "urn:b", "b", _options(),
                                        None, None, [], {})]
            policy.validate(StackValidationArgs(resources, {"environment": "prod"}), report)
        else:
            policy.validate(ResourceValidationArgs(type_, unknown_checking_proxy(props), "urn:a", "a", _options(), None,
                                                   {"environment": "prod"}), report)
    except UnknownValueError:
        pass  # the SDK's way of deferring a check to `pulumi up`
    assert all(isinstance(m, str) and m for m in reported)
    # Odd input is reported as such (OddInput) or skipped; a crash inside a check would be a bug in the policy.
    crashes = [m for m in reported if "could not evaluate" in m]
    assert not crashes, crashes


