"""`make preview`: the offline preview of a stack, printed in the manner of `pulumi preview`.

Runs the real program for the stack under the offline engine (no cloud account, no state, no CLI), prints the
resource tree grouped by component, the counts per type and a summary line, then the policy pack's verdicts twice,
as the CLI runs the pack: on the preview (unknown values deferred) and on the update (every value known, as during
`pulumi up`), so that no check is left deferred offline.
Exit status: 0 clean, 1 a mandatory policy violation, 2 bad input (unknown stack, invalid stack config).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import pulumi

from . import engine
from .cost.report import summary_line as cost_summary

LOCK = "🔒"


def _tree_lines(plan: engine.Plan) -> list[tuple[str, str, str]]:
    """(indented type, name, marker) rows, children under their parents in registration order."""
    rows: list[tuple[str, str, str]] = []
    by_parent: dict[str | None, list[engine.CapturedResource]] = {}
    # Registration order depends on when outputs resolve; type-then-name order reads the same every run.
    for resource in sorted(plan, key=lambda r: (r.type, r.name)):
        by_parent.setdefault(resource.parent, []).append(resource)

    def walk(parent: str | None, prefix: str) -> None:
        children = by_parent.get(parent, [])
        for index, child in enumerate(children):
            last = index == len(children) - 1
            branch = "└─ " if last else "├─ "
            marker = LOCK if child.protect else ""
            rows.append((prefix + branch + child.type, child.name, marker))
            walk(child.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    return rows


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace(f'"{engine.UNKNOWN}"', "[unknown]").replace(engine.UNKNOWN, "[unknown]")


def render(plan: engine.Plan) -> str:
    mode = "preview (unknown outputs, as at a first preview)" if plan.preview else "update (outputs filled in)"
    rows = _tree_lines(plan)
    type_width = max([len(t) for t, _, _ in rows] + [20])
    name_width = max([len(n) for _, n, _ in rows] + [20])
    lines = [
        f"Previewing update ({plan.stack}) OFFLINE: Pulumi mock runtime, mode {mode}.",
        "No cloud account, state backend or Pulumi CLI was used; run `pulumi preview` for the real diff.",
        "",
        f"     {'Type':<{type_width}} {'Name':<{name_width}} Plan",
        f" +   {'pulumi:pulumi:Stack':<{type_width}} {'platform-' + plan.stack:<{name_width}} create",
    ]
    for type_col, name, marker in rows:
        lines.append(f" +   {type_col:<{type_width}} {name:<{name_width}} create {marker}".rstrip())

    lines += ["", "Outputs:"]
    for key, value in sorted(plan.outputs.items()):
        shown = _shown(value)
        if len(shown) > 100:
            shown = shown[:97] + "..."
        lines.append(f"    {key}: {shown}")

    counts = Counter(r.type for r in plan)
    lines += ["", "Resources by type:"]
    for type_, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"    {count:>4} {type_}")
    protected = sum(1 for r in plan if r.protect)
    lines += [
        "",
        "Resources:",
        f"    + {len(plan) + 1} to create (including the stack; {protected} protected {LOCK})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.preview", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="staging", help="stack name (Pulumi.<stack>.yaml), default staging")
    parser.add_argument("--json", metavar="FILE", help="also write the captured plan as JSON (schema: README)")
    parser.add_argument("--update", action="store_true", help="show the update plan (computed outputs filled in)")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    args = parser.parse_args(argv)

    try:
        plans = {mode: engine.run(args.stack, preview=mode == "preview") for mode in ("preview", "update")}
    except pulumi.RunError as error:  # ConfigError and UnknownStackError: clear message, no traceback
        print(f"error: {error}", file=sys.stderr)
        return 2

    shown = plans["update" if args.update else "preview"]
    print(render(shown))
    print(f"    Estimated monthly cost: {cost_summary(plans['update'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(shown.to_json(), indent=2, sort_keys=True) + "\n")
        print(f"\nWrote the captured plan ({len(shown)} resources) to {args.json}")

    if args.no_policies:
        return 0
    from . import policy_report

    mandatory = 0
    for mode, plan in plans.items():
        report = policy_report.evaluate(plan)
        print(f"\n== Policy pack on the {mode} ({'unknown values deferred' if plan.preview else 'every value known, as during pulumi up'})")
        print(report.render())
        mandatory += report.mandatory_count
    return 1 if mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
