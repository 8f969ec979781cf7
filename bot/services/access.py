"""Who may see what: the acting person, and finding the deals and people they may see.

Every function takes the session (the caller owns the transaction) and the
acting person; every refusal is a ``UserError`` the handler turns into an
ephemeral message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Deal, Person
from bot.domain import access, org
from bot.domain.deal import DealFacts
from bot.domain.values import MAX_NAME
from bot.services.errors import UserError
from bot.services.people import Directory, person_for_slack_user


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
    return Actor(person, person.email in admins, repo.manager_map(session))


def visible_facts(session: so.Session, actor: Actor, owner_ids: Iterable[int] | None = None) -> list[DealFacts]:
    """The deals (of ``owner_ids``, or everyone's) that ``actor`` may see, in id order."""
    ids = actor.visible_owner_ids()
    if owner_ids is not None:
        wanted = set(owner_ids)
        ids = [i for i in ids if i in wanted] if ids is not None else sorted(wanted)
    return repo.load_facts(session, owner_ids=ids)


def subtree_ids(actor: Actor, person: Person) -> list[int]:
    """``person`` and everyone beneath them."""
    return [int(k) for k in org.subtree(actor.managers, str(person.id))]


def person_by_id(session: so.Session, actor: Actor, person_id: object) -> Person:
    """Someone ``actor`` may see, by the id a button carried; refused otherwise."""
    if isinstance(person_id, str) and person_id.isdigit() and len(person_id) < 10:
        person_id = int(person_id)
    if isinstance(person_id, bool) or not isinstance(person_id, int) or not 0 < person_id < 2**31:
        raise UserError("stale_view")
    person = session.get(Person, person_id)
    if person is None or not actor.can_see(person):
        raise UserError("list_not_manager")
    return person


def find_deal(session: so.Session, actor: Actor, query: object) -> Deal:
    """A deal by ref, or by an unambiguous part of its name, among those ``actor`` may see.

    ``query`` is what was typed, or what a button or form carried back: anything but text there
    means the payload was mangled."""
    if not isinstance(query, str):
        raise UserError("stale_view")
    query = query.strip()
    if not query:
        raise UserError("deal_missing_ref")
    if len(query) > MAX_NAME:  # longer than any name: nothing can match, and the LIKE pattern stays small
        raise UserError("deal_not_found", query=query[:60] + "…")
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
