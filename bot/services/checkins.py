"""The Monday check-in: who is asked, their week, recording answers, away."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import CheckIn, Deal, DealReview, Person
from bot.domain.cadence import Cadence, digest_instant
from bot.domain.checkin import Status, status_of
from bot.domain.deal import DealFacts
from bot.domain.gates import check_gate
from bot.domain.playbook import LOST, Playbook, marker_key
from bot.domain.score import Score, lead_score
from bot.services import meeting, targets
from bot.services.answers import Answers, DealEdits, apply_edits, record_answers
from bot.services.errors import UserError
from bot.services.local_time import current_week, schedulable, tz_of

log = logging.getLogger("coach.checkin")


def open_deals(session: so.Session, person: Person, playbook: Playbook) -> list[Deal]:
    closed = [LOST, playbook.won.key]
    q = sa.select(Deal).where(Deal.owner_id == person.id, Deal.stage.not_in(closed))
    order = {k: i for i, k in enumerate(playbook.keys)}
    return sorted(session.scalars(q), key=lambda d: (order.get(d.stage, 99), d.close_date or date.max, d.id))


def people_to_prompt(session: so.Session, playbook: Playbook) -> list[Person]:
    """Every rep, and every manager who owns open deals."""
    owners = sa.select(Deal.owner_id).where(Deal.stage.not_in([LOST, playbook.won.key]))
    q = sa.select(Person).where(sa.or_(Person.tier == 0, Person.id.in_(owners))).order_by(Person.id)
    return [p for p in session.scalars(q) if schedulable(p)]


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


@dataclass(frozen=True)
class Prompt:
    """The check-in DM's content as it stands now: sent on Monday, redrawn after each answer."""

    first_name: str
    week: date
    deals: list[DealFacts]
    outcomes: dict[str, tuple[str, bool]]  # ref -> (outcome, late)
    scores: dict[str, Score] = field(default_factory=dict)  # ref -> lead score
    activity: Any = None  # last week's visits, calls and proposals, as answered (targets.Activity)


def prompt_of(session: so.Session, playbook: Playbook, person: Person, week: date, *,
              now: datetime | None = None) -> Prompt:
    deals = open_deals(session, person, playbook)
    checkin = session.scalar(sa.select(CheckIn).where(CheckIn.person_id == person.id, CheckIn.week == week))
    refs = {d.id: d.ref for d in deals}
    reviews = checkin.reviews if checkin else []
    outcomes = {refs[r.deal_id]: (r.outcome, r.late) for r in reviews if r.deal_id in refs}
    facts = [repo.to_facts(d) for d in deals]
    at = now or datetime.combine(week, datetime.min.time(), tzinfo=tz_of(person))  # lead scores age with time
    scores = {f.ref: lead_score(f, playbook, now=at, weights=playbook.scoring) for f in facts}
    activity = targets.activity_for(session, person, week - timedelta(days=7))
    return Prompt(person.name.split()[0], week, facts, outcomes, scores, activity)


def prompt_for(session: so.Session, playbook: Playbook, person_id: int, week: date, *,
               now: datetime | None = None) -> Prompt:
    person = session.get(Person, person_id)
    assert person is not None
    return prompt_of(session, playbook, person, week, now=now)


def prompt_message_at(session: so.Session, person: Person, week: date) -> tuple[str, str] | None:
    """Where the person's check-in DM for ``week`` is (channel, ts), to redraw it; None if not sent."""
    checkin = session.scalar(sa.select(CheckIn).where(CheckIn.person_id == person.id, CheckIn.week == week))
    if checkin is None or not checkin.prompt_channel or not checkin.prompt_ts:
        return None
    return checkin.prompt_channel, checkin.prompt_ts


def own_deal(session: so.Session, person: Person, ref: str) -> Deal:
    """One of the person's own deals: the check-in is about what they own."""
    deal = repo.deal_by_ref(session, ref)
    if deal is None or deal.owner_id != person.id:
        raise UserError("deal_not_found", query=ref)
    return deal


def next_unanswered(session: so.Session, person: Person, week: date, playbook: Playbook, *, now: datetime,
                    after: Deal | None = None) -> tuple[Deal | None, int, int]:
    """The next deal without an answer this week, its position and the number of open deals."""
    deals = open_deals(session, person, playbook)
    checkin = get_checkin(session, person, week, now=now)
    done = {r.deal_id for r in checkin.reviews}
    for i, d in enumerate(deals, start=1):
        if d.id not in done and (after is None or d.id != after.id):
            return d, i, len(deals)
    return None, len(deals), len(deals)


def no_change(session: so.Session, person: Person, ref: str, week: date, playbook: Playbook, cadence: Cadence, *,
              now: datetime) -> None:
    """*No change* on one of the person's deals in their check-in for ``week``."""
    deal = own_deal(session, person, ref)
    record_review(session, get_checkin(session, person, week, now=now), deal, "no_change", playbook, cadence, now=now)


@dataclass(frozen=True)
class Saved:
    """A check-in answer, saved: the deal afterwards, and whether its gate to the next stage is open."""

    deal: DealFacts
    next_stage: str | None
    gate_open: bool


def save_answer(session: so.Session, person: Person, deal: Deal, week: date, answers: Answers, edits: DealEdits,
                playbook: Playbook, cadence: Cadence, *, now: datetime, note: str, marker_seen: bool = False,
                plans_done: dict[int, bool | None] | None = None) -> Saved:
    """Store every answer and mark the deal reviewed this week. ``marker_seen``: the rep ticked that the
    customer shows the next stage's marker; ``plans_done``: action plan id -> done? (the follow-up)."""
    nxt_stage = playbook.next_stage(deal.stage)
    if nxt_stage is not None and marker_seen:
        answers.characteristics.add(marker_key(nxt_stage.key))
    record_answers(deal, answers, playbook, now=now, by=person)
    if plans_done:
        meeting.follow_up(deal, plans_done, now=now)
    apply_edits(deal, edits, now=now)
    checkin = get_checkin(session, person, week, now=now)
    record_review(session, checkin, deal, "updated", playbook, cadence, now=now, note=note)
    facts = repo.to_facts(deal)
    nxt = playbook.next_stage(deal.stage)
    if nxt is None:
        return Saved(facts, None, False)
    return Saved(facts, nxt.key, check_gate(facts, nxt.key, playbook).open)
