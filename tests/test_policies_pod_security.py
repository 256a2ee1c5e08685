"""Pod Security Standards through the pack's real protocol: every control with a deny and an allow twin, as a Pod and as
a Deployment.

The twins are written here by hand from the Kubernetes documentation's tables (restricted fields and allowed values),
not derived from the policies: a restricted-compliant pod, then one change that the standard forbids (deny) next to
the nearest change it allows (allow). Each deny must be reported by exactly the expected `pss-*` policies, as
mandatory, with the control's name and the full field path in the message; each allow by none of them.
Also here: init and ephemeral containers, CronJob and custom kinds with a pod template, Windows pods (the standard's
Windows rules) and pods in their own user namespace.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from infra.offline.policy_report import DEFAULT_PACK_DIR, PolicyPackSession, load_pack_config

from .conftest_policies import POLICIES

PSS = {p.name for p in POLICIES if p.name.startswith("pss-")}
POD = "kubernetes:core/v1:Pod"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # how an unknown value crosses the wire
KINDS = {POD: ("spec", "metadata"), DEPLOYMENT: ("spec.template.spec", "spec.template.metadata")}


@pytest.fixture(scope="module")
def pack():
    with PolicyPackSession("staging", preview=True, stack_config={}) as session:
        session.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
        yield session


def restricted_pod() -> dict:
    """A pod that meets the restricted profile, with the fields the twins change."""
    return {
        "metadata": {"labels": {"app": "web"}, "annotations": {}},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "web",
                "image": "registry.example.com/web:1.4.2",
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
                "securityContext": {"runAsUser": 10001, "allowPrivilegeEscalation": False,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
        },
    }


def as_kind(kind: str, pod: dict) -> dict:
    if kind == POD:
        return {"metadata": {"name": "web", "namespace": "web", **pod["metadata"]}, "spec": pod["spec"]}
    return {"metadata": {"name": "web", "namespace": "web"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": pod["metadata"], "spec": pod["spec"]}}}


def analyze(session: PolicyPackSession, type_: str, props: dict) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    message = struct_pb2.Struct()
    message.update(json.loads(json.dumps(props)))
    request = analyzer_pb2.AnalyzeRequest(urn=f"urn:pulumi:staging::platform::{type_}::web", type=type_, name="web",
                                          properties=message, options=analyzer_pb2.AnalyzerResourceOptions())
    return list(session.stub.Analyze(request, timeout=60).diagnostics)


def pss_findings(diagnostics) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for d in diagnostics:
        if d.policyName in PSS and "can't run policy" not in d.message:
            assert d.enforcementLevel == analyzer_pb2.MANDATORY, d
            found.setdefault(d.policyName, []).append(d.message)
    return found


def container(pod: dict, index: int = 0, kind: str = "containers") -> dict:
    return pod["spec"][kind][index]


def sc(pod: dict, **values) -> None:
    container(pod)["securityContext"].update(values)


def pod_sc(pod: dict, **values) -> None:
    pod["spec"]["securityContext"].update(values)


@dataclass
class Twin:
    id: str
    policies: set[str]  # the pss-* policies the deny side must trip, and no others
    control: str  # the control's name, as the message shows it
    path: str  # the field path under the pod spec ("spec:") or the pod metadata ("metadata:")
    deny: Callable[[dict], None]
    allow: Callable[[dict], None]


def _add_volume(volume: dict) -> Callable[[dict], None]:
    return lambda pod: pod["spec"]["volumes"].append({"name": "data", **volume})


def _init_container(pod: dict, **security) -> None:
    init = copy.deepcopy(container(pod))
    init["name"] = "migrate"
    init["securityContext"].update(security)
    pod["spec"]["initContainers"] = [init]


def _ephemeral_container(pod: dict, **security) -> None:
    debug = copy.deepcopy(container(pod))
    debug["name"] = "debugger"
    debug.pop("ports"), debug.pop("readinessProbe")
    debug["securityContext"].update(security)
    pod["spec"]["ephemeralContainers"] = [debug]


TWINS = [
    # --- baseline ---
    Twin("host-process-pod", {"pss-host-process"}, "HostProcess", "spec:securityContext.windowsOptions.hostProcess",
         lambda p: pod_sc(p, windowsOptions={"hostProcess": True}),
         lambda p: pod_sc(p, windowsOptions={"hostProcess": False})),
    Twin("host-process-container", {"pss-host-process"}, "HostProcess",
         "spec:containers[0].securityContext.windowsOptions.hostProcess",
         lambda p: sc(p, windowsOptions={"hostProcess": True}),
         lambda p: sc(p, windowsOptions={"gmsaCredentialSpecName": "web"})),
    Twin("host-network", {"pss-host-namespaces"}, "Host Namespaces", "spec:hostNetwork",
         lambda p: p["spec"].update(hostNetwork=True), lambda p: p["spec"].update(hostNetwork=False)),
    Twin("host-pid", {"pss-host-namespaces"}, "Host Namespaces", "spec:hostPID",
         lambda p: p["spec"].update(hostPID=True), lambda p: p["spec"].update(hostPID=False)),
    Twin("host-ipc", {"pss-host-namespaces"}, "Host Namespaces", "spec:hostIPC",
         lambda p: p["spec"].update(hostIPC=True), lambda p: p["spec"].update(hostIPC=False)),
    Twin("privileged", {"pss-privileged"}, "Privileged Containers", "spec:containers[0].securityContext.privileged",
         lambda p: sc(p, privileged=True), lambda p: sc(p, privileged=False)),
    Twin("privileged-init", {"pss-privileged"}, "Privileged Containers",
         "spec:initContainers[0].securityContext.privileged",
         lambda p: _init_container(p, privileged=True), lambda p: _init_container(p, privileged=False)),
    Twin("privileged-ephemeral", {"pss-privileged"}, "Privileged Containers",
         "spec:ephemeralContainers[0].securityContext.privileged",
         lambda p: _ephemeral_container(p, privileged=True), lambda p: _ephemeral_container(p, privileged=False)),
    # SYS_ADMIN is outside the default set (baseline) and outside NET_BIND_SERVICE (restricted).
    Twin("capabilities-beyond-default", {"pss-capabilities-baseline", "pss-capabilities-restricted"}, "Capabilities",
         "spec:containers[0].securityContext.capabilities.add",
         lambda p: sc(p, capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
         lambda p: sc(p, capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
    Twin("host-path", {"pss-host-path-volumes", "pss-volume-types"}, "HostPath Volumes", "spec:volumes[1].hostPath",
         _add_volume({"hostPath": {"path": "/var/log"}}), _add_volume({"emptyDir": {}})),
    Twin("host-port", {"pss-host-ports"}, "Host Ports", "spec:containers[0].ports[0].hostPort",
         lambda p: container(p)["ports"][0].update(hostPort=8080),
         lambda p: container(p)["ports"][0].update(hostPort=0)),
    Twin("probe-host", {"pss-host-probes"}, "Host Probes / Lifecycle Hooks",
         "spec:containers[0].readinessProbe.httpGet.host",
         lambda p: container(p)["readinessProbe"]["httpGet"].update(host="169.254.169.254"),
         lambda p: container(p)["readinessProbe"]["httpGet"].update(host="")),
    Twin("lifecycle-host", {"pss-host-probes"}, "Host Probes / Lifecycle Hooks",
         "spec:containers[0].lifecycle.preStop.tcpSocket.host",
         lambda p: container(p).update(lifecycle={"preStop": {"tcpSocket": {"port": 80, "host": "10.0.0.1"}}}),
         lambda p: container(p).update(lifecycle={"preStop": {"sleep": {"seconds": 5}}})),
    Twin("apparmor-field", {"pss-apparmor"}, "AppArmor", "spec:containers[0].securityContext.appArmorProfile.type",
         lambda p: sc(p, appArmorProfile={"type": "Unconfined"}),
         lambda p: sc(p, appArmorProfile={"type": "Localhost", "localhostProfile": "k8s-web"})),
    Twin("apparmor-pod-field", {"pss-apparmor"}, "AppArmor", "spec:securityContext.appArmorProfile.type",
         lambda p: pod_sc(p, appArmorProfile={"type": "Unconfined"}),
         lambda p: pod_sc(p, appArmorProfile={"type": "RuntimeDefault"})),
    Twin("apparmor-annotation", {"pss-apparmor"}, "AppArmor",
         "metadata:annotations['container.apparmor.security.beta.kubernetes.io/web']",
         lambda p: p["metadata"]["annotations"].update({"container.apparmor.security.beta.kubernetes.io/web": "unconfined"}),
         lambda p: p["metadata"]["annotations"].update({"container.apparmor.security.beta.kubernetes.io/web": "runtime/default"})),
    Twin("selinux-type", {"pss-selinux"}, "SELinux", "spec:containers[0].securityContext.seLinuxOptions",
         lambda p: sc(p, seLinuxOptions={"type": "spc_t"}), lambda p: sc(p, seLinuxOptions={"type": "container_t"})),
    Twin("selinux-user", {"pss-selinux"}, "SELinux", "spec:securityContext.seLinuxOptions",
         lambda p: pod_sc(p, seLinuxOptions={"user": "system_u"}), lambda p: pod_sc(p, seLinuxOptions={"level": "s0:c1,c2"})),
    Twin("proc-mount", {"pss-proc-mount"}, "/proc Mount Type", "spec:containers[0].securityContext.procMount",
         lambda p: sc(p, procMount="Unmasked"), lambda p: sc(p, procMount="Default")),
    Twin("seccomp-unconfined", {"pss-seccomp-baseline", "pss-seccomp-restricted"}, "Seccomp",
         "spec:securityContext.seccompProfile.type",
         lambda p: pod_sc(p, seccompProfile={"type": "Unconfined"}),
         lambda p: pod_sc(p, seccompProfile={"type": "Localhost", "localhostProfile": "profiles/web.json"})),
    Twin("sysctl", {"pss-sysctls"}, "Sysctls", "spec:securityContext.sysctls[0].name",
         lambda p: pod_sc(p, sysctls=[{"name": "net.core.somaxconn", "value": "1024"}]),
         lambda p: pod_sc(p, sysctls=[{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}])),
    # --- restricted ---
    Twin("volume-nfs", {"pss-volume-types"}, "Volume Types", "spec:volumes[1].nfs",
         _add_volume({"nfs": {"server": "10.0.0.5", "path": "/exports"}}),
         _add_volume({"persistentVolumeClaim": {"claimName": "data"}})),
    Twin("volume-ebs-inline", {"pss-volume-types"}, "Volume Types", "spec:volumes[1].awsElasticBlockStore",
         _add_volume({"awsElasticBlockStore": {"volumeID": "vol-0abc"}}),
         _add_volume({"csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": True}})),
    Twin("privilege-escalation", {"pss-privilege-escalation"}, "Privilege Escalation",
         "spec:containers[0].securityContext.allowPrivilegeEscalation",
         lambda p: container(p)["securityContext"].pop("allowPrivilegeEscalation"),
         lambda p: sc(p, allowPrivilegeEscalation=False)),
    Twin("privilege-escalation-init", {"pss-privilege-escalation"}, "Privilege Escalation",
         "spec:initContainers[0].securityContext.allowPrivilegeEscalation",
         lambda p: _init_container(p, allowPrivilegeEscalation=True),
         lambda p: _init_container(p, allowPrivilegeEscalation=False)),
    Twin("run-as-non-root-unset", {"pss-run-as-non-root"}, "Running as Non-root",
         "spec:containers[0].securityContext.runAsNonRoot",
         lambda p: p["spec"]["securityContext"].pop("runAsNonRoot"), lambda p: sc(p, runAsNonRoot=True)),
    Twin("run-as-non-root-false", {"pss-run-as-non-root"}, "Running as Non-root",
         "spec:containers[0].securityContext.runAsNonRoot",
         lambda p: sc(p, runAsNonRoot=False), lambda p: sc(p, runAsNonRoot=True)),
    Twin("run-as-user-root", {"pss-run-as-user"}, "Running as Non-root user", "spec:containers[0].securityContext.runAsUser",
         lambda p: sc(p, runAsUser=0), lambda p: sc(p, runAsUser=1)),
    Twin("run-as-user-root-pod", {"pss-run-as-user"}, "Running as Non-root user", "spec:securityContext.runAsUser",
         lambda p: pod_sc(p, runAsUser=0), lambda p: pod_sc(p, runAsUser=65532)),
    Twin("seccomp-unset", {"pss-seccomp-restricted"}, "Seccomp", "spec:containers[0].securityContext.seccompProfile.type",
         lambda p: p["spec"]["securityContext"].pop("seccompProfile"),
         lambda p: (p["spec"]["securityContext"].pop("seccompProfile"), sc(p, seccompProfile={"type": "RuntimeDefault"}))),
    Twin("capabilities-not-dropped", {"pss-capabilities-restricted"}, "Capabilities",
         "spec:containers[0].securityContext.capabilities.drop",
         lambda p: sc(p, capabilities={"drop": ["NET_RAW"]}), lambda p: sc(p, capabilities={"drop": ["ALL", "NET_RAW"]})),
    # CHOWN is in the default set (baseline allows it) but is not NET_BIND_SERVICE (restricted does not).
    Twin("capabilities-added-back", {"pss-capabilities-restricted"}, "Capabilities",
         "spec:containers[0].securityContext.capabilities.add",
         lambda p: sc(p, capabilities={"drop": ["ALL"], "add": ["CHOWN"]}),
         lambda p: sc(p, capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
]


def full_path(kind: str, path: str) -> str:
    where, rest = path.split(":", 1)
    spec, metadata = KINDS[kind]
    return f"{spec if where == 'spec' else metadata}.{rest}"


@pytest.mark.parametrize("kind", list(KINDS), ids=["pod", "deployment"])
@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.id)
def test_denied(pack, twin: Twin, kind: str):
    pod = restricted_pod()
    twin.deny(pod)
    found = pss_findings(analyze(pack, kind, as_kind(kind, pod)))
    assert set(found) == twin.policies, found
    path = full_path(kind, twin.path)
    messages = [m for name in twin.policies for m in found[name]]
    assert any(f"[{twin.control}] {path}" in m for m in messages), messages


@pytest.mark.parametrize("kind", list(KINDS), ids=["pod", "deployment"])
@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.id)
def test_allowed(pack, twin: Twin, kind: str):
    pod = restricted_pod()
    twin.allow(pod)
    assert pss_findings(analyze(pack, kind, as_kind(kind, pod))) == {}


def test_every_pod_security_policy_has_twins():
    assert PSS == {name for twin in TWINS for name in twin.policies}
    assert len(PSS) == 18  # 12 baseline controls and 6 restricted ones, as the documentation lists them


def test_the_restricted_pod_itself_passes(pack):
    for kind in KINDS:
        assert pss_findings(analyze(pack, kind, as_kind(kind, restricted_pod()))) == {}


# --- every pod-bearing kind ---------------------------------------------------------------------------------------------


def privileged_pod() -> dict:
    pod = restricted_pod()
    sc(pod, privileged=True)
    return pod


@pytest.mark.parametrize("type_, props, path", [
    ("kubernetes:apps/v1:StatefulSet", lambda p: {"spec": {"template": p}}, "spec.template.spec"),
    ("kubernetes:apps/v1:DaemonSet", lambda p: {"spec": {"template": p}}, "spec.template.spec"),
    ("kubernetes:apps/v1:ReplicaSet", lambda p: {"spec": {"template": p}}, "spec.template.spec"),
    ("kubernetes:batch/v1:Job", lambda p: {"spec": {"template": p}}, "spec.template.spec"),
    ("kubernetes:batch/v1:CronJob", lambda p: {"spec": {"jobTemplate": {"spec": {"template": p}}}},
     "spec.jobTemplate.spec.template.spec"),
    # A custom kind with a pod template (the Argo Rollout shape).
    ("kubernetes:argoproj.io/v1alpha1:Rollout", lambda p: {"spec": {"replicas": 2, "template": p}}, "spec.template.spec"),
], ids=lambda v: v.rsplit(":", 1)[-1] if isinstance(v, str) and v.startswith("kubernetes:") else None)
def test_every_pod_bearing_kind_is_judged(pack, type_, props, path):
    denied = pss_findings(analyze(pack, type_, props(privileged_pod())))
    assert set(denied) == {"pss-privileged"}
    assert f"{path}.containers[0].securityContext.privileged" in denied["pss-privileged"][0]
    assert pss_findings(analyze(pack, type_, props(restricted_pod()))) == {}


def test_a_custom_kind_without_a_pod_template_is_not_judged(pack):
    assert pss_findings(analyze(pack, "kubernetes:external-secrets.io/v1:ExternalSecret",
                                {"spec": {"target": {"name": "x"}}})) == {}


# --- the standard's Windows rules, and user namespaces -------------------------------------------------------------------


def linux_only_fields_removed(pod: dict) -> dict:
    pod["spec"]["securityContext"].pop("seccompProfile")
    for key in ("allowPrivilegeEscalation", "capabilities"):
        container(pod)["securityContext"].pop(key)
    return pod


@pytest.mark.parametrize("kind", list(KINDS), ids=["pod", "deployment"])
def test_windows_pods_are_judged_by_the_windows_rules(pack, kind):
    linux = linux_only_fields_removed(restricted_pod())
    assert set(pss_findings(analyze(pack, kind, as_kind(kind, linux)))) == {
        "pss-privilege-escalation", "pss-seccomp-restricted", "pss-capabilities-restricted"}
    windows = linux_only_fields_removed(restricted_pod())
    windows["spec"]["os"] = {"name": "windows"}
    assert pss_findings(analyze(pack, kind, as_kind(kind, windows))) == {}
    # HostProcess and everything that is not Linux-only still apply to a Windows pod.
    windows["spec"]["securityContext"]["windowsOptions"] = {"hostProcess": True}
    windows["spec"]["hostNetwork"] = True
    assert set(pss_findings(analyze(pack, kind, as_kind(kind, windows)))) == {"pss-host-process", "pss-host-namespaces"}


def test_a_pod_in_its_own_user_namespace_is_relieved_of_the_user_controls_only(pack):
    pod = restricted_pod()
    pod_sc(pod, runAsNonRoot=False, runAsUser=0)
    sc(pod, procMount="Unmasked")
    assert set(pss_findings(analyze(pack, POD, as_kind(POD, pod)))) == {
        "pss-run-as-non-root", "pss-run-as-user", "pss-proc-mount"}
    pod["spec"]["hostUsers"] = False
    # Restricted keeps /proc masked even in a user namespace (baseline alone would not).
    assert set(pss_findings(analyze(pack, POD, as_kind(POD, pod)))) == {"pss-proc-mount"}


def test_an_unknown_field_defers_only_its_own_check(pack):
    pod = restricted_pod()
    sc(pod, privileged=UNKNOWN)
    pod["spec"]["hostPID"] = True
    # Unknown values elsewhere (a checksum annotation, a config map's name) defer nothing.
    pod["metadata"]["annotations"]["platform.io/config-checksum"] = UNKNOWN
    pod["spec"]["volumes"].append({"name": "config", "configMap": {"name": UNKNOWN}})
    diagnostics = analyze(pack, DEPLOYMENT, as_kind(DEPLOYMENT, pod))
    deferred = {d.policyName for d in diagnostics if "can't run policy" in d.message and d.policyName in PSS}
    assert deferred == {"pss-privileged"}
    assert set(pss_findings(diagnostics)) == {"pss-host-namespaces"}


def windows_pod(user: str) -> dict:
    """A Windows pod as the API accepts it: none of the Linux-only fields (runAsUser, allowPrivilegeEscalation,
    capabilities, seccomp), a named Windows user instead."""
    pod = linux_only_fields_removed(restricted_pod())
    pod["spec"]["os"] = {"name": "windows"}
    container(pod)["securityContext"].pop("runAsUser")
    pod_sc(pod, windowsOptions={"runAsUserName": user})
    return pod


@pytest.mark.parametrize("kind", list(KINDS), ids=["pod", "deployment"])
def test_a_windows_pod_that_meets_the_standard_passes_the_root_rules_too(pack, kind):
    allowed = analyze(pack, kind, as_kind(kind, windows_pod("ContainerUser")))
    assert [d.policyName for d in allowed if d.policyName in PSS | {"k8s-containers-non-root"}] == []
    denied = analyze(pack, kind, as_kind(kind, windows_pod("ContainerAdministrator")))
    assert [d.message for d in denied if d.policyName == "k8s-containers-non-root"
            and "runs as ContainerAdministrator" in d.message], denied
