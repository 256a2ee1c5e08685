"""`make cost STACK=...`: the monthly estimate of a stack, printed as a table in the manner of `infracost breakdown`.

Runs the program for the stack under the offline engine in update mode (every value known), prices the plan with the
region's table (`prices/<region>.csv`) and the stack's usage file (`cost/usage.<stack>.yml`, optional), and prints
one row per billed component: monthly quantity, unit, unit price, monthly cost and the row's confidence, or
"not priced". Prod also gets the commitment advice (`commitments.py`).
Exit status: 0, or 2 on bad input (unknown stack, invalid stack config, invalid usage file or price table).

`monthly_total(plan)` and `summary_line(plan)` are what the preview and the diff call.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path

import pulumi

from .. import engine
from . import commitments, prices
from .estimate import CENT, Estimate, estimate
from .usage import UsageError, load as load_usage

USAGE_DIR = engine.ROOT / "cost"


def usage_path(stack: str) -> Path:
    return USAGE_DIR / f"usage.{stack}.yml"


def estimate_plan(plan: engine.Plan, usage_file: Path | None = None, table: prices.PriceTable | None = None) -> Estimate:
    table = table or prices.load(_region(plan))
    path = usage_file if usage_file is not None else usage_path(plan.stack)
    usage = load_usage(path, [(r.name, r.type) for r in plan])
    return estimate(plan, table, usage)


def _region(plan: engine.Plan) -> str:
    from .estimate import region_of

    return region_of(plan)


def monthly_total(plan: engine.Plan) -> Decimal:
    """The plan's monthly total in USD (upper bound: spot at on-demand), with the stack's usage file."""
    return estimate_plan(plan).total.quantize(CENT)


def monthly_delta(base: engine.Plan, head: engine.Plan, usage_file: Path | None = None) -> tuple[Decimal, Decimal, Decimal]:
    """(base total, head total, head - base) in USD a month: both plans priced with the same (current) table and the
    same usage file, read against the resources of both, so the delta is the change's alone."""
    table = prices.load(_region(head))
    path = usage_file if usage_file is not None else usage_path(head.stack)
    usage = load_usage(path, [(r.name, r.type) for plan in (base, head) for r in plan])
    before = estimate(base, table, usage).total.quantize(CENT)
    after = estimate(head, table, usage).total.quantize(CENT)
    return before, after, after - before


def delta_line(base: engine.Plan, head: engine.Plan) -> str:
    """One line for the diff's summary: the monthly cost delta of the change."""
    try:
        before, after, delta = monthly_delta(base, head)
    except (UsageError, prices.PriceTableError) as error:
        return f"Monthly cost: not estimated ({error})"
    sign = "+" if delta >= 0 else "-"
    return f"Monthly cost: {sign}${abs(delta):,} ({money(before)} => {money(after)}; priced lines only, spot at on-demand)"


def money(value: Decimal | None) -> str:
    return "not priced" if value is None else f"${value.quantize(CENT):,}"


def summary_line(plan: engine.Plan) -> str:
    """One line for the preview's summary."""
    try:
        result = estimate_plan(plan)
    except (UsageError, prices.PriceTableError) as error:
        return f"not estimated ({error})"
    spread = f" (spot at maximum discount: {money(result.total_low)})" if result.total_low != result.total else ""
    missing = f"; {len(result.not_priced)} lines not priced" if result.not_priced else ""
    return f"{money(result.total)}{spread}{missing} (`make cost STACK={plan.stack}` for the breakdown)"


def _qty(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.001')):,}".rstrip("0").rstrip(".")
    return text or "0"


def _price(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return f"${text}"


def render(result: Estimate) -> str:
    head = f" {'Name':<58} {'Monthly qty':>13} {'Unit':<13} {'Unit price':>14} {'Monthly cost':>22}  Confidence"
    out = [
        f"Project: platform, stack {result.stack} ({result.region}), 730 hours a month",
        f"Prices: {result.table.path.relative_to(engine.ROOT) if result.table.path.is_relative_to(engine.ROOT) else result.table.path}"
        f" ({len(result.table.rows)} rows, dated {' to '.join(sorted(set(result.table.dates)))})",
        "",
        head,
        "",
    ]
    for name, type_, lines in result.by_resource():
        out.append(f" {name} ({type_})")
        for index, line in enumerate(lines):
            branch = "└─" if index == len(lines) - 1 else "├─"
            label = f"{branch} {line.component}"
            if line.priced:
                if line.unit_range is not None:
                    price = f"{_price(line.unit_range[0])}-{_price(line.unit_range[1])}"
                    cost = f"{money(line.monthly_low)}-{money(line.monthly)}"
                else:
                    price, cost = _price(line.unit_price), money(line.monthly)
                if line.usage_based:
                    cost += "*"
                mark = line.row.confidence if line.row else ""
            else:
                price, cost, mark = "", "not priced", (line.usage_type or "-")
            out.append(f" {label[:58]:<58} {_qty(line.quantity):>13} {line.unit:<13} {price:>14} {cost:>22}  {mark}")
            if line.note:
                out.append(f"    {line.note}")
        out.append("")
    priced = [l for l in result.lines if l.priced]
    out += [
        f" OVERALL TOTAL (monthly, spot at on-demand){'':<19} {money(result.total):>22}",
        f" with spot at its maximum discount{'':<28} {money(result.total_low):>22}",
        "",
        f" {len(priced)} lines priced, {len(result.not_priced)} not priced (their usage type has no row in the table;"
        " download the offer file and run the import script)",
        f" {result.free} resources bill nothing themselves (components, networking plumbing, IAM, policies,"
        " Kubernetes objects running on the priced nodes)",
        " * usage-based: priced at the usage file's figures (zero when the usage file does not set them)",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.offline.cost.report", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="staging")
    parser.add_argument("--usage", metavar="FILE", help="usage file (default cost/usage.<stack>.yml if present)")
    args = parser.parse_args(argv)
    if args.usage and not Path(args.usage).is_file():
        print(f"error: --usage: expected a usage file, got {args.usage!r} (no such file)", file=sys.stderr)
        return 2
    try:
        plan = engine.run(args.stack, preview=False)
        result = estimate_plan(plan, Path(args.usage) if args.usage else None)
    except (pulumi.RunError, UsageError, prices.PriceTableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render(result))
    advice = commitments.advise(plan, result)
    if advice is not None:
        print()
        print(advice.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
