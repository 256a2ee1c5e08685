"""`make bench`: how long the offline engine, the preview command and the CloudFormation check take, and how big the
plan is, per stack; then the speed goals, each figure beside its goal.

Prints figures; asserts nothing (speed goals live here, never in timed tests). Cold figures start a new Python
process (imports included, as `make preview` pays them); warm figures are the median of repeated in-process runs.
Absolute times drift on shared machines, so the goals are ratios to a floor measured in the same run: importing
every SDK module the program's resources come from, which any offline run of this program pays.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

from . import cli, engine

STACKS = ("staging", "prod")
WARM_RUNS = 5


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed_command(args: tuple[str, ...], cwd: Path = engine.ROOT, ok: tuple[int, ...] = (0, 1)) -> float:
    """The wall time of one run of a Python command; a run that exits other than `ok` is an error (a preview may
    exit 1 on a policy violation; the floor must exit 0, or it timed a failure)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=cwd, check=False, capture_output=True)
    if done.returncode not in ok:
        raise RuntimeError(f"{' '.join(args)} failed in {cwd}: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--no-suite", action="store_true", help="leave out the timing of `make test` (two minutes)")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}")
    print(f"{'stack':<8} {'resources':>9} {'plan.json':>10} {'engine warm':>12} {'engine cold':>12} {'preview cmd':>12}")
    for stack in STACKS:
        plan = engine.run(stack, preview=True)
        size = len(json.dumps(plan.to_json()))
        warm = statistics.median(_seconds(lambda: engine.run(stack, preview=True)) for _ in range(WARM_RUNS))
        cold = _timed_command(("-c", f"from infra.offline import engine; engine.run({stack!r}, preview=True)"), ok=(0,))
        preview = _timed_command(("-m", "infra.offline.preview", "--stack", stack))
        print(f"{stack:<8} {len(plan):>9} {size / 1024:>8.0f}KB {warm:>11.2f}s {cold:>11.2f}s {preview:>11.2f}s")
    _cloudformation()
    _goals(suite=not args.no_suite)
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
        command = _timed_command(("-m", "infra.offline.cloudformation.check", "--stack", stack))
        print(f"{stack:<8} {len(conversion.aws_urns):>9} {len(conversion.template['Resources']):>9} {convert:>8.2f}s "
              f"{first:>10.2f}s {warm:>9.2f}s {command:>9.2f}s")


GOAL_RUNS = 3
EXTRA_SERVICES = (10, 50, 100, 200)
PREVIEW = ("-m", "infra.offline.preview", "--stack", "staging")


def _median_command(args: tuple[str, ...], cwd: Path = engine.ROOT, ok: tuple[int, ...] = (0, 1)) -> float:
    return statistics.median(_timed_command(args, cwd, ok) for _ in range(GOAL_RUNS))


def sdk_classes(plan: engine.Plan) -> list[tuple[str, str]]:
    """(module, class) of every resource type in the plan (`aws:ec2/vpc:Vpc` -> pulumi_aws.ec2, Vpc; a Kubernetes kind
    -> its group's module; a custom resource kind -> pulumi_kubernetes.apiextensions, CustomResource). The SDKs load
    their modules lazily, on first attribute access, so the floor asks each module for its classes."""
    import importlib.util
    import keyword

    found = set()
    for resource in plan:
        package, module, kind = resource.type.split(":")
        if package == "aws":
            # A module named by a Python keyword gets a trailing underscore (`lambda` -> pulumi_aws.lambda_).
            name = module.split("/")[0]
            found.add((f"pulumi_aws.{name}_" if keyword.iskeyword(name) else f"pulumi_aws.{name}", kind))
        elif package == "kubernetes":
            group, _, version = module.rpartition("/")
            name = f"pulumi_kubernetes.{(group.split('.')[0].replace('-', '_') if group not in ('', 'core') else 'core')}.{version}"
            try:
                known = importlib.util.find_spec(name) is not None
            except ModuleNotFoundError:
                known = False
            found.add((name, kind) if known else ("pulumi_kubernetes.apiextensions", "CustomResource"))
        elif package in ("eks", "random"):
            found.add((f"pulumi_{package}", kind))
    return sorted(found)


