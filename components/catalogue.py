"""The service catalogue's entries: what one service (or the shared ingress) is, as typed, frozen data.

The catalogue is data, not code: `infra/config/services.py` reads it from stack config (a base shared by every stack
plus each stack's overrides), validates it and hands these objects to the components. `ServiceSpec` is one service
(image, port, sizes, autoscaling, route, callers, what it uses, delivery); `IngressSpec` is the shared load balancer
that public routes join. `Catalogue` holds both and answers the questions that relate entries to each other (who calls
whom). Nothing here declares a resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

DataStore = Literal["postgres", "redis", "rabbitmq"]
QueueAccess = Literal["send", "receive", "send-receive"]
BucketAccess = Literal["read", "read-write"]
DeliveryMode = Literal["pulumi", "gitops"]
Scheme = Literal["internet-facing", "internal"]

# The labels every workload's pods carry; NetworkPolicies, the Service, the PDB and callers select on the first.
NAME_LABEL = "app.kubernetes.io/name"


def env_name(name: str) -> str:
    """`static-assets` -> `STATIC_ASSETS`: a catalogue name as part of an environment variable's name."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


@dataclass(frozen=True)
class Resources:
    """Kubernetes quantities, e.g. cpu "250m", memory "256Mi"."""

    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str = "500m"
    memory_limit: str = "256Mi"


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int = 2
    max_replicas: int = 4
    target_cpu_percent: int = 70


@dataclass(frozen=True)
class Route:
    """A public route: requests for `host` under `path` reach the service through the shared ingress `ingress`."""

    host: str
    path: str = "/"
    ingress: str = "ingress"


@dataclass(frozen=True)
class Probes:
    liveness_path: str = "/healthz"
    readiness_path: str = "/readyz"


@dataclass(frozen=True)
class Delivery:
    """`pulumi`: this program declares the Deployment. `gitops`: Argo CD syncs it from `repository`/`path` at
    `target_revision`, inside the namespace, service account, secrets and policies this program declares."""

    mode: DeliveryMode = "pulumi"
    repository: str = ""
    path: str = ""
    target_revision: str = ""


@dataclass(frozen=True)
class Uses:
    """What a service may touch outside the cluster. Each name exists in the data-stores config of the stack."""

    data_stores: tuple[DataStore, ...] = ()
    queues: tuple[tuple[str, QueueAccess], ...] = ()  # (queue name, access)
    buckets: tuple[tuple[str, BucketAccess], ...] = ()  # (bucket name, access); the service's own prefix only
    secrets: tuple[str, ...] = ()  # named platform secrets, e.g. "internal-token"

    @property
    def aws_apis(self) -> bool:
        """Whether the pods call AWS APIs themselves (through the VPC endpoints, with their IRSA role)."""
        return bool(self.queues or self.buckets)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    image: str  # "repo/name:tag", "repo/name@sha256:..." or with a registry host; never untagged, never `latest`
    port: int = 8080
    replicas: int = 2  # the initial count; the HorizontalPodAutoscaler owns it afterwards
    resources: Resources = field(default_factory=Resources)
    autoscaling: Autoscaling = field(default_factory=Autoscaling)
    route: Route | None = None  # None: internal only
    callers: tuple[str, ...] = ()  # services allowed to call this one
    uses: Uses = field(default_factory=Uses)
    delivery: Delivery = field(default_factory=Delivery)
    probes: Probes = field(default_factory=Probes)
    env: tuple[tuple[str, str], ...] = ()  # plain, non-secret configuration
    run_as_user: int = 10001
    kubernetes_api: bool = False  # mount a Kubernetes API token only if the service talks to the API server

    @property
    def public(self) -> bool:
        return self.route is not None

    @property
    def gitops(self) -> bool:
        return self.delivery.mode == "gitops"

    @property
    def namespace(self) -> str:
        """Each service lives in a namespace of its own name: policies, quotas and RBAC stop at its edge."""
        return self.name

    @property
    def env_prefix(self) -> str:
        """`backend` -> `BACKEND`: how callers' configuration names this service (BACKEND_URL)."""
        return env_name(self.name)

    def url(self) -> str:
        """The in-cluster address callers are given."""
        return f"http://{self.name}.{self.namespace}.svc.cluster.local:{self.port}"


@dataclass(frozen=True)
class IngressSpec:
    """One shared load balancer (an ALB IngressGroup) that every route naming it joins."""

    name: str
    scheme: Scheme = "internet-facing"
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    idle_timeout_seconds: int = 60
    deletion_protection: bool = True

    @property
    def class_name(self) -> str:
        return f"alb-{self.name}"

    @property
    def group_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class Catalogue:
    services: tuple[ServiceSpec, ...] = ()
    ingresses: tuple[IngressSpec, ...] = ()

    def service(self, name: str) -> ServiceSpec:
        for spec in self.services:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def ingress(self, name: str) -> IngressSpec:
        for spec in self.ingresses:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def callees(self, name: str) -> tuple[ServiceSpec, ...]:
        """The services `name` may call: those that list it among their callers."""
        return tuple(spec for spec in self.services if name in spec.callers)
