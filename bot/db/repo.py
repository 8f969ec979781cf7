"""Rows <-> domain objects, and the queries the services share. Never commits."""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db.models import Deal, ExchangeRate, Person, StageChange
from bot.domain import org
from bot.domain.deal import BantAnswer as BantFact
from bot.domain.deal import Confirmation, DealFacts, Plan
from bot.domain.history import Transition
from bot.domain.rates import Rate, Rates

REF_PREFIX = "D-"
_REF_NUMBER = re.compile(r"^D-(\d+)$")


def people_by_email(session: so.Session) -> dict[str, Person]:
    return {p.email: p for p in session.scalars(sa.select(Person))}


def person_by_email(session: so.Session, email: str) -> Person | None:
    return session.scalar(sa.select(Person).where(Person.email == email.strip().lower()))


def manager_map(session: so.Session) -> dict[int, int | None]:
    return {pid: mid for pid, mid in session.execute(sa.select(Person.id, Person.manager_id))}


def recompute_tiers(session: so.Session) -> None:
    """Store each person's tier; call after any change to reporting lines."""
    session.flush()
    tiers = org.tiers({str(k): (str(v) if v is not None else None) for k, v in manager_map(session).items()})
    for person in session.scalars(sa.select(Person)):
        person.tier = tiers[str(person.id)]


def ref_number(ref: str) -> int | None:
    m = _REF_NUMBER.match(ref)
    return int(m.group(1)) if m else None


def next_ref_numbers(session: so.Session, count: int, taken: Iterable[str] = ()) -> list[str]:
    """``count`` fresh ``D-n`` refs after the highest in use (in the database or ``taken``)."""
    used = [n for r in [*session.scalars(sa.select(Deal.ref)), *taken] if (n := ref_number(r)) is not None]
    start = max(used, default=0) + 1
    return [f"{REF_PREFIX}{n}" for n in range(start, start + count)]


def deal_by_ref(session: so.Session, ref: str) -> Deal | None:
    return session.scalar(sa.select(Deal).where(sa.func.upper(Deal.ref) == ref.strip().upper()))


def to_facts(deal: Deal) -> DealFacts:
    roles: dict[str, list[str]] = {}
    for c in deal.contacts:
        roles.setdefault(c.role, []).append(c.name)
    evaluations: dict[str, dict[str, bool]] = {}
    confirmed: dict[str, Confirmation] = {}
    for a in deal.evaluation_answers:
        evaluations.setdefault(a.evaluation, {})[a.item] = a.answer
        confirmed[f"{a.evaluation}.{a.item}"] = Confirmation(a.answered_by.name if a.answered_by else "", a.answered_at)
    for c in deal.characteristics:
        confirmed[c.key] = Confirmation(c.confirmed_by.name if c.confirmed_by else "", c.confirmed_at)
    return DealFacts(
        ref=deal.ref,
        name=deal.name,
        stage=deal.stage,
        owner=deal.owner.email,
        account=deal.account,
        amount=deal.amount,
        currency=deal.currency,
        close_date=deal.close_date,
        forecast=deal.forecast,
        next_step=deal.next_step,
        next_step_date=deal.next_step_date,
        characteristics=frozenset(c.key for c in deal.characteristics),
        bant={b.item: BantFact(b.answer, b.confirmed_at) for b in deal.bant},
        roles={k: tuple(v) for k, v in roles.items()},
        evaluations=evaluations,
        stage_entered_at=deal.stage_entered_at,
        lost_reason=deal.lost_reason,
        confirmed=confirmed,
        updated_at=deal.updated_at,
        plans=tuple(Plan(p.id, p.what, p.who, p.due, p.agreed_by.name if p.agreed_by else "", p.agreed_at, p.done)
                    for p in deal.action_plans),
    )


def transitions(session: so.Session, deal_ids: Iterable[int] | None = None) -> list[Transition]:
    """The stage history as domain transitions, keyed by deal ref."""
    q = sa.select(Deal.ref, StageChange.from_stage, StageChange.to_stage, StageChange.changed_at).join(
        Deal, Deal.id == StageChange.deal_id
    )
    if deal_ids is not None:
        q = q.where(StageChange.deal_id.in_(list(deal_ids)))
    return [Transition(*row) for row in session.execute(q.order_by(StageChange.changed_at, StageChange.id))]


def load_rates(session: so.Session) -> Rates:
    """Every stored exchange rate, ready to convert with."""
    return Rates(Rate(r.valid_from, r.from_currency, r.to_currency, r.rate)
                 for r in session.scalars(sa.select(ExchangeRate)))
