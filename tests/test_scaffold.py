"""`make service`: scaffolding a service into a copy of the repository gives all six steps, a stack that previews
clean with the policy pack, a service whose own tests pass, documents that are up to date, a valid workflow, and for
GitOps overlays that kustomize builds into exactly the Deployment the program would declare. Bad input exits 2."""

from __future__ import annotations

import re

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.offline import engine, gitops, scaffold

from .conftest import STACKS
from .test_policies_workflows import actionlint

ROOT = engine.ROOT
REPOSITORY = "https://github.com/example-org/platform.git"


def untaken(base: str) -> str:
    """A service name this repository does not use yet (`make service NAME=worker` may have run already)."""
    taken = set(engine.project_config()["platform:services"]) | {p.name for p in (ROOT / "services").glob("*")}
    return next(name for name in (base, *(f"{base}{n}" for n in range(2, 100))) if name not in taken)


NAME = untaken("worker")


def copy_of_the_repository(target: Path) -> Path:
    """The repository's files (tracked and new, not ignored) as a fresh clone would have them."""
    listing = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True)
    if listing.returncode == 0:
        listed = listing.stdout.decode().split("\0")
    else:  # not a Git checkout (an unpacked archive): everything but what .gitignore names
        skipped = {".git", ".venv", ".venv-checkov", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}
        listed = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                  if p.is_file() and not skipped & set(p.relative_to(ROOT).parts)]
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def run(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def worker(tmp_path_factory) -> Path:
    root = copy_of_the_repository(tmp_path_factory.mktemp("repo"))
    # In process (what `make service NAME=worker` runs); the checks below run the copy's own commands.
    scaffold.scaffold(root, scaffold.Request(name=NAME))
    return root


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return copy_of_the_repository(tmp_path_factory.mktemp("repo-pristine"))


@pytest.fixture(scope="module")
def gitops_worker(tmp_path_factory) -> Path:
    root = copy_of_the_repository(tmp_path_factory.mktemp("repo-gitops"))
    scaffold.scaffold(root, scaffold.Request(name=NAME, callers=("frontend",), delivery="gitops",
                                             repository=REPOSITORY))
    return root


def test_all_six_steps_are_written(worker):
    assert (worker / f"docs/02-design/{NAME}.md").read_text().count("## ") >= 6
    for layer in ("api", "application", "domain", "infrastructure"):
        assert (worker / f"services/{NAME}/{NAME}" / layer / "__init__.py").is_file()
    assert (worker / f"services/{NAME}/Dockerfile").is_file()
    assert (worker / f".github/workflows/service-{NAME}.yml").is_file()
    project = yaml.safe_load((worker / "Pulumi.yaml").read_text())
    assert project["config"]["platform:services"]["value"][NAME]["image"] == f"platform/{NAME}:0.1.0"
    for stack in STACKS:
        overrides = yaml.safe_load((worker / f"Pulumi.{stack}.yaml").read_text())["config"]["platform:serviceOverrides"]
        assert NAME in overrides
    # The comments of the edited files survive.
    assert (worker / "Pulumi.yaml").read_text().count("#") >= (ROOT / "Pulumi.yaml").read_text().count("#")


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_previews_clean_with_the_pack(worker, stack):
    # --verbose: one row per resource (the default folds siblings), with the CLI's short type names.
    result = run(worker, "-m", "infra.offline.preview", "--stack", stack, "--verbose")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(rf"aws:ecr:Repository +registry-platform-{NAME} ", result.stdout), result.stdout[-3000:]
    assert f"service-{NAME}-deployment" in result.stdout
    assert "0 mandatory violation(s)" in result.stdout


def test_the_new_service_tests_pass(worker):
    result = run(worker / f"services/{NAME}", "-m", "pytest", "-q")
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_generated_documents_are_up_to_date_and_show_it(worker):
    result = run(worker, "-m", "infra.offline.docs", "--check")
    assert result.returncode == 0, result.stderr
    assert f"svc_{NAME}" in (worker / "docs/02-design/architecture.md").read_text()


def test_the_workflow_is_valid(worker):
    result = actionlint(worker / f".github/workflows/service-{NAME}.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("args, message", [
    (["--name", "Bad_Name"], "NAME: expected a service name"),
    (["--name", "backend"], "already in the catalogue"),
    (["--name", "kube-thing"], "not a system namespace"),
    (["--name", "w2", "--callers", "nobody"], "CALLERS"),
    (["--name", "w3", "--delivery", "gitops", "--repository", ""], "REPOSITORY"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(pristine, args, message):
    root = pristine
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    result = run(root, "-m", "infra.offline.scaffold", *args)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


# -- GitOps ---------------------------------------------------------------------------------------------------------
def overlays(root: Path) -> list[Path]:
    return sorted((root / gitops.K8S / "overlays").glob("*/*"))


def test_gitops_layout_is_base_overlays_argocd(gitops_worker):
    k8s = gitops_worker / gitops.K8S
    assert (k8s / f"base/{NAME}/kustomization.yaml").is_file() and (k8s / f"base/{NAME}/deployment.yaml").is_file()
    # Only the stacks that run Argo CD deliver by GitOps; the others keep the Pulumi-declared Deployment.
    argocd = {s for s in STACKS if (engine.stack_config(s).get("platform:addons") or {}).get("argocd", {}).get("enabled")}
    assert {p.parent.name for p in overlays(gitops_worker)} == argocd
    for overlay in overlays(gitops_worker):
        kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
        assert kustomization["resources"] == [f"../../../base/{NAME}"]
        assert (overlay / kustomization["patches"][0]["path"]).is_file()


def test_each_argocd_application_points_at_its_overlay(gitops_worker):
    for overlay in overlays(gitops_worker):
        stack = overlay.parent.name
        application = yaml.safe_load((gitops_worker / gitops.K8S / "argocd" / stack / f"{NAME}.yaml").read_text())
        source = application["spec"]["source"]
        assert source["path"] == str(overlay.relative_to(gitops_worker)) and source["repoURL"] == REPOSITORY
        assert application["spec"]["destination"]["namespace"] == NAME


def test_kustomize_builds_each_overlay_into_the_deployment_the_program_would_declare(gitops_worker):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed; the layout test above still runs")
    expected = gitops.expected_deployments(gitops_worker)
    assert expected
    for (stack, name), deployment in expected.items():
        built = subprocess.run([kubectl, "kustomize", str(gitops_worker / gitops.overlay_path(stack, name))],
                               capture_output=True, text=True, timeout=60, check=True).stdout
        [document] = list(yaml.safe_load_all(built))
        assert document == deployment


def test_the_gitops_files_are_what_the_catalogue_generates(gitops_worker):
    # What `make docs --check` compares for infra/k8s (the worker copy's full check is above).
    files = gitops.render(gitops_worker)
    assert files and all((gitops_worker / path).read_text() == text for path, text in files.items())


def test_the_gitops_stack_previews_clean_with_the_pack(gitops_worker):
    [stack] = {p.parent.name for p in overlays(gitops_worker)}
    result = run(gitops_worker, "-m", "infra.offline.preview", "--stack", stack, "--verbose")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert f"service-{NAME}-application" in result.stdout and f"service-{NAME}-deployment" not in result.stdout
