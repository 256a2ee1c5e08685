"""The HTTP interface: health endpoints, the token on internal endpoints, errors as JSON, one JSON log per request."""

from __future__ import annotations

import io
import json
import logging

from backend.api.http import token_ok
from backend.application.service import Application
from backend.infrastructure import logs

from .conftest import TOKEN, get, running


def test_healthz(port):
    assert get(port, "/healthz") == (200, {"status": "ok"})


def test_readyz_when_every_check_passes(port):
    assert get(port, "/readyz") == (200, {"ready": True, "checks": {"always": True}})


def test_readyz_is_503_while_a_check_fails():
    with running(Application(service="backend", checks={"token": lambda: False})) as port:
        assert get(port, "/readyz") == (503, {"ready": False, "checks": {"token": False}})


def test_internal_endpoint_is_401_without_the_token(port):
    status, body = get(port, "/internal/hello?name=ada")
    assert status == 401 and "X-Internal-Token" in body["error"]


def test_internal_endpoint_is_401_with_a_wrong_token(port):
    assert get(port, "/internal/hello?name=ada", {"X-Internal-Token": TOKEN[:-1] + "y"})[0] == 401
    assert get(port, "/internal/hello?name=ada", {"X-Internal-Token": ""})[0] == 401


def test_internal_endpoint_is_200_with_the_token(port):
    status, body = get(port, "/internal/hello?name=ada", {"X-Internal-Token": TOKEN})
    assert status == 200
    assert body == {"service": "backend", "message": "hello, ada, from backend"}


def test_a_pod_without_its_token_admits_nobody():
    assert not token_ok("", "") and not token_ok(None, "") and not token_ok("x", "")
    with running(Application(service="backend"), token="") as port:
        assert get(port, "/internal/hello", {"X-Internal-Token": ""})[0] == 401


def test_bad_input_is_400_and_unknown_paths_404(port):
    assert get(port, "/internal/hello?name=%3Cscript%3E", {"X-Internal-Token": TOKEN})[0] == 400
    assert get(port, "/nowhere")[0] == 404


def test_each_request_is_one_json_log_line(port):
    stream = io.StringIO()
    logs.configure("backend", "test", "INFO", stream=stream)
    try:
        get(port, "/healthz")
    finally:
        logging.getLogger().handlers.clear()
    [line] = [json.loads(text) for text in stream.getvalue().splitlines() if '"request"' in text]
    assert line["message"] == "request" and line["path"] == "/healthz" and line["status"] == 200
    assert line["service"] == "backend" and line["level"] == "info" and "time" in line
