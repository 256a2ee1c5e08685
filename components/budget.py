"""A monthly AWS Budget for the stack, alerting the alerts topic.

One `aws.budgets.Budget` (COST, USD, MONTHLY) with a notification per threshold: actual spend past each
`actual_threshold_percents` and forecast spend past each `forecast_threshold_percents`, all to the SNS alerts topic
(whose policy must let budgets.amazonaws.com publish, for this account only: see components/alarms.py). With
`cost_filter_tags` the budget counts only resources carrying those tags; such a tag must be activated as a cost
allocation tag in the Billing console (once per account) before the budget sees any cost. A budget with alerts and
no actions is free.

Inputs (`BudgetArgs`): name, monthly limit in USD, thresholds, the topic ARN, cost filter tags. Outputs: `name`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class BudgetArgs:
    name: str
    monthly_limit_usd: int
    topic_arn: pulumi.Input[str] | None = None
    actual_threshold_percents: tuple[int, ...] = (80, 100)
    forecast_threshold_percents: tuple[int, ...] = (100,)
    cost_filter_tags: Mapping[str, str] = field(default_factory=dict)


class Budget(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:cost:Budget", name, None, opts)
        if args.topic_arn is None:
            raise ValueError("budget: topic_arn is required (alerts nobody receives protect nothing)")
        notifications = [
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
                notification_type=kind,
                subscriber_sns_topic_arns=[args.topic_arn],
            )
            for kind, percents in (("ACTUAL", args.actual_threshold_percents), ("FORECASTED", args.forecast_threshold_percents))
            for percent in percents
        ]
        filters = [
            aws.budgets.BudgetCostFilterArgs(
                name="TagKeyValue", values=[f"user:{key}${value}" for key, value in sorted(args.cost_filter_tags.items())]
            )
        ] if args.cost_filter_tags else None
        budget = aws.budgets.Budget(
            f"{name}-budget",
            name=args.name,
            budget_type="COST",
            limit_amount=str(args.monthly_limit_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=filters,
            notifications=notifications,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = budget.name
        self.register_outputs({"name": self.name})
