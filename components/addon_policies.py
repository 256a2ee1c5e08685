"""The IAM permissions of the platform add-ons, least privilege, and the one table of their exceptions.

Each builder returns the permission policy of one add-on's IRSA role, written from the add-on's published policy and
then narrowed: resources are this account and region (and this VPC, cluster or secrets path) rather than `*`, and
tag conditions name this cluster rather than "any cluster". Statements carry a `Sid` so that the exceptions below
can name them.

The rules, enforced by `tests/test_addons.py` on what the program declares:
  - no action contains a wildcard unless `WILDCARD_ACTIONS` lists it (add-on, action) with the reason;
  - a statement may use `"Resource": "*"` only if `UNSCOPED_STATEMENTS` lists it (add-on, Sid) with the reason;
  - an add-on with an AWS-managed policy instead of an inline one is listed in `MANAGED_POLICIES` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# (add-on, action) -> why the add-on's published policy needs an action wildcard. None does: every published policy
# of the add-ons installed here lists its actions one by one, and so do the builders below.
WILDCARD_ACTIONS: dict[tuple[str, str], str] = {}

# (add-on, statement Sid) -> why the statement cannot name its resources.
UNSCOPED_STATEMENTS: dict[tuple[str, str], str] = {
    ("aws-load-balancer-controller", "Discover"): (
        "EC2 and Elastic Load Balancing Describe* calls have no resource-level permissions"
    ),
    ("aws-load-balancer-controller", "SetWebAcl"): (
        "elasticloadbalancing:SetWebAcl has no resource-level permissions and no condition keys: AWS accepts it only "
        "on Resource \"*\""
    ),
    ("aws-load-balancer-controller", "DiscoverCertificates"): (
        "acm:ListCertificates has no resource-level permissions (certificate discovery by Ingress host name)"
    ),
    ("cluster-autoscaler", "Discover"): (
        "Auto Scaling and EC2 Describe* calls (and GetInstanceTypesFromInstanceRequirements) have no resource-level "
        "permissions"
    ),
}

# EKS add-on -> (AWS-managed policy name, why it is used instead of an inline document).
MANAGED_POLICIES: dict[str, tuple[str, str]] = {
    "vpc-cni": (
        "AmazonEKS_CNI_Policy",
        "AWS's published policy for the VPC CNI, kept in step with the add-on by AWS; moved from the node role to the "
        "aws-node service account so that no other pod on a node inherits ENI management",
    ),
    "aws-ebs-csi-driver": (
        "service-role/AmazonEBSCSIDriverPolicy",
        "AWS's published policy for the EBS CSI driver, kept in step with the add-on by AWS; it creates, attaches and "
        "deletes only volumes and snapshots tagged as the driver's",
    ),
}

LBC_TAG = "elbv2.k8s.aws/cluster"


def _statement(sid: str, actions: Sequence[str], resources: str | Sequence[str], condition: dict | None = None) -> dict:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def load_balancer_controller_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    cluster_name: str,
    vpc_id: str,
    target_security_group_ids: Sequence[str],
) -> dict:
    """AWS Load Balancer Controller: ALBs/NLBs, their target groups and security groups, for this cluster only.

    Narrowed from the controller's published policy: resources are this account and region, the ownership tag must
    name this cluster, and the optional integrations that the chart values switch off here (Shield Advanced, WAF
    Classic, Cognito authentication, Outposts customer-owned IP pools, IAM server certificates) are left out.

    Security groups: the published policy lets the controller add and remove ingress rules on any group
    (`Resource: "*"`), which here would include the database, cache and broker groups. It needs two things only:
      - to open the targets' groups to its load balancers. Targets are pods (target-type ip) whose only group is the
        EKS cluster security group (`target_security_group_ids`), so ingress changes are granted on those ARNs alone;
      - full management of the groups it creates itself (the load balancers' frontend groups and its shared backend
        group), which it tags `elbv2.k8s.aws/cluster: <cluster>` at creation: creation requires that tag naming this
        cluster, and ingress changes, re-tagging and deletion require the group to carry it
        (`aws:ResourceTag/elbv2.k8s.aws/cluster`).

    Load balancers, listeners, rules and target groups: every write needs the ownership tag naming this cluster, on
    the resource the call acts on (an existing one's `aws:ResourceTag`, a new one's `aws:RequestTag`), so in a shared
    account one stack's controller cannot change another stack's load balancers. The controller tags every listener
    and rule it creates with its stack tags (feature gate ListenerRulesTagging, on by default), and tags them in the
    create call itself, which `elasticloadbalancing:AddTags` allows only with `CreateAction` naming that call.

    WAF: `wafv2:AssociateWebACL` authorises two resources, the web ACL and the load balancer, and the only condition
    key AWS defines for it is the web ACL's `aws:ResourceTag`: the ownership tag would be looked up on the web ACL,
    not on the load balancer. `wafv2:DisassociateWebACL` acts on the load balancer and takes no condition key at all.
    So the WAF calls are narrowed by name: web ACLs named after the cluster (`<cluster>-*`: a web ACL an Ingress of
    this cluster attaches is named so) and the ALBs the controller names `k8s-...`.
    `elasticloadbalancing:SetWebAcl` exists only on `"*"` and gets its own statement.
    """
    if not target_security_group_ids or not all(
        isinstance(group, str) and group.startswith("sg-") and "*" not in group for group in target_security_group_ids
    ):
        raise ValueError(
            f"load balancer controller: target security groups must be security group IDs, got "
            f"{list(target_security_group_ids)!r}"
        )
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account_id}"
    ec2 = f"arn:{partition}:ec2:{region}:{account_id}"
    load_balancers = [f"{elb}:loadbalancer/app/*/*", f"{elb}:loadbalancer/net/*/*"]
    # The ALBs the controller creates: it names them "k8s-<group or namespace-name>-<hash>" unless an Ingress sets
    # alb.ingress.kubernetes.io/load-balancer-name, which the program's Ingresses do not.
    controller_albs = f"{elb}:loadbalancer/app/k8s-*/*"
    web_acls = f"arn:{partition}:wafv2:{region}:{account_id}:regional/webacl/{cluster_name}-*/*"
    target_groups = [f"{elb}:targetgroup/*/*"]
    listeners_only = [f"{elb}:listener/app/*/*/*", f"{elb}:listener/net/*/*/*"]
    listeners = [*listeners_only, f"{elb}:listener-rule/app/*/*/*", f"{elb}:listener-rule/net/*/*/*"]
    security_groups = f"{ec2}:security-group/*"
    target_security_groups = [f"{ec2}:security-group/{group}" for group in target_security_group_ids]
    vpc = f"{ec2}:vpc/{vpc_id}"
    owned = {"StringEquals": {f"aws:ResourceTag/{LBC_TAG}": cluster_name}}
    retag_owned = {**owned, "Null": {f"aws:RequestTag/{LBC_TAG}": "true"}}
    tagging_at_creation = {f"aws:RequestTag/{LBC_TAG}": cluster_name}
    return _document(
        _statement(
            "ElbServiceLinkedRole",
            ["iam:CreateServiceLinkedRole"],
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
            "AWSServiceRoleForElasticLoadBalancing",
            {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        ),
        _statement(
            "Discover",
            [
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInstances",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeIpamPools",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeTags",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeVpcs",
                "elasticloadbalancing:DescribeCapacityReservation",
                "elasticloadbalancing:DescribeListenerAttributes",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeTags",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTrustStores",
            ],
            "*",
        ),
        # GetSecurityGroupsForVpc takes the VPC as its resource: this VPC only.
        _statement("DiscoverSecurityGroupsOfThisVpc", ["ec2:GetSecurityGroupsForVpc"], vpc),
        _statement("DiscoverCertificates", ["acm:ListCertificates"], "*"),
        _statement(
            "ReadCertificates", ["acm:DescribeCertificate"], f"arn:{partition}:acm:{region}:{account_id}:certificate/*"
        ),
        # By name on both resources these calls act on: the cluster's web ACLs and the controller's ALBs.
        _statement("ReadWebAcls", ["wafv2:GetWebACL"], web_acls),
        _statement(
            "WebAclsOfControllerLoadBalancers",
            ["wafv2:AssociateWebACL", "wafv2:GetWebACLForResource"],
            [web_acls, controller_albs],
        ),
        _statement("DetachWebAclsFromControllerLoadBalancers", ["wafv2:DisassociateWebACL"], controller_albs),
        _statement("SetWebAcl", ["elasticloadbalancing:SetWebAcl"], "*"),
        # Opening the targets' security groups to the load balancers: only the cluster security group, the one group
        # of every node and pod. No other group of the VPC (data stores, endpoints) is named.
        _statement(
            "TargetSecurityGroupRules",
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            target_security_groups,
            {"ArnEquals": {"ec2:Vpc": vpc}},
        ),
        # Its own groups: created in this VPC only with the ownership tag naming this cluster (the security-group
        # resource of the call carries the tag condition; the VPC resource of the same call names this VPC)...
        _statement(
            "CreateOwnSecurityGroups",
            ["ec2:CreateSecurityGroup"],
            security_groups,
            {"StringEquals": tagging_at_creation},
        ),
        _statement("CreateSecurityGroupsInThisVpc", ["ec2:CreateSecurityGroup"], vpc),
        _statement(
            "TagNewSecurityGroups",
            ["ec2:CreateTags"],
            security_groups,
            {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup", **tagging_at_creation}},
        ),
        # ... and managed only while they carry it.
        _statement(
            "RetagOwnSecurityGroups",
            ["ec2:CreateTags", "ec2:DeleteTags"],
            security_groups,
            retag_owned,
        ),
        _statement(
            "ManageOwnSecurityGroups",
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress"],
            security_groups,
            owned,
        ),
        _statement(
            "CreateLoadBalancers",
            ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            [*load_balancers, *target_groups],
            {"StringEquals": tagging_at_creation},
        ),
        _statement(
            "TagAtCreation",
            ["elasticloadbalancing:AddTags"],
            [*load_balancers, *target_groups, *listeners],
            {
                "StringEquals": {
                    "elasticloadbalancing:CreateAction": [
                        "CreateListener",
                        "CreateLoadBalancer",
                        "CreateRule",
                        "CreateTargetGroup",
                    ],
                    **tagging_at_creation,
                }
            },
        ),
        _statement(
            "RetagOwnLoadBalancers",
            ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
            [*load_balancers, *target_groups, *listeners],
            retag_owned,
        ),
        _statement(
            "ModifyOwnLoadBalancers",
            [
                "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:DeleteTargetGroup",
                "elasticloadbalancing:ModifyCapacityReservation",
                "elasticloadbalancing:ModifyIpPools",
                "elasticloadbalancing:ModifyListenerAttributes",
                "elasticloadbalancing:ModifyLoadBalancerAttributes",
                "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes",
                "elasticloadbalancing:SetIpAddressType",
                "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets",
            ],
            [*load_balancers, *target_groups, *listeners_only],
            owned,
        ),
        _statement(
            "ListenersAndRules",
            [
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:DeleteRule",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:SetRulePriorities",
            ],
            [*load_balancers, *listeners],
            owned,
        ),
        _statement(
            "Targets",
            ["elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets"],
            target_groups,
            owned,
        ),
    )


def cluster_autoscaler_policy(*, partition: str, region: str, account_id: str, cluster_name: str) -> dict:
    """cluster-autoscaler: read every Auto Scaling group, resize only this cluster's managed node groups.

    EKS tags the Auto Scaling group of every managed node group `k8s.io/cluster-autoscaler/<cluster>: owned`; the
    write actions are conditioned on that tag, so the autoscaler cannot touch another cluster's or anyone's groups.
    """
    return _document(
        _statement(
            "Discover",
            [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            "*",
        ),
        # Labels and taints of a managed node group scaled to zero come from the EKS API.
        _statement(
            "DescribeOwnNodeGroups",
            ["eks:DescribeNodegroup"],
            f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*",
        ),
        _statement(
            "ResizeOwnNodeGroups",
            ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*",
            {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}},
        ),
    )


def secrets_reader_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    secrets_prefix: str,
    extra_secret_arns: Sequence[str] = (),
    kms_key_arns: Sequence[str] = (),
) -> dict:
    """External Secrets' store: read the secrets under this platform's path (and the ARNs passed explicitly).

    Read-only and by name: no `secretsmanager:ListSecrets` (it cannot be scoped), so a store can fetch a secret it is
    told about but cannot enumerate the account. KMS decryption is allowed only on the keys given, and only when
    Secrets Manager asks on the store's behalf.
    """
    secrets = [f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{secrets_prefix}*", *extra_secret_arns]
    statements = [
        _statement(
            "ReadPlatformSecrets",
            ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds"],
            secrets,
        )
    ]
    if kms_key_arns:
        statements.append(
            _statement(
                "DecryptThroughSecretsManager",
                ["kms:Decrypt"],
                list(kms_key_arns),
                {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            )
        )
    return _document(*statements)
