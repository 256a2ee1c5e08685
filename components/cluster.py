"""The EKS cluster: a private control plane, two managed node groups, the EKS add-ons and the in-cluster provider.

The control plane and the nodes live in the network's private tier. Authentication is API mode only: access entries
for the admin and read-only roles, no aws-auth ConfigMap. Secrets are envelope-encrypted with a customer-managed
KMS key (rotation on); the api, audit and authenticator logs go to a log group created first with a retention period.
The API endpoint is always reachable privately; publicly only when the stack allows it, and then only from listed
CIDRs. There is no default node group: two EKS managed node groups (`aws.eks.NodeGroup`; `_node_group` says why
not pulumi-eks's), a small on-demand `system` group, tainted `CriticalAddonsOnly` for the platform add-ons, and a
`workload` group (spot or on-demand per stack), both behind a launch template that requires IMDSv2. vpc-cni,
kube-proxy, coredns and aws-ebs-csi-driver are EKS add-ons at pinned versions, the CNI and the EBS driver each with
its own IRSA role. One `kubernetes.Provider`, built from the cluster's kubeconfig, is exposed for
every in-cluster resource; the first of them is the default StorageClass: encrypted gp3 through the EBS CSI driver.

Inputs (`ClusterArgs`): name, Kubernetes version, EKS add-on versions, VPC and private subnet IDs, endpoint access
(public CIDRs, networks allowed to the private endpoint), log retention, admin and read-only role ARNs, the two node
groups (`NodeGroupArgs`), upgrade support, deletion protection.
Outputs: `cluster_name` (carrying the dependency on the control plane), `kubeconfig` (secret), `oidc`
(`OidcProvider`, for `components.irsa`), `oidc_provider_arn`, `cluster_security_group_id` (the EKS-created group of
the control plane and of every node: data stores admit it), `node_role_arn`, `k8s_provider`, `storage_class_name`,
`secrets_key_arn`, `ready` (what in-cluster installs wait for).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as kubernetes

from .addon_policies import MANAGED_POLICIES
from .irsa import IrsaArgs, IrsaRole, OidcProvider
from .kms import EncryptionKey, KeyArgs

CapacityType = Literal["ON_DEMAND", "SPOT"]
SupportType = Literal["STANDARD", "EXTENDED"]

LOG_TYPES = ("api", "audit", "authenticator")
NODE_GROUPS = ("system", "workload")
# Every node carries its group's name under this label; platform add-ons select `system`.
NODE_GROUP_LABEL = "platform.io/node-group"
# The taint that keeps the system group for platform add-ons (the key coredns and the EBS driver already tolerate).
CRITICAL_ADDONS_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}
SYSTEM_TOLERATIONS = ({"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"},)
SYSTEM_NODE_SELECTOR = {NODE_GROUP_LABEL: "system"}
# IMDSv2 with a hop limit of 1: the token's PUT response dies at the first hop, so a pod on the pod network cannot
# reach the instance metadata service and borrow the node role; host-network pods (aws-node, kube-proxy) still can.
# Every add-on that calls AWS uses IRSA and is given its region (and VPC) explicitly, so none needs IMDS; the EBS CSI
# node plugin reads its instance metadata from the Kubernetes API instead. A hop limit of 2 would hand the node role
# to every pod in the cluster.
IMDS_HOP_LIMIT = 1
ADMIN_ACCESS_POLICY = "AmazonEKSClusterAdminPolicy"
READ_ONLY_ACCESS_POLICY = "AmazonEKSViewPolicy"  # reads everything but Secrets
# The node role: join the cluster and pull images. ENI management is not here: the VPC CNI has its own IRSA role.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
STORAGE_CLASS = "gp3"


@dataclass(frozen=True)
class NodeGroupArgs:
    """One managed node group. Defaults: a small on-demand group."""

    instance_types: tuple[str, ...] = ("m7i.large",)
    capacity_type: CapacityType = "ON_DEMAND"
    min_size: int = 2
    max_size: int = 3
    desired_size: int = 2
    disk_size_gib: int = 50
    ami_type: str = "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class EksAddonVersions:
    """Pinned EKS add-on builds (`aws eks describe-addon-versions`); no defaults: each belongs to one minor."""

    vpc_cni: str
    coredns: str
    kube_proxy: str
    ebs_csi_driver: str


@dataclass(frozen=True)
class ClusterArgs:
    kubernetes_version: str
    addon_versions: EksAddonVersions
    # Also the name the network tagged the subnets with (`kubernetes.io/cluster/<name>`).
    name: str = "platform"
    # Filled by the program from the network component: the VPC and its private-tier subnets.
    vpc_id: pulumi.Input[str] | None = None
    subnet_ids: tuple[pulumi.Input[str], ...] = ()
    # Endpoint: private access is always on. Public access only if asked, and only from these CIDRs.
    public_access: bool = False
    public_access_cidrs: tuple[str, ...] = ()
    # The operators' private networks (VPN, CI runners; RFC 1918 only) that may reach the private endpoint on 443.
    # The rule is on the cluster security group, which every node also carries: see the rule below.
    private_access_cidrs: tuple[str, ...] = ()
    log_retention_days: int = 365
    admin_role_arns: tuple[str, ...] = ()
    read_only_role_arns: tuple[str, ...] = ()
    system_nodes: NodeGroupArgs = field(default_factory=NodeGroupArgs)
    workload_nodes: NodeGroupArgs = field(default_factory=NodeGroupArgs)
    support_type: SupportType = "STANDARD"
    # Cluster deletion protection, Pulumi `protect` on the cluster and its key, and PersistentVolumes retained.
    deletion_protection: bool = True


def _assume_role_policy(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc: OidcProvider
    oidc_provider_arn: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    k8s_provider: kubernetes.Provider
    storage_class_name: str
    secrets_key_arn: pulumi.Output[str]
    # What in-cluster installs wait for: CoreDNS, the EBS CSI driver and both node groups.
    ready: list[pulumi.Resource]
    # The managed node groups by role ("system", "workload"): off-hours schedules act on their autoscaling groups.
    node_groups: dict[str, aws.eks.NodeGroup]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:eks:Cluster", name, None, opts)
        if not args.vpc_id or not args.subnet_ids:
            raise ValueError("cluster: vpc_id and the private subnet_ids are required")
        if args.public_access and not args.public_access_cidrs:
            raise ValueError("cluster: a public endpoint must be limited to listed CIDRs")
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
        managed = lambda policy: f"arn:{partition}:iam::aws:policy/{policy}"  # noqa: E731

        key = EncryptionKey(
            f"{name}-secrets",
            KeyArgs(
                description=f"EKS {args.name}: envelope encryption of Kubernetes Secrets",
                alias=f"alias/{args.name}/eks-secrets",
                protect=args.deletion_protection,
            ),
            opts=child,
        )
        # EKS writes control-plane logs to exactly this group; creating it first is how the retention is set (EKS
        # would create it without one, keeping logs forever).
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{args.name}/cluster",
            retention_in_days=args.log_retention_days,
            opts=child,
        )

        access_entries = {}
        for kind, arns, policy in (
            ("admin", args.admin_role_arns, ADMIN_ACCESS_POLICY),
            ("read-only", args.read_only_role_arns, READ_ONLY_ACCESS_POLICY),
        ):
            for index, principal in enumerate(arns):
                access_entries[f"{kind}-{index}"] = eks.AccessEntryArgs(
                    principal_arn=principal,
                    type=eks.AccessEntryType.STANDARD,
                    access_policies={
                        policy: eks.AccessPolicyAssociationArgs(
                            policy_arn=f"arn:{partition}:eks::aws:cluster-access-policy/{policy}",
                            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                        )
                    },
                )

        cluster = eks.Cluster(
            name,
            name=args.name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            # Only the private tier: the control plane's ENIs and the nodes go there. Public load balancers find the
            # public subnets by their `kubernetes.io/role/elb` tag.
            private_subnet_ids=list(args.subnet_ids),
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries,
            create_oidc_provider=True,
            # EKS uses the key through a grant that cluster creation makes for pulumi-eks's service role (the
            # deployer needs kms:CreateGrant and kms:DescribeKey on it, which the key policy delegates to IAM).
            encryption_config_key_arn=key.arn,
            enabled_cluster_log_types=list(LOG_TYPES),
            endpoint_private_access=True,
            endpoint_public_access=args.public_access,
            public_access_cidrs=list(args.public_access_cidrs) if args.public_access else None,
            skip_default_node_group=True,
            # Managed node groups use the EKS-created cluster security group; pulumi-eks's extra groups are for
            # self-managed nodes, so there is exactly one group to admit (see `cluster_security_group_id`).
            skip_default_security_groups=True,
            # Nothing is installed behind our back: the CNI, kube-proxy and CoreDNS come from the EKS add-ons below,
            # at pinned versions, the CNI with its own IRSA role.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.support_type),
            deletion_protection=args.deletion_protection,
            tags={"Name": args.name},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[log_group],
                protect=args.deletion_protection,
            ),
        )

        # The name is ours (the subnets are tagged with it), but whoever uses it must wait for the control plane:
        # taken from an output that exists only once the cluster does, it carries that dependency.
        self.cluster_name = cluster.cluster_security_group_id.apply(lambda _: args.name)
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc = OidcProvider(arn=cluster.oidc_provider_arn, issuer=cluster.oidc_issuer)
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        self.secrets_key_arn = key.arn

        # These rules land on the cluster security group, and that group is also the only security group of every
        # managed node (none of its own is created), hence of every pod's VPC CNI address: a CIDR admitted here reaches
        # not only the Kubernetes API but any pod or host port listening on 443 on any node. That is why
        # `privateAccessCidrs` must name the operators' own private networks only (VPN, CI runners): the config
        # refuses anything outside RFC 1918 (`infra.config.cluster`); never a public or "whatever routes here" range.
        for index, cidr in enumerate(args.private_access_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-private-endpoint-{index}",
                security_group_id=cluster.cluster_security_group_id,
                description="Kubernetes API (private endpoint) from an operator private network (RFC 1918)",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                opts=child,
            )

        def eks_addon(
            addon: str, version: str, depends_on: list, role: IrsaRole | None = None, config: dict | None = None
        ) -> aws.eks.Addon:
            return aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=self.cluster_name,
                addon_name=addon,
                addon_version=version,
                service_account_role_arn=role.role_arn if role else None,
                configuration_values=json.dumps(config) if config else None,
                # The add-on's settings are this program's: drift is overwritten, not preserved.
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )

        def addon_role(addon: str, namespace: str, service_account: str) -> IrsaRole:
            policy_name, _reason = MANAGED_POLICIES[addon]
            return IrsaRole(
                f"{name}-{addon}",
                IrsaArgs(
                    oidc=self.oidc,
                    namespace=namespace,
                    service_account=service_account,
                    managed_policy_arns=(managed(policy_name),),
                    description=f"EKS add-on {addon} of {args.name}",
                ),
                opts=child,
            )

        # Networking first: nodes become Ready only once the CNI runs on them.
        cni_role = addon_role("vpc-cni", "kube-system", "aws-node")
        # NetworkPolicy objects are enforced (by the CNI's network policy agent), so workloads can rely on them.
        vpc_cni = eks_addon("vpc-cni", args.addon_versions.vpc_cni, [], cni_role, {"enableNetworkPolicy": "true"})
        kube_proxy = eks_addon("kube-proxy", args.addon_versions.kube_proxy, [])

        node_role = aws.iam.Role(
            f"{name}-node-role",
            description=f"EKS managed nodes of {args.name}",
            assume_role_policy=_assume_role_policy("ec2.amazonaws.com"),
            opts=child,
        )
        node_policies = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=node_role.name, policy_arn=managed(policy), opts=child
            )
            for policy in NODE_POLICIES
        ]
        self.node_role_arn = node_role.arn

        node_groups = []
        for group, spec in (("system", args.system_nodes), ("workload", args.workload_nodes)):
            node_groups.append(
                self._node_group(name, args, group, spec, node_role, [vpc_cni, kube_proxy, *node_policies])
            )
        self.node_groups = dict(zip(("system", "workload"), node_groups))

        # These run as pods, so they need nodes to become ACTIVE.
        coredns = eks_addon("coredns", args.addon_versions.coredns, node_groups)
        ebs_role = addon_role("aws-ebs-csi-driver", "kube-system", "ebs-csi-controller-sa")
        ebs_csi = eks_addon("aws-ebs-csi-driver", args.addon_versions.ebs_csi_driver, node_groups, ebs_role)
        self.ready = [coredns, ebs_csi, *node_groups]

        self.k8s_provider = kubernetes.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=child,
        )
        self.storage_class_name = STORAGE_CLASS
        kubernetes.storage.v1.StorageClass(
            f"{name}-{STORAGE_CLASS}",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS,
                # Clusters from 1.30 on have no default class (EKS no longer marks gp2): this is the only default.
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            # The cluster tag marks every volume this class provisions as the cluster's: the cleanup job finds
            # unattached ones by it, and its delete permission is conditioned on it.
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "fsType": "ext4",
                "tagSpecification_1": f"kubernetes.io/cluster/{args.name}=owned",
            },
            reclaim_policy="Retain" if args.deletion_protection else "Delete",
            # Volumes are created in the zone of the pod that claims them, not in a random one.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_provider, depends_on=[ebs_csi]),
        )

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "oidcProviderArn": self.oidc_provider_arn,
                "clusterSecurityGroupId": self.cluster_security_group_id,
            }
        )

    def _node_group(
        self,
        name: str,
        args: ClusterArgs,
        group: str,
        spec: NodeGroupArgs,
        node_role: aws.iam.Role,
        depends_on: list,
    ) -> aws.eks.NodeGroup:
        child = pulumi.ResourceOptions(parent=self)
        # Managed node groups as `aws.eks.NodeGroup`, not pulumi-eks's `ManagedNodeGroup`, because the latter cannot
        # express what is needed here: its `enable_imd_sv2` fixes the IMDS hop limit at 2 (see IMDS_HOP_LIMIT), so a
        # launch template of our own is needed anyway, and with one it adds nothing; it has no `update_config` (how
        # many nodes a rolling update may take down) and no node auto-repair. The template sets no security groups,
        # so EKS attaches the cluster security group, and no network interfaces: the private subnets never map
        # public IPs, so nodes get none.
        template = aws.ec2.LaunchTemplate(
            f"{name}-{group}",
            description=f"EKS {args.name} {group} nodes: IMDSv2 only, encrypted gp3 root volume",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",  # the AL2023 root volume
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=spec.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={"Name": f"{args.name}-{group}", NODE_GROUP_LABEL: group}
                )
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            opts=child,
        )
        taints = None
        if group == "system":
            key, value = CRITICAL_ADDONS_TAINT["key"], CRITICAL_ADDONS_TAINT["value"]
            taints = [aws.eks.NodeGroupTaintArgs(key=key, value=value, effect="NO_SCHEDULE")]
        return aws.eks.NodeGroup(
            f"{name}-{group}",
            cluster_name=self.cluster_name,
            node_group_name_prefix=f"{args.name}-{group}-",
            node_role_arn=node_role.arn,
            subnet_ids=list(args.subnet_ids),
            # With a launch template of our own nothing defaults these: state them.
            version=args.kubernetes_version,
            ami_type=spec.ami_type,
            instance_types=list(spec.instance_types),
            capacity_type=spec.capacity_type,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=spec.min_size, max_size=spec.max_size, desired_size=spec.desired_size
            ),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            # Rolling replacement (AMI or template changes) takes a third of the group at a time.
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=33),
            # EKS replaces nodes that stay NotReady or report kubelet/container runtime failures.
            node_repair_config=aws.eks.NodeGroupNodeRepairConfigArgs(enabled=True),
            labels={NODE_GROUP_LABEL: group},
            taints=taints,
            tags={"Name": f"{args.name}-{group}"},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=depends_on,
                # cluster-autoscaler owns the desired size between min and max; Pulumi must not reset it.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
