"""`make bench`: how long the offline engine, the preview command and the CloudFormation check take, and how big the
plan is, per stack.

Prints figures; asserts nothing (speed goals live here, never in timed tests). Cold figures start a new Python
process (imports included, as `make preview` pays them); warm figures are the median of repeated in-process runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

from . import cli, engine

STACKS = ("staging", "prod")
WARM_RUNS = 5


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _command(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=engine.ROOT, check=False, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m infra.offline.benchmark", description=__doc__.splitlines()[0]).parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}")
    print(f"{'stack':<8} {'resources':>9} {'plan.json':>10} {'engine warm':>12} {'engine cold':>12} {'preview cmd':>12}")
    for stack in STACKS:
        plan = engine.run(stack, preview=True)
        size = len(json.dumps(plan.to_json()))
        warm = statistics.median(_seconds(lambda: engine.run(stack, preview=True)) for _ in range(WARM_RUNS))
        cold = _command("-c", f"from infra.offline import engine; engine.run({stack!r}, preview=True)")
        preview = _command("-m", "infra.offline.preview", "--stack", stack)
        print(f"{stack:<8} {len(plan):>9} {size / 1024:>8.0f}KB {warm:>11.2f}s {cold:>11.2f}s {preview:>11.2f}s")
    _cloudformation()
    return 0


def _cloudformation() -> None:
    """The CloudFormation acceptance check: converting the update-mode plan, cfn-lint on the template (the first run
    in a process loads cfn-lint's schemas), and the whole command from a new process."""
    from .cloudformation import check, mapping

    print(f"{'stack':<8} {'AWS res.':>9} {'template':>9} {'convert':>9} {'lint first':>11} {'lint warm':>10} "
          f"{'check cmd':>10}")
    for stack in STACKS:
        plan = engine.run(stack)
        conversion = mapping.convert(plan)
        convert = statistics.median(_seconds(lambda: mapping.convert(plan)) for _ in range(WARM_RUNS))
        region = check.region_of(plan)
        first = _seconds(lambda: check.lint_template(conversion.template, region))
        warm = statistics.median(_seconds(lambda: check.lint_template(conversion.template, region)) for _ in range(3))
        command = _command("-m", "infra.offline.cloudformation.check", "--stack", stack)
        print(f"{stack:<8} {len(conversion.aws_urns):>9} {len(conversion.template['Resources']):>9} {convert:>8.2f}s "
              f"{first:>10.2f}s {warm:>9.2f}s {command:>9.2f}s")


if __name__ == "__main__":
    sys.exit(cli.run(main))
