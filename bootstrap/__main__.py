"""Entry point the Pulumi CLI runs for the bootstrap project (`bootstrap/Pulumi.yaml`, `main: .`).

The language host puts this folder first on `sys.path`; the repository root is added so that `bootstrap`,
`components` and the shared config reader import the same way under the CLI, the offline engine and the tests.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bootstrap.program import main  # noqa: E402

main()
