"""The review of one stack's change: the plan diff, the services it touches, the warnings, the policy verdicts that
change; and its three renderings (the terminal, Markdown for a pull-request comment, JSON).

`StackReview` holds the facts; `text_lines`, `markdown_lines` and `to_json` print them. The terminal form is
`pulumi preview --diff`'s: a table of the changed resources with the properties that differ (`[diff: ~cidrBlock]`),
then each resource's property-level diff (`~ cidrBlock: "10.20.14.0/24" => "10.20.15.0/24"`, secrets as `[secret]`,
values known only after a replacement as `output<string>`), the stack outputs that change, then the summary counts. Each section is its own
function returning lines, so a further line (a cost delta) is one more call in `summary_lines`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import display, engine
from .cost import report as cost
from .affected_services import AffectedService
from .plan_diff import MISSING, SYMBOLS, PropertyDiff, ResourceDiff, StackDiff

PROD_STACKS = ("prod",)  # the environment is the stack's name: stack `prod` gets prod's rules
LOCK = "🔒"


@dataclass(frozen=True)
class VerdictChange:
    change: str  # "new" (at head, not at the base) or "resolved" (at the base, not at head)
    level: str
    policy: str
    resource: str  # `type: name`, as the CLI labels a violation
    message: str


@dataclass
class StackReview:
    diff: StackDiff
    services: list[AffectedService]
    verdicts: list[VerdictChange] = field(default_factory=list)
    head_mandatory: int = 0
    head_advisory: int = 0
    policies_ran: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def stack(self) -> str:
        return self.diff.stack

    def output_changes(self) -> list[tuple[str, Any, Any]]:
        """(key, old, new) for each stack output that differs (MISSING when absent on one side); secrets marked."""
        before = self.diff.base.raw_outputs or self.diff.base.outputs
        after = self.diff.head.raw_outputs or self.diff.head.outputs
        return [(key, before.get(key, MISSING), after.get(key, MISSING)) for key in sorted(set(before) | set(after))
                if engine.unwrap(before.get(key, MISSING)) != engine.unwrap(after.get(key, MISSING))]

    @property
    def prod(self) -> bool:
        return self.stack in PROD_STACKS

    def warnings(self) -> list[str]:
        """Loud in prod: a stateful resource replaced or deleted; anywhere: a protected one (the engine refuses)."""
        out = []
        for change in self.diff.changes:
            if change.op not in ("replace", "delete"):
                continue
            verb = "replaces" if change.op == "replace" else "deletes"
            what = f"{display.short_type(change.type)} {change.name}"
            owner = _component(self.diff.base if change.op == "delete" else self.diff.head, change.resource)
            if change.stateful and self.prod:
                loss = ("its data does not carry over to the new one" if change.op == "replace"
                        else "its data goes with it")
                out.append(f"WARNING: this {verb} the prod {owner} ({what}), a stateful resource: {loss}.")
            elif change.stateful:
                out.append(f"note: this {verb} a stateful resource of {self.stack}'s {owner} ({what}).")
            if change.protected:
                out.append(f"WARNING: {what} is protected: `pulumi up` will refuse to {verb[:-1]} it until the "
                           f"protect option is lifted in a change of its own.")
        return out


def _component(plan: engine.Plan, resource: engine.CapturedResource) -> str:
    """The name of the top-level component a resource belongs to: `database`, `messaging`, `network`."""
    while resource.parent:
        try:
            resource = plan.get(resource.parent)
        except LookupError:
            break
    return resource.name


# --- values and property diffs ---------------------------------------------------------------------------------------


def _json_document(value: Any) -> Any:
    """A string holding a JSON object or array (an IAM policy), parsed; anything else as it is."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def value_diff_lines(key: str, old: Any, new: Any, indent: int) -> list[str]:
    """`~ key: old => new` (nested maps and lists diffed entry by entry, JSON documents as documents); `+ key:` and
    `- key:` for an added or removed entry; secrets only as [secret]."""
    lead = " " * indent
    if old is MISSING:
        return [f"{lead}+ {line.lstrip()}" if i == 0 else f"{lead}  {line}"
                for i, line in enumerate(display.value_lines(key, new, 0))]
    if new is MISSING:
        return [f"{lead}- {line.lstrip()}" if i == 0 else f"{lead}  {line}"
                for i, line in enumerate(display.value_lines(key, old, 0))]
    if engine.is_secret(old) or engine.is_secret(new):
        return [f"{lead}~ {key}: {display.inline(old)} => {display.inline(new)}"]
    a, b = _json_document(old), _json_document(new)
    if isinstance(a, dict) and isinstance(b, dict):
        lines = [f"{lead}~ {key}: {{"]
        for k in sorted(set(a) | set(b)):
            if a.get(k, MISSING) != b.get(k, MISSING) or k not in a or k not in b:
                lines += value_diff_lines(k, a.get(k, MISSING), b.get(k, MISSING), indent + 4)
        return lines + [f"{lead}  }}"]
    if isinstance(a, list) and isinstance(b, list):
        lines = [f"{lead}~ {key}: ["]
        for i in range(max(len(a), len(b))):
            x = a[i] if i < len(a) else MISSING
            y = b[i] if i < len(b) else MISSING
            if x != y:
                lines += value_diff_lines(f"[{i}]", x, y, indent + 4)
        return lines + [f"{lead}  ]"]
    return [f"{lead}~ {key}: {display.inline(old)} => {display.inline(new)}"]


