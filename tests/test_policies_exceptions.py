"""Documented exceptions and namespace levels through the pack's real protocol.

An exception entry (resource glob, reason, expiry) in a policy's config takes that policy's finding off the blocking
report and `documented-exceptions` reports it, advisory, with the reason; an expired entry, one without a reason and
(in prod) one for a forbidden pattern are refused loudly: the finding stands, mandatory, next to a message naming the
entry and why it was refused. Namespaces: enforce, audit and warn at restricted, or a documented exception.
"""

from __future__ import annotations

import json

import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from infra.offline.policy_report import DEFAULT_PACK_DIR, PolicyPackSession, load_pack_config

NAMESPACE = "kubernetes:core/v1:Namespace"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
FUTURE, PAST = "2099-12-31", "2020-01-01"
POLICY = "namespace-pod-security-restricted"
# The policies whose deny and allow twins are here (the unit table counts them as covered).
TWINNED = {POLICY, "documented-exceptions"}


def labels(enforce: str | None = "restricted", audit: str | None = "restricted", warn: str | None = "restricted") -> dict:
    values = {"enforce": enforce, "audit": audit, "warn": warn}
    return {f"pod-security.kubernetes.io/{k}": v for k, v in values.items() if v is not None}


def namespace(name: str = "argocd", **levels) -> dict:
    return {"metadata": {"name": name, "labels": labels(**levels)}}


@pytest.fixture(scope="module")
def staging():
    with PolicyPackSession("staging", preview=True, stack_config={}) as session:
        yield session


@pytest.fixture(scope="module")
def prod():
    with PolicyPackSession("prod", preview=True, stack_config={}) as session:
        yield session


def struct(props: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(json.loads(json.dumps(props)))
    return message


def urn(session, type_, name) -> str:
    return f"urn:pulumi:{session.stack}::platform::{type_}::{name}"


def run(session: PolicyPackSession, type_: str, name: str, props: dict, config: dict | None = None):
    """Analyze one resource, then the stack of that one resource, with `config` on top of the stack's config file."""
    session.configure({**load_pack_config(DEFAULT_PACK_DIR, session.stack), **(config or {})})
    request = analyzer_pb2.AnalyzeRequest(urn=urn(session, type_, name), type=type_, name=name, properties=struct(props),
                                          options=analyzer_pb2.AnalyzerResourceOptions())
    analyzed = list(session.stub.Analyze(request, timeout=60).diagnostics)
    stack = analyzer_pb2.AnalyzeStackRequest(resources=[analyzer_pb2.AnalyzerResource(
        urn=request.urn, type=type_, name=name, properties=struct(props))])
    return analyzed, list(session.stub.AnalyzeStack(stack, timeout=60).diagnostics)


def of(diagnostics, policy: str, level=None) -> list[str]:
    return [d.message for d in diagnostics if d.policyName == policy and (level is None or d.enforcementLevel == level)]


def exception(**entry) -> dict:
    return {POLICY: {"exceptions": [entry]}}


# --- namespaces -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels, expect", [
    ({"enforce": None}, "['pod-security.kubernetes.io/enforce'] is missing"),
    ({"enforce": "baseline"}, "is 'baseline'; a namespace below restricted needs a documented exception"),
    ({"enforce": "privileged"}, "is 'privileged'"),
    ({"audit": None}, "['pod-security.kubernetes.io/audit'] is missing"),
    ({"warn": "baseline"}, "['pod-security.kubernetes.io/warn'] is 'baseline'"),
    ({"enforce": "restrict"}, "not a Pod Security level"),
])
def test_a_namespace_below_restricted_is_denied(staging, levels, expect):
    analyzed, _ = run(staging, NAMESPACE, "web", namespace("web", **levels))
    found = of(analyzed, POLICY, analyzer_pb2.MANDATORY)
    assert len(found) == 1 and expect in found[0], found


def test_a_restricted_namespace_passes(staging):
    analyzed, stacked = run(staging, NAMESPACE, "web", namespace("web"))
    assert of(analyzed, POLICY) == [] and of(stacked, "documented-exceptions") == []


# --- exceptions -----------------------------------------------------------------------------------------------------------

REASON = "Argo CD's chart is not yet proven against restricted; owner: platform team"


@pytest.mark.parametrize("pattern", ["argocd-ns", "argo*", "urn:pulumi:*::kubernetes:core/v1:Namespace::argocd-ns"])
def test_an_honoured_exception_turns_the_finding_advisory_with_its_reason(staging, pattern):
    config = exception(resource=pattern, reason=REASON, expires=FUTURE)
    analyzed, stacked = run(staging, NAMESPACE, "argocd-ns", namespace(enforce="baseline"), config)
    assert of(analyzed, POLICY) == []
    accepted = of(stacked, "documented-exceptions", analyzer_pb2.ADVISORY)
    assert len(accepted) == 1, stacked
    assert f"{POLICY}: metadata.labels['pod-security.kubernetes.io/enforce'] is 'baseline'" in accepted[0]
    assert REASON in accepted[0] and f"expires {FUTURE}" in accepted[0]
    assert not [d for d in analyzed + stacked if d.enforcementLevel == analyzer_pb2.MANDATORY]


