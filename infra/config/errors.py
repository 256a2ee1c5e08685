"""Configuration problems and the error that reports all of them at once.

A `Problem` names the key path, what was expected and what was found, so that a typo in a stack file
reads as `platform:network.cidr: expected an IPv4 CIDR, got '10.0.0.0/33'`. `ConfigError` derives from
`pulumi.RunError` so that the Pulumi CLI prints the message without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class Problem:
    path: str
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.found}"


class ConfigError(pulumi.RunError):
    """Raised before any resource is declared when the stack configuration is invalid."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"stack '{stack}': {count} configuration problem{'s' if count != 1 else ''}:\n{lines}"
        )

    def paths(self) -> set[str]:
        return {p.path for p in self.problems}
