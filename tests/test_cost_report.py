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
