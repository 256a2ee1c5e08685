"""The layer contract (.importlinter) holds, and it would catch the domain importing the infrastructure."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def lint_imports(folder: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "lint-imports"
    command = [str(executable)] if executable.exists() else [shutil.which("lint-imports") or "lint-imports"]
    return subprocess.run([*command, "--config", ".importlinter", "--no-cache"], cwd=folder, capture_output=True,
                          text=True, timeout=120)


def test_the_layer_contract_holds():
    result = lint_imports(HERE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_the_contract_fails_when_the_domain_imports_the_infrastructure(tmp_path):
    copy = tmp_path / "service"
    shutil.copytree(HERE, copy, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copy(HERE / ".importlinter", copy / ".importlinter")
    target = copy / "frontend" / "domain" / "greeting.py"
    target.write_text(target.read_text() + "\nfrom ..infrastructure import settings  # noqa: E402,F401\n")
    result = lint_imports(copy)
    assert result.returncode != 0
    assert "frontend.domain.greeting -> frontend.infrastructure.settings" in result.stdout
