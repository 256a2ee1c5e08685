"""Pod Security Standards (mandatory): the Kubernetes baseline and restricted profiles, one policy per control.

The controls, their fields and their allowed values are those of the Kubernetes documentation's "Pod Security
Standards" page (kubernetes.io/docs/concepts/security/pod-security-standards), as enforced for Kubernetes 1.35 by Pod
Security Admission (the `k8s.io/pod-security-admission` checks the page describes). Every pod-bearing kind is judged:
Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, PodTemplate and custom kinds
that embed a pod template at `spec.template` (an Argo Rollout, for instance); at pod level and in every container, init
and ephemeral containers included. Each message names the control and the field path, e.g.
`[Privileged Containers] spec.template.spec.containers[0].securityContext.privileged is true (allowed: false, unset)`.

Windows pods (`spec.os.name: windows`) are judged by the standard's Windows rules: the Linux-only restricted controls
(privilege escalation, seccomp, capabilities) do not apply to them; everything else does, HostProcess above all. Pods in
their own user namespace (`hostUsers: false`) are relieved of the controls the standard relaxes for them (running as
non-root, non-root user); the restricted profile keeps the /proc mount type strict even for them.

Workload namespaces enforce the restricted profile through Pod Security Admission too (see `namespaces`); this pack
judges the pod templates before they reach the cluster, so a preview shows the finding instead of a ReplicaSet that
never creates its pods. Helm releases are opaque to the pack: the pods a chart renders are not judged here.

Unknowns: a field unknown at preview defers the check for that pod or container to `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from .core import MANDATORY, Context, Deferred, OddInput, Outcome, Resource, dig, is_unknown, resource_policy
from .kube import _TEMPLATE, POD_SPEC_PATHS, Container, containers, is_pod_bearing, pod_spec

# --- what the standard allows (values from the documentation's tables) -----------------------------------------------

# Capabilities (baseline): adding anything beyond this default set is disallowed.
BASELINE_CAPABILITIES = frozenset({"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                                   "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
# Capabilities (restricted): drop ALL; only this one may be added back.
RESTRICTED_ADDABLE_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# Sysctls: the safe set for Kubernetes 1.35 (1.37 adds net.ipv4.tcp_slow_start_after_idle and tcp_notsent_lowat).
SAFE_SYSCTLS = frozenset({"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                          "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
                          "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                          "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
                          "net.ipv4.tcp_wmem"})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})
# Volume types (restricted): the only inline volume sources allowed. A volume that names no source is defaulted to
# emptyDir by the API server, so it is allowed too.
RESTRICTED_VOLUME_SOURCES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                                       "persistentVolumeClaim", "projected", "secret"})
VOLUME_NON_SOURCE_KEYS = frozenset({"name"})
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
LIFECYCLE_HANDLERS = ("postStart", "preStop")


class NeedValue(Exception):
    """A field is unknown at preview; the check for this pod or container waits for `pulumi up`."""

    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


def known(value: Any, path: str) -> Any:
    """The value itself, which must be known (what it contains is checked where it is read)."""
    if is_unknown(value):
        raise NeedValue(path)
    return value


def flag(value: Any, path: str) -> bool | None:
    """A boolean field: True, False or None (unset). Provider inputs may carry "true"/"false" strings."""
    value = known(value, path)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise OddInput(f"{path} should be a boolean, got {value!r}")


def items(value: Any, path: str) -> list[Any]:
    value = known(value, path)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OddInput(f"{path} should be a list, got {type(value).__name__}")
    return [known(item, f"{path}[{index}]") for index, item in enumerate(value)]


# --- the pod as the checks see it ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pod:
    spec: Mapping[str, Any]
    spec_path: str  # where the pod spec lives in the resource, e.g. "spec.template.spec"
    metadata: Mapping[str, Any] | Any  # the pod's metadata (a template's), None when absent
    metadata_path: str

    @property
    def context_path(self) -> str:
        return f"{self.spec_path}.securityContext"

    def context(self, *keys: str) -> Any:
        return known(dig(self.spec, "securityContext", *keys), ".".join((self.context_path, *keys)))

    @property
    def windows(self) -> bool:
        return known(dig(self.spec, "os", "name"), f"{self.spec_path}.os.name") == "windows"

    @property
    def own_user_namespace(self) -> bool:
        return flag(self.spec.get("hostUsers"), f"{self.spec_path}.hostUsers") is False

    def path(self, container: Container) -> str:
        return f"{self.spec_path}.{container.kind}[{container.index}]"


def pod_of(resource: Resource) -> Pod | None | Any:
    """The pod the resource describes: None when it has none (a custom kind without a template), UNKNOWN when unknown."""
    spec = pod_spec(resource)
    if spec is None or is_unknown(spec):
        return spec
    path = POD_SPEC_PATHS.get(resource.type, _TEMPLATE)
    metadata_path = (*path[:-1], "metadata")
    return Pod(spec, ".".join(path), dig(resource.props, *metadata_path), ".".join(metadata_path))


PodCheck = Callable[[Pod], Iterator[str]]
ContainerCheck = Callable[[Pod, Container, str], Iterator[str]]


def run_checks(resource: Resource, pod_check: PodCheck | None, container_check: ContainerCheck | None,
               *, linux_only: bool = False) -> Iterator[Outcome]:
    """Run a control's pod-level and container-level parts; an unknown field defers only the part that needs it."""
    pod = pod_of(resource)
    if pod is None:
        return
    if is_unknown(pod):
        yield Deferred("spec")
        return
    try:
        if linux_only and pod.windows:
            return
    except NeedValue as unknown:
        yield Deferred(unknown.path)
        return
    if pod_check is not None:
        try:
            yield from pod_check(pod)
        except NeedValue as unknown:
            yield Deferred(unknown.path)
    if container_check is None:
        return
    for container in containers(pod.spec):
        if is_unknown(container):
            yield Deferred(f"{pod.spec_path}.containers")
            continue
        where = pod.path(container)
        if is_unknown(container.spec):
            yield Deferred(where)
            continue
        try:
            yield from container_check(pod, container, where)
        except NeedValue as unknown:
            yield Deferred(unknown.path)


