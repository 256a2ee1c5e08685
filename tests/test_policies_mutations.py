"""Mutation tests: the real program changed into each forbidden form, and the pack blocking it.

Every mutation runs the real program through the offline engine with one change, then the pack over gRPC:
- a stack-config change (`config_change`), the way an operator would edit Pulumi.<stack>.yaml;
- a component-args change (`cfg_change`), the way a code change would bypass config validation;
- a `Forbid` transformation, which rewrites the inputs of a resource the components declare (starting from its
  captured wire-form inputs), the way a careless edit of a component would;
- for the few patterns the program has no resource of the kind to mutate (an IAM user, an RBAC role, a literal
  Secret), an `extra` declaration inside the real program.
Each test also checks that the unmutated stack is clean for that policy, so the finding comes from the mutation.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from infra.offline.policy_report import DEFAULT_PACK_DIR, load_pack_config

from .conftest_policies import POLICY_BY_NAME, Forbid, pack_pool, plan_for, run_program  # noqa: F401 (fixture)


def captured(stack: str, type_: str, name: str | None = None) -> dict[str, Any]:
    """The wire-form inputs the unmutated program declares for a resource (a deep copy to change)."""
    plan = plan_for(stack)
    found = [r for r in plan.of_type(type_) if name is None or r.name == name]
    assert found, f"the {stack} program declares no {type_} {name or ''}"
    return copy.deepcopy(found[0].props)


def policy_doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def first_container_change(stack: str, change: Callable[[dict, dict], None]) -> Callable[[dict], None]:
    """Rewrite a Deployment's spec from its captured form, changing its pod spec and first container."""
    def apply(props: dict) -> None:
        spec = captured(stack, "kubernetes:apps/v1:Deployment")["spec"]
        pod = spec["template"]["spec"]
        change(pod, pod["containers"][0])
        props["spec"] = spec
    return apply


class CaptureResource:
    """A transformation that remembers a resource as it is declared, for another mutation to point at."""

    def __init__(self, type_: str, name: str):
        self.type, self.name, self.resource = type_, name, None

    def __call__(self, args):
        if args.type_ == self.type and args.name == self.name:
            self.resource = args.resource
        return None


def data_tier_routed_to_the_internet() -> list:
    public_table = CaptureResource("aws:ec2/routeTable:RouteTable", "network-public-rt")

    def reroute(props: dict) -> None:
        assert public_table.resource is not None, "the public route table is declared before the data associations"
        props["route_table_id"] = public_table.resource.id

    return [public_table, Forbid("aws:ec2/routeTableAssociation:RouteTableAssociation", reroute,
                                 where=lambda a: a.name.startswith("network-data-"), count=3)]


def irsa_role(args) -> bool:
    from components.irsa import IrsaRole

    return isinstance(args.opts.parent, IrsaRole)


def wildcard_irsa_trust(props: dict) -> None:
    issuer = "oidc.eks.ap-northeast-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    props["assume_role_policy"] = policy_doc({
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{issuer}"},
        "Condition": {"StringLike": {f"{issuer}:sub": "system:serviceaccount:*:*"},
                      "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"}}})


def declare_iam_user_with_key(cfg) -> None:
    import pulumi_aws as aws

    user = aws.iam.User("ci-deployer")
    aws.iam.AccessKey("ci-deployer", user=user.name, opts=pulumi.ResourceOptions(parent=user))


def declare_github_role_for_any_ref(cfg) -> None:
    """A CI role built with the bootstrap's own trust helper, but trusting every ref of the repository."""
    import json

    import pulumi_aws as aws

    from components.ci_identity import trust_policy

    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    aws.iam.Role("ci-any-ref", assume_role_policy=json.dumps(trust_policy(provider, "repo:example-org/platform:*")))


