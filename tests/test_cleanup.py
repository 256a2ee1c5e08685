"""The cleanup job component, on both real stacks: packaging, schedule, logs, and a least-privilege role checked
against policy_sentry's IAM database (actions exist, "*" only where IAM allows nothing narrower, ARNs and condition
keys the actions accept)."""

from __future__ import annotations

import json
import re

import pytest
from policy_sentry.querying.actions import get_action_data

from components.cleanup import CleanupArgs, job_policy

from .conftest import plan_for
from .data_helpers import config, only, policy

FUNCTION = "aws:lambda/function:Function"


def function(plan):
    return plan.one(FUNCTION)


def role_policy(plan, role_name_suffix: str) -> dict:
    for rp in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        if rp.name == f"cleanup-{role_name_suffix}":
            return policy(rp)
    raise LookupError(role_name_suffix)


def test_function_is_packaged_from_its_folder(plan):
    fn = function(plan)
    assert fn.props["runtime"] == "python3.13" and fn.props["handler"] == "handler.handler"
    assert fn.props["architectures"] == ["arm64"] and fn.props["reservedConcurrentExecutions"] == 1
    code = json.dumps(fn.inputs["code"])
    assert "handler.py" in code and "functions/cleanup/handler.py" in code


def test_settings_follow_the_stack(plan, stack):
    env = function(plan).props["environment"]["variables"]
    cleanup = config(stack, "costControls")["cleanup"]
    assert env["DELETE"] == ("true" if cleanup["delete"] else "false")
    assert env["DELETE"] == ("false" if stack == "prod" else "true")  # prod reports only
    assert env["VOLUME_AGE_DAYS"] == str(cleanup["unattachedVolumeDays"])
    assert env["CLUSTER_NAME"] == f"platform-{stack}" and env["STACK"] == stack
    assert env["TOPIC_ARN"] == plan.one("aws:sns/topic:Topic").outputs["arn"]


def test_logs_are_retained_and_encrypted(plan, stack):
    fn = function(plan)
    group = next(g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup") if g.props["name"] == f"/aws/lambda/{fn.props['name']}")
    assert group.props["retentionInDays"] == config(stack, "costControls")["cleanup"]["logRetentionDays"]
    key = only(plan, group, "kmsKeyId", "aws:kms/key:Key")
    assert fn.property_dependencies["kmsKeyArn"] and key.urn in fn.property_dependencies["kmsKeyArn"]
    (logs,) = [s for s in policy(key)["Statement"] if "Service" in s["Principal"]]
    assert logs["Principal"] == {"Service": ["logs.ap-northeast-2.amazonaws.com"]}
    assert logs["Condition"]["ArnEquals"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:ap-northeast-2:123456789012:log-group:{group.props['name']}"
    }


def test_schedule_invokes_only_this_function(plan):
    schedule = plan.one("aws:scheduler/schedule:Schedule")
    fn = function(plan)
    assert schedule.props["scheduleExpressionTimezone"] == "Asia/Seoul"
    assert schedule.props["target"]["arn"] == fn.outputs["arn"]
    invoke = role_policy(plan, "scheduler-policy")["Statement"]
    arn = f"arn:aws:lambda:ap-northeast-2:123456789012:function:{fn.props['name']}"
    assert invoke == [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]


def test_prod_role_cannot_delete():
    actions = {a for s in role_policy(plan_for("prod"), "policy")["Statement"] for a in s["Action"]}
    assert not any(a.split(":")[1].startswith(("Delete", "Release", "BatchDelete")) for a in actions)
    staging = {a for s in role_policy(plan_for("staging"), "policy")["Statement"] for a in s["Action"]}
    assert {"ec2:DeleteVolume", "ec2:DeleteSnapshot", "ec2:ReleaseAddress", "ecr:BatchDeleteImage"} <= staging


def _arn_regex(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\$\\\{[^}]+\\\}", ".*", re.escape(template)) + "$")


def _key_regex(key: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\$\\\{[^}]+\\\}", ".+", re.escape(key)) + "$", re.IGNORECASE)


@pytest.mark.parametrize("delete", [True, False])
def test_policy_is_what_iam_accepts(delete):
    args = CleanupArgs(name_prefix="platform-staging", cluster_name="platform-staging", stack="staging", delete=delete)
    document = job_policy(args, account_id="123456789012", partition="aws",
                          topic_arn="arn:aws:sns:ap-northeast-2:123456789012:platform-staging-alerts",
                          topic_key_arn="arn:aws:kms:ap-northeast-2:123456789012:key/abc",
                          log_group_arn="arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/lambda/platform-staging-cleanup")
    for statement in document["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"]:
            service, name = action.split(":")
            rows = get_action_data(service, name)[service]
            assert rows, f"{action} is not an IAM action"
            formats = [r["resource_arn_format"] for r in rows]
            keys = {k for r in rows for k in r["condition_keys"]}
            if resources == ["*"]:
                assert formats == ["*"], f"{action} can be scoped to {formats}"
                continue
            for arn in resources:
                assert any(f != "*" and _arn_regex(f).match(arn) for f in formats), f"{action}: {arn} vs {formats}"
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    assert any(_key_regex(k).match(key) for k in keys), f"{action} does not take {key}"
