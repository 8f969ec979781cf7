"""A person's numbers from the team's own history: the data behind ``coach report``,
``/pipeline plan`` and the charts. Loads in a few bulk queries, computes in the domain,
returns plain data (renderers build the text and blocks)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, Person
from bot.domain import org
from bot.domain.deal import DealFacts
from bot.domain.history import Conversion, conversions
from bot.domain.plan import STEPS, ActivityRatios, Period, Plan, activity_plan, month_of, parse_period, working_days
from bot.domain.playbook import LOST, Playbook
from bot.domain.score import Score, lead_score
from bot.domain.stats import (
    ClosedDeal,
    Outcomes,
    Ratio,
    Source,
    StageTime,
    choose_ratio,
    conversion_ratios,
    in_window,
    outcomes,
    stall_limits,
    time_in_stage,
)
from bot.services import targets
from bot.services.local_time import current_week, holiday_checker, tz_of
from bot.services.targets import Activity, TargetInfo


@dataclass(frozen=True)
class Numbers:
    """Everything ``coach report`` and ``/pipeline plan`` show for one person (or their team)."""

    name: str
    email: str
    is_manager: bool
    today: date
    window_days: int
    currency: str  # the viewer's: their target's, else the one most of their deals are in
    conversions: list[Conversion]  # their own (a manager's: their subtree's) stage to stage
    stage_ratios: list[Ratio]  # the "1 : X" used per pair of stages, with where it came from
    times: list[StageTime]  # their team's time in stage
    stall_limits: dict[str, float]
    outcomes: Outcomes
    target: TargetInfo | None
    achieved: Decimal  # won in the target's period (or this month), in ``currency``
    open_amount: Decimal
    weighted: Decimal
    activity_ratios: dict[str, Ratio]  # STEPS -> ratio used
    average_deal: Decimal | None
    average_from: str  # "won deals", "open deals" or ""
    working_days_left: int
    period_end: date
    plan: Plan | None
    last_week: Activity | None  # what they reported for last week (a manager: their team's sum)
    last_week_start: date
    scores: list[tuple[DealFacts, Score]] = field(default_factory=list)  # their open deals, best first
    open_by_stage: list[tuple[str, int, Decimal]] = field(default_factory=list)  # (stage, deals, amount in currency)
    open_elsewhere: int = 0  # open deals in other currencies, left out of the amounts

    @property
    def remaining(self) -> Decimal | None:
        return max(Decimal(0), self.target.amount - self.achieved) if self.target else None

    def coverage(self, amount: Decimal) -> float | None:
        """``amount`` over what is left of the target (None without a target or once it is met)."""
        left = self.remaining
        return float(amount / left) if left else None


def _managers(session: so.Session) -> dict[str, str | None]:
    return {str(k): (str(v) if v is not None else None) for k, v in repo.manager_map(session).items()}


def team_of(managers: dict[str, str | None], person: Person) -> tuple[list[int], list[int]]:
    """(whose numbers these are, the team they fall back to): a rep and their manager's subtree;
    a manager's subtree twice."""
    key = str(person.id)
    own = [int(k) for k in org.subtree(managers, key)]
    boss = managers.get(key)
    team = [int(k) for k in org.subtree(managers, boss)] if (person.tier == 0 and boss) else own
    return own, team


def owners_of(session: so.Session, person: Person) -> list[int]:
    """Whose deals count as ``person``'s: their own, and everyone's beneath them."""
    return team_of(_managers(session), person)[0]


def _activity_candidates(conv: list[Conversion], acts: list[Activity]) -> dict[str, tuple[float | None, int]]:
    """Each step's "1 : X" from history and reported activity, with its sample."""
    customers = conv[0].reached_from if conv else 0
    won = conv[-1].reached_to if conv else 0
    proposals = sum(a.proposals or 0 for a in acts)
    visits = sum(a.visits or 0 for a in acts)
    calls = sum(a.calls or 0 for a in acts)

    def per(a: int, b: int) -> float | None:
        return a / b if a and b else None

    return {"customers_per_deal": (per(customers, won), customers),
            "proposals_per_customer": (per(proposals, customers), customers),
            "visits_per_proposal": (per(visits, proposals), proposals),
            "calls_per_visit": (per(calls, visits), visits)}


