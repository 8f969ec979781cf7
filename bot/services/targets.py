"""Targets per person and period, and the weekly activity reps report in their check-in.

A manager without a target of their own for a period is measured against the
sum of their team's (every target in their subtree, per currency).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Person, Target, WeeklyActivity
from bot.domain import org
from bot.domain.plan import Period
from bot.services.errors import UserError


@dataclass(frozen=True)
class TargetInfo:
    period: str
    amount: Decimal
    currency: str
    summed: bool  # True when it is the team's targets added up, not one set for the person


@dataclass(frozen=True)
class Activity:
    week: date
    visits: int | None
    calls: int | None
    proposals: int | None
    skipped: bool


def set_target(session: so.Session, person: Person, period: Period, amount: Decimal, currency: str, *,
               by: Person | None, now: datetime) -> bool:
    """Set (or replace) ``person``'s target for ``period``; True when it is new."""
    row = session.scalar(sa.select(Target).where(Target.person_id == person.id, Target.period == period.label))
    created = row is None
    if row is None:
        row = Target(person_id=person.id, period=period.label)
        session.add(row)
    row.starts, row.ends, row.amount, row.currency = period.start, period.end, amount, currency
    row.set_by_id, row.updated_at = (by.id if by else None), now
    session.flush()
    return created


def target_for(session: so.Session, person: Person, day: date) -> TargetInfo | None:
    """``person``'s target for the period containing ``day``: their own, else the sum of their team's.

    Among several periods containing the day (a month and a quarter), the shortest wins.
    """
    rows = session.execute(sa.select(Target.person_id, Target.period, Target.starts, Target.ends, Target.amount,
                                     Target.currency).where(Target.starts <= day, Target.ends >= day)).all()
    own = sorted((r for r in rows if r.person_id == person.id), key=lambda r: r.ends - r.starts)
    if own:
        return TargetInfo(own[0].period, own[0].amount, own[0].currency, False)
    managers = {str(k): (str(v) if v is not None else None) for k, v in repo.manager_map(session).items()}
    team = set(org.subtree(managers, str(person.id))) - {str(person.id)}
    mine = [r for r in rows if str(r.person_id) in team]
    if not mine:
        return None
    shortest = min(r.ends - r.starts for r in mine)
    mine = [r for r in mine if r.ends - r.starts == shortest]
    currency = max({r.currency for r in mine}, key=lambda c: sum(1 for r in mine if r.currency == c))
    total = sum((r.amount for r in mine if r.currency == currency), Decimal(0))
    return TargetInfo(mine[0].period, total, currency, True)


def record_activity(session: so.Session, person: Person, week: date, *, visits: int | None, calls: int | None,
                    proposals: int | None, skipped: bool = False, now: datetime) -> None:
    """Store (or replace) what ``person`` did in the week starting ``week``."""
    row = session.scalar(sa.select(WeeklyActivity).where(WeeklyActivity.person_id == person.id,
                                                         WeeklyActivity.week == week))
    if row is None:
        row = WeeklyActivity(person_id=person.id, week=week)
        session.add(row)
    row.visits, row.calls, row.proposals, row.skipped, row.recorded_at = visits, calls, proposals, skipped, now
    session.flush()


def activity_for(session: so.Session, person: Person, week: date) -> Activity | None:
    """What ``person`` answered about the week starting ``week`` (None if not asked or not answered)."""
    row = session.scalar(sa.select(WeeklyActivity).where(WeeklyActivity.person_id == person.id,
                                                         WeeklyActivity.week == week))
    return None if row is None else Activity(row.week, row.visits, row.calls, row.proposals, row.skipped)


def activity_of(session: so.Session, person_ids: list[int], *, since: date, until: date) -> list[Activity]:
    """The weekly activity of these people from ``since`` to ``until``, summed per week."""
    q = (sa.select(WeeklyActivity.week, sa.func.sum(WeeklyActivity.visits), sa.func.sum(WeeklyActivity.calls),
                   sa.func.sum(WeeklyActivity.proposals), sa.func.min(sa.cast(WeeklyActivity.skipped, sa.Integer)))
         .where(WeeklyActivity.person_id.in_(person_ids), WeeklyActivity.week.between(since, until))
         .group_by(WeeklyActivity.week).order_by(WeeklyActivity.week))
    return [Activity(w, _int(v), _int(c), _int(p), bool(s)) for w, v, c, p, s in session.execute(q)]


def _int(v: object) -> int | None:
    return None if v is None else int(v)  # type: ignore[call-overload]


@dataclass(frozen=True)
class ReportTarget:
    name: str
    is_manager: bool
    target: TargetInfo | None
    person_id: int = 0


def team_targets(session: so.Session, manager: Person, day: date) -> list[ReportTarget]:
    """Each direct report of ``manager`` with their target for the period containing ``day``."""
    reports = session.scalars(sa.select(Person).where(Person.manager_id == manager.id).order_by(Person.name))
    return [ReportTarget(p.name, p.tier > 0, target_for(session, p, day), p.id) for p in reports]


def set_team_targets(session: so.Session, manager: Person, period: Period, currency: str,
                     amounts: dict[int, Decimal], *, now: datetime) -> int:
    """Set targets for ``manager``'s direct reports (by person id); anyone else is refused
    (UserError), nothing written. Returns how many were set."""
    reports = {p.id: p for p in session.scalars(sa.select(Person).where(Person.manager_id == manager.id))}
    if any(pid not in reports for pid in amounts):
        raise UserError("stale_view")
    for pid, amount in amounts.items():
        set_target(session, reports[pid], period, amount, currency, by=manager, now=now)
    return len(amounts)
