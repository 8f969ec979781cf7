"""What people look at in Slack: a deal's card, a subtree's deal list, a team's roll-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import Person
from bot.domain.deal import DealFacts, HistoryLine
from bot.domain.org import reports_of
from bot.domain.playbook import Playbook
from bot.domain.rollup import TeamRollup, team_rollup
from bot.domain.score import Score, lead_score
from bot.services.access import Actor, find_deal, subtree_ids, visible_facts


@dataclass(frozen=True)
class DealCard:
    deal: DealFacts
    owner: str  # the owner's name
    history: list[HistoryLine]


def deal_card(session: so.Session, actor: Actor, query: str) -> DealCard:
    """``/deal show``: a deal ``actor`` may see, with its history."""
    deal = find_deal(session, actor, query)
    return DealCard(repo.to_facts(deal), deal.owner.name, repo.history(session, deal.id))


@dataclass(frozen=True)
class DealList:
    deals: list[DealFacts]
    whose: str  # "you", "you and team", "Maria and team"
    scores: dict[str, Score] = field(default_factory=dict)  # ref -> lead score, for the open deals


def deal_list(session: so.Session, actor: Actor, owner: Person, playbook: Playbook, *, now: datetime) -> DealList:
    """The open and closed deals of ``owner`` and everyone beneath them that ``actor`` may see,
    with the open deals' lead scores."""
    facts = visible_facts(session, actor, subtree_ids(actor, owner))
    whose = ("you" if owner.id == actor.person.id else owner.name) + (" and team" if owner.tier > 0 else "")
    scores = {f.ref: lead_score(f, playbook, now=now, weights=playbook.scoring)
              for f in facts if not playbook.is_closed(f.stage)}
    return DealList(facts, whose, scores)


@dataclass(frozen=True)
class TeamPipeline:
    rollup: TeamRollup
    reports: list[tuple[str, str, bool]]  # (person id, name, is a manager) for each direct report


def team_pipeline(session: so.Session, actor: Actor, person: Person, playbook: Playbook) -> TeamPipeline:
    """``person``'s subtree roll-up, with a line for each direct report."""
    by_owner: dict[str, list[DealFacts]] = {}
    for d in visible_facts(session, actor, subtree_ids(actor, person)):
        by_owner.setdefault(d.owner, []).append(d)
    rollup = team_rollup(by_owner, reports_of(actor.managers), str(person.id), playbook)
    direct = session.scalars(sa.select(Person).where(Person.manager_id == person.id).order_by(Person.name))
    return TeamPipeline(rollup, [(str(p.id), p.name, p.tier > 0) for p in direct])
