"""The service's use cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..domain.greeting import greet
from ..domain.ports import Upstream


@dataclass
class Application:
    service: str
    upstreams: Mapping[str, Upstream] = field(default_factory=dict)
    # Readiness checks: each returns True when its dependency is usable (configuration present, pools open, ...).
    checks: Mapping[str, Callable[[], bool]] = field(default_factory=dict)

    def hello(self, name: str) -> dict[str, Any]:
        """This service's own greeting (the internal endpoint)."""
        greeting = greet(self.service, name)
        return {"service": greeting.service, "message": greeting.message}

    def hello_through_upstreams(self, name: str) -> dict[str, Any]:
        """This service's greeting plus each upstream's, fetched over internal REST."""
        result = self.hello(name)
        result["upstreams"] = {service: upstream.hello(name) for service, upstream in sorted(self.upstreams.items())}
        return result

    def readiness(self) -> dict[str, bool]:
        return {name: bool(check()) for name, check in sorted(self.checks.items())}
