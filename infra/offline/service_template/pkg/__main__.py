"""The composition root: settings and logging from the infrastructure, the use cases, the HTTP server."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from .api.http import server
from .application.service import Application
from .infrastructure import logs
from .infrastructure.settings import CALLEES, Settings
from .infrastructure.upstream import InternalClient


def build(settings: Settings) -> Application:
    upstreams = {name: InternalClient(url, settings.internal_token) for name, url in settings.upstream_urls.items()}
    return Application(
        service=settings.service,
        upstreams=upstreams,
        checks={
            # Ready only with the token the ExternalSecret syncs and with every callee's URL configured.
            "internal-token": lambda: bool(settings.internal_token),
            "upstreams": lambda: set(upstreams) == set(CALLEES),
        },
    )


def main() -> int:
    settings = Settings.from_env()
    logs.configure(settings.service, settings.environment, settings.log_level)
    httpd = server(build(settings), settings.internal_token, "0.0.0.0", settings.port)  # noqa: S104 (in a pod)
    # SIGTERM (a rollout or a drain): stop accepting, finish what is in flight, exit 0.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown, daemon=True).start())
    logging.getLogger("main").info("listening", extra={"port": settings.port})
    httpd.serve_forever()
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
