"""Namespaces (mandatory): every namespace the program declares enforces the restricted Pod Security Standard.

Pod Security Admission reads three labels on a namespace: `pod-security.kubernetes.io/enforce` (pods that violate the
level are rejected), `audit` (violations are recorded in the audit log) and `warn` (the client is warned). A namespace
without the `enforce` label admits anything (the cluster default is `privileged`), so each of the three must be present
and say `restricted`. A namespace that needs `baseline` or `privileged` (a node agent, an add-on whose chart is not yet
restricted) carries a documented exception in the stack's policy config (see `exceptions`), which names it, says why
and when the exception ends.

Unknowns: unknown labels are deferred to `pulumi up`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import Severity

from .core import MANDATORY, Context, Deferred, Outcome, Resource, is_unknown, resource_policy

LEVEL_LABELS = tuple(f"pod-security.kubernetes.io/{mode}" for mode in ("enforce", "audit", "warn"))
LEVELS = ("privileged", "baseline", "restricted")
NAMESPACE_TYPES = ("kubernetes:core/v1:Namespace",)


def check_namespace_restricted(resource: Resource, ctx: Context) -> Iterator[Outcome]:
    labels = resource.get("metadata", "labels")
    if is_unknown(labels):
        yield Deferred("metadata.labels")
        return
    labels = labels if isinstance(labels, Mapping) else {}
    for key in LEVEL_LABELS:
        value = labels.get(key)
        if is_unknown(value):
            yield Deferred(f"metadata.labels.{key}")
        elif value is None:
            yield f"metadata.labels['{key}'] is missing (the namespace then admits privileged pods)"
        elif value != "restricted":
            known = "" if value in LEVELS else f" (not a Pod Security level: {', '.join(LEVELS)})"
            yield (f"metadata.labels['{key}'] is {value!r}{known}; a namespace below restricted needs a documented "
                   "exception")


namespace_pod_security_restricted = resource_policy(
    name="namespace-pod-security-restricted",
    description=("Every namespace enforces, audits and warns at the restricted Pod Security Standard "
                 "(pod-security.kubernetes.io/enforce, audit and warn labels); lower levels need a documented exception."),
    level=MANDATORY,
    severity=Severity.HIGH,
    remediation=("label the namespace pod-security.kubernetes.io/enforce, audit and warn: restricted, or record a "
                 "documented exception for it (resource, reason, expiry) under this policy in policies/config/<stack>.json."),
    types=NAMESPACE_TYPES,
    check=check_namespace_restricted,
)

POLICIES = [namespace_pod_security_restricted]
