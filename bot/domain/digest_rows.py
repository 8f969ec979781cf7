"""Every digest from narrow rows: what the scheduled digests compute at a large org's scale.

``digest.compute`` works from a full ``DealFacts`` per deal; for 200,000 deals
building those is most of the time. Here each deal is one ``DealRow``: the
columns the digests read, with last week's snapshot beside it. The figures are
the same as ``compute``'s (tests/integration/test_digest_rows.py checks it on
random orgs): totals are summed per owner by (stage, forecast, currency);
``waterfall`` decides the movements of the rows that differ from their snapshot
(the others have none); ``AttentionRules`` checks every open row, and only the
few rows an owner's list keeps are worded. ``digest.roll_up`` sums the owners up
the tree, as for ``compute``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from bot.domain import money
from bot.domain.digest import TOP, Item, Node, _count_movement, roll_up
from bot.domain.playbook import LOST, Playbook
from bot.domain.rates import Rates
from bot.domain.rollup import StageTotal, Totals
from bot.domain.waterfall import Attention, AttentionRules, Snapshot, big_amount_of, waterfall

NOTHING: frozenset[str] = frozenset()
CENT = Decimal("0.01")


class DealRow(NamedTuple):
    """A deal as the digests read it: the columns they use, and last week's snapshot of it."""

    ref: str
    owner: str  # the owner's person id, in text
    stage: str
    amount: Decimal
    currency: str
    close_date: date | None
    forecast: str
    next_step: str
    next_step_date: date | None
    stage_entered_at: datetime | None
    updated_at: datetime | None
    bant: frozenset[str] = NOTHING  # the BANT items answered
    roles: frozenset[str] = NOTHING  # the buying roles someone is named for
    # Last week's snapshot (all None: the deal had none, it is new this week).
    was_stage: str | None = None
    was_amount: Decimal | None = None
    was_currency: str | None = None
    was_close: date | None = None
    was_forecast: str | None = None
    own_amount: tuple[str, Decimal] | None = None  # set when converted: the deal's own currency and amount
    deal_id: int | None = None  # its row's id, where it was read from the database

    def has_bant(self, key: str) -> bool:
        return key in self.bant

    def has_role(self, key: str) -> bool:
        return key in self.roles

    @property
    def answered(self) -> tuple[frozenset[str], frozenset[str]]:
        return self.bant, self.roles

    def before(self) -> Snapshot | None:
        """Last week's snapshot, as ``waterfall`` takes it."""
        if self.was_stage is None or self.was_amount is None or self.was_currency is None:
            return None
        return Snapshot(self.ref, self.was_stage, self.was_amount, self.was_currency, self.was_close,
                        self.was_forecast or "")


@dataclass(frozen=True)
class RowsInput:
    """What ``compute_rows`` works from, as ``digest.OrgInput`` is for ``compute``."""

    rows: Sequence[DealRow]  # each owner's in deal id order (the order of ``compute``'s deals)
    close_history: Mapping[str, Sequence[date | None]]  # by ref; deals that can't have slipped may be left out
    reports: Mapping[str, Sequence[str]]
    checkin_status: Mapping[str, str]


def rows_in_currency(data: RowsInput, rates: Rates, currency: str, on: date) -> RowsInput:
    """``data`` with every amount (deals' and snapshots') in ``currency`` at the rates of ``on``, as
    ``digest.in_currency`` converts: to whole units, the deal's own amount kept; no rate, no change."""
    convert = rates.converter(currency, on)
    one = Decimal(1)
    make = tuple.__new__  # each row built once, with all its changes (``_replace`` twice cost more than the sums)
    out = []
    for r in data.rows:
        (ref, owner, stage, amount, code, close, forecast, next_step, next_date, entered, updated, bant, roles,
         was_stage, was_amount, was_code, was_close, was_forecast, own, deal_id) = r
        if (code == currency and amount == amount.to_integral_value() and (was_code is None or (
                was_code == currency and was_amount is not None and was_amount == was_amount.to_integral_value()))):
            # Whole units already in the currency (most deals, usually): converting changes nothing a
            # digest shows (the same values; the own amount is the amount), so the row stays as it is.
            out.append(r)
            continue
        # In their own currency, amounts are only rounded (as ``convert`` at a rate of 1 would). Most
        # snapshots equal their deal: converted once.
        same_before = was_amount == amount and was_code == code
        converted = amount.quantize(CENT) if code == currency else convert(amount, code)
        if converted is not None:
            own, amount, code = own or (code, amount), converted.quantize(one), currency
        if same_before:
            if code == currency:
                was_amount, was_code = amount, currency
        elif was_amount is not None and was_code:
            was = was_amount.quantize(CENT) if was_code == currency else convert(was_amount, was_code)
            if was is not None:
                was_amount, was_code = was.quantize(one), currency
        out.append(make(DealRow, (ref, owner, stage, amount, code, close, forecast, next_step, next_date, entered,
                                  updated, bant, roles, was_stage, was_amount, was_code, was_close, was_forecast,
                                  own, deal_id)))
    return replace(data, rows=out)


