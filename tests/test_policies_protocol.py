"""The pack over its real protocol: started as the Pulumi CLI starts a Python pack, spoken to in pulumirpc.Analyzer.

One pack process per module and stack tier (module-scoped sessions): the port is read from the first stdout line,
GetAnalyzerInfo lists every policy with its level, Configure takes the per-stack config file, Analyze judges one
resource at a time (secrets and unknowns in wire form), AnalyzeStack follows property dependencies.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from infra.offline.policy_report import DEFAULT_PACK_DIR, PolicyPackError, PolicyPackSession, load_pack_config

from .conftest_policies import POLICIES, core

U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
STAGING_CONFIG: dict = {}


@pytest.fixture(scope="module")
def staging_pack():
    with PolicyPackSession("staging", preview=True, stack_config=STAGING_CONFIG) as session:
        session.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
        yield session


@pytest.fixture(scope="module")
def prod_pack():
    with PolicyPackSession("prod", preview=True, stack_config={}) as session:
        session.configure(load_pack_config(DEFAULT_PACK_DIR, "prod"))
        yield session


def struct(props: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(props)
    return message


def tagged_provider() -> analyzer_pb2.AnalyzerProviderResource:
    """The program's explicit AWS provider, as the engine sends it: settings as JSON text."""
    tags = {"project": "platform", "environment": "staging", "managed-by": "pulumi", "owner": "team", "cost-centre": "cc"}
    return analyzer_pb2.AnalyzerProviderResource(
        urn="urn:pulumi:staging::platform::pulumi:providers:aws::aws", type="pulumi:providers:aws", name="aws",
        properties=struct({"region": "ap-northeast-2", "defaultTags": json.dumps({"tags": tags})}))


def analyze(session: PolicyPackSession, type_: str, props: dict, name: str = "subject", protect: bool = False,
            provider: analyzer_pb2.AnalyzerProviderResource | None = None) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    urn = f"urn:pulumi:{session.stack}::platform::{type_}::{name}"
    provider = provider or (tagged_provider() if type_.startswith("aws:") else None)
    response = session.stub.Analyze(analyzer_pb2.AnalyzeRequest(
        urn=urn, type=type_, name=name, properties=struct(props),
        options=analyzer_pb2.AnalyzerResourceOptions(protect=protect), provider=provider), timeout=60)
    return list(response.diagnostics)


def stack_resource(type_: str, name: str, props: dict, deps: dict[str, list[str]] | None = None) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        urn=urn_of(type_, name), type=type_, name=name, properties=struct(props),
        parent="urn:pulumi:staging::platform::pulumi:pulumi:Stack::platform-staging",
        dependencies=sorted({u for urns in (deps or {}).values() for u in urns}),
        propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in (deps or {}).items()})


def urn_of(type_: str, name: str) -> str:
    return f"urn:pulumi:staging::platform::{type_}::{name}"


def mandatory(diagnostics) -> list:
    return [d for d in diagnostics if d.enforcementLevel == analyzer_pb2.MANDATORY]


# --- starting and describing ------------------------------------------------------------------------------------------


def test_the_pack_reports_its_port_and_prints_nothing_else(staging_pack):
    # Exercise the pack first: nothing any policy does may reach stdout, where the CLI reads the port.
    analyze(staging_pack, "aws:rds/instance:Instance", {"publiclyAccessible": True})
    staging_pack.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[]), timeout=60)
    assert staging_pack.stray_stdout == []


def test_analyzer_info_lists_every_policy_with_level_and_description(staging_pack):
    info = staging_pack.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    assert info.name == "platform-policies" and info.supportsConfig
    by_name = {p.name: p for p in info.policies}
    assert set(by_name) == {p.name for p in POLICIES}
    for policy in POLICIES:
        served = by_name[policy.name]
        assert served.description == policy.description
        assert served.remediation_steps == policy.remediation_steps
        assert served.enforcementLevel == (analyzer_pb2.MANDATORY if policy.enforcement_level.value == "mandatory"
                                           else analyzer_pb2.ADVISORY)
        kind = analyzer_pb2.POLICY_TYPE_STACK if policy.kind == "stack" else analyzer_pb2.POLICY_TYPE_RESOURCE
        assert served.policy_type == kind


