"""Monitoring of the cluster and the services on it: Container Insights, alarms to the alerts topic, a dashboard.

- **Metrics**: the `amazon-cloudwatch-observability` EKS add-on (CloudWatch agent and Fluent Bit, Container Insights
  with enhanced observability) at a pinned build, its agent on an IRSA role of its own that carries AWS's
  `CloudWatchAgentServerPolicy` and nothing else. It publishes node, pod, service and control-plane (API server)
  metrics to the `ContainerInsights` namespace.
- **Alarms**, all named `<prefix>-…` (what the deploy workflow's monitoring gate reads) and sent to the stack's alerts
  topic on ALARM and OK. Metric names and dimensions as AWS documents them for Container Insights on EKS:
  - nodes not ready: `cluster_failed_node_count` (ClusterName) above the allowed count for five minutes (a node
    counts as failed while it has any node condition: NotReady, memory, disk or PID pressure);
  - per catalogued service, replicas unavailable: `service_number_of_running_pods` (Service, Namespace, ClusterName)
    below the service's minimum replicas for five minutes;
  - per catalogued service, pods restarting: `pod_number_of_container_restarts` (PodName, Namespace, ClusterName, where
    PodName is the workload's name) above the allowed count; the count is cumulative over a pod's life, so it clears
    when the restarting pods are replaced;
  - the load balancer: `HTTPCode_ELB_5XX_Count` (and the targets' `HTTPCode_Target_5XX_Count`) summed over five
    minutes, and `TargetResponseTime` averaged, in `AWS/ApplicationELB`. The load balancer controller names the
    ALB, so these alarms use Metrics Insights over every ALB of the account and region: the bootstrap gives each
    environment its own account, where the stack's ALBs are the only ones.
- **Dashboard** `<prefix>`: nodes, pods and restarts per service, CPU and memory, the load balancer's requests,
  errors and latency, and every alarm of this component.

Inputs (`ClusterMonitoringArgs`): name prefix, cluster name and OIDC provider, add-on build, the alerts topic, the
services to watch (`WatchedService`), thresholds (`MonitoringThresholds`), what the add-on must wait for.
Outputs: `addon_name`, `dashboard_name`, `alarm_names`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .irsa import IrsaArgs, IrsaRole, OidcProvider

ADDON = "amazon-cloudwatch-observability"
AGENT_NAMESPACE = "amazon-cloudwatch"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
AGENT_POLICY = "CloudWatchAgentServerPolicy"
INSIGHTS = "ContainerInsights"
ALB = "AWS/ApplicationELB"
PERIOD = 60


@dataclass(frozen=True)
class WatchedService:
    name: str
    namespace: str
    min_replicas: int
    public: bool = False


@dataclass(frozen=True)
class MonitoringThresholds:
    failed_nodes: int = 0  # more than this many failed nodes for five minutes alarms
    container_restarts: int = 3  # more restarts than this across a service's pods alarms
    elb_5xx_per_5_minutes: int = 10
    target_5xx_per_5_minutes: int = 25
    target_response_ms: int = 1000  # average over five minutes


@dataclass(frozen=True)
class ClusterMonitoringArgs:
    addon_version: str  # an exact build, e.g. "v4.1.0-eksbuild.1"
    name_prefix: str = "platform"
    region: str = "ap-northeast-2"
    cluster_name: pulumi.Input[str] | None = None
    oidc: OidcProvider | None = None
    alerts_topic_arn: pulumi.Input[str] | None = None
    services: tuple[WatchedService, ...] = ()
    watch_load_balancers: bool = True
    thresholds: MonitoringThresholds = field(default_factory=MonitoringThresholds)
    wait_for: tuple[pulumi.Resource, ...] = ()


def alb_query(statistic: str, metric: str) -> str:
    return f'SELECT {statistic}({metric}) FROM SCHEMA("{ALB}", LoadBalancer)'


def dashboard_body(cluster: str, region: str, services: Sequence[WatchedService], alarm_arns: Sequence[str],
                   load_balancers: bool) -> dict:
    """The dashboard's JSON (pure: tests read it)."""

    def metric_widget(title: str, metrics: list, x: int, y: int, stat: str = "Average", width: int = 12) -> dict:
        return {
            "type": "metric", "x": x, "y": y, "width": width, "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": 300, "view": "timeSeries",
                           "metrics": metrics},
        }

    c = ["ClusterName", cluster]
    widgets = [
        metric_widget("Nodes: total and failed", [[INSIGHTS, "cluster_node_count", *c],
                                                  [INSIGHTS, "cluster_failed_node_count", *c]], 0, 0, "Maximum"),
        metric_widget("Node CPU and memory utilisation (%)", [[INSIGHTS, "node_cpu_utilization", *c],
                                                              [INSIGHTS, "node_memory_utilization", *c]], 12, 0),
        metric_widget(
            "Running pods per service",
            [[INSIGHTS, "service_number_of_running_pods", "Service", s.name, "Namespace", s.namespace, *c]
             for s in services], 0, 6, "Minimum",
        ),
        metric_widget(
            "Container restarts per service",
            [[INSIGHTS, "pod_number_of_container_restarts", "PodName", s.name, "Namespace", s.namespace, *c]
             for s in services], 12, 6, "Maximum",
        ),
    ]
    if load_balancers:
        widgets += [
            {
                "type": "metric", "x": 0, "y": 12, "width": 12, "height": 6,
                "properties": {"title": "Load balancers: requests and 5xx", "region": region, "period": 300,
                               "view": "timeSeries",
                               "metrics": [[{"expression": alb_query("SUM", m), "id": f"q{i}", "label": m}]
                                           for i, m in enumerate(("RequestCount", "HTTPCode_ELB_5XX_Count",
                                                                  "HTTPCode_Target_5XX_Count"))]},
            },
            {
                "type": "metric", "x": 12, "y": 12, "width": 12, "height": 6,
                "properties": {"title": "Load balancers: target response time (s)", "region": region, "period": 300,
                               "view": "timeSeries",
                               "metrics": [[{"expression": alb_query("AVG", "TargetResponseTime"), "id": "q0",
                                             "label": "average"}],
                                           [{"expression": alb_query("MAX", "TargetResponseTime"), "id": "q1",
                                             "label": "slowest"}]]},
            },
        ]
    widgets.append(
        {"type": "alarm", "x": 0, "y": 18, "width": 24, "height": 4,
         "properties": {"title": "Alarms", "alarms": sorted(alarm_arns)}}
    )
    return {"widgets": widgets}


