"""No plaintext secret anywhere: every password/token/key-like input in the whole captured plan is absent (managed
by the service) or marked secret, and the generated values never appear unmarked, in either stack or mode."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.offline import engine

from .conftest import plan_for
from .data_helpers import KMS_KEY, RANDOM_PASSWORD, SECRET, only, secrets_key

# Input names that carry a credential (camelCase wire names), not ones that merely mention one (`…SecretArn`,
# `…KmsKeyId`, `manageMasterUserPassword`, `authTokenUpdateStrategy`).
SECRET_LIKE = re.compile(r"(password|passwordWo|authToken|authTokenWo|token|secretString|secretBinary|privateKey|apiKey|secretKey|accessKey)$", re.IGNORECASE)


def unmarked(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) in a wire-form structure that is not inside a secret marker."""
    if engine.is_secret(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from unmarked(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unmarked(item, f"{path}[{index}]")
    else:
        yield path, value


def leaks(document: Any, values: set[str]) -> list[str]:
    return [path for path, value in unmarked(document) if isinstance(value, str) and any(v in value for v in values)]


def secret_like_inputs(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every input whose key names a credential, with the value as the wire carries it."""
    if isinstance(value, dict) and not engine.is_secret(value):
        for key, item in value.items():
            if SECRET_LIKE.search(key) and not isinstance(item, bool):
                yield f"{path}.{key}", item
            else:
                yield from secret_like_inputs(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_like_inputs(item, f"{path}[{index}]")


@pytest.fixture(params=[False, True], ids=["update", "preview"])
def any_plan(request, stack):
    return plan_for(stack, preview=request.param)


def test_every_credential_input_is_marked_secret(any_plan):
    found = [
        (r.name, path, value)
        for r in any_plan
        for path, value in secret_like_inputs(r.inputs)
        # An ExternalSecret's `secretKey` names a key of the Secret it writes (DATABASE_PASSWORD), not a credential.
        if not (r.type == "kubernetes:external-secrets.io/v1:ExternalSecret" and path.endswith(".secretKey"))
    ]
    assert found, "the plan has credentials (tokens, passwords): the scan must see them"
    for name, path, value in found:
        assert engine.is_secret(value), f"{name}{path} is a credential input that is not marked secret"


def test_generated_values_never_appear_unmarked(stack):
    plan = plan_for(stack)
    generated = {r.outputs["result"] for r in plan.of_type(RANDOM_PASSWORD)}
    assert len(generated) == len(plan.of_type(RANDOM_PASSWORD)) >= 3, "redis token, broker password, internal token"
    document = plan.to_json()
    assert leaks(document, generated) == []
    assert leaks(plan.outputs, generated) == []
    # The search does see them where they belong: inside secret markers.
    marked = [path for path, _ in unmarked(document)]
    assert all(g in str(document) for g in generated) and marked


def test_the_leak_search_would_catch_an_unmarked_value():
    value = "s3cr3tValue"
    document = {"resources": [{"inputs": {"authToken": {engine.SECRET_SIG: engine.SECRET_VALUE, "value": value},
                                          "description": f"token {value}"}}]}
    assert leaks(document, {value}) == [".resources[0].inputs.description"]
    assert list(secret_like_inputs({"auth": {"token": value}})) == [(".auth.token", value)]


def test_random_values_are_kept_secret_in_state(stack):
    for password in plan_for(stack).of_type(RANDOM_PASSWORD):
        assert "result" in password.options["additionalSecretOutputs"]
        assert password.props["special"] is False and password.props["length"] >= 32


def test_the_database_password_is_managed_by_rds(stack):
    instance = plan_for(stack).one("aws:rds/instance:Instance")
    assert instance.props["manageMasterUserPassword"] is True
    assert not {"password", "passwordWo"} & set(instance.inputs)


def test_every_secret_lives_under_the_stack_prefix_with_the_secrets_key(any_plan, stack):
    key = secrets_key(any_plan)
    secrets = any_plan.of_type(SECRET)
    assert {s.props["name"] for s in secrets} >= {
        f"platform/{stack}/redis/auth-token", f"platform/{stack}/rabbitmq/credentials", f"platform/{stack}/internal/api-token"
    }
    for secret in secrets:
        assert secret.props["name"].startswith(f"platform/{stack}/")
        assert only(any_plan, secret, "kmsKeyId", KMS_KEY).urn == key.urn


def test_secret_recovery_window_follows_the_stack(stack):
    window = engine.stack_config(stack)["platform:secrets"]["recoveryWindowDays"]
    for secret in plan_for(stack).of_type(SECRET):
        assert secret.props["recoveryWindowInDays"] == window
    if stack == "prod":
        assert window >= 7


def test_outputs_give_readers_arns_and_keys_never_values(stack):
    plan = plan_for(stack)
    out = plan.outputs
    assert out["secretsPrefix"] == f"platform/{stack}/"
    assert out["kmsKeyArns"]["secrets"] == secrets_key(plan).outputs["arn"]
    for arn in (out["internalTokenSecretArn"], out["redis"]["authTokenSecretArn"], out["database"]["masterSecretArn"]):
        assert arn.startswith("arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:")
