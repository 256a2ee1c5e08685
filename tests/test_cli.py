"""The exit-code contract of every Makefile command, tried as a user would: 0 clean, 1 a mandatory violation, 2 bad
input of any kind, with one line on stderr and never a traceback.

Each case breaks one file of a copy of the repository. The commands run in-process with the engine pointed at the
copy (the same code, the copy's files), and a few run as `python -m ...` from the copy, exactly as make runs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.offline import benchmark, cli, engine, manifests, preview

from .conftest_policies import Forbid, run_program

COPIED = ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "pyproject.toml")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    for name in COPIED:
        shutil.copy(engine.ROOT / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__", "venv", ".venv")
    for folder in ("infra", "components", "policies"):
        shutil.copytree(engine.ROOT / folder, root / folder, ignore=ignore)
    return root


def run(repo: Path, *args: str, edit: tuple[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """One command in the copy, with one file replaced for the run (and restored after)."""
    original = None
    if edit:
        target = repo / edit[0]
        original = target.read_text() if target.exists() else None
        target.write_text(edit[1])
    try:
        return subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True, timeout=300)
    finally:
        if edit:
            if original is None:
                (repo / edit[0]).unlink()
            else:
                (repo / edit[0]).write_text(original)


def stack_text(repo: Path, stack: str = "staging") -> str:
    return (repo / f"Pulumi.{stack}.yaml").read_text()


PREVIEW = ("-m", "infra.offline.preview", "--no-policies")
COMMANDS = {"infra.offline.preview": preview.main, "infra.offline.manifests": manifests.main,
            "infra.offline.benchmark": benchmark.main}


def run_in_process(repo: Path, monkeypatch, capsys, args: tuple[str, ...], edit) -> tuple[int, str]:
    """The command's main, through the same exit-code wrapper, with the engine reading the copy's files."""
    _, module, *argv = args
    monkeypatch.setattr(engine, "ROOT", repo)
    monkeypatch.chdir(repo)
    original = None
    if edit:
        target = repo / edit[0]
        original = target.read_text()
        target.write_text(edit[1])
    try:
        code = cli.run(COMMANDS[module], argv)
    except SystemExit as exited:  # argparse's own exit for a bad argument: code 2, usage on stderr
        code = exited.code
    finally:
        if edit:
            (repo / edit[0]).write_text(original)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err


BAD_INPUT = [
    ("yaml syntax error in Pulumi.yaml", PREVIEW, lambda r: ("Pulumi.yaml", "name: platform\nruntime: [python\n"),
     "error: Pulumi.yaml:3:1: "),
    ("tab indent in a stack file", PREVIEW, lambda r: ("Pulumi.staging.yaml", "config:\n\taws:region: x\n"),
     "error: Pulumi.staging.yaml:2:1: "),
    ("duplicate key", PREVIEW, lambda r: ("Pulumi.staging.yaml", stack_text(r) + "  aws:region: us-east-1\n"),
     "already defined at line"),
    ("config as a list", PREVIEW, lambda r: ("Pulumi.staging.yaml", "config:\n  - aws:region\n"),
     "error: Pulumi.staging.yaml config: expected a mapping"),
    ("stack file a scalar", PREVIEW, lambda r: ("Pulumi.staging.yaml", "staging\n"),
     "error: Pulumi.staging.yaml: expected a mapping with a config: section, got 'staging'"),
    ("main missing", PREVIEW, lambda r: ("Pulumi.yaml", (r / "Pulumi.yaml").read_text().replace("main: infra/", "main: infra2/")),
     "error: Pulumi.yaml main: expected the program's folder"),
    ("project renamed", PREVIEW, lambda r: ("Pulumi.yaml", (r / "Pulumi.yaml").read_text().replace("name: platform", "name: platfrom")),
     "Pulumi.yaml name: expected 'platform'"),
    ("invalid config", PREVIEW, lambda r: ("Pulumi.staging.yaml", stack_text(r).replace("natMode: single", "natMode: double")),
     "error: stack 'staging': 1 configuration problem:"),
    # YAML 1.1 would have read these as a boolean and 1200; the CLI reads strings, and the config rules refuse them.
    ("multiAz: no", PREVIEW, lambda r: ("Pulumi.staging.yaml", stack_text(r).replace("multiAz: false", "multiAz: no")),
     "platform:database.multiAz: expected true or false, got 'no'"),
    ("unquoted 20:00", PREVIEW, lambda r: ("Pulumi.staging.yaml", stack_text(r).replace("recoveryWindowDays: 7", "recoveryWindowDays: 20:00")),
     "platform:secrets.recoveryWindowDays: expected an integer from 0 to 30, got '20:00'"),
    ("secure value where a mapping belongs", PREVIEW,
     lambda r: ("Pulumi.staging.yaml", stack_text(r).replace("  platform:tags:\n", "  platform:tags:\n    secure: AAAB\n  platform:unused:\n", 1)),
     "platform:tags: expected a mapping, got"),
    ("policy config not JSON", ("-m", "infra.offline.preview"), lambda r: ("policies/config/staging.json", "{\"all\": "),
     "staging.json: not valid JSON"),
    ("json into a missing folder", (*PREVIEW, "--json", "nowhere/plan.json"), None, "the folder nowhere does not exist"),
    ("unknown stack", (*PREVIEW, "--stack", "qa"), None, "error: unknown stack 'qa'"),
    ("unknown argument", (*PREVIEW, "--stak", "prod"), None, "unrecognized arguments: --stak"),
    ("manifests into a file", ("-m", "infra.offline.manifests", "--out", "pyproject.toml"), None, "exists and is not a folder"),
    ("manifests of an unknown stack", ("-m", "infra.offline.manifests", "--stack", "qa", "--out", "out"), None,
     "error: unknown stack 'qa'"),
    ("benchmark with an argument", ("-m", "infra.offline.benchmark", "--fast"), None, "unrecognized arguments: --fast"),
]


# Read from the code's own folder (the pack's), so only a run from the copy sees the copy's file.
SUBPROCESS_ONLY = ("policy config not JSON",)


@pytest.mark.parametrize("case, args, edit, message", [c for c in BAD_INPUT if c[0] not in SUBPROCESS_ONLY],
                         ids=[c[0] for c in BAD_INPUT if c[0] not in SUBPROCESS_ONLY])
def test_bad_input_exits_2_with_one_clear_message(repo, monkeypatch, capsys, case, args, edit, message):
    code, err = run_in_process(repo, monkeypatch, capsys, args, edit(repo) if edit else None)
    assert code == 2, (code, err[-2000:])
    assert message in err, err


@pytest.mark.parametrize("case", ["yaml syntax error in Pulumi.yaml", "json into a missing folder", "unknown argument",
                                  *SUBPROCESS_ONLY])
def test_the_commands_as_make_runs_them(repo, case):
    _, args, edit, message = next(c for c in BAD_INPUT if c[0] == case)
    result = run(repo, *args, edit=edit(repo) if edit else None)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr + result.stdout
    assert message in result.stderr, result.stderr


def test_a_clean_stack_exits_0(repo):
    result = run(repo, *PREVIEW, "--json", "plan.json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (repo / "plan.json").is_file() and "to create" in result.stdout


def test_a_mandatory_violation_exits_1(monkeypatch, capsys):
    # A public bucket policy is a forbidden pattern; the real program is mutated, the real pack judges it.
    plans = {
        mode: run_program("staging", preview=mode, transforms=[Forbid(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", lambda p: p.update(block_public_policy=False))])[0]
        for mode in (True, False)
    }
    monkeypatch.setattr(engine, "run", lambda stack, *, preview=False, **_: plans[preview])
    assert cli.run(preview.main, ["--stack", "staging"]) == 1
    assert "mandatory" in capsys.readouterr().out


def test_an_unexpected_failure_is_a_bug_not_a_traceback(monkeypatch, capsys):
    def broken(*_, **__):
        raise KeyError("boom")

    monkeypatch.setattr(engine, "run", broken)
    assert cli.run(preview.main, ["--stack", "staging"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: KeyError: 'boom'") and "Traceback" not in err