class ClusterMonitoring(pulumi.ComponentResource):
    addon_name: pulumi.Output[str]
    dashboard_name: pulumi.Output[str]
    alarm_names: list[str]

    def __init__(self, name: str, args: ClusterMonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:monitoring:ClusterMonitoring", name, None, opts)
        if args.cluster_name is None or args.oidc is None or args.alerts_topic_arn is None:
            raise ValueError(f"{name}: cluster_name, oidc and alerts_topic_arn are set by the program")
        child = pulumi.ResourceOptions(parent=self)
        partition = aws.get_partition(opts=pulumi.InvokeOptions(parent=self)).partition
        p = args.name_prefix
        t = args.thresholds

        role = IrsaRole(
            f"{name}-agent",
            IrsaArgs(
                oidc=args.oidc,
                namespace=AGENT_NAMESPACE,
                service_account=AGENT_SERVICE_ACCOUNT,
                managed_policy_arns=(f"arn:{partition}:iam::aws:policy/{AGENT_POLICY}",),
                description=f"CloudWatch agent of {p} (Container Insights)",
            ),
            opts=child,
        )
        addon = aws.eks.Addon(
            f"{name}-{ADDON}",
            cluster_name=args.cluster_name,
            addon_name=ADDON,
            addon_version=args.addon_version,
            service_account_role_arn=role.role_arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)),
        )

        alarms: list[aws.cloudwatch.MetricAlarm] = []
        self.alarm_names = []

        def alarm(suffix: str, description: str, **settings) -> None:
            settings.setdefault("treat_missing_data", "missing")
            alarm_name = f"{p}-{suffix}"
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{suffix}",
                    name=alarm_name,
                    alarm_description=description,
                    alarm_actions=[args.alerts_topic_arn],
                    ok_actions=[args.alerts_topic_arn],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[addon]),
                    **settings,
                )
            )
            self.alarm_names.append(alarm_name)

        cluster_dimension = {"ClusterName": args.cluster_name}
        alarm(
            "nodes-not-ready", f"More than {t.failed_nodes} node(s) of the cluster failed (NotReady or under pressure) for 5 minutes",
            namespace=INSIGHTS, metric_name="cluster_failed_node_count", dimensions=cluster_dimension,
            statistic="Maximum", period=PERIOD, evaluation_periods=5, comparison_operator="GreaterThanThreshold",
            threshold=t.failed_nodes,
        )
        for service in args.services:
            alarm(
                f"{service.name}-replicas-unavailable",
                f"Service {service.name}: fewer than its {service.min_replicas} minimum replicas running for 5 minutes",
                namespace=INSIGHTS, metric_name="service_number_of_running_pods",
                dimensions={"Service": service.name, "Namespace": service.namespace, **cluster_dimension},
                statistic="Minimum", period=PERIOD, evaluation_periods=5, comparison_operator="LessThanThreshold",
                threshold=service.min_replicas,
                # No data means no running pod reported at all: as unavailable as it gets.
                treat_missing_data="breaching",
            )
            alarm(
                f"{service.name}-pods-restarting",
                f"Service {service.name}: its containers restarted more than {t.container_restarts} times",
                namespace=INSIGHTS, metric_name="pod_number_of_container_restarts",
                dimensions={"PodName": service.name, "Namespace": service.namespace, **cluster_dimension},
                statistic="Maximum", period=PERIOD, evaluation_periods=3, comparison_operator="GreaterThanThreshold",
                threshold=t.container_restarts, treat_missing_data="notBreaching",
            )
        if args.watch_load_balancers:
            for suffix, description, statistic, metric, threshold in (
                ("alb-5xx", f"Load balancer: more than {t.elb_5xx_per_5_minutes} 5xx responses of its own in 5 minutes",
                 "SUM", "HTTPCode_ELB_5XX_Count", t.elb_5xx_per_5_minutes),
                ("alb-target-5xx", f"Load balancer: targets answered more than {t.target_5xx_per_5_minutes} 5xx in 5 minutes",
                 "SUM", "HTTPCode_Target_5XX_Count", t.target_5xx_per_5_minutes),
                ("alb-target-response-time", f"Load balancer: targets took more than {t.target_response_ms} ms on average for 5 minutes",
                 "AVG", "TargetResponseTime", t.target_response_ms / 1000),  # the metric is in seconds
            ):
                alarm(
                    suffix, description,
                    metric_queries=[
                        aws.cloudwatch.MetricAlarmMetricQueryArgs(
                            id="q1", expression=alb_query(statistic, metric), period=300, return_data=True
                        )
                    ],
                    evaluation_periods=1, comparison_operator="GreaterThanThreshold", threshold=threshold,
                    treat_missing_data="notBreaching",
                )

        dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=p,
            dashboard_body=pulumi.Output.all(args.cluster_name, *[a.arn for a in alarms]).apply(
                lambda values: json.dumps(
                    dashboard_body(values[0], args.region, args.services, values[1:], args.watch_load_balancers)
                )
            ),
            opts=child,
        )

        self.addon_name = addon.addon_name
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs({"dashboardName": self.dashboard_name})
