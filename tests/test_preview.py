"""The preview as a Pulumi user reads it: fitted to the terminal, every resource accounted for, outputs in full with
secrets masked, and a policy section that says what ran, what passed, failed and was deferred, and on what."""

from __future__ import annotations

import re

import pytest

from infra.offline import display, engine, preview

from .conftest_policies import pack_pool, plan_for  # noqa: F401 (pack_pool is a fixture)

# The layout before the rework (the preview of commit 0e1c562, run on today's plans and pack, piped): lines per stack.
# It printed every resource, output and type on a line of its own, so it grows with the plan; 152 columns wide.
BEFORE_LINES = {"staging": 436, "prod": 426}


@pytest.fixture(scope="module")
def reports(pack_pool):
    return {stack: (pack_pool.evaluate(plan_for(stack, preview=True)), pack_pool.evaluate(plan_for(stack)))
            for stack in ("staging", "prod")}


def full_output(stack: str, reports, columns: int = 120) -> list[str]:
    plan = plan_for(stack, preview=True)
    text = preview.render(plan, columns=columns)
    return text.splitlines() + [""] + preview.policy_lines(*reports[stack], len(plan), columns)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_default_preview_fits_120_columns_and_is_half_as_long(stack, reports):
    lines = full_output(stack, reports)
    assert max(display.width(line) for line in lines) <= 120
    assert len(lines) <= BEFORE_LINES[stack] // 2
    assert not any(line != line.rstrip() for line in lines), "no padding at the ends of lines"


def test_a_narrow_terminal_clips_names_but_keeps_every_row(reports):
    plan = plan_for("staging", preview=True)
    wide, narrow = preview.render(plan, columns=160).splitlines(), preview.render(plan, columns=90).splitlines()
    table = [line for line in narrow if line.startswith(" + ")]
    assert table and max(display.width(line) for line in table) <= 90
    assert len(table) == len([line for line in wide if line.startswith(" + ")])


def test_every_resource_is_accounted_for(stack):
    """Rows (a shared row counts its resources, a folded component its insides) add up to the plan and the stack."""
    plan = plan_for(stack, preview=True)
    total = 0
    for row in preview.tree_rows(plan):
        total += row.count
        inside = re.search(r"\(\+(\d+) inside\)", row.info)
        total += int(inside.group(1)) if inside else 0
    assert total == len(plan) + 1
    verbose = preview.tree_rows(plan, verbose=True)
    assert len(verbose) == len(plan) + 1 and all(row.count == 1 for row in verbose)
    assert {row.name for row in verbose} >= {r.name for r in plan}


def test_the_per_type_block_only_with_verbose():
    plan = plan_for("staging", preview=True)
    assert "Resources by type:" not in preview.render(plan, columns=120)
    assert "Resources by type:" in preview.render(plan, columns=120, verbose=True)


def test_outputs_are_printed_in_full_and_secrets_masked():
    plan = plan_for("staging")  # update mode: every output known
    text = preview.render(plan, columns=120)
    kubeconfig = plan.outputs["kubeconfig"]
    assert engine.is_secret(plan.raw_outputs["kubeconfig"])
    assert "kubeconfig" in text and "[secret]" in text and kubeconfig[:40] not in text
    # Long values are not cut: the database's secret ARN and every queue URL appear whole.
    assert f'"{plan.outputs["database"]["masterSecretArn"]}"' in text
    for queue in plan.outputs["queues"].values():
        assert f'"{queue["url"]}"' in text
    assert "..." not in text


def test_unknown_outputs_read_as_pulumi_prints_them():
    text = preview.render(plan_for("staging", preview=True), columns=120)
    assert re.search(r"^    vpcId\s*: output<string>$", text, re.MULTILINE)


def test_the_policy_section_counts_what_ran_and_names_deferred_resources(reports):
    before, after = reports["staging"]
    plan = plan_for("staging", preview=True)
    lines = preview.policy_lines(before, after, len(plan), 120)
    text = "\n".join(lines)
    assert f"{len(before.policies)} policies over {len(plan)} resources" in text
    levels = {p.name: before.config[p.name]["enforcementLevel"] for p in before.policies}
    mandatory = sum(1 for level in levels.values() if level == "mandatory")
    deferred_mandatory = len({v.policy for v in before.deferred if levels[v.policy] == "mandatory"})
    assert f"mandatory {mandatory}: {mandatory - deferred_mandatory} passed, 0 failed, {deferred_mandatory} deferred" in text
    # Each deferred check is named with exactly the resources it waited for.
    named: dict[str, set[str]] = {}
    for entry in re.split(r"\n    (?=\S)", text):
        found = re.match(r"deferred (.+?) on (\d+): (.*)", entry.replace("\n        ", " "), re.DOTALL)
        if found:
            resources_ = expand(found.group(3))
            assert len(resources_) == int(found.group(2))
            for policy in found.group(1).split(", "):
                named[policy] = resources_
    expected: dict[str, set[str]] = {}
    for note in before.deferred:
        expected.setdefault(note.policy, set()).add(note.resource.split(": ", 1)[-1])
    assert named == expected


def expand(listing: str) -> set[str]:
    """`a-{x,y}-z, b` -> {a-x-z, a-y-z, b}: the shared prefix (and last word) notation the preview writes."""
    names: set[str] = set()
    listing = re.sub(r"\{[^}]*\}", lambda m: re.sub(r"\s+", "", m.group(0)), listing)  # a list wrapped inside braces
    for part in re.findall(r"[^,{}\s]*\{[^}]*\}[^,{}\s]*|[^,{}\s]+", listing):
        if "{" in part:
            prefix, rest = part.split("{", 1)
            items, suffix = rest.split("}", 1)
            names.update(prefix + item + suffix for item in items.split(","))
        else:
            names.add(part)
    return names
