"""`platform:costControls` validation: each bad value is one problem naming its key, before any resource."""

from __future__ import annotations

import pytest

from .conftest import change, config_error, single, run_mutated


@pytest.mark.parametrize(
    "stack, path, value, key",
    [
        ("prod", "offHours", {"enabled": True, "nodeGroups": {"workload": {"minSize": 0, "maxSize": 0, "desiredSize": 0}}},
         "platform:costControls.offHours.enabled"),
        ("staging", "offHours.timezone", "Mars/Olympus", "platform:costControls.offHours.timezone"),
        ("staging", "offHours.stop", "at eight", "platform:costControls.offHours.stop"),
        ("staging", "offHours.nodeGroups.batch", {"minSize": 0, "maxSize": 0, "desiredSize": 0},
         "platform:costControls.offHours.nodeGroups.batch"),
        ("staging", "offHours.nodeGroups.workload.desiredSize", 3, "platform:costControls.offHours.nodeGroups.workload.desiredSize"),
        ("staging", "cleanup.schedule", "every night", "platform:costControls.cleanup.schedule"),
        ("staging", "cleanup.logRetentionDays", 10, "platform:costControls.cleanup.logRetentionDays"),
        ("staging", "cleanup.unattachedVolumeDays", 0, "platform:costControls.cleanup.unattachedVolumeDays"),
        ("staging", "cleanup.deleet", True, "platform:costControls.cleanup.deleet"),
        ("prod", "budget.monthlyLimitUsd", "lots", "platform:costControls.budget.monthlyLimitUsd"),
        ("prod", "budget.actualThresholdsPercent", [80, "all"], "platform:costControls.budget.actualThresholdsPercent"),
    ],
)
def test_bad_values_name_their_key(stack, path, value, key):
    single(config_error(stack, change("costControls", path, value)), key)


def test_prod_cleanup_reports_only_unless_told():
    def without_delete(config):
        config["platform:costControls"]["cleanup"].pop("delete")

    fn = run_mutated("prod", without_delete).one("aws:lambda/function:Function")
    assert fn.props["environment"]["variables"]["DELETE"] == "false"


def test_cleanup_and_off_hours_can_be_switched_off():
    plan = run_mutated("staging", change("costControls", "offHours.enabled", False))
    assert plan.of_type("aws:autoscaling/schedule:Schedule") == []
    plan = run_mutated("staging", change("costControls", "cleanup", {"enabled": False}))
    assert plan.of_type("aws:lambda/function:Function") == []
