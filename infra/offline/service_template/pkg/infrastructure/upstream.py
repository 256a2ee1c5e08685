"""Internal REST calls to another catalogued service, carrying the X-Internal-Token header."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..domain.ports import UpstreamError

TOKEN_HEADER = "X-Internal-Token"


class InternalClient:
    """Implements the domain's `Upstream` port over HTTP (the in-cluster URL the platform hands the service)."""

    def __init__(self, base_url: str, token: str, timeout_seconds: float = 2.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_seconds = timeout_seconds

    def hello(self, name: str) -> dict[str, Any]:
        url = f"{self.base_url}/internal/hello?{urllib.parse.urlencode({'name': name})}"
        request = urllib.request.Request(url, headers={TOKEN_HEADER: self.token, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310 (in-cluster URL)
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise UpstreamError(f"{self.base_url} answered {error.code}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise UpstreamError(f"{self.base_url} unreachable: {error}") from None
