"""Calling another service: the client sends the token, the public endpoint combines the greetings, and a refused
call becomes a 502 (never a leaked upstream error)."""

from __future__ import annotations

from backend.__main__ import build
from backend.application.service import Application
from backend.infrastructure.settings import CALLEES, Settings
from backend.infrastructure.upstream import InternalClient

from .conftest import TOKEN, get, running


def test_the_public_endpoint_calls_the_upstream_with_the_token():
    upstream = Application(service="upstream")
    with running(upstream, token=TOKEN) as upstream_port:
        client = InternalClient(f"http://127.0.0.1:{upstream_port}", TOKEN)
        with running(Application(service="backend", upstreams={"upstream": client})) as port:
            status, body = get(port, "/api/hello?name=ada")
    assert status == 200
    assert body["upstreams"] == {"upstream": {"service": "upstream", "message": "hello, ada, from upstream"}}


def test_a_refused_upstream_call_is_a_502():
    with running(Application(service="upstream"), token=TOKEN) as upstream_port:
        client = InternalClient(f"http://127.0.0.1:{upstream_port}", "wrong-token")
        with running(Application(service="backend", upstreams={"upstream": client})) as port:
            assert get(port, "/api/hello?name=ada") == (502, {"error": "an upstream service failed"})


def test_settings_come_from_the_platform_environment():
    env = {"SERVICE_NAME": "backend", "ENVIRONMENT": "staging", "PORT": "9000", "INTERNAL_TOKEN": TOKEN}
    env.update({f"{c.upper().replace('-', '_')}_URL": f"http://{c}.{c}.svc.cluster.local:8080" for c in CALLEES})
    settings = Settings.from_env(env)
    assert (settings.port, settings.internal_token, settings.environment) == (9000, TOKEN, "staging")
    assert set(settings.upstream_urls) == set(CALLEES)
    assert all(build(settings).readiness().values())
    assert not all(build(Settings.from_env({**env, "INTERNAL_TOKEN": ""})).readiness().values())
