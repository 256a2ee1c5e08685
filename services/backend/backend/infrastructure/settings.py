"""The service's settings, from the environment the platform gives its pods.

The ConfigMap sets SERVICE_NAME, ENVIRONMENT, PORT and `<CALLEE>_URL` for each service this one calls; the Secret
that External Secrets syncs from Secrets Manager sets INTERNAL_TOKEN. Nothing is read from files, so the container
runs with a read-only root filesystem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

# The services this one calls, from its catalogue entry when it was scaffolded (callees list it among their callers).
CALLEES: tuple[str, ...] = ()


def env_prefix(service: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in service.upper())


@dataclass(frozen=True)
class Settings:
    service: str
    environment: str
    port: int
    internal_token: str
    log_level: str = "INFO"
    upstream_urls: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        return cls(
            service=env.get("SERVICE_NAME", "backend"),
            environment=env.get("ENVIRONMENT", "local"),
            port=int(env.get("PORT", "8080")),
            internal_token=env.get("INTERNAL_TOKEN", ""),
            log_level=env.get("LOG_LEVEL", "info").upper(),
            upstream_urls={
                callee: env[f"{env_prefix(callee)}_URL"] for callee in CALLEES if f"{env_prefix(callee)}_URL" in env
            },
        )
