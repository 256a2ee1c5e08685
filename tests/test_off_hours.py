"""Off-hours schedules: staging's node groups shrink outside Seoul working hours and come back; prod has none."""

from __future__ import annotations

from .conftest import plan_for
from .data_helpers import config

SCHEDULE = "aws:autoscaling/schedule:Schedule"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def test_staging_schedules_act_on_the_node_groups_autoscaling_groups():
    plan = plan_for("staging")
    off = config("staging", "costControls")["offHours"]
    cluster = config("staging", "cluster")["nodeGroups"]
    groups = {g.props["labels"]["platform.io/node-group"]: g for g in plan.of_type(NODE_GROUP)}
    schedules = {s.name: s for s in plan.of_type(SCHEDULE)}
    assert sorted(schedules) == sorted(f"off-hours-{g}-{p}" for g in off["nodeGroups"] for p in ("stop", "start"))
    for group, sizes in off["nodeGroups"].items():
        asg = groups[group].outputs["resources"][0]["autoscalingGroups"][0]["name"]
        stop, start = schedules[f"off-hours-{group}-stop"].props, schedules[f"off-hours-{group}-start"].props
        assert stop["autoscalingGroupName"] == start["autoscalingGroupName"] == asg
        assert stop["timeZone"] == start["timeZone"] == "Asia/Seoul"
        assert (stop["recurrence"], start["recurrence"]) == (off["stop"], off["start"])
        assert (stop["minSize"], stop["maxSize"], stop["desiredCapacity"]) == (
            sizes["minSize"], sizes["maxSize"], sizes["desiredSize"])
        # Working hours: the sizes platform:cluster declares.
        working = cluster[group]
        assert (start["minSize"], start["maxSize"], start["desiredCapacity"]) == (
            working["minSize"], working["maxSize"], working["desiredSize"])
        assert groups[group].urn in schedules[f"off-hours-{group}-stop"].property_dependencies["autoscalingGroupName"]


def test_the_system_group_keeps_a_node_for_the_autoscaler_and_coredns():
    stop = next(s for s in plan_for("staging").of_type(SCHEDULE) if s.name == "off-hours-system-stop")
    assert stop.props["minSize"] >= 1


def test_prod_has_no_off_hours():
    assert plan_for("prod").of_type(SCHEDULE) == []
