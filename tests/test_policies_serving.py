"""The pack's servicer (policies/platform_policies/serving.py) answers exactly as the SDK's own does, only faster: every
Analyze and AnalyzeStack response over both stacks, in both modes, compared field for field with the stock servicer's
(the SDK's `_PolicyAnalyzerServicer`, unchanged)."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as sdk_policy

from infra.offline import engine
from infra.offline import policy_report as report

from .conftest import plan_for
from .conftest_policies import POLICIES

import platform_policies  # noqa: E402 (on the path through conftest_policies)
from platform_policies import serving  # noqa: E402


def _requests(plan: engine.Plan) -> tuple[list, analyzer_pb2.AnalyzeStackRequest]:
    return report.analysis_requests(plan, engine.stack_config(plan.stack))


def _servicer(servicer_class):
    """The servicer as the pack builds it (policies/__main__.py)."""
    return servicer_class(platform_policies.PACK_NAME, "1.0.0", POLICIES, platform_policies.core.MANDATORY)


def _answers(servicer_class, resources, stack, levels=None) -> list[str]:
    servicer = _servicer(servicer_class)
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
    servicer = _servicer(serving.TypeIndexedServicer)
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


def test_a_stack_resource_is_converted_when_a_policy_first_reads_it(monkeypatch):
    # The stack policies read a few types' properties: converting every resource's up front was most of AnalyzeStack.
    plan = plan_for("staging", preview=False)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(report.encode_config(engine.stack_config("staging"))))
    _, stack_request = _requests(plan)
    servicer = _servicer(serving.TypeIndexedServicer)
    resources = servicer._stack_resources(stack_request)
    assert all(r._props is None for r in resources)
    bucket = next(i for i, r in enumerate(resources) if r.resource_type == "aws:s3/bucket:Bucket")
    read = resources[bucket].props
    assert resources[bucket].props is read
    # What the SDK's own conversion of that resource gives.
    stock = _servicer(serving._STOCK)
    expected = stock._get_provider_resource(stack_request.resources[bucket])
    assert platform_policies.core.plain(read) == platform_policies.core.plain(
        sdk_policy.unknown_checking_proxy(sdk_policy.deserialize_properties(
            sdk_policy.json_format.MessageToDict(stack_request.resources[bucket].properties))))
    assert platform_policies.core.plain(resources[bucket].provider.props) == platform_policies.core.plain(expected.props)
    assert sum(r._props is not None for r in resources) == 1
    # Resources that carry the same provider share its one conversion.
    assert len({id(r.provider) for r in resources if r.provider is not None}) < len(resources) / 10


def test_the_stack_tier_converts_a_resource_when_a_check_first_reads_it():
    core = platform_policies.core
    props = {"bucket": "logs", "tags": {"team": "platform"}}
    source = sdk_policy.PolicyResource("aws:s3/bucket:Bucket", sdk_policy.unknown_checking_proxy(props), "urn:b", "b",
                                       None, None, None, [], {})
    stack = core.Stack.from_args(sdk_policy.StackValidationArgs([source], None))
    resource = stack.resources[0]
    assert resource._props is None
    assert resource.get("tags", "team") == "platform" and resource.props == props
    assert resource.props is resource.props
