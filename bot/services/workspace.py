"""Deal work done from Slack: finding, permissions, edits and gate answers.

Every function takes the session (the caller owns the transaction) and the
acting person; every refusal is a ``UserError`` the handler turns into an
ephemeral message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import BantAnswer, ConfirmedCharacteristic, Contact, Deal, EvaluationAnswer, Person
from bot.domain import access, org
from bot.domain.playbook import Playbook
from bot.services.errors import UserError
from bot.services.people import Directory, person_for_slack_user

DEAL_LOADS = (
    so.selectinload(Deal.owner),
    so.selectinload(Deal.bant),
    so.selectinload(Deal.contacts),
    so.selectinload(Deal.characteristics),
    so.selectinload(Deal.evaluation_answers),
)


@dataclass
class Actor:
    """The person acting, with the org map the permission rules need."""

    person: Person
    is_admin: bool
    managers: dict[str, str | None]

    @property
    def viewer(self) -> access.Viewer:
        return access.Viewer(str(self.person.id), self.is_admin)

    def can_see(self, owner: Person) -> bool:
        return access.can_see(self.viewer, str(owner.id), self.managers)

    def can_override(self, owner: Person) -> bool:
        return access.can_override(self.viewer, str(owner.id), self.managers)

    def visible_owner_ids(self) -> list[int] | None:
        """Ids of people whose deals this actor sees; None means everyone."""
        if self.is_admin:
            return None
        return [int(k) for k in org.subtree(self.managers, str(self.person.id))]

    @property
    def is_manager(self) -> bool:
        return self.person.tier > 0


def actor_for(session: so.Session, person: Person, admins: frozenset[str]) -> Actor:
    managers = {str(k): (str(v) if v is not None else None) for k, v in repo.manager_map(session).items()}
    return Actor(person, person.email in admins, managers)


def visible_deals(session: so.Session, actor: Actor, owner_ids: Iterable[int] | None = None) -> list[Deal]:
    q = sa.select(Deal).options(*DEAL_LOADS).order_by(Deal.id)
    ids = actor.visible_owner_ids()
    if ids is not None:
        q = q.where(Deal.owner_id.in_(ids))
    if owner_ids is not None:
        q = q.where(Deal.owner_id.in_(list(owner_ids)))
    return list(session.scalars(q))


def find_deal(session: so.Session, actor: Actor, query: str) -> Deal:
    """A deal by ref, or by an unambiguous part of its name, among those ``actor`` may see."""
    query = query.strip()
    if not query:
        raise UserError("deal_missing_ref")
    deal = repo.deal_by_ref(session, query)
    if deal is not None:
        if not actor.can_see(deal.owner):
            raise UserError("deal_forbidden", ref=deal.ref)
        return deal
    pattern = "%" + query.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    q = sa.select(Deal).where(Deal.name.ilike(pattern, escape="\\")).order_by(Deal.id).limit(11)
    ids = actor.visible_owner_ids()
    if ids is not None:
        q = q.where(Deal.owner_id.in_(ids))
    found = list(session.scalars(q))
    exact = [d for d in found if d.name.lower() == query.lower()]
    if len(exact) == 1:
        return exact[0]
    if not found:
        raise UserError("deal_not_found", query=query)
    if len(found) > 1:
        raise UserError("deal_ambiguous", query=query, candidates=[(d.ref, d.name) for d in found[:10]],
                        more=len(found) > 10)
    return found[0]


def person_for_mention(session: so.Session, actor: Actor, user_id: str, directory: Directory) -> Person:
    """The org member a slash command mentioned, if the actor may see them."""
    person = person_for_slack_user(session, user_id, directory)
    if person is None:
        raise UserError("person_unknown", user_id=f"<@{user_id}>")
    if not actor.can_see(person):
        raise UserError("person_forbidden", user_id=f"<@{user_id}>")
    return person


@dataclass
class DealEdits:
    """Field changes from a modal; None means "leave as it is"."""

    name: str | None = None
    account: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    close_date: date | None = None
    forecast: str | None = None
    next_step: str | None = None
    next_step_date: date | None = None
    clear_close_date: bool = False
    clear_next_step_date: bool = False


def apply_edits(deal: Deal, edits: DealEdits, *, now: datetime) -> bool:
    """Apply ``edits``; True when anything changed."""
    changed = False
    for name in ("name", "account", "amount", "currency", "close_date", "forecast", "next_step", "next_step_date"):
        value = getattr(edits, name)
        if value is not None and getattr(deal, name) != value:
            setattr(deal, name, value)
            changed = True
    for flag, name in (("clear_close_date", "close_date"), ("clear_next_step_date", "next_step_date")):
        if getattr(edits, flag) and getattr(deal, name) is not None:
            setattr(deal, name, None)
            changed = True
    if changed:
        deal.updated_at = now
    return changed


@dataclass
class Answers:
    """Qualification answers from a gate or check-in modal."""

    characteristics: set[str] = field(default_factory=set)  # confirmed now
    unconfirmed: set[str] = field(default_factory=set)  # explicitly unticked
    bant: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    evaluations: dict[str, set[str]] = field(default_factory=dict)  # evaluation -> items answered yes


def record_answers(deal: Deal, answers: Answers, playbook: Playbook, *, now: datetime, by: Person | None) -> None:
    """Store answers on the deal, confirming BANT items with today's date."""
    have = {c.key: c for c in deal.characteristics}
    for key in answers.characteristics - set(have):
        deal.characteristics.append(ConfirmedCharacteristic(key=key, confirmed_at=now, confirmed_by=by))
    for key in answers.unconfirmed & set(have):
        deal.characteristics.remove(have[key])
    bant = {b.item: b for b in deal.bant}
    for item, text in answers.bant.items():
        text = text.strip()
        if not text:
            continue
        row = bant.get(item) or BantAnswer(item=item)
        row.answer, row.confirmed_at, row.confirmed_by_id = text, now, by.id if by else None
        if item not in bant:
            deal.bant.append(row)
    for role, names in answers.roles.items():
        names = [n.strip() for n in names if n.strip()]
        if not names:
            continue
        keep = [c for c in deal.contacts if c.role != role]
        if not playbook.role(role).multiple:
            names = names[:1]
        deal.contacts[:] = keep + [Contact(role=role, name=n) for n in names]
    current = {(a.evaluation, a.item): a for a in deal.evaluation_answers}
    for ev_key, yes in answers.evaluations.items():
        for item in playbook.evaluation(ev_key).items:
            row = current.get((ev_key, item.key))
            if row is None:
                row = EvaluationAnswer(evaluation=ev_key, item=item.key)
                deal.evaluation_answers.append(row)
            if row.answered_by_id is None or row.answer != (item.key in yes):
                row.answer, row.answered_at, row.answered_by = item.key in yes, now, by
    deal.updated_at = now
