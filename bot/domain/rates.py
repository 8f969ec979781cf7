"""Converting amounts into one reporting currency at the rates the company sets.

A rate says that, from ``valid_from`` on, one unit of ``frm`` is worth
``rate`` units of ``to``. A conversion uses the latest rate in force on the
day asked for: the pair as given, its inverse, or through one currency both
are quoted against (EUR->USD and CNY->USD give EUR->CNY). Nothing here reads
the clock or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Rate:
    valid_from: date
    frm: str
    to: str
    rate: Decimal


class Rates:
    """The company's dated rates, looked up by pair and day."""

    def __init__(self, rates: Iterable[Rate]) -> None:
        self._by_pair: dict[tuple[str, str], list[Rate]] = {}
        for r in sorted(rates, key=lambda r: r.valid_from):
            self._by_pair.setdefault((r.frm, r.to), []).append(r)

    def __bool__(self) -> bool:
        return bool(self._by_pair)

    def _direct(self, frm: str, to: str, on: date) -> Decimal | None:
        found = [r for r in self._by_pair.get((frm, to), ()) if r.valid_from <= on]
        if found:
            return found[-1].rate
        back = [r for r in self._by_pair.get((to, frm), ()) if r.valid_from <= on]
        return Decimal(1) / back[-1].rate if back else None

    def rate(self, frm: str, to: str, on: date) -> Decimal | None:
        """Units of ``to`` per unit of ``frm`` on ``on``; None when no rate in force connects them."""
        if frm == to:
            return Decimal(1)
        direct = self._direct(frm, to, on)
        if direct is not None:
            return direct
        pivots = sorted({c for pair in self._by_pair for c in pair} - {frm, to})
        for pivot in pivots:
            a, b = self._direct(frm, pivot, on), self._direct(pivot, to, on)
            if a is not None and b is not None:
                return a * b
        return None

    def convert(self, amount: Decimal, frm: str, to: str, on: date) -> Decimal | None:
        """``amount`` of ``frm`` in ``to`` (rounded to cents), or None when there is no rate."""
        r = self.rate(frm, to, on)
        return None if r is None else (amount * r).quantize(_CENT)

    def converter(self, to: str, on: date) -> Callable[[Decimal, str], Decimal | None]:
        """``convert(amount, frm)`` into ``to`` on ``on``, each currency's rate looked up once: for many amounts."""
        found: dict[str, Decimal | None] = {}

        def convert(amount: Decimal, frm: str) -> Decimal | None:
            if frm not in found:
                found[frm] = self.rate(frm, to, on)
            r = found[frm]
            return None if r is None else (amount * r).quantize(_CENT)
        return convert


_CENT = Decimal("0.01")
