"""Configuration problems and the error that reports all of them at once, root causes first.

A `Problem` names the key path, what was expected and what was found, so that a typo in a stack file
reads as `platform:network.cidr: expected an IPv4 CIDR, got '10.0.0.0/33'`. A problem that only follows from another
one (a subnet measured against the default VPC CIDR because `cidr` was misspelt) names its cause and is listed after
the root causes, marked as a consequence. `ConfigError` derives from `pulumi.RunError` so that the Pulumi CLI prints
the message without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


# How many of a root cause's consequences the message spells out; `ConfigError.consequences` has them all.
SHOWN_CONSEQUENCES = 2


@dataclass(frozen=True)
class Problem:
    path: str
    expected: str
    found: str
    # The key whose missing or invalid value this problem was measured against (its default was used instead).
    cause: str | None = None
    # For an unknown key: the known key it probably meant.
    meant: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.found}"


def ordered(problems: list[Problem]) -> tuple[list[Problem], list[tuple[Problem, Problem]]]:
    """(root causes, [(consequence, its root)]): a problem is a consequence when its cause is itself a problem, or is
    the key an unknown key was meant to be (a typo left the setting at its default)."""
    by_path = {p.path: p for p in problems if p.cause is None}
    by_meant = {p.meant: p for p in problems if p.meant}
    roots: list[Problem] = []
    consequences: list[tuple[Problem, Problem]] = []
    for problem in problems:
        root = (by_path.get(problem.cause) or by_meant.get(problem.cause)) if problem.cause else None
        if root is not None and root is not problem:
            consequences.append((problem, root))
        else:
            roots.append(problem)
    # Unknown keys first (a typo leaves a setting at its default, which the other rules then judge), rules measured
    # against defaults last.
    roots.sort(key=lambda p: (not p.found.startswith("unknown"), p.cause is not None))
    return roots, consequences


class ConfigError(pulumi.RunError):
    """Raised before any resource is declared when the stack configuration is invalid."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        roots, consequences = ordered(problems)
        self.roots = tuple(roots)
        self.consequences = tuple(c for c, _ in consequences)
        self.problems = self.roots + self.consequences
        lines = [f"  - {p}" for p in roots]
        for root in roots:
            following = [c for c, r in consequences if r is root]
            if following:
                lines.append(f"  because of {root.path}, {len(following)} more (they go away with it), such as:")
                lines += [f"      {c}" for c in following[:SHOWN_CONSEQUENCES]]
                if len(following) > SHOWN_CONSEQUENCES:
                    lines.append(f"      … and {len(following) - SHOWN_CONSEQUENCES} like them")
        count = len(roots)
        more = f" (and {len(consequences)} that follow from {'it' if count == 1 else 'them'})" if consequences else ""
        super().__init__(
            f"stack '{stack}': {count} configuration problem{'s' if count != 1 else ''}{more}:\n" + "\n".join(lines)
        )

    def paths(self) -> set[str]:
        return {p.path for p in self.problems}
