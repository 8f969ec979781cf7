"""Two quarters of history behind the demo's deals, so every number and chart means something.

The bundled deals are a snapshot: imported, they would all have entered their stage on
the same day, and nothing would ever have been won or lost. This writes, deterministically
from the seed, what a real team's database holds after half a year:

- the bundled won deals won in the week before the demo's (what last week's forecasts are measured
  against), the lost ones lost over the last three months;
- each open deal's path through the funnel, stage by stage, with most of them moving at a
  normal pace (a few stalled, as in a real pipeline: the exception, not the rule);
- deals opened and closed over the two quarters (won, or lost at some stage), in each rep's
  currency, so conversion, win rate, deal size and cycle length come from history;
- each rep's weekly visits, calls and proposals, with last week's answered by most;
- a quarterly target for each rep, a little above what they have been winning, and ahead of what the
  quarter has brought so far.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, DealSnapshot, Person, StageChange
from bot.domain.forecast import off_by_more_than
from bot.domain.plan import parse_period
from bot.domain.playbook import LOST, Playbook
from bot.services import digests, targets

WINDOW = timedelta(days=182)
STALLED_SHARE = 0.07  # open deals left longer in their stage than it allows
ANSWERED_LAST_WEEK = 0.6  # reps who already gave last week's activity before the demo week
PRODUCTS = ("CRM rollout", "Data platform", "Security upgrade", "Field service suite", "Analytics pilot",
            "Support renewal", "Billing migration")
LOST_REASONS = ("Chose a competitor's product", "No budget", "No decision / project cancelled", "Timing")


@dataclass(frozen=True)
class HistoryResult:
    opened: int  # historical deals added
    won: int
    lost: int
    stalled: int  # open deals left stalled on purpose
    activity_weeks: int
    targets: int


def _advance_odds(i: int) -> float:
    """Chance a deal in stage ``i`` moves on rather than being lost there."""
    return min(0.85, 0.7 + 0.03 * i)


def _path(deal: Deal, stages: list[str], times: list[datetime], *, lost_at: datetime | None = None,
          reason: str = "") -> None:
    deal.history[:] = []
    prev: str | None = None
    for stage, at in zip(stages, times, strict=True):
        deal.history.append(StageChange(from_stage=prev, to_stage=stage, changed_at=at, reason=""))
        prev = stage
    if lost_at is not None:
        deal.history.append(StageChange(from_stage=prev, to_stage=LOST, changed_at=lost_at, reason=reason))


def add_history(session: so.Session, playbook: Playbook, *, now: datetime, period: str, week: date,
                rng: random.Random, keep: Collection[int] = frozenset(), invent_closed: bool = True) -> HistoryResult:
    """Write the history (see the module) for the deals and reps in the database, as of ``now``;
    ``week``'s snapshot is the pipeline as it stood a week before ``now``, so the first digests
    show a week's worth of change. The deals in ``keep`` (ids) came with their own history, which
    stays as it is; with ``invent_closed`` false no closed deals are made up."""
    keys = list(playbook.keys)
    won_key = playbook.won.key
    stalled = 0
    deals = list(session.scalars(sa.select(Deal).options(so.selectinload(Deal.history)).order_by(Deal.id)))
    currencies: dict[int, Counter[str]] = defaultdict(Counter)
    amounts: dict[int, list[Decimal]] = defaultdict(list)
    for d in deals:
        currencies[d.owner_id][d.currency] += 1
        amounts[d.owner_id].append(d.amount)
        if d.id in keep:
            continue  # its own dates, from the file
        if d.stage == LOST or d.stage == won_key:
            # lost in the last three months, after a walk through the funnel; won last week, so last week's
            # forecasts have something to be measured against
            end = now - timedelta(days=rng.uniform(0.5, 3.5) if d.stage == won_key else rng.uniform(5, 90))
            if d.stage == won_key:
                _path(d, keys, _times(end, len(keys), rng))
            else:
                reach = rng.randrange(0, len(keys) - 1)
                _path(d, keys[: reach + 1], _times(end - timedelta(days=3), reach + 1, rng), lost_at=end,
                      reason=d.lost_reason or rng.choice(LOST_REASONS))
            d.created_at, d.stage_entered_at, d.updated_at = d.history[0].changed_at, end, end
            continue
        stage = playbook.stage(d.stage)
        limit = float(stage.stall_days or 30)
        late = rng.random() < STALLED_SHARE
        stalled += late
        days_here = rng.uniform(limit * 1.2, limit * 2.2) if late else rng.uniform(1, limit * 0.75)
        entered = now - timedelta(days=days_here)
        reach = keys.index(d.stage)
        times = _times(entered, reach + 1, rng)
        _path(d, keys[: reach + 1], times)
        d.created_at, d.stage_entered_at = times[0], entered
        d.updated_at = entered + timedelta(days=rng.uniform(0, days_here))

    reps = list(session.scalars(sa.select(Person).where(Person.tier == 0, Person.id.in_(list(currencies)))
                                .order_by(Person.id)))
    refs = iter(repo.next_ref_numbers(session, 40 * max(1, len(reps))))
    accounts = sorted({d.account for d in deals}) or ["Contoso"]
    opened = won = lost = 0
    for rep in (reps if invent_closed else []):
        currency = currencies[rep.id].most_common(1)[0][0]
        typical = [a for a in amounts[rep.id] if a > 0] or [Decimal(20_000)]
        for _ in range(rng.randint(14, 20)):
            start = now - WINDOW + timedelta(days=rng.uniform(0, 150))
            reach = 0
            while reach < len(keys) - 1 and rng.random() < _advance_odds(reach):
                reach += 1
            times = [start]
            for _ in range(reach):
                times.append(times[-1] + timedelta(days=rng.uniform(6, 20)))
            end = times[-1] + timedelta(days=rng.uniform(4, 15))
            if end >= now - timedelta(days=1):
                continue  # would still be open: the bundled deals are the open ones
            amount = (rng.choice(typical) * Decimal(str(round(rng.uniform(0.6, 1.4), 2)))).quantize(Decimal(1000))
            is_won = reach == len(keys) - 1
            deal = Deal(ref=next(refs), name=f"{rng.choice(accounts)} {rng.choice(PRODUCTS)}",
                        account=rng.choice(accounts), owner_id=rep.id, amount=max(amount, Decimal(1000)),
                        currency=currency, close_date=end.date(), stage=won_key if is_won else LOST,
                        forecast="closed", next_step="", lost_reason="" if is_won else rng.choice(LOST_REASONS),
                        stage_entered_at=times[-1] if is_won else end, created_at=start, updated_at=end)
            _path(deal, keys[: reach + 1], times, lost_at=None if is_won else end,
                  reason="" if is_won else deal.lost_reason)
            session.add(deal)
            opened += 1
            won += is_won
            lost += not is_won
    session.flush()

    _snapshot_as_of(session, playbook, week=week, at=now - timedelta(days=7), taken=now,
                    changed=_changed_last_week(session, playbook, rng=rng))
    weeks = _activity(session, reps, now=now, rng=rng)
    p = parse_period(period)
    set_targets = 0
    for rep in reps:
        currency = currencies[rep.id].most_common(1)[0][0]
        won_amounts = session.scalars(sa.select(Deal.amount).where(
            Deal.owner_id == rep.id, Deal.stage == won_key, Deal.currency == currency,
            Deal.stage_entered_at >= now - WINDOW)).all()
        per_month = sum(won_amounts, Decimal(0)) / 6
        months = round((p.end - p.start).days / 30)
        so_far = sum(session.scalars(sa.select(Deal.amount).where(
            Deal.owner_id == rep.id, Deal.stage == won_key, Deal.currency == currency,
            Deal.stage_entered_at >= datetime.combine(p.start, datetime.min.time(), tzinfo=now.tzinfo))), Decimal(0))
        # Above their usual pace, and still ahead of what a good start to the period has won: a plan to work to.
        amount = max(per_month * months * Decimal("1.15"), so_far * Decimal("1.4"),
                     max(amounts[rep.id], default=Decimal(10_000)))
        rounded = max(Decimal(1), (amount / 10_000).quantize(Decimal(1))) * 10_000  # targets are round numbers
        targets.set_target(session, rep, p, rounded, currency, by=None, now=now)
        set_targets += 1
    return HistoryResult(opened, won, lost, stalled, weeks, set_targets)


def _times(last: datetime, count: int, rng: random.Random) -> list[datetime]:
    """``count`` times ending at ``last``, each 6 to 20 days after the one before."""
    out = [last]
    for _ in range(count - 1):
        out.insert(0, out[0] - timedelta(days=rng.uniform(6, 20)))
    return out


def _activity(session: so.Session, reps: list[Person], *, now: datetime, rng: random.Random) -> int:
    """Weekly visits, calls and proposals for each rep, about at the method's ratios (2 visits a
    proposal, 2 calls a visit), up to this week (answered by most of them so far)."""
    this_monday = (now - timedelta(days=now.weekday())).date()
    weeks = 0
    for rep in reps:
        pace = rng.uniform(0.8, 1.6)  # proposals a week: some reps are busier
        monday: date = this_monday - timedelta(weeks=26)
        while monday <= this_monday:  # this week too: by the demo's Monday it is last week
            last = monday == this_monday
            if not last or rng.random() < ANSWERED_LAST_WEEK:
                proposals = max(0, round(rng.gauss(pace, 0.7)))
                visits = max(0, round(proposals * rng.uniform(1.6, 2.6) + rng.uniform(0, 2)))
                calls = max(0, round(visits * rng.uniform(1.7, 2.5) + rng.uniform(0, 3)))
                targets.record_activity(session, rep, monday, visits=visits, calls=calls, proposals=proposals,
                                        now=datetime.combine(monday + timedelta(days=7), datetime.min.time(),
                                                             tzinfo=now.tzinfo))
                weeks += 1
            monday += timedelta(weeks=1)
    return weeks


def _changed_last_week(session: so.Session, playbook: Playbook, *, rng: random.Random) -> dict[int, dict[str, Any]]:
    """A few open deals had their close date pushed out, or their amount changed, in the last
    week: what those fields were before, by deal id."""
    out: dict[int, dict[str, Any]] = {}
    for d in session.scalars(sa.select(Deal).where(Deal.stage.not_in([LOST, playbook.won.key])).order_by(Deal.id)):
        roll = rng.random()
        if roll < 0.06 and d.close_date is not None:
            out[d.id] = {"close_date": d.close_date - timedelta(days=rng.choice((14, 30, 45)))}
        elif roll < 0.12:
            out[d.id] = {"amount": (d.amount * Decimal(str(rng.choice((0.7, 0.8, 1.25))))).quantize(Decimal(1000))}
    return out


def _snapshot_as_of(session: so.Session, playbook: Playbook, *, week: date, at: datetime, taken: datetime,
                    changed: dict[int, dict[str, Any]]) -> None:
    """``week``'s snapshot, of every deal as it stood at ``at`` (its stage from the history)."""
    for d in session.scalars(sa.select(Deal).options(so.selectinload(Deal.history)).order_by(Deal.id)):
        moves = [c for c in d.history if c.changed_at <= at]
        if not moves:
            continue  # opened since
        stage = moves[-1].to_stage
        before = changed.get(d.id, {})
        forecast = "closed" if playbook.is_closed(stage) else playbook.stage(stage).forecast.value
        session.add(DealSnapshot(deal_id=d.id, week=week, stage=stage, amount=before.get("amount", d.amount),
                                 currency=d.currency, close_date=before.get("close_date", d.close_date),
                                 forecast=forecast, taken_at=taken))


