"""The platform program: validate the stack config, then wire the components together and export outputs.

Config is read and validated first, so a bad stack file stops the program before any resource is declared. Every
AWS resource goes through one explicit provider carrying the default tags, so tags are consistent everywhere.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pulumi_aws as aws

from components.addons import PlatformAddons
from components.certificate import PublicCertificate
from components.cluster import Cluster
from components.cluster_monitoring import ClusterMonitoring, WatchedService
from components.network import Network

from .config import StackConfig, load_stack_config, runtime_config
from .cost_controls import build_cost_controls
from .data_stores import build_data_stores
from .registry import build_registry
from .workloads import build_workloads


def aws_provider(cfg: StackConfig) -> aws.Provider:
    return aws.Provider(
        "aws",
        region=cfg.region,
        allowed_account_ids=list(cfg.allowed_account_ids) or None,
        default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.default_tags),
    )


def build(cfg: StackConfig) -> None:
    provider = aws_provider(cfg)
    aws_opts = pulumi.ResourceOptions(providers={"aws": provider})

    network = Network("network", cfg.network, aws_opts)

    # -- EKS cluster: control plane and nodes in the private tier.
    cluster = Cluster(
        "cluster",
        replace(cfg.cluster, vpc_id=network.vpc_id, subnet_ids=tuple(network.private_subnet_ids)),
        aws_opts,
    )
    # -- the catalogue's in-account images: their ECR repositories, pulled by the nodes, pushed by CI.
    build_registry(cfg, cluster, aws_opts)
    certificate = PublicCertificate("tls", cfg.certificate, aws_opts)
    # -- data stores and messaging: their only clients are the cluster's security group, which the control
    # plane and every managed node carry (the nodes have no other group), so no CIDR is admitted.
    data = build_data_stores(cfg, network, aws_opts, client_security_group_ids=[cluster.cluster_security_group_id])
    # -- platform add-ons: in the cluster through its one kubernetes provider; External Secrets may read
    # the stack's secrets path and the RDS-managed master secret, decrypting with the secrets key.
    addons = PlatformAddons(
        "addons",
        replace(
            cfg.addons,
            cluster_name=cluster.cluster_name,
            region=cfg.region,
            vpc_id=network.vpc_id,
            # The load balancer controller may open only this existing group (the nodes' and pods' one) to its load
            # balancers; the data stores' groups are out of its reach.
            cluster_security_group_id=cluster.cluster_security_group_id,
            oidc=cluster.oidc,
            secrets_prefix=cfg.secrets_prefix,
            extra_secret_arns=(data.database.master_secret_arn,),
            secret_kms_key_arns=(data.secrets_key.arn,),
            wait_for=tuple(cluster.ready),
        ),
        pulumi.ResourceOptions(providers={"aws": provider, "kubernetes": cluster.k8s_provider}),
    )
    # -- cost controls: off-hours scaling, the cleanup job and the budget, reporting to the alerts topic.
    build_cost_controls(cfg, cluster, data.alarms, aws_opts)
    # -- workloads: each catalogued service with its IRSA role, in the cluster, after the add-ons.
    build_workloads(
        cfg, network=network, cluster=cluster, certificate=certificate, data=data, addons=addons, aws_provider=provider
    )
    # -- monitoring: Container Insights, the cluster's and services' alarms to the alerts topic, the dashboard.
    services = cfg.catalogue.services
    monitoring = ClusterMonitoring(
        "monitoring",
        replace(
            cfg.monitoring,
            cluster_name=cluster.cluster_name,
            oidc=cluster.oidc,
            alerts_topic_arn=data.alarms.topic_arn,
            services=tuple(WatchedService(s.name, s.namespace, s.autoscaling.min_replicas, s.public) for s in services),
            watch_load_balancers=cfg.monitoring.watch_load_balancers and any(s.public for s in services),
            wait_for=tuple(cluster.ready),
        ),
        aws_opts,
    )

    pulumi.export("environment", cfg.environment)
    pulumi.export("region", cfg.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("vpcCidr", network.vpc_cidr)
    pulumi.export("availabilityZones", network.availability_zones)
    pulumi.export("subnetIds", network.subnet_ids_by_az)
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("kubeconfig", cluster.kubeconfig)  # secret: `pulumi stack output kubeconfig --show-secrets`
    pulumi.export("oidcProviderArn", cluster.oidc_provider_arn)
    pulumi.export("clusterSecurityGroupId", cluster.cluster_security_group_id)
    pulumi.export("certificateArn", certificate.certificate_arn)
    pulumi.export("secretStore", addons.secret_store_name)
    pulumi.export("dashboardName", monitoring.dashboard_name)


def main() -> None:
    cfg = load_stack_config(pulumi.get_stack(), runtime_config(), project=pulumi.get_project())
    build(cfg)
