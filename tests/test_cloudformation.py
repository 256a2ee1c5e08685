"""The plans held against AWS's published rules: each stack's AWS resources as a CloudFormation template, validated by
cfn-lint for the stack's region with the project's rules (infra/offline/cloudformation)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from infra.offline import cli, engine, mock_outputs
from infra.offline.cloudformation import check, mapping

from .conftest import STACKS, plan_for

_RESULTS: dict[str, check.Result] = {}


def result_for(stack: str) -> check.Result:
    """cfn-lint runs once per stack per session."""
    if stack not in _RESULTS:
        _RESULTS[stack] = check.check(plan_for(stack))
    return _RESULTS[stack]


@pytest.fixture(scope="session")
def results() -> dict[str, check.Result]:
    return {stack: result_for(stack) for stack in STACKS}


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_cfn_lint_for_its_region(results, stack):
    result = results[stack]
    assert result.region == engine.stack_config(stack)["aws:region"]
    assert [str(f) for f in result.failures] == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_is_converted_or_named_with_a_reason(results, stack):
    conversion = results[stack].conversion
    plan = plan_for(stack)
    aws = [r for r in plan if r.custom and r.type.startswith("aws:")]
    # Independent of the converter's own bookkeeping: the plan's AWS types against the mapping's table.
    assert sorted({r.type for r in aws} - set(mapping.SPECS)) == []
    assert conversion.unmapped_types == set()
    assert sorted(conversion.aws_urns) == sorted(r.urn for r in aws)
    converted = [r for r in aws if r.urn in conversion.logical_ids]
    assert len(converted) / len(aws) >= 0.97
    rest = [r for r in aws if r.urn not in conversion.logical_ids]
    assert {r.type for r in rest} == {"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"}
    assert all(len(conversion.skipped[r.urn]) > 40 for r in rest)


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_is_converted_or_provider_only(results, stack):
    conversion = results[stack].conversion
    assert conversion.unconverted_inputs == []
    # And independently: every wire key of every mapped resource is in its spec's table.
    for r in plan_for(stack):
        spec = mapping.SPECS.get(r.type)
        if spec is None or spec.cfn_type is None:
            continue
        for key, value in r.props.items():
            known = key in spec.props or key in spec.provider_only or key == spec.host
            empty_only = key in spec.empty_only and value in ([], {})
            assert known or empty_only, f"{r.type} input {key}"


@pytest.mark.parametrize("stack", STACKS)
def test_references_are_refs_never_the_offline_runs_ids(results, stack):
    conversion = results[stack].conversion
    assert conversion.unresolved == []
    plan = plan_for(stack)
    region = results[stack].region
    # Every ID and computed value the mocks made up (not given by the program as an input anywhere).
    given = {s for r in plan for s in _strings(r.props)}
    made_up = set()
    for r in plan:
        if not r.custom or r.type.startswith("pulumi:providers:"):
            continue
        resource_id, computed = mock_outputs.resource_outputs(r.type, r.name, r.props, region)
        made_up |= {v for v in [resource_id, *_strings(computed)] if len(v) >= 8} - given
    made_up.add(mock_outputs.ACCOUNT_ID)
    text = json.dumps(conversion.template)
    leaked = sorted(v for v in made_up if v in text)
    assert leaked == []


@pytest.mark.parametrize("stack", STACKS)
def test_references_point_at_template_resources_or_parameters(results, stack):
    template = results[stack].conversion.template
    names = set(template["Resources"]) | set(template.get("Parameters", {}))

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                assert value["Ref"] in names or value["Ref"].startswith("AWS::")
            if "Fn::GetAtt" in value:
                assert value["Fn::GetAtt"][0] in template["Resources"]
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(template["Resources"])
    refs = json.dumps(template["Resources"]).count('"Ref"') + json.dumps(template["Resources"]).count("Fn::GetAtt")
    assert refs > 100  # the plan's cross-resource values became references


def test_mapping_names_cloudformation_types_and_properties_that_exist():
    """Checked against cfn-lint's bundled registry schemas, not against the mapping itself."""
    for pulumi_type, spec in mapping.SPECS.items():
        assert mapping.cfn_type_of(pulumi_type) == spec.cfn_type
        if spec.cfn_type is None:
            assert spec.no_equivalent
            continue
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("ap-northeast-2", spec.cfn_type).schema
        for key, prop in spec.props.items():
            top = prop.cfn.split(".")[0]
            if top == "VPCGatewayAttachment":  # emitted as its own AWS::EC2::VPCGatewayAttachment
                continue
            assert top in schema["properties"], f"{pulumi_type}.{key} -> {spec.cfn_type}.{top}"
            assert mapping.cfn_property_of(pulumi_type, key) == prop.cfn
        for key in spec.provider_only:
            assert mapping.cfn_property_of(pulumi_type, key) is None
    assert mapping.cfn_type_of("aws:ec2/vpc:Vpc") == "AWS::EC2::VPC"
    assert mapping.cfn_property_of("aws:ec2/vpc:Vpc", "cidrBlock") == "CidrBlock"
    assert mapping.cfn_type_of("kubernetes:core/v1:Namespace") is None


def test_logical_ids_are_deterministic_and_unique():
    first = mapping.to_template(plan_for("staging"))
    again = mapping.to_template(engine.run("staging"))
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert all(lid.isalnum() and len(lid) <= 255 for lid in first["Resources"])


