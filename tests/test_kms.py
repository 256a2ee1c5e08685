"""The customer-managed keys: rotation, an alias each, a key policy without wildcard actions, protect in prod."""

from __future__ import annotations

import pytest

from components.kms import ADMIN_ACTIONS, USE_ACTIONS, key_policy

from .conftest import plan_for
from .data_helpers import KMS_ALIAS, KMS_KEY, only, policy

PURPOSES = ("secrets", "database", "cache", "storage", "messaging", "alerts")


def keys_by_purpose(plan):
    return {a.props["name"].rsplit("/", 1)[1]: only(plan, a, "targetKeyId", KMS_KEY) for a in plan.of_type(KMS_ALIAS)
            if a.props["name"].startswith(f"alias/platform-{plan.stack}/")}


def test_one_rotating_key_per_purpose(plan):
    keys = keys_by_purpose(plan)
    assert set(PURPOSES) <= set(keys)
    assert len({k.urn for k in keys.values()}) == len(keys), "no key serves two purposes"
    for key in keys.values():
        assert key.props["enableKeyRotation"] is True
        assert key.props["keyUsage"] == "ENCRYPT_DECRYPT" and key.props["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
        assert key.props["deletionWindowInDays"] == 30


def test_key_policies_name_their_actions_and_principals(plan):
    for purpose, key in keys_by_purpose(plan).items():
        for statement in policy(key)["Statement"]:
            assert statement["Effect"] == "Allow"
            assert all("*" not in action for action in statement["Action"]), f"{purpose}: {statement['Sid']}"
            principal = statement["Principal"]
            assert principal == {"AWS": "arn:aws:iam::123456789012:root"} or (
                # The account guard, or a narrower condition naming one resource of this account (the cleanup
                # key: its log group, in the encryption context).
                "Service" in principal
                and (
                    statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
                    or all(":123456789012:" in v for op in statement["Condition"].values() for v in op.values())
                )
            ), f"{purpose}: {principal}"


def test_prod_protects_every_key_and_staging_follows_its_config():
    assert all(k.protect for k in keys_by_purpose(plan_for("prod")).values())
    assert not any(k.protect for k in keys_by_purpose(plan_for("staging")).values())


@pytest.mark.parametrize("services", [(), ("cloudwatch.amazonaws.com",)])
def test_key_policy_shape(services):
    document = key_policy("111122223333", "aws", services)
    sids = [s["Sid"] for s in document["Statement"]]
    assert sids[:2] == ["KeyAdministrationThroughIam", "KeyUseThroughIam"]
    assert "kms:PutKeyPolicy" in ADMIN_ACTIONS, "the key stays manageable"
    assert "kms:Decrypt" in USE_ACTIONS and "kms:CreateGrant" in USE_ACTIONS
    assert (len(sids) == 3) == bool(services)
