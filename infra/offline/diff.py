"""`make diff [BASE=<git ref>]`: what this change does to each stack, offline, before anyone has credentials.

The base (by default the merge base of HEAD with main) is written out of git into a temporary folder (`git
archive`), and the program of each side runs under its own offline engine in a subprocess of this repository's
virtualenv (`plan_export.py`): the base's plan against the working tree's, uncommitted edits included. For each stack
it prints, as `pulumi preview --diff` would, the resources to create, update, replace and delete with their
property-level diffs (secrets masked), which changes force a replacement and why (the CloudFormation schemas'
create-only properties, the Kubernetes provider's replace-on fields), a loud warning when a stateful resource is
replaced or deleted in prod, the catalogued services affected, and the policy verdicts that change (the base's pack on
the base's plan, this pack on this plan, both in update mode, through `policy_report`).

Output: the terminal form; `--markdown FILE` also writes the pull-request comment; `--json FILE` (or `-` for stdout,
instead of the terminal form) the same facts as JSON.
Exit status: 0; 1 if a mandatory policy violation is present at head; 2 on bad input (an unknown ref or stack, a
config error on either side), with a one-line message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import affected_services, change_review, cli, display, engine, plan_diff

EXPORTER = Path(__file__).with_name("plan_export.py")
EXPORT_TIMEOUT_SECONDS = 600
DEFAULT_BASE_BRANCHES = ("main", "origin/main")
# The Markdown's first line: how the pull-request workflow finds its own comment to edit it.
COMMENT_MARKER = "<!-- platform: offline change review -->"


class InputError(cli.BadInput):
    """Bad input (an unknown ref or stack, a config error on either side): one line on stderr, exit 2."""


@dataclass(frozen=True)
class Side:
    label: str  # "base <ref> (<sha>)" or "working tree"
    root: Path


def _git(*args: str, cwd: Path = engine.ROOT) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise InputError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"git {args[0]} failed")
    return result.stdout.strip()


def resolve_base(ref: str | None) -> tuple[str, str]:
    """(the ref as given or chosen, its commit). Default: the merge base of HEAD with main (or origin/main)."""
    if ref:
        try:
            return ref, _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except InputError:
            raise InputError(f"unknown git ref {ref!r}: BASE must name a commit, branch or tag") from None
    for branch in DEFAULT_BASE_BRANCHES:
        try:
            _git("rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}")
        except InputError:
            continue
        return f"merge-base(HEAD, {branch})", _git("merge-base", "HEAD", branch)
    raise InputError("no main branch to compare with: pass BASE=<git ref>")


def checkout(commit: str, into: Path) -> None:
    """The commit's tree, as `git archive` writes it, in `into`."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=engine.ROOT, capture_output=True)
    if archive.returncode != 0:
        raise InputError(f"git archive {commit} failed: {archive.stderr.decode().strip()}")
    with tempfile.TemporaryFile() as handle:
        handle.write(archive.stdout)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(into, filter="data")


def stacks_of(root: Path) -> set[str]:
    return {p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml")}


def export(root: Path, stack: str) -> dict[str, Any] | None:
    """The plan of `stack` in the checkout at `root`, from a subprocess running that checkout's engine; None when the
    checkout has no such stack. Raises InputError with the checkout's own message on a config error."""
    if stack not in stacks_of(root):
        return None
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        result = subprocess.run([sys.executable, str(EXPORTER), str(root), stack, str(out)], cwd=root,
                                capture_output=True, text=True, timeout=EXPORT_TIMEOUT_SECONDS)
        document = json.loads(out.read_text() or "{}") if out.exists() else {}
    finally:
        out.unlink(missing_ok=True)
    if "error" in document:
        problems = [line.strip() for line in str(document["error"]).splitlines() if line.strip()]
        raise InputError(f"{root}: {' '.join(problems)}")
    if result.returncode != 0 or "resources" not in document:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"the program at {root} did not run for stack {stack}: {tail}")
    return document


def plan_of(document: dict[str, Any] | None, stack: str, root: Path) -> engine.Plan:
    """An exported plan as the engine's Plan (an empty one for a stack the checkout does not have)."""
    if document is None:
        return engine.Plan(stack=stack, preview=False, resources=[], outputs={}, root=root)
    resources = [
        engine.CapturedResource(
            urn=r["urn"], type=r["type"], name=r["name"], custom=r["custom"], remote=r["remote"], parent=r["parent"],
            provider=r["provider"], options=r["options"], dependencies=tuple(r["dependencies"]),
            property_dependencies={k: tuple(v) for k, v in r["propertyDependencies"].items()},
            inputs=r["inputs"], outputs=r.get("outputs") or {},
        )
        for r in document["resources"]
    ]
    return engine.Plan(stack=stack, preview=False, resources=resources, outputs=document.get("outputs") or {},
                       project=document.get("project") or engine.PROJECT, root=root,
                       raw_outputs=document.get("rawOutputs") or {})


