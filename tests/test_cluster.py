"""The EKS cluster, asserted on what both real stacks declare: the pulumi-eks component's inputs (it is opaque under
mocks), the node groups and their launch templates, the EKS add-ons, the one kubernetes provider, the default
StorageClass, and the data stores' security groups admitting the cluster's group only."""

from __future__ import annotations

import json

import pytest

from components.addon_policies import MANAGED_POLICIES
from components.cluster import IMDS_HOP_LIMIT, LOG_TYPES
from infra.offline import engine

from .conftest import plan_for

CLUSTER = "eks:index:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KMS_KEY = "aws:kms/key:Key"
SUBNET = "aws:ec2/subnet:Subnet"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
K8S_PROVIDER = "pulumi:providers:kubernetes"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def cluster_config(stack: str) -> dict:
    return engine.stack_config(stack)["platform:cluster"]


def the_cluster(plan: engine.Plan) -> engine.CapturedResource:
    return plan.one(CLUSTER)


def private_subnet_urns(plan: engine.Plan) -> set[str]:
    return {s.urn for s in plan.of_type(SUBNET) if s.props["tags"].get("tier") == "private"}


def node_group(plan: engine.Plan, group: str) -> engine.CapturedResource:
    found = [n for n in plan.of_type(NODE_GROUP) if n.props["labels"].get("platform.io/node-group") == group]
    assert len(found) == 1, f"one {group} node group, got {[n.name for n in found]}"
    return found[0]


# -- control plane ---------------------------------------------------------------------------------------------------
def test_control_plane_is_private_and_named_like_the_subnet_tags(plan, stack):
    cluster = the_cluster(plan).props
    assert cluster["name"] == f"platform-{stack}" == plan.outputs["clusterName"]
    for subnet in plan.of_type(SUBNET):
        if subnet.props["tags"].get("tier") in ("public", "private"):
            assert f"kubernetes.io/cluster/{cluster['name']}" in subnet.props["tags"]
    assert cluster["version"] == cluster_config(stack)["kubernetesVersion"]
    # Control-plane ENIs and nodes go to the private tier only.
    assert set(the_cluster(plan).property_dependencies["privateSubnetIds"]) == private_subnet_urns(plan)
    assert "publicSubnetIds" not in cluster and "subnetIds" not in cluster
    assert cluster["skipDefaultNodeGroup"] is True
    assert cluster["bootstrapSelfManagedAddons"] is False


def test_endpoint_private_in_prod_and_cidr_limited_in_staging(plan, stack):
    cluster = the_cluster(plan).props
    assert cluster["endpointPrivateAccess"] is True
    if stack == "prod":
        assert cluster["endpointPublicAccess"] is False
        assert not cluster.get("publicAccessCidrs")
    else:
        assert cluster["endpointPublicAccess"] is True
        cidrs = cluster["publicAccessCidrs"]
        assert cidrs and cidrs == cluster_config(stack)["endpoint"]["publicAccessCidrs"]
        assert "0.0.0.0/0" not in cidrs


def test_api_authentication_with_access_entries_and_no_aws_auth(plan, stack):
    cluster = the_cluster(plan).props
    access = cluster_config(stack)["access"]
    assert cluster["authenticationMode"] == "API"
    assert "roleMappings" not in cluster and "userMappings" not in cluster and "instanceRoles" not in cluster
    entries = cluster["accessEntries"].values()
    by_principal = {e["principalArn"]: e for e in entries}
    assert set(by_principal) == set(access["admins"]) | set(access.get("readOnly", []))
    for principal, entry in by_principal.items():
        (policy,) = entry["accessPolicies"].values()
        expected = "AmazonEKSClusterAdminPolicy" if principal in access["admins"] else "AmazonEKSViewPolicy"
        assert policy["policyArn"] == f"arn:aws:eks::aws:cluster-access-policy/{expected}"
        assert policy["accessScope"] == {"type": "cluster"}
        assert entry["type"] == "STANDARD"
    assert not [r for r in plan.of_type("kubernetes:core/v1:ConfigMap") if r.props["metadata"].get("name") == "aws-auth"]


