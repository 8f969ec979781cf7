"""Every manager's digest, computed in one pass over the deals.

Each deal is looked at once (totals, waterfall, attention); per-person
aggregates are then summed up the org tree in post-order, so the cost is
O(deals + people), however many managers there are. Lists (movements,
attention) keep only the most significant few per node, by amount.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import chain
from operator import attrgetter
from typing import Any

from bot.domain import money
from bot.domain.coverage import Coverage
from bot.domain.deal import DealFacts
from bot.domain.forecast import ForecastCheck, ReviewRow
from bot.domain.playbook import Playbook
from bot.domain.rates import Rates
from bot.domain.rollup import StageTotal, Totals, totals
from bot.domain.tiers import TierView
from bot.domain.waterfall import Attention, AttentionRules, Concern, Movement, Snapshot, attention, waterfall

TOP = 10  # movements and attention items kept per digest, largest first


class Item:
    """A listed deal: a movement or an attention flag, with what ranks it.

    ``text`` (in English, e.g. "advanced Prospect → Interested") and ``parts`` (what it says, as values:
    worded per reader) may be given, or worked out by ``word`` when first read: at a large org most
    kept items are a rep's ten, merged upward and never shown, so wording them all would be wasted.
    """

    __slots__ = ("_of", "_parts", "_text", "_word", "amount", "deal_id", "owner", "ref", "score")

    def __init__(self, amount: Decimal, ref: str, owner: str, text: str = "", score: int | None = None,
                 parts: tuple[Movement | Attention, ...] = (),
                 word: Callable[[Any], tuple[Movement | Attention, ...]] | None = None, of: object = None,
                 deal_id: int | None = None) -> None:
        self.amount, self.ref, self.owner = amount, ref, owner
        self.score = score  # the deal's lead score, set for the items a digest shows
        self.deal_id = deal_id  # its row's id, where it was read from the database (to load its facts by)
        # ``word(of)`` gives ``parts`` when first read: one ``word`` serves many items, so waiting costs
        # an item one reference, not a closure.
        self._text, self._parts, self._word, self._of = text, parts, word, of

    def _worded(self) -> None:
        # Safe if two threads read one item: ``_of`` is read before ``_word`` and cleared after it, and
        # the words are in place before either is cleared (both threads may word it; same words).
        of = self._of
        word = self._word
        if word is not None:
            parts = word(of)
            self._text = "; ".join(p.detail if isinstance(p, Attention) else p.describe() for p in parts)
            self._parts = parts
            self._word = None
            self._of = None

    @property
    def text(self) -> str:
        self._worded()
        return self._text

    @property
    def parts(self) -> tuple[Movement | Attention, ...]:
        self._worded()
        return self._parts

    def _key(self) -> tuple[object, ...]:
        return self.amount, self.ref, self.owner, self.text, self.score, self.parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Item) and self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable (``score``), as the dataclass it replaced

    def __repr__(self) -> str:
        return f"Item(amount={self.amount!r}, ref={self.ref!r}, owner={self.owner!r}, text={self.text!r}, " \
               f"score={self.score!r})"

    def __lt__(self, other: Item) -> bool:
        return (self.amount, self.ref) < (other.amount, other.ref)


@dataclass
class Node:
    """One person's aggregate: their own deals plus everyone beneath them."""

    totals: Totals = field(default_factory=Totals)
    last_week: Totals = field(default_factory=Totals)
    movements: dict[str, int] = field(default_factory=dict)  # change kind -> count
    movement_amounts: dict[str, money.Bag] = field(default_factory=dict)
    concerns: dict[str, int] = field(default_factory=dict)
    top_movements: list[Item] = field(default_factory=list)  # min-heaps of size TOP
    top_attention: list[Item] = field(default_factory=list)
    checkins: dict[str, int] = field(default_factory=dict)  # status -> number of people


def _add_stage(a: StageTotal, b: StageTotal) -> None:
    a.count += b.count
    money.add_bag(a.amount, b.amount)


def add_totals(a: Totals, b: Totals) -> None:
    """``a += b``."""
    a.open_count += b.open_count
    money.add_bag(a.open_amount, b.open_amount)
    money.add_bag(a.weighted, b.weighted)
    for into, other in ((a.by_stage, b.by_stage), (a.by_forecast, b.by_forecast)):
        for k, s in other.items():
            if k in into:
                _add_stage(into[k], s)
            else:
                into[k] = StageTotal(s.count, dict(s.amount))
    _add_stage(a.won, b.won)
    _add_stage(a.lost, b.lost)


