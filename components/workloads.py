"""A catalogued service on the cluster: everything one `ServiceSpec` becomes, declared through pulumi-kubernetes.

Each service gets its own namespace, enforced at Pod Security Admission `restricted`, and inside it: a service account
carrying its IRSA role (the Kubernetes API token is not mounted unless the entry asks for it); a ConfigMap with its
plain configuration, including the in-cluster URLs of the services it calls; an ExternalSecret that syncs the values
it needs from Secrets Manager, through the platform's ClusterSecretStore, into a Secret the pod reads (no secret value
appears in any manifest); the Deployment (non-root, read-only root filesystem, no capabilities, RuntimeDefault
seccomp, requests and limits, probes, spread across zones, rolling updates that never drop below capacity) or, for
`delivery: gitops`, an Argo CD Application and AppProject in its place; a ClusterIP Service; a HorizontalPodAutoscaler
and a PodDisruptionBudget; NetworkPolicies that deny everything and then admit only the load balancer (public
services) and the declared callers, and let the pods reach only DNS, the services they call, their data stores' ports
in the data tier, the VPC endpoints and (only if the entry says so) the Kubernetes API; and, for a public route, an
Ingress for the AWS Load Balancer Controller.

Inputs (`WorkloadArgs`): the catalogue entry and the resolved image; what the platform hands the service (IRSA role
ARN, ClusterSecretStore name, `SecretRef`s, the callers' and callees' entries, `DataEndpoint`s, extra plain config);
the CIDRs its policies name (load balancer, data tier, VPC endpoints, S3, the API server's subnets); for a public
route the `IngressSpec` it joins and the ACM certificate ARN; the Argo CD namespace. The kubernetes provider comes
through `opts`.
Outputs: `namespace`, `service_account_name`, `url` (what callers are given), `config_map_name`, `secret_name`
(None without secrets).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .catalogue import NAME_LABEL, IngressSpec, ServiceSpec

PSA_LEVEL = "restricted"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
IN_CLUSTER_API = "https://kubernetes.default.svc"
ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"
# Kinds a GitOps repository may not create in its namespace: the guard rails this program owns stay with it.
GITOPS_DENIED_KINDS = (
    ("", "Secret"),
    ("", "ServiceAccount"),
    ("", "ResourceQuota"),
    ("", "LimitRange"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("external-secrets.io", "ExternalSecret"),
    ("external-secrets.io", "SecretStore"),
)


@dataclass(frozen=True)
class SecretRef:
    """One variable of the pod's Secret: synced from a Secrets Manager secret (name or ARN), whole or one JSON key."""

    env: str
    secret: pulumi.Input[str]
    property: str | None = None


@dataclass(frozen=True)
class DataEndpoint:
    """A data store the service connects to: its configuration variables and the port its egress policy opens."""

    name: str
    port: int
    config: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkloadArgs:
    service: ServiceSpec
    image: pulumi.Input[str]
    environment: str = "staging"
    role_arn: pulumi.Input[str] | None = None
    secret_store: str = "platform-secrets"
    # Extra namespace labels, e.g. the one the ClusterSecretStore requires of the namespaces it serves.
    namespace_labels: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[SecretRef, ...] = ()
    callers: tuple[ServiceSpec, ...] = ()
    callees: tuple[ServiceSpec, ...] = ()
    data_endpoints: tuple[DataEndpoint, ...] = ()
    config: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Where ALB targets are reached from in IP mode: the public subnets holding the load balancer's nodes.
    load_balancer_cidrs: tuple[str, ...] = ()
    data_cidrs: tuple[str, ...] = ()
    # The VPC interface endpoints' subnets (HTTPS); empty unless the service calls AWS APIs itself.
    endpoint_cidrs: tuple[str, ...] = ()
    # S3 through its gateway endpoint is reached at S3's own addresses (the region's prefix list); empty: no S3.
    s3_cidrs: pulumi.Input[Sequence[str]] = ()
    # The subnets of the control plane's ENIs (the cluster's private subnets), where `kubernetes.default.svc` leads:
    # HTTPS to them is open only for a service whose entry says it talks to the Kubernetes API.
    api_server_cidrs: tuple[str, ...] = ()
    ingress: IngressSpec | None = None
    certificate_arn: pulumi.Input[str] | None = None
    argocd_namespace: str = "argocd"
    secret_refresh_interval: str = "1h"
    tmp_size_limit: str = "64Mi"
    # What the namespaced objects wait for: the add-ons that serve them (CRDs, the secret store, webhooks).
    wait_for: tuple[pulumi.Resource, ...] = ()