def with_services(root: Path, count: int) -> None:
    """`count` more catalogued services in the copy at `root`: copies of the frontend's entry without its public route."""
    from ruamel.yaml import YAML

    yaml = YAML()
    path = root / "Pulumi.yaml"
    document = yaml.load(path.read_text())
    services = document["config"]["platform:services"]["value"]
    template = {k: v for k, v in services["frontend"].items() if k != "route"}
    for index in range(count):
        services[f"bench-{index:03d}"] = dict(template)
    with path.open("w") as out:
        yaml.dump(document, out)


# Not Python until `make service` fills them in: left out of byte-compilation, as the Makefile leaves them.
TEMPLATES = re.compile(r"/(service_template|node_modules)/")


def _copy(target: Path) -> Path:
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", ".venv*", "venv")
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "pyproject.toml"):
        shutil.copy(engine.ROOT / name, target / name)
    for folder in ("infra", "components", "policies"):
        shutil.copytree(engine.ROOT / folder, target / folder, ignore=ignore)
        # Byte-compiled as the repository is after its first run, so that the one timed run does not compile it.
        compileall.compile_dir(target / folder, quiet=1, rx=TEMPLATES)
    return target


def _goals(*, suite: bool) -> None:
    """Each speed goal's figure beside the goal (ratios to the floor measured here and now)."""
    plan = engine.run("staging", preview=True)
    classes = sdk_classes(plan)
    floor = _median_command(
        ("-c", f"import importlib; [getattr(importlib.import_module(m), c) for m, c in {classes!r}]"), ok=(0,)
    )
    preview = _median_command(PREVIEW)
    modules = len({m for m, _ in classes})
    print(f"\nfloor: importing the {modules} SDK modules the staging plan's {len(classes)} resource types come from: {floor:.2f}s")
    print(f"{'goal':<58} {'figure':>22} {'target':>14}")
    print(f"{'preview of staging (whole command)':<58} {f'{preview:.2f}s = {preview / floor:.1f}x':>22} {'<= 2x':>14}")
    sizes = (0, *EXTRA_SERVICES)
    with tempfile.TemporaryDirectory() as folder:
        roots = {count: _copy(Path(folder) / f"n{count}") for count in sizes}
        for count, root in roots.items():
            with_services(root, count)
        resources = {count: len(engine.run("staging", preview=True, root=root)) for count, root in roots.items()}
        # Each round runs every size once, so that the machine's drift over the minutes this takes falls on all sizes
        # alike rather than on whichever size ran last.
        runs: dict[int, list[float]] = {count: [] for count in sizes}
        for _ in range(GOAL_RUNS):
            for count, root in roots.items():
                runs[count].append(_timed_command(PREVIEW, cwd=root))
        biggest = max(EXTRA_SERVICES)
        pack_ms, protocol_ms, own_ms = _pack_ms_per_resource(roots[biggest])
    curve = {count: statistics.median(times) for count, times in runs.items()}
    for count in sizes:
        figure = f"{curve[count]:.1f}s = {curve[count] / floor:.1f}x"
        if count:
            figure += f", {(curve[count] - curve[0]) / count * 1000:.0f}ms/svc"
        target = "<= 10x" if count == 100 else ""
        print(f"{f'preview with {count} extra services ({resources[count]} resources)':<58} {figure:>22} {target:>14}")
    slope = statistics.linear_regression(sizes, [curve[count] for count in sizes]).slope * 1000
    print(f"{'per extra service: the slope of that curve (least squares)':<58} {f'{slope:.0f}ms':>22} {'<= 30ms':>14}")
    print(f"{f'policy pack, per resource per pass ({resources[biggest]} resources)':<58} {f'{pack_ms:.2f}ms':>22} {'<= 0.5ms':>14}")
    print(f"{'  of which the protocol: two empty calls per resource':<58} {f'{protocol_ms:.2f}ms':>22}")
    print(f"{'  the pack alone: its servicer in this process, no gRPC':<58} {f'{own_ms:.2f}ms':>22}")
    if suite:
        start = time.perf_counter()
        done = subprocess.run(["make", "--no-print-directory", "test"], cwd=engine.ROOT, check=False,
                              capture_output=True, text=True)
        took = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"make test failed, so its time means nothing:\n{done.stdout[-2000:]}")
        summary = next((line.split(" in ")[0] for line in reversed(done.stdout.splitlines()) if " passed" in line), "?")
        label = f"make test ({summary}, 1 run)"
        print(f"{label:<58} {f'{took:.0f}s = {took / floor:.0f}x':>22} {'<= 60x':>14}")


