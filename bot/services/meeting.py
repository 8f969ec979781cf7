"""The Monday team meeting: the list a first-line manager reviews, and the action plans agreed there."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy.orm as so

from bot.db import repo
from bot.db.models import ActionPlan, Deal, Person
from bot.domain.deal import DealFacts
from bot.domain.meeting import MeetingRow, meeting_order
from bot.domain.org import subtree
from bot.domain.playbook import Playbook
from bot.services.access import Actor, visible_facts
from bot.services.errors import UserError

MEETING_DEALS = 15  # one section each: the list stays far below Slack's 50 blocks

def team_meeting(session: so.Session, actor: Actor, manager: Person, playbook: Playbook, *, currency: str,
                 now: datetime) -> tuple[list[MeetingRow], int]:
    """``manager``'s team's important open deals, late-stage and largest (in ``currency``) first; and how many open."""
    ids = [int(k) for k in subtree(actor.managers, str(manager.id)) if k != str(manager.id)]
    facts = visible_facts(session, actor, ids)
    names = repo.person_names(session)
    rates = repo.load_rates(session)

    def size(d: DealFacts) -> Decimal:
        converted = rates.convert(d.amount, d.currency, currency, now.date())
        return d.amount if converted is None else converted

    ordered = meeting_order(facts, playbook, amount_of=size)
    return [MeetingRow(d, names.get(d.owner, d.owner)) for d in ordered[:MEETING_DEALS]], len(ordered)


def check_may_plan(actor: Actor, deal: Deal) -> None:
    """An action plan is agreed by a manager with the rep: a rep cannot set one on their own deal."""
    if deal.owner_id == actor.person.id and not actor.is_manager:
        raise UserError("plan_for_managers")


def save_plan(deal: Deal, *, what: str, who: str, due: date, by: Person, now: datetime) -> ActionPlan:
    """Record the plan agreed for ``deal``; it shows in the deal and is asked at the rep's next check-in."""
    what, who = what.strip(), who.strip()
    if not what or not who:
        raise UserError("plan_incomplete")
    plan = ActionPlan(what=what, who=who, due=due, agreed_by=by, agreed_at=now)
    deal.action_plans.append(plan)
    deal.updated_at = now
    return plan


def follow_up(deal: Deal, answers: dict[int, bool | None], *, now: datetime) -> int:
    """Record "did you do it?" for the deal's open plans (None: not yet); how many were answered."""
    count = 0
    for plan in deal.action_plans:
        if plan.done is None and answers.get(plan.id) is not None:
            plan.done, plan.followed_up_at = answers[plan.id], now
            count += 1
    return count
