"""`platform:secrets`: how the stack keeps its secrets (recovery window, protection of the secrets key).

Every secret is named under the stack's prefix (`platform/<stack>/`) and encrypted with one customer-managed key;
those are fixed, not configured. Rules: a recovery window of 0 (delete at once) or 7-30 days, at least 7 in prod;
`protect` on in prod.
"""

from __future__ import annotations

from dataclasses import dataclass

from .durability import protect_flag
from .reader import Section


@dataclass(frozen=True)
class SecretsSettings:
    recovery_window_days: int = 30
    protect: bool = True


def parse_secrets(s: Section, *, prod: bool) -> SecretsSettings:
    d = SecretsSettings()
    before = len(s.problems)
    window = s.integer("recoveryWindowDays", d.recovery_window_days, minimum=0, maximum=30)
    if len(s.problems) == before and (0 < window < 7 or (prod and window < 7)):
        expected = "7 to 30 days in prod (a deleted secret stays recoverable)" if prod else "0 (delete at once) or 7 to 30 days"
        s.problem("recoveryWindowDays", expected, window)
        window = d.recovery_window_days
    settings = SecretsSettings(recovery_window_days=window, protect=protect_flag(s, prod=prod))
    s.done()
    return settings
