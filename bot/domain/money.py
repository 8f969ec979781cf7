"""Amounts in several currencies, kept apart: a pipeline never adds EUR to USD."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

Bag = dict[str, Decimal]


def add(bag: Bag, currency: str, amount: Decimal) -> None:
    """``bag[currency] += amount``; a currency not yet in the bag starts at ``amount`` (the digests add
    millions of amounts at a large org: no zero made and added each time)."""
    bag[currency] = bag[currency] + amount if currency in bag else amount


def add_bag(bag: Bag, other: Mapping[str, Decimal]) -> None:
    """``bag += other``, currency by currency."""
    if not bag:
        bag.update(other)  # into nothing: the same amounts (they are immutable)
        return
    for currency, amount in other.items():
        add(bag, currency, amount)


def total(items: Iterable[tuple[str, Decimal]]) -> Bag:
    out: Bag = {}
    for currency, amount in items:
        add(out, currency, amount)
    return out


def fmt_amount(amount: Decimal) -> str:
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def fmt(bag: Mapping[str, Decimal]) -> str:
    """``USD 120,000 + EUR 40,000``; ``0`` for an empty bag."""
    parts = [f"{c} {fmt_amount(a)}" for c, a in sorted(bag.items(), key=lambda kv: (-kv[1], kv[0])) if a]
    return " + ".join(parts) or "0"
