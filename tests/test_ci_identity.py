"""GitHub's identity in the account (`components/ci_identity.py`): trust pinned to one repository environment,
deploy permissions scoped to one stack, preview permissions read-only.

Independent references: the expected subjects come from the bootstrap stack files read here with a plain YAML
parser; the access level of every action comes from policy_sentry's IAM database (AWS's service authorization
reference), not from the component's own lists.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from functools import cache

import pytest
import yaml
from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.all import get_all_actions

from components.ci_identity import BASELINE_WRITES
from infra.offline import engine

from .conftest import BOOTSTRAP, BOOTSTRAP_STACKS, bootstrap_plan_for

ROLE = "aws:iam/role:Role"
MANAGED_POLICY_LIMIT = 6144  # characters, whitespace excluded (IAM quotas)


@pytest.fixture(params=BOOTSTRAP_STACKS)
def stack(request):
    return request.param


@pytest.fixture
def plan(stack):
    return bootstrap_plan_for(stack)


def stack_file(stack: str) -> dict:
    return yaml.safe_load((BOOTSTRAP / f"Pulumi.{stack}.yaml").read_text())["config"]


def role(plan, name: str):
    [found] = [r for r in plan.of_type(ROLE) if r.props.get("name") == name]
    return found


def documents_of(plan, role_resource) -> list[dict]:
    """Every permissions document reaching the role: inline policies and attached managed policies of the stack."""
    docs = []
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        if role_resource.urn in policy.property_dependencies.get("role", ()):
            docs.append(json.loads(policy.props["policy"]))
    for attachment in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        if role_resource.urn in attachment.property_dependencies.get("role", ()):
            for managed in plan.depends_on(attachment, "policyArn"):
                docs.append(json.loads(managed.props["policy"]))
    return docs


def statements(docs: list[dict], effect: str) -> list[dict]:
    return [s for d in docs for s in d["Statement"] if s["Effect"] == effect]


@cache
def actions_of(service: str) -> tuple[str, ...]:
    return tuple(sorted(a for a in get_all_actions() if a.split(":", 1)[0].lower() == service))


@cache
def expand(pattern: str) -> tuple[str, ...]:
    """The IAM actions an action pattern matches (case-insensitive, as IAM matches them)."""
    service = pattern.split(":", 1)[0].lower()
    return tuple(a for a in actions_of(service) if fnmatch.fnmatch(a.lower(), pattern.lower()))


def access_level(action: str) -> str:
    service, name = action.split(":", 1)
    for entry in _action_data(service, name):
        if entry["action"].lower() == action.lower():
            return entry["access_level"]
    raise LookupError(action)


@cache
def _action_data(service: str, name: str) -> tuple:
    return tuple(get_action_data(service, name)[service])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_the_github_oidc_provider(plan):
    [provider] = plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.props["url"] == "https://token.actions.githubusercontent.com"
    assert provider.props["clientIdLists"] == ["sts.amazonaws.com"]


def test_every_role_trusts_exactly_one_repository_environment(plan, stack):
    config = stack_file(stack)
    repo = "{owner}/{repository}".format(**config["platform-bootstrap:github"])
    expected = {}
    for env, settings in config["platform-bootstrap:environments"].items():
        expected[f"platform-{env}-deploy"] = settings["deployEnvironment"]
        if "previewEnvironment" in settings:
            expected[f"platform-{env}-preview"] = settings["previewEnvironment"]
    roles = {r.props["name"]: r for r in plan.of_type(ROLE) if r.props["name"].endswith(("-deploy", "-preview"))}
    assert set(roles) == set(expected)
    [provider] = plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    for name, environment in expected.items():
        [statement] = json.loads(roles[name].props["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": f"repo:{repo}:environment:{environment}",
            }
        }


def test_the_prod_account_has_no_preview_role():
    plan = bootstrap_plan_for("prod")
    assert not [r for r in plan.of_type(ROLE) if r.props["name"].endswith("-preview")]
    assert plan.outputs["previewRoleArns"] == {}


def test_the_preview_role_is_read_only_and_reads_only_its_own_state():
    plan = bootstrap_plan_for("staging")
    preview = role(plan, "platform-staging-preview")
    [attachment] = [a for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                    if preview.urn in a.property_dependencies.get("role", ())]
    assert attachment.props["policyArn"] == "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    docs = documents_of(plan, preview)
    bucket = plan.one("aws:s3/bucket:Bucket", "state-buckets-state").outputs["arn"]
    # Decrypting the stack's secrets and its state objects is the one use of a key a preview needs; IAM's database
    # files kms:Decrypt under Write, so it is allowed here by name, on exactly those two keys.
    own_keys = {plan.one("aws:kms/key:Key", "state-secrets-staging-key").outputs["arn"],
                plan.one("aws:kms/key:Key", "state-buckets-kms-key").outputs["arn"]}
    for statement in statements(docs, "Allow"):
        for action in as_list(statement["Action"]):
            for concrete in expand(action):
                if concrete == "kms:Decrypt":
                    assert set(as_list(statement["Resource"])) <= own_keys
                    continue
                assert access_level(concrete) in ("Read", "List"), f"{concrete} is {access_level(concrete)}"
    object_arns = [r for s in statements(docs, "Allow") for r in as_list(s["Resource"]) if r.startswith(bucket + "/")]
    assert object_arns and all(".pulumi/stacks/platform/staging.json" in r or r.endswith("/.pulumi/meta.yaml")
                               for r in object_arns)
    denied = {a for s in statements(docs, "Deny") if bucket + "/*" in as_list(s["Resource"]) for a in as_list(s["Action"])}
    writes = {a for a in expand("s3:*Object*") if access_level(a) == "Write"}
    assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= denied
    assert not [a for s in statements(docs, "Allow") for a in as_list(s["Action"]) if a in writes]


def test_a_shared_account_keeps_prod_secrets_away_from_the_staging_roles():
    config = copy.deepcopy(engine.stack_config("staging", BOOTSTRAP))
    config["platform-bootstrap:environments"]["prod"] = {"deployEnvironment": "production"}
    plan = engine.run("staging", config=config, root=BOOTSTRAP)
    [prod_key] = [k for k in plan.of_type("aws:kms/key:Key") if k.name == "state-secrets-prod-key"]
    prod_key_arn = prod_key.outputs["arn"]
    for name in ("platform-staging-preview", "platform-staging-deploy"):
        docs = documents_of(plan, role(plan, name))
        allowed = [r for s in statements(docs, "Allow") for r in as_list(s["Resource"])]
        assert prod_key_arn not in allowed, name
        assert any(prod_key_arn in as_list(s["Resource"]) and "kms:Decrypt" in s["Action"]
                   for s in statements(docs, "Deny")), name
    # Prod's own deploy role gets prod's key, and only staging's roles were given a preview role.
    prod_docs = documents_of(plan, role(plan, "platform-prod-deploy"))
    assert any(prod_key_arn in as_list(s["Resource"]) for s in statements(prod_docs, "Allow"))


def test_the_deploy_role_writes_only_its_own_stacks_state(plan, stack):
    env = "prod" if stack == "prod" else "staging"
    docs = documents_of(plan, role(plan, f"platform-{env}-deploy"))
    bucket = plan.one("aws:s3/bucket:Bucket", "state-buckets-state").outputs["arn"]
    for statement in statements(docs, "Allow"):
        for resource in as_list(statement["Resource"]):
            if resource.startswith(bucket + "/"):
                assert f"/platform/{env}" in resource or resource.endswith("/.pulumi/meta.yaml"), resource


def test_the_deploy_policies_fit_managed_policy_limits_and_name_real_actions(plan, stack):
    env = "prod" if stack == "prod" else "staging"
    policies = [p for p in plan.of_type("aws:iam/policy:Policy") if p.props["name"].startswith(f"platform-{env}-deploy-")]
    assert len(policies) == 2
    for policy in policies:
        text = policy.props["policy"]
        assert len("".join(text.split())) <= MANAGED_POLICY_LIMIT, policy.name
        for statement in json.loads(text)["Statement"]:
            for action in as_list(statement["Action"]):
                if action != "iam:*":
                    assert expand(action), f"{policy.name}: {action} matches no IAM action"


def test_what_the_deploy_role_may_do_to_the_baseline_is_denied(plan, stack):
    env = "prod" if stack == "prod" else "staging"
    docs = documents_of(plan, role(plan, f"platform-{env}-deploy"))
    allowed = {a for s in statements(docs, "Allow") for pattern in as_list(s["Action"]) for a in expand(pattern)}
    denied = {a for s in statements(docs, "Deny") if "*" in as_list(s["Resource"]) for a in as_list(s["Action"])}
    for action in BASELINE_WRITES:
        assert expand(action), f"{action} is not an IAM action"
    assert {"iam:CreateUser", "iam:CreateAccessKey", "cloudtrail:StopLogging", "guardduty:DeleteDetector"} <= denied
    # Whatever the allowed families would let it do to the baseline, an explicit deny takes back.
    assert not {a for a in allowed if a in BASELINE_WRITES} - denied
    assert not any(a.startswith(("organizations:", "account:", "cloudtrail:", "guardduty:")) for a in allowed)


def test_an_existing_oidc_provider_is_used_not_created():
    config = copy.deepcopy(engine.stack_config("prod", BOOTSTRAP))
    existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    config["platform-bootstrap:github"]["oidcProviderArn"] = existing
    plan = engine.run("prod", config=config, root=BOOTSTRAP)
    assert not plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    [statement] = json.loads(role(plan, "platform-prod-deploy").props["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": existing}


def wildcard_only(action: str) -> bool:
    """IAM's database lists no resource type for the action: only `Resource: "*"` can grant it."""
    service, name = action.split(":", 1)
    return all(entry["resource_arn_format"] == "*" for entry in _action_data(service, name))


