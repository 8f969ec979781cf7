"""What changed since last week's snapshot, and which deals need a manager's attention."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Protocol, cast

from bot.domain.deal import DealFacts
from bot.domain.gates import Kind, Missing, missing_for_next
from bot.domain.money import fmt_amount
from bot.domain.playbook import LOST, Playbook, Stage


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


def waterfall(last_week: Mapping[str, Snapshot], now: Iterable[Flaggable], playbook: Playbook) -> list[Movement]:
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
    QUIET = "no_update"  # nothing recorded on the deal for weeks
    OVERDUE = "next_step_overdue"  # the next step's date has passed
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


class Flaggable(Protocol):
    """What the attention checks read of a deal: a ``DealFacts``, or a digest's narrow row of it."""

    @property
    def ref(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def close_date(self) -> date | None: ...
    @property
    def next_step(self) -> str: ...
    @property
    def next_step_date(self) -> date | None: ...
    @property
    def stage_entered_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def own_amount(self) -> tuple[str, Decimal] | None: ...
    def has_bant(self, key: str) -> bool: ...
    def has_role(self, key: str) -> bool: ...
    @property
    def answered(self) -> tuple[frozenset[str], frozenset[str]]: ...


Check = tuple[Concern, object]  # a concern found, with what its line says (days, pushes, weeks, the gaps)


@dataclass(frozen=True)
class _StageRule:
    stage: Stage
    limit: float | None  # days in the stage before it is stalled
    gaps: tuple[Missing, ...]  # the BANT answers and buying roles wanted to reach the next stage
    late: bool
    # Stalled when it entered the stage at or before this moment: ``(now - entered).days > limit`` for
    # whole days, as one comparison (no timedelta per deal). None: never.
    stalled_by: datetime | None = None


def _stalled_by(now: datetime, limit: float | None) -> datetime | None:
    """The latest stage entry that is stalled at ``now``: whole days in the stage > ``limit`` means
    at least ``floor(limit) + 1`` days, that is entered at or before ``now`` less that many."""
    if limit is None or limit != limit or limit > 365 * 1000:  # none, NaN, or never within any deal's life
        return None
    return now - timedelta(days=math.floor(limit) + 1)


def big_amount_of(amounts: Sequence[Decimal]) -> Decimal | None:
    """The size from which a late-stage deal is "big": the top tenth of ``amounts`` (open deals')."""
    if not amounts:
        return None
    ordered = sorted(amounts)
    return ordered[int(len(ordered) * 0.9)] if len(ordered) >= 10 else ordered[-1]


class AttentionRules:
    """The attention checks of one digest run: what depends only on the stage is worked out once.

    ``check`` decides which concerns an open deal raises (cheap: values, no text);
    ``explain`` words them as ``Attention``. ``attention`` is both, for every deal.
    """

    def __init__(self, playbook: Playbook, *, now: datetime, stall_limits: Mapping[str, float] | None = None,
                 quiet_weeks: int = 2, late_probability: int = 60) -> None:
        self.playbook, self.now, self.today = playbook, now, now.date()
        self.quiet = timedelta(weeks=quiet_weeks)
        self._rules: dict[str, _StageRule] = {}
        for stage in playbook.stages:
            if playbook.is_closed(stage.key):
                continue
            limit = stall_limits.get(stage.key) if stall_limits is not None else stage.stall_days
            # What a deal with no answers and no roles lacks: any deal lacks the part of it it has not answered.
            wanted = missing_for_next(DealFacts(ref="", name="", stage=stage.key), playbook)
            gaps = tuple(m for m in wanted if m.kind in (Kind.BANT, Kind.ROLE))
            self._rules[stage.key] = _StageRule(stage, limit, gaps, stage.probability >= late_probability,
                                                _stalled_by(now, limit))
        self._quiet_by = now - self.quiet  # quiet when last updated at or before this
        self._gaps: dict[tuple[str, tuple[frozenset[str], frozenset[str]]], tuple[Missing, ...]] = {}

    def check(self, d: Flaggable, close_dates: Sequence[date | None] | None,
              big_amount: Decimal | None) -> list[Check]:
        """The concerns open deal ``d`` raises, in the order its line lists them.

        ``close_dates``: its close date in past snapshots, oldest first; ``big_amount`` as for ``attention``.
        """
        rule = self._rules[d.stage]
        out: list[Check] = []
        if d.stage_entered_at is not None and rule.stalled_by is not None and d.stage_entered_at <= rule.stalled_by:
            out.append((Concern.STALLED, (self.now - d.stage_entered_at).days))
        if close_dates and len(close_dates) >= 2:  # fewer past dates can't make two push-outs
            history = [c for c in close_dates if c is not None]
            if d.close_date is not None:
                history.append(d.close_date)
            pushes = sum(1 for a, b in pairwise(history) if b > a)
            if pushes >= 2:
                out.append((Concern.SLIPPING, pushes))
        if d.updated_at is not None and d.updated_at <= self._quiet_by:
            out.append((Concern.QUIET, (self.now - d.updated_at).days // 7))
        if d.next_step_date is not None and d.next_step_date < self.today:
            out.append((Concern.OVERDUE, None))
        if rule.gaps:
            # The same few answered sets recur across thousands of deals: each one's gaps worked out once.
            seen = (d.stage, d.answered)
            gaps = self._gaps.get(seen)
            if gaps is None:
                bant, roles = seen[1]
                gaps = self._gaps[seen] = tuple(m for m in rule.gaps if m.key not in (bant if m.kind is Kind.BANT
                                                                                     else roles))
            if gaps:
                out.append((Concern.GAPS, gaps))
        if big_amount is not None and rule.late and d.amount >= big_amount:
            out.append((Concern.BIG_LATE, None))
        return out

    def explain(self, d: Flaggable, checks: Sequence[Check]) -> list[Attention]:
        """``check``'s concerns for ``d``, each with its line in English and its values."""
        rule = self._rules[d.stage]
        name = rule.stage.name.en
        out: list[Attention] = []
        for concern, value in checks:
            match concern:
                case Concern.STALLED:
                    assert rule.limit is not None
                    out.append(Attention(d.ref, concern, f"{value} days in {name} (limit {rule.limit:.0f})",
                                         (("days", value), ("stage", d.stage), ("limit", round(rule.limit)))))
                case Concern.SLIPPING:
                    out.append(Attention(d.ref, concern, f"close date pushed out {value} times", (("pushes", value),)))
                case Concern.QUIET:
                    assert d.updated_at is not None
                    since = d.updated_at.date()
                    out.append(Attention(d.ref, concern, f"no update for {value} weeks (since {since})",
                                         (("weeks", value), ("since", since))))
                case Concern.OVERDUE:
                    assert d.next_step_date is not None
                    what = f"“{d.next_step}” " if d.next_step else ""
                    out.append(Attention(d.ref, concern, f"next step {what}was due {d.next_step_date.isoformat()}",
                                         (("next_step", d.next_step or ""), ("due", d.next_step_date))))
                case Concern.GAPS:
                    gaps = cast(tuple[Missing, ...], value)
                    out.append(Attention(d.ref, concern, "missing " + ", ".join(
                        f"BANT {m.key}" if m.kind is Kind.BANT else m.key.replace("_", " ") for m in gaps),
                        (("missing", gaps),)))
                case Concern.BIG_LATE:
                    own_currency, own_amount = d.own_amount or (d.currency, d.amount)
                    out.append(Attention(d.ref, concern, f"{own_currency} {fmt_amount(own_amount)} in {name}",
                                         (("amount", own_amount), ("currency", own_currency), ("stage", d.stage))))
        return out


def attention(
    deals: Sequence[DealFacts],
    playbook: Playbook,
    *,
    now: datetime,
    close_dates: Mapping[str, Sequence[date | None]] | None = None,
    big_amount: Decimal | None = None,
    late_probability: int = 60,
    stall_limits: Mapping[str, float] | None = None,
    quiet_weeks: int = 2,
    rules: AttentionRules | None = None,
) -> list[Attention]:
    """Open deals a manager should look at, each with why.

    ``close_dates`` holds each deal's close date in past snapshots, oldest
    first: two or more push-outs make it "slipping". ``big_amount`` is the
    size from which a late-stage deal is "big" (default: the top tenth).
    ``stall_limits`` gives the days after which a deal is stalled, per stage
    (``bot.domain.stats.stall_limits``); by default the playbook's ``stall_days``.
    The source's signals: time in stage beyond the stage's limit, a close date
    that keeps slipping, no update for ``quiet_weeks`` weeks, and a next step
    whose date has passed. ``rules``: the same checks, already built (then the four before are its).
    """
    if rules is None:
        rules = AttentionRules(playbook, now=now, stall_limits=stall_limits, quiet_weeks=quiet_weeks,
                               late_probability=late_probability)
    open_deals = [d for d in deals if not playbook.is_closed(d.stage)]
    if big_amount is None:
        big_amount = big_amount_of([d.amount for d in open_deals])
    dates = close_dates or {}
    out: list[Attention] = []
    for d in open_deals:
        out += rules.explain(d, rules.check(d, dates.get(d.ref), big_amount))
    return out


@dataclass(frozen=True)
class Bridge:
    """The week's open pipeline in one currency: last week's, what moved it, this week's.

    ``start + new + amount_changes + won + lost + other == end``; won and lost are negative
    (last week's amounts of the deals that closed); ``other`` is whatever the rest does not
    explain (reopened deals, a currency changed). Advances, moves back and slipped close dates
    change no open amount, so they are counted only.
    """

    currency: str
    start: Decimal
    end: Decimal
    new: tuple[Decimal, int]
    amount_changes: tuple[Decimal, int]
    won: tuple[Decimal, int]
    lost: tuple[Decimal, int]
    other: tuple[Decimal, int]
    advanced: int
    moved_back: int
    slipped: int


def bridge(last_week: Mapping[str, Snapshot], now: Sequence[DealFacts], playbook: Playbook,
           currency: str) -> Bridge:
    """From last week's snapshots of ``now``'s deals to the deals as they are, in ``currency``."""
    zero = Decimal(0)
    sums: dict[str, Decimal] = dict.fromkeys(("new", "amount", "won", "lost", "other"), zero)
    counts: dict[str, int] = dict.fromkeys(sums, 0)

    def add(kind: str, amount: Decimal) -> None:
        sums[kind] += amount
        counts[kind] += 1

    order = {k: i for i, k in enumerate(playbook.keys)}
    start = sum((s.amount for s in last_week.values() if s.currency == currency and not playbook.is_closed(s.stage)),
                zero)
    end = sum((d.amount for d in now if d.currency == currency and not playbook.is_closed(d.stage)), zero)
    advanced = moved_back = slipped = 0
    for d in now:
        before = last_week.get(d.ref)
        is_open = not playbook.is_closed(d.stage)
        if before is None:
            if is_open and d.currency == currency:
                add("new", d.amount)
            continue
        if playbook.is_closed(before.stage) or before.currency != currency:
            continue
        if d.stage == playbook.won.key:
            add("won", -before.amount)
        elif d.stage == LOST:
            add("lost", -before.amount)
        else:
            if d.currency == currency and d.amount != before.amount:
                add("amount", d.amount - before.amount)
            if d.stage != before.stage:
                if order.get(d.stage, -1) > order.get(before.stage, -1):
                    advanced += 1
                else:
                    moved_back += 1
            if before.close_date and d.close_date and d.close_date > before.close_date:
                slipped += 1
    explained = start + sum((v for k, v in sums.items() if k != "other"), zero)
    if end != explained:
        sums["other"], counts["other"] = end - explained, max(1, counts["other"])

    def part(kind: str) -> tuple[Decimal, int]:
        return sums[kind], counts[kind]

    return Bridge(currency, start, end, part("new"), part("amount"), part("won"), part("lost"), part("other"),
                  advanced=advanced, moved_back=moved_back, slipped=slipped)
