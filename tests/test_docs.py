"""The generated documents: the architecture document and the README's configuration reference are exactly what the
code generates now (regenerate with `make docs`), their Mermaid diagrams parse with Mermaid's own parser, and their
contents match the plans and the stack files, read here independently of the generators."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.config import load_stack_config
from infra.offline import config_reference, docs, engine, mermaid_check

from .conftest import STACKS, plan_for

ROOT = engine.ROOT


@pytest.fixture(scope="module")
def stacks() -> list[docs.Stack]:
    return [docs.Stack(s, plan_for(s), load_stack_config(s, engine.stack_config(s))) for s in STACKS]


@pytest.fixture(scope="module")
def files(stacks) -> dict[Path, str]:
    return docs.generated(ROOT, stacks)


@pytest.fixture(scope="module")
def architecture(files) -> str:
    return files[docs.ARCHITECTURE]


def test_the_stacks_are_every_stack_file():
    assert docs.stack_names() == list(STACKS)


@pytest.mark.parametrize("path", [docs.ARCHITECTURE, Path("README.md")], ids=str)
def test_the_committed_document_is_what_the_code_generates(files, path):
    committed = (ROOT / path).read_text()
    assert committed == files[path], f"{path} is stale: run `make docs` and commit the result"


def test_the_check_command_fails_on_a_stale_document(stacks, tmp_path, monkeypatch):
    monkeypatch.setattr(docs, "generated", lambda: {Path("README.md"): "changed\n"})
    assert docs.main(["--check"]) == 1


@pytest.fixture(scope="module")
def parsed() -> list[mermaid_check.Result]:
    return mermaid_check.check([ROOT / docs.ARCHITECTURE, ROOT / "README.md"])


def test_every_diagram_parses_with_mermaid(parsed):
    architecture_text = (ROOT / docs.ARCHITECTURE).read_text()
    diagrams = [r for r in parsed if r.file.endswith("architecture.md")]
    assert len(diagrams) == len(docs.mermaid_blocks(architecture_text)) >= 5
    assert all(r.ok and r.detail.startswith("flowchart") for r in parsed), [r for r in parsed if not r.ok]


def test_the_parser_rejects_a_broken_diagram(tmp_path):
    text = (ROOT / docs.ARCHITECTURE).read_text()
    first = docs.mermaid_blocks(text)[0]
    broken = tmp_path / "broken.md"
    # An unclosed label, and an edge to nowhere: the kind of slip a generator bug would make.
    broken.write_text("```mermaid\n" + first.replace('"]', '"', 1) + "```\n\n```mermaid\nflowchart LR\n  a --> \n```\n")
    results = mermaid_check.check([broken])
    assert [r.ok for r in results] == [False, False]


# -- contents, checked against the plans and the stack files -----------------------------------------------------
def test_every_subnet_appears_with_its_zone(architecture):
    for stack in STACKS:
        for subnet in plan_for(stack).of_type("aws:ec2/subnet:Subnet"):
            assert f'{subnet.props["availabilityZone"]}<br/>{subnet.props["cidrBlock"]}' in architecture


def test_every_security_group_rule_is_a_row(architecture):
    for stack in STACKS:
        plan = plan_for(stack)
        section = architecture.split(f"### `{stack}`: security groups")[1].split("###")[0]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        rules = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        assert len(rows) == len(rules)
        for rule in rules:
            port = int(rule.props["fromPort"])
            assert any(f"TCP {port}" in row for row in rows), rule.name


def test_every_call_and_use_in_the_catalogue_is_drawn(architecture):
    raw = engine.stack_config("prod")["platform:services"]
    services = {name: body for name, body in raw.items() if body.get("kind", "service") == "service"}
    for name, body in services.items():
        for caller in body.get("callers", []):
            assert re.search(rf"svc_{caller} -->\|\"REST \+ X-Internal-Token\"\| svc_{name}", architecture)
        for store in body.get("uses", {}).get("dataStores", []):
            assert f"svc_{name} --> store_{store}" in architecture
        for queue in body.get("uses", {}).get("queues", {}):
            assert f"svc_{name} -->" in architecture and f"queue_{queue}" in architecture


def test_every_repository_is_listed(architecture):
    for stack in STACKS:
        for repo in plan_for(stack).of_type("aws:ecr/repository:Repository"):
            assert f"| `{stack}` | `{repo.props['name']}` | immutable | yes | KMS |" in architecture


def leaf_paths(value, prefix):
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from leaf_paths(inner, f"{prefix}.{key}")
    else:
        yield prefix


def test_the_reference_lists_every_key_the_stack_files_set(files):
    readme = files[Path("README.md")]
    block = readme[readme.index(config_reference.BEGIN) : readme.index(config_reference.END)]
    documented = re.findall(r"^\| `([^`]+)`", block, flags=re.MULTILINE)
    patterns = [re.compile(re.escape(path).replace(re.escape("<name>"), r"[^.]+") + r"$") for path in documented]
    for stack in STACKS:
        for key, value in engine.stack_config(stack).items():
            if key == "platform:serviceOverrides":
                continue  # merged into platform:services.<name>.*, documented there
            for path in leaf_paths(value, key):
                # A map of strings (env, chart pins) is documented as one key: a prefix of the path may match.
                prefixes = [".".join(path.split(".")[:n]) for n in range(path.count(".") + 1, 0, -1)]
                assert any(p.match(prefix) for p in patterns for prefix in prefixes), (
                    f"{stack}: {path} is not in the configuration reference"
                )


def test_the_reference_shows_each_stacks_value(files):
    readme = files[Path("README.md")]
    row = next(line for line in readme.splitlines() if line.startswith("| `platform:network.cidr` |"))
    for stack in STACKS:
        assert f"`{engine.stack_config(stack)['platform:network']['cidr']}`" in row
