"""The Monday check-in: who is asked, their week, recording answers, away."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import sqlalchemy as sa
import sqlalchemy.orm as so
from slack_sdk.models.blocks import Block

from bot.db import repo
from bot.db.models import CheckIn, Deal, DealReview, Person
from bot.domain.cadence import Cadence, PersonalWeek, digest_instant, local_week, personal_week
from bot.domain.checkin import Status, status_of
from bot.domain.playbook import LOST, Playbook
from bot.domain.score import lead_score
from bot.render import checkin as render
from bot.services import targets

log = logging.getLogger("coach.checkin")


def tz_of(person: Person) -> ZoneInfo:
    return ZoneInfo(person.timezone or "UTC")


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        log.warning("no public holiday calendar for country %s", country)
        return frozenset()


def holiday_checker(country: str | None) -> Callable[[date], bool]:
    if not country:
        return lambda d: False
    return lambda d: d in _holidays(country.upper(), d.year)


def week_of(person: Person, week: date, cadence: Cadence) -> PersonalWeek:
    return personal_week(week, cadence, tz_of(person), holiday_checker(person.country))


def current_week(person: Person, now: datetime) -> date:
    return local_week(now, tz_of(person))


def is_away(person: Person, day: date) -> bool:
    return person.away_until is not None and day <= person.away_until


def open_deals(session: so.Session, person: Person, playbook: Playbook) -> list[Deal]:
    closed = [LOST, playbook.won.key]
    q = sa.select(Deal).where(Deal.owner_id == person.id, Deal.stage.not_in(closed))
    order = {k: i for i, k in enumerate(playbook.keys)}
    return sorted(session.scalars(q), key=lambda d: (order.get(d.stage, 99), d.close_date or date.max, d.id))


def people_to_prompt(session: so.Session, playbook: Playbook) -> list[Person]:
    """Every rep, and every manager who owns open deals."""
    owners = sa.select(Deal.owner_id).where(Deal.stage.not_in([LOST, playbook.won.key]))
    q = sa.select(Person).where(sa.or_(Person.tier == 0, Person.id.in_(owners))).order_by(Person.id)
    return list(session.scalars(q))


def manager_digest_at(person: Person, week: date, cadence: Cadence) -> datetime | None:
    """When the person's manager's digest for ``week`` goes out: edits after it are late."""
    boss = person.manager
    if boss is None:
        return None
    return digest_instant(week, boss.tier, cadence, tz_of(boss))


def get_checkin(session: so.Session, person: Person, week: date, *, now: datetime) -> CheckIn:
    """The person's check-in for ``week``, created on first use (safe under races: unique key)."""
    found = session.scalar(sa.select(CheckIn).where(CheckIn.person_id == person.id, CheckIn.week == week))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            row = CheckIn(person_id=person.id, week=week, status=Status.PENDING, updated_at=now)
            session.add(row)
        return row
    except sa.exc.IntegrityError:
        found = session.scalar(sa.select(CheckIn).where(CheckIn.person_id == person.id, CheckIn.week == week))
        assert found is not None
        return found


def refresh_status(session: so.Session, checkin: CheckIn, playbook: Playbook, *, now: datetime) -> None:
    person = checkin.person
    deals = {d.id for d in open_deals(session, person, playbook)}
    # Counted in the database, not from the loaded collection: another click may have just committed.
    reviewed = set(session.scalars(sa.select(DealReview.deal_id).where(DealReview.check_in_id == checkin.id)))
    answered = len(reviewed & deals)
    away = checkin.status == Status.AWAY and answered == 0
    new = status_of(answered, len(deals), away=away)
    if new is Status.COMPLETE and checkin.completed_at is None:
        checkin.completed_at = now
    if answered and checkin.started_at is None:
        checkin.started_at = now
    checkin.status = new
    checkin.updated_at = now


def record_review(session: so.Session, checkin: CheckIn, deal: Deal, outcome: str, playbook: Playbook, cadence: Cadence,
                  *, now: datetime, note: str = "") -> DealReview:
    """Save one deal's answer; edits after the manager's digest went out are marked late."""
    digest_at = manager_digest_at(checkin.person, checkin.week, cadence)
    late = digest_at is not None and now > digest_at
    # Two quick clicks are two transactions: the row lock (PostgreSQL; SQLite serialises writers)
    # makes the second see the first's answer, so the status ends right.
    session.execute(sa.select(CheckIn.id).where(CheckIn.id == checkin.id).with_for_update())
    session.refresh(checkin, ["reviews"])
    review = next((r for r in checkin.reviews if r.deal_id == deal.id), None)
    if review is None:
        review = DealReview(deal_id=deal.id, outcome=outcome, answered_at=now)
        checkin.reviews.append(review)
    # "updated" sticks: a later "no change" does not undo an update in the same week.
    review.outcome = "updated" if "updated" in (review.outcome, outcome) else outcome
    review.note = note or review.note
    review.answered_at = now
    review.late = late
    session.flush()
    refresh_status(session, checkin, playbook, now=now)
    return review


def set_away(session: so.Session, person: Person, until: date | None, playbook: Playbook, *, now: datetime) -> None:
    """``/deal away until DATE`` (or back, with None): this week's unanswered check-in follows."""
    person.away_until = until
    checkin = session.scalar(sa.select(CheckIn).where(CheckIn.person_id == person.id,
                                                      CheckIn.week == current_week(person, now)))
    if checkin is None:
        if until is None:
            return
        checkin = get_checkin(session, person, current_week(person, now), now=now)
    if until is not None and not checkin.reviews:
        checkin.status = Status.AWAY
        checkin.updated_at = now
    elif until is None and checkin.status == Status.AWAY:
        checkin.status = Status.PENDING
        refresh_status(session, checkin, playbook, now=now)


def prompt_message(session: so.Session, playbook: Playbook, person: Person, week: date, *, page: int = 1,
                   lang: str = "en", now: datetime | None = None) -> list[Block]:
    """The check-in DM as it stands now: sent on Monday, redrawn after each answer."""
    deals = open_deals(session, person, playbook)
    checkin = session.scalar(sa.select(CheckIn).where(CheckIn.person_id == person.id, CheckIn.week == week))
    refs = {d.id: d.ref for d in deals}
    reviews = checkin.reviews if checkin else []
    outcomes = {refs[r.deal_id]: (r.outcome, r.late) for r in reviews if r.deal_id in refs}
    facts = [repo.to_facts(d) for d in deals]
    at = now or datetime.combine(week, datetime.min.time(), tzinfo=tz_of(person))  # lead scores age with time
    scores = {f.ref: lead_score(f, playbook, now=at, weights=playbook.scoring) for f in facts}
    activity = targets.activity_for(session, person, week - timedelta(days=7))
    return render.prompt_blocks(person.name.split()[0], week, facts, outcomes, playbook, page=page, lang=lang,
                                activity=activity, scores=scores, ask_activity=True)
