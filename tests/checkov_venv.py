"""checkov in a virtualenv of its own (`.venv-checkov`), built from `requirements-checkov.txt` when missing or stale.

checkov cannot share `.venv`: it requires packaging<24, pulumi packaging>=26. The virtualenv is rebuilt whenever the
requirements file changes (a stamp holds the file's hash), so the suite and `make` agree on one pinned checkov.
`python -m tests.checkov_venv` builds it and prints the checkov executable; the test suite calls `ensure()`.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-checkov.txt"
VENV = ROOT / ".venv-checkov"
STAMP = VENV / ".installed-stamp"


def _wanted() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def executable(venv: Path = VENV) -> Path:
    return venv / "bin" / "checkov"


def ensure(venv: Path = VENV) -> Path:
    """The checkov executable of the pinned virtualenv, building or refreshing the virtualenv first if needed."""
    stamp = venv / STAMP.name
    if executable(venv).exists() and stamp.exists() and stamp.read_text().strip() == _wanted():
        return executable(venv)
    # The base interpreter, not this virtualenv's: the new one must not see .venv's packages.
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(_wanted() + "\n")
    return executable(venv)


if __name__ == "__main__":
    print(ensure())
