"""`make preview`: the offline preview of a stack, printed in the manner of `pulumi preview`.

Runs the real program for the stack under the offline engine (no cloud account, no state, no CLI) and prints what
the CLI prints for a first deployment: the resource tree fitted to the terminal (120 columns when stdout is not one),
with the CLI's short type names; the stack outputs in full, nested (unknowns as `output<string>`, secrets as
`[secret]`); the "Resources:" summary. Unless `--verbose` (one row per resource, then the counts per type), siblings of
one type share a row, and a helper component nested in another or a component made once per catalogued service is
one row with the count of what it holds, so the plan reads at a glance. Then the policy pack runs as the CLI runs it, on the preview (a check that reads an unknown
value is deferred) and again with every value known (as during `pulumi up`), and one section says how many policies
ran over how many resources, per enforcement level how many passed, failed and were deferred, and on which resources.
Exit status: 0 clean, 1 a mandatory policy violation, 2 bad input (unknown stack, invalid stack config).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


from . import cli, display, engine
from .cost.report import summary_line as cost_summary

LOCK = "🔒"
# Unless --verbose: siblings of one type under one parent share one row from this many on, and a component this
# deep in the tree (a helper inside a component: a KMS key, an IRSA role, a generated secret) is one row.
GROUP_FROM = 2
FOLD_DEPTH = 2


@dataclass(frozen=True)
class Row:
    """One line of the resource table: the tree prefix, the type, the name(s), the plan and the info column."""

    prefix: str
    type: str
    name: str
    plan: str
    info: str = ""
    count: int = 1


def names_of(names: list[str], *, suffix: bool = False) -> str:
    """Several names as one: their shared prefix once, then the rest in braces (`network-private-{0,1,2}`); with
    `suffix`, a shared last word too (`service-{backend,frontend}-role`)."""
    if len(names) == 1:
        return names[0]
    prefix = os.path.commonprefix(names)
    prefix = prefix[: prefix.rfind("-") + 1]  # break at a word, not inside one
    rests = [n[len(prefix):] for n in names]
    end = ""
    if suffix:
        reversed_common = os.path.commonprefix([r[::-1] for r in rests])[::-1]
        cut = reversed_common.find("-")
        end = reversed_common[cut:] if cut >= 0 else ""
        if end and all(len(r) > len(end) for r in rests):
            rests = [r[: -len(end)] for r in rests]
        else:
            end = ""
    if not prefix and not end:
        return ",".join(names)
    return prefix + "{" + ",".join(rests) + "}" + end


def tree_rows(plan: engine.Plan, *, op: str = "create", symbol: str = "+", verbose: bool = False) -> list[Row]:
    """The resource tree, children under their parents, siblings in type-then-name order (registration order depends
    on when outputs resolve). Without `verbose`, siblings of one type share a row, and the resources inside a shared
    row, a nested (helper) component or a component made once per service are counted in its info column
    (`+2 inside`) rather than listed."""
    by_parent: dict[str | None, list[engine.CapturedResource]] = {}
    for resource in sorted(plan, key=lambda r: (r.type, r.name)):
        by_parent.setdefault(resource.parent, []).append(resource)
    rows = [Row("", engine.STACK_TYPE, f"{plan.project}-{plan.stack}", op)]

    # Helper component types (ones some component nests: KMS keys, IRSA roles) are folded at the top level too.
    helpers = {r.type for r in plan if r.parent is not None and r.urn in by_parent}
    # Top-level components each keep their own row: the catalogued services are what a reviewer looks for.
    distinct_top = {r.urn for r in by_parent.get(None, []) if r.urn in by_parent and r.type not in helpers}
    # A component type made once per catalogued service (its workload) holds the same objects for each: one row per
    # service, with the count of what it holds.
    top_types = Counter(r.type for r in by_parent.get(None, []) if r.urn in by_parent)
    folded = helpers | {t for t, n in top_types.items() if n > 1}

    def inside(urn: str) -> int:
        return sum(1 + inside(child.urn) for child in by_parent.get(urn, []))

    def groups(parent: str | None) -> list[list[engine.CapturedResource]]:
        out: list[list[engine.CapturedResource]] = []
        for child in by_parent.get(parent, []):
            if (not verbose and out and out[-1][0].type == child.type and out[-1][0].protect == child.protect
                    and child.urn not in distinct_top):
                out[-1].append(child)
            else:
                out.append([child])
        return [g for group in out for g in ([group] if len(group) >= GROUP_FROM else [[r] for r in group])]

    def walk(parent: str | None, prefix: str, depth: int) -> None:
        entries = groups(parent)
        for index, group in enumerate(entries):
            last = index == len(entries) - 1
            first = group[0]
            info = [LOCK] if first.protect else []
            expand = len(group) == 1 and (verbose or (depth < FOLD_DEPTH and first.type not in folded))
            hidden = 0 if expand else sum(inside(r.urn) for r in group)
            info += [f"(+{hidden} inside)"] if hidden else []
            rows.append(Row(prefix + ("└─ " if last else "├─ "), first.type, names_of([r.name for r in group]), op,
                            " ".join(info), len(group)))
            if expand:
                walk(first.urn, prefix + ("   " if last else "│  "), depth + 1)

    walk(None, "", 1)
    return [Row(f" {symbol}   {r.prefix}", r.type, r.name, r.plan, r.info, r.count) for r in rows]


def table(rows: list[Row], columns: int) -> list[str]:
    """The rows as Pulumi's table, types shortened as the CLI shows them (`aws:s3:BucketPolicy`), fitted to
    `columns`: when the names do not fit, they are cut with an ellipsis (a shared row keeps its count)."""
    cells = [(r.prefix + display.short_type(r.type), _counted(r), r.plan, r.info) for r in rows]
    type_width = max(display.width(c[0]) for c in cells + [(" " * 5 + "Type", "", "", "")])
    name_width = max(display.width(c[1]) for c in cells + [("", "Name", "", "")])
    plan_width = max(len(r.plan) for r in rows + [Row("", "", "", "Plan")])
    info_width = max(display.width(r.info) for r in rows)
    fixed = plan_width + (info_width + 1 if info_width else 0) + 2
    if type_width + name_width + fixed > columns:
        name_width = max(12, columns - fixed - type_width)
        type_width = min(type_width, columns - fixed - name_width)
    header = [display.pad(" " * 5 + "Type", type_width), display.pad("Name", name_width), "Plan"]
    lines = [" ".join(header).rstrip()]
    for type_cell, name, plan, info in cells:
        parts = [display.pad(display.clip(type_cell, type_width), type_width),
                 display.pad(_clip_name(name, name_width), name_width), plan]
        if info:
            parts.append(info)
        lines.append(" ".join(parts).rstrip())
    return lines


def _counted(row: Row) -> str:
    return row.name if row.count == 1 else f"{row.name} x{row.count}"


def _clip_name(name: str, columns: int) -> str:
    """Cut a long name, keeping a shared row's `xN` count visible."""
    head, sep, count = name.rpartition(" x")
    if sep and count.isdigit() and display.width(name) > columns:
        return display.clip(head, columns - len(sep + count)) + sep + count
    return display.clip(name, columns)


