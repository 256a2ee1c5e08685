"""A running server on 127.0.0.1 with an ephemeral port, built from the real layers and fake upstreams."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from frontend.api.http import server
from frontend.application.service import Application

TOKEN = "test-token-" + "x" * 32


@contextmanager
def running(app: Application, token: str = TOKEN) -> Iterator[int]:
    httpd = server(app, token, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = json.loads(response.read() or b"null")
    connection.close()
    return response.status, body


@pytest.fixture
def port() -> Iterator[int]:
    with running(Application(service="frontend", checks={"always": lambda: True})) as bound:
        yield bound