def _push(heap: list[Item], item: Item) -> None:
    if len(heap) < TOP:
        heapq.heappush(heap, item)
    elif heap[0] < item:
        heapq.heapreplace(heap, item)


_RANK = attrgetter("amount", "ref")  # as ``Item.__lt__`` orders, compared without a call into Python


def _top(lists: Iterable[list[Item]]) -> list[Item]:
    """The largest ``TOP`` of the items in ``lists``, smallest first: the min-heap ``_push`` keeps."""
    return heapq.nlargest(TOP, chain.from_iterable(lists), key=_RANK)[::-1]


def _merge(into: Node, other: Node) -> None:
    """``into``'s counts and totals += ``other``'s (the lists are merged by ``_top``)."""
    add_totals(into.totals, other.totals)
    add_totals(into.last_week, other.last_week)
    for k, n in other.movements.items():
        into.movements[k] = into.movements.get(k, 0) + n
    for k, bag in other.movement_amounts.items():
        for c, v in bag.items():
            money.add(into.movement_amounts.setdefault(k, {}), c, v)
    for k, n in other.concerns.items():
        into.concerns[k] = into.concerns.get(k, 0) + n
    for k, n in other.checkins.items():
        into.checkins[k] = into.checkins.get(k, 0) + n


@dataclass(frozen=True)
class OrgInput:
    """What the digests are computed from: plain data, loaded in bulk by the caller."""

    deals: Sequence[DealFacts]  # every deal (``owner`` is the owner's key)
    last_week: Mapping[str, Snapshot]  # by ref
    close_history: Mapping[str, Sequence[date | None]]  # by ref: close dates in past snapshots, oldest first
    reports: Mapping[str, Sequence[str]]  # manager key -> direct report keys
    checkin_status: Mapping[str, str]  # person key -> pending / partial / complete / away


def in_currency(org: OrgInput, rates: Rates, currency: str, on: date) -> OrgInput:
    """``org`` with every amount (deals and last week's snapshots) in ``currency`` at the rates of ``on``.

    Both sides of a week's comparison use the same day's rate, so a moving rate
    never shows as an amount change; an amount with no rate stays as it is.
    """
    def whole(amount: Decimal | None) -> Decimal | None:  # a digest reads in whole units of its currency
        return None if amount is None else amount.quantize(Decimal(1))

    def deal(d: DealFacts) -> DealFacts:
        amount = whole(rates.convert(d.amount, d.currency, currency, on))
        return d if amount is None else replace(d, amount=amount, currency=currency,
                                                own_amount=d.own_amount or (d.currency, d.amount))

    def snap(s: Snapshot) -> Snapshot:
        amount = whole(rates.convert(s.amount, s.currency, currency, on))
        return s if amount is None else replace(s, amount=amount, currency=currency)

    return replace(org, deals=[deal(d) for d in org.deals],
                   last_week={ref: snap(s) for ref, s in org.last_week.items()})


def compute(org: OrgInput, roots: Iterable[str], playbook: Playbook, *, now: datetime,
            big_amount: Decimal | None = None, stall_limits: Mapping[str, float] | None = None,
            quiet_weeks: int = 2) -> dict[str, Node]:
    """A Node for every person under ``roots`` (themselves included); ``stall_limits`` and
    ``quiet_weeks`` as for ``waterfall.attention`` (by default the playbook's ``stall_days``)."""
    own: dict[str, Node] = {}
    by_owner: dict[str, list[DealFacts]] = {}
    for d in org.deals:
        by_owner.setdefault(d.owner, []).append(d)
    snapshots = org.last_week
    owner_of = {d.ref: d.owner for d in org.deals}
    amount_of = {d.ref: d.amount for d in org.deals}
    stage_keys = playbook.keys

    def closed_before(d: DealFacts) -> bool:
        # Won or lost before this week began: history, not this week's news.
        before = snapshots.get(d.ref)
        return before is not None and playbook.is_closed(before.stage) and playbook.is_closed(d.stage)

    rules = AttentionRules(playbook, now=now, stall_limits=stall_limits, quiet_weeks=quiet_weeks)
    for key, deals in by_owner.items():
        node = own.setdefault(key, Node())
        deals = [d for d in deals if not closed_before(d)]
        node.totals = totals(deals, playbook)
        node.last_week = totals((_as_facts(snapshots[d.ref]) for d in deals if d.ref in snapshots), playbook)
        for m in waterfall(snapshots, deals, playbook):
            _count_movement(node, m, amount_of[m.ref], owner_of[m.ref])
        _count_attention(node, attention(deals, playbook, now=now, close_dates=org.close_history,
                                         big_amount=big_amount, rules=rules),
                         amount_of, owner_of)
    return roll_up(own, org.checkin_status, org.reports, roots, stage_keys)