def compute_rows(data: RowsInput, roots: Iterable[str], playbook: Playbook, *, now: datetime,
                 big_amount: Decimal | None = None, stall_limits: Mapping[str, float] | None = None,
                 quiet_weeks: int = 2) -> dict[str, Node]:
    """The same Nodes as ``digest.compute`` over the same deals (arguments as for it)."""
    rules = AttentionRules(playbook, now=now, stall_limits=stall_limits, quiet_weeks=quiet_weeks)
    stages = _Stages(playbook)
    won = playbook.won.key
    closed = {won, LOST}
    by_owner: dict[str, list[DealRow]] = {}
    for r in data.rows:
        by_owner.setdefault(r.owner, []).append(r)
    history = data.close_history
    own: dict[str, Node] = {}
    for owner, rows in by_owner.items():
        node = own[owner] = Node()
        now_sums: dict[tuple[str, str, str], list[Decimal]] = {}  # (stage, forecast, currency) -> amounts
        was_sums: dict[tuple[str, str, str], list[Decimal]] = {}
        changed: list[DealRow] = []
        open_rows: list[DealRow] = []
        for r in rows:
            was = r.was_stage
            if was is None:
                changed.append(r)  # new this week
            else:
                if was in closed and r.stage in closed:
                    continue  # won or lost before this week began: history, not this week's news
                key = (was, r.was_forecast or "", r.was_currency or "")
                if key in was_sums:
                    was_sums[key].append(r.was_amount or Decimal(0))
                else:
                    was_sums[key] = [r.was_amount or Decimal(0)]
                # A superset of what moved: ``waterfall`` decides on these.
                if (was != r.stage or r.amount != r.was_amount or r.currency != r.was_currency
                        or r.close_date != r.was_close):
                    changed.append(r)
            key = (r.stage, r.forecast, r.currency)
            if key in now_sums:
                now_sums[key].append(r.amount)
            else:
                now_sums[key] = [r.amount]
            if r.stage not in closed:
                open_rows.append(r)
        node.totals = _totals(now_sums, stages)
        node.last_week = _totals(was_sums, stages)
        if changed:
            before = {r.ref: s for r in changed if (s := r.before()) is not None}
            amounts = {r.ref: r.amount for r in changed}
            for m in waterfall(before, changed, playbook):
                _count_movement(node, m, amounts[m.ref], owner)
        if open_rows:
            _attention(node, owner, open_rows, rules, history,
                       big_amount if big_amount is not None else big_amount_of([r.amount for r in open_rows]))
    return roll_up(own, data.checkin_status, data.reports, roots, playbook.keys)


def _attention(node: Node, owner: str, open_rows: list[DealRow], rules: AttentionRules,
               history: Mapping[str, Sequence[date | None]], big: Decimal | None) -> None:
    """Count every open row's concerns; word only the rows the owner's list keeps (the largest few)."""
    concerns = node.concerns
    check, close_dates = rules.check, history.get
    flagged: list[tuple[Decimal, str, DealRow]] = []  # ranked as items are: by amount, then ref (unique)
    for r in open_rows:
        checks = check(r, close_dates(r.ref), big)
        if checks:
            for concern, _ in checks:
                concerns[concern] = concerns.get(concern, 0) + 1
            flagged.append((r.amount, r.ref, r))
    # The largest few, smallest first: a sorted list is the min-heap ``_push`` keeps (the same items).
    kept = heapq.nlargest(TOP, flagged)[::-1] if len(flagged) > TOP else sorted(flagged)
    if kept:
        word = _Wording(rules, history, big)
        node.top_attention.extend([Item(amount, ref, owner, word=word, of=r, deal_id=r.deal_id)
                                   for amount, ref, r in kept])


@dataclass(frozen=True)
class _Wording:
    """An owner's attention lines, worded when an item is first read: its concerns checked again, then
    explained (a few of the kept items are ever shown)."""

    rules: AttentionRules
    history: Mapping[str, Sequence[date | None]]
    big: Decimal | None

    def __call__(self, r: DealRow) -> tuple[Attention, ...]:
        return tuple(self.rules.explain(r, self.rules.check(r, self.history.get(r.ref), self.big)))


class _Stages:
    """What ``_totals`` asks of the playbook, worked out once."""

    def __init__(self, playbook: Playbook) -> None:
        self.keys = playbook.keys
        self.won = playbook.won.key
        self.probability = {k: playbook.probability(k) for k in self.keys}


def _totals(sums: Mapping[tuple[str, str, str], list[Decimal]], stages: _Stages) -> Totals:
    """``rollup.totals`` of the deals whose amounts ``sums`` holds by (stage, forecast, currency)."""
    out = Totals(by_stage={k: StageTotal() for k in stages.keys})
    won = stages.won
    open_amount, weighted, by_stage, by_forecast = out.open_amount, out.weighted, out.by_stage, out.by_forecast
    for (stage, forecast, currency), amounts in sums.items():
        total = sum(amounts, Decimal(0))
        n = len(amounts)
        if stage in (LOST, won):
            _bump(out.lost if stage == LOST else out.won, currency, n, total)
            continue
        out.open_count += n
        money.add(open_amount, currency, total)
        money.add(weighted, currency, total * stages.probability[stage])
        _bump(by_stage[stage], currency, n, total)
        if forecast in by_forecast:
            _bump(by_forecast[forecast], currency, n, total)
        else:
            by_forecast[forecast] = StageTotal(n, {currency: total})
    for c in weighted:
        weighted[c] = weighted[c].quantize(CENT)
    return out


def _bump(t: StageTotal, currency: str, count: int, amount: Decimal) -> None:
    t.count += count
    money.add(t.amount, currency, amount)