def output_lines(plan: engine.Plan, columns: int = display.DEFAULT_WIDTH) -> list[str]:
    """The stack outputs in full, nested as `pulumi preview` prints them (a value that fits on its line stays on
    it); unknowns as output<string>, secrets as [secret]."""
    outputs = plan.raw_outputs or plan.outputs
    if not outputs:
        return []
    key_width = max(len(k) for k in outputs)
    lines = ["Outputs:"]
    for key in sorted(outputs):
        lines += display.value_lines(key, outputs[key], 4, key_width, columns)
    return lines


def type_counts(plan: engine.Plan) -> list[str]:
    counts = Counter(r.type for r in plan)
    lines = ["Resources by type:"]
    for type_, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"    {count:>4} {type_}")
    return lines


def summary_lines(plan: engine.Plan) -> list[str]:
    """The closing "Resources:" block (one line per fact, so more can be added)."""
    protected = sum(1 for r in plan if r.protect)
    return [
        "Resources:",
        f"    + {len(plan) + 1} to create" + (f" ({protected} protected {LOCK})" if protected else ""),
    ]


def render(plan: engine.Plan, *, columns: int | None = None, verbose: bool = False) -> str:
    columns = columns or display.terminal_width()
    mode = "a first preview: outputs unknown" if plan.preview else "outputs filled in, as on an update"
    lines = [
        display.clip(f"Previewing update ({plan.stack}) offline, under Pulumi's mock runtime ({mode}; no state):",
                     columns),
        *table(tree_rows(plan, verbose=verbose), columns),
        "",
        *output_lines(plan, columns),
    ]
    if verbose:
        lines += ["", *type_counts(plan)]
    lines += ["", *summary_lines(plan)]
    if plan.placeholders:
        lines += [
            "",
            "Secure config values stood in by offline placeholders (the CLI would decrypt them): "
            + ", ".join(plan.placeholders),
        ]
    return "\n".join(lines)


def grouped_names(names: list[str]) -> str:
    """Names grouped by their first and last words, each group as `names_of` writes it:
    `service-{backend,frontend}-role`."""
    families: dict[tuple[str, str], list[str]] = {}
    for name in sorted(names):
        words = name.split("-")
        families.setdefault((words[0], words[-1] if len(words) > 2 else ""), []).append(name)
    return ", ".join(names_of(group, suffix=True) for group in families.values())


