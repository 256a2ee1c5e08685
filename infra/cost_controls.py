"""Wiring of the cost controls: off-hours schedules on the node groups, the cleanup job, the stack's budget.

`build_cost_controls(cfg, cluster, alarms, opts)` declares what `platform:costControls` asks for: the off-hours
schedules act on the autoscaling groups of the cluster's node groups (working sizes from `platform:cluster`), and the
cleanup job and the budget report to the alarms' alerts topic.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi

from components.alarms import Alarms
from components.budget import Budget
from components.cleanup import CleanupJob
from components.cluster import Cluster, NodeGroupArgs
from components.off_hours import OffHours, OffHoursArgs, OffHoursGroup, Sizes, node_group_asg_name

from .config import StackConfig


def _working(spec: NodeGroupArgs) -> Sizes:
    return Sizes(min_size=spec.min_size, max_size=spec.max_size, desired_size=spec.desired_size)


def build_cost_controls(cfg: StackConfig, cluster: Cluster, alarms: Alarms, opts: pulumi.ResourceOptions) -> None:
    controls = cfg.cost_controls
    if controls.off_hours is not None:
        specs = {"system": cfg.cluster.system_nodes, "workload": cfg.cluster.workload_nodes}
        OffHours(
            "off-hours",
            OffHoursArgs(
                name_prefix=cfg.name_prefix,
                timezone=controls.off_hours.timezone,
                stop=controls.off_hours.stop,
                start=controls.off_hours.start,
                groups={
                    group: OffHoursGroup(
                        autoscaling_group_name=node_group_asg_name(cluster.node_groups[group]),
                        off=sizes,
                        working=_working(specs[group]),
                    )
                    for group, sizes in controls.off_hours.groups.items()
                },
            ),
            opts,
        )
    if controls.cleanup is not None:
        CleanupJob(
            "cleanup",
            replace(controls.cleanup, topic_arn=alarms.topic_arn, topic_kms_key_arn=alarms.kms_key_arn),
            opts,
        )
    if controls.budget is not None:
        Budget("budget", replace(controls.budget, topic_arn=alarms.topic_arn), opts)
