"""Rule 1 (mandatory): no hardcoded secrets.

Secrets live in Secrets Manager and reach their consumers at run time: RDS and Aurora manage their own master
password, pods read secrets that External Secrets syncs, nodes fetch what they need with their role. So the program
itself never holds a secret value where it would land in the Pulumi state, a manifest or a launch template.

Unknowns: a password, Secret data or a provider key that is unknown at preview is still a value the program puts in
the state, so it is a violation like a known one. A container env value or user data that is unknown is deferred:
`pulumi up` checks it with the value known, before the resource is created.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .core import (
    MANDATORY,
    UNKNOWN,
    Context,
    Deferred,
    OddInput,
    Outcome,
    Resource,
    as_bool,
    dig,
    is_unknown,
    resource_policy,
)
from .kube import containers, is_pod_bearing, pod_spec
from .scanning import credential_kinds, decoded, is_literal_secret_value, is_secret_name, literal_secret_assignments
from pulumi_policy import Severity

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"


def _present(value: Any) -> bool:
    """Set at all, known or not (an unknown value is still a value in the state)."""
    return value is not None and value != "" and value != [] and value != {}


def check_rds_managed_password(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """RDS instances and Aurora clusters: no password input; `manageMasterUserPassword` on (replicas inherit theirs)."""
    password_key = "password" if resource.type == RDS_INSTANCE else "masterPassword"
    replica_key = "replicateSourceDb" if resource.type == RDS_INSTANCE else "replicationSourceIdentifier"
    if _present(resource.get(password_key)):
        yield (f"sets `{password_key}`, so the master password is in the program and the state; "
               "let RDS manage it in Secrets Manager instead")
    if _present(resource.get(replica_key)):
        return  # a read replica has no master password of its own
    managed = as_bool(resource.get("manageMasterUserPassword"), "manageMasterUserPassword")
    if managed is UNKNOWN:
        yield Deferred("manageMasterUserPassword")
    elif managed is not True:
        yield "does not set `manageMasterUserPassword: true`, so the master password is not managed by RDS"


rds_managed_master_password = resource_policy(
    name="rds-managed-master-password",
    description="RDS and Aurora master passwords are managed by RDS in Secrets Manager, never set by the program.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("remove the password input and set manage_master_user_password=True; applications read the "
                 "credentials from the secret in `master_user_secrets`."),
    types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check_rds_managed_password,
)


SECRET_TYPES = ("kubernetes:core/v1:Secret", "kubernetes:core/v1:SecretPatch")
CONFIGMAP_TYPES = ("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch")


def check_no_literal_kubernetes_secrets(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """No Kubernetes Secret with data declared by the program, and no secret in a ConfigMap."""
    if resource.type in SECRET_TYPES:
        for key in ("data", "stringData"):
            value = resource.get(key)
            if _present(value):
                keys = sorted(value) if isinstance(value, Mapping) else []
                shown = f" (keys: {', '.join(keys)})" if keys else ""
                yield (f"declares the Secret with literal `{key}`{shown}: its values sit in the Pulumi state and the "
                       "program; secrets come from Secrets Manager through an ExternalSecret")
        return
    data = resource.get("data")
    if is_unknown(data):
        yield Deferred("data")
        return
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise OddInput("ConfigMap data should be an object")
    for key, value in sorted(data.items()):
        if is_unknown(value):
            yield Deferred(f"data.{key}")
            continue
        if not isinstance(value, str):
            continue
        if is_secret_name(key) and is_literal_secret_value(value):
            yield f"ConfigMap key `{key}` is named like a secret and holds a literal value"
        for kind in credential_kinds(value):
            yield f"ConfigMap key `{key}` contains {kind}"


no_literal_kubernetes_secrets = resource_policy(
    name="no-literal-kubernetes-secrets",
    description="The program creates no Kubernetes Secret with literal data and puts no secret in a ConfigMap.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("declare an ExternalSecret (External Secrets Operator) that syncs the value from Secrets Manager "
                 "into a Secret, and reference that Secret from the pod."),
    types=SECRET_TYPES + CONFIGMAP_TYPES,
    check=check_no_literal_kubernetes_secrets,
)


def check_container_env(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """Every container (init and ephemeral included) of every pod-bearing kind: no secret literal in `env`."""
    spec = pod_spec(resource)
    if spec is None:
        return
    if is_unknown(spec):
        yield Deferred("spec")
        return
    for container in containers(spec):
        if is_unknown(container):
            yield Deferred("containers")
            continue
        env = container.get("env")
        if is_unknown(env):
            yield Deferred(f"{container.name}.env")
            continue
        if env is None:
            continue
        if not isinstance(env, list):
            raise OddInput(f"{container.label} env should be a list")
        for index, var in enumerate(env):
            if not isinstance(var, Mapping):
                yield f"{container.label} env[{index}] is not an object"
                continue
            name = var.get("name") if isinstance(var.get("name"), str) else f"env[{index}]"
            value = var.get("value")
            if value is None:
                continue  # valueFrom (secretKeyRef / configMapKeyRef / fieldRef) or empty
            if is_unknown(value):
                # A secret-named variable with a computed literal still puts the secret in the pod spec.
                if is_secret_name(name):
                    yield (f"{container.label} sets secret-named variable `{name}` to a literal value (computed "
                           "at deploy time); use valueFrom.secretKeyRef")
                else:
                    yield Deferred(f"{container.name}.env.{name}")
                continue
            text = value if isinstance(value, str) else str(value)
            if is_secret_name(name) and is_literal_secret_value(text):
                yield f"{container.label} sets secret-named variable `{name}` to a literal value; use valueFrom.secretKeyRef"
            for kind in credential_kinds(text):
                yield f"{container.label} variable `{name}` contains {kind}"


no_secret_literals_in_container_env = resource_policy(
    name="no-secret-literals-in-container-env",
    description="No container env var carries a secret-named literal or anything that looks like a credential.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("take the value from a Secret synced by External Secrets (env[].valueFrom.secretKeyRef) and "
                 "remove the literal; rotate any credential that was committed."),
    types=is_pod_bearing,
    check=check_container_env,
)


USER_DATA_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws:ec2/instance:Instance": (("userData",), ("userDataBase64",)),
    "aws:ec2/launchTemplate:LaunchTemplate": (("userData",),),
    "aws:ec2/launchConfiguration:LaunchConfiguration": (("userData",), ("userDataBase64",)),
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": (("userData",), ("userDataBase64",)),
    "eks:index:ManagedNodeGroup": (("userData",),),
    "eks:index:NodeGroup": (("nodeUserData",), ("nodeUserDataOverride",)),
    "eks:index:NodeGroupV2": (("nodeUserData",), ("nodeUserDataOverride",)),
    "eks:index:Cluster": (("nodeUserData",), ("nodeGroupOptions", "nodeUserData"), ("nodeGroupOptions", "nodeUserDataOverride")),
}


def check_user_data(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """Instance and node user data: no secret-named variable with a literal value, no credential."""
    for path in USER_DATA_FIELDS[resource.type]:
        value = dig(resource.props, *path)
        where = ".".join(path)
        if value is None:
            continue
        if is_unknown(value):
            yield Deferred(where)
            continue
        if not isinstance(value, str):
            raise OddInput(f"{where} should be text")
        text = decoded(value)
        for name in literal_secret_assignments(text):
            yield f"{where} assigns secret-named variable `{name}` a literal value"
        for kind in credential_kinds(text):
            yield f"{where} contains {kind}"


no_secrets_in_user_data = resource_policy(
    name="no-secrets-in-user-data",
    description="EC2 instance, launch template and node user data carry no secret literal or credential.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("fetch secrets at boot with the instance role (Secrets Manager or SSM Parameter Store) instead of "
                 "writing them into user data, and rotate any credential that was exposed."),
    types=tuple(USER_DATA_FIELDS),
    check=check_user_data,
)


def check_static_provider_credentials(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    """AWS providers carry no keys (they use the role CI assumed); Kubernetes providers no static token or key."""
    if resource.type == "pulumi:providers:aws":
        for key in ("accessKey", "secretKey", "token"):
            if _present(resource.get(key)):
                yield (f"sets `{key}`: the provider carries static credentials; it must use the credentials of an "
                       "assumed role (OIDC in CI, SSO for people)")
        return
    kubeconfig = resource.get("kubeconfig")
    if kubeconfig is None:
        return
    if is_unknown(kubeconfig):
        yield Deferred("kubeconfig")
        return
    text = kubeconfig if isinstance(kubeconfig, str) else json.dumps(kubeconfig, default=str)
    lowered = text.lower()
    for marker, what in (("client-key-data", "a client private key"), ("\"token\"", "a bearer token"),
                         ("token:", "a bearer token"), ("password", "a password")):
        if marker in lowered:
            yield f"kubeconfig embeds {what}; use an exec credential plugin (`aws eks get-token`) instead"
            break


no_static_provider_credentials = resource_policy(
    name="no-static-provider-credentials",
    description="Providers carry no static credentials: the AWS provider uses an assumed role, never access keys.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("remove access_key/secret_key/token from the provider and the `aws:accessKey`/`aws:secretKey` "
                 "config; CI assumes a role through OIDC and people use SSO, so the SDK's default credential chain "
                 "supplies short-lived credentials."),
    types=("pulumi:providers:aws", "pulumi:providers:kubernetes"),
    check=check_static_provider_credentials,
)


def check_imported_certificate(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    if _present(resource.get("privateKey")):
        yield ("imports a certificate with its private key from the program: the key sits in the state and the "
               "certificate never renews")


no_imported_certificate_keys = resource_policy(
    name="no-imported-certificate-keys",
    description="No certificate is imported with its private key in code.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="request the certificate from ACM with validation_method=\"DNS\" instead of importing it.",
    types=("aws:acm/certificate:Certificate", "aws:iam/serverCertificate:ServerCertificate"),
    check=check_imported_certificate,
)

POLICIES = [
    rds_managed_master_password,
    no_literal_kubernetes_secrets,
    no_secret_literals_in_container_env,
    no_secrets_in_user_data,
    no_static_provider_credentials,
    no_imported_certificate_keys,
]
