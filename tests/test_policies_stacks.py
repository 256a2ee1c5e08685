"""Both real stacks through the pack, as `make preview` and CI run it: zero mandatory violations.

Each stack's captured plan (update mode: every value known, as during `pulumi up`; preview mode: computed values
unknown, as at a first `pulumi preview`) goes through the pack over gRPC with the stack's own
`policies/config/<stack>.json`. Preview plans are produced in a child process with a time limit, so that a hang in
the program under the mock runtime fails this test with a message instead of stalling the suite.
"""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from infra.offline import engine
from infra.offline.policy_report import DEFAULT_PACK_DIR, evaluate

from .conftest_policies import STACKS, pack_pool, plan_for  # noqa: F401 (pack_pool is a fixture)

PREVIEW_TIMEOUT_SECONDS = 120
_PREVIEWS: dict[str, engine.Plan] = {}


def preview_plan(stack: str) -> engine.Plan:
    """The stack's preview-mode plan, captured in a child process (see the module docstring)."""
    if stack not in _PREVIEWS:
        code = ("import pathlib, pickle, sys; from infra.offline import engine; "
                "pathlib.Path(sys.argv[2]).write_bytes(pickle.dumps(engine.run(sys.argv[1], preview=True)))")
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "plan.pickle"
            try:
                completed = subprocess.run([sys.executable, "-c", code, stack, str(target)], cwd=engine.ROOT,
                                           capture_output=True, text=True, timeout=PREVIEW_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the offline engine did not finish a preview of {stack} in {PREVIEW_TIMEOUT_SECONDS}s")
            assert completed.returncode == 0, completed.stderr[-3000:]
            _PREVIEWS[stack] = pickle.loads(target.read_bytes())
    return _PREVIEWS[stack]


def plan_in(stack: str, mode: str) -> engine.Plan:
    return preview_plan(stack) if mode == "preview" else plan_for(stack)


@pytest.mark.parametrize("mode", ["update", "preview"])
@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_with_zero_mandatory_violations(pack_pool, stack, mode):
    report = pack_pool.evaluate(plan_in(stack, mode))
    assert report.mandatory_count == 0, report.render()
    assert report.passed and "✅" in report.render()


@pytest.mark.parametrize("stack", STACKS)
def test_unknowns_at_preview_are_deferred_never_blocking(pack_pool, stack):
    report = pack_pool.evaluate(preview_plan(stack))
    assert all(note.level == "advisory" for note in report.deferred)
    # Every check deferred at preview runs in update mode with the values known, and passes there.
    update = pack_pool.evaluate(plan_for(stack))
    assert update.deferred == [] and update.mandatory == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_report_covers_the_whole_plan(pack_pool, stack):
    plan = plan_for(stack)
    report = pack_pool.evaluate(plan)
    assert report.stack == stack and report.pack_name == "platform-policies"
    assert {p.name for p in report.policies} >= {"data-stores-in-isolated-subnets", "prod-stateful-resources-protected"}
    # policies/config/<stack>.json was applied
    assert report.config["autoscaling-bounds"]["maxNodes"] == {"staging": 10, "prod": 30}[stack]
    # The program declares what the policies are about: a report of zero findings must not be a report of nothing.
    types = {r.type for r in plan}
    assert {"aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "aws:ec2/subnet:Subnet",
            "aws:iam/role:Role", "pulumi:providers:aws"} <= types


def test_a_disposable_staging_database_passes_only_because_the_stack_is_staging(pack_pool):
    plan = plan_for("staging")
    database = plan.one("aws:rds/instance:Instance")
    assert not database.protect and database.props.get("deletionProtection") is not True
    staging = pack_pool.evaluate(plan)
    assert not [v for v in staging.mandatory if v.policy.startswith("prod-")]
    # The prod config file does not make it prod: only the stack's name does.
    assert not [v for v in pack_pool.evaluate(plan, pack_config=_prod_config()).mandatory if v.policy.startswith("prod-")]
    # The same plan in a pack the CLI started for a stack named prod: blocked.
    as_prod = pack_pool.evaluate(dataclasses.replace(plan, stack="prod"), stack_config=engine.stack_config("staging"))
    blocked = {(v.policy, v.urn) for v in as_prod.mandatory}
    assert ("prod-stateful-resources-protected", database.urn) in blocked
    assert ("prod-deletion-protection", database.urn) in blocked
    assert ("prod-database-multi-az", database.urn) in blocked


def _prod_config() -> dict:
    from infra.offline.policy_report import load_pack_config

    return load_pack_config(DEFAULT_PACK_DIR, "prod")


def test_evaluate_runs_a_fresh_pack_process_and_renders_like_the_cli():
    report = evaluate(plan_for("prod"))
    text = report.render()
    assert report.mandatory_count == 0, text
    assert text.splitlines()[1].strip().startswith("✅ platform-policies@v1.0.0 (local: policies)")
    assert text.splitlines()[-1].startswith("Policy summary: 0 mandatory violation(s)")
