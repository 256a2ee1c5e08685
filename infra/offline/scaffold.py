"""`make service NAME=<name>`: a new service in one step, all six of the platform's steps for it.

1. `docs/02-design/<name>.md`: the design document, its catalogue facts generated, sections for the author to fill;
2. `services/<name>/`: a small standard-library HTTP service in four layers (api -> application -> domain <-
   infrastructure, enforced by import-linter), with its tests (401 without the token, 200 with it, health endpoints);
3. its Dockerfile (base pinned by digest, the catalogue's non-root UID, read-only root filesystem, hadolint-clean);
4. its catalogue entry in Pulumi.yaml (`platform:services`) and its overrides in each stack file, and for
   `delivery: gitops` its Kustomize base and per-stack overlays under `infra/k8s/` (see `gitops.py`);
5. its CI workflow, `.github/workflows/service-<name>.yml`: test, build, push to its ECR repository with the CI role
   (OIDC), record the digest;
6. its Argo CD Application (gitops), which the program declares from the catalogue entry and which points at its
   overlay, and in every case its ECR repository (the program creates one for each in-account image).

The catalogue files are edited with ruamel.yaml's round-trip mode, so comments and layout stay as they were. Nothing
is written unless every check passes first. Exit status: 0 written, 2 bad input (a bad or taken name, an unknown
caller, a GitOps service without a repository URL), never a traceback.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from infra.config import ConfigError, load_stack_config
from infra.config.services import GIT_REPOSITORY_PATTERN, NAME_PATTERN, RESERVED_NAMES

from . import cli, engine

TEMPLATE = Path(__file__).resolve().parent / "service_template"
# python:3.12-slim, pinned by its multi-architecture index digest. Refresh it deliberately (e.g. `docker buildx
# imagetools inspect python:3.12-slim`) and rebuild every service; a tag alone could change under a running service.
BASE_IMAGE = "python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea"
IMAGE_REPOSITORY = "platform/{name}"
FIRST_TAG = "0.1.0"
# The GitHub environment of every image push (its deployment branches: main only), the subject the push role trusts.
IMAGES_ENVIRONMENT = "images"
DEFAULT_UID = 10001
DEFAULT_PORT = 8080
# Actions pinned to full commit SHAs, the same ones the platform's own workflows use.
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3"


class ScaffoldError(ValueError):
    """Bad input: reported in one line, exit 2."""


@dataclass(frozen=True)
class Request:
    name: str
    callers: tuple[str, ...] = ()
    delivery: str = "pulumi"
    repository: str = ""
    target_revision: str = "main"

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, order and flow style survive
    yaml.preserve_quotes = True
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    # `null` spelled out: an override's `repository: null` removes the key, and should read that way.
    yaml.representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def stacks(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def catalogue(root: Path) -> dict:
    document = _yaml().load((root / "Pulumi.yaml").read_text())
    return document["config"]["platform:services"]["value"]


def callees_of(root: Path, name: str) -> tuple[str, ...]:
    """The services `name` calls: those whose entry lists it among their callers."""
    return tuple(sorted(n for n, body in catalogue(root).items() if name in (body.get("callers") or [])))


def origin_repository(root: Path) -> str:
    """This repository's https URL (from `git remote get-url origin`), or "" when there is none."""
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return url if re.fullmatch(GIT_REPOSITORY_PATTERN, url) and url.startswith("https://") else ""


def validate(root: Path, request: Request, *, existing_ok: bool = False) -> None:
    name = request.name
    if not re.fullmatch(NAME_PATTERN, name) or name in RESERVED_NAMES or name.startswith("kube-"):
        raise ScaffoldError(f"NAME: expected a service name matching {NAME_PATTERN}, not a system namespace; found {name!r}")
    entries = catalogue(root)
    if existing_ok and (root / "services" / name).exists():
        raise ScaffoldError(f"NAME: services/{name}/ already exists (its code is the author's now; nothing overwritten)")
    if not existing_ok:
        if name in entries:
            raise ScaffoldError(f"NAME: {name!r} is already in the catalogue (Pulumi.yaml platform:services)")
        for path in (root / "services" / name, root / "docs" / "02-design" / f"{name}.md"):
            if path.exists():
                raise ScaffoldError(f"NAME: {path.relative_to(root)} already exists")
    services = [n for n, body in entries.items() if body.get("kind", "service") == "service"]
    for caller in request.callers:
        if caller not in services or caller == name:
            raise ScaffoldError(f"CALLERS: expected names of catalogued services ({', '.join(services)}); found {caller!r}")
    if request.delivery not in ("pulumi", "gitops"):
        raise ScaffoldError(f"DELIVERY: expected 'pulumi' or 'gitops'; found {request.delivery!r}")
    if request.delivery == "gitops" and not re.fullmatch(GIT_REPOSITORY_PATTERN, request.repository or ""):
        raise ScaffoldError("REPOSITORY: a GitOps service needs this repository's Git URL (https://...); found "
                            f"{request.repository!r} (no https origin remote to default to)")