def test_what_aws_authorizes_only_on_star_is_granted_on_star():
    from components.ci_identity import TAGGED_CREATES, UNSCOPED_READS, UNSCOPED_WRITES

    for action in TAGGED_CREATES:
        assert wildcard_only(action), f"{action} can be scoped to an ARN"
        service, name = action.split(":", 1)
        keys = {k for entry in _action_data(service, name) for k in entry["condition_keys"]}
        assert "aws:RequestTag/${TagKey}" in keys, f"{action} does not take aws:RequestTag"
    for pattern in UNSCOPED_READS:
        assert all(access_level(a) in ("Read", "List") for a in expand(pattern)), pattern
    for action in UNSCOPED_WRITES:
        assert wildcard_only(action), f"{action} can be scoped to an ARN"


def test_every_resource_kind_the_platform_creates_is_creatable(stack):
    """For each AWS resource type in the platform's plan, the `<service>:Create<Kind>` call, where IAM authorizes it
    on `*` only, is among the tagged creates: otherwise the deploy role's ARN-scoped grant could never allow it."""
    from components.ci_identity import TAGGED_CREATES

    from .conftest import plan_for

    kinds = {r.type for r in plan_for(stack) if r.type.startswith("aws:")}
    missing = []
    for type_ in sorted(kinds):
        service, kind = type_.split(":")[1].split("/")[0], type_.rsplit(":", 1)[1]
        candidate = f"{service}:Create{kind}"
        if expand(candidate) and wildcard_only(expand(candidate)[0]) and candidate not in TAGGED_CREATES:
            missing.append(candidate)
    assert not missing, missing
    assert "acm:RequestCertificate" in TAGGED_CREATES  # certificates are requested, not created
    deploy = bootstrap_plan_for(stack).of_type("aws:iam/policy:Policy")
    [state_doc] = [json.loads(p.props["policy"]) for p in deploy if p.props["name"].endswith("-deploy-state")]
    [tagged] = [s for s in state_doc["Statement"] if s["Sid"] == "CreatesTaggedForThisStack"]
    assert tagged["Condition"] == {"StringEquals": {"aws:RequestTag/stack": stack}}
