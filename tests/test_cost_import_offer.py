"""The price-table rewrite from an AWS Price List offer file, on a small hand-written sample offer."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from infra.offline.cost import import_offer, prices

SAMPLE = Path(__file__).parent / "data" / "price_list_offer_sample.json"
TABLE = """usage_type,variant,term,unit,price_usd,confidence,date,source
APN2-BoxUsage:m7i.large,Linux,OnDemand,Hrs,0.1239,one-source,2026-06-01,earlier source
APN2-NatGateway-Hours,,OnDemand,Hrs,0.059,confirmed,2026-06-01,two earlier sources
APN2-VpcEndpoint-Hours,,OnDemand,Hrs,0.013,one-source,2026-06-01,untouched source
"""


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "ap-northeast-2.csv"
    path.write_text(TABLE)
    return path


def rows_of(path: Path) -> dict[tuple[str, str, str], prices.PriceRow]:
    return {r.key: r for r in prices.parse(path, "ap-northeast-2").rows}


def test_rewrite_from_the_sample_offer(table, capsys, monkeypatch):
    monkeypatch.setattr(import_offer, "not_priced", lambda stacks: [("APN2-NodeUsage:cache.m7g.large", "Valkey")])
    assert import_offer.main([str(SAMPLE), "--table", str(table), "--stacks", "prod"]) == 0
    rows = rows_of(table)
    source = "AWS Price List offer AmazonEC2 (published 2026-10-01)"
    # Agrees with the earlier figure (the RHEL product sharing the usage type is filtered out): confirmed.
    linux = rows[("APN2-BoxUsage:m7i.large", "Linux", "OnDemand")]
    assert (linux.price, linux.confidence, linux.date) == (Decimal("0.1239"), "confirmed", "2026-10-01")
    assert linux.source == f"{source}; earlier source"
    # Disagrees: the offer's price wins, one source.
    nat = rows[("APN2-NatGateway-Hours", "", "OnDemand")]
    assert (nat.price, nat.confidence, nat.source) == (Decimal("0.06"), "one-source", source)
    # Not in the offer: untouched.
    assert rows[("APN2-VpcEndpoint-Hours", "", "OnDemand")].source == "untouched source"
    # Standard no-upfront reserved rates added (partial upfront and convertible terms ignored).
    assert rows[("APN2-BoxUsage:m7i.large", "Linux", "Reserved-1yr-NoUpfront")].price == Decimal("0.081")
    assert rows[("APN2-BoxUsage:m7i.large", "Linux", "Reserved-3yr-NoUpfront")].price == Decimal("0.056")
    # A not-priced usage type of the stacks, added with the variant's product (Valkey, not Redis).
    cache = rows[("APN2-NodeUsage:cache.m7g.large", "Valkey", "OnDemand")]
    assert (cache.price, cache.unit, cache.confidence) == (Decimal("0.2"), "Hrs", "one-source")
    assert len(rows) == 6
    assert "1 rows updated, 1 confirmed" in capsys.readouterr().out


def test_offer_for_another_region_exits_2(table, tmp_path, capsys):
    offer = json.loads(SAMPLE.read_text())
    offer["products"]["SKUNAT"]["attributes"]["regionCode"] = "us-east-1"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(offer))
    before = table.read_text()
    assert import_offer.main([str(other), "--table", str(table)]) == 2
    assert "regionCode: expected ap-northeast-2" in capsys.readouterr().err
    assert table.read_text() == before


def test_not_an_offer_exits_2(table, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert import_offer.main([str(bad), "--table", str(table)]) == 2
    assert "products and terms" in capsys.readouterr().err


def test_shipped_table_survives_a_rewrite_round_trip(tmp_path):
    copy = tmp_path / "ap-northeast-2.csv"
    shutil.copy(prices.PRICES_DIR / "ap-northeast-2.csv", copy)
    original = prices.parse(copy, "ap-northeast-2").rows
    prices.write(copy, list(original))
    assert prices.parse(copy, "ap-northeast-2").rows == original