def test_an_exception_for_another_resource_changes_nothing(staging):
    config = exception(resource="monitoring", reason=REASON, expires=FUTURE)
    analyzed, stacked = run(staging, NAMESPACE, "argocd-ns", namespace(enforce="baseline"), config)
    assert len(of(analyzed, POLICY, analyzer_pb2.MANDATORY)) == 1
    assert of(stacked, "documented-exceptions") == []


@pytest.mark.parametrize("entry, why", [
    ({"resource": "argocd-ns", "reason": REASON, "expires": PAST}, f"it expired on {PAST}"),
    ({"resource": "argocd-ns", "expires": FUTURE}, "it gives no reason"),
    ({"resource": "argocd-ns", "reason": "   ", "expires": FUTURE}, "it gives no reason"),
    ({"resource": "argocd-ns", "reason": REASON}, "is not a date"),
    ({"resource": "argocd-ns", "reason": REASON, "expires": "31/12/2099"}, "is not a date"),
    ({"reason": REASON, "expires": FUTURE}, "it names no resource"),
])
def test_a_bad_exception_is_refused_loudly_and_the_finding_stands(staging, entry, why):
    analyzed, stacked = run(staging, NAMESPACE, "argocd-ns", namespace(enforce="baseline"), {POLICY: {"exceptions": [entry]}})
    blocking = of(analyzed, POLICY, analyzer_pb2.MANDATORY)
    assert len(blocking) == 2, blocking
    refusal = next(m for m in blocking if "documented exception #1" in m)
    assert "is refused: " in refusal and why in refusal
    assert any("is 'baseline'" in m and "is refused" not in m for m in blocking)
    assert of(stacked, "documented-exceptions") == []


def test_an_expired_exception_is_refused_even_next_to_a_valid_one(staging):
    config = {POLICY: {"exceptions": [
        {"resource": "argocd-ns", "reason": REASON, "expires": PAST},
        {"resource": "argocd-ns", "reason": REASON, "expires": FUTURE}]}}
    analyzed, stacked = run(staging, NAMESPACE, "argocd-ns", namespace(enforce="baseline"), config)
    blocking = of(analyzed, POLICY, analyzer_pb2.MANDATORY)
    assert len(blocking) == 1 and f"documented exception #1 (resource \"argocd-ns\", expires {PAST}) is refused" in blocking[0]
    assert len(of(stacked, "documented-exceptions")) == 1


def node_agent() -> dict:
    pod = {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
           "containers": [{"name": "agent", "image": "registry.example.com/agent:2.1.0",
                           "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False,
                                               "privileged": False, "capabilities": {"drop": ["ALL"]}},
                           "volumeMounts": [{"name": "journal", "mountPath": "/var/log/journal", "readOnly": True}]}],
           "volumes": [{"name": "journal", "hostPath": {"path": "/var/log/journal"}}]}
    return {"metadata": {"name": "log-agent", "namespace": "logging"}, "spec": {"template": {"spec": pod}}}


def test_a_pod_security_exception_is_honoured_in_prod(prod):
    entry = {"resource": "log-agent", "reason": "ships the node journal; read-only mount", "expires": FUTURE}
    config = {name: {"exceptions": [entry]} for name in ("pss-host-path-volumes", "pss-volume-types")}
    analyzed, stacked = run(prod, DAEMONSET, "log-agent", node_agent(), config)
    assert of(analyzed, "pss-host-path-volumes") == [] and of(analyzed, "pss-volume-types") == []
    accepted = of(stacked, "documented-exceptions")
    assert {m.split(": ", 2)[1] for m in accepted} >= {"pss-host-path-volumes", "pss-volume-types"}, accepted


def root_agent() -> dict:
    agent = node_agent()
    agent["spec"]["template"]["spec"]["volumes"] = []
    agent["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = []
    agent["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    return agent


@pytest.mark.parametrize("stack, honoured", [("staging", True), ("prod", False)])
def test_a_forbidden_pattern_takes_no_exception_in_prod(request, stack, honoured):
    session = request.getfixturevalue(stack)
    entry = {"resource": "log-agent", "reason": "reads root-owned files", "expires": FUTURE}
    analyzed, stacked = run(session, DAEMONSET, "log-agent", root_agent(), {"k8s-containers-non-root": {"exceptions": [entry]}})
    blocking = of(analyzed, "k8s-containers-non-root", analyzer_pb2.MANDATORY)
    if honoured:
        assert blocking == [] and len(of(stacked, "documented-exceptions")) == 1
    else:
        assert any("forbidden pattern, which takes no exception in prod" in m for m in blocking), blocking
        assert any("runs as UID 0" in m for m in blocking)
        assert of(stacked, "documented-exceptions") == []


def test_the_staging_config_documents_the_one_namespace_below_restricted():
    entries = load_pack_config(DEFAULT_PACK_DIR, "staging")[POLICY]["exceptions"]
    assert [e["resource"] for e in entries] == ["addons-argocd"]
    assert all(e["reason"].strip() and e["expires"] for e in entries)
    assert POLICY not in load_pack_config(DEFAULT_PACK_DIR, "prod")
