"""The Dockerfile: hadolint finds nothing, the base image is pinned by digest, the process runs as the catalogue's
non-root UID, nothing is written at run time, and no build argument or environment variable carries a secret."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)


def hadolint() -> str:
    executable = Path(sys.executable).parent / "hadolint"
    return str(executable) if executable.exists() else (shutil.which("hadolint") or "hadolint")


def test_hadolint_finds_nothing():
    result = subprocess.run([hadolint(), "--failure-threshold", "style", str(DOCKERFILE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_an_unpinned_base(tmp_path):
    broken = tmp_path / "Dockerfile"
    broken.write_text(re.sub(r"^FROM \S+", "FROM python", DOCKERFILE.read_text(), flags=re.MULTILINE))
    result = subprocess.run([hadolint(), str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3006" in result.stdout


def test_the_base_image_is_pinned_by_digest():
    bases = re.findall(r"^FROM (\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert bases and all(re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", b) for b in bases), bases


def test_it_runs_as_the_catalogue_uid_and_writes_nothing():
    text = DOCKERFILE.read_text()
    assert re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)[-1] == "10001:10001"
    assert "PYTHONDONTWRITEBYTECODE=1" in text


def test_no_secret_in_any_layer():
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith(("ARG ", "ENV ")):
            assert not SECRET_NAME.search(line), line