def policy_lines(preview_report, update_report, resources: int, columns: int) -> list[str]:
    """What the pack checked: how many policies over how many resources; per enforcement level how many policies
    passed, failed and were deferred at preview (a value they read was unknown); each deferred check with the
    resources it waited for; the findings; the summary line. A deferred check is run again with every value known
    (as during `pulumi up`), and the level line says how those came out."""
    policies = preview_report.policies
    lines = _wrap(
        f"Policies: {preview_report.pack_name}@v{preview_report.pack_version}, {len(policies)} policies over "
        f"{resources} resources and the stack: "
        f"{policy_verdict(preview_report, update_report)}", columns, "    ")
    levels = {p.name: preview_report.config.get(p.name, {}).get("enforcementLevel", p.level) for p in policies}
    failed_at = {v.policy for v in update_report.findings} | {v.policy for v in preview_report.findings}
    deferred: dict[str, set[str]] = {}
    for note in preview_report.deferred:
        deferred.setdefault(note.policy, set()).add(note.resource.split(": ", 1)[-1])
    for level in ("mandatory", "remediate", "advisory", "disabled"):
        names = [name for name, lvl in levels.items() if lvl == level]
        if not names:
            continue
        if level == "disabled":
            lines.append(f"    disabled {len(names)}: not run")
            continue
        failed = [n for n in names if n in failed_at]
        waited = [n for n in names if n in deferred]
        later = len([n for n in waited if n not in failed_at])
        passed = len([n for n in names if n not in failed_at and n not in deferred])
        lines.extend(_wrap(f"    {level} {len(names)}: {passed} passed, {len(failed)} failed, {len(waited)} deferred "
                           f"at preview" + (f" ({later} of them passed once every value was known)" if waited else ""),
                           columns, "        "))
    # Policies that waited for the same resources are named together.
    by_resources: dict[tuple[str, ...], list[str]] = {}
    for name, labels in deferred.items():
        by_resources.setdefault(tuple(sorted(labels)), []).append(name)
    for labels, names in sorted(by_resources.items(), key=lambda item: sorted(item[1])):
        failed = [n for n in names if n in failed_at]
        text = (f"    deferred {', '.join(sorted(names))}{' (then failed: ' + ', '.join(failed) + ')' if failed else ''}"
                f" on {len(labels)}: {grouped_names(list(labels))}")
        lines.extend(_wrap(text, columns, "        "))
    findings = sorted({(v.level, v.policy, v.resource, v.message) for v in update_report.findings + preview_report.findings})
    for level, policy, resource, message in findings:
        lines.append(display.clip(f"    - [{level}] {policy} ({resource})", columns))
        lines.extend(display.clip(f"        {line}", columns) for line in message.splitlines())
    return lines


def policy_verdict(preview_report, update_report) -> str:
    mandatory = len({(v.policy, v.urn) for v in preview_report.mandatory + update_report.mandatory})
    advisory = len({(v.policy, v.urn) for v in preview_report.advisory + update_report.advisory})
    return (f"{mandatory} mandatory violation(s){' (the deployment would be blocked)' if mandatory else ''}, "
            f"{advisory} advisory")


def _wrap(text: str, columns: int, indent: str) -> list[str]:
    """Break a long line at a space or after a comma, continuing lines indented."""
    lines: list[str] = []
    while display.width(text) > columns:
        # Between names (", ") where that leaves a reasonable line, else after a comma inside a `{...}` list.
        cut = text.rfind(" ", 0, columns)
        if cut < columns // 2:
            cut = max(cut, text.rfind(",", 0, columns - 1) + 1)
        if cut <= len(indent):
            cut = columns - 1
        lines.append(text[:cut].rstrip())
        text = indent + text[cut:].lstrip()
    return lines + [text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.preview", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="staging", help="stack name (Pulumi.<stack>.yaml), default staging")
    parser.add_argument("--json", metavar="FILE", type=cli.writable_file, help="also write the captured plan as JSON (schema: README)")
    parser.add_argument("--update", action="store_true", help="show the update plan (computed outputs filled in)")
    parser.add_argument("--verbose", action="store_true", help="one row per resource, and the counts per type")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    parser.add_argument("--project", default=".", metavar="DIR",
                        help="the project's folder (its Pulumi.yaml), relative to the repository root; default the platform")
    args = parser.parse_args(argv)
    root = (engine.ROOT / args.project).resolve()
    if not (root / "Pulumi.yaml").is_file():
        raise cli.BadArgument(f"--project: expected a folder holding a Pulumi.yaml, got {args.project!r}")

    from . import policy_report

    # The engine's two runs go side by side (the update run in a forked child), the two pack processes start beside
    # them, and then both plans are judged at once.
    packs = contextlib.nullcontext() if args.no_policies else policy_report.PackSessions(
        args.stack, project=engine.project(root).name, root=root
    )
    with contextlib.ExitStack() as started:
        plans = engine.run_modes(args.stack, root=root, before=lambda: started.enter_context(packs))
        columns = display.terminal_width()
        shown = plans["update" if args.update else "preview"]
        print(render(shown, columns=columns, verbose=args.verbose))
        print(f"    Estimated monthly cost: {cost_summary(plans['update'])}")
        if args.json:
            Path(args.json).write_text(json.dumps(shown.to_json(), indent=2, sort_keys=True) + "\n")
            print(f"\nWrote the captured plan ({len(shown)} resources) to {args.json}")
        if args.no_policies:
            return 0
        reports = packs.evaluate(plans)
    print()
    print("\n".join(policy_lines(reports["preview"], reports["update"], len(shown), columns)))
    return 1 if reports["preview"].mandatory_count or reports["update"].mandatory_count else 0


if __name__ == "__main__":
    cli.exit_with(main)
