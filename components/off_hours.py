"""Off-hours scaling: scheduled actions that shrink node groups' autoscaling groups outside working hours.

Two `aws.autoscaling.Schedule` actions per node group, on the autoscaling group EKS created for it: at `stop` the
group's min/max/desired become the off-hours sizes (typically 0/0/0 for workloads, 1/1/1 for the system group that
carries CoreDNS and cluster-autoscaler), at `start` the working sizes come back. Recurrences are cron expressions
(minute hour day month weekday) read in `timezone` (an IANA name such as Asia/Seoul), so daylight-saving changes and
the zone's offset are AWS's job, not a UTC conversion here.

Interplay with cluster-autoscaler: the autoscaler only ever moves the desired size between the autoscaling group's
min and max, so with max 0 at night it cannot start nodes (pending pods wait for `start`); at `start` the group gets
its working sizes back and the autoscaler resumes from there. The managed node group's `scalingConfig` in Pulumi keeps
the working sizes; run `pulumi up` during working hours (or `pulumi refresh` first), or it resets min/max at night.

Inputs (`OffHoursArgs`): name prefix, timezone, stop and start recurrences, and per node group the autoscaling group
name (an output of the node group) with its off-hours and working sizes. Outputs: `schedule_names`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Sizes:
    min_size: int
    max_size: int
    desired_size: int


@dataclass(frozen=True)
class OffHoursGroup:
    autoscaling_group_name: pulumi.Input[str]
    off: Sizes
    working: Sizes


@dataclass(frozen=True)
class OffHoursArgs:
    name_prefix: str = "platform"
    timezone: str = "Asia/Seoul"
    stop: str = "0 20 * * 1-5"  # 20:00 Monday to Friday
    start: str = "0 8 * * 1-5"  # 08:00 Monday to Friday: the weekend stays off
    groups: Mapping[str, OffHoursGroup] = field(default_factory=dict)


def node_group_asg_name(node_group: aws.eks.NodeGroup) -> pulumi.Output[str]:
    """The autoscaling group EKS created for a managed node group (its first and only one)."""
    return node_group.resources.apply(lambda resources: resources[0].autoscaling_groups[0].name)


class OffHours(pulumi.ComponentResource):
    schedule_names: list[pulumi.Output[str]]

    def __init__(self, name: str, args: OffHoursArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:cost:OffHours", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.schedule_names = []
        for group, spec in sorted(args.groups.items()):
            for phase, recurrence, sizes in (("stop", args.stop, spec.off), ("start", args.start, spec.working)):
                schedule = aws.autoscaling.Schedule(
                    f"{name}-{group}-{phase}",
                    scheduled_action_name=f"{args.name_prefix}-{group}-off-hours-{phase}",
                    autoscaling_group_name=spec.autoscaling_group_name,
                    recurrence=recurrence,
                    time_zone=args.timezone,
                    min_size=sizes.min_size,
                    max_size=sizes.max_size,
                    desired_capacity=sizes.desired_size,
                    opts=child,
                )
                self.schedule_names.append(schedule.scheduled_action_name)
        self.register_outputs({})
