"""What changed since last week's snapshot, and which deals need a manager's attention."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from bot.domain.deal import DealFacts
from bot.domain.gates import Kind, missing_for_next
from bot.domain.money import fmt_amount
from bot.domain.playbook import LOST, Playbook


@dataclass(frozen=True)
class Snapshot:
    """A deal's key fields as they stood at the start of a week."""

    ref: str
    stage: str
    amount: Decimal
    currency: str
    close_date: date | None
    forecast: str


class Change(StrEnum):
    NEW = "new"
    ADVANCED = "advanced"
    MOVED_BACK = "moved_back"
    SLIPPED = "slipped"  # close date moved later
    AMOUNT = "amount_changed"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class Movement:
    ref: str
    change: Change
    before: str  # a short rendering of the old value ("" for new deals)
    after: str
    # For a change of stage: the stage keys, so each reader's language can name them.
    before_key: str = ""
    after_key: str = ""

    def describe(self) -> str:
        """One line for a manager: ``advanced Prospect → Interested``."""
        match self.change:
            case Change.NEW:
                return f"new, in {self.after}"
            case Change.WON:
                return f"won (was in {self.before})"
            case Change.LOST:
                return f"lost in {self.before}"
            case Change.SLIPPED:
                return f"close date slipped {self.before} → {self.after}"
            case Change.AMOUNT:
                return f"amount {self.before} → {self.after}"
            case Change.MOVED_BACK:
                return f"moved back {self.before} → {self.after}"
            case _:
                return f"advanced {self.before} → {self.after}"


def snapshot_of(d: DealFacts) -> Snapshot:
    return Snapshot(d.ref, d.stage, d.amount, d.currency, d.close_date, d.forecast)


def waterfall(last_week: Mapping[str, Snapshot], now: Iterable[DealFacts], playbook: Playbook) -> list[Movement]:
    """Every change of stage, close date and amount since ``last_week``, deal by deal.

    A deal can show several movements (advanced *and* slipped); a deal that
    was already closed last week shows none.
    """
    out: list[Movement] = []
    order = {k: i for i, k in enumerate(playbook.keys)}
    name = playbook.stage_name
    for d in now:
        before = last_week.get(d.ref)
        if before is None:
            out.append(Movement(d.ref, Change.NEW, "", name(d.stage), after_key=d.stage))
            continue
        if playbook.is_closed(before.stage):
            continue
        if d.stage != before.stage:
            if d.stage == LOST:
                change = Change.LOST
            elif d.stage == playbook.won.key:
                change = Change.WON
            elif order.get(d.stage, -1) > order.get(before.stage, -1):
                change = Change.ADVANCED
            else:
                change = Change.MOVED_BACK
            out.append(Movement(d.ref, change, name(before.stage), name(d.stage), before.stage, d.stage))
        if before.close_date and d.close_date and d.close_date > before.close_date:
            out.append(Movement(d.ref, Change.SLIPPED, before.close_date.isoformat(), d.close_date.isoformat()))
        if d.amount != before.amount or d.currency != before.currency:
            out.append(Movement(d.ref, Change.AMOUNT, f"{before.currency} {fmt_amount(before.amount)}",
                                f"{d.currency} {fmt_amount(d.amount)}"))
    return out


class Concern(StrEnum):
    STALLED = "stalled"
    SLIPPING = "slipping"  # close date pushed out again and again
    GAPS = "gaps"  # BANT answers or buying roles its stage needs
    BIG_LATE = "big_late"  # big deal in a late stage: worth a manager's eye


@dataclass(frozen=True)
class Attention:
    ref: str
    concern: Concern
    detail: str  # in English; ``facts`` holds the same as values, for other languages
    facts: tuple[tuple[str, object], ...] = ()

    def fact(self, name: str) -> object:
        return dict(self.facts).get(name)


def attention(
    deals: Sequence[DealFacts],
    playbook: Playbook,
    *,
    now: datetime,
    close_dates: Mapping[str, Sequence[date | None]] | None = None,
    big_amount: Decimal | None = None,
    late_probability: int = 60,
) -> list[Attention]:
    """Open deals a manager should look at, each with why.

    ``close_dates`` holds each deal's close date in past snapshots, oldest
    first: two or more push-outs make it "slipping". ``big_amount`` is the
    size from which a late-stage deal is "big" (default: the top tenth).
    """
    open_deals = [d for d in deals if not playbook.is_closed(d.stage)]
    if big_amount is None and open_deals:
        amounts = sorted(d.amount for d in open_deals)
        big_amount = amounts[int(len(amounts) * 0.9)] if len(amounts) >= 10 else amounts[-1]
    out: list[Attention] = []
    for d in open_deals:
        stage = playbook.stage(d.stage)
        if d.stage_entered_at is not None:
            days = (now - d.stage_entered_at).days
            if days > stage.stall_days:
                why = f"{days} days in {stage.name.en} (limit {stage.stall_days})"
                out.append(Attention(d.ref, Concern.STALLED, why,
                                     (("days", days), ("stage", d.stage), ("limit", stage.stall_days))))
        history = [c for c in (close_dates or {}).get(d.ref, ()) if c is not None]
        if d.close_date is not None:
            history = [*history, d.close_date]
        pushes = sum(1 for a, b in pairwise(history) if b > a)
        if pushes >= 2:
            out.append(Attention(d.ref, Concern.SLIPPING, f"close date pushed out {pushes} times",
                                 (("pushes", pushes),)))
        gaps = [m for m in missing_for_next(d, playbook) if m.kind in (Kind.BANT, Kind.ROLE)]
        if gaps:
            out.append(Attention(d.ref, Concern.GAPS, "missing " + ", ".join(
                f"BANT {m.key}" if m.kind is Kind.BANT else m.key.replace("_", " ") for m in gaps),
                (("missing", tuple(gaps)),)))
        if big_amount is not None and stage.probability >= late_probability and d.amount >= big_amount:
            out.append(Attention(d.ref, Concern.BIG_LATE, f"{d.currency} {fmt_amount(d.amount)} in {stage.name.en}",
                                 (("amount", d.amount), ("currency", d.currency), ("stage", d.stage))))
    return out