def numbers_for(session: so.Session, playbook: Playbook, person: Person, *, now: datetime,
                target: Decimal | None = None) -> Numbers:
    """``person``'s numbers at ``now``; ``target`` overrides their stored target for the plan."""
    settings = playbook.numbers
    managers = _managers(session)
    own_ids, team_ids = team_of(managers, person)
    since = now - timedelta(days=settings.window_days)
    today = now.astimezone(tz_of(person)).date()

    rows: list[Any] = list(session.execute(
        sa.select(Deal.id, Deal.ref, Deal.owner_id, Deal.amount, Deal.currency, Deal.stage, Deal.created_at,
                  Deal.stage_entered_at).where(Deal.owner_id.in_(team_ids))))
    mine = {r.ref for r in rows if r.owner_id in own_ids}
    history = in_window(repo.transitions(session, [r.id for r in rows]), since, now)
    own_conv = conversions([t for t in history if t.deal in mine], playbook)
    team_conv = conversions(history, playbook)
    defaults = [settings.stage_ratio] * (len(playbook.stages) - 1)
    if person.tier == 0:
        ratios = conversion_ratios(own_conv, team_conv, defaults, min_sample=settings.min_sample)
    else:
        ratios = [choose_ratio([(Source.TEAM, c.one_in, c.reached_from)], d, min_sample=settings.min_sample)
                  for c, d in zip(team_conv, defaults, strict=True)]
    times = time_in_stage(history, playbook, since=since, now=now)

    tinfo = targets.target_for(session, person, today)
    if target is not None:
        label = tinfo.period if tinfo else None
        tinfo = TargetInfo(label or f"{today.year}-{today.month:02d}", target, tinfo.currency if tinfo else "", False)
    currency = (tinfo.currency if tinfo and tinfo.currency else None) or _usual([r.currency for r in rows
                                                                                 if r.ref in mine]) or "USD"
    if tinfo and not tinfo.currency:
        tinfo = TargetInfo(tinfo.period, tinfo.amount, currency, tinfo.summed)
    # Amounts in other currencies count in ``currency`` at the company's rates (`coach rates import`);
    # one without a rate stays in its own and is left out of the sums, as before.
    to_currency = repo.load_rates(session).converter(currency, today)
    rows = [_in(r, currency, to_currency) for r in rows]
    open_rows = [r for r in rows if r.ref in mine and not playbook.is_closed(r.stage)]
    closed = [ClosedDeal(r.ref, str(r.owner_id), r.stage != LOST, r.amount, r.currency, r.created_at,
                         r.stage_entered_at) for r in rows if r.ref in mine and playbook.is_closed(r.stage)]
    result = outcomes(closed, since=since, until=now)
    period = parse_period(tinfo.period) if tinfo else parse_period(f"{today.year}-{today.month:02d}")
    period_start = datetime.combine(period.start, datetime.min.time(), tzinfo=tz_of(person))
    achieved = sum((r.amount for r in rows if r.ref in mine and r.stage == playbook.won.key
                    and r.currency == currency and r.stage_entered_at >= period_start), Decimal(0))
    open_amount = sum((r.amount for r in open_rows if r.currency == currency), Decimal(0))
    weighted = sum((r.amount * playbook.probability(r.stage) for r in open_rows if r.currency == currency),
                   Decimal(0))

    week = current_week(person, now)
    acts = targets.activity_of(session, own_ids, since=(since.date()), until=week - timedelta(days=1))
    found = _activity_candidates(team_conv, targets.activity_of(session, team_ids, since=since.date(),
                                                                until=week - timedelta(days=1)))
    mine_found = _activity_candidates(own_conv, acts)
    defaults_act = dict(zip(STEPS, settings.activity.as_tuple(), strict=True))
    act_ratios = {}
    for step in STEPS:
        cands = [(Source.TEAM, *found[step])]
        if person.tier == 0:
            cands.insert(0, (Source.REP, *mine_found[step]))
        act_ratios[step] = choose_ratio(cands, defaults_act[step], min_sample=settings.min_sample)

    avg = result.average_deal.get(currency)
    avg_from = "won deals" if avg else ""
    if not avg and open_rows:
        amounts = [r.amount for r in open_rows if r.currency == currency]
        avg = (sum(amounts, Decimal(0)) / len(amounts)).quantize(Decimal("0.01")) if amounts else None
        avg_from = "open deals" if avg else ""

    days_left = working_days(max(today, period.start), period.end, is_holiday=holiday_checker(person.country))
    plan = None
    if tinfo and avg:
        plan = activity_plan(target=tinfo.amount, achieved=achieved, average_deal=avg, working_days=days_left,
                             weighted_open=weighted.quantize(Decimal("0.01")),
                             ratios=ActivityRatios(*(act_ratios[s].value for s in STEPS)))
    last_start = week - timedelta(days=7)
    last = [a for a in acts if a.week == last_start]
    facts = _open_facts(session, own_ids, playbook)
    scores = sorted(((f, lead_score(f, playbook, now=now, weights=playbook.scoring)) for f in facts),
                    key=lambda fs: (-fs[1].value, fs[0].ref))
    return Numbers(
        name=person.name, email=person.email, is_manager=person.tier > 0, today=today,
        window_days=settings.window_days, currency=currency, conversions=own_conv, stage_ratios=ratios,
        times=times, stall_limits=stall_limits(playbook, times), outcomes=result, target=tinfo,
        achieved=achieved, open_amount=open_amount, weighted=weighted.quantize(Decimal("0.01")),
        activity_ratios=act_ratios, average_deal=avg, average_from=avg_from, working_days_left=days_left,
        period_end=period.end, plan=plan, last_week=last[0] if last else None, last_week_start=last_start,
        scores=scores,
        open_by_stage=[(k, sum(1 for r in open_rows if r.stage == k and r.currency == currency),
                        sum((r.amount for r in open_rows if r.stage == k and r.currency == currency), Decimal(0)))
                       for k in playbook.keys[:-1]],
        open_elsewhere=sum(1 for r in open_rows if r.currency != currency),
    )