def property_lines(prop: PropertyDiff, indent: int = 6) -> list[str]:
    lines = value_diff_lines(prop.key, prop.old, prop.new, indent)
    notes = []
    if prop.computed:
        notes.append("known after the resource it comes from is replaced")
    if prop.replaces:
        notes.append(f"forces replacement: {prop.replaces}")
    if notes:
        lines[0] += f"   ({'; '.join(notes)})"
    return lines


def _diff_marks(change: ResourceDiff) -> str:
    marks = {"add": "+", "delete": "-", "update": "~"}
    return " ".join(f"{marks[p.kind]}{p.key}" for p in change.properties)


# --- the terminal form -----------------------------------------------------------------------------------------------


def table_lines(review: StackReview, columns: int) -> list[str]:
    rows = [c for c in review.diff.changes]
    if not rows:
        return ["    (no resource changes)"]
    cells = []
    for c in rows:
        info = []
        if c.op in ("update", "replace"):
            info.append(f"[diff: {_diff_marks(c)}]")
        if c.stateful and c.op in ("replace", "delete"):
            info.append("stateful")
        if c.protected and c.op in ("replace", "delete"):
            info.append(LOCK)
        cells.append((f" {SYMBOLS[c.op]:<2}  {display.short_type(c.type)}", c.name, c.op, " ".join(info)))
    type_width = max(display.width(t) for t, *_ in cells + [(" " * 5 + "Type", "", "", "")])
    name_width = max(display.width(n) for _, n, *_ in cells + [("", "Name", "", "")])
    lines = [f"{display.pad(' ' * 5 + 'Type', type_width)} {display.pad('Name', name_width)} {'Plan':<7} Info"]
    for type_cell, name, op, info in cells:
        lines.append(display.clip(f"{display.pad(type_cell, type_width)} {display.pad(name, name_width)} {op:<7} {info}"
                                  .rstrip(), columns))
    return lines


def detail_lines(review: StackReview) -> list[str]:
    """Each updated or replaced resource's property diff, as `pulumi preview --diff` prints it."""
    lines: list[str] = []
    for c in review.diff.changes:
        if c.op not in ("update", "replace"):
            continue
        how = c.op + (", deleting the old one first" if c.delete_before_replace else "")
        lines.append(f"  {SYMBOLS[c.op]:<2}{c.type}: ({how})")
        lines.append(f"        [urn={c.urn}]")
        for prop in c.properties:
            lines += property_lines(prop)
    return lines


def output_diff_lines(review: StackReview) -> list[str]:
    changes = review.output_changes()
    if not changes:
        return []
    lines = ["Outputs:"]
    for key, old, new in changes:
        lines += value_diff_lines(key, old, new, 2)
    return lines


def summary_lines(review: StackReview) -> list[str]:
    """The closing "Resources:" block, one line per fact (a cost delta is one more line)."""
    counts = review.diff.counts
    lines = ["Resources:"]
    for op, label in (("create", "to create"), ("update", "to update"), ("replace", "to replace"), ("delete", "to delete")):
        if counts[op]:
            lines.append(f"    {SYMBOLS[op]:<2}{counts[op]} {label}")
    changes = sum(counts[op] for op in ("create", "update", "replace", "delete"))
    lines.append(f"    {changes} change{'s' if changes != 1 else ''}. {counts['same']} unchanged")
    lines.append("    " + cost.delta_line(review.diff.base, review.diff.head))
    return lines


def service_lines(review: StackReview) -> list[str]:
    if not review.services:
        return ["Services affected: none"]
    lines = ["Services affected:"]
    for service in review.services:
        lines.append(f"    {service.name}{' (new)' if service.new else ''}{' (removed)' if service.removed else ''}: "
                     + _causes(service))
    return lines


def _causes(service: AffectedService) -> str:
    parts = []
    if service.own:
        parts.append("its " + ", ".join(f"{c.name} ({c.op})" for c in service.own))
    if service.dependencies:
        parts.append("depends on " + ", ".join(f"{c.name} ({c.op})" for c in service.dependencies))
    return "; ".join(parts)


