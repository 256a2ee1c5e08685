"""Entry point the Pulumi CLI runs (`main: infra/`).

The language host puts this folder, not the repository root, first on `sys.path`; the root is added here so that
`components` and `infra` import the same way under the CLI, the offline engine and the tests.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from infra.program import main  # noqa: E402

main()
