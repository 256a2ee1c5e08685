"""Rule 3 (mandatory): no root, in containers or in AWS.

Containers in every pod-bearing kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
Job, CronJob, PodTemplate and custom kinds with a pod template), at pod and container level and for init and ephemeral
containers too, run as non-root with an explicit non-zero UID, never privileged, never escalating privileges and never
in the host's namespaces. Windows pods (`spec.os.name: windows`), where the API refuses those Linux fields, run with
runAsNonRoot and a named user other than ContainerAdministrator (`windowsOptions.runAsUserName`). In AWS nobody holds long-lived keys: there are no IAM users and no access keys, people and
machines assume roles, and the AWS provider carries no keys (checked by `no-static-provider-credentials`).

Unknowns: a security-context value unknown at preview is deferred to `pulumi up`. An IAM user or access key is a
violation whatever its inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import Severity

from .core import (
    MANDATORY,
    UNKNOWN,
    Context,
    Deferred,
    Outcome,
    Resource,
    as_bool,
    as_int,
    as_list,
    dig,
    is_unknown,
    resource_policy,
)
from .kube import Container, containers, is_pod_bearing, pod_spec

DANGEROUS_CAPABILITIES = ("ALL", "SYS_ADMIN", "CAP_SYS_ADMIN", "NET_ADMIN", "CAP_NET_ADMIN", "SYS_PTRACE", "SYS_MODULE")


def _effective(container: Container, pod_context: Any, key: str) -> Any:
    """A container's security setting, falling back to the pod's (as the kubelet does for runAsUser/runAsNonRoot)."""
    own = container.get("securityContext", key)
    if own is not None:
        return own
    return dig(pod_context, key)


def check_non_root(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    spec = pod_spec(resource)
    if spec is None:
        return
    if is_unknown(spec):
        yield Deferred("spec")
        return
    pod_context = spec.get("securityContext")
    if is_unknown(pod_context):
        yield Deferred("securityContext")
        return
    windows = dig(spec, "os", "name")
    if is_unknown(windows):
        yield Deferred("os.name")
        return
    if windows == "windows":
        yield from _windows_non_root(spec, pod_context)
        return
    pod_user = as_int(dig(pod_context, "runAsUser"), "pod securityContext.runAsUser")
    if pod_user == 0:
        yield "the pod securityContext sets runAsUser: 0 (root)"
    seen = False
    for container in containers(spec):
        seen = True
        if is_unknown(container):
            yield Deferred("containers")
            continue
        if is_unknown(container.get("securityContext")):
            yield Deferred(f"{container.name}.securityContext")
            continue
        non_root = as_bool(_effective(container, pod_context, "runAsNonRoot"), "runAsNonRoot")
        user = as_int(_effective(container, pod_context, "runAsUser"), "runAsUser")
        privileged = as_bool(container.get("securityContext", "privileged"), "privileged")
        escalation = as_bool(container.get("securityContext", "allowPrivilegeEscalation"), "allowPrivilegeEscalation")
        added = container.get("securityContext", "capabilities", "add")
        for value, path in ((non_root, "runAsNonRoot"), (user, "runAsUser"), (privileged, "privileged"),
                            (escalation, "allowPrivilegeEscalation"), (added, "capabilities.add")):
            if is_unknown(value):
                yield Deferred(f"{container.name}.securityContext.{path}")
        if non_root is not True and not is_unknown(non_root):
            yield f"{container.label} does not set runAsNonRoot: true (container or pod securityContext)"
        if user is None:
            yield f"{container.label} sets no runAsUser, so the image decides the UID (often root)"
        elif not is_unknown(user) and user <= 0:
            yield f"{container.label} runs as UID {user} (root)"
        if privileged is True:
            yield f"{container.label} is privileged"
        if escalation is not False and not is_unknown(escalation):
            yield f"{container.label} does not set allowPrivilegeEscalation: false"
        if not is_unknown(added):
            dangerous = [c for c in as_list(added, "capabilities.add") if isinstance(c, str) and c.upper() in DANGEROUS_CAPABILITIES]
            if dangerous:
                yield f"{container.label} adds root-equivalent capabilities {', '.join(dangerous)}"
    if not seen:
        yield "the pod spec has no containers"


WINDOWS_ADMINISTRATOR = "containeradministrator"


def _windows_non_root(spec: Any, pod_context: Any) -> Iterator[Outcome]:
    """A Windows pod: the API refuses the Linux fields (runAsUser, allowPrivilegeEscalation, capabilities), so non-root
    is runAsNonRoot: true with a named user that is not ContainerAdministrator (windowsOptions.runAsUserName)."""
    seen = False
    for container in containers(spec):
        seen = True
        if is_unknown(container):
            yield Deferred("containers")
            continue
        non_root = as_bool(_effective(container, pod_context, "runAsNonRoot"), "runAsNonRoot")
        user = container.get("securityContext", "windowsOptions", "runAsUserName")
        user = dig(pod_context, "windowsOptions", "runAsUserName") if user is None else user
        if is_unknown(non_root) or is_unknown(user):
            yield Deferred(f"{container.name}.securityContext")
            continue
        if non_root is not True:
            yield f"{container.label} does not set runAsNonRoot: true (container or pod securityContext)"
        if not isinstance(user, str) or not user:
            yield f"{container.label} sets no windowsOptions.runAsUserName, so the image decides the user"
        elif user.lower() == WINDOWS_ADMINISTRATOR:
            yield f"{container.label} runs as ContainerAdministrator"
    if not seen:
        yield "the pod spec has no containers"


k8s_containers_non_root = resource_policy(
    name="k8s-containers-non-root",
    description="Every container runs as non-root with a non-zero UID, unprivileged, without privilege escalation.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("set securityContext runAsNonRoot: true and runAsUser: <non-zero UID> (pod or container), "
                 "allowPrivilegeEscalation: false and privileged: false on every container, init containers "
                 "included, and drop ALL capabilities."),
    types=is_pod_bearing,
    check=check_non_root,
)


def check_host_namespaces(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    spec = pod_spec(resource)
    if spec is None:
        return
    if is_unknown(spec):
        yield Deferred("spec")
        return
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        value = as_bool(spec.get(key), key)
        if value is UNKNOWN:
            yield Deferred(key)
        elif value is True:
            yield f"the pod shares the host's namespace ({key}: true)"


k8s_no_host_namespaces = resource_policy(
    name="k8s-no-host-namespaces",
    description="No pod shares the node's network, PID or IPC namespace.",
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation="remove hostNetwork, hostPID and hostIPC from the pod spec (they default to false).",
    types=is_pod_bearing,
    check=check_host_namespaces,
)

LONG_LIVED_CREDENTIALS = {
    "aws:iam/accessKey:AccessKey": "is a long-lived IAM access key",
    "aws:iam/user:User": "is an IAM user; people sign in through SSO and machines assume roles",
    "aws:iam/userLoginProfile:UserLoginProfile": "gives an IAM user a console password",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential": "is a long-lived service-specific credential",
    "aws:iam/signingCertificate:SigningCertificate": "is a long-lived IAM signing certificate",
    "aws:iam/sshKey:SshKey": "is a long-lived IAM SSH key",
}


def check_no_long_lived_credentials(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    yield LONG_LIVED_CREDENTIALS[resource.type]


no_iam_users_or_access_keys = resource_policy(
    name="no-iam-users-or-access-keys",
    description="No IAM users or long-lived access keys, the root user's or anyone's: people and machines assume roles.",
    level=MANDATORY,
    severity=Severity.CRITICAL,
    remediation=("use an IAM role instead: IRSA for pods, instance roles for nodes, OIDC-federated roles for CI and "
                 "IAM Identity Center for people."),
    types=tuple(LONG_LIVED_CREDENTIALS),
    check=check_no_long_lived_credentials,
)

POLICIES = [k8s_containers_non_root, k8s_no_host_namespaces, no_iam_users_or_access_keys]
