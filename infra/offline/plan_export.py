"""Run one checkout's program under that checkout's own offline engine and write what it declares as JSON.

The change review compares two versions of the program: the working tree and a git ref checked out to a temporary
folder. Each runs in its own process (`python plan_export.py ROOT STACK OUT`, with this repository's virtualenv), so
that the base's `infra` and `components` are imported from the base and never mixed with the working tree's. This file
therefore imports nothing from the project at module level: the engine it uses is whichever one ROOT holds.

The JSON holds the plan in update mode (every value known) with each resource's outputs, the stack config as the
engine read it, and the service catalogue (each service and the ingress its route names) when the checkout's config
parser can be loaded. Bad input (an unknown stack, invalid config) is written as {"error": ...} and exits 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def catalogue_summary(stack: str, config: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Service name -> {"ingress": the shared ingress its route names, or None} from the checkout's own config
    parser (the catalogue merged with the stack's overrides); (None, why) when the parser cannot be loaded."""
    try:
        from infra.config.stack import load_stack_config
        from infra.offline import engine

        services = load_stack_config(stack, engine._encode(config)).catalogue.services
    except Exception as error:  # noqa: BLE001 - an older or newer checkout's parser: fall back to the plan
        return None, f"{type(error).__name__}: {error}"
    return {spec.name: {"ingress": spec.route.ingress if spec.route else None} for spec in services}, None


def export(root: Path, stack: str) -> dict[str, Any]:
    """The checkout's plan of `stack` in update mode, as JSON-ready data."""
    import pulumi

    from infra.offline import engine

    try:
        config = engine.stack_config(stack, root)
        plan = engine.run(stack, preview=False, root=root)
    except pulumi.RunError as error:
        return {"error": str(error)}
    catalogue, why = catalogue_summary(stack, config)
    resources = []
    for resource in plan:
        entry = resource.to_json()
        entry["outputs"] = resource.outputs
        resources.append(entry)
    return {
        "stack": stack,
        "project": getattr(plan, "project", engine.PROJECT),
        "resources": resources,
        "outputs": plan.outputs,
        "rawOutputs": getattr(plan, "raw_outputs", None) or plan.outputs,
        "config": config,
        "catalogue": catalogue,
        "catalogueError": why,
    }


def main(argv: list[str]) -> int:
    root, stack, out = Path(argv[0]).resolve(), argv[1], Path(argv[2])
    # Import the checkout's own code: drop this file's folder from the path and put the checkout's root first.
    sys.path[:] = [str(root)] + [p for p in sys.path[1:] if Path(p or ".").resolve() != root]
    document = export(root, stack)
    out.write_text(json.dumps(document, default=str))
    return 2 if "error" in document else 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # The document is written and closed: leave without tearing the heap down (a second, for memory the operating
    # system takes back at once).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
