"""Mermaid diagrams checked by Mermaid's own parser: `check(files)` parses every ```mermaid block of each file.

The parser is the `mermaid` npm package (with jsdom for the DOM it needs at import), pinned in
`infra/offline/mermaid/package.json` (exact versions; no lock file is kept, since npm's records download addresses,
so their own dependencies resolve within the ranges those two releases declare). `ensure()` installs it with
`npm install` when `node_modules` is missing or older than the pins; `make test` and `make docs` call it through the test suite and `python -m infra.offline.mermaid_check`.
Exit status of the command: 0 every diagram parses, 1 one does not, 2 no Node.js/npm or a file is missing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import cli
from .engine import ROOT

FOLDER = ROOT / "infra" / "offline" / "mermaid"
STAMP = FOLDER / "node_modules" / ".installed-stamp"


@dataclass(frozen=True)
class Result:
    file: str
    index: int
    ok: bool
    detail: str  # the diagram type, or the parser's error


def _wanted() -> str:
    return hashlib.sha256((FOLDER / "package.json").read_bytes()).hexdigest()


def ensure() -> None:
    """Install the pinned parser unless the installed copy matches the pins."""
    if STAMP.is_file() and STAMP.read_text().strip() == _wanted():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise FileNotFoundError("Node.js and npm are needed to check the Mermaid diagrams")
    subprocess.run([npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FOLDER, check=True)
    STAMP.write_text(_wanted() + "\n")


def check(files: list[Path]) -> list[Result]:
    ensure()
    run = subprocess.run(
        ["node", str(FOLDER / "check.mjs"), *map(str, files)], capture_output=True, text=True, timeout=300
    )
    results = []
    for line in run.stdout.splitlines():
        data = json.loads(line)
        results.append(Result(data["file"], data["index"], data["ok"], data.get("type") or data.get("error", "")))
    if run.returncode not in (0, 1) or (run.returncode == 1 and all(r.ok for r in results)):
        raise RuntimeError(f"the Mermaid checker failed: {run.stderr.strip()}")
    return results


def main(argv: list[str] | None = None) -> int:
    files = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    missing = [f for f in files if not f.is_file()]
    if missing:
        print(f"error: no such file: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    try:
        results = check(files)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for r in results:
        print(f"{'ok ' if r.ok else 'BAD'} {r.file} diagram {r.index}: {r.detail}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    cli.exit_with(main)