def test_the_report_uses_the_version_in_pulumipolicy_yaml(staging_pack):
    assert staging_pack.version == "1.0.0"


def test_importing_the_policies_prints_nothing_and_main_only_assembles():
    completed = subprocess.run([sys.executable, "-c", "import platform_policies"], cwd=DEFAULT_PACK_DIR,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    tree = ast.parse((DEFAULT_PACK_DIR / "__main__.py").read_text())
    statements = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
    # A docstring, the servicer's installation and the PolicyPack(...) call: no policy logic in the entry point.
    assert [type(s).__name__ for s in statements] == ["Expr", "Expr", "Expr"]
    assert ast.unparse(statements[1]) == "serving.install()"
    assert statements[2].value.func.id == "PolicyPack"


def test_a_pack_that_prints_before_its_port_is_refused(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (tmp_path / "__main__.py").write_text("print('hello from a careless policy')\n")
    with pytest.raises(PolicyPackError, match="where the CLI reads its port"):
        PolicyPackSession("staging", preview=True, stack_config={}, pack_dir=tmp_path).start()


# --- configuration -------------------------------------------------------------------------------------------------------


def test_config_files_name_real_policies_with_valid_properties(staging_pack):
    for stack in ("staging", "prod"):
        reconciled = staging_pack.reconcile(load_pack_config(DEFAULT_PACK_DIR, stack))
        assert reconciled["autoscaling-bounds"][1]["maxNodes"] == {"staging": 10, "prod": 30}[stack]
        # No config states the tier any more: the stack's name alone decides it.
        assert not any("environment" in props for _, props in reconciled.values())


@pytest.mark.parametrize("config, problem", [
    ({"prod-final-snapshot": {"minimumBackupRetentionDays": 14}}, "no such policy"),
    ({"prod-final-snapshots": {"environment": "staging"}}, "no such config property"),
    ({"pss-privileged": {"exceptions": {"resource": "x"}}}, "expected array"),
    ({"prod-backups-retained": {"minimumBackupRetentionDays": "14"}}, "expected integer"),
    ({"prod-backups-retained": {"minimumBackupDays": 14}}, "no such config property"),
    ({"log-retention": "blocking"}, "not an enforcement level"),
])
def test_an_invalid_pack_config_is_refused(staging_pack, config, problem):
    with pytest.raises(PolicyPackError, match=problem):
        staging_pack.reconcile(config)


def test_only_the_stack_name_sets_the_tier(staging_pack, prod_pack):
    unprotected = {"engine": "postgres", "deletionProtection": False}

    def prod_rules(diagnostics) -> set[str]:
        return {d.policyName for d in mandatory(diagnostics) if d.policyName.startswith("prod-")}

    # A staging stack: the disposable database passes the prod rules, with either stack's config file.
    for config in ("staging", "prod"):
        staging_pack.configure(load_pack_config(DEFAULT_PACK_DIR, config))
        try:
            assert prod_rules(analyze(staging_pack, "aws:rds/instance:Instance", unprotected)) == set()
        finally:
            staging_pack.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
    # A prod stack (PULUMI_STACK=prod) given the staging config: still blocked.
    prod_pack.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
    try:
        names = prod_rules(analyze(prod_pack, "aws:rds/instance:Instance", unprotected))
    finally:
        prod_pack.configure(load_pack_config(DEFAULT_PACK_DIR, "prod"))
    assert {"prod-stateful-resources-protected", "prod-deletion-protection"} <= names


def test_the_stack_config_cannot_make_a_stack_prod_or_not():
    unprotected = {"engine": "postgres", "deletionProtection": False}
    for stack, claimed, blocked in (("staging", "prod", False), ("prod", "staging", True)):
        with PolicyPackSession(stack, preview=True, stack_config={"platform:environment": claimed}) as session:
            session.configure(load_pack_config(DEFAULT_PACK_DIR, stack))
            names = {d.policyName for d in mandatory(analyze(session, "aws:rds/instance:Instance", unprotected))}
            assert ("prod-deletion-protection" in names) is blocked, (stack, names)


def test_enforcement_level_can_be_changed_by_config(staging_pack):
    staging_pack.configure({"security-groups-no-open-ingress": "advisory"})
    try:
        diagnostics = analyze(staging_pack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                              {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22})
    finally:
        staging_pack.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
    assert diagnostics and all(d.enforcementLevel == analyzer_pb2.ADVISORY for d in diagnostics)


# --- Analyze ------------------------------------------------------------------------------------------------------------


def test_analyze_denies_with_a_message_naming_resource_and_fix(staging_pack):
    diagnostics = mandatory(analyze(staging_pack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                                    {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22},
                                    name="bastion-ssh"))
    assert [d.policyName for d in diagnostics] == ["security-groups-no-open-ingress"]
    message = diagnostics[0].message
    assert message.startswith(diagnostics[0].description)
    assert 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule "bastion-ssh"' in message
    assert "port 22" in message and "Remediation:" in message
    assert diagnostics[0].policyPackName == "platform-policies"


def test_analyze_allows_the_near_identical_resource(staging_pack):
    assert analyze(staging_pack, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                   {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}) == []


def test_secret_marked_inputs_are_judged_by_their_value(staging_pack):
    diagnostics = mandatory(analyze(staging_pack, "aws:rds/instance:Instance", {
        "engine": "postgres", "storageEncrypted": True, "password": {**SECRET, "value": "hunter2hunter2"}}))
    assert "rds-managed-master-password" in {d.policyName for d in diagnostics}


def test_an_unknown_value_is_an_advisory_note_not_a_pass_or_a_block(staging_pack):
    diagnostics = analyze(staging_pack, "aws:iam/rolePolicy:RolePolicy", {"policy": U, "role": U})
    notes = [d for d in diagnostics if d.policyName == "iam-no-wildcard-actions"]
    assert len(notes) == 1 and notes[0].enforcementLevel == analyzer_pb2.ADVISORY
    assert "can't run policy 'iam-no-wildcard-actions'" in notes[0].message and "during preview" in notes[0].message


def test_odd_input_is_a_violation_not_a_grpc_error(staging_pack):
    diagnostics = mandatory(analyze(staging_pack, "aws:iam/policy:Policy", {"policy": "{\"Statement\": 42}"}))
    assert diagnostics and all("malformed" in d.message for d in diagnostics)


def test_provider_settings_are_checked_as_the_engine_sends_them(staging_pack):
    tags = json.dumps({"tags": {"project": "platform"}})
    diagnostics = analyze(staging_pack, "pulumi:providers:aws", {"region": "ap-northeast-2", "defaultTags": tags,
                                                                  "accessKey": {**SECRET, "value": "AKIAIOSFODNN7EXAMPLE"}})
    names = {(d.policyName, d.enforcementLevel) for d in diagnostics}
    assert ("no-static-provider-credentials", analyzer_pb2.MANDATORY) in names
    assert ("required-tags", analyzer_pb2.ADVISORY) in names
    default = analyzer_pb2.AnalyzerProviderResource(
        urn="urn:pulumi:staging::platform::pulumi:providers:aws::default_7_51_1", type="pulumi:providers:aws",
        name="default_7_51_1", properties=struct({"region": "ap-northeast-2"}))
    diagnostics = analyze(staging_pack, "aws:sqs/queue:Queue", {"kmsMasterKeyId": U}, provider=default)
    assert [d.policyName for d in diagnostics] == ["required-tags"]


# --- AnalyzeStack --------------------------------------------------------------------------------------------------------


def _graph(route_to_igw: bool) -> list[analyzer_pb2.AnalyzerResource]:
    igw = ("aws:ec2/internetGateway:InternetGateway", "igw")
    subnet = ("aws:ec2/subnet:Subnet", "data-0")
    table = ("aws:ec2/routeTable:RouteTable", "data-rt")
    group = ("aws:rds/subnetGroup:SubnetGroup", "db")
    resources = [
        stack_resource(*igw, {"vpcId": U}),
        stack_resource(*subnet, {"vpcId": U, "cidrBlock": "10.0.12.0/24"}),
        stack_resource(*table, {"vpcId": U}),
        stack_resource("aws:ec2/routeTableAssociation:RouteTableAssociation", "data-0", {"subnetId": U, "routeTableId": U},
                       {"subnetId": [urn_of(*subnet)], "routeTableId": [urn_of(*table)]}),
        stack_resource(*group, {"subnetIds": [U]}, {"subnetIds": [urn_of(*subnet)]}),
        stack_resource("aws:rds/instance:Instance", "orders", {"dbSubnetGroupName": U, "engine": "postgres"},
                       {"dbSubnetGroupName": [urn_of(*group)]}),
    ]
    if route_to_igw:
        resources.append(stack_resource("aws:ec2/route:Route", "data-out", {"routeTableId": U, "gatewayId": U,
                                                                          "destinationCidrBlock": "0.0.0.0/0"},
                                        {"routeTableId": [urn_of(*table)], "gatewayId": [urn_of(*igw)]}))
    return resources


def test_analyze_stack_follows_property_dependencies_to_the_internet_gateway(staging_pack):
    response = staging_pack.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=_graph(True)), timeout=60)
    found = [d for d in mandatory(response.diagnostics) if d.policyName == "data-stores-in-isolated-subnets"]
    assert len(found) == 1
    assert found[0].urn == urn_of("aws:rds/instance:Instance", "orders")
    assert "route data-out to an internet gateway" in found[0].message