def roll_up(own: dict[str, Node], checkin_status: Mapping[str, str], reports: Mapping[str, Sequence[str]],
            roots: Iterable[str], stage_keys: Sequence[str]) -> dict[str, Node]:
    """Each person's Node under ``roots``: their ``own`` (their deals' figures) plus their
    check-in, plus everyone's beneath them, children summed before their manager."""
    for key, status in checkin_status.items():
        node = own.setdefault(key, Node(totals=Totals(by_stage={k: StageTotal() for k in stage_keys})))
        node.checkins[status] = node.checkins.get(status, 0) + 1

    out: dict[str, Node] = {}
    for root in roots:
        # Iterative post-order: children are summed before their manager.
        stack: list[tuple[str, bool]] = [(root, False)]
        while stack:
            key, done = stack.pop()
            if key in out:
                continue
            if not done:
                stack.append((key, True))
                stack.extend((r, False) for r in reports.get(key, ()) if r not in out)
                continue
            below = reports.get(key, ())
            if not below and key in own and len(own[key].totals.by_stage) == len(stage_keys):
                out[key] = own[key]  # a leaf's own figures are its node's (merging them into zeros copies them)
                continue
            node = Node(totals=Totals(by_stage={k: StageTotal() for k in stage_keys}))
            parts = [own[key], *(out[r] for r in below)] if key in own else [out[r] for r in below]
            for part in parts:
                _merge(node, part)
            node.top_movements = _top(part.top_movements for part in parts)
            node.top_attention = _top(part.top_attention for part in parts)
            out[key] = node
    return out


def _as_facts(s: Snapshot) -> DealFacts:
    return DealFacts(ref=s.ref, name="", stage=s.stage, amount=s.amount, currency=s.currency, forecast=s.forecast)


def _count_movement(node: Node, m: Movement, amount: Decimal, owner: str) -> None:
    node.movements[m.change] = node.movements.get(m.change, 0) + 1
    _push(node.top_movements, Item(amount, m.ref, owner, m.describe(), parts=(m,)))


def _count_attention(node: Node, flags: list[Attention], amount_of: Mapping[str, Decimal],
                     owner_of: Mapping[str, str]) -> None:
    """Each concern is counted; each deal is listed once, with all of its flags."""
    details: dict[str, list[Attention]] = {}
    for a in flags:
        node.concerns[a.concern] = node.concerns.get(a.concern, 0) + 1
        details.setdefault(a.ref, []).append(a)
    for ref, why in details.items():
        text = "; ".join(a.detail for a in why)
        _push(node.top_attention, Item(amount_of[ref], ref, owner_of[ref], text, parts=tuple(why)))


def ranked(items: list[Item]) -> list[Item]:
    """A node's kept items, largest first."""
    return sorted(items, reverse=True)


__all__ = ["Concern", "Item", "Node", "OrgInput", "add_totals", "compute", "ranked", "roll_up"]


# -- one manager's digest, as a message shows it -----------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    name: str
    is_manager: bool
    status: str  # a rep's check-in status this week ("" for managers)
    node: Node
    coverage: Coverage | None = None  # pipeline against what is left of the target, where one is set


@dataclass(frozen=True)
class CommentRow:
    name: str
    text: str
    commit: Decimal | None
    best_case: Decimal | None
    currency: str
    signed_off: bool = False

    @property
    def commit_text(self) -> str:
        return "–" if self.commit is None else f"{self.currency} {money.fmt_amount(self.commit)}"

    @property
    def best_case_text(self) -> str:
        return "–" if self.best_case is None else f"{self.currency} {money.fmt_amount(self.best_case)}"


@dataclass(frozen=True)
class ManagerDigest:
    """What one manager's digest says: their subtree's node, a line per direct report, the comments
    from the tier below, and who has not finished their check-in or is away."""

    name: str
    week: date
    node: Node
    reports: list[ReportRow]
    comments: list[CommentRow]
    not_finished: list[str]
    away: list[str]
    names: Mapping[str, str]  # person id -> name, for the owners in the lists
    coverage: Coverage | None = None
    can_sign_off: bool = False  # a region head's digest: one click signs off (认可) the forecast
    check: ForecastCheck | None = None  # last period's forecast against what was won, when they differ
    reviews: Sequence[ReviewRow] = ()  # the tier below's answers to the forecast review
    tier: TierView | None = None  # the section for what this manager's tier does, first in the digest