def verdict_lines(review: StackReview) -> list[str]:
    if not review.policies_ran:
        return ["Policy verdicts: not run (--no-policies)"]
    lines = []
    if not review.verdicts:
        lines.append("Policy verdicts that change: none")
    else:
        lines.append("Policy verdicts that change:")
        for v in review.verdicts:
            lines.append(f"    {'NEW' if v.change == 'new' else 'resolved'} [{v.level}] {v.policy} ({v.resource})")
            if v.change == "new":
                lines.extend(f"        {line}" for line in v.message.splitlines())
    lines.append(f"Policy verdicts at head: {review.head_mandatory} mandatory violation(s)"
                 f"{' (the deployment would be blocked)' if review.head_mandatory else ''}, "
                 f"{review.head_advisory} advisory")
    return lines


def text_lines(review: StackReview, columns: int) -> list[str]:
    warnings = review.warnings()
    lines = [f"Previewing update ({review.stack}):", *warnings, *table_lines(review, columns)]
    details = detail_lines(review)
    if details:
        lines += ["", *details]
    outputs = output_diff_lines(review)
    if outputs:
        lines += ["", *outputs]
    lines += ["", *summary_lines(review), "", *service_lines(review), *verdict_lines(review)]
    if warnings:
        lines += ["", *warnings]
    lines += [f"note: {n}" for n in review.notes]
    return lines


# --- Markdown (the pull-request comment) ----------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_lines(review: StackReview) -> list[str]:
    counts = review.diff.counts
    summary = ", ".join(f"{counts[op]} to {op}" for op in ("create", "update", "replace", "delete") if counts[op])
    lines = [f"### `{review.stack}`: {summary or 'no changes'}", ""]
    for warning in review.warnings():
        lines += [f"> **{_md(warning)}**" if warning.startswith("WARNING") else f"> {_md(warning)}", ">"]
    if review.warnings():
        lines[-1] = ""
    if review.diff.changes:
        lines += ["| | Type | Name | Plan | Why |", "|---|---|---|---|---|"]
        for c in review.diff.changes:
            why = "; ".join(c.replace_reasons) if c.op == "replace" else (_diff_marks(c) if c.op == "update" else "")
            if c.stateful and c.op in ("replace", "delete"):
                why = ("stateful; " + why).rstrip("; ")
            lines.append(f"| `{SYMBOLS[c.op]}` | `{display.short_type(c.type)}` | `{c.name}` | {c.op} | {_md(why)} |")
        details = detail_lines(review) + ([""] if detail_lines(review) and output_diff_lines(review) else [])
        details += output_diff_lines(review)
        if details:
            lines += ["", "<details><summary>Property and output diffs</summary>", "", "```diff", *details, "```", "",
                      "</details>"]
        lines.append("")
    lines.append("**Services affected:** " + (
        "; ".join(f"`{s.name}`{' (new)' if s.new else ''}{' (removed)' if s.removed else ''}: {_md(_causes(s))}"
                  for s in review.services) or "none"))
    lines.append("")
    if review.policies_ran:
        if review.verdicts:
            lines.append("**Policy verdicts that change:**")
            lines += [f"- {'new' if v.change == 'new' else 'resolved'} **{v.level}** `{v.policy}` ({_md(v.resource)})"
                      for v in review.verdicts]
        else:
            lines.append("**Policy verdicts that change:** none")
        lines.append(f"At head: {review.head_mandatory} mandatory violation(s), {review.head_advisory} advisory.")
    lines += [f"_note: {_md(n)}_" for n in review.notes]
    return lines + [""]


# --- JSON ------------------------------------------------------------------------------------------------------------


def _masked(value: Any) -> Any:
    if value is MISSING:
        return None
    if engine.is_secret(value):
        return display.SECRET
    if value == engine.UNKNOWN:
        return display.UNKNOWN
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def to_json(review: StackReview) -> dict[str, Any]:
    return {
        "stack": review.stack,
        "counts": review.diff.counts,
        "changes": [
            {
                "op": c.op,
                "urn": c.urn,
                "type": c.type,
                "name": c.name,
                "stateful": c.stateful,
                "protected": c.protected,
                "deleteBeforeReplace": c.delete_before_replace,
                "replaceReasons": c.replace_reasons,
                "properties": [
                    {"key": p.key, "kind": p.kind, "old": _masked(p.old), "new": _masked(p.new),
                     "replaces": p.replaces, "computed": p.computed, "source": p.source}
                    for p in c.properties
                ],
            }
            for c in review.diff.changes
        ],
        "outputs": [{"key": key, "old": _masked(old), "new": _masked(new)} for key, old, new in review.output_changes()],
        "warnings": review.warnings(),
        "services": [
            {"name": s.name, "new": s.new, "removed": s.removed,
             "causes": [{"op": c.op, "type": c.type, "name": c.name, "own": c.own} for c in s.causes]}
            for s in review.services
        ],
        "policies": None if not review.policies_ran else {
            "changes": [v.__dict__ for v in review.verdicts],
            "headMandatory": review.head_mandatory,
            "headAdvisory": review.head_advisory,
        },
        "notes": review.notes,
    }
