"""Rewrite a region's price table from an AWS Price List offer file the user has downloaded.

    python -m infra.offline.cost.import_offer OFFER.json [OFFER.json ...] [--region ap-northeast-2] [--stacks staging,prod]

The offer file is AWS's public bulk format (`https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offer>/current/
<region>/index.json`): `products` (sku -> productFamily, attributes with `usagetype`, `regionCode`, engine, operating
system...) and `terms.OnDemand` / `terms.Reserved` (sku -> offer term -> `priceDimensions` with `unit`, `beginRange`,
`pricePerUnit.USD`; reserved terms carry `termAttributes` LeaseContractLength, OfferingClass, PurchaseOption).

For every row of the table whose usage type and variant the offer holds, the price is replaced with the offer's
first-tier price in the row's unit, the date with the offer's publication date and the source with the offer's name;
the confidence becomes `confirmed` when the earlier figure agrees, else `one-source`. Standard no-upfront 1- and
3-year reserved rates of priced usage types are added or updated. With `--stacks`, usage types the estimator reports
"not priced" for those stacks are added when the offer holds them. Rows the offer does not mention stay as they were.
Exit status: 0, or 2 on bad input (unreadable file, not an offer file, an offer for another region).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from . import prices

# How a variant narrows the products sharing one usage type (attributes absent from a product are not checked).
VARIANT_FILTERS: dict[str, dict[str, str]] = {
    "Linux": {"operatingSystem": "Linux", "preInstalledSw": "NA", "tenancy": "Shared", "capacitystatus": "Used"},
    "PostgreSQL": {"databaseEngine": "PostgreSQL", "deploymentOption": "Single-AZ"},
    "MySQL": {"databaseEngine": "MySQL", "deploymentOption": "Single-AZ"},
    "Valkey": {"cacheEngine": "Valkey"},
    "Redis": {"cacheEngine": "Redis"},
    "RabbitMQ": {"brokerEngine": "RabbitMQ"},
    "Application": {"productFamily": "Load Balancer-Application"},
    "Network": {"productFamily": "Load Balancer-Network"},
    "CloudWatch Logs": {"servicecode": "AmazonCloudWatch"},
    "S3 Standard": {"servicecode": "AmazonS3", "volumeType": "Standard"},
    "Lambda": {"servicecode": "AWSLambda"},
    "SNS": {"servicecode": "AmazonSNS"},
    "SQS": {"servicecode": "AWSQueueService"},
}
RESERVED = {
    "Reserved-1yr-NoUpfront": {"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"},
    "Reserved-3yr-NoUpfront": {"LeaseContractLength": "3yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"},
}


class OfferError(ValueError):
    pass


@dataclass(frozen=True)
class Offer:
    path: Path
    code: str
    published: str
    products: Mapping[str, Any]
    terms: Mapping[str, Any]

    @property
    def source(self) -> str:
        return f"AWS Price List offer {self.code} (published {self.published})"


def read_offer(path: Path, region: str) -> Offer:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise OfferError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("products"), dict) or not isinstance(raw.get("terms"), dict):
        raise OfferError(f"{path}: products and terms: expected an AWS Price List offer file with both, found neither")
    regions = {
        p.get("attributes", {}).get("regionCode") for p in raw["products"].values() if p.get("attributes", {}).get("regionCode")
    }
    if regions and regions != {region}:
        raise OfferError(f"{path}: regionCode: expected {region}, got {', '.join(sorted(regions))}")
    published = str(raw.get("publicationDate", ""))[:10]
    if not published:
        raise OfferError(f"{path}: publicationDate: expected the offer's publication date, got nothing")
    return Offer(path=path, code=str(raw.get("offerCode", "?")), published=published, products=raw["products"],
                 terms=raw["terms"])


def _matches(product: Mapping[str, Any], usage_type: str, variant: str) -> bool:
    attributes = dict(product.get("attributes") or {})
    attributes.setdefault("productFamily", product.get("productFamily", ""))
    if attributes.get("usagetype") != usage_type:
        return False
    if variant and variant not in VARIANT_FILTERS:
        return False
    for key, wanted in VARIANT_FILTERS.get(variant, {}).items():
        if key in attributes and attributes[key] != wanted:
            return False
    return True


def _first_tier(term: Mapping[str, Any], unit: str | None) -> tuple[str, Decimal] | None:
    for dimension in (term.get("priceDimensions") or {}).values():
        if str(dimension.get("beginRange", "0")) not in ("0", "0.0"):
            continue
        if dimension.get("unit") in ("Quantity",):  # an upfront fee, not a rate
            continue
        if unit and dimension.get("unit") != unit:
            continue
        try:
            return str(dimension.get("unit")), Decimal(str((dimension.get("pricePerUnit") or {}).get("USD")))
        except InvalidOperation:
            continue
    return None


def _price(offer: Offer, usage_type: str, variant: str, term: str, unit: str | None) -> tuple[str, Decimal] | None:
    found: set[tuple[str, Decimal]] = set()
    for sku, product in offer.products.items():
        if not _matches(product, usage_type, variant):
            continue
        if term == "OnDemand":
            candidates = (offer.terms.get("OnDemand") or {}).get(sku, {}).values()
        else:
            wanted = RESERVED[term]
            candidates = [
                t for t in (offer.terms.get("Reserved") or {}).get(sku, {}).values()
                if all((t.get("termAttributes") or {}).get(k) == v for k, v in wanted.items())
            ]
        for candidate in candidates:
            price = _first_tier(candidate, unit)
            if price is not None:
                found.add((price[0], price[1].normalize()))
    if len(found) == 1:
        return next(iter(found))
    return None  # absent, or ambiguous (several prices for one key): leave the row alone


@dataclass
class Result:
    updated: list[tuple[str, str, str]]
    confirmed: list[tuple[str, str, str]]
    added: list[tuple[str, str, str]]


def rewrite(rows: list[prices.PriceRow], offers: Iterable[Offer], wanted: Iterable[tuple[str, str]] = ()) -> tuple[list[prices.PriceRow], Result]:
    rows = list(rows)
    result = Result(updated=[], confirmed=[], added=[])
    index = {row.key: i for i, row in enumerate(rows)}
    offers = list(offers)

    def upsert(usage_type: str, variant: str, term: str, unit: str | None, previous: prices.PriceRow | None) -> None:
        for offer in offers:
            found = _price(offer, usage_type, variant, term, unit)
            if found is None:
                continue
            found_unit, price = found
            key = (usage_type, variant, term)
            if previous is None:
                rows.append(prices.PriceRow(usage_type, variant, term, found_unit, price, "one-source", offer.published, offer.source))
                index[key] = len(rows) - 1
                result.added.append(key)
                return
            agrees = previous.price.normalize() == price and previous.confidence != "estimate"
            rows[index[key]] = replace(
                previous, price=price, unit=found_unit, date=offer.published,
                confidence="confirmed" if agrees else "one-source",
                source=f"{offer.source}; {previous.source}" if agrees else offer.source,
            )
            (result.confirmed if agrees else result.updated).append(key)
            return

    for row in list(rows):
        if row.term == "OnDemand":
            upsert(row.usage_type, row.variant, row.term, row.unit, row)
    for usage_type, variant in wanted:
        if (usage_type, variant, "OnDemand") not in index:
            upsert(usage_type, variant, "OnDemand", None, None)
    for row in [r for r in rows if r.term == "OnDemand"]:
        for term in RESERVED:
            upsert(row.usage_type, row.variant, term, None, rows[index[(row.usage_type, row.variant, term)]]
                   if (row.usage_type, row.variant, term) in index else None)
    return rows, result


def not_priced(stacks: Iterable[str]) -> list[tuple[str, str]]:
    from .. import engine
    from .report import estimate_plan

    wanted: list[tuple[str, str]] = []
    for stack in stacks:
        for line in estimate_plan(engine.run(stack, preview=False)).not_priced:
            if line.usage_type and (line.usage_type, line.variant) not in wanted:
                wanted.append((line.usage_type, line.variant))
    return wanted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.cost.import_offer", description=__doc__.splitlines()[0])
    parser.add_argument("offers", nargs="+", type=Path, metavar="OFFER.json")
    parser.add_argument("--region", default="ap-northeast-2")
    parser.add_argument("--table", type=Path, help="the table to rewrite (default infra/offline/cost/prices/<region>.csv)")
    parser.add_argument("--stacks", default="", help="comma-separated stacks whose not-priced usage types to add")
    args = parser.parse_args(argv)
    table_path = args.table or prices.PRICES_DIR / f"{args.region}.csv"
    try:
        offers = [read_offer(path, args.region) for path in args.offers]
        table = prices.parse(table_path, args.region) if table_path.exists() else prices.PriceTable(args.region, table_path, ())
        wanted = not_priced([s for s in args.stacks.split(",") if s]) if args.stacks else []
    except (OfferError, prices.PriceTableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - an unknown stack or bad config from --stacks
        import pulumi

        if isinstance(error, pulumi.RunError):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise
    rows, result = rewrite(list(table.rows), offers, wanted)
    prices.write(table_path, rows)
    print(f"{table_path}: {len(result.updated)} rows updated, {len(result.confirmed)} confirmed, {len(result.added)} added")
    for label, keys in (("updated", result.updated), ("confirmed", result.confirmed), ("added", result.added)):
        for key in keys:
            print(f"  {label}: {' / '.join(k for k in key if k)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
