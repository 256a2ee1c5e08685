"""Cross-check of the pack's Pod Security Standards policies against Pod Security Admission's own test fixtures.

`python -m infra.offline.pss_fixtures PSA_CHECKOUT [--version v1.35]` reads the fixture pods of a checkout of
`kubernetes/pod-security-admission` (`test/testdata/<level>/<version>/{pass,fail}/*.yaml`, one Pod per file: pods
the Kubernetes admission controller admits or rejects at that level and version), sends each to the pack over its
real gRPC protocol as a Pod, and compares: a `fail` pod must be flagged by at least one `pss-*` policy of that level
(for baseline fixtures, the policies whose description names the baseline profile), a `pass` pod by none. The
fixtures are the independent reference; nothing of them is copied into this project.

One difference is deliberate and reported as such, not as a disagreement: the pack enforces the union of both
profiles for the /proc mount type, so a pod in its own user namespace (`hostUsers: false`) that unmasks /proc passes
the baseline admission but not this pack (the restricted profile, which the platform's namespaces enforce, refuses it).

Exit status: 0 every fixture agrees (deliberate differences aside), 1 a disagreement, 2 bad input (no fixtures there).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from .policy_report import DEFAULT_PACK_DIR, PolicyPackError, PolicyPackSession, load_pack_config

LEVELS = ("baseline", "restricted")
DEFERRED_MARKER = "can't run policy"


def deliberate(level: str, outcome: str, pod: dict) -> str | None:
    """Why the pack is meant to differ from admission on this pod, or None."""
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    unmasked = any(((c.get("securityContext") or {}).get("procMount") or "Default") != "Default" for c in containers)
    if level == "baseline" and outcome == "pass" and spec.get("hostUsers") is False and unmasked:
        return "restricted keeps /proc masked in a user namespace; the pack enforces both profiles' /proc rule"
    return None


@dataclass
class Result:
    path: Path
    level: str
    outcome: str  # "pass" or "fail", as admission decides
    flagged: set[str]
    note: str | None

    @property
    def agrees(self) -> bool:
        return self.note is not None or bool(self.flagged) == (self.outcome == "fail")


def fixtures(checkout: Path, version: str) -> list[tuple[Path, str, str]]:
    found = []
    for level in LEVELS:
        for outcome in ("pass", "fail"):
            folder = checkout / "test" / "testdata" / level / version / outcome
            found.extend((path, level, outcome) for path in sorted(folder.glob("*.yaml")))
    return found


def check(checkout: Path, version: str) -> list[Result]:
    pods = fixtures(checkout, version)
    if not pods:
        raise FileNotFoundError(f"no fixtures under {checkout}/test/testdata/<level>/{version}/{{pass,fail}}/")
    results = []
    with PolicyPackSession("staging", preview=False, stack_config={}, pack_dir=DEFAULT_PACK_DIR) as session:
        session.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
        info = session.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
        pss = {p.name: p.description for p in info.policies if p.name.startswith("pss-")}
        for path, level, outcome in pods:
            pod = yaml.safe_load(path.read_text())
            props = struct_pb2.Struct()
            props.update({"metadata": pod.get("metadata") or {}, "spec": pod.get("spec") or {}})
            name = (pod.get("metadata") or {}).get("name") or path.stem
            request = analyzer_pb2.AnalyzeRequest(
                urn=f"urn:pulumi:staging::platform::kubernetes:core/v1:Pod::{name}", type="kubernetes:core/v1:Pod",
                name=name, properties=props, options=analyzer_pb2.AnalyzerResourceOptions())
            diagnostics = session.stub.Analyze(request, timeout=60).diagnostics
            judged = {n for n, d in pss.items() if level == "restricted" or "baseline" in d.split(":")[0]}
            flagged = {d.policyName for d in diagnostics
                       if d.policyName in judged and DEFERRED_MARKER not in d.message}
            note = deliberate(level, outcome, pod) if bool(flagged) != (outcome == "fail") else None
            results.append(Result(path, level, outcome, flagged, note))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.pss_fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a checkout of kubernetes/pod-security-admission")
    parser.add_argument("--version", default="v1.35", help="the fixtures' Kubernetes version folder (default v1.35)")
    args = parser.parse_args(argv)
    try:
        results = check(args.checkout, args.version)
    except (FileNotFoundError, yaml.YAMLError, PolicyPackError) as error:
        print(f"pss_fixtures: {error}", file=sys.stderr)
        return 2
    disagreements = [r for r in results if not r.agrees]
    for result in results:
        if result.note or not result.agrees:
            mark = "deliberate" if result.note else "DISAGREES"
            print(f"{mark}: {result.level}/{result.outcome}/{result.path.name}: flagged by "
                  f"{', '.join(sorted(result.flagged)) or 'nothing'}{f' ({result.note})' if result.note else ''}")
    deliberate_count = sum(1 for r in results if r.note)
    print(f"{len(results)} fixture pods ({args.version}): {len(results) - len(disagreements) - deliberate_count} agree "
          f"with Pod Security Admission, {deliberate_count} differ deliberately, {len(disagreements)} disagree.")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