def declare_wildcard_cluster_role(cfg) -> None:
    import pulumi_kubernetes as k8s

    k8s.rbac.v1.ClusterRole("ops-everything", rules=[{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])


def declare_literal_secret(cfg) -> None:
    import pulumi_kubernetes as k8s

    k8s.core.v1.Secret("backend-db", metadata={"namespace": "backend"}, string_data={"DB_PASSWORD": "hunter2-in-git"})


ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def role_policy_change(name: str, change: Callable[[list[dict]], None]) -> Callable[[], list]:
    """Rewrite one IAM role policy of the real program from its captured document, changing its statements."""
    def transforms() -> list:
        def apply(props: dict) -> None:
            document = json.loads(captured(S, ROLE_POLICY, name)["policy"])
            change(document["Statement"])
            props["policy"] = json.dumps(document)
        return [Forbid(ROLE_POLICY, apply, where=lambda a: a.name == name)]
    return transforms


LBC = "addons-aws-load-balancer-controller-policy"


def statement(statements: list[dict], sid: str) -> dict:
    found = [s for s in statements if s.get("Sid") == sid]
    assert found, f"no statement {sid}"
    return found[0]


def set_web_acl_back_on_listeners(statements: list[dict]) -> None:
    statements.remove(statement(statements, "SetWebAcl"))
    statement(statements, "ListenersAndRules")["Action"].append("elasticloadbalancing:SetWebAcl")


def endpoint_open_to_everyone(props: dict) -> None:
    document = json.loads(captured(S, "aws:ec2/vpcEndpoint:VpcEndpoint")["policy"])
    for item in document["Statement"]:
        item.pop("Condition", None)
    props["policy"] = json.dumps(document)


def escalation_split_over_two_policies() -> list:
    """The autoscaler's role gets iam:PassRole on "*" in its policy and ec2:RunInstances in a second RolePolicy."""
    role = CaptureResource("aws:iam/role:Role", "addons-cluster-autoscaler-role")
    passes = role_policy_change("addons-cluster-autoscaler-policy", lambda st: st.append(
        {"Sid": "PassAnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}))()

    def second_policy(props: dict) -> None:
        assert role.resource is not None, "the role is declared before its policies"
        import pulumi_aws as aws

        aws.iam.RolePolicy("autoscaler-launch", role=role.resource.id, policy=policy_doc(
            {"Sid": "Launch", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}))

    return [role, *passes, Forbid("aws:iam/rolePolicy:RolePolicy", second_policy,
                                  where=lambda a: a.name == "addons-cluster-autoscaler-policy")]


def prod_database_made_disposable(cfg):
    database = dataclasses.replace(cfg.database, deletion_protection=False, skip_final_snapshot=True, protect=False,
                                   backup_retention_days=3)
    return dataclasses.replace(cfg, database=database)


PSS_POLICIES = {name for name in POLICY_BY_NAME if name.startswith("pss-")}


def break_every_pss_control(pod: dict, container: dict) -> None:
    """One pod spec that each Pod Security Standards control forbids, in its own field."""
    pod["hostNetwork"] = True
    pod["securityContext"] = {**pod["securityContext"], "runAsUser": 0, "runAsNonRoot": False,
                              "seccompProfile": {"type": "Unconfined"}, "windowsOptions": {"hostProcess": True},
                              "seLinuxOptions": {"user": "system_u"}, "appArmorProfile": {"type": "Unconfined"},
                              "sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}
    pod["volumes"] = [*pod["volumes"], {"name": "node", "hostPath": {"path": "/"}}]
    container["securityContext"] = {**container["securityContext"], "privileged": True, "allowPrivilegeEscalation": True,
                                    "capabilities": {"add": ["SYS_ADMIN"]}, "procMount": "Unmasked"}
    container["ports"] = [{**container["ports"][0], "hostPort": 8080}]
    container["readinessProbe"] = {**container["readinessProbe"],
                                   "httpGet": {**container["readinessProbe"]["httpGet"], "host": "10.0.0.1"}}


@dataclass
class Mutation:
    id: str
    policy: str
    blamed: str  # the resource type the violation must name
    stack: str = "staging"
    level: str = "mandatory"
    transforms: Callable[[], list] = list
    config_change: Callable[[dict], None] | None = None
    cfg_change: Callable[[Any], Any] | None = None
    extra: Callable[[Any], None] | None = None
    expect: str = ""
    also: tuple[str, ...] = field(default_factory=tuple)  # other policies the same mutation must trip


S, P = "staging", "prod"
MUTATIONS = [
    # 1. hardcoded secrets
    Mutation("rds-literal-password", "rds-managed-master-password", "aws:rds/instance:Instance",
             transforms=lambda: [Forbid("aws:rds/instance:Instance", lambda p: p.update(
                 password=pulumi.Output.secret("hunter2-from-code"), manage_master_user_password=None))],
             expect="sets `password`"),
    Mutation("literal-kubernetes-secret", "no-literal-kubernetes-secrets", "kubernetes:core/v1:Secret",
             extra=declare_literal_secret, expect="literal `stringData`"),
    Mutation("secret-in-configmap", "no-literal-kubernetes-secrets", "kubernetes:core/v1:ConfigMap",
             transforms=lambda: [Forbid("kubernetes:core/v1:ConfigMap", lambda p: p.update(
                 data={**captured(S, "kubernetes:core/v1:ConfigMap", "service-backend-config")["data"],
                       "REDIS_AUTH_TOKEN": "0123456789abcdef0123"}),
                 where=lambda a: a.name == "service-backend-config")],
             expect="REDIS_AUTH_TOKEN"),
    Mutation("secret-in-container-env", "no-secret-literals-in-container-env", "kubernetes:apps/v1:Deployment",
             transforms=lambda: [Forbid("kubernetes:apps/v1:Deployment", first_container_change(
                 S, lambda pod, c: c.setdefault("env", []).append({"name": "DB_PASSWORD", "value": "hunter2hunter2"})))],
             expect="DB_PASSWORD"),
    Mutation("credential-in-node-user-data", "no-secrets-in-user-data", "aws:ec2/launchTemplate:LaunchTemplate",
             transforms=lambda: [Forbid("aws:ec2/launchTemplate:LaunchTemplate", lambda p: p.update(
                 user_data=base64.b64encode(b"#!/bin/bash\nexport GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n").decode()))],
             expect="GITHUB_TOKEN"),
    Mutation("provider-with-static-keys", "no-static-provider-credentials", "pulumi:providers:aws",
             transforms=lambda: [Forbid("pulumi:providers:aws", lambda p: p.update(
                 access_key="AKIAIOSFODNN7EXAMPLE", secret_key=pulumi.Output.secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")))],
             expect="static credentials"),
    Mutation("imported-certificate", "no-imported-certificate-keys", "aws:acm/certificate:Certificate",
             transforms=lambda: [Forbid("aws:acm/certificate:Certificate", lambda p: p.update(
                 private_key=pulumi.Output.secret("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"),
                 certificate_body="-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----"))],
             expect="private key", also=("certificates-auto-renew",)),
    # 2. public exposure
    Mutation("public-database", "data-stores-not-publicly-accessible", "aws:rds/instance:Instance",
             transforms=lambda: [Forbid("aws:rds/instance:Instance", lambda p: p.update(publicly_accessible=True))],
             expect="publicly accessible"),
    Mutation("public-broker", "data-stores-not-publicly-accessible", "aws:mq/broker:Broker",
             transforms=lambda: [Forbid("aws:mq/broker:Broker", lambda p: p.update(publicly_accessible=True))],
             expect="publicly accessible"),
    Mutation("data-tier-routed-to-igw", "data-stores-in-isolated-subnets", "aws:rds/instance:Instance",
             transforms=data_tier_routed_to_the_internet, expect="internet gateway"),
    Mutation("database-port-open-to-world", "security-groups-no-open-ingress",
             "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
             transforms=lambda: [Forbid("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", lambda p: p.update(
                 cidr_ipv4="0.0.0.0/0", referenced_security_group_id=None), where=lambda a: a.props.get("from_port") == 5432)],
             expect="port 5432"),
    Mutation("bucket-public-policy-allowed", "s3-public-access-blocked", "aws:s3/bucket:Bucket",
             transforms=lambda: [Forbid("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                                        lambda p: p.update(block_public_policy=False))],
             expect="blockPublicPolicy"),
    Mutation("bucket-policy-grants-everyone", "no-public-grants", "aws:s3/bucketPolicy:BucketPolicy",
             transforms=lambda: [Forbid("aws:s3/bucketPolicy:BucketPolicy", lambda p: p.update(policy=policy_doc(
                 {"Sid": "PublicRead", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
                  "Resource": "arn:aws:s3:::platform-staging-uploads/*"})))],
             expect="to everyone"),
    Mutation("eks-api-open-to-world", "eks-endpoint-restricted", "eks:index:Cluster",
             transforms=lambda: [Forbid("eks:index:Cluster", lambda p: p.update(
                 endpoint_public_access=True, public_access_cidrs=["0.0.0.0/0"]))],
             expect="open to 0.0.0.0/0"),
    Mutation("prod-eks-api-public", "eks-endpoint-restricted", "eks:index:Cluster", stack=P,
             cfg_change=lambda cfg: dataclasses.replace(cfg, cluster=dataclasses.replace(
                 cfg.cluster, public_access=True, public_access_cidrs=("203.0.113.0/24",))),
             expect="public API endpoint in prod"),
    # 3. root
    Mutation("container-as-root", "k8s-containers-non-root", "kubernetes:apps/v1:Deployment",
             transforms=lambda: [Forbid("kubernetes:apps/v1:Deployment", first_container_change(
                 S, lambda pod, c: c["securityContext"].update(runAsUser=0, runAsNonRoot=False)))],
             expect="UID 0"),
    Mutation("privileged-container", "k8s-containers-non-root", "kubernetes:apps/v1:Deployment",
             transforms=lambda: [Forbid("kubernetes:apps/v1:Deployment", first_container_change(
                 S, lambda pod, c: c["securityContext"].update(privileged=True, allowPrivilegeEscalation=True)))],
             expect="privileged"),
    Mutation("host-network", "k8s-no-host-namespaces", "kubernetes:apps/v1:Deployment",
             transforms=lambda: [Forbid("kubernetes:apps/v1:Deployment", first_container_change(
                 S, lambda pod, c: pod.update(hostNetwork=True, hostPID=True)))],
             expect="hostNetwork"),
    Mutation("iam-user-with-access-key", "no-iam-users-or-access-keys", "aws:iam/accessKey:AccessKey",
             extra=declare_iam_user_with_key, expect="long-lived IAM access key"),
    # 4. permissions
    Mutation("wildcard-action", "iam-no-wildcard-actions", "aws:iam/rolePolicy:RolePolicy",
             transforms=lambda: [Forbid("aws:iam/rolePolicy:RolePolicy", lambda p: p.update(policy=policy_doc(
                 {"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:ap-northeast-2:123456789012:log-group:/vpc/*"})))],
             expect="`logs:*`"),
    Mutation("allow-not-action", "iam-no-allow-not-action", "aws:iam/rolePolicy:RolePolicy",
             transforms=lambda: [Forbid("aws:iam/rolePolicy:RolePolicy", lambda p: p.update(policy=policy_doc(
                 {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})))],
             expect="NotAction"),
    Mutation("resource-wildcard", "iam-resource-wildcard-scoped", "aws:iam/rolePolicy:RolePolicy",
             transforms=lambda: [Forbid("aws:iam/rolePolicy:RolePolicy", lambda p: p.update(policy=policy_doc(
                 {"Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": "*"})))],
             expect="logs:PutLogEvents"),
    Mutation("administrator-access", "iam-no-admin-policy-attachments", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
             transforms=lambda: [Forbid("aws:iam/rolePolicyAttachment:RolePolicyAttachment", lambda p: p.update(
                 policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"))],
             expect="AdministratorAccess"),
    Mutation("anyone-may-assume", "iam-trust-not-public", "aws:iam/role:Role",
             transforms=lambda: [Forbid("aws:iam/role:Role", lambda p: p.update(assume_role_policy=policy_doc(
                 {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})))],
             expect="lets anyone"),
    Mutation("github-role-for-any-ref", "iam-github-oidc-trust-pinned", "aws:iam/role:Role",
             extra=declare_github_role_for_any_ref, expect="not one repository environment"),
    Mutation("irsa-any-service-account", "iam-irsa-trust-pinned", "aws:iam/role:Role",
             transforms=lambda: [Forbid("aws:iam/role:Role", wildcard_irsa_trust, where=irsa_role)],
             expect="StringLike"),
    # 4. permissions, held against AWS's IAM definitions: the defects the load balancer controller's policy had, and
    # the classic mistakes, put back into the real program's documents
    Mutation("set-web-acl-on-arns", "iam-resources-match-actions", ROLE_POLICY,
             transforms=role_policy_change(LBC, set_web_acl_back_on_listeners), expect='supports only Resource "*"'),
    Mutation("security-groups-for-vpc-on-star", "iam-resource-wildcard-scoped", ROLE_POLICY,
             transforms=role_policy_change(LBC, lambda st: statement(st, "Discover")["Action"].append(
                 "ec2:GetSecurityGroupsForVpc")),
             expect="ec2:GetSecurityGroupsForVpc"),
    Mutation("targets-without-cluster-tag", "iam-write-narrowed", ROLE_POLICY,
             transforms=role_policy_change(LBC, lambda st: statement(st, "Targets").pop("Condition")),
             expect="every targetgroup"),
    Mutation("listeners-without-cluster-tag", "iam-write-narrowed", ROLE_POLICY,
             transforms=role_policy_change(LBC, lambda st: statement(st, "ListenersAndRules").pop("Condition")),
             expect="every listener"),
    Mutation("disassociate-web-acl-with-tag-condition", "iam-condition-keys-apply", ROLE_POLICY,
             transforms=role_policy_change(LBC, lambda st: statement(st, "DetachWebAclsFromControllerLoadBalancers").update(
                 Condition={"StringEquals": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "platform-staging"}})),
             expect="wafv2:DisassociateWebACL"),
    Mutation("misspelt-action", "iam-actions-exist", ROLE_POLICY,
             transforms=role_policy_change("addons-external-secrets-policy", lambda st: st[0].update(
                 Action=["secretsmanager:GetSecretValues"])),
             expect="did you mean `secretsmanager:GetSecretValue`"),
    Mutation("pass-role-and-run-instances", "iam-no-privilege-escalation", ROLE_POLICY,
             transforms=role_policy_change("addons-cluster-autoscaler-policy", lambda st: st.append(
                 {"Sid": "LaunchAnything", "Effect": "Allow", "Action": ["ec2:RunInstances", "iam:PassRole"],
                  "Resource": "*"})),
             expect="CreateEC2WithExistingIP"),
    Mutation("escalation-split-over-two-policies", "iam-role-no-privilege-escalation", "aws:iam/role:Role",
             transforms=escalation_split_over_two_policies, expect="CreateEC2WithExistingIP"),
    Mutation("assume-any-role", "iam-no-credentials-exposure", ROLE_POLICY,
             transforms=role_policy_change("service-backend-policy", lambda st: st.append(
                 {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})),
             expect="sts:assumerole"),
    Mutation("read-every-secret", "iam-no-data-exfiltration", ROLE_POLICY,
             transforms=role_policy_change("addons-external-secrets-policy", lambda st: st[0].update(Resource="*")),
             expect="secretsmanager:getsecretvalue"),
    Mutation("vpc-endpoint-open-to-everyone", "no-public-grants", "aws:ec2/vpcEndpoint:VpcEndpoint",
             transforms=lambda: [Forbid("aws:ec2/vpcEndpoint:VpcEndpoint", endpoint_open_to_everyone)],
             expect="to everyone"),
    Mutation("rbac-wildcards", "k8s-rbac-no-wildcards", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
             extra=declare_wildcard_cluster_role, expect="wildcard in verbs"),
    # 5. encryption and TLS
    Mutation("unencrypted-database", "data-stores-encrypted-at-rest", "aws:rds/instance:Instance",
             transforms=lambda: [Forbid("aws:rds/instance:Instance", lambda p: p.update(storage_encrypted=False, kms_key_id=None))],
             expect="not encrypted"),
    Mutation("unencrypted-queue", "data-stores-encrypted-at-rest", "aws:sqs/queue:Queue",
             transforms=lambda: [Forbid("aws:sqs/queue:Queue", lambda p: p.update(
                 kms_master_key_id=None, sqs_managed_sse_enabled=False))],
             expect="server-side encryption"),
    Mutation("cache-tls-preferred", "data-stores-encrypted-in-transit", "aws:elasticache/replicationGroup:ReplicationGroup",
             transforms=lambda: [Forbid("aws:elasticache/replicationGroup:ReplicationGroup", lambda p: p.update(
                 transit_encryption_mode="preferred"))],
             expect="preferred"),
    Mutation("database-tls-optional", "data-stores-enforce-tls", "aws:rds/instance:Instance",
             transforms=lambda: [Forbid("aws:rds/parameterGroup:ParameterGroup", lambda p: p.update(parameters=[
                 {"name": n["name"], "value": n["value"], "apply_method": n.get("applyMethod", "pending-reboot")}
                 for n in captured(S, "aws:rds/parameterGroup:ParameterGroup")["parameters"] if n["name"] != "rds.force_ssl"]))],
             expect="rds.force_ssl"),
    Mutation("bucket-allows-plain-http", "s3-bucket-policies-deny-plain-http", "aws:s3/bucketPolicy:BucketPolicy",
             also=("data-stores-enforce-tls",),
             transforms=lambda: [Forbid("aws:s3/bucketPolicy:BucketPolicy", lambda p: p.update(policy=policy_doc(
                 {"Sid": "OnlyAnAllow", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                  "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"})))],
             expect="does not deny requests without TLS"),
    Mutation("bucket-sse-s3", "s3-buckets-encrypted-with-kms", "aws:s3/bucket:Bucket",
             transforms=lambda: [Forbid(
                 "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                 lambda p: p.update(rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]),
                 where=lambda a: "uploads" in a.name)],
             expect="AES256"),
    Mutation("ingress-serves-plain-http", "load-balancers-https-only", "kubernetes:networking.k8s.io/v1:Ingress",
             transforms=lambda: [Forbid("kubernetes:networking.k8s.io/v1:Ingress", lambda p: p.update(metadata={
                 **captured(S, "kubernetes:networking.k8s.io/v1:Ingress")["metadata"],
                 "annotations": {k: v for k, v in captured(S, "kubernetes:networking.k8s.io/v1:Ingress")["metadata"]["annotations"].items()
                                 if k != "alb.ingress.kubernetes.io/ssl-redirect"}}))],
             expect="without redirecting"),
    Mutation("email-validated-certificate", "certificates-auto-renew", "aws:acm/certificate:Certificate",
             transforms=lambda: [Forbid("aws:acm/certificate:Certificate", lambda p: p.update(validation_method="EMAIL"))],
             expect="EMAIL"),
    # 6. nothing lost in prod
    Mutation("prod-database-disposable", "prod-stateful-resources-protected", "aws:rds/instance:Instance", stack=P,
             cfg_change=prod_database_made_disposable, expect="protect",
             also=("prod-deletion-protection", "prod-final-snapshots", "prod-backups-retained")),
    Mutation("prod-cache-unprotected", "prod-stateful-resources-protected",
             "aws:elasticache/replicationGroup:ReplicationGroup", stack=P,
             transforms=lambda: [Forbid("aws:elasticache/replicationGroup:ReplicationGroup", lambda p: None,
                                        opts=pulumi.ResourceOptions(protect=False))],
             expect="protect"),
    Mutation("prod-cache-without-final-snapshot", "prod-final-snapshots",
             "aws:elasticache/replicationGroup:ReplicationGroup", stack=P,
             transforms=lambda: [Forbid("aws:elasticache/replicationGroup:ReplicationGroup", lambda p: p.update(
                 final_snapshot_identifier=None, snapshot_retention_limit=0))],
             expect="finalSnapshotIdentifier", also=("prod-backups-retained",)),
    Mutation("prod-bucket-force-destroy", "prod-deletion-protection", "aws:s3/bucket:Bucket", stack=P,
             transforms=lambda: [Forbid("aws:s3/bucket:Bucket", lambda p: p.update(force_destroy=True))],
             expect="forceDestroy"),
    Mutation("prod-bucket-unversioned", "prod-buckets-versioned", "aws:s3/bucket:Bucket", stack=P,
             transforms=lambda: [Forbid("aws:s3/bucketVersioning:BucketVersioning", lambda p: p.update(
                 versioning_configuration={"status": "Suspended"}))],
             expect="not versioned"),
    # 7. Pod Security Standards: one Deployment breaking every control at once (the twins in
    # test_policies_pod_security.py take them one at a time)
    Mutation("pod-breaks-every-pss-control", "pss-privileged", "kubernetes:apps/v1:Deployment",
             transforms=lambda: [Forbid("kubernetes:apps/v1:Deployment", first_container_change(S, break_every_pss_control))],
             expect="[Privileged Containers] spec.template.spec.containers[0].securityContext.privileged",
             also=tuple(sorted(PSS_POLICIES - {"pss-privileged"}))),
    # 8. namespaces
    Mutation("namespace-admits-privileged-pods", "namespace-pod-security-restricted", "kubernetes:core/v1:Namespace",
             transforms=lambda: [Forbid("kubernetes:core/v1:Namespace", lambda p: p.update(metadata={
                 **captured(S, "kubernetes:core/v1:Namespace", "service-frontend-namespace")["metadata"],
                 "labels": {"app.kubernetes.io/name": "frontend", "pod-security.kubernetes.io/enforce": "privileged"}}),
                 where=lambda a: a.name == "service-frontend-namespace")],
             expect="is 'privileged'"),
    # 9. prod resilience (code changes: the stack's config parser already refuses these values in prod)
    Mutation("prod-one-nat-gateway", "prod-nat-gateway-per-az", "aws:ec2/routeTable:RouteTable", stack=P,
             cfg_change=lambda cfg: dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, nat_mode="single")),
             expect="one zone's outage cuts this zone off the internet"),
    Mutation("prod-single-az-database", "prod-database-multi-az", "aws:rds/instance:Instance", stack=P,
             cfg_change=lambda cfg: dataclasses.replace(cfg, database=dataclasses.replace(cfg.database, multi_az=False)),
             expect="not Multi-AZ"),
    Mutation("prod-one-node-cache", "prod-cache-failover", "aws:elasticache/replicationGroup:ReplicationGroup", stack=P,
             cfg_change=lambda cfg: dataclasses.replace(cfg, cache=dataclasses.replace(cfg.cache, nodes=1, multi_az=False)),
             expect="has 1 node(s)"),
    Mutation("prod-single-instance-broker", "prod-broker-multi-az", "aws:mq/broker:Broker", stack=P,
             cfg_change=lambda cfg: dataclasses.replace(cfg, messaging=dataclasses.replace(
                 cfg.messaging, broker=dataclasses.replace(cfg.messaging.broker, deployment_mode="SINGLE_INSTANCE"))),
             expect="runs SINGLE_INSTANCE"),
    Mutation("prod-spot-workload-nodes", "prod-nodes-on-demand", "aws:eks/nodeGroup:NodeGroup", stack=P,
             cfg_change=lambda cfg: dataclasses.replace(cfg, cluster=dataclasses.replace(
                 cfg.cluster, workload_nodes=dataclasses.replace(cfg.cluster.workload_nodes, capacity_type="SPOT"))),
             expect="runs on SPOT capacity"),
    Mutation("prod-node-group-in-one-zone", "prod-node-groups-span-three-azs", "aws:eks/nodeGroup:NodeGroup", stack=P,
             transforms=lambda: [Forbid("aws:eks/nodeGroup:NodeGroup", lambda p: p.update(subnet_ids=p["subnet_ids"][:1]))],
             expect="spans 1 zone(s)"),
    Mutation("prod-one-replica", "prod-workloads-replicated", "kubernetes:apps/v1:Deployment", stack=P,
             transforms=lambda: [
                 Forbid("kubernetes:apps/v1:Deployment", lambda p: p.update(spec={**p["spec"], "replicas": 1}), count=2),
                 Forbid("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
                        lambda p: p.update(spec={**p["spec"], "minReplicas": 1}), count=2)],
             expect="runs 1 replica(s)"),
    Mutation("prod-no-disruption-budget", "prod-workloads-replicated", "kubernetes:apps/v1:Deployment", stack=P,
             transforms=lambda: [Forbid("kubernetes:policy/v1:PodDisruptionBudget", lambda p: p.update(
                 spec={**p["spec"], "selector": {"matchLabels": {"app.kubernetes.io/name": "nothing"}}}), count=2)],
             expect="has no PodDisruptionBudget"),
    # advisory hygiene: reported, not blocking (the unit pairs cover the other advisories)
    Mutation("staging-workloads-on-demand", "staging-workload-nodes-use-spot", "NodeGroup",
             level="advisory",
             config_change=lambda c: c["platform:cluster"]["nodeGroups"]["workload"].update(capacityType="ON_DEMAND"),
             expect="ON_DEMAND"),
    Mutation("log-group-kept-forever", "log-retention", "aws:cloudwatch/logGroup:LogGroup", level="advisory",
             transforms=lambda: [Forbid("aws:cloudwatch/logGroup:LogGroup", lambda p: p.update(retention_in_days=None))],
             expect="forever"),
    Mutation("untagged-provider", "required-tags", "pulumi:providers:aws", level="advisory",
             transforms=lambda: [Forbid("pulumi:providers:aws", lambda p: p.update(
                 default_tags={"tags": {"project": "platform", "environment": "staging"}}))],
             expect="`owner`"),
    Mutation("unpinned-chart", "versions-pinned", "kubernetes:helm.sh/v3:Release", level="advisory",
             transforms=lambda: [Forbid("kubernetes:helm.sh/v3:Release", lambda p: p.update(version=None))],
             expect="does not pin"),
]


_BASELINES: dict[str, Any] = {}


def only(mutation: Mutation) -> dict[str, Any]:
    """The stack's pack config with every policy but the mutation's switched off (at their own levels): the whole pack
    already runs over both stacks in test_policies_stacks.py, and one policy at a time keeps this module fast."""
    config: dict[str, Any] = {"all": "disabled", **load_pack_config(DEFAULT_PACK_DIR, mutation.stack)}
    for name in (mutation.policy, *mutation.also):
        settings = config.get(name, {})
        config[name] = {**settings, "enforcementLevel": POLICY_BY_NAME[name].enforcement_level.value}
    return config


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_the_pack_blocks_the_mutated_program(pack_pool, mutation: Mutation):
    if mutation.stack not in _BASELINES:
        _BASELINES[mutation.stack] = pack_pool.evaluate(plan_for(mutation.stack))
    baseline = _BASELINES[mutation.stack]
    assert not baseline.of(mutation.policy), f"the unmutated {mutation.stack} stack already fails {mutation.policy}"

    plan, config = run_program(mutation.stack, transforms=mutation.transforms(), config_change=mutation.config_change,
                               cfg_change=mutation.cfg_change, extra=mutation.extra)
    report = pack_pool.evaluate(plan, stack_config=config, pack_config=only(mutation))
    found = [v for v in report.of(mutation.policy) if mutation.blamed in v.resource]
    assert found, f"{mutation.policy} did not flag the mutation:\n{report.render()}"
    assert all(v.level == mutation.level for v in found)
    assert any(mutation.expect in v.message for v in found), [v.message for v in found]
    for other in mutation.also:
        assert report.of(other), f"{other} did not flag the mutation:\n{report.render()}"
    if mutation.level == "mandatory":
        assert not report.passed  # `make preview` and CI exit non-zero on it
    else:
        assert report.mandatory_count == 0  # advisories never block


def test_every_mandatory_policy_is_shown_blocking_a_mutation():
    from .conftest_policies import POLICIES

    mandatory = {p.name for p in POLICIES if p.enforcement_level.value == "mandatory"}
    assert mandatory <= {m.policy for m in MUTATIONS} | {name for m in MUTATIONS for name in m.also}
