"""Shared helpers and fixtures of the policy-pack tests (`tests/test_policies_*.py` import from here).

- Unit helpers build `platform_policies.core.Resource` / `Stack` values and run one policy's check on them.
- `plan_for` caches the real program's captured plan per stack and mode; `run_program` runs the real program with a
  mutation: a changed stack config, changed component args (`cfg_change`, applied to the typed config the program
  hands its components, so config validation is bypassed the way a code change would bypass it), or a stack
  transformation that rewrites the inputs of the resources a component declares (`forbid`).
- `pack_pool` (session-scoped) keeps one pack process per stack, mode and stack config, so the whole suite starts a
  handful of processes, not one per test.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pulumi
import pytest

from infra.offline import engine
from infra.offline.policy_report import DEFAULT_PACK_DIR, PolicyPackSession, PolicyReport  # noqa: F401 (re-exported)

if str(DEFAULT_PACK_DIR) not in sys.path:
    sys.path.insert(0, str(DEFAULT_PACK_DIR))

from platform_policies import POLICIES, core  # noqa: E402

POLICY_BY_NAME = {p.name: p for p in POLICIES}
STACKS = ("staging", "prod")

# --- unit helpers ----------------------------------------------------------------------------------------------------


def resource(type_: str, props: Mapping[str, Any] | None = None, *, name: str = "subject", protect: bool = False,
             provider: core.Provider | None = None) -> core.Resource:
    urn = f"urn:pulumi:test::platform::{type_}::{name}"
    return core.Resource(type=type_, name=name, urn=urn, props=core.plain(dict(props or {})), protect=protect,
                         provider=provider)


def link(subject: core.Resource, prop: str, *sources: core.Resource) -> core.Resource:
    """Record that `subject.prop` came from `sources` (a property dependency, as the engine reports it)."""
    subject.property_dependencies.setdefault(prop, []).extend(sources)
    return subject


def context(environment: str | None = "staging", **config: Any) -> core.Context:
    """A check context for a stack named `environment` (None: nothing known, which the pack treats as prod)."""
    env = {} if environment is None else {"PULUMI_STACK": environment}
    return core.Context(config=config, env=env)


def check(policy_name: str, subject: core.Resource, *, stack: core.Stack | None = None,
          ctx: core.Context | None = None) -> core.Findings:
    policy = POLICY_BY_NAME[policy_name]
    ctx = ctx or context()
    assert policy.applies(subject.type), f"{policy_name} does not apply to {subject.type}"
    if policy.kind == "stack":
        return core.collect(policy.check(subject, stack or core.Stack([subject]), ctx))
    return core.collect(policy.check(subject, ctx))


# --- the real program, plain and mutated --------------------------------------------------------------------------------

from .conftest import plan_for  # noqa: E402,F401 (one plan cache for the whole suite)


class Forbid:
    """A stack transformation that rewrites the inputs of the first `count` resources of a type (Python arg names)."""

    def __init__(self, type_: str, change: Callable[[dict[str, Any]], None], *, count: int = 1,
                 where: Callable[[Any], bool] = lambda args: True, opts: pulumi.ResourceOptions | None = None):
        self.type = type_
        self.change = change
        self.count = count
        self.where = where
        self.opts = opts
        self.hits: list[str] = []

    def __call__(self, args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != self.type or len(self.hits) >= self.count or not self.where(args):
            return None
        props = dict(args.props)
        self.change(props)
        self.hits.append(args.name)
        opts = pulumi.ResourceOptions.merge(args.opts, self.opts) if self.opts else args.opts
        return pulumi.ResourceTransformationResult(props, opts)


def run_program(
    stack: str,
    *,
    preview: bool = False,
    config_change: Callable[[dict[str, Any]], None] | None = None,
    cfg_change: Callable[[Any], Any] | None = None,
    transforms: Iterable[Callable[..., Any]] = (),
    extra: Callable[[Any], None] | None = None,
) -> tuple[engine.Plan, dict[str, Any]]:
    """The real program with one mutation; returns the plan and the stack config it ran with.

    `extra(cfg)` declares something more inside the real program, after everything it declares itself (for the
    forbidden patterns the program has no resource of that kind to mutate into, e.g. an IAM user).
    """
    from infra import program  # imported late: the program's modules are the other teams' and may change

    config = copy.deepcopy(engine.stack_config(stack))
    if config_change:
        config_change(config)
    original = program.build
    transforms = list(transforms)

    def build(cfg: Any) -> None:
        for transform in transforms:
            pulumi.runtime.register_stack_transformation(transform)
        original(cfg_change(cfg) if cfg_change else cfg)
        if extra:
            extra(cfg)

    program.build = build
    try:
        plan = engine.run(stack, preview=preview, config=config)
    finally:
        program.build = original
    for transform in transforms:
        if isinstance(transform, Forbid):
            assert transform.hits, f"the program declares no {transform.type} to mutate"
    return plan, config


# --- pack processes -------------------------------------------------------------------------------------------------------


class PackPool:
    def __init__(self) -> None:
        self.sessions: dict[tuple[str, bool, str], PolicyPackSession] = {}

    def session(self, stack: str, preview: bool, stack_config: Mapping[str, Any] | None = None) -> PolicyPackSession:
        import json

        config = dict(engine.stack_config(stack) if stack_config is None else stack_config)
        key = (stack, preview, json.dumps(config, sort_keys=True, default=str))
        if key not in self.sessions:
            self.sessions[key] = PolicyPackSession(stack, preview=preview, stack_config=config).start()
        return self.sessions[key]

    def evaluate(self, plan: engine.Plan, stack_config: Mapping[str, Any] | None = None,
                 pack_config: Mapping[str, Any] | None = None) -> PolicyReport:
        return self.session(plan.stack, plan.preview, stack_config).evaluate(plan, pack_config)

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()


@pytest.fixture(scope="session")
def pack_pool():
    pool = PackPool()
    yield pool
    pool.close()