def _pack_ms_per_resource(root: Path) -> tuple[float, float, float]:
    """The pack's evaluation of the biggest plan in update mode, per resource per pass (median of repeated passes):
    over gRPC, in one session (every Remediate and Analyze call, and the stack's AnalyzeStack); for scale, the same
    number of Remediate and Analyze calls carrying nothing, for a type no policy applies to, which is what the protocol
    alone costs; and the pack's own work, its servicer given the same requests in this process, without gRPC."""
    import collections

    from pulumi.runtime.proto import analyzer_pb2

    from . import policy_report

    plan = engine.run("staging", root=root)
    nothing = "bench:index:Nothing"
    empty = analyzer_pb2.AnalyzeRequest(urn=f"urn:pulumi:staging::platform::{nothing}::n", type=nothing, name="n")

    def empty_calls(session: policy_report.PolicyPackSession) -> None:
        in_flight: collections.deque = collections.deque()
        for _ in plan:
            in_flight += [session.stub.Remediate.future(empty), session.stub.Analyze.future(empty)]
            while len(in_flight) >= 2 * policy_report.CALLS_IN_FLIGHT:
                in_flight.popleft().result()
        for call in in_flight:
            call.result()

    with policy_report.PolicyPackSession("staging", preview=False, root=root) as session:
        session.evaluate(plan)
        passes = [_seconds(lambda: session.evaluate(plan)) for _ in range(GOAL_RUNS)]
        protocol = [_seconds(lambda: empty_calls(session)) for _ in range(GOAL_RUNS)]
        configure = policy_report.configure_request(
            session.reconcile(policy_report.load_pack_config(session.pack_dir, "staging")))
        own = _servicer_passes(session, configure, *policy_report.analysis_requests(plan, session.stack_config))
    return tuple(statistics.median(runs) / len(plan) * 1000 for runs in (passes, protocol, own))  # type: ignore[return-value]


def _servicer_passes(session, configure, requests, stack_request) -> list[float]:
    """Passes of the pack's servicer in this process, built as `policies/__main__.py` builds it and configured as
    the session is, in the session's environment (the stack, its config, the mode)."""
    saved = dict(os.environ)
    os.environ.update(session.environment())
    sys.path.insert(0, str(session.pack_dir))
    try:
        import platform_policies
        from platform_policies import serving

        servicer = serving.TypeIndexedServicer(platform_policies.PACK_NAME, session.version, platform_policies.POLICIES,
                                               platform_policies.core.MANDATORY)
        servicer.Configure(configure, None)

        def one_pass() -> None:
            for request in requests:
                servicer.Remediate(request, None)
                servicer.Analyze(request, None)
            servicer.AnalyzeStack(stack_request, None)

        one_pass()
        return [_seconds(one_pass) for _ in range(GOAL_RUNS)]
    finally:
        sys.path.remove(str(session.pack_dir))
        os.environ.clear()
        os.environ.update(saved)


if __name__ == "__main__":
    cli.exit_with(main)