def test_analyze_stack_passes_the_isolated_data_tier(staging_pack):
    response = staging_pack.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=_graph(False)), timeout=60)
    assert not [d for d in response.diagnostics if d.policyName == "data-stores-in-isolated-subnets"]


def test_remediate_changes_nothing(staging_pack):
    response = staging_pack.stub.Remediate(analyzer_pb2.AnalyzeRequest(
        urn=urn_of("aws:s3/bucket:Bucket", "b"), type="aws:s3/bucket:Bucket", name="b", properties=struct({})), timeout=60)
    assert list(response.remediations) == []


def test_handshake_is_unimplemented_like_the_cli_expects(staging_pack):
    with pytest.raises(grpc.RpcError) as error:
        staging_pack.stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(engine_address="127.0.0.1:1"), timeout=60)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_unit_level_tier_matches_the_process_environment(staging_pack):
    env = staging_pack.environment()
    assert env["PULUMI_STACK"] == "staging" and env["PULUMI_DRY_RUN"] == "true"
    assert core.Context(config={}, env=env).is_prod is False


# --- plans as the offline engine captures them -----------------------------------------------------------------------------


def test_resource_references_reach_the_pack_as_the_engine_sends_them(staging_pack):
    from infra.offline.engine import CapturedResource, Plan
    from infra.offline.policy_report import RESOURCE_REFERENCE_SIG, _downgrade_references

    ref = {"4dabf18193072939515e22adb298388d": RESOURCE_REFERENCE_SIG, "urn": "urn:pulumi:staging::platform::x::y",
           "id": "sg-0123", "packageVersion": "7.51.1"}
    component = {"4dabf18193072939515e22adb298388d": RESOURCE_REFERENCE_SIG, "urn": "urn:pulumi:staging::platform::c::d"}
    assert _downgrade_references({"a": [ref], "b": component, "c": {**ref, "id": ""}}) == {
        "a": ["sg-0123"], "b": "urn:pulumi:staging::platform::c::d", "c": U}
    # Through the protocol: without the downgrade the SDK would fail on the unknown signature.
    options = {"protect": False}
    rule = CapturedResource(
        urn=urn_of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "open"),
        type="aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name="open", custom=True, remote=False,
        parent=None, provider=None, options=options, dependencies=(), property_dependencies={},
        inputs={"securityGroupId": ref, "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 3389.0, "toPort": 3389.0})
    report = staging_pack.evaluate(Plan(stack="staging", preview=True, resources=[rule], outputs={}))
    assert [v.policy for v in report.mandatory] == ["security-groups-no-open-ingress"]
    # The rule used the default AWS provider, which the engine would have created (untagged): the advisory says so.
    assert {v.policy for v in report.advisory} == {"required-tags"}
    assert any("uses the default AWS provider" in v.message and v.urn == rule.urn for v in report.advisory)
    assert any(v.resource.startswith("pulumi:providers:aws: default_") for v in report.advisory)
