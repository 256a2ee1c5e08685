"""The price table of a region: one CSV per region, each row an AWS Price List usage type with its price and source.

`load(region)` reads `prices/<region>.csv`; `PriceTable.find(usage_type, variant, term)` returns the row or None (the
caller then prints "not priced"). Columns: usage_type (as in the Price List, e.g. `APN2-BoxUsage:m7i.large`), variant
(the product attribute that disambiguates one usage type: engine, operating system, load balancer kind), term
(`OnDemand`, `Reserved-1yr-NoUpfront`, `Reserved-3yr-NoUpfront`, `Spot`), unit, price_usd, confidence, date, source.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

PRICES_DIR = Path(__file__).resolve().parent / "prices"
COLUMNS = ("usage_type", "variant", "term", "unit", "price_usd", "confidence", "date", "source")
CONFIDENCE = ("confirmed", "one-source", "estimate")
TERMS = ("OnDemand", "Reserved-1yr-NoUpfront", "Reserved-3yr-NoUpfront", "Spot")


class PriceTableError(ValueError):
    """The table itself is malformed (a row names the column and line)."""


@dataclass(frozen=True)
class PriceRow:
    usage_type: str
    variant: str
    term: str
    unit: str
    price: Decimal
    confidence: str
    date: str
    source: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.usage_type, self.variant, self.term)


@dataclass(frozen=True)
class PriceTable:
    region: str
    path: Path
    rows: tuple[PriceRow, ...]

    def find(self, usage_type: str, variant: str = "", term: str = "OnDemand") -> PriceRow | None:
        for row in self.rows:
            if row.key == (usage_type, variant, term):
                return row
        return None

    @property
    def dates(self) -> tuple[str, str]:
        """The oldest and newest row dates."""
        dates = sorted(r.date for r in self.rows)
        return (dates[0], dates[-1]) if dates else ("", "")


def parse(path: Path, region: str) -> PriceTable:
    rows: list[PriceRow] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise PriceTableError(f"{path}: expected the columns {','.join(COLUMNS)}, got {reader.fieldnames}")
        seen: set[tuple[str, str, str]] = set()
        for line, raw in enumerate(reader, start=2):
            try:
                price = Decimal(raw["price_usd"])
            except InvalidOperation:
                raise PriceTableError(f"{path}:{line}: price_usd: expected a decimal number, got {raw['price_usd']!r}") from None
            if price < 0:
                raise PriceTableError(f"{path}:{line}: price_usd: expected a non-negative price, got {price}")
            if raw["confidence"] not in CONFIDENCE:
                raise PriceTableError(f"{path}:{line}: confidence: expected one of {CONFIDENCE}, got {raw['confidence']!r}")
            if raw["term"] not in TERMS:
                raise PriceTableError(f"{path}:{line}: term: expected one of {TERMS}, got {raw['term']!r}")
            if not raw["source"].strip() or not raw["date"].strip():
                raise PriceTableError(f"{path}:{line}: every row needs a source and a date")
            row = PriceRow(
                usage_type=raw["usage_type"], variant=raw["variant"], term=raw["term"], unit=raw["unit"], price=price,
                confidence=raw["confidence"], date=raw["date"], source=raw["source"],
            )
            if row.key in seen:
                raise PriceTableError(f"{path}:{line}: duplicate row for {row.key}")
            seen.add(row.key)
            rows.append(row)
    return PriceTable(region=region, path=path, rows=tuple(rows))


def load(region: str, directory: Path = PRICES_DIR) -> PriceTable:
    path = directory / f"{region}.csv"
    if not path.exists():
        # No table for the region: every line will print "not priced" rather than borrow another region's prices.
        return PriceTable(region=region, path=path, rows=())
    return parse(path, region)


def write(table_path: Path, rows: list[PriceRow]) -> None:
    with table_path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.usage_type, r.variant, r.term, r.unit, format(r.price, "f"), r.confidence, r.date, r.source])