class _Row(NamedTuple):
    id: int
    ref: str
    owner_id: int
    amount: Decimal
    currency: str
    stage: str
    created_at: datetime
    stage_entered_at: datetime


def _in(row: Any, currency: str, convert: Callable[[Decimal, str], Decimal | None]) -> _Row:
    r = _Row(*row)
    if r.currency == currency:
        return r
    amount = convert(r.amount, r.currency)
    return r if amount is None else r._replace(amount=amount, currency=currency)


def current_period(person: Person, now: datetime) -> Period:
    """The month containing ``now`` where ``person`` is: the default period of a target."""
    return month_of(now.astimezone(tz_of(person)).date())


def _usual(currencies: list[str]) -> str | None:
    return max(set(currencies), key=lambda c: (currencies.count(c), c)) if currencies else None


def _open_facts(session: so.Session, owner_ids: list[int], playbook: Playbook) -> list[DealFacts]:
    return [f for f in repo.load_facts(session, owner_ids=owner_ids) if not playbook.is_closed(f.stage)]


def scores_by_ref(facts: list[DealFacts], playbook: Playbook, *, now: datetime) -> dict[str, Score]:
    """The lead score of every open deal among ``facts``."""
    return {f.ref: lead_score(f, playbook, now=now, weights=playbook.scoring)
            for f in facts if not playbook.is_closed(f.stage)}