@dataclass(frozen=True)
class LastForecast:
    """A region head's signed-off forecast (认可) for the week before the demo's, and what was won in it."""

    name: str
    forecast: Decimal
    won: Decimal
    currency: str
    missed: bool  # off by more than the margin: their digest asks the review's questions


def signed_last_week(session: so.Session, playbook: Playbook, *, week: date, now: datetime, signoff_tier: int,
                     currency: str, margin: int) -> list[LastForecast]:
    """Each region head signed off last week's forecast; the first (by name) was far too hopeful, the others
    within ``margin`` of what their regions then won: so the week shows forecast against actual."""
    heads = list(session.scalars(sa.select(Person).where(Person.tier >= signoff_tier, Person.manager_id.is_not(None))
                                 .order_by(Person.name)))
    period = week - timedelta(weeks=1)
    signed_at = datetime.combine(period + timedelta(days=3), datetime.min.time(), tzinfo=now.tzinfo) + timedelta(
        hours=12)  # their Thursday
    out = []
    for n, head in enumerate(heads):
        digests.save_comment(session, head, period, text="", commit=Decimal(0), best_case=None, currency=currency,
                             now=signed_at, signed_off=True)
        session.flush()
        result = digests.forecast_result(session, playbook, head, week, now=now)
        won = result.won if result is not None else Decimal(0)
        # The hopeful one counted on deals that did not close; the others called it within a few percent.
        forecast = (max(won * Decimal("1.6"), won + 80_000) // 1000 * 1000 if n == 0 else
                    (won * Decimal("1.05")).quantize(Decimal(1)))
        digests.save_comment(session, head, period, text="", commit=forecast, best_case=forecast, currency=currency,
                             now=signed_at, signed_off=True)
        out.append(LastForecast(head.name, forecast, won, currency, off_by_more_than(forecast, won, margin)))
    return out