def test_secrets_encrypted_with_a_rotating_customer_key(plan):
    cluster = the_cluster(plan)
    (key,) = plan.depends_on(cluster, "encryptionConfigKeyArn")
    assert key.type == KMS_KEY
    assert key.props["enableKeyRotation"] is True
    assert key.props["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert cluster.props["createOidcProvider"] is True


def test_control_plane_logs_kept_for_the_configured_period(plan, stack):
    cluster = the_cluster(plan)
    assert cluster.props["enabledClusterLogTypes"] == list(LOG_TYPES) == ["api", "audit", "authenticator"]
    (group,) = [g for g in plan.of_type(LOG_GROUP) if g.props["name"] == f"/aws/eks/{cluster.props['name']}/cluster"]
    assert group.props["retentionInDays"] == cluster_config(stack)["logRetentionDays"]
    # Created before the cluster, or EKS would create it without a retention.
    assert group.urn in cluster.dependencies


def test_deletion_protection_in_prod(plan, stack):
    cluster = the_cluster(plan)
    assert cluster.props["deletionProtection"] is (stack == "prod")
    assert cluster.protect is (stack == "prod")
    assert cluster.props["upgradePolicy"] == {"supportType": "STANDARD"}


# -- node groups -----------------------------------------------------------------------------------------------------
def test_two_node_groups_sized_from_config(plan, stack):
    config = cluster_config(stack)["nodeGroups"]
    assert len(plan.of_type(NODE_GROUP)) == 2
    for group in ("system", "workload"):
        ng = node_group(plan, group)
        wanted = config[group]
        assert ng.props["scalingConfig"] == {
            "minSize": wanted["minSize"], "maxSize": wanted["maxSize"], "desiredSize": wanted["desiredSize"]
        }
        assert ng.props["instanceTypes"] == wanted["instanceTypes"]
        # The autoscaler owns the desired size; Pulumi keeps min and max.
        assert ng.options["ignoreChanges"] == ["scalingConfig.desiredSize"]
        assert ng.props["version"] == cluster_config(stack)["kubernetesVersion"]
        assert ng.props["nodeRepairConfig"] == {"enabled": True}
        assert [r.type for r in plan.depends_on(ng, "clusterName")] == [CLUSTER]


def test_spot_workload_nodes_in_staging_on_demand_in_prod(plan, stack):
    workload = node_group(plan, "workload").props
    if stack == "staging":
        assert workload["capacityType"] == "SPOT"
        assert len(set(workload["instanceTypes"])) >= 3, "spot capacity is spread over several instance types"
    else:
        assert workload["capacityType"] == "ON_DEMAND"
    assert node_group(plan, "system").props["capacityType"] == "ON_DEMAND"


def test_system_nodes_are_tainted_for_platform_add_ons(plan):
    assert node_group(plan, "system").props["taints"] == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert not node_group(plan, "workload").props.get("taints")


def test_nodes_in_private_subnets_without_public_ips(plan):
    private = private_subnet_urns(plan)
    for ng in plan.of_type(NODE_GROUP):
        assert set(ng.property_dependencies["subnetIds"]) == private
        for subnet in plan.depends_on(ng, "subnetIds"):
            assert subnet.props["mapPublicIpOnLaunch"] is False


def test_launch_templates_require_imdsv2_and_encrypt_the_root_volume(plan):
    for ng in plan.of_type(NODE_GROUP):
        templates = [r for r in plan.depends_on(ng, "launchTemplate") if r.type == LAUNCH_TEMPLATE]
        assert len(templates) == 1, ng.name
        template = templates[0].props
        assert template["metadataOptions"]["httpTokens"] == "required"
        assert template["metadataOptions"]["httpEndpoint"] == "enabled"
        assert template["metadataOptions"]["httpPutResponseHopLimit"] == IMDS_HOP_LIMIT == 1
        (volume,) = template["blockDeviceMappings"]
        assert volume["ebs"]["encrypted"] == "true" and volume["ebs"]["volumeType"] == "gp3"
        # No interfaces or groups of its own: EKS attaches the cluster security group, subnets give no public IP.
        assert not template.get("networkInterfaces") and not template.get("vpcSecurityGroupIds")


def test_node_role_cannot_manage_enis(plan):
    (node_role,) = [r for r in plan.of_type(ROLE) if "ec2.amazonaws.com" in r.props["assumeRolePolicy"]]
    for ng in plan.of_type(NODE_GROUP):
        assert plan.depends_on(ng, "nodeRoleArn") == [node_role]
    attached = {
        a.props["policyArn"].rsplit("/", 1)[1]
        for a in plan.of_type(ATTACHMENT)
        if node_role.urn in a.property_dependencies.get("role", ())
    }
    assert attached == {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"}


# -- EKS add-ons -----------------------------------------------------------------------------------------------------
def test_eks_addons_pinned_from_config(plan, stack):
    # The cluster's own add-ons; Container Insights' is the monitoring component's (tests/test_cluster_monitoring.py).
    addons = {a.props["addonName"]: a for a in plan.of_type(ADDON) if a.props["addonName"] != "amazon-cloudwatch-observability"}
    assert addons.keys() == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    for name, addon in addons.items():
        assert addon.props["addonVersion"] == cluster_config(stack)["addons"][name]
        assert [r.type for r in plan.depends_on(addon, "clusterName")] == [CLUSTER]


def test_cni_and_ebs_driver_have_their_own_roles(plan):
    addons = {a.props["addonName"]: a for a in plan.of_type(ADDON)}
    expected = {"vpc-cni": "kube-system:aws-node", "aws-ebs-csi-driver": "kube-system:ebs-csi-controller-sa"}
    issuer = plan.outputs["oidcProviderArn"].split("oidc-provider/", 1)[1]
    for name, subject in expected.items():
        (role,) = plan.depends_on(addons[name], "serviceAccountRoleArn")
        assert role.type == ROLE
        trust = json.loads(role.props["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
        assert trust[f"{issuer}:sub"] == f"system:serviceaccount:{subject}"
        policies = [a.props["policyArn"] for a in plan.of_type(ATTACHMENT) if role.urn in a.property_dependencies.get("role", ())]
        assert policies == [f"arn:aws:iam::aws:policy/{MANAGED_POLICIES[name][0]}"]
    for name in ("coredns", "kube-proxy"):
        assert not addons[name].props.get("serviceAccountRoleArn")


def test_networking_before_nodes_and_pods_after(plan):
    addons = {a.props["addonName"]: a for a in plan.of_type(ADDON)}
    for ng in plan.of_type(NODE_GROUP):
        assert addons["vpc-cni"].urn in ng.dependencies and addons["kube-proxy"].urn in ng.dependencies
        assert ng.urn in addons["coredns"].dependencies and ng.urn in addons["aws-ebs-csi-driver"].dependencies


# -- in-cluster ------------------------------------------------------------------------------------------------------
def test_one_kubernetes_provider_from_the_cluster_kubeconfig(plan):
    (provider,) = plan.of_type(K8S_PROVIDER)
    assert engine.is_secret(provider.inputs["kubeconfig"])
    assert [r.type for r in plan.depends_on(provider, "kubeconfig")] == [CLUSTER]
    kubeconfig = json.loads(provider.props["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://")
    in_cluster = [r for r in plan if r.type.startswith("kubernetes:") and r.custom]
    assert in_cluster, "the plan declares in-cluster resources"
    for resource in in_cluster:
        assert resource.provider_urn == provider.urn, f"{resource.name} must use the cluster's provider"


def test_default_storage_class_is_encrypted_gp3(plan):
    classes = plan.of_type(STORAGE_CLASS)
    defaults = [c for c in classes if c.props["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert len(defaults) == 1
    gp3 = defaults[0].props
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    assert gp3["parameters"]["type"] == "gp3" and gp3["parameters"]["encrypted"] == "true"
    assert gp3["volumeBindingMode"] == "WaitForFirstConsumer"
    assert gp3["reclaimPolicy"] == ("Retain" if plan.stack == "prod" else "Delete")


def test_cluster_outputs_are_exported(plan):
    assert plan.outputs["clusterName"] == the_cluster(plan).props["name"]
    assert plan.outputs["oidcProviderArn"].startswith("arn:aws:iam::")
    assert json.loads(plan.outputs["kubeconfig"])["kind"] == "Config"


# -- data stores -----------------------------------------------------------------------------------------------------
DATA_STORES = {
    "aws:rds/instance:Instance": "vpcSecurityGroupIds",
    "aws:elasticache/replicationGroup:ReplicationGroup": "securityGroupIds",
    "aws:mq/broker:Broker": "securityGroups",
}


@pytest.mark.parametrize("preview", [False, True])
def test_data_stores_admit_only_the_cluster_security_group(stack, preview):
    plan = plan_for(stack, preview)
    checked = 0
    for type_, prop in DATA_STORES.items():
        for store in plan.of_type(type_):
            groups = [g for g in plan.depends_on(store, prop) if g.type == SECURITY_GROUP]
            assert groups, f"{store.name} has its own security group"
            for group in groups:
                rules = [r for r in plan.of_type(INGRESS_RULE) if group.urn in r.property_dependencies.get("securityGroupId", ())]
                assert rules, f"{group.name} admits its clients"
                for rule in rules:
                    assert "cidrIpv4" not in rule.props and "cidrIpv6" not in rule.props, rule.name
                    assert [r.type for r in plan.depends_on(rule, "referencedSecurityGroupId")] == [CLUSTER]
                    if not preview:
                        assert rule.props["referencedSecurityGroupId"] == plan.outputs["clusterSecurityGroupId"]
                    checked += 1
    assert checked >= 2
