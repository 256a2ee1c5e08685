"""`platform:services` plus `platform:serviceOverrides`: the service catalogue, read into `components.catalogue`.

The base catalogue lives once, in `Pulumi.yaml` as project-level config (`platform:services`), which the Pulumi CLI
hands to every stack; each stack file may patch it with `platform:serviceOverrides` (kustomize's base-plus-overlay,
in stack config). An override is merged into its base entry key by key: mappings merge, anything else replaces, and
`null` removes a key (`route: null` makes a service internal in that stack). An override cannot add a service:
adding one is one entry in the base, so every stack gets it.

Each entry is a service (`kind: service`, the default) or a shared load balancer (`kind: ingress`). Rules, each
reported with the key path it came from (the base entry or the stack's override): no unknown keys; an image pinned by
a tag other than `latest` or by a sha256 digest; requests no larger than limits; min <= replicas <= max, at least 2
replicas (3 in prod, so a PodDisruptionBudget of min - 1 keeps two across zones during a drain); callers, routes'
ingresses and every used data store, queue, bucket and secret exist; plain `env` carries no secret-looking key.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.addons import CHARTS
from components.catalogue import (
    Autoscaling,
    Catalogue,
    Delivery,
    IngressSpec,
    Probes,
    Resources,
    Route,
    ServiceSpec,
    Uses,
)
from components.messaging import MessagingArgs
from components.storage import StorageArgs

from .errors import Problem
from .reader import Section

DATA_STORE_KINDS = ("postgres", "redis", "rabbitmq")
BASE_KEY = "services"
OVERRIDES_KEY = "serviceOverrides"
NAME_PATTERN = r"[a-z][a-z0-9-]{0,39}"
# Namespaces that exist before any service does (Kubernetes' own and the add-ons'); a service is deployed into a
# namespace of its own name, so it may not take one of these.
RESERVED_NAMES = tuple(
    sorted(
        {"default", "kube-system", "kube-public", "kube-node-lease"} | {chart.namespace for chart in CHARTS.values()}
    )
)

HOST_PATTERN = r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
PATH_PATTERN = r"/[A-Za-z0-9._~/-]*"
ENV_NAME_PATTERN = r"[A-Z][A-Z0-9_]*"
# Plain configuration must not smuggle a secret: those come from Secrets Manager through `uses.secrets`.
SECRET_LOOKING = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)
# Variables the platform sets itself (ConfigMap and synced Secret); a plain `env` entry must not shadow them.
PLATFORM_ENV = re.compile(
    r"(PORT|SERVICE_NAME|ENVIRONMENT|AWS_.*|DATABASE_.*|REDIS_.*|RABBITMQ_.*|QUEUE_.*|BUCKET_.*|.*_URL)"
)
SSL_POLICY_PATTERN = r"ELBSecurityPolicy-[A-Za-z0-9-]+"
GIT_REPOSITORY_PATTERN = r"(https://[a-z0-9.-]+(:[0-9]+)?/[\w./-]+|git@[a-z0-9.-]+:[\w./-]+)"
REVISION_PATTERN = r"[\w][\w./-]{0,99}"

CPU_PATTERN = r"([0-9]+m|[0-9]+(\.[0-9]{1,3})?)"
MEMORY_PATTERN = r"[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?"
_MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


@dataclass(frozen=True)
class DataInventory:
    """What the stack's data-stores config declares, by the names a catalogue entry uses, and where each is declared
    (for error messages)."""

    data_stores: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    buckets: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()
    where: Mapping[str, str] = field(
        default_factory=dict
    )  # kind -> where it is declared, e.g. "platform:messaging.queues"

    def declared(self, kind: str) -> frozenset[str]:
        return getattr(self, kind)


# The platform's own generated secrets a service may be given (components/internal_token.py).
PLATFORM_SECRETS = ("internal-token",)


def data_inventory(storage: StorageArgs, messaging: MessagingArgs) -> DataInventory:
    """What this stack's data-stores config declares. PostgreSQL and Redis are always there; RabbitMQ only where the
    stack switches it on. The access-log bucket is the platform's, not a service's."""
    return DataInventory(
        data_stores=frozenset({"postgres", "redis"} | ({"rabbitmq"} if messaging.broker is not None else set())),
        queues=frozenset(queue.name for queue in messaging.queues),
        buckets=frozenset(bucket.name for bucket in storage.buckets if bucket.name != storage.access_log_bucket),
        secrets=frozenset(PLATFORM_SECRETS),
        where={
            "data_stores": "platform:database, platform:cache and platform:messaging.rabbitmq",
            "queues": "platform:messaging.queues",
            "buckets": "platform:storage.buckets",
            "secrets": "the platform's generated secrets",
        },
    )


@dataclass(frozen=True)
class ClusterFacts:
    """What the cluster config says that the catalogue depends on: whether Argo CD runs, and the names the public
    certificate covers (a route's host must be one of them, or match a wildcard; empty: not checked)."""

    gitops_enabled: bool = False
    certificate_names: tuple[str, ...] = ()

    def covers(self, host: str) -> bool:
        for name in self.certificate_names:
            if name == host or (
                name.startswith("*.") and host.count(".") == name.count(".") and host.endswith(name[1:])
            ):
                return True
        return not self.certificate_names


# -- quantities ---------------------------------------------------------------------------------------------------
def cpu_millis(quantity: str) -> float:
    return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000


def memory_bytes(quantity: str) -> int:
    match = re.fullmatch(r"([0-9]+)([A-Za-z]*)", quantity)
    assert match is not None
    return int(match.group(1)) * _MEMORY_UNITS[match.group(2)]


# -- images ---------------------------------------------------------------------------------------------------------
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = r"(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|localhost)(?::[0-9]+)?"
IMAGE_PATTERN = re.compile(
    rf"(?:(?P<registry>{_REGISTRY})/)?(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?"
)


def check_image(s: Section, key: str) -> str:
    image = s.string(key, expected="an image reference such as 'team/app:1.2.3' or 'team/app@sha256:<64 hex>'")
    if image is None:
        return ""
    match = IMAGE_PATTERN.fullmatch(image)
    if match is None:
        s.problem(key, "an image reference such as 'team/app:1.2.3' or 'team/app@sha256:<64 hex>'", image)
    elif match.group("tag") is None and match.group("digest") is None:
        s.problem(key, "an image pinned by a tag or a sha256 digest (an untagged image means 'latest')", image)
    elif match.group("tag") == "latest" and match.group("digest") is None:
        s.problem(key, "an image tag other than 'latest' (a release tag or a sha256 digest)", image)
    return image


def has_registry(image: str) -> bool:
    match = IMAGE_PATTERN.fullmatch(image)
    return bool(match and match.group("registry"))


def repository_name(image: str) -> str:
    """`platform/backend@sha256:...` -> `platform/backend`: the repository part of an image reference."""
    match = IMAGE_PATTERN.fullmatch(image)
    if match is None:
        raise ValueError(f"not an image reference: {image!r}")
    return match.group("repository")


# -- merging the overlay --------------------------------------------------------------------------------------------
def merge(base: Any, overlay: Any) -> Any:
    """Overlay on base: mappings merge key by key, `null` removes a key, anything else replaces."""
    if not (isinstance(base, Mapping) and isinstance(overlay, Mapping)):
        return copy.deepcopy(overlay)
    merged = {k: copy.deepcopy(v) for k, v in base.items()}
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif key in merged:
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _paths(mapping: Any, prefix: str = "") -> set[str]:
    """Every dotted key path an override sets (its mappings' own paths included)."""
    found: set[str] = set()
    if isinstance(mapping, Mapping):
        for key, value in mapping.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            found.add(path)
            found |= _paths(value, path)
    return found


def _blame_overrides(problems: list[Problem], start: int, name: str, overridden: set[str], root: str) -> None:
    """Problems about a value the stack's override supplied name the override's key, not the base entry's."""
    base_prefix = f"{root}{BASE_KEY}.{name}"
    for index in range(start, len(problems)):
        problem = problems[index]
        if not problem.path.startswith(base_prefix + "."):
            continue
        relative = problem.path[len(base_prefix) + 1 :]
        key = re.sub(r"\[\d+\]$", "", relative)
        if key in overridden:
            problems[index] = Problem(f"{root}{OVERRIDES_KEY}.{name}.{relative}", problem.expected, problem.found)


# -- entries --------------------------------------------------------------------------------------------------------
def _quantities(s: Section, cpu_default: str, memory_default: str) -> tuple[str, str]:
    """The `cpu` and `memory` of a `requests` or `limits` mapping."""
    cpu = s.string("cpu", cpu_default, pattern=CPU_PATTERN, expected="a CPU quantity such as '250m' or '1'")
    memory = s.string("memory", memory_default, pattern=MEMORY_PATTERN, expected="a memory quantity such as '256Mi'")
    return cpu, memory


def _resources(s: Section) -> Resources:
    defaults = Resources()
    requests, limits = s.section("requests"), s.section("limits")
    cpu_request, memory_request = _quantities(requests, defaults.cpu_request, defaults.memory_request)
    cpu_limit, memory_limit = _quantities(limits, defaults.cpu_limit, defaults.memory_limit)
    if cpu_millis(cpu_request) > cpu_millis(cpu_limit):
        requests.problem("cpu", f"a CPU request no larger than the limit ({cpu_limit})", cpu_request)
    if memory_bytes(memory_request) > memory_bytes(memory_limit):
        requests.problem("memory", f"a memory request no larger than the limit ({memory_limit})", memory_request)
    requests.done()
    limits.done()
    s.done()
    return Resources(cpu_request, memory_request, cpu_limit, memory_limit)


def _autoscaling(s: Section, replicas_section: Section, replicas: int, *, prod: bool) -> Autoscaling:
    defaults = Autoscaling()
    floor = 3 if prod else 2
    minimum = s.integer("minReplicas", defaults.min_replicas, minimum=1, maximum=100)
    maximum = s.integer("maxReplicas", defaults.max_replicas, minimum=1, maximum=100)
    target = s.integer("targetCpuPercent", defaults.target_cpu_percent, minimum=10, maximum=95)
    if minimum > maximum:
        s.problem("minReplicas", f"minReplicas no greater than maxReplicas ({maximum})", minimum)
    elif minimum < floor:
        why = (
            "in prod (a disruption budget of min - 1 keeps two replicas across zones)"
            if prod
            else "(a disruption budget needs a spare replica)"
        )
        s.problem("minReplicas", f"at least {floor} replicas {why}", minimum)
    if not minimum <= replicas <= maximum and minimum <= maximum:
        replicas_section.problem(
            "replicas", f"a replica count from minReplicas ({minimum}) to maxReplicas ({maximum})", replicas
        )
    s.done()
    return Autoscaling(minimum, maximum, target)


def _route(s: Section) -> Route:
    host = s.string("host", pattern=HOST_PATTERN, expected="a DNS host name such as 'app.example.com'") or ""
    path = s.string("path", "/", pattern=PATH_PATTERN, expected="a URL path starting with '/'")
    ingress = s.string(
        "ingress", "ingress", pattern=NAME_PATTERN, expected="the name of a catalogue entry of kind ingress"
    )
    s.done()
    return Route(host=host, path=path, ingress=ingress)


def _uses(s: Section, inventory: DataInventory) -> Uses:
    def known(section: Section, key: str, name: str, kind: str, what: str) -> bool:
        declared = inventory.declared(kind)
        if name in declared:
            return True
        where = inventory.where.get(kind, "the data-stores config")
        listing = ", ".join(sorted(declared)) or "none"
        section.problem(key, f"{what} declared in {where} (declared: {listing})", name)
        return False

    stores = s.strings("dataStores", (), expected="data store kinds (" + ", ".join(DATA_STORE_KINDS) + ")")
    data_stores = []
    for index, store in enumerate(stores):
        if store not in DATA_STORE_KINDS:
            s.problem(f"dataStores[{index}]", "a data store kind (" + ", ".join(DATA_STORE_KINDS) + ")", store)
        elif store in inventory.data_stores:
            data_stores.append(store)
        else:
            where = inventory.where.get("data_stores", "the data-stores config")
            s.problem(
                f"dataStores[{index}]",
                f"a data store this stack declares in {where} ({', '.join(sorted(inventory.data_stores)) or 'none'})",
                store,
            )

    queues_section = s.section("queues")
    queues = []
    for name in map(str, list(queues_section.raw)):
        access = queues_section.string(name, choices=("send", "receive", "send-receive"))
        if known(queues_section, name, name, "queues", "a queue") and access:
            queues.append((name, access))
    buckets_section = s.section("buckets")
    buckets = []
    for name in map(str, list(buckets_section.raw)):
        access = buckets_section.string(name, choices=("read", "read-write"))
        if known(buckets_section, name, name, "buckets", "a bucket") and access:
            buckets.append((name, access))
    secrets = []
    for index, name in enumerate(s.strings("secrets", (), pattern=NAME_PATTERN, expected="secret names")):
        if known(s, f"secrets[{index}]", name, "secrets", "a secret"):
            secrets.append(name)
    s.done()
    return Uses(
        data_stores=tuple(data_stores),  # type: ignore[arg-type]
        queues=tuple(queues),  # type: ignore[arg-type]
        buckets=tuple(buckets),  # type: ignore[arg-type]
        secrets=tuple(secrets),
    )


def _delivery(s: Section) -> Delivery:
    mode = s.string("mode", "pulumi", choices=("pulumi", "gitops"))
    if mode == "gitops":
        delivery = Delivery(
            mode="gitops",
            repository=s.string(
                "repository", pattern=GIT_REPOSITORY_PATTERN, expected="a Git repository URL (https:// or git@)"
            )
            or "",
            path=s.string("path", pattern=r"[\w.][\w./-]*", expected="a path inside the repository") or "",
            target_revision=s.string("targetRevision", pattern=REVISION_PATTERN, expected="a tag, branch or commit")
            or "",
        )
    else:
        for key in ("repository", "path", "targetRevision"):
            if s.has(key):
                s.string(key)
                s.problem(key, "no Git source unless mode is 'gitops'", s.raw[key])
        delivery = Delivery()
    s.done()
    return delivery


def _env(s: Section, key: str) -> tuple[tuple[str, str], ...]:
    values = s.string_map(key, {}, key_pattern=ENV_NAME_PATTERN)
    result = []
    for name, value in sorted(values.items()):
        if SECRET_LOOKING.search(name):
            s.problem(
                f"{key}.{name}",
                "plain configuration (a secret is declared under uses.secrets and synced from Secrets Manager)",
                f"a secret-looking variable {name!r}",
                quoted=False,
            )
        elif PLATFORM_ENV.fullmatch(name):
            s.problem(
                f"{key}.{name}",
                "a variable the platform does not set itself",
                f"{name!r}, which the platform sets",
                quoted=False,
            )
        else:
            result.append((name, value))
    return tuple(result)


def _service(s: Section, name: str, *, prod: bool, inventory: DataInventory) -> ServiceSpec:
    image = check_image(s, "image")
    port = s.integer("port", 8080, minimum=1024, maximum=65535)
    replicas = s.integer("replicas", 2, minimum=1, maximum=100)
    resources = _resources(s.section("resources"))
    autoscaling = _autoscaling(s.section("autoscaling"), s, replicas, prod=prod)
    route = _route(s.section("route")) if s.has("route") else None
    callers = s.strings("callers", (), pattern=NAME_PATTERN, expected="service names")
    uses = _uses(s.section("uses"), inventory)
    delivery = _delivery(s.section("delivery"))
    probes_section, probe_defaults = s.section("probes"), Probes()
    probes = Probes(
        liveness_path=probes_section.string(
            "liveness", probe_defaults.liveness_path, pattern=PATH_PATTERN, expected="a URL path starting with '/'"
        ),
        readiness_path=probes_section.string(
            "readiness", probe_defaults.readiness_path, pattern=PATH_PATTERN, expected="a URL path starting with '/'"
        ),
    )
    probes_section.done()
    env = _env(s, "env")
    run_as_user = s.integer("runAsUser", 10001, minimum=10000, maximum=2**31 - 1)
    kubernetes_api = s.boolean("kubernetesApi", False)
    s.string("kind", "service", choices=("service", "ingress"))
    s.done()
    return ServiceSpec(
        name=name,
        image=image,
        port=port,
        replicas=replicas,
        resources=resources,
        autoscaling=autoscaling,
        route=route,
        callers=callers,
        uses=uses,
        delivery=delivery,
        probes=probes,
        env=env,
        run_as_user=run_as_user,
        kubernetes_api=kubernetes_api,
    )


def _ingress(s: Section, name: str, *, prod: bool) -> IngressSpec:
    defaults = IngressSpec(name=name)
    s.string("kind", choices=("service", "ingress"))
    spec = IngressSpec(
        name=name,
        scheme=s.string("scheme", defaults.scheme, choices=("internet-facing", "internal")),  # type: ignore[arg-type]
        ssl_policy=s.string(
            "sslPolicy",
            defaults.ssl_policy,
            pattern=SSL_POLICY_PATTERN,
            expected="an ELB security policy name (ELBSecurityPolicy-...)",
        ),
        idle_timeout_seconds=s.integer("idleTimeoutSeconds", defaults.idle_timeout_seconds, minimum=1, maximum=4000),
        deletion_protection=s.boolean("deletionProtection", defaults.deletion_protection),
    )
    if prod and not spec.deletion_protection:
        s.problem(
            "deletionProtection", "true in prod (the load balancer's DNS name is what the world points at)", False
        )
    s.done()
    return spec


# -- the catalogue --------------------------------------------------------------------------------------------------
def parse_services(
    root: Section, *, prod: bool, inventory: DataInventory, cluster: ClusterFacts = ClusterFacts()
) -> Catalogue:
    """Read the base catalogue and the stack's overrides from the root `platform:` section."""
    problems = root.problems
    base_section = root.section(BASE_KEY)
    overrides_section = root.section(OVERRIDES_KEY)
    base, overrides = base_section.raw, overrides_section.raw
    prefix = root.key_path("")

    for name in overrides:
        if name not in base:
            overrides_section.problem(
                str(name), f"the name of an entry in {prefix}{BASE_KEY} ({', '.join(map(str, base)) or 'none'})", name
            )
        elif not isinstance(overrides[name], Mapping):
            overrides_section.problem(str(name), "a mapping of the entry's settings to change", overrides[name])

    start = len(problems)
    overridden: dict[str, set[str]] = {}
    services: list[ServiceSpec] = []
    ingresses: list[IngressSpec] = []
    for name, body in base.items():
        if not (isinstance(name, str) and re.fullmatch(NAME_PATTERN, name)):
            base_section.problem(str(name), f"an entry name matching {NAME_PATTERN}", name)
            continue
        if name in RESERVED_NAMES or name.startswith("kube-"):
            base_section.problem(
                name, "a name that is not a system namespace (" + ", ".join(RESERVED_NAMES) + ", kube-*)", name
            )
            continue
        override = overrides.get(name)
        merged = body
        if isinstance(override, Mapping):
            merged = merge(body, override)
            overridden[name] = _paths(override)
        entry = Section(base_section.key_path(name), merged, problems)
        if entry.raw.get("kind", "service") == "ingress":
            ingresses.append(_ingress(entry, name, prod=prod))
        else:
            services.append(_service(entry, name, prod=prod, inventory=inventory))

    catalogue = Catalogue(services=tuple(services), ingresses=tuple(ingresses))
    _check_relations(base_section, catalogue, cluster)
    for name, paths in overridden.items():
        _blame_overrides(problems, start, name, paths, prefix)
    return catalogue


def _check_relations(s: Section, catalogue: Catalogue, cluster: ClusterFacts) -> None:
    """Rules across entries: callers and ingresses exist, routes are unique, GitOps has Argo CD."""
    service_names = [spec.name for spec in catalogue.services]
    ingress_names = [spec.name for spec in catalogue.ingresses]
    routes: dict[tuple[str, str], str] = {}
    for spec in catalogue.services:
        for index, caller in enumerate(spec.callers):
            if caller == spec.name:
                s.problem(
                    f"{spec.name}.callers[{index}]",
                    "another service (a service does not call itself over the network)",
                    caller,
                )
            elif caller not in service_names:
                s.problem(
                    f"{spec.name}.callers[{index}]",
                    f"the name of a catalogued service ({', '.join(service_names)})",
                    caller,
                )
        if spec.route is not None:
            if spec.route.ingress not in ingress_names:
                s.problem(
                    f"{spec.name}.route.ingress",
                    f"the name of a catalogue entry of kind ingress ({', '.join(ingress_names) or 'none'})",
                    spec.route.ingress,
                )
            if spec.route.host and not cluster.covers(spec.route.host):
                s.problem(
                    f"{spec.name}.route.host",
                    "a host the ALB's certificate covers (" + ", ".join(cluster.certificate_names) + ")",
                    spec.route.host,
                )
            where = (spec.route.host, spec.route.path)
            if where in routes:
                s.problem(
                    f"{spec.name}.route",
                    f"a host and path no other service routes (taken by {routes[where]})",
                    f"{where[0]}{where[1]}",
                    quoted=False,
                )
            routes.setdefault(where, spec.name)
        if spec.gitops and not cluster.gitops_enabled:
            s.problem(
                f"{spec.name}.delivery.mode",
                "'pulumi' in a stack without Argo CD (switch it on in the cluster's add-ons)",
                spec.delivery.mode,
            )