def verdict_changes(base_report, head_report) -> list[change_review.VerdictChange]:
    def keyed(report) -> dict[tuple[str, str, str], Any]:
        return {(v.level, v.policy, v.resource): v for v in (report.findings if report else [])}

    before, after = keyed(base_report), keyed(head_report)
    changes = [change_review.VerdictChange("new", *key, after[key].message) for key in sorted(set(after) - set(before))]
    changes += [change_review.VerdictChange("resolved", *key, before[key].message)
                for key in sorted(set(before) - set(after))]
    return changes


def review_stack(stack: str, base: Side, head: Side, *, policies: bool) -> change_review.StackReview:
    with ThreadPoolExecutor(max_workers=2) as pool:
        base_doc, head_doc = pool.map(lambda side: export(side.root, stack), (base, head))
    base_plan, head_plan = plan_of(base_doc, stack, base.root), plan_of(head_doc, stack, head.root)
    region = ((head_doc or base_doc or {}).get("config") or {}).get("aws:region") or "ap-northeast-2"
    stack_diff = plan_diff.diff(base_plan, head_plan, region=region)
    catalogues = [(doc or {}).get("catalogue") for doc in (head_doc, base_doc)]
    review = change_review.StackReview(stack_diff, affected_services.affected(stack_diff, *catalogues))
    for side, doc in (("head", head_doc), ("base", base_doc)):
        if doc is None:
            review.notes.append(f"the {side} has no stack {stack}")
        elif doc.get("catalogueError"):
            review.notes.append(f"the {side}'s catalogue could not be read ({doc['catalogueError']}); services "
                                f"were taken from its workload components")
    if policies:
        from . import policy_report

        reports = {}
        for side, plan, doc in (("base", base_plan, base_doc), ("head", head_plan, head_doc)):
            if doc is None:
                reports[side] = None
                continue
            try:
                reports[side] = policy_report.evaluate(plan, pack_dir=plan.root / "policies")
            except policy_report.PolicyPackError as error:
                raise InputError(f"the {side}'s policy pack did not run: {str(error).splitlines()[0]}") from None
        review.policies_ran = True
        review.verdicts = verdict_changes(reports["base"], reports["head"])
        if reports["head"] is not None:
            review.head_mandatory = reports["head"].mandatory_count
            review.head_advisory = reports["head"].advisory_count
    return review


def header_lines(base: Side, head: Side) -> list[str]:
    return [f"Change review offline: {head.label} against {base.label}.",
            "Each side's program ran under its own offline engine (update mode: every value known); no state, no "
            "cloud account."]


def markdown(reviews: list[change_review.StackReview], base: Side) -> str:
    lines = [COMMENT_MARKER, "## Offline change review", "", f"Against {base.label}: what this pull request does to each stack, from "
             "the program run offline on both sides (`make diff`).", ""]
    for review in reviews:
        lines += change_review.markdown_lines(review)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.diff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="git ref to compare with (default: the merge base of HEAD with main)")
    parser.add_argument("--head", metavar="DIR", help="review this checkout instead of the working tree")
    parser.add_argument("--stack", action="append", help="only this stack (repeatable; default: every stack)")
    parser.add_argument("--json", metavar="FILE", type=_json_target,
                        help="write the review as JSON (`-`: to stdout, instead of text)")
    parser.add_argument("--markdown", metavar="FILE", type=cli.writable_file,
                        help="write the review as Markdown (the pull-request comment)")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack on both sides")
    args = parser.parse_args(argv)

    ref, commit = resolve_base(args.base)
    with tempfile.TemporaryDirectory(prefix="platform-diff-base-") as folder:
        base = Side(f"base {ref} ({commit[:12]})", Path(folder))
        head = Side("the working tree", engine.ROOT) if not args.head else Side(args.head, Path(args.head).resolve())
        if not (head.root / "Pulumi.yaml").is_file():
            raise InputError(f"{head.root} is not a checkout of the project: it has no Pulumi.yaml")
        checkout(commit, base.root)
        known = stacks_of(base.root) | stacks_of(head.root)
        stacks = args.stack or sorted(known)
        unknown = sorted(set(stacks) - known)
        if unknown:
            raise InputError(f"unknown stack {unknown[0]!r}: neither side has Pulumi.{unknown[0]}.yaml "
                             f"(stacks: {', '.join(sorted(known))})")
        reviews = [review_stack(stack, base, head, policies=not args.no_policies) for stack in stacks]

    if args.json != "-":
        columns = display.terminal_width()
        out = header_lines(base, head)
        for review in reviews:
            out += ["", *change_review.text_lines(review, columns)]
        print("\n".join(out))
    if args.json:
        document = {"base": {"ref": ref, "commit": commit}, "head": head.label,
                    "stacks": [change_review.to_json(r) for r in reviews]}
        text = json.dumps(document, indent=2, sort_keys=True, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(reviews, base))
    return 1 if any(r.head_mandatory for r in reviews) else 0


def _json_target(text: str) -> str | Path:
    return text if text == "-" else cli.writable_file(text)


if __name__ == "__main__":
    cli.exit_with(main)
