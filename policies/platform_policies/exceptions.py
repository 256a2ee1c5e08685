"""Documented exceptions: accepting one policy's finding on named resources, with a reason and an expiry date.

Platform engineers accept a finding the way cdk-nag suppressions or checkov skips do: in the stack's policy config
(`policies/config/<stack>.json`, passed with `--policy-pack-config`), under the policy's own name:

    "pss-volume-types": {"exceptions": [
        {"resource": "node-agent*", "reason": "reads the node's journal; owner: platform team, see runbook 12",
         "expires": "2027-03-31"}]}

- `resource` is a glob (`fnmatch`, case-sensitive) matched against the resource's name or its URN;
- `reason` says why the finding is accepted and who owns it; an entry without one is refused;
- `expires` is the last day (UTC, `YYYY-MM-DD`) the entry is honoured; an entry past it, or without one, is refused.

An honoured entry takes the finding out of the policy's report (it no longer blocks) and the `documented-exceptions`
policy reports it, advisory, with its reason, so every accepted finding stays visible in every preview. A refused entry
is reported by the policy itself, next to the finding it did not suppress, naming the entry and why it was refused;
for a mandatory policy that blocks the deployment.

The four forbidden patterns (hardcoded secrets, data stores reachable from the internet, root use, excessive IAM or
RBAC permissions: the modules in `FORBIDDEN_PATTERN_MODULES`) take no exception in prod: such an entry is refused there.

The honoured findings travel from the policies to `documented-exceptions` through `LEDGER`, a record kept inside the
pack process: the engine analyses every resource (`Analyze`) before it analyses the stack (`AnalyzeStack`), where
`documented-exceptions` runs last, reports what the ledger holds for the stack's resources and empties it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

FORBIDDEN_PATTERN_MODULES = frozenset({"hardcoded_secrets", "public_exposure", "root_use", "permissions"})

CONFIG = {
    "exceptions": {
        "type": "array",
        "description": ("Documented exceptions for this policy on this stack: each {resource: name or URN glob, reason, "
                        "expires: YYYY-MM-DD (last day honoured)}."),
        "items": {
            "type": "object",
            "properties": {
                "resource": {"type": "string"},
                "reason": {"type": "string"},
                "expires": {"type": "string"},
            },
            "additionalProperties": False,
        },
    }
}


@dataclass(frozen=True)
class Entry:
    number: int  # 1-based position in the policy's list
    resource: str | None
    reason: str | None
    expires: date | None
    refused: str | None  # why the entry is refused; None when it is honoured

    @property
    def label(self) -> str:
        pattern = f'resource "{self.resource}"' if self.resource else "no resource"
        until = f"expires {self.expires.isoformat()}" if self.expires else "no valid expiry"
        return f"documented exception #{self.number} ({pattern}, {until})"

    def matches(self, name: str, urn: str) -> bool:
        if not self.resource:
            return False
        return fnmatch.fnmatchcase(name, self.resource) or fnmatch.fnmatchcase(urn, self.resource)


def today() -> date:
    return datetime.now(timezone.utc).date()


def parse(config: Mapping[str, Any] | None, *, forbidden_in_prod: bool, prod: bool, on: date) -> list[Entry]:
    """The policy's exception entries, each with the reason it is refused, if it is."""
    raw = config.get("exceptions") if isinstance(config, Mapping) else None
    if raw is None:
        return []
    if not isinstance(raw, list):
        return [Entry(1, None, None, None, f"exceptions should be a list of entries, got {type(raw).__name__}")]
    entries = []
    for number, item in enumerate(raw, start=1):
        item = item if isinstance(item, Mapping) else {}
        resource = item.get("resource") if isinstance(item.get("resource"), str) and item.get("resource").strip() else None
        reason = item.get("reason") if isinstance(item.get("reason"), str) and item.get("reason").strip() else None
        expires = None
        if isinstance(item.get("expires"), str):
            try:
                expires = date.fromisoformat(item["expires"].strip())
            except ValueError:
                expires = None
        if not resource:
            refused = "it names no resource (a name or URN glob)"
        elif not reason:
            refused = "it gives no reason"
        elif expires is None:
            refused = f"its expiry {item.get('expires')!r} is not a date (YYYY-MM-DD)"
        elif expires < on:
            refused = f"it expired on {expires.isoformat()}"
        elif forbidden_in_prod and prod:
            refused = "this policy guards a forbidden pattern, which takes no exception in prod"
        else:
            refused = None
        entries.append(Entry(number, resource, reason, expires, refused))
    return entries


@dataclass(frozen=True)
class Accepted:
    policy: str
    label: str  # the resource's type and name
    problem: str
    entry: Entry


class Ledger:
    """The findings honoured exceptions took out of the report, by resource URN, until `documented-exceptions` reports
    them."""

    def __init__(self) -> None:
        self._by_urn: dict[str, dict[tuple[str, str], Accepted]] = {}

    def record(self, urn: str, accepted: Accepted) -> None:
        self._by_urn.setdefault(urn, {})[(accepted.policy, accepted.problem)] = accepted

    def take(self, urn: str) -> list[Accepted]:
        return list(self._by_urn.pop(urn, {}).values())

    def clear(self) -> None:
        self._by_urn.clear()


LEDGER = Ledger()


def apply(
    policy: str,
    module: str,
    *,
    name: str,
    urn: str,
    label: str,
    violations: list[str],
    config: Mapping[str, Any] | None,
    prod: bool,
    on: date | None = None,
) -> list[str]:
    """The violations left to report once the policy's exception entries are applied, refusals included."""
    entries = parse(config, forbidden_in_prod=module in FORBIDDEN_PATTERN_MODULES, prod=prod, on=on or today())
    if not entries:
        return violations
    remaining: list[str] = []
    honoured = None
    for entry in entries:
        applies = entry.matches(name, urn)
        if entry.refused and (applies or (not entry.resource and violations)):
            remaining.append(f"{entry.label} is refused: {entry.refused}; the finding stands until the entry is fixed")
        elif applies and not entry.refused and honoured is None:
            honoured = entry
    if honoured is None:
        return remaining + violations
    for problem in violations:
        LEDGER.record(urn, Accepted(policy, label, problem, honoured))
    return remaining
