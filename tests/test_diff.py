"""`make diff` end to end: a git base written out with `git archive`, each side's program run by its own engine in a
subprocess, the policy pack on both sides, the three renderings and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import io

import pytest

from infra.offline import diff, engine


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.offline.diff", *args], cwd=engine.ROOT,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """HEAD's tree with two edits: a bigger staging database, and buckets whose public access block no longer
    restricts public buckets (a mandatory policy violation)."""
    root = tmp_path_factory.mktemp("head")
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=engine.ROOT, capture_output=True,
                             check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    stack_file = root / "Pulumi.staging.yaml"
    text = stack_file.read_text()
    assert "instanceClass: db.t4g.medium" in text
    stack_file.write_text(text.replace("instanceClass: db.t4g.medium", "instanceClass: db.m7g.large"))
    storage = root / "components" / "storage.py"
    code = storage.read_text()
    assert "restrict_public_buckets=True" in code
    storage.write_text(code.replace("restrict_public_buckets=True", "restrict_public_buckets=False"))
    return root


@pytest.fixture(scope="module")
def reviewed(head, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = run("--base", "HEAD", "--head", str(head), "--stack", "staging",
                 "--json", str(out / "review.json"), "--markdown", str(out / "review.md"))
    return result, json.loads((out / "review.json").read_text()), (out / "review.md").read_text()


def test_a_mandatory_violation_at_head_exits_1_after_printing_the_review(reviewed):
    result, _, _ = reviewed
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "Previewing update (staging):" in result.stdout
    assert "~ instanceClass: \"db.t4g.medium\" => \"db.m7g.large\"" in result.stdout


def test_the_json_has_the_changes_the_services_and_the_new_verdicts(reviewed):
    _, document, _ = reviewed
    [stack] = document["stacks"]
    changes = {(c["op"], c["name"]) for c in stack["changes"]}
    assert ("update", "database-instance") in changes
    assert {name for op, name in changes if name.endswith("-public-access")} == {
        "storage-uploads-public-access", "storage-static-assets-public-access", "storage-access-logs-public-access"}
    assert all(op == "update" for op, _ in changes)
    assert "backend" in {s["name"] for s in stack["services"]}
    new = {(v["policy"], v["level"]) for v in stack["policies"]["changes"] if v["change"] == "new"}
    assert new and all(level == "mandatory" for _, level in new)
    assert stack["policies"]["headMandatory"] >= 3
    assert document["base"]["commit"] == subprocess.run(["git", "rev-parse", "HEAD"], cwd=engine.ROOT,
                                                        capture_output=True, text=True).stdout.strip()


def test_the_markdown_is_the_pull_request_comment(reviewed):
    _, _, markdown = reviewed
    assert markdown.startswith(diff.COMMENT_MARKER + "\n")
    assert "### `staging`:" in markdown and "| `~` | `aws:rds:Instance` | `database-instance` | update |" in markdown
    assert "**Policy verdicts that change:**" in markdown


@pytest.mark.parametrize("args, message", [
    (["--base", "no-such-ref-anywhere"], "unknown git ref 'no-such-ref-anywhere'"),
    (["--base", "HEAD", "--stack", "qa"], "unknown stack 'qa'"),
    (["--base", "HEAD", "--head", "/nonexistent-checkout"], "has no Pulumi.yaml"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, message):
    result = run(*args, "--no-policies")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_config_error_on_either_side_exits_2(head, tmp_path):
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(head), str(broken)], check=True)
    stack_file = broken / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("instanceClass: db.m7g.large", "instanceClass: 42"))
    result = run("--base", "HEAD", "--head", str(broken), "--stack", "staging", "--no-policies")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "platform:database.instanceClass" in result.stderr