def test_every_accepted_warning_occurs_and_has_a_reason(results):
    seen = {f.rule for r in results.values() for f in r.accepted}
    assert seen == set(check.ACCEPTED_WARNINGS)
    assert all(len(reason) > 40 for reason in check.ACCEPTED_WARNINGS.values())


# --- mutations: each class of defect, put into the staging template, fails the check -------------------------------

def _first(template: dict[str, Any], cfn_type: str) -> dict[str, Any]:
    return next(v["Properties"] for v in template["Resources"].values() if v["Type"] == cfn_type)


MUTATIONS = {
    # name: (change to the template, rule expected, path fragment expected)
    "apostrophe in a rule description": (
        lambda t: _first(t, "AWS::EC2::SecurityGroupIngress").update(Description="from the cluster's nodes"),
        "E9102", "/Properties/Description"),
    "apostrophe in a group description": (
        lambda t: _first(t, "AWS::EC2::SecurityGroup").update(GroupDescription="the platform's group"),
        "E3031", "GroupDescription"),
    "node instance type not offered in the region": (
        lambda t: _first(t, "AWS::EKS::Nodegroup")["InstanceTypes"].__setitem__(0, "m6a.xlarge"),
        "E9101", "InstanceTypes/0"),
    "launch template instance type not offered in the region": (
        lambda t: _first(t, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"].update(InstanceType="m7a.xlarge"),
        "E3628", "LaunchTemplateData/InstanceType"),
    "RDS class not offered for postgres 16": (
        lambda t: _first(t, "AWS::RDS::DBInstance").update(DBInstanceClass="db.m4.large"),
        "E9106", "/Properties"),
    "cache node type not offered in the region": (
        lambda t: _first(t, "AWS::ElastiCache::ReplicationGroup").update(CacheNodeType="cache.m7a.large"),
        "E9105", "CacheNodeType"),
    "broker instance type not offered": (
        lambda t: _first(t, "AWS::AmazonMQ::Broker").update(HostInstanceType="mq.m6g.large"),
        "E3670", "HostInstanceType"),
    "backup retention out of range": (
        lambda t: _first(t, "AWS::RDS::DBInstance").update(BackupRetentionPeriod=36),
        "E3719", "BackupRetentionPeriod"),
    "desired size above max size": (
        lambda t: _first(t, "AWS::EKS::Nodegroup")["ScalingConfig"].update(DesiredSize=99),
        "E9104", "ScalingConfig"),
    "disk size beside a launch template": (
        lambda t: _first(t, "AWS::EKS::Nodegroup").update(DiskSize=50),
        "E9107", "/Properties"),
    "automatic failover with one node": (
        lambda t: _first(t, "AWS::ElastiCache::ReplicationGroup").update(
            NumCacheClusters=1, AutomaticFailoverEnabled=True),
        "E9103", "/Properties"),
}


@pytest.fixture(scope="session")
def mutated_findings(results) -> dict[str, list[check.Finding]]:
    """Each mutation on its own copy of the staging template; all linted in one cfn-lint run by placing the copies'
    mutated resources side by side under distinct logical IDs."""
    base = results["staging"].conversion.template
    combined = copy.deepcopy(base)
    owners: dict[str, str] = {}
    for index, (name, (mutate, _, _)) in enumerate(MUTATIONS.items()):
        copy_ = copy.deepcopy(base)
        mutate(copy_)
        for logical, entry in copy_["Resources"].items():
            if entry != base["Resources"][logical]:
                combined["Resources"][f"{logical}M{index}"] = entry
                owners[f"{logical}M{index}"] = name
    findings = check.lint_template(combined, "ap-northeast-2")
    by_mutation: dict[str, list[check.Finding]] = {name: [] for name in MUTATIONS}
    for f in findings:
        if f.resource in owners:
            by_mutation[owners[f.resource]].append(f)
    return by_mutation


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutation_fails_the_check(mutated_findings, name):
    _, rule, where = MUTATIONS[name]
    found = [f for f in mutated_findings[name] if f.level == "error"]
    assert any(f.rule == rule and where in f.path for f in found), [str(f) for f in mutated_findings[name]]


def test_unmutated_staging_passes(results):
    """The mutation fixture's baseline: without a change the same template has no failure."""
    assert results["staging"].failures == []


def test_command_exits_2_on_bad_input(capsys):
    assert cli.run(check.main, ["--stack", "no-such-stack"]) == 2
    assert "no-such-stack" in capsys.readouterr().err


@pytest.mark.parametrize("stack", STACKS)
def test_preview_plans_convert_without_unknown_sentinels(stack):
    """A first preview's unknown values become references to their dependency or parameters (the diff reuses
    this); the check itself judges the update plan."""
    conversion = mapping.convert(plan_for(stack, preview=True))
    assert engine.UNKNOWN not in json.dumps(conversion.template)
    assert conversion.unconverted_inputs == [] and conversion.unmapped_types == set()
    assert set(conversion.template["Resources"]) == set(results_template(stack)["Resources"])


def results_template(stack: str) -> dict[str, Any]:
    return result_for(stack).conversion.template


def test_command_refuses_an_unwritable_template_path(capsys):
    with pytest.raises(SystemExit) as exited:  # argparse's own exit 2, before any work
        cli.run(check.main, ["--stack", "staging", "--template", "/no/such/folder/t.json"])
    assert exited.value.code == 2
    assert "/no/such/folder" in capsys.readouterr().err
