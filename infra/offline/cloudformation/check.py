"""The acceptance check: a stack's plan (update mode, every value known) as a CloudFormation template, validated by
cfn-lint for the stack's region with the project's rules appended.

    python -m infra.offline.cloudformation.check --stack staging [--template FILE]

Exit 0: no errors and no warning outside ACCEPTED_WARNINGS. Exit 1: findings (each printed with its rule and the
plan resource it came from). Exit 2: bad input (unknown stack, a config error), one line, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.offline import cli, engine
from infra.offline.cloudformation import mapping

RULES = Path(__file__).resolve().parent / "rules"

# The warnings this check accepts, each with its reason. Everything else cfn-lint reports fails the check.
ACCEPTED_WARNINGS: dict[str, str] = {
    "W3010": "hard-coded availability zones: each subnet is pinned to one zone on purpose (three-zone layout from the "
             "stack file); the warning is about template portability across regions, not validity",
    "W3691": "'postgres 16 is deprecated': cfn-lint's deprecation data lists minor versions and misreads a bare major "
             "version, which RDS resolves to the newest 16.x at creation",
    "W1011": "'use dynamic references for secrets': the parameter stands for a value the random provider generates "
             "inside the Pulumi engine; no template or parameter file ever carries it",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str  # error | warning | informational
    message: str
    path: str  # template path, e.g. Resources/DatabaseSgSecurityGroup/Properties/GroupDescription
    resource: str | None  # the logical ID the finding is on

    def __str__(self) -> str:
        return f"{self.rule} {self.path}: {self.message}"


@dataclass
class Result:
    stack: str
    region: str
    conversion: mapping.Conversion
    findings: list[Finding]

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"
                or (f.level == "warning" and f.rule not in ACCEPTED_WARNINGS)]

    @property
    def accepted(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning" and f.rule in ACCEPTED_WARNINGS]

    def urn_of(self, logical: str) -> list[str]:
        return [u for u, lid in self.conversion.logical_ids.items() if lid == logical]


def region_of(plan: engine.Plan) -> str:
    for resource in plan:
        if resource.type == "pulumi:providers:aws" and resource.props.get("region"):
            return resource.props["region"]
    return engine.stack_config(plan.stack).get("aws:region", "us-east-1")


def lint_template(template: dict[str, Any], region: str) -> list[Finding]:
    """cfn-lint's verdict on a template for one region, with the project's rules appended."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=[region], append_rules=[str(RULES)]))
    findings = []
    for m in matches:
        path = "/".join(str(p) for p in (m.path or []))
        parts = path.split("/")
        resource = parts[1] if len(parts) > 1 and parts[0] == "Resources" else None
        findings.append(Finding(m.rule.id, m.rule.severity, m.message, path, resource))
    return findings


def check(plan: engine.Plan) -> Result:
    conversion = mapping.convert(plan)
    region = region_of(plan)
    return Result(plan.stack, region, conversion, lint_template(conversion.template, region))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.cloudformation.check",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="staging")
    parser.add_argument("--template", metavar="FILE", type=cli.writable_file,
                        help="also write the CloudFormation template to this file")
    args = parser.parse_args(argv)
    plan = engine.run(args.stack)  # bad input (an unknown stack, a config error) exits 2 through cli.run
    result = check(plan)
    if args.template:
        args.template.write_text(json.dumps(result.conversion.template, indent=2) + "\n")
    conv = result.conversion
    print(f"{args.stack} ({result.region}): {len(conv.aws_urns)} AWS resources, "
          f"{len(conv.logical_ids)} converted ({len(conv.folded)} folded into a host), {len(conv.skipped)} without "
          f"a CloudFormation equivalent, {len(conv.template['Resources'])} template resources")
    for urn, reason in conv.skipped.items():
        print(f"  not converted: {urn.rsplit('::', 1)[-1]} ({reason})")
    for f in result.accepted:
        print(f"  accepted {f}")
    for f in result.failures:
        sources = ", ".join(urn.rsplit("::", 1)[-1] for urn in result.urn_of(f.resource or ""))
        print(f"FAIL {f}" + (f" (plan: {sources})" if sources else ""))
    problems = len(result.failures) + len(conv.unmapped_types) + len(conv.unconverted_inputs) + len(conv.unresolved)
    for t in sorted(conv.unmapped_types):
        print(f"FAIL unmapped AWS type {t}")
    for urn, key in conv.unconverted_inputs:
        print(f"FAIL input {key} of {urn} is neither converted nor provider-only")
    for urn, key, value in conv.unresolved:
        print(f"FAIL {key} of {urn}: {value!r} came from a dependency but has no Ref/GetAtt")
    print("ok" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    cli.exit_with(main)
