"""`platform:monitoring`: the cluster's and services' monitoring, read into `components.cluster_monitoring.ClusterMonitoringArgs`.

Keys: `observabilityAddonVersion` (required: the exact `amazon-cloudwatch-observability` EKS add-on build, as
`aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability --kubernetes-version <v>` lists
them); `watchLoadBalancers` (default true); `thresholds.failedNodes` (0), `containerRestarts` (3),
`elb5xxPer5Minutes` (10), `target5xxPer5Minutes` (25), `targetResponseMs` (1000). The cluster, its OIDC provider, the
alerts topic and the services to watch are filled in by the program.
"""

from __future__ import annotations

from components.cluster_monitoring import ClusterMonitoringArgs, MonitoringThresholds

from .cluster import EKS_ADDON_VERSION
from .reader import Section


def parse_monitoring(s: Section, *, name_prefix: str, region: str) -> ClusterMonitoringArgs:
    version = s.string("observabilityAddonVersion", pattern=EKS_ADDON_VERSION,
                       expected="an exact EKS add-on build such as 'v4.1.0-eksbuild.1'") or ""
    watch = s.boolean("watchLoadBalancers", True)
    t = s.section("thresholds")
    d = MonitoringThresholds()
    thresholds = MonitoringThresholds(
        failed_nodes=t.integer("failedNodes", d.failed_nodes, minimum=0, maximum=100),
        container_restarts=t.integer("containerRestarts", d.container_restarts, minimum=0, maximum=1000),
        elb_5xx_per_5_minutes=t.integer("elb5xxPer5Minutes", d.elb_5xx_per_5_minutes, minimum=0, maximum=1_000_000),
        target_5xx_per_5_minutes=t.integer("target5xxPer5Minutes", d.target_5xx_per_5_minutes, minimum=0, maximum=1_000_000),
        target_response_ms=t.integer("targetResponseMs", d.target_response_ms, minimum=10, maximum=60_000),
    )
    t.done()
    s.done()
    return ClusterMonitoringArgs(
        addon_version=version, name_prefix=name_prefix, region=region, watch_load_balancers=watch, thresholds=thresholds
    )