def finding(control: str, path: str, problem: str, allowed: str) -> str:
    return f"[{control}] {path} {problem} (allowed: {allowed})"


def _policy(*, name: str, control: str, profile: str, description: str, remediation: str,
            check: Callable[[Resource, Context], Iterator[Outcome]]):
    return resource_policy(
        name=name,
        description=f"Pod Security Standards, {profile}: {control}. {description}",
        level=MANDATORY,
        severity=Severity.HIGH,
        remediation=remediation,
        types=is_pod_bearing,
        check=check,
    )


# --- baseline ---------------------------------------------------------------------------------------------------------

HOST_PROCESS = "HostProcess"


def check_host_process(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        if flag(pod.context("windowsOptions", "hostProcess"), f"{pod.context_path}.windowsOptions.hostProcess"):
            yield finding(HOST_PROCESS, f"{pod.context_path}.windowsOptions.hostProcess", "is true", "false, unset")

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.windowsOptions.hostProcess"
        if flag(container.get("securityContext", "windowsOptions", "hostProcess"), path):
            yield finding(HOST_PROCESS, path, f"is true in {container.label}", "false, unset")

    yield from run_checks(resource, pod_part, container_part)


pss_host_process = _policy(
    name="pss-host-process", control=HOST_PROCESS, profile="baseline",
    description="No Windows HostProcess pod or container (privileged access to the Windows node).",
    remediation="remove securityContext.windowsOptions.hostProcess (pod and containers) or set it to false.",
    check=check_host_process)

HOST_NAMESPACES = "Host Namespaces"


def check_host_namespaces(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            path = f"{pod.spec_path}.{key}"
            if flag(pod.spec.get(key), path):
                yield finding(HOST_NAMESPACES, path, "is true", "false, unset")

    yield from run_checks(resource, pod_part, None)


pss_host_namespaces = _policy(
    name="pss-host-namespaces", control=HOST_NAMESPACES, profile="baseline",
    description="No pod shares the node's network, PID or IPC namespace.",
    remediation="remove hostNetwork, hostPID and hostIPC from the pod spec (they default to false).",
    check=check_host_namespaces)

PRIVILEGED = "Privileged Containers"


def check_privileged(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.privileged"
        if flag(container.get("securityContext", "privileged"), path):
            yield finding(PRIVILEGED, path, f"is true in {container.label}", "false, unset")

    yield from run_checks(resource, None, container_part)


pss_privileged = _policy(
    name="pss-privileged", control=PRIVILEGED, profile="baseline",
    description="No privileged container (it disables most security mechanisms).",
    remediation="remove securityContext.privileged from every container or set it to false.",
    check=check_privileged)

CAPABILITIES = "Capabilities"


def _added(container: Container, where: str) -> list[str]:
    path = f"{where}.securityContext.capabilities.add"
    return [str(c) for c in items(container.get("securityContext", "capabilities", "add"), path)]


def check_capabilities_baseline(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        extra = [c for c in _added(container, where) if c not in BASELINE_CAPABILITIES]
        if extra:
            yield finding(CAPABILITIES, f"{where}.securityContext.capabilities.add",
                          f"adds {', '.join(extra)} in {container.label}",
                          "the default set " + ", ".join(sorted(BASELINE_CAPABILITIES)))

    yield from run_checks(resource, None, container_part)


pss_capabilities_baseline = _policy(
    name="pss-capabilities-baseline", control=CAPABILITIES, profile="baseline",
    description="No container adds a capability beyond the container runtime's default set.",
    remediation="remove the extra capabilities from securityContext.capabilities.add.",
    check=check_capabilities_baseline)

HOST_PATH = "HostPath Volumes"


def check_host_path_volumes(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        for index, volume in enumerate(items(pod.spec.get("volumes"), f"{pod.spec_path}.volumes")):
            path = f"{pod.spec_path}.volumes[{index}].hostPath"
            # A hostPath with unknown contents is still a hostPath: its presence is the violation.
            source = volume.get("hostPath") if isinstance(volume, Mapping) else None
            if source is not None:
                where = dig(source, "path")
                what = where if isinstance(where, str) else "filesystem"
                yield finding(HOST_PATH, path, f"mounts the node's {what} (volume \"{volume.get('name')}\")", "unset")

    yield from run_checks(resource, pod_part, None)


pss_host_path_volumes = _policy(
    name="pss-host-path-volumes", control=HOST_PATH, profile="baseline",
    description="No hostPath volume (the node's filesystem).",
    remediation="use a persistentVolumeClaim, emptyDir, configMap, secret or projected volume instead of hostPath.",
    check=check_host_path_volumes)

HOST_PORTS = "Host Ports"


def check_host_ports(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        for index, port in enumerate(items(container.get("ports"), f"{where}.ports")):
            path = f"{where}.ports[{index}].hostPort"
            value = known(port.get("hostPort") if isinstance(port, Mapping) else None, path)
            if value not in (None, 0, 0.0, "0"):
                yield finding(HOST_PORTS, path, f"is {value!s} in {container.label}", "0, unset")

    yield from run_checks(resource, None, container_part)


pss_host_ports = _policy(
    name="pss-host-ports", control=HOST_PORTS, profile="baseline",
    description="No container binds a port on the node (hostPort).",
    remediation="remove hostPort; expose the port through a Service.",
    check=check_host_ports)

HOST_PROBES = "Host Probes / Lifecycle Hooks"


def check_host_probes(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        handlers = [(probe, container.get(probe)) for probe in PROBES]
        handlers += [(f"lifecycle.{hook}", container.get("lifecycle", hook)) for hook in LIFECYCLE_HANDLERS]
        for place, handler in handlers:
            for action in ("httpGet", "tcpSocket"):
                path = f"{where}.{place}.{action}.host"
                host = known(dig(handler, action, "host"), path)
                if host not in (None, ""):
                    yield finding(HOST_PROBES, path, f"is {host!r} in {container.label}", '"", unset')

    yield from run_checks(resource, None, container_part)


pss_host_probes = _policy(
    name="pss-host-probes", control=HOST_PROBES, profile="baseline",
    description="No probe or lifecycle handler aimed at another host (httpGet.host, tcpSocket.host).",
    remediation="remove host from the probe or lifecycle handler: it then targets the pod's own IP.",
    check=check_host_probes)

APPARMOR = "AppArmor"


def check_apparmor(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        path = f"{pod.context_path}.appArmorProfile.type"
        profile = pod.context("appArmorProfile")
        if profile is not None and known(dig(profile, "type"), path) not in APPARMOR_TYPES:
            yield finding(APPARMOR, path, f"is {dig(profile, 'type')!r}", "RuntimeDefault, Localhost, unset")
        annotations = known(dig(pod.metadata, "annotations"), f"{pod.metadata_path}.annotations") or {}
        for key, value in sorted(annotations.items()) if isinstance(annotations, Mapping) else ():
            if key.startswith(APPARMOR_ANNOTATION_PREFIX):
                value = known(value, f"{pod.metadata_path}.annotations['{key}']")
                allowed = value in ("", "runtime/default") or (isinstance(value, str) and value.startswith("localhost/"))
                if not allowed:
                    yield finding(APPARMOR, f"{pod.metadata_path}.annotations['{key}']", f"is {value!r}",
                                  "runtime/default, localhost/*, empty, unset")

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.appArmorProfile.type"
        profile = known(container.get("securityContext", "appArmorProfile"), path)
        if profile is not None and known(dig(profile, "type"), path) not in APPARMOR_TYPES:
            yield finding(APPARMOR, path, f"is {dig(profile, 'type')!r} in {container.label}",
                          "RuntimeDefault, Localhost, unset")

    yield from run_checks(resource, pod_part, container_part)


pss_apparmor = _policy(
    name="pss-apparmor", control=APPARMOR, profile="baseline",
    description="No pod or container overrides or disables the default AppArmor profile.",
    remediation="leave appArmorProfile unset (runtime default) or set type RuntimeDefault or Localhost.",
    check=check_apparmor)

SELINUX = "SELinux"


def _selinux_problems(options: Any, path: str) -> list[str]:
    if not isinstance(known(options, path), Mapping):
        return []
    problems = []
    kind = known(options.get("type"), f"{path}.type")
    if (kind or "") not in SELINUX_TYPES:
        problems.append(f"type {kind!r}")
    for key in ("user", "role"):
        if known(options.get(key), f"{path}.{key}"):
            problems.append(f"sets {key} {options.get(key)!r}")
    return problems


def check_selinux(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    allowed = "type " + ", ".join(sorted(t for t in SELINUX_TYPES if t)) + " or unset; no user, no role"

    def pod_part(pod: Pod) -> Iterator[str]:
        problems = _selinux_problems(pod.context("seLinuxOptions"), f"{pod.context_path}.seLinuxOptions")
        if problems:
            yield finding(SELINUX, f"{pod.context_path}.seLinuxOptions", "; ".join(problems), allowed)

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.seLinuxOptions"
        problems = _selinux_problems(container.get("securityContext", "seLinuxOptions"), path)
        if problems:
            yield finding(SELINUX, path, f"{'; '.join(problems)} in {container.label}", allowed)

    yield from run_checks(resource, pod_part, container_part)


pss_selinux = _policy(
    name="pss-selinux", control=SELINUX, profile="baseline",
    description="No custom SELinux user or role, and only the container SELinux types.",
    remediation="remove seLinuxOptions, or keep only a type of container_t, container_init_t, container_kvm_t or "
                "container_engine_t.",
    check=check_selinux)

PROC_MOUNT = "/proc Mount Type"


def check_proc_mount(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.procMount"
        value = known(container.get("securityContext", "procMount"), path)
        if value not in (None, "Default"):
            yield finding(PROC_MOUNT, path, f"is {value!r} in {container.label}", "Default, unset")

    yield from run_checks(resource, None, container_part)


# Baseline lets a pod in its own user namespace (hostUsers: false) unmask /proc; restricted does not (Kubernetes
# 1.35), so the union of both is what this policy enforces.
pss_proc_mount = _policy(
    name="pss-proc-mount", control=PROC_MOUNT, profile="baseline and restricted",
    description="Every container keeps the default masked /proc mount, in a user namespace too.",
    remediation="remove securityContext.procMount (or set Default).",
    check=check_proc_mount)

SECCOMP = "Seccomp"


def check_seccomp_baseline(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        profile = pod.context("seccompProfile")
        path = f"{pod.context_path}.seccompProfile.type"
        if profile is not None and known(dig(profile, "type"), path) not in SECCOMP_TYPES:
            yield finding(SECCOMP, path, f"is {dig(profile, 'type')!r}", "RuntimeDefault, Localhost, unset")

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.seccompProfile.type"
        profile = known(container.get("securityContext", "seccompProfile"), path)
        if profile is not None and known(dig(profile, "type"), path) not in SECCOMP_TYPES:
            yield finding(SECCOMP, path, f"is {dig(profile, 'type')!r} in {container.label}",
                          "RuntimeDefault, Localhost, unset")

    yield from run_checks(resource, pod_part, container_part)


pss_seccomp_baseline = _policy(
    name="pss-seccomp-baseline", control=SECCOMP, profile="baseline",
    description="No pod or container sets the Unconfined seccomp profile.",
    remediation="set seccompProfile.type RuntimeDefault (or Localhost) instead of Unconfined.",
    check=check_seccomp_baseline)

SYSCTLS = "Sysctls"


def check_sysctls(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        for index, sysctl in enumerate(items(pod.context("sysctls"), f"{pod.context_path}.sysctls")):
            name = known(dig(sysctl, "name"), f"{pod.context_path}.sysctls[{index}].name")
            if name not in SAFE_SYSCTLS:
                yield finding(SYSCTLS, f"{pod.context_path}.sysctls[{index}].name", f"is {name!r}",
                              "the safe set " + ", ".join(sorted(SAFE_SYSCTLS)))

    yield from run_checks(resource, pod_part, None)


pss_sysctls = _policy(
    name="pss-sysctls", control=SYSCTLS, profile="baseline",
    description="Only the safe, namespaced sysctls.",
    remediation="remove the sysctl from spec.securityContext.sysctls; node-level tuning belongs in the node's launch "
                "template.",
    check=check_sysctls)

# --- restricted -----------------------------------------------------------------------------------------------------

VOLUME_TYPES = "Volume Types"


def check_volume_types(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    allowed = ", ".join(sorted(RESTRICTED_VOLUME_SOURCES))

    def pod_part(pod: Pod) -> Iterator[str]:
        for index, volume in enumerate(items(pod.spec.get("volumes"), f"{pod.spec_path}.volumes")):
            if not isinstance(volume, Mapping):
                raise OddInput(f"{pod.spec_path}.volumes[{index}] should be an object")
            sources = sorted(k for k, v in volume.items() if k not in VOLUME_NON_SOURCE_KEYS and v is not None)
            for source in sources:
                if source not in RESTRICTED_VOLUME_SOURCES:
                    yield finding(VOLUME_TYPES, f"{pod.spec_path}.volumes[{index}].{source}",
                                  f"is a {source} volume (\"{volume.get('name')}\")", allowed)

    yield from run_checks(resource, pod_part, None)


pss_volume_types = _policy(
    name="pss-volume-types", control=VOLUME_TYPES, profile="restricted",
    description="Only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and "
                "secret volumes.",
    remediation="mount storage through a persistentVolumeClaim (a PersistentVolume or a StorageClass holds the "
                "backend), or use one of the allowed inline volume types.",
    check=check_volume_types)

PRIVILEGE_ESCALATION = "Privilege Escalation"


def check_privilege_escalation(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.allowPrivilegeEscalation"
        value = flag(container.get("securityContext", "allowPrivilegeEscalation"), path)
        if value is not False:
            yield finding(PRIVILEGE_ESCALATION, path, f"is {'unset' if value is None else 'true'} in {container.label}",
                          "false")

    yield from run_checks(resource, None, container_part, linux_only=True)


pss_privilege_escalation = _policy(
    name="pss-privilege-escalation", control=PRIVILEGE_ESCALATION, profile="restricted",
    description="Every container sets allowPrivilegeEscalation: false (Linux pods).",
    remediation="set securityContext.allowPrivilegeEscalation: false on every container, init and ephemeral ones "
                "included.",
    check=check_privilege_escalation)

NON_ROOT = "Running as Non-root"


def check_run_as_non_root(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        path = f"{pod.context_path}.runAsNonRoot"
        if not pod.own_user_namespace and flag(pod.context("runAsNonRoot"), path) is False:
            yield finding(NON_ROOT, path, "is false", "true")

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        if pod.own_user_namespace:
            return
        path = f"{where}.securityContext.runAsNonRoot"
        own = flag(container.get("securityContext", "runAsNonRoot"), path)
        pod_level = flag(pod.context("runAsNonRoot"), f"{pod.context_path}.runAsNonRoot")
        if own is False:
            yield finding(NON_ROOT, path, f"is false in {container.label}", "true")
        elif own is None and pod_level is not True:
            yield finding(NON_ROOT, path, f"is unset in {container.label} and the pod does not set it", "true")

    yield from run_checks(resource, pod_part, container_part)


pss_run_as_non_root = _policy(
    name="pss-run-as-non-root", control=NON_ROOT, profile="restricted",
    description="Containers must run as non-root: runAsNonRoot true on the pod or on every container.",
    remediation="set securityContext.runAsNonRoot: true on the pod (or on every container) and never false.",
    check=check_run_as_non_root)

NON_ROOT_USER = "Running as Non-root user"


def check_run_as_user(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        path = f"{pod.context_path}.runAsUser"
        if not pod.own_user_namespace and known(pod.context("runAsUser"), path) in (0, 0.0, "0"):
            yield finding(NON_ROOT_USER, path, "is 0 (root)", "non-zero, unset")

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.runAsUser"
        if not pod.own_user_namespace and known(container.get("securityContext", "runAsUser"), path) in (0, 0.0, "0"):
            yield finding(NON_ROOT_USER, path, f"is 0 (root) in {container.label}", "non-zero, unset")

    yield from run_checks(resource, pod_part, container_part)


pss_run_as_user = _policy(
    name="pss-run-as-user", control=NON_ROOT_USER, profile="restricted",
    description="No pod or container sets runAsUser: 0.",
    remediation="set runAsUser to a non-zero UID (or leave it to the image, with runAsNonRoot: true).",
    check=check_run_as_user)


def check_seccomp_restricted(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def pod_part(pod: Pod) -> Iterator[str]:
        # A pod-level profile other than the two is forbidden even when every container sets its own.
        profile = pod.context("seccompProfile")
        path = f"{pod.context_path}.seccompProfile.type"
        if profile is not None and known(dig(profile, "type"), path) not in SECCOMP_TYPES:
            yield finding(SECCOMP, path, f"is {dig(profile, 'type')!r}", "RuntimeDefault, Localhost")

    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        path = f"{where}.securityContext.seccompProfile.type"
        own = known(container.get("securityContext", "seccompProfile"), path)
        pod_type = known(dig(pod.context("seccompProfile"), "type"), f"{pod.context_path}.seccompProfile.type")
        if own is None and pod_type not in SECCOMP_TYPES:
            yield finding(SECCOMP, path, f"is unset in {container.label} and the pod sets no RuntimeDefault or "
                          "Localhost profile", "RuntimeDefault, Localhost (on the pod or the container)")

    yield from run_checks(resource, pod_part, container_part, linux_only=True)


pss_seccomp_restricted = _policy(
    name="pss-seccomp-restricted", control=SECCOMP, profile="restricted",
    description="A seccomp profile is set (RuntimeDefault or Localhost), on the pod or on every container (Linux pods).",
    remediation="set securityContext.seccompProfile.type: RuntimeDefault on the pod.",
    check=check_seccomp_restricted)


def check_capabilities_restricted(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    def container_part(pod: Pod, container: Container, where: str) -> Iterator[str]:
        drop_path = f"{where}.securityContext.capabilities.drop"
        dropped = [str(c) for c in items(container.get("securityContext", "capabilities", "drop"), drop_path)]
        if "ALL" not in dropped:
            yield finding(CAPABILITIES, drop_path, f"does not include ALL in {container.label}", 'must include "ALL"')
        extra = [c for c in _added(container, where) if c not in RESTRICTED_ADDABLE_CAPABILITIES]
        if extra:
            yield finding(CAPABILITIES, f"{where}.securityContext.capabilities.add",
                          f"adds {', '.join(extra)} in {container.label}", "NET_BIND_SERVICE, unset")

    yield from run_checks(resource, None, container_part, linux_only=True)


pss_capabilities_restricted = _policy(
    name="pss-capabilities-restricted", control=CAPABILITIES, profile="restricted",
    description="Every container drops ALL capabilities and adds back at most NET_BIND_SERVICE (Linux pods).",
    remediation='set securityContext.capabilities.drop: ["ALL"] on every container; add only NET_BIND_SERVICE.',
    check=check_capabilities_restricted)

BASELINE = [pss_host_process, pss_host_namespaces, pss_privileged, pss_capabilities_baseline, pss_host_path_volumes,
            pss_host_ports, pss_host_probes, pss_apparmor, pss_selinux, pss_proc_mount, pss_seccomp_baseline,
            pss_sysctls]
RESTRICTED = [pss_volume_types, pss_privilege_escalation, pss_run_as_non_root, pss_run_as_user,
              pss_seccomp_restricted, pss_capabilities_restricted]
POLICIES = [*BASELINE, *RESTRICTED]
