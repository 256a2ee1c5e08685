"""Shared fixtures: the real program run through the offline engine, once per stack and mode per session."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.offline import engine
from infra.config import ConfigError

STACKS = ("staging", "prod")
_PLANS: dict[tuple[str, bool], engine.Plan] = {}


def plan_for(stack: str, preview: bool = False) -> engine.Plan:
    """The captured plan of a real stack file (cached: the program is deterministic)."""
    key = (stack, preview)
    if key not in _PLANS:
        _PLANS[key] = engine.run(stack, preview=preview)
    return _PLANS[key]


BOOTSTRAP = engine.ROOT / "bootstrap"
BOOTSTRAP_STACKS = ("staging", "prod")  # one per AWS account


def bootstrap_plan_for(stack: str, preview: bool = False) -> engine.Plan:
    """The captured plan of a bootstrap stack file (cached like `plan_for`)."""
    key = (f"bootstrap/{stack}", preview)
    if key not in _PLANS:
        _PLANS[key] = engine.run(stack, preview=preview, root=BOOTSTRAP)
    return _PLANS[key]


def run_mutated(stack: str, mutate: Callable[[dict[str, Any]], None], *, preview: bool = False) -> engine.Plan:
    """Run the program with a copy of the stack's config changed by `mutate`."""
    config = copy.deepcopy(engine.stack_config(stack))
    mutate(config)
    return engine.run(stack, preview=preview, config=config)


def config_error(stack: str, mutate: Callable[[dict[str, Any]], None]) -> ConfigError:
    """The ConfigError a mutated stack config raises. Fails the test if the program does not raise one, or if it
    declared any resource before raising (validation must come before the first resource)."""
    config = copy.deepcopy(engine.stack_config(stack))
    mutate(config)
    declared: list[engine.CapturedResource] = []
    with pytest.raises(ConfigError) as caught:
        engine.run(stack, config=config, captured=declared)
    assert declared == [], f"resources declared before the config error: {[r.urn for r in declared]}"
    return caught.value


def change(section: str, path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting `platform:<section>.<path>` (dotted) to `value`; `...` deletes the key."""

    def mutate(config: dict[str, Any]) -> None:
        node = config[f"platform:{section}"]
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        if value is ...:
            node.pop(last)
        else:
            node[last] = value

    return mutate


def single(error: ConfigError, path: str):
    """The one problem reported at `path` (fails unless there is exactly one)."""
    found = [p for p in error.problems if p.path == path]
    assert len(found) == 1, f"expected one problem at {path}, got {[str(p) for p in error.problems]}"
    return found[0]


@pytest.fixture(params=STACKS)
def stack(request) -> str:
    return request.param


@pytest.fixture
def plan(stack) -> engine.Plan:
    return plan_for(stack)