# -- 2 and 3: the service's code, tests and Dockerfile ------------------------------------------------------------
def service_files(request: Request, *, callees: tuple[str, ...], port: int, uid: int) -> dict[Path, str]:
    values = {
        "service": request.name,
        "package": request.package,
        "callees": repr(tuple(callees)),
        "port": str(port),
        "uid": str(uid),
        "base_image": BASE_IMAGE,
    }
    files = {}
    for source in sorted(TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = Path(*[request.package if part == "pkg" else part for part in source.relative_to(TEMPLATE).parts])
        text = source.read_text()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        files[Path("services") / request.name / relative] = text
    return files


# -- 4: the catalogue entry and its stack overrides ---------------------------------------------------------------
def _flow(mapping: dict) -> CommentedMap:
    flow = CommentedMap(mapping)
    flow.fa.set_flow_style()
    return flow


def catalogue_entry(request: Request) -> CommentedMap:
    entry = CommentedMap()
    entry["image"] = f"{IMAGE_REPOSITORY.format(name=request.name)}:{FIRST_TAG}"
    entry["port"] = DEFAULT_PORT
    entry["replicas"] = 2
    entry["resources"] = CommentedMap(
        requests=_flow({"cpu": "100m", "memory": "128Mi"}), limits=_flow({"cpu": "500m", "memory": "256Mi"})
    )
    entry["autoscaling"] = _flow({"minReplicas": 2, "maxReplicas": 4, "targetCpuPercent": 70})
    if request.callers:
        entry["callers"] = list(request.callers)
    entry["probes"] = _flow({"liveness": "/healthz", "readiness": "/readyz"})
    secrets = CommentedSeq(["internal-token"])
    secrets.fa.set_flow_style()
    entry["uses"] = CommentedMap(secrets=secrets)
    entry["env"] = CommentedMap(LOG_LEVEL="info")
    if request.delivery == "gitops":
        entry["delivery"] = CommentedMap(mode="gitops", repository=request.repository,
                                         targetRevision=request.target_revision)
    return entry


def argocd_enabled(root: Path, stack: str) -> bool:
    addons = engine.stack_config(stack, root).get("platform:addons") or {}
    return bool((addons.get("argocd") or {}).get("enabled", False))


def stack_override(request: Request, stack: str, *, argocd: bool) -> CommentedMap:
    """Prod keeps three replicas across zones (the catalogue's rule). GitOps points each stack that runs Argo CD at
    its own overlay; a stack without Argo CD delivers the service with Pulumi (`null` removes the Git source)."""
    override = CommentedMap()
    if stack == "prod":
        override["replicas"] = 3
        override["autoscaling"] = _flow({"minReplicas": 3, "maxReplicas": 6})
    else:
        override["env"] = CommentedMap(LOG_LEVEL="debug")
    if request.delivery == "gitops":
        from .gitops import overlay_path

        if argocd:
            override["delivery"] = CommentedMap(path=overlay_path(stack, request.name))
        else:
            override["delivery"] = CommentedMap(mode="pulumi", repository=None, targetRevision=None)
    return override


def edit_catalogue(root: Path, request: Request) -> list[Path]:
    yaml = _yaml()
    project = root / "Pulumi.yaml"
    document = yaml.load(project.read_text())
    services = document["config"]["platform:services"]["value"]
    services[request.name] = catalogue_entry(request)
    services.yaml_set_comment_before_after_key(request.name, before=f"Scaffolded by `make service NAME={request.name}`: "
                                               f"see docs/02-design/{request.name}.md.", indent=6)
    with project.open("w") as out:
        yaml.dump(document, out)
    written = [project]
    for stack in stacks(root):
        path = root / f"Pulumi.{stack}.yaml"
        document = yaml.load(path.read_text())
        config = document["config"]
        if config.get("platform:serviceOverrides") is None:
            config["platform:serviceOverrides"] = CommentedMap()
        config["platform:serviceOverrides"][request.name] = stack_override(
            request, stack, argocd=argocd_enabled(root, stack)
        )
        with path.open("w") as out:
            yaml.dump(document, out)
        written.append(path)
    return written


# -- 5: the CI workflow -------------------------------------------------------------------------------------------
def workflow(request: Request, region: str) -> str:
    name, folder = request.name, f"services/{request.name}"
    repository = IMAGE_REPOSITORY.format(name=name)
    return f"""# {name}: on main, test the service, then build its image and push it to its ECR repository with the CI role
# (OIDC, no stored keys), and record the pushed digest in the run summary and as the job's output. Tags are
# immutable in ECR, so each image is tagged with its commit. Deploying the digest is a catalogue change (its `image`).
#
# No pull_request trigger: a pull request's code must never run in a workflow whose jobs can get the push role's
# OIDC token. Pull requests still run this service's tests: the checks every pull request passes (`make test`,
# tests/test_services.py) run its own suite in its folder, the layer contract and hadolint included.
name: service-{name}

on:
  push:
    branches: [main]
    paths:
      - "{folder}/**"
      - ".github/workflows/service-{name}.yml"

permissions:
  contents: read # checkout only; the image job asks for its own token

# One run per service at a time, never cancelled halfway: a push cut short leaves an image whose digest is recorded
# nowhere, and every commit's image may be the one the catalogue is moved to.
concurrency:
  group: service-{name}
  cancel-in-progress: false

jobs:
  test:
    name: Tests, layer contract and Dockerfile lint
    runs-on: ubuntu-latest
    timeout-minutes: 15
    defaults:
      run:
        working-directory: {folder}
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {SETUP_PYTHON}
        with:
          python-version: "3.12"
      - name: Install the test tools
        run: python -m pip install --disable-pip-version-check -r requirements-dev.txt
      - name: Tests (the layer contract and hadolint included)
        run: python -m pytest -q

  image:
    name: Build and push the image
    needs: test
    if: github.event_name == 'push' && github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    timeout-minutes: 20
    # The push role trusts only `repo:<owner>/<repo>:environment:{IMAGES_ENVIRONMENT}`, and that environment allows
    # only main: no other branch, workflow or job gets a token the role accepts.
    environment: {IMAGES_ENVIRONMENT}
    permissions:
      contents: read # checkout of the Dockerfile and the code it builds
      id-token: write # the OIDC token exchanged for the push role
    outputs:
      digest: ${{{{ steps.push.outputs.digest }}}}
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {AWS_CREDENTIALS}
        with:
          role-to-assume: ${{{{ vars.AWS_IMAGE_PUSH_ROLE_ARN }}}}
          role-session-name: image-{name}-${{{{ github.run_id }}}}
          aws-region: {region}
          mask-aws-account-id: true
      - name: Build and push
        id: push
        working-directory: {folder}
        env:
          REGION: {region}
          REPOSITORY: {repository}
        run: |
          account="$(aws sts get-caller-identity --query Account --output text)"
          registry="$account.dkr.ecr.$REGION.amazonaws.com"
          image="$registry/$REPOSITORY:${{GITHUB_SHA::12}}"
          aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin "$registry"
          docker build --pull --tag "$image" .
          docker push "$image"
          digest="$(docker inspect --format '{{{{index .RepoDigests 0}}}}' "$image")"
          echo "digest=${{digest#*@}}" >> "$GITHUB_OUTPUT"
          echo "Pushed \\`$REPOSITORY@${{digest#*@}}\\` (tag ${{GITHUB_SHA::12}})" >> "$GITHUB_STEP_SUMMARY"
"""


# -- 1: the design document ---------------------------------------------------------------------------------------
def design_document(request: Request, *, callees: tuple[str, ...], stack_names: list[str], image: str = "",
                    port: int = DEFAULT_PORT, uid: int = DEFAULT_UID) -> str:
    name = request.name
    image = image or f"{IMAGE_REPOSITORY.format(name=name)}:{FIRST_TAG}"
    callers = ", ".join(f"`{c}`" for c in request.callers) or "none yet (add them to `callers` in Pulumi.yaml)"
    calls = ", ".join(f"`{c}`" for c in callees) or "none"
    delivery = (f"GitOps: Argo CD syncs `infra/k8s/overlays/<stack>/{name}` from `{request.repository}` at "
                f"`{request.target_revision}`" if request.delivery == "gitops" else "Pulumi declares the Deployment")
    return f"""# {name}

<!-- Scaffolded by `make service NAME={name}`. The "Platform facts" section comes from the catalogue entry at the time
     of scaffolding; the architecture document (`make docs`) stays generated from the code. Fill in the rest. -->

## Platform facts

| | |
|---|---|
| catalogue entry | `platform:services.{name}` in `Pulumi.yaml`, overrides in {", ".join(f"`Pulumi.{s}.yaml`" for s in stack_names)} |
| image | `{image}` in this account's ECR (immutable tags, scanned on push) |
| code | `services/{name}/` (api -> application -> domain <- infrastructure, `.importlinter`) |
| port, probes | {port}; liveness `/healthz`, readiness `/readyz` |
| callers (admitted by its NetworkPolicy) | {callers} |
| calls | {calls} |
| secrets | `internal-token` (env `INTERNAL_TOKEN`, checked on every `/internal/*` request) |
| runs as | UID {uid}, read-only root filesystem, no capabilities |
| delivery | {delivery} |
| CI | `.github/workflows/service-{name}.yml` |

## Purpose

_What the service does and for whom; what it does not do._

## API

_Each endpoint: method, path, who calls it, request and response, errors. Internal endpoints live under
`/internal/` and require `X-Internal-Token`._

## Data

_What it stores and where (add `uses.dataStores`, `uses.queues`, `uses.buckets` to its catalogue entry), retention,
who else reads it._

## Failure modes

_What happens when each dependency is slow or down; timeouts, retries, what readiness reports._

## Operations

_Dashboards, alarms, runbook links, scaling limits._

## Open questions

-
"""


# -- all of it ----------------------------------------------------------------------------------------------------
def regenerate(root: Path) -> list[Path]:
    """The generated files that name every service: the architecture document, the README's reference, GitOps."""
    from . import docs

    return docs.write_all(root)


def scaffold(root: Path, request: Request, *, existing: bool = False) -> list[Path]:
    """Everything for a new service; `existing`: only the code, Dockerfile, design document and workflow of a service
    already in the catalogue (its port, UID and callers come from its entry)."""
    validate(root, request, existing_ok=existing)
    region = engine.stack_config(stacks(root)[0], root).get("aws:region", "ap-northeast-2")
    callees = callees_of(root, request.name)
    port, uid, image = DEFAULT_PORT, DEFAULT_UID, ""
    if existing:
        entry = catalogue(root).get(request.name)
        if entry is None:
            raise ScaffoldError(f"NAME: {request.name!r} is not in the catalogue (Pulumi.yaml platform:services)")
        port, uid = int(entry.get("port", DEFAULT_PORT)), int(entry.get("runAsUser", DEFAULT_UID))
        image = str(entry["image"])
        request = Request(name=request.name, callers=tuple(entry.get("callers") or ()),
                          delivery=(entry.get("delivery") or {}).get("mode", "pulumi"),
                          repository=(entry.get("delivery") or {}).get("repository", ""))
    files = service_files(request, callees=callees, port=port, uid=uid)
    files[Path("docs/02-design") / f"{request.name}.md"] = design_document(
        request, callees=callees, stack_names=stacks(root), image=image, port=port, uid=uid
    )
    files[Path(".github/workflows") / f"service-{request.name}.yml"] = workflow(request, region)
    catalogue_files = [root / "Pulumi.yaml", *[root / f"Pulumi.{s}.yaml" for s in stacks(root)]]
    before = {path: path.read_text() for path in catalogue_files}
    written = []
    try:
        if not existing:
            written += edit_catalogue(root, request)
        # The edited catalogue must load in every stack before anything else is written.
        for stack in stacks(root):
            load_stack_config(stack, engine.stack_config(stack, root))
    except ConfigError as error:
        for path, text in before.items():
            path.write_text(text)
        raise ScaffoldError(f"the new catalogue entry does not validate (nothing written): {error}") from None
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(target)
    return written + regenerate(root)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.scaffold", description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="the service's name (its namespace, image and folder)")
    parser.add_argument("--callers", default="", help="comma-separated catalogued services that may call it")
    parser.add_argument("--delivery", default="pulumi", help="pulumi (default) or gitops")
    parser.add_argument("--repository", default=None, help="for gitops: this repository's https Git URL")
    parser.add_argument("--existing", action="store_true",
                        help="a service already in the catalogue: write its code, Dockerfile, design document, workflow")
    args = parser.parse_args(argv)
    root = engine.ROOT
    request = Request(
        name=args.name,
        callers=tuple(c for c in args.callers.split(",") if c),
        delivery=args.delivery,
        repository=args.repository if args.repository is not None else origin_repository(root),
    )
    try:
        written = scaffold(root, request, existing=args.existing)
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(f"Next: fill in docs/02-design/{request.name}.md, then `make test` and `make preview`.")
    return 0


if __name__ == "__main__":
    cli.exit_with(main)
