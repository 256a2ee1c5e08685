"""The bootstrap project (`bootstrap/`): its own Pulumi project, run the way the CLI runs it, its config validated
before any resource, and the policy pack passing on both account stacks in both modes."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from bootstrap.config import ConfigError
from infra.offline import cli, engine, preview, project_files
from infra.offline.policy_report import evaluate

from .conftest import BOOTSTRAP, BOOTSTRAP_STACKS, bootstrap_plan_for


def test_it_is_its_own_project():
    project = project_files.load_project(BOOTSTRAP)
    assert project.name == "platform-bootstrap" and project.runtime == "python"
    assert project_files.program(project) == BOOTSTRAP.resolve()
    assert {p.name for p in BOOTSTRAP.glob("Pulumi.*.yaml")} == {f"Pulumi.{s}.yaml" for s in BOOTSTRAP_STACKS}


@pytest.mark.parametrize("stack", BOOTSTRAP_STACKS)
@pytest.mark.parametrize("mode", ["preview", "update"])
def test_the_pack_passes_on_both_accounts_in_both_modes(stack, mode):
    report = evaluate(bootstrap_plan_for(stack, preview=mode == "preview"))
    assert report.mandatory_count == 0, report.render()
    if mode == "update":
        assert not [v for v in report.violations if v.deferred], report.render()


def test_every_resource_goes_through_the_tagged_provider():
    plan = bootstrap_plan_for("prod")
    [provider] = plan.of_type("pulumi:providers:aws")
    default_tags = provider.props["defaultTags"]
    # Provider inputs travel as JSON text on the wire.
    tags = (json.loads(default_tags) if isinstance(default_tags, str) else default_tags)["tags"]
    assert tags["project"] == "platform-bootstrap" and tags["environment"] == "prod" and tags["stack"] == "prod"
    assert all(r.provider_urn == provider.urn for r in plan if r.custom and r.type.startswith("aws:"))
    # The provider refuses any account but the stack file's.
    allowed = provider.props["allowedAccountIds"]
    assert (json.loads(allowed) if isinstance(allowed, str) else allowed) == ["123456789012"]


def test_the_cli_way_of_starting_it_works_from_another_folder(tmp_path):
    """The language host runs `main`'s __main__.py with that folder, not the repository root, first on sys.path:
    bootstrap/__main__.py must make `bootstrap` and `components` importable by itself."""
    script = (
        "import sys; root = sys.argv[1]; sys.path.insert(0, root);"
        "from infra.offline import engine; from pathlib import Path;"
        "sys.path.remove(root);"
        "assert not any(m.split('.')[0] in ('bootstrap', 'components') for m in sys.modules);"
        "plan = engine.run('staging', preview=True, root=Path(root) / 'bootstrap');"
        "print(len(plan))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script, str(engine.ROOT)], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0 and int(result.stdout.strip()) > 50, result.stderr


def config_error(stack: str, mutate) -> ConfigError:
    config = copy.deepcopy(engine.stack_config(stack, BOOTSTRAP))
    mutate(config)
    declared: list = []
    with pytest.raises(ConfigError) as caught:
        engine.run(stack, config=config, root=BOOTSTRAP, captured=declared)
    assert declared == [], "resources declared before the config error"
    return caught.value


@pytest.mark.parametrize(
    "stack, mutate, path, expected",
    [
        ("prod", lambda c: c["platform-bootstrap:environments"]["prod"].update({"previewEnvironment": "prod-preview"}),
         "platform-bootstrap:environments.prod.previewEnvironment", "pull-request code must never reach prod"),
        ("prod", lambda c: c.update({"platform-bootstrap:protect": False}), "platform-bootstrap:protect",
         "true when the account hosts prod"),
        ("staging", lambda c: c["platform-bootstrap:baseline"].update({"emailSubscribers": []}),
         "platform-bootstrap:baseline.emailSubscribers", "at least one address"),
        ("staging", lambda c: c["platform-bootstrap:baseline"].update({"logRetentionDays": 100}),
         "platform-bootstrap:baseline.logRetentionDays", "a CloudWatch Logs retention period"),
        ("staging", lambda c: c["platform-bootstrap:baseline"].update({"logRetentionDays": 90}),
         "platform-bootstrap:baseline.logRetentionDays", "at least 365"),
        ("staging", lambda c: c["platform-bootstrap:github"].update({"ownr": "x"}),
         "platform-bootstrap:github.ownr", "one of the known keys"),
        ("staging", lambda c: c["platform-bootstrap:github"].pop("repository"),
         "platform-bootstrap:github.repository", "a GitHub repository name"),
        ("staging", lambda c: c["platform-bootstrap:environments"].update({"qa": {}}),
         "platform-bootstrap:environments", "names matching"),
        ("staging", lambda c: c["platform-bootstrap:environments"]["staging"].update({"previewEnvironment": "staging"}),
         "platform-bootstrap:environments.staging.previewEnvironment", "other than the deploy one"),
        ("staging", lambda c: c.update({"platform-bootstrap:stat": {}}), "platform-bootstrap:stat", "one of the known keys"),
        ("staging", lambda c: c.update({"aws:profile": "admin"}), "aws:profile", "only aws:region or aws:allowedAccountIds"),
        ("staging", lambda c: c.update({"platform:cluster": {}}), "platform:cluster", "unknown namespace 'platform'"),
        ("staging", lambda c: c.update({"aws:region": "ap-northeast-9"}), "aws:region", "an AWS region such as"),
        ("staging", lambda c: c.update({"aws:allowedAccountIds": ["12345"]}), "aws:allowedAccountIds", "12-digit"),
        ("staging", lambda c: c["platform-bootstrap:github"].update({"oidcProviderArn": "arn:aws:iam::1:oidc-provider/x"}),
         "platform-bootstrap:github.oidcProviderArn", "token.actions.githubusercontent.com OIDC provider"),
    ],
    ids=["prod-preview-role", "prod-unprotected", "no-subscriber", "odd-retention", "short-retention", "typo",
         "missing-repository", "unknown-environment", "preview-is-deploy", "unknown-section", "foreign-key",
         "other-project", "region", "account-ids",
         "oidc-arn"],
)
def test_bad_config_stops_before_any_resource_naming_the_key(stack, mutate, path, expected):
    error = config_error(stack, mutate)
    found = [p for p in error.problems if p.path == path]
    assert len(found) == 1 and expected in str(found[0]), [str(p) for p in error.problems]


def test_every_problem_is_reported_at_once():
    def mutate(config):
        config["platform-bootstrap:github"]["ownr"] = "x"
        config["platform-bootstrap:baseline"]["emailSubscribers"] = []
        config["platform-bootstrap:protect"] = "yes"

    assert len(config_error("prod", mutate).problems) == 3


def test_the_preview_command_runs_the_bootstrap_and_exits_2_on_bad_input(capsys):
    assert cli.run(preview.main, ["--project", "bootstrap", "--stack", "prod", "--no-policies"]) == 0
    out = capsys.readouterr().out
    assert "platform-bootstrap-prod" in out and "aws:cloudtrail:Trail" in out  # the CLI's short type names
    assert cli.run(preview.main, ["--project", "bootstrap", "--stack", "qa", "--no-policies"]) == 2
    assert "unknown stack 'qa'" in capsys.readouterr().err
    assert cli.run(preview.main, ["--project", "no-such-folder", "--stack", "prod"]) == 2
    assert "--project" in capsys.readouterr().err


def test_the_pack_blocks_a_loosened_github_trust(monkeypatch):
    """The config cannot express a wildcard environment; if the component ever built one, the pack stops it."""
    import components.ci_identity as ci_identity

    monkeypatch.setattr(ci_identity, "subject", lambda owner, repository, environment: f"repo:{owner}/{repository}:*")
    plan = engine.run("staging", root=BOOTSTRAP)
    report = evaluate(plan)
    blocked = {v.urn.rsplit("::", 1)[1] for v in report.violations
               if v.policy == "iam-github-oidc-trust-pinned" and v.level == "mandatory"}
    assert blocked == {"ci-staging-deploy", "ci-staging-preview"}, report.render()
