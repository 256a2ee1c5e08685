"""The account baseline (`components/account_baseline.py`) in both bootstrap stacks: the trail, the CIS monitoring
filters and alarms, GuardDuty with EKS protection, Access Analyzer, EBS default encryption, the account public access
block.

Independent references: the control list is the Security Hub CloudWatch.1-14 series plus CIS 4.15 (Organizations);
the event names the filters match are checked against IAM's action database (policy_sentry), where every CloudTrail
management event of these services is an API action of the same name.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from policy_sentry.querying.all import get_all_actions

from .conftest import BOOTSTRAP, BOOTSTRAP_STACKS, bootstrap_plan_for

CONTROLS = {f"CloudWatch.{n}" for n in range(1, 15)} | {"CIS 4.15"}


@pytest.fixture(params=BOOTSTRAP_STACKS)
def plan(request):
    return bootstrap_plan_for(request.param)


def test_one_multi_region_trail_with_log_file_validation_into_an_encrypted_bucket(plan):
    [trail] = plan.of_type("aws:cloudtrail/trail:Trail")
    props = trail.props
    assert props["isMultiRegionTrail"] is True and props["includeGlobalServiceEvents"] is True
    assert props["enableLogFileValidation"] is True and props["enableLogging"] is True
    assert trail.protect
    [key] = plan.depends_on(trail, "kmsKeyId")
    assert key.type == "aws:kms/key:Key" and key.props["enableKeyRotation"] is True
    [bucket] = plan.depends_on(trail, "s3BucketName")
    [encryption] = [r for r in plan.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
                    if bucket.urn in r.property_dependencies["bucket"]]
    assert plan.depends_on(encryption, "rules") == [key]
    [log_group] = plan.depends_on(trail, "cloudWatchLogsGroupArn")
    assert log_group.props["retentionInDays"] >= 365 and plan.depends_on(log_group, "kmsKeyId") == [key]


def test_cloudtrail_may_write_only_for_this_trail(plan):
    [trail] = plan.of_type("aws:cloudtrail/trail:Trail")
    region, account, name = "ap-northeast-2", "123456789012", trail.props["name"]
    trail_arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"
    [bucket] = plan.depends_on(trail, "s3BucketName")
    [policy] = [r for r in plan.of_type("aws:s3/bucketPolicy:BucketPolicy") if bucket.urn in r.property_dependencies["bucket"]]
    statements = json.loads(policy.props["policy"])["Statement"]
    service = [s for s in statements if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    assert {s["Action"] for s in service} == {"s3:GetBucketAcl", "s3:PutObject"}
    assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn for s in service)
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements)
    [key] = plan.depends_on(trail, "kmsKeyId")
    key_statements = json.loads(key.props["policy"])["Statement"]
    [encrypt] = [s for s in key_statements if s["Sid"] == "CloudTrailEncryptsThisTrail"]
    assert encrypt["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn


def filters_and_alarms(plan):
    filters = {r.props["name"]: r for r in plan.of_type("aws:cloudwatch/logMetricFilter:LogMetricFilter")}
    alarms = {r.props["name"]: r for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    return filters, alarms


def test_every_cis_monitoring_control_has_a_filter_and_an_alarm_to_the_topic(plan):
    filters, alarms = filters_and_alarms(plan)
    [topic] = plan.of_type("aws:sns/topic:Topic")
    [trail] = plan.of_type("aws:cloudtrail/trail:Trail")
    [log_group] = plan.depends_on(trail, "cloudWatchLogsGroupArn")
    assert set(filters) == set(alarms) and len(filters) == len(CONTROLS)
    covered = set()
    for name, metric_filter in filters.items():
        alarm = alarms[name]
        covered |= {c for c in CONTROLS if alarm.props["alarmDescription"].startswith(c + ":")}
        assert plan.depends_on(metric_filter, "logGroupName") == [log_group]
        transformation = metric_filter.props["metricTransformation"]
        assert (alarm.props["namespace"], alarm.props["metricName"]) == (transformation["namespace"], transformation["name"])
        assert transformation["value"] == "1"
        # One event is enough to alarm; no events is not a breach.
        assert alarm.props["statistic"] == "Sum" and alarm.props["threshold"] == 1
        assert alarm.props["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm.props["evaluationPeriods"] == 1 and alarm.props["treatMissingData"] == "notBreaching"
        assert plan.depends_on(alarm, "alarmActions") == [topic]
    assert covered == CONTROLS


def test_the_root_user_and_mfa_filters_match_what_cis_asks(plan):
    filters, _ = filters_and_alarms(plan)
    root = next(f for n, f in filters.items() if n.endswith("root-user-activity")).props["pattern"]
    assert '$.userIdentity.type = "Root"' in root and "$.userIdentity.invokedBy NOT EXISTS" in root
    assert '$.eventType != "AwsServiceEvent"' in root
    mfa = next(f for n, f in filters.items() if n.endswith("console-sign-in-without-mfa")).props["pattern"]
    assert '"ConsoleLogin"' in mfa and '$.additionalEventData.MFAUsed != "Yes"' in mfa


SERVICE_OF_FILTER = {
    "iam-policy-changes": "iam", "cloudtrail-changes": "cloudtrail", "kms-key-disabled-or-deleted": "kms",
    "config-changes": "config", "security-group-changes": "ec2", "network-acl-changes": "ec2",
    "network-gateway-changes": "ec2", "route-table-changes": "ec2", "vpc-changes": "ec2",
    "organizations-changes": "organizations",
}


def test_the_event_names_in_the_filters_are_real_api_actions(plan):
    filters, _ = filters_and_alarms(plan)
    actions = {a.lower() for a in get_all_actions()}
    for name, metric_filter in filters.items():
        pattern = metric_filter.props["pattern"]
        assert pattern.count("(") == pattern.count(")") and pattern.startswith("{") and pattern.endswith("}")
        suffix = name.split(f"{plan.stack}-", 1)[1]
        if suffix not in SERVICE_OF_FILTER:
            continue
        names = re.findall(r"\$\.eventName = (\w+)", pattern)
        assert names, name
        unknown = [n for n in names if f"{SERVICE_OF_FILTER[suffix]}:{n}".lower() not in actions]
        assert not unknown, f"{name}: {unknown}"


def test_guardduty_protects_eks_and_reports_high_findings(plan):
    [detector] = plan.of_type("aws:guardduty/detector:Detector")
    assert detector.props["enable"] is True and detector.protect
    features = {f.props["name"]: f for f in plan.of_type("aws:guardduty/detectorFeature:DetectorFeature")}
    assert {"EKS_AUDIT_LOGS", "RUNTIME_MONITORING"} <= set(features)
    assert all(f.props["status"] == "ENABLED" and plan.depends_on(f, "detectorId") == [detector] for f in features.values())
    [extra] = features["RUNTIME_MONITORING"].props["additionalConfigurations"]
    assert extra == {"name": "EKS_ADDON_MANAGEMENT", "status": "ENABLED"}
    [rule] = plan.of_type("aws:cloudwatch/eventRule:EventRule")
    pattern = json.loads(rule.props["eventPattern"])
    assert pattern["source"] == ["aws.guardduty"] and pattern["detail"]["severity"] == [{"numeric": [">=", 7]}]
    [target] = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert plan.depends_on(target, "arn") == plan.of_type("aws:sns/topic:Topic")


def test_access_analyzer_ebs_encryption_and_the_account_public_access_block(plan):
    [analyzer] = plan.of_type("aws:accessanalyzer/analyzer:Analyzer")
    assert analyzer.props["type"] == "ACCOUNT"
    [ebs] = plan.of_type("aws:ebs/encryptionByDefault:EncryptionByDefault")
    assert ebs.props["enabled"] is True
    [block] = plan.of_type("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
    assert all(block.props[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


def test_the_alerts_topic_is_encrypted_and_mails_the_stack_files_subscribers(plan):
    [topic] = plan.of_type("aws:sns/topic:Topic")
    assert plan.depends_on(topic, "kmsMasterKeyId")[0].type == "aws:kms/key:Key"
    config = yaml.safe_load((BOOTSTRAP / f"Pulumi.{plan.stack}.yaml").read_text())["config"]
    wanted = config["platform-bootstrap:baseline"]["emailSubscribers"]
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.props["endpoint"] for s in subscriptions) == sorted(wanted)
    assert all(s.props["protocol"] == "email" for s in subscriptions)
