"""The pack's servicer (policies/platform_policies/serving.py) answers exactly as the SDK's own does, only faster: every
Analyze and AnalyzeStack response over both stacks, in both modes, compared field for field with the stock servicer's
(the SDK's `_PolicyAnalyzerServicer`, unchanged)."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.proto import analyzer_pb2

from infra.offline import engine
from infra.offline import policy_report as report

from .conftest import plan_for
from .conftest_policies import POLICIES

import platform_policies  # noqa: E402 (on the path through conftest_policies)
from platform_policies import serving  # noqa: E402


def _requests(plan: engine.Plan) -> tuple[list, analyzer_pb2.AnalyzeStackRequest]:
    config = engine.stack_config(plan.stack)
    nodes = report._nodes(plan, config)
    by_urn = {n.urn: n for n in nodes}
    resources = [
        analyzer_pb2.AnalyzeRequest(urn=n.urn, type=n.type, name=n.name, properties=report._struct(n.inputs),
                                    options=report._options(n), provider=report._provider(by_urn.get(n.provider or "")))
        for n in nodes
    ]
    stack = analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            urn=n.urn, type=n.type, name=n.name, properties=report._struct(n.outputs), options=report._options(n),
            provider=report._provider(by_urn.get(n.provider or "")), parent=n.parent, dependencies=list(n.dependencies),
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                                  for k, v in n.property_dependencies.items() if v},
        )
        for n in nodes
    ])
    return resources, stack


def _answers(servicer_class, resources, stack, levels=None) -> list[str]:
    servicer = servicer_class(platform_policies.PACK_NAME, "1.0.0", POLICIES, platform_policies.core.MANDATORY)
    if levels:
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, level in levels.items():
            request.policyConfig[name].enforcementLevel = level
        servicer.Configure(request, None)
    answers = [str(servicer.Analyze(request, None)) for request in resources]
    answers += [str(servicer.Remediate(request, None)) for request in resources]
    answers.append(str(servicer.AnalyzeStack(stack, None)))
    return answers


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_the_type_indexed_servicer_answers_as_the_sdk_does(monkeypatch, stack, preview):
    plan = plan_for(stack, preview=preview)
    monkeypatch.setenv("PULUMI_PROJECT", plan.project)
    monkeypatch.setenv("PULUMI_STACK", stack)
    monkeypatch.setenv("PULUMI_DRY_RUN", "true" if preview else "false")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(report.encode_config(engine.stack_config(stack))))
    resources, stack_request = _requests(plan)
    stock = _answers(serving._STOCK, resources, stack_request)
    indexed = _answers(serving.TypeIndexedServicer, resources, stack_request)
    assert indexed == stock
    # Not vacuous: at preview the checks that wait for unknown values report deferrals, resource and stack ones alike.
    if preview:
        assert sum("diagnostics" in a for a in stock[:-1]) > 5 and "diagnostics" in stock[-1]


def test_a_policy_that_does_not_say_where_it_applies_runs_everywhere():
    assert serving.applies_to(object(), "aws:s3/bucket:Bucket")
    typed = next(p for p in POLICIES if getattr(p, "type_list", ()))
    assert serving.applies_to(typed, typed.type_list[0])
    assert not serving.applies_to(typed, "test:index:Nothing")


def test_the_pack_serves_with_it():
    source = (engine.ROOT / "policies" / "__main__.py").read_text()
    assert "serving.install()" in source and source.index("serving.install()") < source.index("PolicyPack(")
    # With the pinned SDK its own loops run (the comparisons above would pass vacuously on the SDK's fallback).
    servicer = serving.TypeIndexedServicer(platform_policies.PACK_NAME, "1.0.0", POLICIES, platform_policies.core.MANDATORY)
    assert servicer._own_loops


def test_remediate_answers_as_the_sdk_does_when_a_policy_is_at_the_remediate_level(monkeypatch):
    # The shortcut (no policy at that level: an empty answer) must give way to the SDK's loop, which reports a policy
    # without a remediation as not applicable on every resource, whatever its type.
    plan = plan_for("staging", preview=False)
    monkeypatch.setenv("PULUMI_PROJECT", plan.project)
    monkeypatch.setenv("PULUMI_STACK", "staging")
    monkeypatch.setenv("PULUMI_DRY_RUN", "false")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(report.encode_config(engine.stack_config("staging"))))
    resources, stack_request = _requests(plan)
    typed = next(p for p in POLICIES if getattr(p, "type_list", ()))
    levels = {typed.name: analyzer_pb2.REMEDIATE}
    stock = _answers(serving._STOCK, resources, stack_request, levels)
    assert _answers(serving.TypeIndexedServicer, resources, stack_request, levels) == stock
    remediations = stock[len(resources):-1]
    assert all("not_applicable" in answer and typed.name in answer for answer in remediations)
