"""The Monday team meeting: the team's important deals, reviewed one by one.

The cadence (000): on Monday each rep reports to their manager, and the
important opportunities are analysed one by one in the team meeting, where
an action plan is agreed. Important means large and late: deals further down
the funnel first, the largest first within a stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.deal import DealFacts
from bot.domain.playbook import Playbook


@dataclass(frozen=True)
class MeetingRow:
    deal: DealFacts  # in its own amount and currency
    owner: str  # the rep's name


def meeting_order(deals: Sequence[DealFacts], playbook: Playbook, *,
                  amount_of: Callable[[DealFacts], Decimal] | None = None) -> list[DealFacts]:
    """Open deals, late-stage first and largest first (``amount_of``: the amount to compare, e.g. converted)."""
    size = amount_of or (lambda d: d.amount)
    open_deals = [d for d in deals if not playbook.is_closed(d.stage)]
    return sorted(open_deals, key=lambda d: (-playbook.index(d.stage), -size(d), d.ref))
