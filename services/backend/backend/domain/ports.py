"""What the application needs from the outside world, as protocols the infrastructure implements."""

from __future__ import annotations

from typing import Any, Protocol


class UpstreamError(RuntimeError):
    """An upstream service could not be reached or refused the call."""


class Upstream(Protocol):
    """Another catalogued service this one calls over internal REST."""

    def hello(self, name: str) -> dict[str, Any]: ...
