"""Wiring of the service catalogue: per catalogued service, its IRSA role and its workload on the cluster.

`build_workloads(...)` turns each `ServiceSpec` of the stack's catalogue into what the platform hands it: an IRSA role
assumable only by the service's own service account, carrying the least-privilege document `components/access.py`
builds from the entry (its queues, its prefix of each bucket; nothing for a service that calls no AWS API); the secret
references (the RDS-managed database credentials, the Redis token, the RabbitMQ credentials, the internal token) that
its ExternalSecret syncs; the endpoints of its data stores; the in-cluster URLs of the services it calls; and the
CIDRs its NetworkPolicies name. Each shared ingress that a route names becomes one IngressGroup (one ALB).

Environment variables a service receives (the contract with its code; plain ones in the ConfigMap, secret ones in
the synced Secret): SERVICE_NAME, ENVIRONMENT, PORT, AWS_REGION; <CALLEE>_URL per service it calls;
DATABASE_HOST/PORT/NAME/SSLMODE and secret DATABASE_USERNAME/PASSWORD (postgres); REDIS_HOST/PORT/TLS and secret
REDIS_AUTH_TOKEN (redis); RABBITMQ_ENDPOINT and secret RABBITMQ_USERNAME/PASSWORD (rabbitmq); QUEUE_<NAME>_URL per
queue; BUCKET_<NAME>_NAME/PREFIX per bucket; secret INTERNAL_TOKEN (internal-token); plus the entry's own `env`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import access
from components.addons import CHARTS, PlatformAddons
from components.cache import PORT as REDIS_PORT
from components.catalogue import IngressSpec, ServiceSpec, env_name
from components.certificate import PublicCertificate
from components.cluster import Cluster
from components.database import PORT as POSTGRES_PORT
from components.ingress_group import IngressGroup, IngressGroupArgs
from components.irsa import IrsaArgs, IrsaRole
from components.messaging import AMQPS_PORT
from components.network import Network
from components.workloads import DataEndpoint, SecretRef, Workload, WorkloadArgs

from .config import StackConfig
from .config.services import has_registry
from .data_stores import DataStores


@dataclass(frozen=True)
class Workloads:
    roles: dict[str, IrsaRole]
    workloads: dict[str, Workload]
    ingresses: dict[str, IngressGroup]


def image_reference(image: str, account_id: str, region: str) -> str:
    """An image without a registry host comes from this account's ECR in the stack's region (reached through the
    VPC's ECR endpoints); one with a host is used as written."""
    return image if has_registry(image) else f"{account_id}.dkr.ecr.{region}.amazonaws.com/{image}"


def service_access(spec: ServiceSpec, data: DataStores) -> access.ServiceAccess:
    """What the service's pods may do with AWS, exactly as its entry declares. Secrets are not here: External Secrets
    reads them (with its own role) and hands the pod a Kubernetes Secret."""
    queues = tuple(
        access.QueueAccess(
            arn=data.messaging.queues[name]["arn"],
            send=mode in ("send", "send-receive"),
            receive=mode in ("receive", "send-receive"),
            kms_key_arn=data.messaging.kms_key_arn,
        )
        for name, mode in spec.uses.queues
    )
    buckets = tuple(
        access.BucketAccess(
            arn=data.storage.buckets[name]["arn"],
            # A service owns its own prefix of a shared bucket, never the whole bucket.
            prefixes=(f"{spec.name}/",),
            read=True,
            write=mode == "read-write",
            delete=mode == "read-write",
            kms_key_arn=data.storage.kms_key_arn,
        )
        for name, mode in spec.uses.buckets
    )
    return access.ServiceAccess(service=spec.name, queues=queues, buckets=buckets)


def secret_refs(spec: ServiceSpec, data: DataStores) -> tuple[SecretRef, ...]:
    refs: list[SecretRef] = []
    if "postgres" in spec.uses.data_stores:
        # The master credentials RDS manages (and rotates) in Secrets Manager, as {"username", "password"} JSON.
        refs += [
            SecretRef("DATABASE_USERNAME", data.database.master_secret_arn, "username"),
            SecretRef("DATABASE_PASSWORD", data.database.master_secret_arn, "password"),
        ]
    if "redis" in spec.uses.data_stores:
        refs.append(SecretRef("REDIS_AUTH_TOKEN", data.cache.auth_token_secret_arn))
    if "rabbitmq" in spec.uses.data_stores:
        arn = data.messaging.broker_credentials_secret_arn
        refs += [SecretRef("RABBITMQ_USERNAME", arn, "username"), SecretRef("RABBITMQ_PASSWORD", arn, "password")]
    if "internal-token" in spec.uses.secrets:
        refs.append(SecretRef("INTERNAL_TOKEN", data.internal_token.secret_arn))
    return tuple(refs)


def data_endpoints(spec: ServiceSpec, data: DataStores) -> tuple[DataEndpoint, ...]:
    endpoints = []
    if "postgres" in spec.uses.data_stores:
        endpoints.append(
            DataEndpoint(
                "postgres",
                POSTGRES_PORT,
                {
                    "DATABASE_HOST": data.database.address,
                    "DATABASE_PORT": str(POSTGRES_PORT),
                    "DATABASE_NAME": data.database.database_name,
                    # The parameter group forces TLS (rds.force_ssl).
                    "DATABASE_SSLMODE": "require",
                },
            )
        )
    if "redis" in spec.uses.data_stores:
        endpoints.append(
            DataEndpoint(
                "redis",
                REDIS_PORT,
                {"REDIS_HOST": data.cache.primary_endpoint, "REDIS_PORT": str(REDIS_PORT), "REDIS_TLS": "true"},
            )
        )
    if "rabbitmq" in spec.uses.data_stores and data.messaging.amqps_endpoint is not None:
        endpoints.append(DataEndpoint("rabbitmq", AMQPS_PORT, {"RABBITMQ_ENDPOINT": data.messaging.amqps_endpoint}))
    return tuple(endpoints)


def plain_config(spec: ServiceSpec, cfg: StackConfig, data: DataStores) -> dict[str, pulumi.Input[str]]:
    config: dict[str, pulumi.Input[str]] = {"AWS_REGION": cfg.region}
    for name, _ in spec.uses.queues:
        config[f"QUEUE_{env_name(name)}_URL"] = data.messaging.queues[name]["url"]
    for name, _ in spec.uses.buckets:
        config[f"BUCKET_{env_name(name)}_NAME"] = data.storage.buckets[name]["name"]
        config[f"BUCKET_{env_name(name)}_PREFIX"] = f"{spec.name}/"
    return config


def load_balancer_cidrs(ingress: IngressSpec, cfg: StackConfig) -> tuple[str, ...]:
    """Where the ALB's nodes are, hence where its IP-mode targets are reached from: the public subnets for an
    internet-facing ALB (`kubernetes.io/role/elb`), the private subnets for an internal one (`.../internal-elb`)."""
    tier = "public" if ingress.scheme == "internet-facing" else "private"
    return tuple(cfg.network.subnets(tier)[: cfg.network.az_count])


def policy_for(grants: access.ServiceAccess, region: str, account_id: pulumi.Output[str]) -> pulumi.Output[str] | None:
    """The role's permission policy; None for a service that calls no AWS API (its role then grants nothing)."""
    if not grants.grants_anything:
        return None
    return account_id.apply(
        lambda account: pulumi.Output.from_input(access.policy_document(grants, access.AwsContext(region, account)))
    )


def build_workloads(
    cfg: StackConfig,
    *,
    network: Network,
    cluster: Cluster,
    certificate: PublicCertificate,
    data: DataStores,
    addons: PlatformAddons,
    aws_provider: aws.Provider,
) -> Workloads:
    catalogue = cfg.catalogue
    aws_opts = pulumi.ResourceOptions(providers={"aws": aws_provider})
    k8s_opts = pulumi.ResourceOptions(providers={"kubernetes": cluster.k8s_provider})
    # Output forms: a blocking invoke through the explicit provider would wait on the provider it runs inside.
    invoke = pulumi.InvokeOptions(provider=aws_provider)
    account_id = aws.get_caller_identity_output(opts=invoke).account_id
    # Everything in the namespaces waits for the add-on releases: their CRDs (ExternalSecret, IngressClassParams,
    # Application) and the load balancer controller's webhooks. (Not on the add-ons component as a whole: under the
    # mock runtime's preview that dependency never resolves.)
    wait_for: tuple[pulumi.Resource, ...] = tuple(addons.releases.values())
    s3_cidrs: pulumi.Input[Sequence[str]] = ()
    if any(spec.uses.buckets for spec in catalogue.services):
        s3_cidrs = aws.ec2.get_prefix_list_output(name=f"com.amazonaws.{cfg.region}.s3", opts=invoke).cidr_blocks

    ingresses: dict[str, IngressGroup] = {}
    for ingress in catalogue.ingresses:
        routed = [spec.namespace for spec in catalogue.services if spec.route and spec.route.ingress == ingress.name]
        if routed:  # the controller makes no ALB for a group without routes; neither do we declare its class
            ingresses[ingress.name] = IngressGroup(
                ingress.name,
                IngressGroupArgs(ingress=ingress, namespaces=tuple(routed), tags=cfg.default_tags, wait_for=wait_for),
                k8s_opts,
            )

    roles: dict[str, IrsaRole] = {}
    workloads: dict[str, Workload] = {}
    for spec in catalogue.services:
        grants = service_access(spec, data)
        roles[spec.name] = IrsaRole(
            f"service-{spec.name}",
            IrsaArgs(
                oidc=cluster.oidc,
                namespace=spec.namespace,
                service_account=spec.name,
                # A service that calls no AWS API still gets its own role, with no permissions at all.
                policy=policy_for(grants, cfg.region, account_id),
                description=f"{cfg.name_prefix} service {spec.name}: exactly what its catalogue entry declares",
            ),
            aws_opts,
        )
        route_ingress = catalogue.ingress(spec.route.ingress) if spec.route else None
        workloads[spec.name] = Workload(
            f"service-{spec.name}",
            WorkloadArgs(
                service=spec,
                image=account_id.apply(lambda account, image=spec.image: image_reference(image, account, cfg.region)),
                environment=cfg.environment,
                role_arn=roles[spec.name].role_arn,
                secret_store=addons.secret_store_name,
                namespace_labels=dict(addons.secret_store_namespace_label),
                secrets=secret_refs(spec, data),
                callers=tuple(catalogue.service(name) for name in spec.callers),
                callees=catalogue.callees(spec.name),
                data_endpoints=data_endpoints(spec, data),
                config=plain_config(spec, cfg, data),
                load_balancer_cidrs=load_balancer_cidrs(route_ingress, cfg) if route_ingress else (),
                data_cidrs=tuple(network.data_subnet_cidrs),
                endpoint_cidrs=tuple(network.private_subnet_cidrs) if spec.uses.aws_apis else (),
                s3_cidrs=s3_cidrs if spec.uses.buckets else (),
                # The control plane's ENIs are in the cluster's (private) subnets.
                api_server_cidrs=tuple(network.private_subnet_cidrs) if spec.kubernetes_api else (),
                ingress=route_ingress,
                certificate_arn=certificate.certificate_arn if spec.route else None,
                argocd_namespace=CHARTS["argo-cd"].namespace,
                wait_for=wait_for + ((ingresses[spec.route.ingress],) if spec.route else ()),
            ),
            k8s_opts,
        )

    pulumi.export(
        "services",
        {
            spec.name: {
                "namespace": workloads[spec.name].namespace,
                "url": workloads[spec.name].url,
                "roleArn": roles[spec.name].role_arn,
                **({"host": spec.route.host} if spec.route else {}),
            }
            for spec in catalogue.services
        },
    )
    return Workloads(roles=roles, workloads=workloads, ingresses=ingresses)
