"""The price table: every row sourced, dated and marked; a malformed table is refused with the line named."""

from __future__ import annotations

import pytest

from infra.offline.cost import prices


def test_shipped_table_rows_are_sourced_dated_and_marked():
    table = prices.load("ap-northeast-2")
    assert len(table.rows) > 30
    for row in table.rows:
        assert row.usage_type and row.source and row.date and row.confidence in prices.CONFIDENCE
        # Seoul usage types only, plus the two region-free rules (the Spot discount bound, free budgets)
        assert row.usage_type.startswith(("APN2-", "EC2-Spot:", "AWSBudgets-")), row.usage_type
        if row.confidence == "confirmed":
            assert ";" in row.source, f"{row.usage_type}: confirmed needs two sources"
        if row.confidence == "estimate":
            assert "not read from a source" in row.source


@pytest.mark.parametrize(
    "line, named",
    [
        ("APN2-X,,OnDemand,Hrs,cheap,one-source,2026-01-01,s", "price_usd"),
        ("APN2-X,,OnDemand,Hrs,0.1,sure,2026-01-01,s", "confidence"),
        ("APN2-X,,Forever,Hrs,0.1,one-source,2026-01-01,s", "term"),
        ("APN2-X,,OnDemand,Hrs,0.1,one-source,2026-01-01,", "source"),
    ],
)
def test_malformed_rows_are_refused(tmp_path, line, named):
    path = tmp_path / "t.csv"
    path.write_text(",".join(prices.COLUMNS) + "\n" + line + "\n")
    with pytest.raises(prices.PriceTableError) as caught:
        prices.parse(path, "ap-northeast-2")
    assert named in str(caught.value) and ":2:" in str(caught.value)
