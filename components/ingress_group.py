"""The shared ingress: one AWS Load Balancer Controller IngressGroup, i.e. one ALB for every public route that joins it.

An IngressClass backed by an IngressClassParams fixes what no single service's Ingress may change: the group (so every
route lands on the same load balancer and shares its listeners and certificate handling), the scheme, the TLS policy
and the load balancer's attributes (deletion protection, idle timeout, invalid headers dropped). Its namespace
selector admits only the namespaces of the services routed through it, so nothing else can attach itself to the
public load balancer. The ALB itself is created by the controller from the Ingresses of the group, each of which adds
its host and path, its certificate and the HTTP-to-HTTPS redirect (see `components/workloads.py`).

Inputs (`IngressGroupArgs`): the catalogue's `IngressSpec`, the namespaces allowed to use it, AWS tags for what the
controller creates, what to wait for (the controller's release). The kubernetes provider comes through `opts`.
Outputs: `class_name`, `group_name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .catalogue import IngressSpec

CONTROLLER = "ingress.k8s.aws/alb"


@dataclass(frozen=True)
class IngressGroupArgs:
    ingress: IngressSpec
    namespaces: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    # What the objects wait for: the load balancer controller's release, which brings the IngressClassParams CRD.
    wait_for: tuple[pulumi.Resource, ...] = ()


class IngressGroup(pulumi.ComponentResource):
    class_name: str
    group_name: str

    def __init__(self, name: str, args: IngressGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:workloads:IngressGroup", name, None, opts)
        spec = args.ingress
        if not args.namespaces:
            raise ValueError(f"ingress {spec.name}: no namespace may use it; declare it only when a route names it")
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for))
        labels = {
            "app.kubernetes.io/name": spec.name,
            "app.kubernetes.io/part-of": "platform",
            "app.kubernetes.io/managed-by": "pulumi",
        }
        attributes = {
            "deletion_protection.enabled": str(spec.deletion_protection).lower(),
            "idle_timeout.timeout_seconds": str(spec.idle_timeout_seconds),
            "routing.http.drop_invalid_header_fields.enabled": "true",
        }
        params = k8s.apiextensions.CustomResource(
            f"{name}-params",
            api_version="elbv2.k8s.aws/v1beta1",
            kind="IngressClassParams",
            metadata={"name": spec.class_name, "labels": labels},
            spec={
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(args.namespaces)}
                    ]
                },
                "group": {"name": spec.group_name},
                "scheme": spec.scheme,
                "ipAddressType": "ipv4",
                "sslPolicy": spec.ssl_policy,
                "loadBalancerAttributes": [{"key": k, "value": v} for k, v in attributes.items()],
                "tags": [{"key": k, "value": v} for k, v in sorted(args.tags.items())],
            },
            opts=child,
        )
        k8s.networking.v1.IngressClass(
            f"{name}-class",
            metadata={"name": spec.class_name, "labels": labels},
            spec={
                "controller": CONTROLLER,
                "parameters": {
                    "apiGroup": "elbv2.k8s.aws",
                    "kind": "IngressClassParams",
                    "name": spec.class_name,
                    "scope": "Cluster",
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[params, *args.wait_for]),
        )
        self.class_name = spec.class_name
        self.group_name = spec.group_name
        self.register_outputs({"className": self.class_name, "groupName": self.group_name})
