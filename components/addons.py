"""The platform add-ons: Helm releases on the system nodes, each with its own IRSA role and least privilege.

- AWS Load Balancer Controller: ALBs for Ingresses (IngressClass `alb`), NLBs for Services; region and VPC given
  explicitly (nodes hide the instance metadata service from pods). Shield Advanced and WAF Classic are switched off
  (their permissions are not granted); WAFv2 stays available.
- cluster-autoscaler: the node groups are EKS managed node groups whose min/max sizes come from stack config, and the
  autoscaler scales exactly those (found by the tags EKS puts on their Auto Scaling groups) between those bounds.
  Karpenter would bypass the managed node groups and their sizes with its own NodePools and a second instance
  model to secure and test; it is not used.
- metrics-server: the resource-metrics API (HorizontalPodAutoscaler, `kubectl top`).
- External Secrets Operator and the ClusterSecretStore `platform-secrets`: it reads Secrets Manager only under this
  stack's path (`platform/<stack>/`) plus secret ARNs passed in (the RDS-managed master secret), through a role of its
  own on a dedicated service account; the controller itself has no AWS access, so a namespaced SecretStore cannot
  borrow it. Only namespaces labelled `platform.io/secret-store: platform-secrets` may use the store.
- Argo CD, when the stack switches it on, for services that choose GitOps delivery (namespace `argocd`).

Every chart version is an exact pin from the stack's one table (`platform:addons.charts`); the chart repositories,
namespaces and service accounts are in `CHARTS` below. Add-ons tolerate the `CriticalAddonsOnly` taint and select
the system node group. The namespaces created here enforce the restricted Pod Security Standard and audit and warn
at it; Argo CD's enforces baseline (its chart's pods are not proven against restricted), which the stack's policy
config documents as an exception. Nothing here chooses a Kubernetes provider: the caller passes the cluster's one
provider in `opts` (`providers={"kubernetes": ...}`), and every in-cluster resource inherits it.

Inputs (`AddonsArgs`): chart versions, whether Argo CD is on, the cluster name, region, VPC, the cluster security
group (the targets' group the load balancer controller may open), OIDC provider, the secrets path, extra secret ARNs
and KMS key ARNs the store may use, and the resources to wait for.
Outputs: `releases` ({add-on: Release}), `roles` ({add-on: IrsaRole}), `secret_store_name`,
`secret_store_namespace_label`, `ingress_class`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as kubernetes

from .addon_policies import cluster_autoscaler_policy, load_balancer_controller_policy, secrets_reader_policy
from .certificate import SSL_POLICY
from .cluster import SYSTEM_NODE_SELECTOR, SYSTEM_TOLERATIONS
from .irsa import IrsaArgs, IrsaRole, OidcProvider


@dataclass(frozen=True)
class Chart:
    chart: str
    repository: str
    namespace: str
    service_account: str
    # The service account whose IRSA role carries the add-on's AWS permissions, or None with the reason it has none.
    irsa_service_account: str | None
    no_aws_access: str = ""
    # The Pod Security Standard the namespace enforces. Below restricted only with a documented exception for the
    # namespace in the stack's policy config, which gives the reason and an expiry date.
    pod_security: str = "restricted"


SECRET_STORE = "platform-secrets"
SECRET_STORE_LABEL = "platform.io/secret-store"
INGRESS_CLASS = "alb"

CHARTS: dict[str, Chart] = {
    "aws-load-balancer-controller": Chart(
        chart="aws-load-balancer-controller",
        repository="https://aws.github.io/eks-charts",
        namespace="kube-system",
        service_account="aws-load-balancer-controller",
        irsa_service_account="aws-load-balancer-controller",
    ),
    "cluster-autoscaler": Chart(
        chart="cluster-autoscaler",
        repository="https://kubernetes.github.io/autoscaler",
        namespace="kube-system",
        service_account="cluster-autoscaler",
        irsa_service_account="cluster-autoscaler",
    ),
    "metrics-server": Chart(
        chart="metrics-server",
        repository="https://kubernetes-sigs.github.io/metrics-server/",
        namespace="kube-system",
        service_account="metrics-server",
        irsa_service_account=None,
        no_aws_access="it scrapes kubelets and serves the metrics API; it never calls AWS",
    ),
    "external-secrets": Chart(
        chart="external-secrets",
        repository="https://charts.external-secrets.io",
        namespace="external-secrets",
        service_account="external-secrets",
        # The store's own service account, not the controller's (see the module docstring).
        irsa_service_account=SECRET_STORE,
    ),
    "argo-cd": Chart(
        chart="argo-cd",
        repository="https://argoproj.github.io/argo-helm",
        namespace="argocd",
        service_account="argocd-application-controller",
        irsa_service_account=None,
        no_aws_access="it syncs manifests from Git into this cluster; it never calls AWS",
        # Its chart's pods are not proven against restricted yet (the pack cannot see inside a chart).
        pod_security="baseline",
    ),
}
OPTIONAL = {"argo-cd"}


def pod_security_labels(level: str) -> dict[str, str]:
    """Pod Security Admission labels of a namespace this component creates (kube-system exists): it enforces `level`,
    and audits and warns at restricted, so whatever a lower level lets through is still reported."""
    return {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }


@dataclass(frozen=True)
class AddonsArgs:
    # Add-on -> exact chart version. Every installed add-on needs one; there is no default anywhere else.
    chart_versions: Mapping[str, str] = field(default_factory=dict)
    argocd_enabled: bool = False
    # Filled by the program from the cluster and the stack.
    cluster_name: pulumi.Input[str] | None = None
    region: str = ""
    vpc_id: pulumi.Input[str] | None = None
    # The EKS cluster security group, the only group of every node and so of every pod (target-type ip): the one
    # existing group whose ingress the load balancer controller may change (see `load_balancer_controller_policy`).
    cluster_security_group_id: pulumi.Input[str] | None = None
    oidc: OidcProvider | None = None
    secrets_prefix: str = ""
    # Secrets outside the prefix the store may read (e.g. the RDS-managed master secret), and their CMKs.
    extra_secret_arns: tuple[pulumi.Input[str], ...] = ()
    secret_kms_key_arns: tuple[pulumi.Input[str], ...] = ()
    # Installed only after these (node groups, CoreDNS, storage).
    wait_for: tuple[pulumi.Resource, ...] = ()

    def installed(self) -> list[str]:
        return [key for key in CHARTS if key not in OPTIONAL or (key == "argo-cd" and self.argocd_enabled)]

# A container security context that meets the restricted Pod Security Standard (the chart's own keys and defaults).
RESTRICTED_CONTAINER = {
    "enabled": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _placement() -> dict:
    return {"tolerations": [dict(t) for t in SYSTEM_TOLERATIONS], "nodeSelector": dict(SYSTEM_NODE_SELECTOR)}


class PlatformAddons(pulumi.ComponentResource):
    releases: dict[str, kubernetes.helm.v3.Release]
    roles: dict[str, IrsaRole]
    secret_store_name: str
    secret_store_namespace_label: dict[str, str]
    ingress_class: str

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:eks:PlatformAddons", name, None, opts)
        if (
            args.cluster_name is None
            or args.vpc_id is None
            or args.cluster_security_group_id is None
            or args.oidc is None
            or not args.region
        ):
            raise ValueError("addons: cluster_name, region, vpc_id, cluster_security_group_id and oidc are required")
        if not args.secrets_prefix.endswith("/"):
            raise ValueError(f"addons: the secrets prefix must be a path ending in '/', got {args.secrets_prefix!r}")
        missing = [key for key in args.installed() if not args.chart_versions.get(key)]
        if missing:
            raise ValueError(f"addons: no pinned chart version for {', '.join(missing)}")
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity(opts=invoke).account_id
        partition = aws.get_partition(opts=invoke).partition
        where = {"partition": partition, "region": args.region, "account_id": account_id}

        policies = {
            "aws-load-balancer-controller": pulumi.Output.all(
                args.cluster_name, args.vpc_id, args.cluster_security_group_id
            ).apply(
                lambda v: load_balancer_controller_policy(
                    **where, cluster_name=v[0], vpc_id=v[1], target_security_group_ids=[v[2]]
                )
            ),
            "cluster-autoscaler": pulumi.Output.from_input(args.cluster_name).apply(
                lambda cluster: cluster_autoscaler_policy(**where, cluster_name=cluster)
            ),
            "external-secrets": pulumi.Output.all(
                list(args.extra_secret_arns), list(args.secret_kms_key_arns)
            ).apply(
                lambda v: secrets_reader_policy(
                    **where, secrets_prefix=args.secrets_prefix, extra_secret_arns=v[0], kms_key_arns=v[1]
                )
            ),
        }
        self.roles = {}
        for key in args.installed():
            chart = CHARTS[key]
            if chart.irsa_service_account is None:
                continue
            self.roles[key] = IrsaRole(
                f"{name}-{key}",
                IrsaArgs(
                    oidc=args.oidc,
                    namespace=chart.namespace,
                    service_account=chart.irsa_service_account,
                    policy=policies[key],
                    description=f"Platform add-on {key}",
                ),
                opts=child,
            )

        namespaces = {
            ns: kubernetes.core.v1.Namespace(
                f"{name}-{ns}",
                metadata=kubernetes.meta.v1.ObjectMetaArgs(name=ns, labels=pod_security_labels(level)),
                opts=child,
            )
            for ns, level in sorted({(CHARTS[key].namespace, CHARTS[key].pod_security) for key in args.installed()})
            if ns != "kube-system"
        }

        def service_account(key: str) -> dict:
            """The chart's service account, annotated with the add-on's role when the role is this account's."""
            chart = CHARTS[key]
            owns_role = key in self.roles and chart.irsa_service_account == chart.service_account
            annotations = dict(self.roles[key].service_account_annotations) if owns_role else {}
            return {"create": True, "name": chart.service_account, "annotations": annotations}

        values = {
            "aws-load-balancer-controller": {
                "clusterName": args.cluster_name,
                "region": args.region,
                "vpcId": args.vpc_id,
                "replicaCount": 2,
                "serviceAccount": service_account("aws-load-balancer-controller"),
                "enableShield": False,
                "enableWaf": False,
                "enableWafv2": True,
                "defaultSSLPolicy": SSL_POLICY,
                "podDisruptionBudget": {"maxUnavailable": 1},
                **_placement(),
            },
            "cluster-autoscaler": {
                "cloudProvider": "aws",
                "awsRegion": args.region,
                "autoDiscovery": {"clusterName": args.cluster_name},
                "rbac": {"serviceAccount": service_account("cluster-autoscaler")},
                # Of the groups a pending pod fits, grow the one that leaves the least CPU and memory idle.
                "extraArgs": {"expander": "least-waste"},
                **_placement(),
            },
            "metrics-server": {
                "replicas": 2,
                "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
                "serviceAccount": service_account("metrics-server"),
                **_placement(),
            },
            "external-secrets": {
                "installCRDs": True,
                # The chart's defaults already meet the restricted standard; stating them keeps them so.
                "securityContext": RESTRICTED_CONTAINER,
                "webhook": {**_placement(), "securityContext": RESTRICTED_CONTAINER},
                "certController": {**_placement(), "securityContext": RESTRICTED_CONTAINER},
                # The controller's own account carries no role: the store's account does (see the module docstring).
                "serviceAccount": service_account("external-secrets"),
                **_placement(),
            },
            "argo-cd": {
                "global": _placement(),
                # Single sign-on is not configured; Dex would only be an idle pod.
                "dex": {"enabled": False},
            },
        }

        self.releases = {}
        first = "aws-load-balancer-controller"
        for key in args.installed():
            chart = CHARTS[key]
            # The controller's webhooks mutate Services and Pods: everything else is installed once it answers.
            after = [*args.wait_for, *([self.releases[first]] if key != first else [])]
            if chart.namespace in namespaces:
                after.append(namespaces[chart.namespace])
            self.releases[key] = kubernetes.helm.v3.Release(
                f"{name}-{key}",
                name=key,
                chart=chart.chart,
                version=args.chart_versions[key],
                repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=chart.repository),
                namespace=chart.namespace,
                values=values[key],
                cleanup_on_fail=True,
                max_history=10,
                timeout=900,
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )

        self._secret_store(name, args)
        self.ingress_class = INGRESS_CLASS
        self.register_outputs(
            {
                "releases": {key: release.status for key, release in self.releases.items()},
                "roles": {key: role.role_arn for key, role in self.roles.items()},
                "secretStore": self.secret_store_name,
            }
        )

    def _secret_store(self, name: str, args: AddonsArgs) -> None:
        chart = CHARTS["external-secrets"]
        release = self.releases["external-secrets"]
        account = kubernetes.core.v1.ServiceAccount(
            f"{name}-{SECRET_STORE}",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(
                name=SECRET_STORE,
                namespace=chart.namespace,
                annotations=self.roles["external-secrets"].service_account_annotations,
            ),
            # Only the controller uses this identity, through the TokenRequest API; no pod mounts its token.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        self.secret_store_name = SECRET_STORE
        self.secret_store_namespace_label = {SECRET_STORE_LABEL: SECRET_STORE}
        kubernetes.apiextensions.CustomResource(
            f"{name}-cluster-secret-store",
            api_version="external-secrets.io/v1",
            kind="ClusterSecretStore",
            metadata=kubernetes.meta.v1.ObjectMetaArgs(name=SECRET_STORE),
            spec={
                "provider": {
                    "aws": {
                        "service": "SecretsManager",
                        "region": args.region,
                        "auth": {"jwt": {"serviceAccountRef": {"name": SECRET_STORE, "namespace": chart.namespace}}},
                    }
                },
                "conditions": [{"namespaceSelector": {"matchLabels": dict(self.secret_store_namespace_label)}}],
            },
            # The CRDs come with the release; the identity must exist before the store is first checked.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release, account]),
        )
