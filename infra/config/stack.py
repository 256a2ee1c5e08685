"""The whole stack's settings: read once from Pulumi config, validated, frozen.

`load_stack_config(stack, raw)` takes the flat Pulumi config map (`platform:network` -> JSON text, `aws:region` ->
text) and returns a `StackConfig`, or raises `ConfigError` listing every problem. It declares nothing, so a bad
stack file stops the program before the first resource. Each `platform:` section has its own parser module; a
`platform:` key that no parser reads is reported as unknown, and so is any key of another namespace the program does
not read (`namespaces.py`). The stack's name is its environment: a stack named `prod` always gets prod's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.addons import AddonsArgs
from components.alarms import AlarmsArgs
from components.cache import CacheArgs
from components.certificate import CertificateArgs
from components.cluster import ClusterArgs
from components.database import DatabaseArgs
from components.messaging import MessagingArgs
from components.cluster_monitoring import ClusterMonitoringArgs
from components.catalogue import Catalogue
from components.network import NetworkArgs
from components.storage import StorageArgs

from . import aws_offerings
from .addons import parse_addons
from .cluster import parse_cluster
from .cost_controls import CostControls, parse_cost_controls
from .errors import ConfigError, Problem
from .alarms import parse_alarms
from .cache import parse_cache
from .database import parse_database
from .messaging import parse_messaging
from .monitoring import parse_monitoring
from .network import parse_network
from .registry import RegistrySettings, parse_registry
from .secrets import SecretsSettings, parse_secrets
from .services import ClusterFacts, data_inventory, parse_services
from .storage import parse_storage
from .namespaces import allowed_account_ids, check_namespaces, region as parse_region
from .reader import Section, decode, show

PROJECT = "platform"
ENVIRONMENTS = ("staging", "prod")
DEFAULT_REGION = "ap-northeast-2"
TAG_VALUE_PATTERN = r"[\w .:/=+@-]{1,256}"


@dataclass(frozen=True)
class Tags:
    owner: str
    cost_centre: str


@dataclass(frozen=True)
class StackConfig:
    stack: str
    environment: str
    region: str
    allowed_account_ids: tuple[str, ...]
    tags: Tags
    network: NetworkArgs
    # The EKS cluster, its add-ons and the public certificate.
    cluster: ClusterArgs
    addons: AddonsArgs
    certificate: CertificateArgs
    # Data stores and messaging: component args with placement and clients left for the program to fill.
    secrets: SecretsSettings
    database: DatabaseArgs
    cache: CacheArgs
    storage: StorageArgs
    messaging: MessagingArgs
    alarms: AlarmsArgs
    # The ECR repositories of the catalogue's in-account images: who pushes, how long images stay.
    registry: RegistrySettings
    # Container Insights, the cluster's and services' alarms and the stack's dashboard.
    monitoring: ClusterMonitoringArgs
    # The service catalogue: Pulumi.yaml's base `platform:services` with this stack's serviceOverrides.
    catalogue: Catalogue
    # Off-hours scaling, the cleanup job, the budget.
    cost_controls: CostControls = CostControls()

    @property
    def prod(self) -> bool:
        return self.environment == "prod"

    @property
    def name_prefix(self) -> str:
        return f"{PROJECT}-{self.stack}"

    @property
    def secrets_prefix(self) -> str:
        """Every Secrets Manager secret of this stack is named under this path; External Secrets reads only it."""
        return f"{PROJECT}/{self.stack}/"

    @property
    def default_tags(self) -> dict[str, str]:
        """Applied by the AWS provider to every taggable resource."""
        return {
            "project": PROJECT,
            "environment": self.environment,
            "managed-by": "pulumi",
            "owner": self.tags.owner,
            "cost-centre": self.tags.cost_centre,
            "stack": self.stack,
        }


def environment_of(stack: str) -> str | None:
    """`prod` and `prod-*` stacks are prod, `staging` and `staging-*` staging; nothing else is a known environment."""
    for environment in ENVIRONMENTS:
        if stack == environment or stack.startswith(f"{environment}-"):
            return environment
    return None


def load_stack_config(stack: str, raw: Mapping[str, Any], *, project: str = PROJECT) -> StackConfig:
    values = decode(raw)
    problems: list[Problem] = []
    if project != PROJECT:
        # The config namespace, resource names, tags and Secrets Manager paths all use the project's name.
        problems.append(Problem("Pulumi.yaml name", f"{PROJECT!r} (the program's config namespace)", repr(project)))
    platform = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{PROJECT}:")}
    root = Section(f"{PROJECT}:", platform, problems)

    environment = environment_of(stack)
    if environment is None:
        problems.append(Problem(
            "stack name",
            " or ".join(ENVIRONMENTS) + ", or a name starting with " + " or ".join(f"{e}-" for e in ENVIRONMENTS)
            + " (the stack's name is its environment)",
            repr(stack),
        ))
        environment = "prod"  # the strict rules, for the rest of the checks
    if root.has("environment"):
        problems.append(Problem(
            f"{PROJECT}:environment",
            f"no such key: the stack's name sets the environment (this stack is {environment})",
            show(platform["environment"]),
        ))
        root.consume("environment")
    prod = environment == "prod"
    region = parse_region(values, DEFAULT_REGION, problems)
    account_ids = allowed_account_ids(values, problems)

    tags_section = root.section("tags")
    tags = Tags(
        owner=tags_section.string("owner", pattern=TAG_VALUE_PATTERN, expected="a tag value (owner team or person)") or "",
        cost_centre=tags_section.string("costCentre", pattern=TAG_VALUE_PATTERN, expected="a tag value (cost centre)") or "",
    )
    tags_section.done()

    name_prefix = f"{PROJECT}-{stack}"
    network = parse_network(root.section("network"), prod=prod, cluster_name=name_prefix, name_prefix=name_prefix)
    cluster = parse_cluster(root.section("cluster"), prod=prod, cluster_name=name_prefix)
    addons, certificate = parse_addons(root.section("addons"))
    data = dict(
        secrets=parse_secrets(root.section("secrets"), prod=prod),
        database=parse_database(root.section("database"), prod=prod, name_prefix=name_prefix),
        cache=parse_cache(root.section("cache"), prod=prod, name_prefix=name_prefix),
        storage=parse_storage(root.section("storage"), prod=prod, name_prefix=name_prefix),
        messaging=parse_messaging(root.section("messaging"), prod=prod, name_prefix=name_prefix),
        alarms=parse_alarms(root.section("alarms"), prod=prod, name_prefix=name_prefix),
        registry=parse_registry(root.section("registry"), prod=prod),
        monitoring=parse_monitoring(root.section("monitoring"), name_prefix=name_prefix, region=region),
    )
    catalogue = parse_services(
        root,
        prod=prod,
        inventory=data_inventory(data["storage"], data["messaging"]),
        cluster=ClusterFacts(
            gitops_enabled=addons.argocd_enabled,
            certificate_names=tuple(n for n in (certificate.domain, *certificate.alternative_names) if n),
        ),
    )
    cost_controls = parse_cost_controls(root.section("costControls"), prod=prod, stack=stack, name_prefix=name_prefix, region=region)
    root.done()
    check_namespaces(values, PROJECT, root.known_keys(), problems)
    if problems:
        raise ConfigError(stack, problems)
    config = StackConfig(
        stack=stack,
        environment=environment,
        region=region,
        allowed_account_ids=account_ids,
        tags=tags,
        network=network,
        cluster=cluster,
        addons=addons,
        certificate=certificate,
        catalogue=catalogue,
        cost_controls=cost_controls,
        **data,
    )
    # What the region offers can only be judged on values that passed their own section's rules.
    offering_problems = aws_offerings.check(config)
    if offering_problems:
        raise ConfigError(stack, offering_problems)
    return config
