"""The services' own code under services/: each one's test suite passes (run as its CI runs it, in its folder), the
frontend reaches the backend's internal endpoint with the token end to end through the real entry points, and each
service's Dockerfile and workflow agree with its catalogue entry."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from infra.config import load_stack_config
from infra.config.services import has_registry, repository_name
from infra.offline import engine

ROOT = engine.ROOT
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
TOKEN = "end-to-end-" + "t" * 40


def catalogue():
    return load_stack_config("staging", engine.stack_config("staging")).catalogue


def test_every_in_account_image_has_its_code():
    in_account = {spec.name for spec in catalogue().services if not has_registry(spec.image)}
    assert in_account <= set(SERVICES), f"no services/<name>/ for {sorted(in_account - set(SERVICES))}"
    assert {"backend", "frontend"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_its_own_tests_pass(service):
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:randomly"], cwd=ROOT / "services" / service,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    passed = result.stdout
    for test in ("test_internal_endpoint_is_401_without_the_token", "test_internal_endpoint_is_200_with_the_token",
                 "test_healthz", "test_readyz_when_every_check_passes", "test_the_layer_contract_holds",
                 "test_the_contract_fails_when_the_domain_imports_the_infrastructure", "test_hadolint_finds_nothing"):
        assert f"PASSED tests/" in passed and f"::{test}" in passed, f"{service}: {test} did not run"


@pytest.mark.parametrize("service", SERVICES)
def test_the_dockerfile_runs_as_the_catalogue_uid_on_the_catalogue_port(service):
    spec = catalogue().service(service)
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    assert f"USER {spec.run_as_user}:{spec.run_as_user}" in text
    assert f"EXPOSE {spec.port}" in text


@pytest.mark.parametrize("service", SERVICES)
def test_the_workflow_tests_then_pushes_to_its_repository_with_the_ci_role(service):
    spec = catalogue().service(service)
    document = yaml.safe_load((ROOT / ".github" / "workflows" / f"service-{service}.yml").read_text())
    test, image = document["jobs"]["test"], document["jobs"]["image"]
    assert any("pytest" in step.get("run", "") for step in test["steps"])
    assert image["needs"] == "test" and image["permissions"] == {"contents": "read", "id-token": "write"}
    [assume] = [s for s in image["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert assume["with"]["role-to-assume"] == "${{ vars.AWS_IMAGE_PUSH_ROLE_ARN }}"
    [push] = [s for s in image["steps"] if s.get("id") == "push"]
    assert push["env"]["REPOSITORY"] == repository_name(spec.image)
    for command in ("docker build", "docker push", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        assert command in push["run"]
    assert image["outputs"]["digest"] == "${{ steps.push.outputs.digest }}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def started(service: str, env: dict[str, str]):
    process = subprocess.Popen([sys.executable, "-m", service], cwd=ROOT / "services" / service,
                               env={"PATH": os.environ.get("PATH", ""), **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if get(int(env["PORT"]), "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_the_frontend_calls_the_backend_with_the_token_end_to_end():
    backend_port, frontend_port = free_port(), free_port()
    common = {"ENVIRONMENT": "test", "INTERNAL_TOKEN": TOKEN}
    with started("backend", {**common, "SERVICE_NAME": "backend", "PORT": str(backend_port)}) as backend:
        with started("frontend", {**common, "SERVICE_NAME": "frontend", "PORT": str(frontend_port),
                                  "BACKEND_URL": f"http://127.0.0.1:{backend_port}"}):
            assert get(frontend_port, "/readyz")[0] == 200
            status, body = get(frontend_port, "/api/hello?name=ada")
            assert status == 200
            assert body["upstreams"]["backend"] == {"service": "backend", "message": "hello, ada, from backend"}
            assert get(backend_port, "/internal/hello?name=ada")[0] == 401
        backend.terminate()
        output, _ = backend.communicate(timeout=10)
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    internal = [e for e in logged if e.get("path") == "/internal/hello"]
    assert [e["status"] for e in internal] == [200, 401], "one authorised call from the frontend, one refused"
    assert all(e["service"] == "backend" and e["level"] == "info" for e in internal)
