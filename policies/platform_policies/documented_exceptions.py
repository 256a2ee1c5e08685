"""Advisory: every finding a documented exception accepted, reported with the exception's reason and expiry.

The policies take a finding out of their own report when an honoured entry of their `exceptions` config covers it (see
`exceptions`); this policy, which runs last in `AnalyzeStack`, reports each such finding as advisory on its resource,
so an accepted finding never disappears from the preview. It must stay the last policy of the pack.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import ReportViolation, Severity, StackValidationArgs, StackValidationPolicy

from .core import ADVISORY, REGISTRY, PolicyDoc, Resource, Stack
from .exceptions import LEDGER, Accepted

NAME = "documented-exceptions"
DESCRIPTION = "Findings accepted by a documented exception in the stack's policy config, with the reason and expiry."
REMEDIATION = ("fix the finding and remove the entry from policies/config/<stack>.json before it expires; an expired "
               "entry is refused and the finding blocks again.")


def describe(accepted: Accepted) -> str:
    entry = accepted.entry
    return (f"{accepted.policy}: {accepted.problem} -- accepted by {entry.label}: {entry.reason}")


def accepted_findings(resources: list[Resource]) -> Iterator[tuple[Resource, str]]:
    for resource in resources:
        for accepted in LEDGER.take(resource.urn):
            yield resource, describe(accepted)


def validate(args: StackValidationArgs, report: ReportViolation) -> None:
    try:
        for resource, text in accepted_findings(Stack.from_args(args).resources):
            report(f"{resource.label}: {text}\nRemediation: {REMEDIATION}", resource.urn)
    finally:
        # Whatever was recorded for resources outside this stack (a direct Analyze without a stack) is not carried over.
        LEDGER.clear()


documented_exceptions = StackValidationPolicy(
    name=NAME,
    description=DESCRIPTION,
    validate=validate,
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    remediation_steps=REMEDIATION,
)
documented_exceptions.check = None  # type: ignore[attr-defined]
documented_exceptions.applies = lambda resource_type: True  # type: ignore[attr-defined]
documented_exceptions.kind = "stack"  # type: ignore[attr-defined]
documented_exceptions.type_list = ()  # type: ignore[attr-defined]
REGISTRY.append(PolicyDoc(NAME, ADVISORY, DESCRIPTION, "documented_exceptions", "stack"))

POLICIES = [documented_exceptions]
