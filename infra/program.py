"""The platform program: validate the stack config, then wire the components together and export outputs.

Config is read and validated first, so a bad stack file stops the program before any resource is declared. Every
AWS resource goes through one explicit provider carrying the default tags, so tags are consistent everywhere.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.network import Network

from .config import StackConfig, load_stack_config, runtime_config


def aws_provider(cfg: StackConfig) -> aws.Provider:
    return aws.Provider(
        "aws",
        region=cfg.region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=cfg.default_tags),
    )


def build(cfg: StackConfig) -> None:
    provider = aws_provider(cfg)
    aws_opts = pulumi.ResourceOptions(providers={"aws": provider})

    network = Network("network", cfg.network, aws_opts)

    # -- EKS cluster and add-ons (issue 4) go here: they need the network.
    # -- data stores and messaging (issue 3) go here: they need the network (and the cluster's security group).
    # -- workloads (issue 5) go here: they need the cluster, the add-ons and the data stores.

    pulumi.export("environment", cfg.environment)
    pulumi.export("region", cfg.region)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("vpcCidr", network.vpc_cidr)
    pulumi.export("availabilityZones", network.availability_zones)
    pulumi.export("subnetIds", network.subnet_ids_by_az)


def main() -> None:
    cfg = load_stack_config(pulumi.get_stack(), runtime_config())
    build(cfg)
