"""`make cost`: the printed table for both stacks, the preview's one-line summary, exit 2 on bad input."""

from __future__ import annotations

import pytest

from infra.offline.cost import report
from tests.conftest import plan_for


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_table_prints_every_line_priced_or_not_priced(stack, capsys):
    assert report.main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    assert "730 hours a month" in out and "OVERALL TOTAL" in out
    assert "infra/offline/cost/prices/ap-northeast-2.csv" in out and "dated 2026-10-01" in out
    table_rows = [l for l in out.splitlines() if l.lstrip().startswith(("├─", "└─"))]
    assert table_rows and all(("$" in l) or ("not priced" in l) for l in table_rows)
    assert ("Commitment advice (prod)" in out) == (stack == "prod")


def test_monthly_total_matches_the_printed_total(capsys):
    plan = plan_for("prod")
    total = report.monthly_total(plan)
    report.main(["--stack", "prod"])
    assert f"${total:,}" in capsys.readouterr().out
    assert report.summary_line(plan).startswith(f"${total:,}")


def test_bad_usage_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "u.yml"
    bad.write_text("version: 0.1\nresource_usage:\n  network-nat-0:\n    monthly_gb: 3\n")
    assert report.main(["--stack", "staging", "--usage", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "resource_usage.network-nat-0.monthly_gb" in err and "Traceback" not in err
    assert report.main(["--stack", "staging", "--usage", str(tmp_path / "missing.yml")]) == 2
    assert report.main(["--stack", "nosuchstack"]) == 2


def test_delta_of_a_change_on_fixed_plans(tmp_path, monkeypatch):
    from dataclasses import replace as copy_with

    from infra.offline.cost.prices import parse
    from tests.test_cost_estimate import TEST_PRICES, resource

    base = [resource("pulumi:providers:aws", "aws", {"region": "ap-northeast-2"}),
            resource("aws:ec2/natGateway:NatGateway", "nat-0", {})]
    head_plan = __import__("infra.offline.engine", fromlist=["Plan"]).Plan(
        stack="test", preview=False, outputs={},
        resources=base + [resource("aws:ec2/natGateway:NatGateway", "nat-1", {})])
    base_plan = copy_with(head_plan, resources=base)
    (tmp_path / "ap-northeast-2.csv").write_text(TEST_PRICES)
    table = parse(tmp_path / "ap-northeast-2.csv", "ap-northeast-2")
    monkeypatch.setattr(report.prices, "load", lambda region: table)
    # one more NAT gateway: 730 h x 0.05 = 36.50 a month
    assert report.monthly_delta(base_plan, head_plan, tmp_path / "none.yml") == (
        report.Decimal("36.50"), report.Decimal("73.00"), report.Decimal("36.50"))
    assert report.delta_line(base_plan, base_plan).startswith("Monthly cost: +$0.00")


def test_preview_summary_prints_the_total(capsys):
    from infra.offline import preview

    assert preview.main(["--stack", "staging", "--no-policies"]) == 0
    out = capsys.readouterr().out
    total = report.monthly_total(plan_for("staging"))
    assert f"Estimated monthly cost: ${total:,}" in out
