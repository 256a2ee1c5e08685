"""Monitoring of the cluster and the services (`components/cluster_monitoring.py`) in both platform stacks.

Independent references: the Container Insights metric names and dimensions are AWS's (the CloudWatch user guide's
"Amazon EKS and Kubernetes Container Insights metrics" table), listed here with that source; the replica minimums
come from the HorizontalPodAutoscalers the plan declares, not from the catalogue parser; the add-on build from the
stack file read with a plain YAML parser.
"""

from __future__ import annotations

import json

import pytest
import yaml

from delivery.monitoring_gate import alarm_prefix
from infra.offline import engine

from .conftest import config_error, change, plan_for, single

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# Metric -> its dimension set, from AWS's Container Insights metrics table for EKS (doc_source/
# Container-Insights-metrics-EKS.md of the CloudWatch user guide).
CONTAINER_INSIGHTS = {
    "cluster_failed_node_count": {"ClusterName"},
    "service_number_of_running_pods": {"Service", "Namespace", "ClusterName"},
    "pod_number_of_container_restarts": {"PodName", "Namespace", "ClusterName"},
}
# AWS/ApplicationELB metrics (Elastic Load Balancing user guide, "CloudWatch metrics for your Application Load Balancer").
ALB_METRICS = {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime"}


def monitoring_alarms(plan):
    component = plan.one("platform:monitoring:ClusterMonitoring", "monitoring")
    return [r for r in plan.descendants(component.urn) if r.type == ALARM]


def test_container_insights_runs_as_a_pinned_eks_add_on_on_its_own_role(plan, stack):
    config = yaml.safe_load((engine.ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    [addon] = [a for a in plan.of_type("aws:eks/addon:Addon") if a.props["addonName"] == "amazon-cloudwatch-observability"]
    assert addon.props["addonVersion"] == config["platform:monitoring"]["observabilityAddonVersion"]
    [role] = plan.depends_on(addon, "serviceAccountRoleArn")
    [statement] = json.loads(role.props["assumeRolePolicy"])["Statement"]
    subjects = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:amazon-cloudwatch:cloudwatch-agent"]
    attached = [a.props["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if role.urn in a.property_dependencies.get("role", ())]
    assert attached == ["arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"]
    # It is installed once the cluster's nodes and its own add-ons are up.
    assert any(plan.get(u).type == "aws:eks/nodeGroup:NodeGroup" for u in addon.dependencies)


def test_the_container_insights_alarms_use_aws_metric_names_and_dimensions(plan):
    [cluster_name] = {a.props["dimensions"]["ClusterName"] for a in monitoring_alarms(plan) if "dimensions" in a.props}
    assert cluster_name == f"platform-{plan.stack}"
    seen = set()
    for alarm in monitoring_alarms(plan):
        if "metricName" in alarm.props:
            assert alarm.props["namespace"] == "ContainerInsights"
            assert set(alarm.props["dimensions"]) == CONTAINER_INSIGHTS[alarm.props["metricName"]], alarm.name
            seen.add(alarm.props["metricName"])
    assert seen == set(CONTAINER_INSIGHTS)


def test_each_service_has_replica_and_restart_alarms_at_its_autoscaler_minimum(plan):
    hpas = {r.props["metadata"]["namespace"]: r.props["spec"]["minReplicas"]
            for r in plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")}
    assert hpas
    alarms = {a.props["name"]: a for a in monitoring_alarms(plan)}
    for service, minimum in hpas.items():
        unavailable = alarms[f"platform-{plan.stack}-{service}-replicas-unavailable"].props
        assert unavailable["dimensions"]["Service"] == service and unavailable["dimensions"]["Namespace"] == service
        assert unavailable["threshold"] == minimum and unavailable["comparisonOperator"] == "LessThanThreshold"
        assert unavailable["treatMissingData"] == "breaching"
        restarts = alarms[f"platform-{plan.stack}-{service}-pods-restarting"].props
        assert restarts["dimensions"]["PodName"] == service and restarts["comparisonOperator"] == "GreaterThanThreshold"


def test_the_load_balancer_alarms_watch_5xx_and_response_time(plan, stack):
    alarms = {a.props["name"].rsplit(f"{stack}-", 1)[1]: a for a in monitoring_alarms(plan)}
    queried = set()
    for suffix in ("alb-5xx", "alb-target-5xx", "alb-target-response-time"):
        [query] = alarms[suffix].props["metricQueries"]
        assert 'FROM SCHEMA("AWS/ApplicationELB", LoadBalancer)' in query["expression"] and query["returnData"] is True
        queried |= {m for m in ALB_METRICS if f"({m})" in query["expression"]}
    assert queried == ALB_METRICS
    config = yaml.safe_load((engine.ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    wanted_ms = config["platform:monitoring"]["thresholds"]["targetResponseMs"]
    assert alarms["alb-target-response-time"].props["threshold"] == wanted_ms / 1000  # the metric is in seconds


def test_every_alarm_of_the_stack_goes_to_the_alerts_topic_and_is_seen_by_the_gate(plan, stack):
    [topic] = [t for t in plan.of_type("aws:sns/topic:Topic") if t.props["name"] == f"platform-{stack}-alerts"]
    alarms = plan.of_type(ALARM)
    assert len(monitoring_alarms(plan)) >= 8
    for alarm in alarms:
        assert alarm.props["name"].startswith(alarm_prefix(stack)), alarm.props["name"]
        assert plan.depends_on(alarm, "alarmActions") == [topic], alarm.name


def test_one_dashboard_per_stack_shows_the_metrics_and_the_alarms(plan, stack):
    [dashboard] = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.props["dashboardName"] == f"platform-{stack}"
    body = json.loads(dashboard.props["dashboardBody"])
    text = json.dumps(body)
    for metric in (*CONTAINER_INSIGHTS, *ALB_METRICS, "node_cpu_utilization", "node_memory_utilization"):
        assert metric in text, metric
    [alarm_widget] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(a.outputs["arn"] for a in monitoring_alarms(plan))
    assert plan.outputs["dashboardName"] == f"platform-{stack}"


@pytest.mark.parametrize(
    "path, value, expected",
    [
        ("observabilityAddonVersion", ..., "an exact EKS add-on build"),
        ("observabilityAddonVersion", "latest", "an exact EKS add-on build"),
        ("thresholds.targetResponseMs", 0, "an integer from 10 to 60000"),
        ("thresholds.restarts", 3, "one of the known keys"),
    ],
)
def test_bad_monitoring_config_names_the_key(path, value, expected):
    error = config_error("staging", change("monitoring", path, value))
    key = "platform:monitoring." + path
    assert expected in str(single(error, key))


def test_preview_mode_plan_has_the_monitoring_too():
    assert monitoring_alarms(plan_for("prod", preview=True))