def labels_for(spec: ServiceSpec) -> dict[str, str]:
    return {NAME_LABEL: spec.name, "app.kubernetes.io/part-of": "platform", "app.kubernetes.io/managed-by": "pulumi"}


def selector_for(spec: ServiceSpec) -> dict[str, str]:
    return {NAME_LABEL: spec.name}


def peer(spec: ServiceSpec) -> dict[str, Any]:
    """A NetworkPolicy peer naming exactly the pods of another catalogued service."""
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": spec.namespace}},
        "podSelector": {"matchLabels": selector_for(spec)},
    }


def ip_blocks(cidrs: Sequence[str]) -> list[dict[str, Any]]:
    """NetworkPolicy peers for address ranges outside the cluster."""
    return [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]


def tcp(port: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port}]


def _config_checksum(data: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(sorted(data.items()))).encode()).hexdigest()


class Workload(pulumi.ComponentResource):
    namespace: str
    service_account_name: str
    url: str
    config_map_name: str
    secret_name: str | None

    def __init__(self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:workloads:Workload", name, None, opts)
        spec = args.service
        if spec.public and (args.ingress is None or args.certificate_arn is None or not args.load_balancer_cidrs):
            raise ValueError(
                f"workload {spec.name}: a public route needs its ingress, a certificate and the load balancer CIDRs"
            )
        if spec.kubernetes_api and not args.api_server_cidrs:
            raise ValueError(f"workload {spec.name}: a service that talks to the Kubernetes API needs api_server_cidrs")
        child = pulumi.ResourceOptions(parent=self)
        ns = spec.namespace
        labels = labels_for(spec)
        self.namespace = ns
        self.service_account_name = spec.name
        self.url = spec.url()
        self.config_map_name = f"{spec.name}-config"
        self.secret_name = f"{spec.name}-secrets" if args.secrets else None

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": ns,
                "labels": {
                    **labels,
                    **args.namespace_labels,
                    "pod-security.kubernetes.io/enforce": PSA_LEVEL,
                    "pod-security.kubernetes.io/audit": PSA_LEVEL,
                    "pod-security.kubernetes.io/warn": PSA_LEVEL,
                },
            },
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace, *args.wait_for])

        def meta(object_name: str, **extra: Any) -> dict[str, Any]:
            return {"name": object_name, "namespace": ns, "labels": labels, **extra}

        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=meta(
                spec.name, annotations={ROLE_ARN_ANNOTATION: args.role_arn} if args.role_arn is not None else {}
            ),
            automount_service_account_token=spec.kubernetes_api,
            opts=in_ns,
        )

        config = self._config(args)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=meta(self.config_map_name), data=config, opts=in_ns
        )
        checksum = pulumi.Output.from_input(config).apply(_config_checksum)

        external_secret = None
        if args.secrets:
            external_secret = k8s.apiextensions.CustomResource(
                f"{name}-external-secret",
                api_version="external-secrets.io/v1",
                kind="ExternalSecret",
                metadata=meta(spec.name),
                spec={
                    "refreshInterval": args.secret_refresh_interval,
                    "secretStoreRef": {"kind": "ClusterSecretStore", "name": args.secret_store},
                    "target": {"name": self.secret_name, "creationPolicy": "Owner"},
                    "data": [
                        {
                            "secretKey": ref.env,
                            "remoteRef": {"key": ref.secret, **({"property": ref.property} if ref.property else {})},
                        }
                        for ref in args.secrets
                    ],
                },
                opts=in_ns,
            )

        if spec.gitops:
            self._gitops(name, args, namespace)
        else:
            self._deployment(
                name,
                args,
                meta,
                checksum,
                [service_account, config_map] + ([external_secret] if external_secret else []),
                in_ns,
            )

        k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(spec.name),
            spec={
                "type": "ClusterIP",
                "selector": selector_for(spec),
                "ports": [{"name": "http", "port": spec.port, "targetPort": "http", "protocol": "TCP"}],
            },
            opts=in_ns,
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-autoscaler",
            metadata=meta(spec.name),
            spec={
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name},
                "minReplicas": spec.autoscaling.min_replicas,
                "maxReplicas": spec.autoscaling.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": spec.autoscaling.target_cpu_percent,
                            },
                        },
                    }
                ],
                # Scale in slowly: a burst that comes back within five minutes finds its pods still there.
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
            },
            opts=in_ns,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=meta(spec.name),
            spec={
                # One pod at a time may be evicted at the minimum size: with min >= 3 in prod, two stay up.
                "minAvailable": spec.autoscaling.min_replicas - 1,
                "selector": {"matchLabels": selector_for(spec)},
                # A pod that never became ready protects nothing; letting a drain evict it avoids a stuck node.
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
            opts=in_ns,
        )
        self._network_policies(name, args, meta, in_ns)
        if spec.public:
            self._ingress(name, args, meta, in_ns)

        self.register_outputs({"namespace": ns, "url": self.url, "serviceAccount": self.service_account_name})

    # -- configuration ---------------------------------------------------------------------------------------------
    @staticmethod
    def _config(args: WorkloadArgs) -> dict[str, pulumi.Input[str]]:
        spec = args.service
        config: dict[str, pulumi.Input[str]] = {
            "SERVICE_NAME": spec.name,
            "ENVIRONMENT": args.environment,
            "PORT": str(spec.port),
        }
        for callee in args.callees:
            config[f"{callee.env_prefix}_URL"] = callee.url()
        for endpoint in args.data_endpoints:
            config.update(endpoint.config)
        config.update(args.config)
        config.update(dict(spec.env))
        return config

    # -- the pods --------------------------------------------------------------------------------------------------
    def _deployment(self, name, args: WorkloadArgs, meta, checksum, depends_on, opts) -> None:
        spec = args.service
        selector = selector_for(spec)
        env_from: list[dict[str, Any]] = [{"configMapRef": {"name": self.config_map_name}}]
        if self.secret_name:
            env_from.append({"secretRef": {"name": self.secret_name}})

        def probe(path: str, **timing: int) -> dict[str, Any]:
            return {"httpGet": {"port": "http", "path": path}, "timeoutSeconds": 2, **timing}

        container = {
            "name": spec.name,
            "image": args.image,
            "imagePullPolicy": "Always",
            "ports": [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}],
            "envFrom": env_from,
            "resources": {
                "requests": {"cpu": spec.resources.cpu_request, "memory": spec.resources.memory_request},
                "limits": {"cpu": spec.resources.cpu_limit, "memory": spec.resources.memory_limit},
            },
            "readinessProbe": probe(spec.probes.readiness_path, periodSeconds=5, failureThreshold=3),
            "livenessProbe": probe(
                spec.probes.liveness_path, initialDelaySeconds=10, periodSeconds=10, failureThreshold=3
            ),
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": spec.run_as_user,
                "runAsGroup": spec.run_as_user,
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            # The root filesystem is read-only: scratch space is a size-limited emptyDir.
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(spec.name),
            spec={
                "replicas": spec.replicas,
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": selector},
                # Never below capacity: a new pod must be ready before an old one goes.
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": labels_for(spec), "annotations": {"platform.io/config-checksum": checksum}},
                    "spec": {
                        "serviceAccountName": self.service_account_name,
                        "automountServiceAccountToken": spec.kubernetes_api,
                        "securityContext": {
                            "runAsNonRoot": True,
                            "runAsUser": spec.run_as_user,
                            "runAsGroup": spec.run_as_user,
                            "fsGroup": spec.run_as_user,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": ZONE_KEY,
                                "whenUnsatisfiable": "DoNotSchedule",
                                "labelSelector": {"matchLabels": selector},
                            },
                            {
                                "maxSkew": 1,
                                "topologyKey": HOST_KEY,
                                "whenUnsatisfiable": "ScheduleAnyway",
                                "labelSelector": {"matchLabels": selector},
                            },
                        ],
                        "terminationGracePeriodSeconds": 30,
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": args.tmp_size_limit}}],
                    },
                },
            },
            # The autoscaler owns the replica count once the Deployment exists; `replicas` is only the first size.
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(depends_on=depends_on, ignore_changes=["spec.replicas"])
            ),
        )

    def _gitops(self, name: str, args: WorkloadArgs, namespace: k8s.core.v1.Namespace) -> None:
        """Argo CD deploys the pods from Git; its project confines it to this namespace and leaves the guard rails
        (policies, secrets, service account) to this program."""
        spec = args.service
        argo = pulumi.ResourceOptions(parent=self, depends_on=[namespace, *args.wait_for])
        labels = labels_for(spec)
        project = k8s.apiextensions.CustomResource(
            f"{name}-app-project",
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            metadata={"name": spec.name, "namespace": args.argocd_namespace, "labels": labels},
            spec={
                "description": f"{spec.name}: deploys only into its own namespace, only from its own repository",
                "sourceRepos": [spec.delivery.repository],
                "destinations": [{"server": IN_CLUSTER_API, "namespace": spec.namespace}],
                "clusterResourceWhitelist": [],
                "namespaceResourceBlacklist": [{"group": group, "kind": kind} for group, kind in GITOPS_DENIED_KINDS],
            },
            opts=argo,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-application",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={
                "name": spec.name,
                "namespace": args.argocd_namespace,
                "labels": labels,
                # Deleting the Application deletes what it deployed, not just the record of it.
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            spec={
                "project": spec.name,
                "source": {
                    "repoURL": spec.delivery.repository,
                    "path": spec.delivery.path,
                    "targetRevision": spec.delivery.target_revision,
                },
                "destination": {"server": IN_CLUSTER_API, "namespace": spec.namespace},
                "syncPolicy": {
                    "automated": {"prune": True, "selfHeal": True},
                    "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"],
                },
                # The autoscaler owns the replica count of the Deployment the repository declares.
                "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, project, *args.wait_for]),
        )

    # -- the network -----------------------------------------------------------------------------------------------
    def _network_policies(self, name: str, args: WorkloadArgs, meta, opts) -> None:
        spec = args.service
        pods = {"matchLabels": selector_for(spec)}
        http = tcp(spec.port)
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta("default-deny"),
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            opts=opts,
        )

        sources: list[dict[str, Any]] = []
        if spec.public:
            sources.append({"from": ip_blocks(args.load_balancer_cidrs), "ports": http})
        if args.callers:
            sources.append({"from": [peer(caller) for caller in args.callers], "ports": http})
        if sources:
            k8s.networking.v1.NetworkPolicy(
                f"{name}-allow-ingress",
                metadata=meta(f"{spec.name}-ingress"),
                spec={"podSelector": pods, "policyTypes": ["Ingress"], "ingress": sources},
                opts=opts,
            )

        egress: list[Any] = [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ]
        egress += [{"to": [peer(callee)], "ports": tcp(callee.port)} for callee in args.callees]
        for port in sorted({endpoint.port for endpoint in args.data_endpoints}):
            egress.append({"to": ip_blocks(args.data_cidrs), "ports": tcp(port)})
        if args.endpoint_cidrs:
            egress.append({"to": ip_blocks(args.endpoint_cidrs), "ports": tcp(443)})
        if spec.kubernetes_api:
            egress.append({"to": ip_blocks(args.api_server_cidrs), "ports": tcp(443)})
        s3_rule = pulumi.Output.from_input(args.s3_cidrs).apply(
            lambda cidrs: [{"to": ip_blocks(cidrs), "ports": tcp(443)}] if cidrs else []
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-egress",
            metadata=meta(f"{spec.name}-egress"),
            spec={
                "podSelector": pods,
                "policyTypes": ["Egress"],
                "egress": s3_rule.apply(lambda extra: egress + extra),
            },
            opts=opts,
        )

    def _ingress(self, name: str, args: WorkloadArgs, meta, opts) -> None:
        spec, ingress = args.service, args.ingress
        assert spec.route is not None and ingress is not None
        annotations = {
            # The class's IngressClassParams fix the group and scheme; repeated here so the object reads whole.
            "alb.ingress.kubernetes.io/group.name": ingress.group_name,
            "alb.ingress.kubernetes.io/scheme": ingress.scheme,
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/certificate-arn": args.certificate_arn,
            "alb.ingress.kubernetes.io/ssl-policy": ingress.ssl_policy,
            "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
            "alb.ingress.kubernetes.io/healthcheck-path": spec.probes.readiness_path,
            "alb.ingress.kubernetes.io/success-codes": "200-399",
        }
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=meta(spec.name, annotations=annotations),
            spec={
                "ingressClassName": ingress.class_name,
                "tls": [{"hosts": [spec.route.host]}],
                "rules": [
                    {
                        "host": spec.route.host,
                        "http": {
                            "paths": [
                                {
                                    "path": spec.route.path,
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": spec.name, "port": {"name": "http"}}},
                                }
                            ]
                        },
                    }
                ],
            },
            opts=opts,
        )
