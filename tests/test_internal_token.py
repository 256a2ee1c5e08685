"""The X-Internal-Token secret: generated, kept under the stack's prefix with the secrets key, its ARN exported."""

from __future__ import annotations

from infra.offline import engine

from .conftest import plan_for
from .data_helpers import KMS_KEY, RANDOM_PASSWORD, SECRET, SECRET_VERSION, only, secrets_key


def test_token_is_generated_and_stored_encrypted(plan, stack):
    (secret,) = [s for s in plan.of_type(SECRET) if s.props["name"] == f"platform/{stack}/internal/api-token"]
    assert "X-Internal-Token" in secret.props["description"]
    assert only(plan, secret, "kmsKeyId", KMS_KEY).urn == secrets_key(plan).urn
    (version,) = [v for v in plan.of_type(SECRET_VERSION) if secret.urn in v.property_dependencies["secretId"]]
    assert engine.is_secret(version.inputs["secretString"])
    token = only(plan, version, "secretString", RANDOM_PASSWORD)
    assert token.props["length"] >= 64
    assert version.props["secretString"] == token.outputs["result"], "stored as the bare value, ready for the header"


def test_arn_is_exported_for_the_workloads(stack):
    plan = plan_for(stack)
    (secret,) = [s for s in plan.of_type(SECRET) if s.props["name"].endswith("/internal/api-token")]
    assert plan.outputs["internalTokenSecretArn"] == secret.outputs["arn"]
