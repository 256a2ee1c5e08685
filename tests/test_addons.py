"""The platform add-ons in both stacks: each a Helm release at the exact version of the stack's one table, on the
system nodes, through the cluster's provider; each AWS-calling add-on with its own role whose trust names exactly its
service account and whose policy has no wildcard beyond the listed exceptions; the ClusterSecretStore confined to the
stack's secrets path; and the ALB certificate validated by DNS in the stack's zone."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from components.addon_policies import UNSCOPED_STATEMENTS, WILDCARD_ACTIONS, load_balancer_controller_policy
from components.addons import CHARTS, SECRET_STORE, SECRET_STORE_LABEL
from components.certificate import SSL_POLICY
from components.irsa import ROLE_ARN_ANNOTATION, STS_AUDIENCE
from infra.offline import engine

from .conftest import plan_for, run_mutated

RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"
K8S_PROVIDER = "pulumi:providers:kubernetes"
CLUSTER = "eks:index:Cluster"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
EXACT = r"v?[0-9]+\.[0-9]+\.[0-9]+"


def addons_config(stack: str) -> dict:
    return engine.stack_config(stack)["platform:addons"]


def releases(plan: engine.Plan) -> dict[str, engine.CapturedResource]:
    return {r.props["name"]: r for r in plan.of_type(RELEASE)}


def trust_subject(plan: engine.Plan, role: engine.CapturedResource) -> str:
    issuer = plan.outputs["oidcProviderArn"].split("oidc-provider/", 1)[1]
    (statement,) = json.loads(role.props["assumeRolePolicy"])["Statement"]
    condition = statement["Condition"]["StringEquals"]
    assert condition == {f"{issuer}:sub": condition[f"{issuer}:sub"], f"{issuer}:aud": STS_AUDIENCE}
    return condition[f"{issuer}:sub"]


def role_of(plan: engine.Plan, resource: engine.CapturedResource, prop: str) -> engine.CapturedResource:
    roles = [r for r in plan.depends_on(resource, prop) if r.type == ROLE]
    assert len(roles) == 1, f"{resource.name}.{prop} names exactly one role, got {[r.name for r in roles]}"
    return roles[0]


def policies_of(plan: engine.Plan, role: engine.CapturedResource) -> tuple[list[dict], list[str]]:
    inline = [json.loads(p.props["policy"]) for p in plan.of_type(ROLE_POLICY) if role.urn in p.property_dependencies.get("role", ())]
    managed = [a.props["policyArn"] for a in plan.of_type(ATTACHMENT) if role.urn in a.property_dependencies.get("role", ())]
    return inline, managed


def addon_identities(plan: engine.Plan) -> dict[str, tuple[engine.CapturedResource, str, dict]]:
    """Add-on -> (its IRSA role, the service account that carries it, that account's annotations), found in the
    release values or, for External Secrets, in the store's own ServiceAccount."""
    found = {}
    for key, release in releases(plan).items():
        values = release.props["values"]
        account = values.get("serviceAccount") or values.get("rbac", {}).get("serviceAccount") or {}
        if account.get("annotations"):
            found[key] = (role_of(plan, release, "values"), f"{release.props['namespace']}:{account['name']}", account["annotations"])
    for account in plan.of_type(SERVICE_ACCOUNT):
        if account.props["metadata"]["name"] == SECRET_STORE:
            meta = account.props["metadata"]
            found["external-secrets"] = (role_of(plan, account, "metadata"), f"{meta['namespace']}:{meta['name']}", meta["annotations"])
    return found


# -- releases --------------------------------------------------------------------------------------------------------
def test_every_add_on_is_a_release_at_the_pinned_version(plan, stack):
    config = addons_config(stack)
    installed = releases(plan)
    expected = set(CHARTS) - (set() if config["argocd"]["enabled"] else {"argo-cd"})
    assert installed.keys() == expected
    for key, release in installed.items():
        chart = CHARTS[key]
        assert release.props["chart"] == chart.chart
        assert release.props["version"] == config["charts"][key]
        assert re.fullmatch(EXACT, release.props["version"]), "an exact pin"
        assert release.props["repositoryOpts"] == {"repo": chart.repository}
        assert release.props["namespace"] == chart.namespace


def test_argocd_is_switched_per_stack():
    # Staging runs it; prod does not until a service chooses GitOps delivery, and then one key turns it on.
    assert "argo-cd" in releases(plan_for("staging")) and "argo-cd" not in releases(plan_for("prod"))
    switched = run_mutated("prod", lambda c: c["platform:addons"]["argocd"].update(enabled=True))
    argocd = releases(switched)["argo-cd"]
    assert argocd.props["namespace"] == "argocd" and argocd.props["version"] == addons_config("prod")["charts"]["argo-cd"]
    namespaces = [n.props["metadata"]["name"] for n in switched.of_type("kubernetes:core/v1:Namespace")]
    assert "argocd" in namespaces


def test_releases_go_through_the_cluster_provider_after_the_cluster_is_ready(plan):
    (provider,) = plan.of_type(K8S_PROVIDER)
    nodes = {n.urn for n in plan.of_type("aws:eks/nodeGroup:NodeGroup")}
    controller = releases(plan)["aws-load-balancer-controller"]
    for key, release in releases(plan).items():
        assert release.provider_urn == provider.urn
        assert nodes <= set(release.dependencies), f"{key} waits for the node groups"
        if key != "aws-load-balancer-controller":
            assert controller.urn in release.dependencies, f"{key} waits for the controller's webhooks"


def test_add_ons_run_on_the_system_nodes(plan):
    toleration = {"key": "CriticalAddonsOnly", "operator": "Exists", "effect": "NoSchedule"}
    for key, release in releases(plan).items():
        values = release.props["values"]
        placement = values.get("global", values)
        assert toleration in placement["tolerations"], key
        assert placement["nodeSelector"] == {"platform.io/node-group": "system"}, key


def test_controllers_get_region_vpc_and_cluster_explicitly(plan):
    """Pods cannot reach instance metadata (hop limit 1), so nothing may rely on it."""
    values = {key: r.props["values"] for key, r in releases(plan).items()}
    lbc = values["aws-load-balancer-controller"]
    assert lbc["clusterName"] == plan.outputs["clusterName"] and lbc["region"] == plan.outputs["region"]
    assert lbc["vpcId"] == plan.outputs["vpcId"]
    assert lbc["enableShield"] is False and lbc["enableWaf"] is False
    assert lbc["defaultSSLPolicy"] == SSL_POLICY
    autoscaler = values["cluster-autoscaler"]
    assert autoscaler["autoDiscovery"]["clusterName"] == plan.outputs["clusterName"]
    assert autoscaler["awsRegion"] == plan.outputs["region"]


# -- identities ------------------------------------------------------------------------------------------------------
def test_each_aws_calling_add_on_has_its_own_pinned_role(plan):
    identities = addon_identities(plan)
    expected = {key for key in releases(plan) if CHARTS[key].irsa_service_account}
    assert identities.keys() == expected == {"aws-load-balancer-controller", "cluster-autoscaler", "external-secrets"}
    roles = set()
    for key, (role, account, annotations) in identities.items():
        chart = CHARTS[key]
        assert account == f"{chart.namespace}:{chart.irsa_service_account}"
        assert trust_subject(plan, role) == f"system:serviceaccount:{account}"
        assert annotations == {ROLE_ARN_ANNOTATION: role.outputs["arn"]}
        roles.add(role.urn)
    assert len(roles) == len(identities), "no two add-ons share a role"


def test_add_ons_without_aws_access_say_why_and_carry_no_role(plan):
    for key, release in releases(plan).items():
        if CHARTS[key].irsa_service_account is None:
            assert CHARTS[key].no_aws_access, f"{key}: the reason it needs no AWS access"
            assert not [r for r in plan.depends_on(release, "values") if r.type == ROLE]
    # The External Secrets controller itself holds no credentials: only the store's account does.
    eso = releases(plan)["external-secrets"]
    assert not [r for r in plan.depends_on(eso, "values") if r.type == ROLE]


def test_add_on_policies_have_no_wildcards_beyond_the_listed_exceptions(plan):
    checked = 0
    for key, (role, _account, _annotations) in addon_identities(plan).items():
        inline, managed = policies_of(plan, role)
        assert len(inline) == 1 and not managed, f"{key}: one inline policy"
        for statement in inline[0]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                assert "*" not in action or (key, action) in WILDCARD_ACTIONS, f"{key}: {action}"
                assert ":" in action and action.split(":", 1)[1], f"{key}: {action}"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in resources:
                assert (key, statement["Sid"]) in UNSCOPED_STATEMENTS, f"{key}: {statement['Sid']} is unscoped"
            for resource in resources:
                if resource != "*":
                    assert resource.startswith("arn:aws:"), resource
                    assert ":*:*:" not in resource, f"{key}: {resource} names any region and account"
            checked += 1
    assert checked > 10
    for (key, _sid), reason in {**UNSCOPED_STATEMENTS, **WILDCARD_ACTIONS}.items():
        assert key in CHARTS and reason


def test_unscoped_statements_hold_only_actions_aws_defines_without_resource_level_permissions(plan):
    """The reason each UNSCOPED_STATEMENTS entry gives, checked with policy_sentry's query API (AWS's data)."""
    from policy_sentry.querying.actions import get_action_data

    seen = set()
    for key, (role, _account, _annotations) in addon_identities(plan).items():
        (policy,), _ = policies_of(plan, role)
        for statement in policy["Statement"]:
            if (key, statement.get("Sid")) not in UNSCOPED_STATEMENTS:
                continue
            seen.add((key, statement["Sid"]))
            for action in statement["Action"]:
                service, name = action.split(":")
                rows = get_action_data(service, name)[service]
                assert {row["resource_arn_format"] for row in rows} == {"*"}, f"{action} can be scoped to ARNs"
    assert seen == set(UNSCOPED_STATEMENTS)


def test_load_balancer_controller_writes_need_the_cluster_tag_or_a_name(plan):
    """Every write of the controller to load balancers, listeners, rules and target groups carries the ownership
    tag condition, except the WAF calls AWS defines no tag key for, which are narrowed by name."""
    role, _account, _annotations = addon_identities(plan)["aws-load-balancer-controller"]
    (policy,), _ = policies_of(plan, role)
    by_name = {
        "WebAclsOfControllerLoadBalancers", "DetachWebAclsFromControllerLoadBalancers", "ReadWebAcls", "SetWebAcl",
    }
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if not any(":elasticloadbalancing:" in r for r in resources):
            continue
        condition = json.dumps(statement.get("Condition", {}))
        if statement["Sid"] in by_name:
            assert all(":loadbalancer/app/k8s-*/" in r or ":wafv2:" in r for r in resources), statement
        else:
            assert "elbv2.k8s.aws/cluster" in condition, f"{statement['Sid']} has no cluster-tag condition"


def test_secret_store_reads_only_the_stack_path_and_the_database_secret(plan, stack):
    role, _account, _annotations = addon_identities(plan)["external-secrets"]
    (policy,), _ = policies_of(plan, role)
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements.keys() == {"ReadPlatformSecrets", "DecryptThroughSecretsManager"}
    read = statements["ReadPlatformSecrets"]
    assert sorted(read["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds"]
    master = plan.outputs["database"]["masterSecretArn"]
    assert read["Resource"] == [
        f"arn:aws:secretsmanager:{plan.outputs['region']}:123456789012:secret:platform/{stack}/*",
        master,
    ]
    decrypt = statements["DecryptThroughSecretsManager"]
    assert decrypt["Action"] == ["kms:Decrypt"] and decrypt["Resource"] == [plan.outputs["kmsKeyArns"]["secrets"]]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{plan.outputs['region']}.amazonaws.com"}}


def test_cluster_secret_store_uses_its_own_account_for_opted_in_namespaces(plan):
    (store,) = plan.of_type(STORE)
    spec = store.props["spec"]
    aws = spec["provider"]["aws"]
    assert aws["service"] == "SecretsManager" and aws["region"] == plan.outputs["region"]
    assert aws["auth"] == {"jwt": {"serviceAccountRef": {"name": SECRET_STORE, "namespace": "external-secrets"}}}
    assert spec["conditions"] == [{"namespaceSelector": {"matchLabels": {SECRET_STORE_LABEL: SECRET_STORE}}}]
    assert releases(plan)["external-secrets"].urn in store.dependencies


def test_load_balancer_controller_is_confined_to_this_cluster_and_vpc(plan):
    role, _account, _annotations = addon_identities(plan)["aws-load-balancer-controller"]
    (policy,), _ = policies_of(plan, role)
    cluster = plan.outputs["clusterName"]
    for statement in policy["Statement"]:
        for key, value in statement.get("Condition", {}).get("StringEquals", {}).items():
            if key.endswith("elbv2.k8s.aws/cluster"):
                assert value == cluster
    # Existing groups: ingress changes on the cluster security group (the targets' one) only, in this VPC.
    rules = next(s for s in policy["Statement"] if s["Sid"] == "TargetSecurityGroupRules")
    assert rules["Action"] == ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]
    assert rules["Resource"] == [security_group_arn(plan, role, plan.outputs["clusterSecurityGroupId"])]
    assert rules["Condition"] == {"ArnEquals": {"ec2:Vpc": vpc_arn(plan, role)}}
    deletes = [s for s in policy["Statement"] if any(a.startswith(("ec2:Delete", "elasticloadbalancing:Delete")) for a in s["Action"])]
    for statement in deletes:
        if statement["Sid"] != "ListenersAndRules":
            assert statement["Condition"]["StringEquals"]["aws:ResourceTag/elbv2.k8s.aws/cluster"] == cluster
    # Every other grant on a security group is conditioned on the group being (or being created as) this cluster's.
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Sid"] == "Discover" or not any(":security-group/*" in r for r in resources):
            continue
        tags = {k for k in statement.get("Condition", {}).get("StringEquals", {}) if k.endswith(f"Tag/{LBC_TAG}")}
        assert tags, f"{statement['Sid']} grants on any security group without the ownership tag"


# -- what the load balancer controller may do to a security group, evaluated like IAM ---------------------------------
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
LBC_TAG = "elbv2.k8s.aws/cluster"
# Every call that changes an existing security group's rules, tags or existence.
SG_CHANGES = (
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifySecurityGroupRules",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:CreateTags",
    "ec2:DeleteTags",
)


def account_of(role: engine.CapturedResource) -> str:
    return role.outputs["arn"].split(":")[4]


def security_group_arn(plan: engine.Plan, role: engine.CapturedResource, group_id: str) -> str:
    assert group_id.startswith("sg-"), group_id
    return f"arn:aws:ec2:{plan.outputs['region']}:{account_of(role)}:security-group/{group_id}"


def vpc_arn(plan: engine.Plan, role: engine.CapturedResource) -> str:
    return f"arn:aws:ec2:{plan.outputs['region']}:{account_of(role)}:vpc/{plan.outputs['vpcId']}"


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_can_hold(condition: dict, context: dict[str, str | None]) -> bool:
    """Whether some request on an existing resource satisfies `condition`. `context` holds the resource's keys
    (lower case; None = absent). Keys the caller chooses (request tags, tag keys) can take any value; a key or an
    operator not understood here is assumed satisfiable, so the check fails closed."""
    for operator, tests in condition.items():
        for key, expected in tests.items():
            key = key.lower()
            if key.startswith("aws:requesttag/") or key == "aws:tagkeys" or key not in context:
                continue
            actual = context[key]
            if operator == "Null":
                if (actual is None) != (str(expected).lower() == "true"):
                    return False
            elif operator in ("StringEquals", "ArnEquals", "ArnLike", "StringLike"):
                if actual is None or not any(fnmatch.fnmatchcase(actual, str(e)) for e in _as_list(expected)):
                    return False
    return True


def grants_on_group(policy: dict, action: str, arn: str, *, vpc: str, tags: dict[str, str]) -> list[str]:
    """The Sids of the Allow statements that let `action` act on the existing security group `arn` of VPC `vpc`
    carrying `tags`. Tag keys this group lacks are known to be absent; so is `ec2:CreateAction` (not a creation)."""
    context: dict[str, str | None] = {
        "ec2:vpc": vpc,
        "ec2:securitygroupid": arn.rsplit("/", 1)[1],
        "ec2:createaction": None,
        **{f"{prefix}:resourcetag/{key}".lower(): value for key, value in tags.items() for prefix in ("aws", "ec2")},
    }
    for prefix in ("aws", "ec2"):
        for key in (LBC_TAG, "Name"):
            context.setdefault(f"{prefix}:resourcetag/{key}".lower(), None)
    found = []
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(arn, r) for r in _as_list(statement["Resource"])):
            continue
        if _condition_can_hold(statement.get("Condition", {}), context):
            found.append(statement.get("Sid", "?"))
    return found


def test_load_balancer_controller_cannot_touch_the_data_stores_security_groups(plan):
    """Finding: the controller could add and remove ingress rules on any group of the VPC. None of the groups this
    program declares (the database, cache, broker and endpoint groups) may be changed by it in any way."""
    role, _account, _annotations = addon_identities(plan)["aws-load-balancer-controller"]
    (policy,), _ = policies_of(plan, role)
    groups = plan.of_type(SECURITY_GROUP)
    names = {g.name for g in groups}
    assert {"database-sg", "cache-sg", "messaging-rabbitmq-sg"} <= names, names
    for group in groups:
        group_id = group.outputs["arn"].rsplit("/", 1)[1]
        assert group_id != plan.outputs["clusterSecurityGroupId"]
        arn = security_group_arn(plan, role, group_id)
        for action in SG_CHANGES:
            granted = grants_on_group(policy, action, arn, vpc=vpc_arn(plan, role), tags=group.props.get("tags") or {})
            assert granted == [], f"{action} on {group.name} ({arn}) is allowed by {granted}"
    # Nor any group someone adds to the VPC later, nor another cluster's load balancer groups.
    other = security_group_arn(plan, role, "sg-0123456789abcdef0")
    for tags in ({}, {LBC_TAG: "some-other-cluster"}):
        for action in SG_CHANGES:
            assert grants_on_group(policy, action, other, vpc=vpc_arn(plan, role), tags=tags) == [], (action, tags)


def test_load_balancer_controller_can_still_open_targets_and_manage_its_own_groups(plan):
    """The narrowing must not break the controller: it opens the cluster security group (its targets' group) and
    fully manages the groups tagged as this cluster's, and nothing more."""
    role, _account, _annotations = addon_identities(plan)["aws-load-balancer-controller"]
    (policy,), _ = policies_of(plan, role)
    vpc = vpc_arn(plan, role)
    ingress = {"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"}
    targets = security_group_arn(plan, role, plan.outputs["clusterSecurityGroupId"])
    allowed = {a for a in SG_CHANGES if grants_on_group(policy, a, targets, vpc=vpc, tags={})}
    assert allowed == ingress
    own = security_group_arn(plan, role, "sg-0fedcba9876543210")
    allowed = {a for a in SG_CHANGES if grants_on_group(policy, a, own, vpc=vpc, tags={LBC_TAG: plan.outputs["clusterName"]})}
    assert allowed == ingress | {"ec2:DeleteSecurityGroup", "ec2:CreateTags", "ec2:DeleteTags"}
    # Creation: in this VPC, tagged as this cluster's at creation.
    create = next(s for s in policy["Statement"] if s["Sid"] == "CreateOwnSecurityGroups")
    assert create["Action"] == ["ec2:CreateSecurityGroup"]
    assert create["Condition"] == {"StringEquals": {f"aws:RequestTag/{LBC_TAG}": plan.outputs["clusterName"]}}
    in_vpc = next(s for s in policy["Statement"] if s["Sid"] == "CreateSecurityGroupsInThisVpc")
    assert in_vpc["Action"] == ["ec2:CreateSecurityGroup"] and in_vpc["Resource"] == vpc


def test_the_security_group_check_catches_the_reviewed_grants():
    """The evaluator above is what the two tests lean on: it must flag the grant the review found (ingress changes
    on any group of the VPC) and the published policy's unconditioned one."""
    arn, vpc = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1", "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1"
    reviewed = {
        "Sid": "SecurityGroupRulesInThisVpc",
        "Effect": "Allow",
        "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        "Resource": "arn:aws:ec2:eu-west-1:123456789012:security-group/*",
        "Condition": {"ArnEquals": {"ec2:Vpc": vpc}},
    }
    published = {"Effect": "Allow", "Action": ["ec2:AuthorizeSecurityGroupIngress"], "Resource": "*"}
    wildcard = {"Sid": "W", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}
    for statement in (reviewed, published, wildcard):
        policy = {"Statement": [statement]}
        assert grants_on_group(policy, "ec2:AuthorizeSecurityGroupIngress", arn, vpc=vpc, tags={"Name": "postgres"})
    owned = {**reviewed, "Condition": {"StringEquals": {f"aws:ResourceTag/{LBC_TAG}": "c1"}}}
    assert not grants_on_group({"Statement": [owned]}, "ec2:AuthorizeSecurityGroupIngress", arn, vpc=vpc, tags={})
    assert grants_on_group({"Statement": [owned]}, "ec2:AuthorizeSecurityGroupIngress", arn, vpc=vpc, tags={LBC_TAG: "c1"})


@pytest.mark.parametrize("groups", [[], ["*"], ["sg-*"], [""], ["vpc-1"]])
def test_load_balancer_controller_policy_needs_exact_target_groups(groups):
    with pytest.raises(ValueError, match="target security groups"):
        load_balancer_controller_policy(
            partition="aws", region="eu-west-1", account_id="123456789012", cluster_name="c", vpc_id="vpc-1",
            target_security_group_ids=groups,
        )


def test_autoscaler_resizes_only_this_clusters_groups(plan):
    role, _account, _annotations = addon_identities(plan)["cluster-autoscaler"]
    (policy,), _ = policies_of(plan, role)
    resize = next(s for s in policy["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"])
    cluster = plan.outputs["clusterName"]
    assert resize["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}}


# -- TLS -------------------------------------------------------------------------------------------------------------
def test_certificate_is_dns_validated_in_the_stack_zone(plan, stack):
    tls = addons_config(stack)["tls"]
    (certificate,) = plan.of_type(CERTIFICATE)
    assert certificate.props["domainName"] == tls["domain"]
    assert certificate.props["subjectAlternativeNames"] == tls["alternativeNames"]
    assert certificate.props["validationMethod"] == "DNS"
    records = plan.of_type(RECORD)
    # The wildcard and the apex share one validation record.
    assert len(records) == 1
    for record in records:
        assert record.props["type"] == "CNAME" and record.props["name"].endswith(f"{tls['domain']}.")
        assert record.props["zoneId"].startswith("Z")
        assert plan.depends_on(record, "name") == [certificate]
    (validation,) = plan.of_type(VALIDATION)
    assert plan.depends_on(validation, "certificateArn") == [certificate]
    assert set(validation.property_dependencies["validationRecordFqdns"]) == {r.urn for r in records}
    # Consumers get the ARN once ACM has issued it.
    assert plan.outputs["certificateArn"] == validation.outputs["certificateArn"] == certificate.outputs["arn"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_catalogued_routes_are_covered_by_the_certificate(stack):
    plan = plan_for(stack)
    (certificate,) = plan.of_type(CERTIFICATE)
    names = [certificate.props["domainName"], *certificate.props["subjectAlternativeNames"]]
    hosts = [s["host"] for s in plan.outputs.get("services", {}).values() if "host" in s]
    assert hosts, "the catalogue has public routes"
    for host in hosts:
        assert any(host == n or (n.startswith("*.") and host.split(".", 1)[1] == n[2:]) for n in names), host


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_add_on_namespaces_enforce_restricted_unless_the_chart_needs_baseline(stack):
    namespaces = {r.props["metadata"]["name"]: r.props["metadata"]["labels"]
                  for r in plan_for(stack).of_type("kubernetes:core/v1:Namespace") if r.name.startswith("addons-")}
    expected = {"external-secrets"} | ({"argocd"} if stack == "staging" else set())
    assert set(namespaces) == expected
    for name, labels in namespaces.items():
        level = "baseline" if name == "argocd" else "restricted"
        assert labels == {"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/audit": "restricted",
                          "pod-security.kubernetes.io/warn": "restricted"}, name


def test_external_secrets_pods_are_stated_restricted_in_the_release_values():
    values = releases(plan_for("staging"))["external-secrets"].props["values"]
    for context in (values["securityContext"], values["webhook"]["securityContext"],
                    values["certController"]["securityContext"]):
        assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]} and context["seccompProfile"] == {"type": "RuntimeDefault"}
