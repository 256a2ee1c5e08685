"""IRSA roles: the trust policy of every service-account role in both stacks names the cluster's OIDC provider and pins
exactly one `system:serviceaccount:<ns>:<sa>` and the STS audience (add-ons and catalogued services alike)."""

from __future__ import annotations

import json

import pytest

from components.irsa import STS_AUDIENCE, service_account_subject, trust_policy
from infra.offline import engine

from .conftest import plan_for

ROLE = "aws:iam/role:Role"
IRSA = "platform:iam:IrsaRole"
CLUSTER = "eks:index:Cluster"


def irsa_roles(plan: engine.Plan) -> list[engine.CapturedResource]:
    return [r for r in plan.of_type(ROLE) if r.parent and plan.get(r.parent).type == IRSA]


def test_subject_is_exact():
    assert service_account_subject("kube-system", "aws-node") == "system:serviceaccount:kube-system:aws-node"
    for namespace, account in [("*", "app"), ("team", "*"), ("team", "app?"), ("Team", "app"), ("", "app")]:
        with pytest.raises(ValueError):
            service_account_subject(namespace, account)


def test_trust_policy_pins_subject_and_audience():
    policy = trust_policy(
        "arn:aws:iam::123456789012:oidc-provider/oidc.example/id/ABC", "https://oidc.example/id/ABC", "ns", "sa"
    )
    (statement,) = policy["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.example/id/ABC"}
    # The scheme is not part of the condition keys.
    assert statement["Condition"] == {
        "StringEquals": {"oidc.example/id/ABC:sub": "system:serviceaccount:ns:sa", "oidc.example/id/ABC:aud": STS_AUDIENCE}
    }


def test_every_irsa_role_trusts_one_service_account_of_this_cluster(plan):
    roles = irsa_roles(plan)
    # The EKS add-ons (2), the platform add-ons with AWS access and every catalogued service.
    assert len(roles) >= 4
    issuer = plan.outputs["oidcProviderArn"].split("oidc-provider/", 1)[1]
    subjects = set()
    for role in roles:
        policy = json.loads(role.props["assumeRolePolicy"])
        (statement,) = policy["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": plan.outputs["oidcProviderArn"]}
        assert set(statement["Condition"]) == {"StringEquals"}, "exact matches only, never StringLike"
        condition = statement["Condition"]["StringEquals"]
        assert set(condition) == {f"{issuer}:sub", f"{issuer}:aud"}
        assert condition[f"{issuer}:aud"] == STS_AUDIENCE
        subject = condition[f"{issuer}:sub"]
        assert isinstance(subject, str) and "*" not in subject and "?" not in subject
        assert subject.count(":") == 3 and subject.startswith("system:serviceaccount:")
        subjects.add(subject)
        # The provider comes from the cluster, not from a literal.
        assert [r.type for r in plan.depends_on(role, "assumeRolePolicy")] == [CLUSTER]
    assert len(subjects) == len(roles), "one role per service account"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_trust_is_built_from_the_cluster_in_preview_too(stack):
    """In a first preview the provider is unknown; the role still depends on the cluster, nothing is guessed."""
    plan = plan_for(stack, preview=True)
    for role in irsa_roles(plan):
        assert [r.type for r in plan.depends_on(role, "assumeRolePolicy")] == [CLUSTER]
