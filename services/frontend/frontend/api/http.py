"""The HTTP server (standard library): health, readiness, the internal endpoint and the public one.

Routes: `GET /healthz` (the process answers), `GET /readyz` (every readiness check passes, else 503),
`GET /internal/hello?name=` (internal: only with the right X-Internal-Token, compared in constant time, else 401),
`GET /api/hello?name=` (this service's greeting and each upstream's, fetched with the token).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..application.service import Application
from ..domain.greeting import InvalidName
from ..domain.ports import UpstreamError

TOKEN_HEADER = "X-Internal-Token"
log = logging.getLogger("http")


def token_ok(presented: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected token (a pod without its Secret) admits nobody."""
    if not expected or presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def make_handler(app: Application, internal_token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "service"
        sys_version = ""

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            started = time.monotonic()
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            status, body = self.route(url.path, query)
            payload = json.dumps(body).encode()
            # Logged before the response goes out, so the line exists by the time the caller has its answer.
            log.info(
                "request",
                extra={"method": "GET", "path": url.path, "status": int(status),
                       "duration_ms": round((time.monotonic() - started) * 1000, 2)},
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def route(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
            if path == "/healthz":
                return HTTPStatus.OK, {"status": "ok"}
            if path == "/readyz":
                checks = app.readiness()
                ready = all(checks.values())
                return (HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE), {"ready": ready, "checks": checks}
            try:
                if path == "/internal/hello":
                    if not token_ok(self.headers.get(TOKEN_HEADER), internal_token):
                        return HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong X-Internal-Token"}
                    return HTTPStatus.OK, app.hello(query.get("name", "world"))
                if path == "/api/hello":
                    return HTTPStatus.OK, app.hello_through_upstreams(query.get("name", "world"))
            except InvalidName:
                return HTTPStatus.BAD_REQUEST, {"error": "name: 1-64 letters, digits, spaces or . ' -"}
            except UpstreamError as error:
                log.warning("upstream failed", extra={"error": str(error)})
                return HTTPStatus.BAD_GATEWAY, {"error": "an upstream service failed"}
            return HTTPStatus.NOT_FOUND, {"error": "not found"}

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # every request is logged once, as JSON, by do_GET

    return Handler


def server(app: Application, internal_token: str, host: str, port: int) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer((host, port), make_handler(app, internal_token))
    # Non-daemon request threads: server_close() waits for requests in flight, so a SIGTERM drains them.
    httpd.daemon_threads = False
    return httpd
