"""The monitoring gate between staging and prod: bake, then fail if the stack is not healthy.

`python -m delivery.monitoring_gate --stack staging --bake-seconds 600` waits the bake time, then checks:

- **CloudWatch**: every alarm of the stack (metric and composite alarms whose name starts with `platform-<stack>-`,
  which is how the program names them). Any alarm in ALARM fails the gate, each one named with its reason.
  INSUFFICIENT_DATA is reported; it fails the gate only with `--fail-on-insufficient-data` (new alarms start there).
- **Kubernetes**: every Deployment and StatefulSet in the cluster has all its desired replicas available and ready
  (`status.availableReplicas`/`readyReplicas` against `spec.replicas`, and no `Available=False` condition), and every
  node is Ready. Read with `kubectl get ... -o json`, using the kubeconfig in the environment
  (`aws eks update-kubeconfig` before), so the gate needs no Kubernetes client library.

Exit status: 0 healthy, 1 unhealthy (each problem printed on its own line), 2 bad input or unreachable API, 3 a bug
(one line; `PLATFORM_TRACEBACK=1` shows the traceback), as every command of the repository.
Both readers are injectable (`alarms_in`, `kubernetes_in`), which is how the tests run it against moto and a fake
cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PROJECT = "platform"
STACK_PATTERN = r"[a-z][a-z0-9-]{0,30}"
WORKLOAD_KINDS = ("deployments", "statefulsets")


class GateInputError(Exception):
    """Bad input or an API that cannot be reached: exit 2, never a traceback."""


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str
    reason: str


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


def alarm_prefix(stack: str) -> str:
    return f"{PROJECT}-{stack}-"


def alarms_in(cloudwatch: Any, prefix: str) -> list[Alarm]:
    """Every metric and composite alarm whose name starts with `prefix` (all pages)."""
    found: list[Alarm] = []
    paginator = cloudwatch.get_paginator("describe_alarms")
    for page in paginator.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        for kind in ("MetricAlarms", "CompositeAlarms"):
            for alarm in page.get(kind, []):
                found.append(Alarm(alarm["AlarmName"], alarm["StateValue"], alarm.get("StateReason", "")))
    return found


def check_alarms(alarms: Iterable[Alarm], *, fail_on_insufficient_data: bool = False) -> Verdict:
    verdict = Verdict()
    alarms = sorted(alarms, key=lambda a: a.name)
    if not alarms:
        verdict.problems.append("no CloudWatch alarm found for the stack: the gate cannot vouch for anything")
    for alarm in alarms:
        if alarm.state == "ALARM":
            verdict.problems.append(f"alarm {alarm.name} is in ALARM: {alarm.reason}")
        elif alarm.state == "INSUFFICIENT_DATA":
            message = f"alarm {alarm.name} has insufficient data: {alarm.reason}"
            (verdict.problems if fail_on_insufficient_data else verdict.notes).append(message)
    ok = sum(1 for a in alarms if a.state == "OK")
    verdict.notes.append(f"{ok} of {len(alarms)} alarm(s) OK")
    return verdict


def _condition(item: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in (item.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def check_workloads(objects: Mapping[str, Iterable[Mapping[str, Any]]]) -> Verdict:
    """`objects`: kind ("deployments", "statefulsets", "nodes") -> the items of `kubectl get <kind> -A -o json`."""
    verdict = Verdict()
    count = 0
    for kind in WORKLOAD_KINDS:
        for item in objects.get(kind, []):
            count += 1
            meta = item.get("metadata") or {}
            where = f"{kind[:-1]} {meta.get('namespace', '?')}/{meta.get('name', '?')}"
            wanted = (item.get("spec") or {}).get("replicas", 1)
            status = item.get("status") or {}
            ready = status.get("readyReplicas", 0) or 0
            available = status.get("availableReplicas", ready if kind == "statefulsets" else 0) or 0
            if available < wanted or ready < wanted:
                verdict.problems.append(f"{where}: {available} available and {ready} ready of {wanted} replicas")
            available_condition = _condition(item, "Available")
            if available_condition is not None and available_condition.get("status") != "True":
                verdict.problems.append(f"{where}: not Available ({available_condition.get('message', 'no message')})")
    nodes = list(objects.get("nodes", []))
    if not nodes:
        verdict.problems.append("no node in the cluster")
    for node in nodes:
        ready = _condition(node, "Ready")
        if ready is None or ready.get("status") != "True":
            name = (node.get("metadata") or {}).get("name", "?")
            verdict.problems.append(f"node {name} is not Ready ({(ready or {}).get('reason', 'no Ready condition')})")
    verdict.notes.append(f"{count} workload(s) and {len(nodes)} node(s) checked")
    return verdict


def kubernetes_in(run: Callable[..., subprocess.CompletedProcess] = subprocess.run, kubectl: str = "kubectl") -> dict[str, list]:
    """The workloads and nodes, read with kubectl (one call per kind)."""
    objects: dict[str, list] = {}
    for kind in (*WORKLOAD_KINDS, "nodes"):
        command = [kubectl, "get", kind, "-o", "json"] + ([] if kind == "nodes" else ["--all-namespaces"])
        try:
            result = run(command, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise GateInputError(f"could not run {' '.join(command)}: {error}") from None
        if result.returncode != 0:
            raise GateInputError(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
        try:
            objects[kind] = json.loads(result.stdout).get("items", [])
        except ValueError:
            raise GateInputError(f"{' '.join(command)} did not print JSON") from None
    return objects


def run_gate(
    stack: str,
    *,
    bake_seconds: int,
    read_alarms: Callable[[str], list[Alarm]],
    read_kubernetes: Callable[[], Mapping[str, Iterable[Mapping[str, Any]]]] | None,
    fail_on_insufficient_data: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    out: Callable[[str], None] = print,
) -> Verdict:
    if bake_seconds:
        out(f"Baking {stack} for {bake_seconds} s before reading its alarms and workloads...")
        sleep(bake_seconds)
    verdict = check_alarms(read_alarms(alarm_prefix(stack)), fail_on_insufficient_data=fail_on_insufficient_data)
    if read_kubernetes is not None:
        workloads = check_workloads(read_kubernetes())
        verdict.problems += workloads.problems
        verdict.notes += workloads.notes
    return verdict


def main(argv: list[str] | None = None, *, cloudwatch: Any = None, run: Callable[..., Any] = subprocess.run,
         sleep: Callable[[float], None] = time.sleep) -> int:
    parser = argparse.ArgumentParser(prog="python -m delivery.monitoring_gate", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the platform stack whose alarms and cluster are checked")
    parser.add_argument("--region", default="ap-northeast-2")
    parser.add_argument("--bake-seconds", type=int, default=600, help="wait this long first (default 600)")
    parser.add_argument("--fail-on-insufficient-data", action="store_true")
    parser.add_argument("--skip-kubernetes", action="store_true", help="check the alarms only")
    parser.add_argument("--kubectl", default="kubectl")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    if not re.fullmatch(STACK_PATTERN, args.stack):
        print(f"error: --stack: expected a stack name such as staging, got {args.stack!r}", file=sys.stderr)
        return 2
    if not 0 <= args.bake_seconds <= 7200:
        print(f"error: --bake-seconds: expected 0 to 7200, got {args.bake_seconds}", file=sys.stderr)
        return 2
    if cloudwatch is None:
        import boto3

        cloudwatch = boto3.client("cloudwatch", region_name=args.region)
    import botocore.exceptions

    try:
        verdict = run_gate(
            args.stack,
            bake_seconds=args.bake_seconds,
            read_alarms=lambda prefix: alarms_in(cloudwatch, prefix),
            read_kubernetes=None if args.skip_kubernetes else lambda: kubernetes_in(run, args.kubectl),
            fail_on_insufficient_data=args.fail_on_insufficient_data,
            sleep=sleep,
        )
    except GateInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        print(f"error: could not read the CloudWatch alarms: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 (never a traceback)
        if os.environ.get("PLATFORM_TRACEBACK"):
            raise
        print(f"internal error: {type(error).__name__}: {error} (a bug; PLATFORM_TRACEBACK=1 shows where)", file=sys.stderr)
        return 3
    for note in verdict.notes:
        print(f"  {note}")
    for problem in verdict.problems:
        print(f"UNHEALTHY: {problem}")
    print(f"Monitoring gate for {args.stack}: {'pass' if verdict.healthy else 'FAIL'}")
    return 0 if verdict.healthy else 1


if __name__ == "__main__":
    sys.exit(main())
