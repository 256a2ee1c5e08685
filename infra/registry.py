"""Wiring of the container registry: an ECR repository for each catalogued image that lives in this account.

An image without a registry host (`platform/backend:1.4.2`) is pulled from this account's ECR in the stack's region
(`infra/workloads.py`), so the repository must exist: one per distinct repository name, encrypted with its own KMS
key, pulled by the cluster's node role, pushed by the CI role from `platform:registry`.
"""

from __future__ import annotations

import pulumi

from components.catalogue import Catalogue
from components.cluster import Cluster
from components.kms import EncryptionKey, KeyArgs
from components.registry import Registry, RegistryArgs

from .config import StackConfig
from .config.services import has_registry, repository_name


def in_account_repositories(catalogue: Catalogue) -> tuple[str, ...]:
    """The repositories the catalogue's images need in this account, sorted, each once."""
    return tuple(sorted({repository_name(s.image) for s in catalogue.services if not has_registry(s.image)}))


def build_registry(cfg: StackConfig, cluster: Cluster, opts: pulumi.ResourceOptions) -> Registry | None:
    repositories = in_account_repositories(cfg.catalogue)
    if not repositories:
        return None
    p = cfg.name_prefix
    key = EncryptionKey(
        "registry-kms",
        KeyArgs(description=f"{p}: the ECR repositories of the catalogue's images", alias=f"alias/{p}/registry",
                protect=cfg.registry.protect),
        opts,
    )
    registry = Registry(
        "registry",
        RegistryArgs(
            repositories=repositories,
            kms_key_arn=key.arn,
            pull_role_arns=(cluster.node_role_arn,),
            push_role_arn=cfg.registry.push_role_arn,
            untagged_expire_days=cfg.registry.untagged_expire_days,
            keep_releases=cfg.registry.keep_releases,
            force_delete=cfg.registry.force_delete,
            protect=cfg.registry.protect,
        ),
        opts,
    )
    pulumi.export("repositories", {name: repo["url"] for name, repo in registry.repositories.items()})
    return registry
