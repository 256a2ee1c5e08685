"""The stack's budget: the configured monthly limit, this stack's costs only, alerts to the alerts topic."""

from __future__ import annotations

from .data_helpers import config

BUDGET = "aws:budgets/budget:Budget"


def test_budget_alerts_the_topic(plan, stack):
    (budget,) = plan.of_type(BUDGET)
    settings = config(stack, "costControls")["budget"]
    props = budget.props
    assert (props["budgetType"], props["timeUnit"], props["limitUnit"]) == ("COST", "MONTHLY", "USD")
    assert props["limitAmount"] == str(settings["monthlyLimitUsd"])
    assert props["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:stack${stack}"]}]
    topic = plan.one("aws:sns/topic:Topic")
    notifications = props["notifications"]
    assert sorted((n["notificationType"], n["threshold"]) for n in notifications) == sorted(
        [("ACTUAL", p) for p in settings["actualThresholdsPercent"]]
        + [("FORECASTED", p) for p in settings["forecastThresholdsPercent"]]
    )
    assert all(n["subscriberSnsTopicArns"] == [topic.outputs["arn"]] for n in notifications)
    assert topic.urn in budget.property_dependencies["notifications"]
